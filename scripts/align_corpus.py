"""Align the prepared training corpus with eflomal: labels for the alignment head (see seq2seq.corpus_align).

    .venv/bin/python scripts/align_corpus.py --model seq2seq/pretrained/zh-en --data data/prepared/train \\
        [--unit words|pieces] [--symmetrize grow-diag-final-and|union|...] [--score ../shared/data/align-dev/nist02]
        [--agree-with seq2seq/pretrained/zh-en --out data/prepared/train-agree]

Writes NAME.links for every NAME.zh/NAME.en of --data, and links.json (tokenizers, unit, method), into --out
(default: --data).  ``--agree-with MODEL`` keeps only the links that MODEL's alignment head gives as well
(a second round of labels; ``seq2seq.corpus_align.head_agreement``).
The tokenizers must be those the model will be trained with (``--model`` folder, or a run's
``tokenizers/`` folder with source.model/target.model).  Re-running with the same settings and
tokenizers does nothing unless --force is given.

``--score PREFIX`` (PREFIX.zh, PREFIX.en: words separated by spaces; PREFIX.gold) also aligns a
gold set together with the corpus (eflomal learns from all of it) and prints the AER of eflomal's
own word links and of the piece links mapped back to the gold words.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from seq2seq import corpus_align as ca
from seq2seq.aer import alignment_error_rate, read_gold
from seq2seq.align import SYMMETRIZE
from seq2seq.placeholders import strip_placeholder_pieces
from seq2seq.tokenizer import SubwordTokenizer
from seq2seq.words import corpus_words, links_to_words, pieces_to_words


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="seq2seq/pretrained/zh-en", help="folder with source.model and target.model")
    p.add_argument("--data", default="data/prepared/train", help="folder of NAME.zh/NAME.en files")
    p.add_argument("--unit", choices=["words", "pieces"], default="words")
    p.add_argument("--symmetrize", choices=sorted(SYMMETRIZE), default="grow-diag-final-and")
    p.add_argument("--score", action="append", default=[], metavar="PREFIX", help="gold set to score (repeatable)")
    p.add_argument("--agree-with", metavar="MODEL", help="keep only the links this model's alignment head gives too")
    p.add_argument("--out", metavar="DIR", help="write the .links files and links.json here (default: --data)")
    p.add_argument("--force", action="store_true")
    p.add_argument("--score-only", action="store_true", help="with --score: report AER, leave the .links files alone")
    args = p.parse_args(argv)
    model, data = Path(args.model), Path(args.data)
    out = Path(args.out) if args.out else data
    if args.agree_with and args.unit != "words":
        p.error("--agree-with reads the head's links on eflomal's units: use --unit words")
    src_proto, tgt_proto = (model / "source.model").read_bytes(), (model / "target.model").read_bytes()
    src_tok, tgt_tok = SubwordTokenizer(src_proto, t2s=True), SubwordTokenizer(tgt_proto)
    fp = ca.tokenizer_fingerprint(
        strip_placeholder_pieces(src_proto), strip_placeholder_pieces(tgt_proto)
    )  # as training
    files = sorted(data.glob("*.zh"))
    if not files:
        print(f"align_corpus: no *.zh files in {data}", file=sys.stderr)
        return 2
    meta = ca.read_meta(out)
    if (
        not args.force
        and not args.score
        and meta
        and meta.get("tokenizers") == fp
        and meta.get("unit") == args.unit
        and meta.get("symmetrize") == args.symmetrize
        and meta.get("agree_with") == args.agree_with
        and all((out / f.name).with_suffix(".links").is_file() for f in files)
    ):
        print(f"align_corpus: {out} already has links for these tokenizers and settings (--force to redo)")
        return 0
    src, tgt, owners = [], [], []
    for f in files:
        s, t = ca.read_pairs(f.with_suffix(""))
        src, tgt = src + s, tgt + t
        owners.append((f, len(s)))
    golds = []
    for prefix in args.score:  # aligned with the corpus, in the same units; scored on the gold set's own words
        zh = Path(prefix + ".zh").read_text(encoding="utf-8").splitlines()
        en = Path(prefix + ".en").read_text(encoding="utf-8").splitlines()
        golds.append((prefix, len(src), [z.split() for z in zh], [e.split() for e in en], read_gold(prefix + ".gold")))
        src += ["".join(z.split()) for z in zh]
        tgt += [" ".join(e.split()) for e in en]
    t0 = time.time()
    print(f"align_corpus: aligning {len(src)} pairs with eflomal ({args.unit}, {args.symmetrize})...", flush=True)
    word_links: list = []
    agree = None
    if args.agree_with:
        from seq2seq.translator import Translator

        agree = Translator.load(args.agree_with)
    links = ca.corpus_piece_links(
        src, tgt, src_tok, tgt_tok, args.unit, args.symmetrize, quiet=False, word_links=word_links, agree_with=agree
    )
    print(f"align_corpus: done in {time.time() - t0:.0f}s", flush=True)
    if not args.score_only:
        pos = 0
        written = {}
        out.mkdir(parents=True, exist_ok=True)
        for f, n in owners:
            ca.write_links((out / f.name).with_suffix(".links"), links[pos : pos + n])  # the gold sets' rows follow
            written[f.stem] = n
            pos += n
        ca.write_meta(out, fp, args.unit, args.symmetrize, written, args.agree_with)
        print(f"align_corpus: wrote {len(owners)} .links files and {ca.META} in {out}")
    for prefix, start, zw, ew, gold in golds:
        hyp = []
        for k in range(len(zw)):
            sp = src_tok.encode_pieces([src[start + k]])[0]
            tp = tgt_tok.encode_pieces([tgt[start + k]])[0]
            hyp.append(links_to_words(links[start + k], pieces_to_words(sp, zw[k]), pieces_to_words(tp, ew[k])))
        s = alignment_error_rate(hyp, gold)
        print(
            f"{Path(prefix).name}: eflomal ({args.unit}, {args.symmetrize}) via pieces -> gold words: "
            f"AER {s.aer:.1%}  P {s.precision:.1%}  R {s.recall:.1%}"
        )
        if args.unit == "words":  # eflomal's own unit links, straight to the gold words (no pieces in between)
            direct = []
            for k in range(len(zw)):
                su = corpus_words(src_tok.normalize(src[start + k]), "zh")
                tu = corpus_words(tgt[start + k], "en")
                direct.append(
                    links_to_words(
                        word_links[start + k],
                        pieces_to_words(su, [src_tok.normalize(w) for w in zw[k]]),
                        pieces_to_words(tu, ew[k]),
                    )
                )
            d = alignment_error_rate(direct, gold)
            print(
                f"{Path(prefix).name}: eflomal ({args.unit}, {args.symmetrize}) units -> gold words: "
                f"AER {d.aer:.1%}  P {d.precision:.1%}  R {d.recall:.1%}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
