"""Collect a model's own placeholder faults on its training sources, for unlikelihood training (``data.faults``).

    .venv/bin/python scripts/placeholder_faults.py --model seq2seq/pretrained/zh-en --data data/prepared/train \\
        --names news-commentary wmt-newstest2018 ... --out data/prepared/faults/zh-en.jsonl

Translates every source sentence of --data (the model's source-language file of each NAME) that carries a
placeholder, beam search as the translator does (CTranslate2 where installed), and writes every hypothesis of its
n-best that breaks the placeholder limits (a placeholder written more often than the source has it, or left out)
as a JSON line ``{"src": [source pieces], "hyp": [output pieces]}``.  Training with ``data.faults`` pushes those
faults down (seq2seq.training.limits).  Prints how many sentences broke the limits, and how many had no hypothesis
that keeps them (the sentences the translator must search again on PyTorch).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm.auto import tqdm

from seq2seq import Translator
from seq2seq.corpus_align import read_pairs

CHUNK = 1000  # sources encoded at a time


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="zh-en", help="model folder or shipped name (the model to be trained on)")
    p.add_argument("--data", default="data/prepared/train", help="folder of NAME.zh/NAME.en files")
    p.add_argument("--names", nargs="*", help="the corpora of --data to read (default: all)")
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--max-chars", type=int, default=300, help="longer sources are left out (default 300)")
    p.add_argument("--out", required=True, help="the JSON lines file to write")
    args = p.parse_args(argv)
    tr = Translator.load(args.model)
    codec, lang = tr.codec, tr.direction.source
    if not codec.uses_placeholders:
        print(f"placeholder_faults: {args.model} does not use placeholders", file=sys.stderr)
        return 2
    names = args.names or sorted(f.stem for f in Path(args.data).glob(f"*.{lang}"))
    texts = []
    for name in names:
        zh, en = read_pairs(Path(args.data) / name)
        texts += [x for x in (zh if lang == "zh" else en) if 0 < len(x) <= args.max_chars]
    ids = []  # the sources that carry a placeholder, in pieces (encoded in chunks, for the progress bar)
    with tqdm(total=len(texts), unit="sent", desc="encoding", file=sys.stderr) as bar:
        for start in range(0, len(texts), CHUNK):
            chunk = codec.encode_sources(texts[start : start + CHUNK]).ids
            ids += [x for x in chunk if any(codec.placeholder_counts(x))]
            bar.update(len(chunk))
    print(f"{len(texts):,} sources, {len(ids):,} with placeholders; searching (beam {args.beam})", file=sys.stderr)
    settings = tr.search_settings(beam_size=args.beam, nbest=args.beam)
    found = tr.engine.search(ids, settings, None, codec.banned(ids), attention=False, progress=True)
    broke = none_kept = rows = 0
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        for s, hyps in zip(ids, found):
            if not hyps:  # a CTranslate2 batch's length cap: not a placeholder fault
                continue
            bad = [h for h in hyps if not codec.keeps_limits(s, h.tokens)]
            broke += bool(bad) and not codec.keeps_limits(s, hyps[0].tokens)
            none_kept += len(bad) == len(hyps)
            for h in bad:
                line = {"src": codec.src_tok.ids_to_pieces(s), "hyp": codec.tgt_tok.ids_to_pieces(h.tokens)}
                f.write(json.dumps(line, ensure_ascii=False) + "\n")
                rows += 1
    n = max(1, len(ids))
    print(
        f"{broke:,} of {len(ids):,} best hypotheses break the limits ({broke / n:.1%}); {none_kept:,} sentences "
        f"({none_kept / n:.1%}) have no hypothesis that keeps them; {rows:,} faulty hypotheses -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
