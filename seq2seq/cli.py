"""``seq2seq-translate``: translate Chinese lines from stdin (or --input) to English on stdout."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from .model_dir import ModelFolderError


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seq2seq-translate", description=__doc__,
                                epilog="Example: seq2seq-translate --model DIR --beam 5 < in.zh > out.en")
    p.add_argument("--model", help="model folder (default: the shipped model)")
    p.add_argument("--input", "-i", help="input file (default: stdin)")
    p.add_argument("--output", "-o", help="output file (default: stdout)")
    p.add_argument("--beam", type=int, default=None, help="beam size; 1 = greedy (default: the model's, usually 5)")
    p.add_argument("--length-penalty", type=float, default=None, help="length penalty alpha: scores are divided by length**alpha (default: the model's)")
    p.add_argument("--nbest", type=int, default=1, help="print the n best as 'i ||| text ||| score' lines")
    p.add_argument("--max-len-a", type=float, default=None)
    p.add_argument("--max-len-b", type=int, default=None)
    p.add_argument("--max-tokens", type=int, default=6000, help="source tokens per batch")
    p.add_argument("--chunk-lines", type=int, default=2000, help="lines read and translated at a time")
    p.add_argument("--no-cache", action="store_true", help="recompute the whole prefix each step (slow; for tests)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast for the matrix products (faster on CPUs with AVX-512 bf16)")
    p.add_argument("--alignments", metavar="FILE", help="also write hard alignments (Pharaoh i-j) to FILE")
    p.add_argument("--alignment-level", choices=["piece", "word"], default="word",
                   help="piece: sentencepiece indices; word: Chinese characters / English words (default)")
    return p


def translate_lines(tr, lines: list[str], args) -> list:
    """Translate lines; a line over the model's length limit is split into sentences and re-joined."""
    from .text import chunk

    pieces, owner = [], []
    for n, line in enumerate(lines):
        line = line.strip()
        if len(tr.encode_sources([line])[0]) > tr.max_source_tokens:
            parts = chunk(line, max_chars=tr.max_source_tokens // 2)
            print(f"seq2seq-translate: line {n + 1} is too long for the model; translated in {len(parts)} parts",
                  file=sys.stderr)
        else:
            parts = [line]
        pieces.extend(parts)
        owner.extend([n] * len(parts))
    outs = tr.translate(pieces, beam_size=args.beam, length_penalty=args.length_penalty, nbest=args.nbest,
                        max_len_a=args.max_len_a, max_len_b=args.max_len_b, use_cache=not args.no_cache,
                        return_attention=bool(args.alignments), max_tokens=args.max_tokens,
                        dtype=torch.bfloat16 if args.bf16 else None)
    grouped = [[] for _ in lines]
    for n, t in zip(owner, outs):
        grouped[n].append(t)
    return grouped


def translate_main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from .translator import Translator

    try:
        tr = Translator.load(args.model, device=args.device)
    except ModelFolderError as e:
        print(f"seq2seq-translate: {e}", file=sys.stderr)
        return 2
    fin = open(args.input, encoding="utf-8") if args.input else sys.stdin
    fout = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    falign = open(args.alignments, "w", encoding="utf-8") if args.alignments else None
    from tqdm.auto import tqdm

    bar = tqdm(unit="line", file=sys.stderr, disable=None)
    try:
        while True:
            lines = [ln.rstrip("\n") for _, ln in zip(range(args.chunk_lines), fin)]
            if not lines:
                break
            for n, group in enumerate(translate_lines(tr, lines, args)):
                if args.nbest > 1:
                    for k in range(args.nbest):
                        text = " ".join(t.nbest[k].text if k < len(t.nbest) else "" for t in group)
                        score = sum(t.nbest[k].normalized_score for t in group if k < len(t.nbest))
                        fout.write(f"{bar.n + n} ||| {text} ||| {score:.4f}\n")
                else:
                    fout.write(" ".join(t.text for t in group) + "\n")
                if falign is not None:
                    from .align import alignment_line

                    falign.write(alignment_line(group, level=args.alignment_level) + "\n")
            bar.update(len(lines))
            fout.flush()
    finally:
        bar.close()
        if falign:
            falign.close()
    return 0


if __name__ == "__main__":
    sys.exit(translate_main())
