"""Long synthetic training pairs with their alignment labels: consecutive corpus pairs joined (issue 40).

    .venv/bin/python scripts/make_long_pairs.py --data data/prepared/train --links data/prepared/train \\
        --model seq2seq/pretrained/zh-en --out data/prepared/train-long

Training drops pairs over 300 characters (``clean.max_chars``), so the alignment head never learnt to link in long
sentences (docs/alignment.md: on align-dev made long its recall falls from the first third of a pair to the last).
For every NAME.zh/NAME.en of ``--data`` with a NAME.links in ``--links`` (piece links, ``scripts/align_corpus.py``),
this joins runs of 2-4 consecutive pairs into pairs of ``--min-chars``-``--max-chars`` characters (the longer side;
``seq2seq.gold_eval.join_groups``; Chinese joined without a space, English with one), moves each part's piece links
onto the pieces of the joined text (``seq2seq.corpus_align.join_piece_links``), and writes NAME-long.zh/.en/.links
and links.json into ``--out``, at most ``--max-per-corpus`` pairs a corpus.  Pairs with no links are not joined.
List the NAME-long files as training sources (``links:`` each), with ``clean.max_chars`` at least ``--max-chars``:
configs/zh-en-long.yaml.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from seq2seq import corpus_align as ca
from seq2seq.gold_eval import join_groups
from seq2seq.tokenizer import SubwordTokenizer


def long_pairs(src, tgt, links, src_tok, tgt_tok, min_chars: int, max_chars: int, limit: int):
    """The joined pairs (Chinese, English, piece links) of one corpus."""
    lengths = [max(len(s), len(t)) if ls else 10**6 for s, t, ls in zip(src, tgt, links)]  # no links: never joined
    groups = join_groups(lengths, min_chars, max_chars)[:limit]
    out = []
    for run in groups:
        zh, en = "".join(src[k] for k in run), " ".join(tgt[k] for k in run)
        part_src = src_tok.encode_pieces([src[k] for k in run])
        part_tgt = tgt_tok.encode_pieces([tgt[k] for k in run])
        sp, tp = src_tok.encode_pieces([zh])[0], tgt_tok.encode_pieces([en])[0]
        out.append((zh, en, ca.join_piece_links([links[k] for k in run], part_src, part_tgt, sp, tp)))
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default="data/prepared/train", help="folder of NAME.zh/NAME.en files")
    p.add_argument("--links", default="data/prepared/train", help="folder of their NAME.links and links.json")
    p.add_argument("--model", default="seq2seq/pretrained/zh-en", help="folder whose tokenizers made the links")
    p.add_argument("--out", required=True, help="where NAME-long.zh/.en/.links and links.json go")
    p.add_argument("--min-chars", type=int, default=300)
    p.add_argument("--max-chars", type=int, default=700)
    p.add_argument("--max-per-corpus", type=int, default=2000)
    args = p.parse_args(argv)
    model, out = Path(args.model), Path(args.out)
    meta = ca.read_meta(args.links)
    if meta is None:
        print(f"make_long_pairs: no links.json in {args.links} (scripts/align_corpus.py makes it)", file=sys.stderr)
        return 2
    src_tok = SubwordTokenizer((model / "source.model").read_bytes(), t2s=True)
    tgt_tok = SubwordTokenizer((model / "target.model").read_bytes())
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    for f in sorted(Path(args.data).glob("*.zh")):
        links_file = Path(args.links) / f.with_suffix(".links").name
        if not links_file.is_file():
            continue
        src, tgt = ca.read_pairs(f.with_suffix(""))
        links = ca.read_links(links_file)
        if len(links) != len(src):
            print(f"make_long_pairs: {links_file} has {len(links)} lines for {len(src)} pairs", file=sys.stderr)
            return 2
        made = long_pairs(src, tgt, links, src_tok, tgt_tok, args.min_chars, args.max_chars, args.max_per_corpus)
        if not made:
            continue
        name = f.stem + "-long"
        (out / f"{name}.zh").write_text("".join(z + "\n" for z, _, _ in made), encoding="utf-8")
        (out / f"{name}.en").write_text("".join(e + "\n" for _, e, _ in made), encoding="utf-8")
        ca.write_links(out / f"{name}.links", [ls for _, _, ls in made])
        files[name] = len(made)
        print(f"{name}: {len(made)} long pairs", flush=True)
    meta = {k: v for k, v in meta.items() if k != "files"} | {"files": files, "joined_from": args.links}
    (out / ca.META).write_text(json.dumps(meta, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
