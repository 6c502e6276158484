"""Word alignment: piece -> word maps, AER, symmetrization, the alignment loss, forced alignment, seq2seq-align."""

import contextlib
import json
import random

import numpy as np
import pytest
import torch
from helpers import small_config

from seq2seq.align import (
    DEFAULT_RAW,
    SYMMETRIZE,
    AlignMethod,
    attention_matrix,
    grow_diag_final_and,
    intersection,
    union,
)
from seq2seq.corpus_align import parse_pharaoh
from seq2seq.model import EncoderDecoder
from seq2seq.model_dir import FolderConfig
from seq2seq.tokenizer import EOS_ID, PAD_ID, SubwordTokenizer, train_tokenizers
from seq2seq.training.alignment import alignment_loss, link_targets, resolve_layer
from seq2seq.training.data import collate
from seq2seq.translator import Translator
from seq2seq.words import links_to_words, pieces_to_words

# ---------------------------------------------------------------------------------------------- pieces -> words


def test_pieces_to_words_chinese_with_byte_fallback_and_pieces_spanning_words():
    words = ["麦", "棠源", "说", "𠀀", "好"]  # 𠀀 (U+20000) is spelt by four byte-fallback pieces
    pieces = ["▁", "麦棠", "源", "说", "<0xF0>", "<0xA0>", "<0x80>", "<0x80>", "好", "</s>"]
    assert pieces_to_words(pieces, words) == [[], [0, 1], [1], [2], [3], [3], [3], [3], [4], []]


def test_pieces_to_words_english_tokenized_and_lower_cased():
    words = ["Xinhua", "News", ",", "it", "'s", "(", "OK", ")"]
    pieces = ["▁xin", "hua", "▁news", "▁", ",", "▁it", "▁'", "s", "▁(", "▁ok", "▁", ")", "</s>"]
    assert pieces_to_words(pieces, words) == [[0], [0], [1], [], [2], [3], [4], [4], [5], [6], [], [7], []]


def test_pieces_to_words_after_nfkc_and_a_mismatch():
    # Full-width letters become ASCII in the pieces (NFKC); a character the pieces lost is skipped.
    assert pieces_to_words(["▁AB", "C", "发布"], ["ＡＢＣ", "发布"]) == [[0], [0], [1]]
    assert pieces_to_words(["▁a", "c"], ["a", "b", "c"]) == [[0], [2]]


def test_links_to_words():
    assert links_to_words([(1, 0), (2, 2)], [[], [0, 1], [2]], [[0], [0], [1]]) == [(0, 0), (1, 0), (2, 1)]


# ---------------------------------------------------------------------------------------------- symmetrization


def test_symmetrization():
    fwd = [(0, 0), (1, 1), (2, 1), (3, 3)]
    rev = [(0, 0), (1, 1), (2, 2), (3, 2)]
    assert intersection(fwd, rev) == [(0, 0), (1, 1)]
    # Growing from the intersection: (2,1) and (2,2) neighbour (1,1) and align unaligned words; then (3,2)
    # and (3,3) neighbour them and align the unaligned source word 3 and target word 3.
    assert grow_diag_final_and(fwd, rev) == [(0, 0), (1, 1), (2, 1), (2, 2), (3, 2), (3, 3)]
    assert grow_diag_final_and([(0, 5)], []) == [(0, 5)]  # final-and: both words unaligned
    assert parse_pharaoh("0-1 2p3") == [(0, 1), (2, 3)]
    assert union(fwd, rev) == [(0, 0), (1, 1), (2, 1), (2, 2), (3, 2), (3, 3)]
    assert set(SYMMETRIZE) == {"intersection", "grow-diag", "grow-diag-final-and", "union"}


# ---------------------------------------------------------------------------------------------- methods


def test_attention_matrix_shift_and_method_from_config():
    att = np.arange(2 * 1 * 3 * 2, dtype=np.float32).reshape(2, 1, 3, 2)
    assert np.array_equal(attention_matrix(att, 0, 0, shift=True), np.array([[2, 3], [4, 5], [0, 0]]))
    m = AlignMethod.from_config({"method": "head", "layer": 2, "head": 1, "shift": True})
    assert (m.layer, m.head, m.shift) == (2, 1, True) and "alignment head" in m.name
    assert AlignMethod.from_config({}) == DEFAULT_RAW
    assert resolve_layer(None, 4) == 2 and resolve_layer(-1, 4) == 3 and resolve_layer(None, 1) == 0
    with pytest.raises(ValueError):
        resolve_layer(4, 4)


def test_default_method_is_the_folders_alignment_head(toy_translator):
    tr = Translator.from_model(
        toy_translator.torch.model,
        toy_translator.codec.src_tok,
        toy_translator.codec.tgt_tok,
        FolderConfig(
            model=toy_translator.torch.model.cfg, alignment={"method": "head", "layer": 1, "head": 3, "shift": True}
        ),
        toy_translator.protos,
    )
    assert tr.align_method == AlignMethod(1, 3, True, label=tr.align_method.label)
    a = tr.align(["我喜欢吃苹果。"], ["I like to eat apples."])[0]
    assert a.method == tr.align_method.name
    assert a.links == a.links_with(AlignMethod(1, 3, True))
    assert toy_translator.align_method == DEFAULT_RAW


# ---------------------------------------------------------------------------------------------- alignment loss


def test_alignment_loss_is_smallest_at_the_link_distribution():
    gold = link_targets([[(0, 0), (2, 0), (1, 1)]], tgt_len=3, src_len=3)
    # piece j's links sit on row j + 1 (where piece j is the decoder's input)
    assert torch.allclose(gold[0], torch.tensor([[0, 0, 0], [0.5, 0, 0.5], [0, 1.0, 0]]))
    at_gold = alignment_loss(gold.clamp_min(0) + torch.tensor([[1 / 3] * 3, [0] * 3, [0] * 3]), gold)
    g = torch.Generator().manual_seed(0)
    for _ in range(20):
        other = torch.softmax(torch.randn(1, 3, 3, generator=g), -1)
        assert alignment_loss(other, gold) > at_gold
    assert alignment_loss(torch.full((1, 3, 3), 1 / 3), torch.zeros(1, 3, 3)) == 0  # no links, no loss


def test_unlinked_target_pieces_learn_the_source_eos_and_then_link_nothing():
    # pair 0: 3 source pieces + </s> at 3, target pieces 0..2 of which piece 1 has no link; pair 1 has no links at all
    gold = link_targets([[(0, 0), (2, 2)], []], tgt_len=5, src_len=5, unlinked_to=[(3, 3), (4, 4)])
    assert torch.equal(gold[0, 2], torch.tensor([0, 0, 0, 1.0, 0]))  # piece 1 (row 2) -> </s>
    assert gold[0, 1, 0] == 1 and gold[0, 3, 2] == 1 and gold[0, 4].sum() == 0  # row 4: beyond the 3 pieces
    assert gold[1].sum() == 0  # no corpus links for the pair: nothing learnt, not "all null"
    assert torch.equal(link_targets([[(0, 0), (2, 2)]], 5, 5)[0, 2], torch.zeros(5))  # off: as before
    *_, batch_gold = collate([0], [[5, 6, 7, EOS_ID]], [[8, 9, 10]], "cpu", [[(0, 0), (2, 2)]], null_to_eos=True)
    assert torch.equal(batch_gold[0, :4], gold[0, :4, :4])  # training's batches: </s> is the source's last piece
    # Reading: a piece whose attention peaks on </s> is linked to nothing, in either direction.
    src, tgt = ["▁我", "喜欢", "▁猫", "</s>"], ["▁I", "▁like", "▁the", "▁cats", "</s>"]
    att = np.array(
        [
            [0.7, 0.1, 0.1, 0.1],
            [0.1, 0.8, 0.05, 0.05],
            [0.05, 0.05, 0.3, 0.6],
            [0.1, 0.1, 0.7, 0.1],
            [0.25, 0.25, 0.25, 0.25],
        ],
        dtype=np.float32,
    )[None, None]
    from seq2seq.align import piece_alignment

    plain = AlignMethod(0, 0, False, symmetrize="grow-diag")
    null = AlignMethod(0, 0, False, symmetrize="grow-diag", null_to_eos=True)
    assert (2, 2) in piece_alignment(src, tgt, att, method=plain)
    assert piece_alignment(src, tgt, att, method=null) == [(0, 0), (1, 1), (2, 3)]
    assert AlignMethod.from_config({"method": "head", "layer": 0, "head": 0, "null_to_eos": True}).null_to_eos


# ---------------------------------------------------------------------------------------------- forced alignment

DIGITS = {
    "一": "one",
    "二": "two",
    "三": "three",
    "四": "four",
    "五": "five",
    "六": "six",
    "七": "seven",
    "八": "eight",
}


def diagonal_task():
    """300 pairs of digit strings, whose digit i is word i of the target, with their diagonal piece links."""
    rng = random.Random(0)
    keys = list(DIGITS)
    pairs = []
    for _ in range(300):
        ks = [rng.choice(keys) for _ in range(rng.randint(2, 6))]
        pairs.append(("".join(ks), " ".join(DIGITS[k] for k in ks)))
    src_proto, tgt_proto = train_tokenizers([z for z, _ in pairs], [e for _, e in pairs], 300, 40)
    src_tok, tgt_tok = SubwordTokenizer(src_proto, t2s=True), SubwordTokenizer(tgt_proto)
    links = []
    for z, e in pairs:  # word k of one side is word k of the other: diagonal piece links
        sp, tp = src_tok.encode_pieces([z])[0], tgt_tok.encode_pieces([e])[0]
        s_map, t_map = pieces_to_words(sp, list(z)), pieces_to_words(tp, e.split())
        links.append([(i, j) for i, sw in enumerate(s_map) for j, tw in enumerate(t_map) if set(sw) & set(tw)])
    torch.manual_seed(0)
    cfg = small_config(src_tok, tgt_tok, d_model=32, d_ff=64, n_heads=2, max_len=32)
    src_ids = [ids + [EOS_ID] for ids in src_tok.encode([z for z, _ in pairs])]
    tgt_ids = tgt_tok.encode([e for _, e in pairs])
    return cfg, src_tok, tgt_tok, (src_proto, tgt_proto), src_ids, tgt_ids, links


@pytest.fixture(scope="module")
def diagonal_translator():
    """A tiny model taught, with the alignment loss, that digit i of the source is word i of the target."""
    cfg, src_tok, tgt_tok, protos, src_ids, tgt_ids, links = diagonal_task()
    model = EncoderDecoder(cfg)
    src, tin, tout, gold = collate(range(len(src_ids)), src_ids, tgt_ids, "cpu", links)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    align_losses = []
    model.train()
    for _ in range(150):
        logits, out = model(src, tin, need_weights=True)
        weights = out.cross_attention
        loss = torch.nn.functional.cross_entropy(logits.view(-1, logits.size(-1)), tout.view(-1), ignore_index=PAD_ID)
        a_loss = alignment_loss(weights[0][:, 0], gold) / gold.sum()
        align_losses.append(a_loss.item())
        opt.zero_grad()
        (loss + a_loss).backward()
        opt.step()
    model.eval()
    folder = FolderConfig(model=cfg, alignment={"method": "head", "layer": 0, "head": 0, "shift": True})
    return Translator.from_model(model, src_tok, tgt_tok, folder, protos), align_losses


@pytest.fixture(scope="module")
def full_context_translator():
    """The same task, the head (layer 2, head 1) taught in its full-context pass by training's own step."""
    from seq2seq.data import Batch
    from seq2seq.training.step import forward_backward

    cfg, src_tok, tgt_tok, protos, src_ids, tgt_ids, links = diagonal_task()
    model = EncoderDecoder(cfg)
    batch = Batch(np.arange(len(src_ids)), 0, 0, 0)
    n_tgt = sum(len(t) + 1 for t in tgt_ids)
    head = AlignMethod(layer=1, head=0, full_context=True)
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    align_losses = []
    model.train()
    for _ in range(150):
        opt.zero_grad()
        losses = forward_backward(
            model,
            [batch],
            ddp=None,
            src_ids=src_ids,
            tgt_ids=tgt_ids,
            links=links,
            device="cpu",
            autocast=contextlib.nullcontext,
            label_smoothing=0.0,
            global_tgt=n_tgt,
            world=1,
            align=head,
            align_weight=1.0,
        )
        align_losses.append(losses.alignment)
        opt.step()
    model.eval()
    folder = FolderConfig(
        model=cfg, alignment={"method": "head", "layer": 1, "head": 0, "shift": True, "full_context": True}
    )
    return Translator.from_model(model, src_tok, tgt_tok, folder, protos), align_losses


def test_training_with_the_alignment_loss_lowers_it(diagonal_translator):
    _, losses = diagonal_translator
    assert np.mean(losses[-10:]) < 0.3 * np.mean(losses[:10])


def test_forced_alignment_recovers_the_diagonal(diagonal_translator):
    tr, _ = diagonal_translator
    out = tr.align(["三 一 四 五 二"], ["three one four five two"], pretokenized=True)
    a = out[0]
    assert a.source_piece_words[-1] == [] and all(len(w) == 1 for w in a.source_piece_words[1:-1])  # one per digit
    assert a.links == [(k, k) for k in range(5)]
    assert a.source_words == ["三", "一", "四", "五", "二"] and a.target_words == "three one four five two".split()
    assert a.cross_attention.shape == (2, 2, len(a.target_tokens), len(a.source_tokens))
    assert a.target_tokens[-1] == "</s>" and a.token_logprobs.shape == (len(a.target_tokens),)
    assert a.score == pytest.approx(float(a.token_logprobs.sum()), abs=1e-5)
    # Forced decoding of the model's own greedy output gives greedy's score, piece by piece.
    t = tr.translate(["三一四"], beam_size=1)[0]
    f = tr.align(["三一四"], [t.text])[0]
    assert f.target_tokens == t.target_tokens and f.score == pytest.approx(t.score, abs=1e-4)
    assert np.allclose(f.cross_attention, t.cross_attention, atol=1e-5)


def test_align_inputs(toy_translator):
    assert toy_translator.align([], []) == []
    empty = toy_translator.align(["", "我喜欢吃苹果。"], ["hello", "I like to eat apples."])
    assert empty[0].links == [] and empty[1].links
    with pytest.raises(ValueError, match="2 sources but 1 targets"):
        toy_translator.align(["a", "b"], ["x"])
    with pytest.raises(TypeError, match=r"targets\[0\]"):
        toy_translator.align(["a"], [None])
    long = "我" * 300
    with pytest.raises(ValueError, match="pair 0"):
        toy_translator.align([long], ["I"])
    assert toy_translator.align([long], ["I"], skip_long=True)[0].links == []


def test_seq2seq_align_cli(tmp_path, toy_translator, capsys):
    from seq2seq.cli import align_main

    folder = tmp_path / "m"
    toy_translator.save(folder)
    (tmp_path / "a.zh").write_text("我 喜欢 吃 苹果 。\r\n谢谢 你 。\n", encoding="utf-8")
    (tmp_path / "a.en").write_text("I like to eat apples .\nThank you .\n", encoding="utf-8")
    out = tmp_path / "links.txt"
    assert (
        align_main(
            ["--model", str(folder), "--pretokenized", str(tmp_path / "a.zh"), str(tmp_path / "a.en"), "-o", str(out)]
        )
        == 0
    )
    lines = out.read_text().splitlines()
    assert len(lines) == 2
    for line, (n_src, n_tgt) in zip(lines, [(5, 6), (3, 3)]):
        links = parse_pharaoh(line)
        assert links and all(0 <= i < n_src and 0 <= j < n_tgt for i, j in links)
    (tmp_path / "b.en").write_text("one line\n", encoding="utf-8")
    assert align_main(["--model", str(folder), str(tmp_path / "a.zh"), str(tmp_path / "b.en")]) == 2
    assert "2 lines" in capsys.readouterr().err
    (tmp_path / "gbk.zh").write_bytes("我喜欢\n你\n".encode("gbk"))
    assert align_main(["--model", str(folder), str(tmp_path / "gbk.zh"), str(tmp_path / "a.en")]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    assert align_main(["--model", str(folder), "--method", "9", str(tmp_path / "a.zh"), str(tmp_path / "a.en")]) == 2


def test_evaluate_align_test_reports_every_method(tmp_path, toy_translator):
    from seq2seq.evaluate import main

    folder = tmp_path / "m"
    toy_translator.save(folder)
    (tmp_path / "g.zh").write_text("我 喜欢 吃 苹果 。\n谢谢 你 。\n", encoding="utf-8")
    (tmp_path / "g.en").write_text("I like to eat apples .\nThank you .\n", encoding="utf-8")
    (tmp_path / "g.gold").write_text("0-0 1-1 2-3 3-4 4-5 2p2\n0-0 0-1 1p1 2-2\n", encoding="utf-8")
    assert main(["--model", str(folder), "--align-test", str(tmp_path / "g"), "--output-dir", str(tmp_path / "e")]) == 0
    rows = json.loads((tmp_path / "e" / "report.json").read_text())["alignment"]
    assert len(rows) == 3 * toy_translator.torch.model.cfg.n_dec_layers  # unshifted, shifted, shifted both ways
    assert sum(r["default"] for r in rows) == 1
    assert all(0 <= r["aer"] <= 1 and 0 <= r["precision"] <= 1 for r in rows)


def test_translate_cli_alignments_use_the_folders_head(tmp_path, toy_translator):
    from seq2seq.align import alignment_line
    from seq2seq.cli import translate_main

    tr = Translator.from_model(
        toy_translator.torch.model,
        toy_translator.codec.src_tok,
        toy_translator.codec.tgt_tok,
        FolderConfig(
            model=toy_translator.torch.model.cfg, alignment={"method": "head", "layer": 0, "head": 2, "shift": True}
        ),
        toy_translator.protos,
    )
    folder = tr.save(tmp_path / "m")
    (tmp_path / "in.zh").write_text("我喜欢吃苹果。\n", encoding="utf-8")
    assert (
        translate_main(
            [
                "--model",
                str(folder),
                "-i",
                str(tmp_path / "in.zh"),
                "-o",
                str(tmp_path / "out.en"),
                "--alignments",
                str(tmp_path / "out.align"),
            ]
        )
        == 0
    )
    t = Translator.load(folder).translate(["我喜欢吃苹果。"])[0]
    expected = alignment_line([t], method=AlignMethod(0, 2, True))
    assert (tmp_path / "out.align").read_text().strip() == expected


def test_min_weight_drops_unsure_links_and_parses_on_the_command_line(toy_translator):
    from seq2seq.align import piece_alignment
    from seq2seq.cli import parse_method

    src, tgt = ["▁我", "好", "</s>"], ["▁I", "▁am", "▁fine", "</s>"]
    att = np.zeros((1, 1, 4, 3), dtype=np.float32)
    att[0, 0] = [[0.9, 0.1, 0.0], [0.4, 0.35, 0.25], [0.1, 0.8, 0.1], [0, 0, 1]]
    assert piece_alignment(src, tgt, att, method=AlignMethod(0, 0)) == [(0, 0), (0, 1), (1, 2)]
    assert piece_alignment(src, tgt, att, method=AlignMethod(0, 0, min_weight=0.5)) == [(0, 0), (1, 2)]
    m = AlignMethod.from_config({"method": "head", "layer": 1, "head": 0, "shift": True, "min_weight": 0.4})
    assert m.min_weight == 0.4 and "0.4" in m.name
    assert parse_method("2.1+shift@0.3", toy_translator) == AlignMethod(1, 0, True, min_weight=0.3)
    assert parse_method("1", toy_translator) == AlignMethod(0, None, False)
    with pytest.raises(ValueError):
        parse_method("head@x", toy_translator)


def test_both_ways_intersection_and_grow_diag(toy_translator):
    from seq2seq.align import piece_alignment
    from seq2seq.cli import parse_method

    src, tgt = ["▁我喜欢", "苹果", "。", "</s>"], ["▁I", "▁like", "▁apple", "s", "▁.", "</s>"]
    att = np.zeros((1, 1, 6, 4), dtype=np.float32)
    # "I" and "like" both attend to 我喜欢, which "I" attends to most; "s" attends most to 。, which "." attends
    # to more.  </s> rows and columns never count.
    att[0, 0] = [
        [0.9, 0.1, 0, 0],
        [0.8, 0.2, 0, 0],
        [0.1, 0.9, 0, 0],
        [0.1, 0.4, 0.5, 0],
        [0, 0, 0.9, 0.1],
        [0.99, 0, 0, 0],
    ]
    one_way = [(0, 0), (0, 1), (1, 2), (2, 3), (2, 4)]
    assert piece_alignment(src, tgt, att, method=AlignMethod(0, 0)) == one_way
    both = AlignMethod(0, 0, symmetrize="intersection")
    assert piece_alignment(src, tgt, att, method=both) == [(0, 0), (1, 2), (2, 4)]
    # grown: "like" (next to I-我喜欢, target not yet aligned) comes back; "s"-。 too (next to .-。 diagonally)
    grown = AlignMethod(0, 0, symmetrize="grow-diag")
    assert piece_alignment(src, tgt, att, method=grown) == one_way
    m = AlignMethod.from_config({"method": "head", "layer": 1, "head": 0, "shift": True, "symmetrize": "grow-diag"})
    assert m.symmetrize == "grow-diag" and "grow-diag" in m.name
    assert parse_method("2.1+shift+grow-diag", toy_translator) == AlignMethod(1, 0, True, symmetrize="grow-diag")
    assert parse_method("1+intersection@0.2", toy_translator) == AlignMethod(
        0, None, False, symmetrize="intersection", min_weight=0.2
    )
    with pytest.raises(ValueError, match="symmetrize must be"):
        piece_alignment(src, tgt, att, method=AlignMethod(0, 0, symmetrize="sideways"))
    both = {r: set(piece_alignment(src, tgt, att, method=AlignMethod(0, 0, symmetrize=r))) for r in SYMMETRIZE}
    assert both["intersection"] <= both["grow-diag"] <= both["grow-diag-final-and"] <= both["union"]


def test_grow_diag_adds_only_neighbours_that_align_something_new():
    from seq2seq.align import grow_diag

    forward = {(0, 0), (1, 1), (3, 5)}
    backward = {(0, 0), (1, 1), (1, 2), (4, 4)}
    # (1, 2) neighbours (1, 1) and aligns target 2: added; (3, 5) and (4, 4) neighbour nothing accepted
    assert set(grow_diag(forward, backward)) == {(0, 0), (1, 1), (1, 2)}


def test_a_full_context_head_learns_in_trainings_step_and_links_translations(full_context_translator, tmp_path):
    tr, losses = full_context_translator
    assert np.mean(losses[-10:]) < 0.3 * np.mean(losses[:10])
    method = tr.align_method
    assert method.full_context and "full context" in method.name
    a = tr.align(["三 一 四 五 二"], ["three one four five two"], pretokenized=True)[0]
    assert a.links == [(k, k) for k in range(5)]
    assert a.full_context_attention.shape == a.cross_attention.shape
    # The head's causal reading is a different matrix: the links really come from the full-context pass.
    assert not np.allclose(a.full_context_attention[1, 0], a.cross_attention[1, 0], atol=1e-3)
    # translate() reads its links as its search saw the head (causal: what either engine returns at search speed);
    # return_attention="all" adds the full-context pass, which equals forced alignment's.
    from seq2seq.align import alignment_line, piece_alignment

    t = tr.translate(["三一四五二"], beam_size=1)[0]
    assert t.full_context_attention is None and t.align_method == tr.link_method and not tr.link_method.full_context
    assert np.allclose(t.alignment_attention, t.cross_attention[tr.head.layer, tr.head.head])
    full = tr.translate(["三一四五二"], beam_size=1, return_attention="all")[0]
    f = tr.align(["三一四五二"], [t.text])[0]
    assert np.allclose(f.full_context_attention, full.full_context_attention, atol=1e-5)
    assert alignment_line([full], level="piece", method=method) == " ".join(
        f"{i}-{j}"
        for i, j in piece_alignment(full.source_tokens, full.target_tokens, full.full_context_attention, method=method)
    )
    assert alignment_line([t], level="piece", method=tr.link_method) == " ".join(
        f"{i}-{j}"
        for i, j in piece_alignment(t.source_tokens, t.target_tokens, t.alignment_attention, method=tr.link_method)
    )
    assert tr.translate(["三一四"], return_attention=False)[0].full_context_attention is None
    from seq2seq.app.chips import join_units, word_alignment_html
    from seq2seq.app.maps import word_links
    from seq2seq.app.predict import predict

    html = word_alignment_html(predict(tr, "三一四五二", beam_size=1))
    units = word_links(t, tr.link_method, tr.languages)  # the demo's words: the coverage's, read causally
    first = units.target_words[0]
    linked = join_units(units.source_words, [i for i, j in units.links if j == 0], "zh", "三一四五二")
    assert "full context" not in html and f"{first} &rarr; {linked}<" in html and linked
    # A result without the full-context pass cannot be read with a full-context method: a clear error.
    with pytest.raises(ValueError, match="full-context attention"):
        alignment_line(
            [
                tr.translate(["三一四"], return_attention=True)[0].__class__(
                    text="x",
                    source_tokens=t.source_tokens,
                    target_tokens=t.target_tokens,
                    cross_attention=t.cross_attention,
                    score=0.0,
                    normalized_score=0.0,
                )
            ],
            method=method,
        )
