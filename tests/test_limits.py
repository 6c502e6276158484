"""Unlikelihood of breaking the placeholder limits (seq2seq.training.limits)."""

import json
from contextlib import nullcontext

import pytest
import torch
from helpers import placeholder_translator

from seq2seq.data import DataError
from seq2seq.placeholders import placeholder
from seq2seq.tokenizer import EOS_ID, PAD_ID
from seq2seq.training.limits import Faults, Limits, first_fault, limit_masks, limits_loss
from seq2seq.training.step import faults_backward

SRC_PH, TGT_PH = (10, 11), (20, 21)  # two placeholders' ids on each side


def test_masks_mark_used_up_placeholders_and_owed_ones():
    src = torch.tensor([[5, 10, 6, 10, EOS_ID], [5, 11, 6, EOS_ID, PAD_ID]])  # row 0: ⟦0⟧ twice; row 1: ⟦1⟧ once
    tin = torch.tensor([[2, 20, 7, 20, 8], [2, 7, 21, 8, 9]])
    used_up, owed = limit_masks(src, tin, SRC_PH, TGT_PH)
    assert used_up.shape == (2, 5, 2) and owed.shape == (2, 5)
    assert used_up[0, :, 0].tolist() == [False, False, False, True, True]  # after its second use
    assert not used_up[0, :, 1].any()  # ⟦1⟧ is not in that source: absent ones are banned at search, not here
    assert used_up[1, :, 1].tolist() == [False, False, True, True, True]
    assert owed.tolist() == [[True, False, False, False, False], [True, True, False, False, False]]


def test_first_fault_is_the_first_piece_that_breaks_the_limits():
    src = torch.tensor([[5, 10, EOS_ID], [5, 10, EOS_ID], [5, 6, EOS_ID]])
    tout = torch.tensor([[20, 7, 20, 20, EOS_ID], [7, 8, EOS_ID, PAD_ID, PAD_ID], [7, 8, 9, EOS_ID, PAD_ID]])
    tin = torch.cat([torch.full((3, 1), 2), tout[:, :-1]], 1)
    used_up, owed = limit_masks(src, tin, SRC_PH, TGT_PH)
    # row 0: ⟦0⟧ again at position 2; row 1: </s> at 2 with ⟦0⟧ owed; row 2: no placeholder, no fault (length 4)
    assert first_fault(tout, used_up, owed, TGT_PH).tolist() == [3, 3, 4]


def test_loss_is_minus_log_one_minus_p_of_each_breaking_piece():
    torch.manual_seed(0)
    src = torch.tensor([[5, 10, EOS_ID]])
    tout = torch.tensor([[7, 20, 8, EOS_ID]])
    tin = torch.tensor([[2, 7, 20, 8]])
    logits = torch.randn(1, 4, 30)
    used_up, owed = limit_masks(src, tin, SRC_PH, TGT_PH)
    p = logits.softmax(-1)
    # positions 0-1: </s> while ⟦0⟧ is owed (at 1 the target is ⟦0⟧ itself); positions 2-3: ⟦0⟧ used up
    want = -(torch.log1p(-p[0, 0, EOS_ID]) + torch.log1p(-p[0, 1, EOS_ID]))
    want -= torch.log1p(-p[0, 2, 20]) + torch.log1p(-p[0, 3, 20])
    assert torch.allclose(limits_loss(logits, tout, used_up, owed, TGT_PH), want)
    # the model's own fault: its faulty piece counts too, and nothing after the first fault
    bad_out = torch.tensor([[20, 20, 7, EOS_ID]])
    bad_in = torch.tensor([[2, 20, 20, 7]])
    used_up, owed = limit_masks(src, bad_in, SRC_PH, TGT_PH)
    upto = first_fault(bad_out, used_up, owed, TGT_PH)
    got = limits_loss(logits, bad_out, used_up, owed, TGT_PH, upto, gold=False)
    assert upto.tolist() == [2]
    assert torch.allclose(got, -(torch.log1p(-p[0, 0, EOS_ID]) + torch.log1p(-p[0, 1, 20])))


def test_a_step_on_a_fault_makes_it_less_likely(tmp_path):
    tr = placeholder_translator()
    codec, model = tr.codec, tr.torch.model.train()
    src = codec.encode_sources(["他说 Anna 来了。"]).ids[0]
    ph = codec.tgt_tok.pieces_to_ids([placeholder(0)])[0]
    hyp = [ph, ph, EOS_ID]  # ⟦0⟧ written twice
    path = tmp_path / "faults.jsonl"
    row = {"src": codec.src_tok.ids_to_pieces(src), "hyp": codec.tgt_tok.ids_to_pieces(hyp)}
    path.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    faults = Faults(path, codec.src_tok, codec.tgt_tok, per_step=2, seed=0)
    assert len(faults) == 1 and faults.take() == [0, 0] and faults.tgt_ids == [[ph, ph]]
    limits = Limits(tuple(codec.src_placeholders), tuple(codec.tgt_placeholders), 0.0, 1.0)

    def p_again() -> float:  # p(⟦0⟧ | <s> ⟦0⟧), the fault
        with torch.no_grad():
            model.eval()
            logits, _ = model(torch.tensor([src]), torch.tensor([[2, ph]]))
            model.train()
        return logits[0, 1].softmax(-1)[ph].item()

    before = p_again()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    for _ in range(3):
        opt.zero_grad()
        loss = faults_backward(
            model, [0], faults, device="cpu", autocast=nullcontext, limits=limits, global_tgt=1, world=1
        )
        opt.step()
    assert loss > 0 and p_again() < 0.5 * before


def test_faults_file_errors(tmp_path):
    tr = placeholder_translator()
    src_tok, tgt_tok = tr.codec.src_tok, tr.codec.tgt_tok
    with pytest.raises(DataError, match="placeholder_faults.py"):
        Faults(tmp_path / "none.jsonl", src_tok, tgt_tok, 4, 0)
    (tmp_path / "bad.jsonl").write_text("not json\n", encoding="utf-8")
    with pytest.raises(DataError, match="bad.jsonl:1: not a faults line"):
        Faults(tmp_path / "bad.jsonl", src_tok, tgt_tok, 4, 0)
    (tmp_path / "other.jsonl").write_text(json.dumps({"src": ["▁zzqx"], "hyp": ["qqzz"]}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="mine it again"):
        Faults(tmp_path / "other.jsonl", src_tok, tgt_tok, 4, 0)


def test_a_resumed_run_goes_on_in_the_faults_cycle(tmp_path):
    tr = placeholder_translator()
    src_tok, tgt_tok = tr.codec.src_tok, tr.codec.tgt_tok
    ph = placeholder(0)
    lines = [json.dumps({"src": ["▁我", ph] * (n + 1), "hyp": [ph] * (n + 2)}, ensure_ascii=False) for n in range(7)]
    (tmp_path / "f.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    whole = Faults(tmp_path / "f.jsonl", src_tok, tgt_tok, 3, 5)
    taken = [whole.take() for _ in range(6)]  # 18 of 7: two reshuffles
    resumed = Faults(tmp_path / "f.jsonl", src_tok, tgt_tok, 3, 5)
    resumed.skip(4)
    assert [resumed.take() for _ in range(2)] == taken[4:]
    assert sorted(taken[0] + taken[1] + taken[2][:1]) == list(range(7))  # every fault once a cycle


def test_a_run_with_the_limits_losses(tmp_path):
    """A warm-started tiny run with both losses on: the faults are read with the run's tokenizers, and the
    progress lines carry the limits loss."""
    from helpers import ROOT

    from seq2seq import Translator
    from seq2seq.training.config import load_config
    from seq2seq.training.loop import train

    tiny = str(ROOT / "configs" / "tiny.yaml")
    train(load_config(tiny, ["train.max_steps=10", "tokenizer.placeholders=4"]), tmp_path / "a")
    codec = Translator.load(tmp_path / "a" / "last", backend="torch").codec
    ph = placeholder(0)
    src = codec.src_tok.ids_to_pieces(codec.encode_sources([f"我喜欢 {ph} 。"]).ids[0])
    faults = tmp_path / "faults.jsonl"
    faults.write_text(json.dumps({"src": src, "hyp": [ph, ph, "</s>"]}, ensure_ascii=False) + "\n", encoding="utf-8")
    overrides = ["train.max_steps=4", "train.log_every=2", "train.limits_weight=1", f"data.faults={faults}"]
    overrides.append(f"train.init_from={tmp_path / 'a' / 'last'}")
    result = train(load_config(tiny, overrides), tmp_path / "b")
    log = (tmp_path / "b" / "train.log").read_text()
    assert result["step"] == 4 and "1 of the model's own faults" in log and " limits 0." in log
