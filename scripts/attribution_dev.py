"""Dev measurements of the source share (docs/attribution.md): how well each attribution method's source share
separates a true translation from a wrong one, on tatoeba-dev, read in the model's direction.

    .venv/bin/python scripts/attribution_dev.py --model zh-en --pairs 200 --output benchmarks/attribution_dev_zh-en.json

Three sets of forced (teacher-forced) pairs, from the same ``--pairs`` sources sampled with ``--seed``:
* true: each source with its reference;
* shuffled: each source with another sentence's reference;
* spliced: each reference's first half (in words) followed by another reference's second half.

Figures: the ROC AUC of the mean source share per sentence, true against shuffled (higher share = true); the
token-level AUC on the spliced set (pieces after the splice against pieces before it, lower share = spliced);
the same for the mean log-probability per piece (a reference point, not attribution); and the warning threshold
on word-level shares, chosen on the first half of the spliced set (Youden's J) and scored on the second half.
Nothing of the data is written, only the figures.
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seq2seq.attribution import piece_word_matrix, share_of_masses  # noqa: E402
from seq2seq.attribution_results import warnable  # noqa: E402
from seq2seq.attributor import Attributor, Passes  # noqa: E402 (fp32: the figures hold on any CPU)
from seq2seq.translator import Translator  # noqa: E402

DEV = Path("/work/shared/data/dev") if Path("/work/shared/data/dev").is_dir() else ROOT.parent / "shared/data/dev"
SCORES = ("sum", "l2")


def roc_auc(positive, negative) -> float:
    """P(score of a positive > score of a negative), ties counting one half (the Mann-Whitney statistic)."""
    pos, neg = np.asarray(positive, float), np.asarray(negative, float)
    if not len(pos) or not len(neg):
        return float("nan")
    allv = np.concatenate([pos, neg])
    order = allv.argsort(kind="mergesort")
    ranks = np.empty(len(allv))
    ranks[order] = np.arange(1, len(allv) + 1)
    for v in np.unique(allv):  # average ranks of ties
        tied = allv == v
        ranks[tied] = ranks[tied].mean()
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def masses(found, score: str) -> tuple[np.ndarray, np.ndarray]:
    """Per output row, the positive attribution on the source and on the prefix, as the library's
    ``source_shares`` counts them under ``score``."""
    source, prefix = found.read(score)
    return np.clip(source, 0, None).sum(-1), np.clip(prefix, 0, None).sum(-1)


def spliced_targets(refs: list[str], partner: list[int], chinese: bool) -> tuple[list[str], list[str]]:
    """Each reference's first half followed by its partner's second half; also the first halves alone."""
    out, heads = [], []
    for i, j in enumerate(partner):
        a = list(refs[i]) if chinese else refs[i].split()
        b = list(refs[j]) if chinese else refs[j].split()
        head, tail = a[: max(1, len(a) // 2)], b[len(b) // 2 :]
        joiner = "" if chinese else " "
        out.append(joiner.join(head + tail))
        heads.append(joiner.join(head))
    return out, heads


def score_set(attributor, sources, targets, method: str, n_steps: int):
    """(pairs, PieceScores per pair, seconds per pair) for forced pairs."""
    pairs = attributor.pairs(sources, targets)
    t0 = time.perf_counter()
    found = [attributor.piece_scores(p, method, Passes(n_steps, None, "fp32")) if p else None for p in pairs]
    return pairs, found, (time.perf_counter() - t0) / max(1, sum(p is not None for p in pairs))


def splice_points(attributor, heads: list[str], pairs) -> list[int]:
    """The piece index where each spliced target's second part begins (-1 where the pieces of the first half are
    not a prefix of the whole's)."""
    out = []
    for head, p in zip(heads, pairs):
        ids = attributor.codec.tgt_tok.encode([head])[0] if p else []
        ok = p is not None and p.tgt_ids[: len(ids)] == ids and len(ids) < len(p.tgt_ids) - 1
        out.append(len(ids) if ok else -1)
    return out


def word_labels(attributor, pair, point: int) -> tuple[np.ndarray, np.ndarray]:
    """[Tw, T] word-of-piece matrix and, per word, 1 where its first piece lies after the splice point (words the
    warning never flags left out: punctuation and coverage's function words)."""
    lang = attributor.languages[1]
    tw, tg = attributor._words(pair)[2:]
    keep = [w for w in range(len(tw)) if warnable(tw[w], lang)]  # the others are never flagged
    m = piece_word_matrix(tg, len(tw)).T[keep]
    first = [min([p for p, ws in enumerate(tg) if w in ws], default=0) for w in keep]
    return m, np.array([f >= point for f in first], dtype=int)


def analyse(attributor, sets: dict, points: list[int], score: str) -> dict:
    """The figures of one method under one share score."""
    (_, true), (_, shuf), (spl_pairs, spl) = sets["true"][:2], sets["shuffled"][:2], sets["spliced"][:2]
    mean = lambda f: float(share_of_masses(*masses(f, score))[:-1].mean()) if len(f.outputs) > 1 else 0.5
    pos, neg = [mean(f) for f in true if f], [mean(f) for f in shuf if f]
    tok_pos, tok_neg, words = [], [], []
    for pair, f, point in zip(spl_pairs, spl, points):
        if f is None or point < 0:
            continue
        sh = share_of_masses(*masses(f, score))[:-1]
        tok_pos += list(-sh[point:])
        tok_neg += list(-sh[:point])
        m, labels = word_labels(attributor, pair, point)
        s, p = masses(f, score)
        words.append((share_of_masses(m @ s, m @ p), labels))
    return {
        "sentence_auc": roc_auc(pos, neg),
        "token_auc_spliced": roc_auc(tok_pos, tok_neg),
        "mean_share_true": float(np.mean(pos)),
        "mean_share_shuffled": float(np.mean(neg)),
        **threshold(words),
    }


def threshold(words: list) -> dict:
    """The word-level warning threshold: Youden's J on the first half of the spliced sentences, scored on the
    second half (true positive: a word after the splice flagged; false positive: a word before it flagged)."""
    half = len(words) // 2

    def rates(part, th):
        sh = np.concatenate([w for w, _ in part])
        lab = np.concatenate([lb for _, lb in part]).astype(bool)
        return float((sh[lab] < th).mean()), float((sh[~lab] < th).mean())

    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    best = max(grid, key=lambda th: (lambda r: r[0] - r[1])(rates(words[:half], th)))
    tpr, fpr = rates(words[half:], best)
    return {"threshold": float(best), "held_out_tpr": tpr, "held_out_fpr": fpr}


def firing_rate(tr, sources: list[str], method: str, score: str, threshold: float) -> dict:
    """How often the warning fires on the model's own translations of ``sources`` at ``threshold``."""
    found = [a for a in tr.attribute(sources, method=method, score=score) if a.target_tokens]
    flagged = [a.mostly_from_prefix(threshold) for a in found]
    words = sum(len(a.target_words) for a in found)
    return {
        "method": method,
        "score": score,
        "threshold": threshold,
        "sentences": len(found),
        "sentences_with_a_warning": sum(bool(f) for f in flagged) / max(1, len(found)),
        "words_flagged": sum(len(f) for f in flagged) / max(1, words),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="zh-en")
    ap.add_argument("--pairs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", default="input_x_gradient,integrated_gradients,ablation")
    ap.add_argument("--n-steps", type=int, default=32)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--output", default="")
    ap.add_argument(
        "--firing",
        default="source_ablation/sum,input_x_gradient/l2",
        help="METHOD/SCORE pairs whose warning is also counted on the model's own translations of the sources",
    )
    ap.add_argument("--cache", default="", help="a folder outside the repository to keep the raw scores in")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    tr = Translator.load(args.model, backend="torch")
    src_lang, tgt_lang = tr.languages
    src_all = (DEV / f"tatoeba-dev.{src_lang}").read_text(encoding="utf-8").splitlines()
    tgt_all = (DEV / f"tatoeba-dev.{tgt_lang}").read_text(encoding="utf-8").splitlines()
    rng = random.Random(args.seed)
    idx = rng.sample([i for i in range(len(src_all)) if src_all[i].strip() and tgt_all[i].strip()], args.pairs)
    sources, refs = [src_all[i] for i in idx], [tgt_all[i] for i in idx]
    shift = rng.randrange(1, len(idx))
    partner = [(k + shift) % len(idx) for k in range(len(idx))]  # another sentence for every sentence
    spliced, heads = spliced_targets(refs, partner, tgt_lang == "zh")
    attributor = Attributor(tr)
    report = {"model": args.model, "pairs": args.pairs, "seed": args.seed, "threads": args.threads, "methods": {}}
    for method in args.methods.split(","):
        cache = Path(args.cache) / f"{args.model}-{method}-{args.pairs}-{args.seed}.pkl" if args.cache else None
        if cache is not None and cache.exists():
            sets = pickle.loads(cache.read_bytes())
        else:
            sets = {
                name: score_set(attributor, sources, targets, method, args.n_steps)
                for name, targets in (("true", refs), ("shuffled", [refs[j] for j in partner]), ("spliced", spliced))
            }
            if cache is not None:
                cache.write_bytes(pickle.dumps(sets))
        points = splice_points(attributor, heads, sets["spliced"][0])
        row = {
            "seconds_per_pair": float(np.mean([s[2] for s in sets.values()])),
            "spliced_usable": sum(p >= 0 for p in points),
        }
        row.update({v: analyse(attributor, sets, points, v) for v in SCORES})
        report["methods"][method] = row
        print(method, json.dumps(row, indent=1), flush=True)
    for method, score in (m.split("/") for m in args.firing.split(",") if m):
        if method in report["methods"]:
            th = report["methods"][method][score]["threshold"]
            report.setdefault("own_translations", []).append(firing_rate(tr, sources, method, score, th))
            print(report["own_translations"][-1], flush=True)
    lp = lambda f: float(f.outputs[:-1].mean()) if len(f.outputs) > 1 else 0.0
    report["logprob_sentence_auc"] = roc_auc(
        [lp(f) for f in sets["true"][1] if f], [lp(f) for f in sets["shuffled"][1] if f]
    )
    print("mean log-prob per piece, sentence AUC:", report["logprob_sentence_auc"])
    if args.output:
        Path(args.output).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
