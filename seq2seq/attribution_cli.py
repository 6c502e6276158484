"""``seq2seq-attribute``: word links read from attribution, in Pharaoh format (as ``seq2seq-align`` writes the
alignment head's), and optionally every pair's attribution as JSON lines.

    seq2seq-attribute --pretokenized gold.zh gold.en > links.txt
    seq2seq-attribute --model en-zh --method integrated_gradients --json maps.jsonl test.en test.zh > links.txt

Each target word is linked to the source word with the largest attribution (summed over the words' pieces).  The
pairs are read exactly as ``seq2seq-align`` reads them (the same words, English restored where the folder has a
truecasing model), so the two outputs can be compared line by line.  Needs captum.
"""

from __future__ import annotations

import argparse
import json
import sys

from .attribution import METHODS, PRECISIONS, SCORES


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seq2seq-attribute",
        description="Word links read from attribution (each target word to the source word it draws on most): "
        "one line of 0-based Pharaoh links i-j per pair (i: source word, j: target word).",
        epilog="Example: seq2seq-attribute --pretokenized gold.zh gold.en > links.txt",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", help="source-language file (Chinese for the default zh-en model), one sentence per line")
    p.add_argument("target", help="target-language file, line-aligned with the source file")
    p.add_argument("--model", help="model folder, or zh-en / en-zh for a shipped one (default: zh-en)")
    p.add_argument("--method", choices=METHODS, default="input_x_gradient", help="default: input_x_gradient")
    p.add_argument("--score", choices=SCORES, default=None, help="how vectors are read (default: the method's)")
    p.add_argument("--n-steps", type=int, default=32, help="integrated gradients: points on the path (default 32)")
    p.add_argument("--output", "-o", help="output file (default: stdout)")
    p.add_argument("--json", metavar="FILE", help="also write each pair's attribution as one JSON line")
    p.add_argument(
        "--pretokenized", action="store_true", help="both files are words separated by spaces; links index these words"
    )
    p.add_argument(
        "--no-restore-english",
        dest="restore_english",
        action="store_false",
        help="read the English as given (default: restored where lower-cased or tokenized, as seq2seq-align)",
    )
    p.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="the arithmetic of the attribution passes: auto (default: bf16 where the hardware computes it "
        "natively, e.g. a CPU with AVX-512 bf16; fp32 elsewhere), fp32 or bf16",
    )
    p.add_argument("--device", default="cpu", help="where the model runs: cpu (default), cuda or cuda:N")
    return p


def attribution_links(translator, sources, targets, pretokenized=False, restore_english=True, **options) -> list:
    """(Pharaoh links, :class:`~seq2seq.attribution.Attribution` or None) per pair, in the words ``seq2seq-align``
    links (an empty line where a side is empty or over the model's length limit)."""
    from .attributor import Attributor

    attributor = Attributor(translator)
    pairs = attributor.aligned_pairs(sources, targets, pretokenized, restore_english)
    found = attributor.attribute(pairs, **options)
    return [(a.links() if p is not None else [], a if p is not None else None) for p, a in zip(pairs, found)]


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from .align import pharaoh
    from .cli import open_output
    from .model_dir import ModelFolderError
    from .text import InputEncodingError, read_lines
    from .translator import Translator

    try:
        src, tgt = read_lines(args.source), read_lines(args.target)
        if len(src) != len(tgt):
            raise ValueError(f"{args.source} has {len(src)} lines but {args.target} has {len(tgt)}")
        tr = Translator.load(args.model, device=args.device, backend="torch")
    except (ModelFolderError, FileNotFoundError, InputEncodingError, ValueError) as e:
        print(f"seq2seq-attribute: {e}", file=sys.stderr)
        return 2
    out = open_output(args.output, "seq2seq-attribute") if args.output else sys.stdout
    maps = open_output(args.json, "seq2seq-attribute") if args.json else None
    if out is None or (args.json and maps is None):
        return 2
    options = dict(method=args.method, score=args.score, n_steps=args.n_steps, precision=args.precision)
    try:
        for start in range(0, len(src), 100):
            chunk = attribution_links(
                tr,
                src[start : start + 100],
                tgt[start : start + 100],
                args.pretokenized,
                args.restore_english,
                **options,
            )
            for links, a in chunk:
                out.write(pharaoh(links) + "\n")
                if maps is not None:
                    maps.write(json.dumps(a.as_json() if a is not None else None, ensure_ascii=False) + "\n")
            out.flush()
    finally:
        if args.output:
            out.close()
        if maps is not None:
            maps.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
