import pytest
import torch
from helpers import random_batch, random_model

from seq2seq.decoding import BeamSearch, GreedySearch, Stepper, _top_candidates, length_penalty
from seq2seq.tokenizer import BOS_ID, EOS_ID, PAD_ID

SRC_PAD = {1: 5, 3: 2}


def search(model, k, src, **kw):
    strat = GreedySearch(model, **kw) if k == 1 else BeamSearch(model, beam_size=k, **kw)
    return strat.search(src)


def test_cached_steps_equal_full_recomputation():
    model = random_model()
    src = random_batch(0, 4, 9, 40, SRC_PAD)
    mask = model.src_mask(src)
    mem = model.encode(src, mask).memory
    prefix = torch.cat([torch.full((4, 1), BOS_ID), random_batch(1, 4, 11, 48)], dim=1)
    cached = Stepper(model, mem, mask, use_cache=True, need_weights=True)
    full = Stepper(model, mem, mask, use_cache=False, need_weights=True)
    with torch.no_grad():
        for t in range(1, prefix.size(1) + 1):
            lp_c, w_c = cached.step(prefix[:, :t])
            lp_f, w_f = full.step(prefix[:, :t])
            assert torch.allclose(lp_c, lp_f, atol=1e-5, rtol=0)
            assert torch.allclose(w_c, w_f, atol=1e-6)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_two_stage_top_candidates_equal_one_topk_over_all_beams(k):
    g = torch.Generator().manual_seed(k)
    logp = torch.randn(4, k, 50, generator=g).log_softmax(-1)
    scores = torch.randn(4, k, generator=g)
    scores[0, 1:] = float("-inf")  # a sentence at its first step: only beam 0 is live
    n = 2 * k
    flat_s, flat_i = (logp + scores[:, :, None]).view(4, -1).topk(n, dim=1)
    s, beam, tok = _top_candidates(logp.clone(), scores, n)
    assert torch.equal(s, flat_s)
    assert torch.equal(beam * 50 + tok, flat_i)


@pytest.mark.parametrize("k", [1, 4])
def test_search_with_and_without_cache_gives_the_same_results(k):
    model = random_model(seed=1)
    src = random_batch(2, 5, 8, 40, SRC_PAD)
    a = search(model, k, src, use_cache=True, length_penalty=0.6)
    b = search(model, k, src, use_cache=False, length_penalty=0.6)
    for ha, hb in zip(a, b):
        assert [h.tokens for h in ha] == [h.tokens for h in hb]
        assert [h.score for h in ha] == pytest.approx([h.score for h in hb], abs=1e-4)
        assert torch.allclose(ha[0].attention, hb[0].attention, atol=1e-5)


@pytest.mark.parametrize("seed", range(3))
def test_beam_size_one_equals_greedy(seed):
    model = random_model(seed=seed)
    src = random_batch(seed, 6, 7, 40, SRC_PAD)
    greedy = search(model, 1, src)
    beam1 = BeamSearch(model, beam_size=1).search(src)
    for g, b in zip(greedy, beam1):
        assert g[0].tokens == b[0].tokens
        assert g[0].score == pytest.approx(b[0].score, abs=1e-5)
        assert torch.allclose(g[0].attention, b[0].attention)


@pytest.mark.parametrize("k", [1, 5])
def test_batched_equals_one_sentence_at_a_time(k):
    model = random_model(seed=3)
    src = random_batch(3, 5, 9, 40, SRC_PAD)
    batched = search(model, k, src, length_penalty=1.0)
    for i in range(src.size(0)):
        real = src[i : i + 1, : int((src[i] != 0).sum())]
        single = search(model, k, real, length_penalty=1.0)[0]
        assert single[0].tokens == batched[i][0].tokens
        assert single[0].score == pytest.approx(batched[i][0].score, abs=1e-4)
        assert torch.allclose(single[0].attention, batched[i][0].attention, atol=1e-5)


def test_beam_score_is_at_least_greedy_score_on_random_models():
    for seed in range(6):
        model = random_model(seed=seed)
        src = random_batch(10 + seed, 8, 6, 40)
        greedy = search(model, 1, src, length_penalty=0.0)
        beam = search(model, 5, src, length_penalty=0.0)
        for g, b in zip(greedy, beam):
            assert b[0].score >= g[0].score - 1e-5


def test_larger_length_penalty_gives_longer_outputs():
    model = random_model(seed=4)
    with torch.no_grad():  # make </s> likely enough that lengths vary (</s> cannot come first: min length 1)
        model.generator.proj.bias[EOS_ID] += 8.0
    src = random_batch(4, 30, 6, 40)
    lengths = {}
    for alpha in (0.0, 1.0, 3.0):
        lengths[alpha] = sum(len(h[0].tokens) for h in search(model, 5, src, length_penalty=alpha))
    assert lengths[0.0] <= lengths[1.0] <= lengths[3.0]
    assert lengths[0.0] < lengths[3.0]


@pytest.mark.parametrize("k", [1, 3])
def test_attention_belongs_to_each_hypothesis(k):
    """Recompute every returned hypothesis teacher-forced: its weights must equal what the search returned."""
    model = random_model(seed=5)
    src = random_batch(5, 4, 8, 40, SRC_PAD)
    results = search(model, k, src, nbest=k) if k > 1 else search(model, k, src)
    mask = model.src_mask(src)
    mem = model.encode(src, mask).memory
    for i, hyps in enumerate(results):
        n_src = int((src[i] != 0).sum())
        for h in hyps:
            prefix = torch.tensor([[BOS_ID] + h.tokens[:-1]])
            with torch.no_grad():
                out = model.decode(mem[i : i + 1], mask[i : i + 1], prefix, need_weights=True)
                logp = model.generator(out.hidden)[0]
            expected = torch.stack([w[0, :, :, :n_src] for w in out.cross_attention])
            assert h.attention.shape == (2, 4, len(h.tokens), n_src)
            assert torch.allclose(h.attention, expected, atol=1e-5)
            assert torch.allclose(h.attention.sum(-1), torch.ones(2, 4, len(h.tokens)), atol=1e-5)
            assert h.score == pytest.approx(
                float(searched(logp).gather(1, torch.tensor(h.tokens)[:, None]).sum()), abs=1e-4
            )


def searched(logp: torch.Tensor) -> torch.Tensor:
    """Teacher-forced log-probabilities [T, V] as a search scores them: <pad> and <s> never, </s> not first, the
    rest renormalised (constraints.ban)."""
    logp = logp.clone()
    logp[:, [PAD_ID, BOS_ID]] = float("-inf")
    logp[0, EOS_ID] = float("-inf")
    return logp - torch.logsumexp(logp, -1, keepdim=True)


def test_the_banned_pieces_are_never_produced_and_the_rest_is_renormalised():
    """A search never produces a banned piece, and its scores are log-probabilities over what is left: they equal
    teacher-forced log-probabilities renormalised without <pad>, <s>, </s> first and the banned pieces."""
    model = random_model(seed=5)
    src = random_batch(5, 2, 8, 40, {1: 5})
    plain = search(model, 3, src)
    banned_piece = plain[0][0].tokens[0]
    banned = torch.zeros(2, 48, dtype=torch.bool)
    banned[0, banned_piece] = True  # the first sentence may not use its best first piece; the second may
    strategy = BeamSearch(model, beam_size=3, nbest=3)
    found = strategy.search(src, banned=banned)
    assert all(banned_piece not in h.tokens for h in found[0])
    assert [h.tokens for h in found[1]] == [h.tokens for h in search(model, 3, src[1:], nbest=3)[0]]
    mask = model.src_mask(src[:1])
    mem = model.encode(src[:1], mask).memory
    h = found[0][0]
    with torch.no_grad():
        logp = model.generator(model.decode(mem, mask, torch.tensor([[BOS_ID] + h.tokens[:-1]])).hidden)[0]
    logp[:, banned_piece] = float("-inf")
    assert h.score == pytest.approx(float(searched(logp).gather(1, torch.tensor(h.tokens)[:, None]).sum()), abs=1e-4)


def test_nbest_is_sorted_distinct_and_ends_with_eos():
    model = random_model(seed=6)
    src = random_batch(6, 3, 6, 40)
    for hyps in search(model, 5, src, nbest=5, length_penalty=0.6):
        assert len(hyps) == 5
        scores = [h.normalized_score for h in hyps]
        assert scores == sorted(scores, reverse=True)
        assert len({tuple(h.tokens) for h in hyps}) == 5
        for h in hyps:
            assert h.tokens[-1] == EOS_ID and EOS_ID not in h.tokens[:-1]
            assert h.normalized_score == pytest.approx(h.score / length_penalty(len(h.tokens), 0.6))


@pytest.mark.parametrize("k", [1, 4])
def test_output_length_is_capped_at_a_times_src_plus_b(k):
    model = random_model(seed=7)
    with torch.no_grad():  # make EOS very unlikely so that the cap is what stops decoding
        model.generator.proj.bias[EOS_ID] = -50.0
    src = random_batch(7, 3, 8, 40, {0: 3})
    results = search(model, k, src, max_len_a=0.5, max_len_b=2)
    assert [len(r[0].tokens) for r in results] == [int(0.5 * 3 + 2), 6, 6]
    assert all(r[0].tokens[-1] == EOS_ID for r in results)


def test_bad_beam_arguments():
    with pytest.raises(ValueError):
        BeamSearch(random_model(), beam_size=2, nbest=3)


@pytest.mark.parametrize("k", [1, 4])
def test_no_empty_translation_even_when_eos_is_most_probable_at_the_first_step(k):
    """fairseq's min_len=1: </s> is forbidden at the first step, so a non-empty source gets at least one token."""
    model = random_model(seed=3)
    with torch.no_grad():
        model.generator.proj.bias[EOS_ID] = 30.0  # </s> is by far the most probable piece at every step
    src = random_batch(3, 3, 6, 40, {1: 2})
    mask = model.src_mask(src)
    with torch.no_grad():
        first, _ = Stepper(model, model.encode(src, mask).memory, mask, True, False).step(torch.full((3, 1), BOS_ID))
    assert (first.argmax(-1) == EOS_ID).all()
    for hyps in search(model, k, src):
        best = hyps[0]
        assert len(best.tokens) == 2 and best.tokens[0] != EOS_ID and best.tokens[-1] == EOS_ID


def test_no_repeat_ngram_bans_what_would_repeat_an_ngram():
    """constraints.repeated_ngrams against a plain reading of the rule, and searches that never repeat an n-gram."""
    from seq2seq.constraints import repeated_ngrams

    ys = torch.tensor([[BOS_ID, 5, 6, 7, 5, 6], [BOS_ID, 9, 9, 9, 9, 9]])
    for n in (1, 2, 3):
        logp = repeated_ngrams(torch.zeros(2, 12), ys, n)
        for row in range(2):
            seq = ys[row].tolist()
            want = {seq[i + n - 1] for i in range(len(seq) - n + 1) if seq[i : i + n - 1] == seq[len(seq) - n + 1 :]}
            assert {int(j) for j in (logp[row] == float("-inf")).nonzero().flatten()} == want, (n, row)
    model = random_model(seed=7)
    src = random_batch(7, 3, 8, 40)
    for k in (1, 4):
        for hyps in search(model, k, src, no_repeat_ngram=2, max_len_b=30):
            for h in hyps:
                pairs = list(zip(h.tokens, h.tokens[1:]))
                assert len(pairs) == len(set(pairs)), h.tokens
