"""``seq2seq-translate``: translate lines from stdin (or --input) on stdout; ``seq2seq-align``: link their words."""

from __future__ import annotations

import argparse
import sys
from typing import Optional

import torch

from .align import SYMMETRIZE
from .bidirectional import DEFAULT_RULE
from .decoding import LENGTH_PENALTY_RANGE, MIN_BEAM
from .direction import LANGUAGE_NAMES, Direction
from .input_language import NAMED_LINES, language_note, other_language_lines, warn_other_language
from .model_dir import ModelFolderError


def _bounded(convert, noun: str, lo: float, hi: Optional[float] = None):
    """An argparse type: ``convert(text)`` (int or float) from ``lo`` to ``hi`` (None: no upper bound)."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {noun}") from None
        if not (lo <= value and (hi is None or value <= hi)):  # NaN fails too
            bound = f"at least {lo:g}" if hi is None else f"from {lo:g} to {hi:g}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {text}")
        return value

    return parse


positive_int = _bounded(int, "an integer", 1)
non_negative_int = _bounded(int, "an integer", 0)
non_negative_float = _bounded(float, "a number", 0)
# The search's own ranges (seq2seq.decoding), as the library and the web API check them.
beam_size_arg = _bounded(int, "an integer", MIN_BEAM)
length_penalty_arg = _bounded(float, "a number", *LENGTH_PENALTY_RANGE)


def open_output(path: str, who: str):
    """A file to write, or None after one line on stderr saying why it cannot be (no traceback)."""
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as e:
        print(f"{who}: cannot write {path}: {e.strerror or e}", file=sys.stderr)
        return None


DEVICE_HELP = "where the model runs: cpu (default), cuda or cuda:N"


def add_backend_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--backend",
        choices=["auto", "ctranslate2", "torch"],
        default="auto",
        help="the engine that searches: auto (default: CTranslate2 where it is installed, else PyTorch), "
        "ctranslate2, or torch (our PyTorch model for everything)",
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seq2seq-translate",
        description="Translate lines from stdin (or --input) on stdout: one output line per input line (--nbest N: N).",
        epilog="Example: seq2seq-translate --model DIR --beam 5 < in.zh > out.en",
    )
    p.add_argument("--model", help="model folder (default: the shipped model)")
    p.add_argument("--input", "-i", help="input file (default: stdin)")
    p.add_argument("--output", "-o", help="output file (default: stdout)")
    p.add_argument(
        "--beam", type=beam_size_arg, default=None, help="beam size; 1 = greedy (default: the model's, usually 5)"
    )
    p.add_argument(
        "--length-penalty",
        type=length_penalty_arg,
        default=None,
        help="length penalty alpha from {:g} to {:g}: scores are divided by length**alpha; higher gives longer "
        "output (default: the model's)".format(*LENGTH_PENALTY_RANGE),
    )
    p.add_argument(
        "--nbest",
        type=positive_int,
        default=1,
        help="print the n best (at most the beam size) as 'i ||| text ||| score' lines",
    )
    p.add_argument(
        "--max-len-a",
        type=non_negative_float,
        default=None,
        metavar="A",
        help="output length cap A*|source|+B pieces: A (default: the model's, usually 2)",
    )
    p.add_argument(
        "--max-len-b",
        type=non_negative_int,
        default=None,
        metavar="B",
        help="output length cap A*|source|+B pieces: B (default: the model's, usually 20)",
    )
    p.add_argument("--max-tokens", type=positive_int, default=6000, help="source tokens per batch (default 6000)")
    p.add_argument(
        "--no-repeat-ngram",
        type=non_negative_int,
        default=None,
        metavar="N",
        help="no n-gram of pieces twice in an output, as fairseq's and CTranslate2's no_repeat_ngram_size "
        "(0: off; default: the model's)",
    )
    p.add_argument("--chunk-lines", type=positive_int, default=2000, help="lines read and translated at a time")
    p.add_argument("--no-cache", action="store_true", help="recompute the whole prefix each step (slow; for tests)")
    p.add_argument("--device", default="cpu", help=DEVICE_HELP)
    add_backend_option(p)
    p.add_argument(
        "--bf16",
        action="store_true",
        help="bf16 autocast for the matrix products on the PyTorch engine (faster on CPUs with AVX-512 bf16)",
    )
    p.add_argument("--alignments", metavar="FILE", help="also write hard alignments (Pharaoh i-j) to FILE")
    p.add_argument(
        "--alignment-level",
        choices=["piece", "word"],
        default=None,
        help="with --alignments: piece: sentencepiece indices; word: Chinese characters / English words (default)",
    )
    return p


def translate_lines(tr, lines: list[str], args) -> list:
    """Translate lines; a line over the model's length limit is split into sentences and re-joined."""
    from .text import group_by_line

    parts, owner = tr.codec.split_long(lines)
    outs = tr.translate(
        parts,
        beam_size=args.beam,
        length_penalty=args.length_penalty,
        nbest=args.nbest,
        max_len_a=args.max_len_a,
        max_len_b=args.max_len_b,
        use_cache=not args.no_cache,
        return_attention=bool(args.alignments),
        max_tokens=args.max_tokens,
        dtype=torch.bfloat16 if args.bf16 else None,
        no_repeat_ngram=args.no_repeat_ngram,
    )
    return group_by_line(outs, owner, len(lines))


def check_nbest(parser: argparse.ArgumentParser, nbest: int, beam: int, default: bool = False) -> None:
    """--nbest against the beam size: a usage error, as for any other bad option value."""
    where = "the model's default beam size" if default else "--beam"
    if beam == 1 and nbest > 1:
        parser.error(f"argument --nbest: greedy search ({where} 1) gives one hypothesis; use --beam {nbest} or more")
    if nbest > beam:
        parser.error(f"argument --nbest: must be at most the beam size ({where} {beam}), got {nbest}")


def translate_main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .text import InputEncodingError, decode_utf8, file_problem, join_parts
    from .translator import Translator, note_if_slow

    if args.beam is not None:
        check_nbest(parser, args.nbest, args.beam)
    if args.alignment_level and not args.alignments:
        parser.error("argument --alignment-level: goes with --alignments FILE (the file the links are written to)")
    problem = file_problem(args.input, "input file") if args.input else None
    if problem:
        print(f"seq2seq-translate: {problem}", file=sys.stderr)
        return 2
    if (args.bf16 or args.no_cache) and args.backend == "ctranslate2":
        parser.error("--bf16 and --no-cache are options of the PyTorch engine: use --backend torch (or auto)")
    backend = "torch" if args.bf16 or args.no_cache else args.backend  # options of the PyTorch engine
    try:
        tr = Translator.load(args.model, device=args.device, backend=backend)
    except (ModelFolderError, ValueError, ImportError) as e:
        print(f"seq2seq-translate: {e}", file=sys.stderr)
        return 2
    note_if_slow(tr, "seq2seq-translate")
    if args.beam is None:
        check_nbest(parser, args.nbest, int(tr.config.decoding["beam_size"]), default=True)
    # Bytes in, split at b"\n" only (a stray \r never splits a line), each line decoded as UTF-8.
    where = args.input or "standard input"
    fout = open_output(args.output, "seq2seq-translate") if args.output else sys.stdout
    falign = open_output(args.alignments, "seq2seq-translate") if args.alignments else None
    if fout is None or (args.alignments and falign is None):
        return 2
    fin = open(args.input, "rb") if args.input else sys.stdin.buffer
    from tqdm.auto import tqdm

    bar = tqdm(unit="line", file=sys.stderr, disable=None)
    target = tr.direction.target
    source_name = LANGUAGE_NAMES[tr.direction.source]
    other_language = 0  # lines that do not look written in the model's source language
    done = 0  # lines read before this chunk (a bar off the terminal counts nothing)
    try:
        while True:
            raw = [ln for _, ln in zip(range(args.chunk_lines), fin)]
            if not raw:
                break
            try:
                lines = [
                    decode_utf8(ln, f"{where}, line {done + k + 1},").rstrip("\n").rstrip("\r").replace("\r", " ")
                    for k, ln in enumerate(raw)
                ]
            except InputEncodingError as e:
                bar.close()
                print(f"seq2seq-translate: {e}", file=sys.stderr)
                return 2
            for k in other_language_lines(lines, tr.direction.source):
                other_language += 1
                if other_language <= NAMED_LINES:
                    tqdm.write(
                        f"seq2seq-translate: warning: line {done + k + 1} does not look like {source_name}; "
                        f"{language_note(tr)} (translated anyway)",
                        file=sys.stderr,
                    )
            try:
                groups = translate_lines(tr, lines, args)
            except ValueError as e:  # a setting the model cannot use
                bar.close()
                print(f"seq2seq-translate: {e}", file=sys.stderr)
                return 2
            for n, group in enumerate(groups):
                if args.nbest > 1:
                    for k in range(args.nbest):
                        text = join_parts([t.nbest[k] for t in group if k < len(t.nbest)], target)
                        score = sum(t.nbest[k].normalized_score for t in group if k < len(t.nbest))
                        fout.write(f"{done + n} ||| {text} ||| {score:.4f}\n")
                else:
                    fout.write(join_parts(group, target) + "\n")
                if falign is not None:
                    from .align import alignment_line

                    falign.write(
                        alignment_line(group, level=args.alignment_level or "word", method=tr.link_method) + "\n"
                    )
            done += len(lines)
            bar.update(len(lines))
            fout.flush()
    finally:
        bar.close()
        if falign:
            falign.close()
        if args.output:
            fout.close()
        if args.input:
            fin.close()
    if other_language > NAMED_LINES:
        print(
            f"seq2seq-translate: warning: {other_language} of {done} lines do not look like {source_name} "
            f"(the first {NAMED_LINES} are named above)",
            file=sys.stderr,
        )
    return 0


# ---------------------------------------------------------------------------------------------
# seq2seq-align
# ---------------------------------------------------------------------------------------------


def build_align_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seq2seq-align",
        description="Word-align given sentence pairs with the model (forced decoding): "
        "one line of 0-based Pharaoh links i-j per pair (i: source word, j: target word).",
        epilog="With a shipped model and its default reading, the shipped model of the other direction reads "
        "each pair too and the two heads' links are combined (--reverse-model none: this model alone).\n"
        "Examples: seq2seq-align --pretokenized gold.zh gold.en > links.txt\n"
        "          seq2seq-align --model en-zh gold.en gold.zh > links.txt\n"
        "          seq2seq-align --reverse-model none gold.zh gold.en > links.txt\n"
        "          seq2seq-align --model runs/zh-en/best --reverse-model en-zh --combine intersection gold.zh "
        "gold.en > links.txt",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("source", help="source-language file (Chinese for the default zh-en model), one sentence per line")
    p.add_argument("target", help="target-language file, line-aligned with the source file")
    p.add_argument("--model", help="model folder, or zh-en / en-zh for a shipped one (default: zh-en)")
    p.add_argument(
        "--reverse-model",
        metavar="MODEL",
        help="a model of the other direction (e.g. en-zh): its alignment head reads each pair the other way "
        "and its links are combined with this model's by --combine; 'none': this model alone.  Default: the "
        "other shipped model where --model is a shipped one and --method is 'default', else none",
    )
    p.add_argument(
        "--combine",
        choices=sorted(SYMMETRIZE),
        default=None,
        help=f"with --reverse-model: how the two directions' links are combined (default {DEFAULT_RULE})",
    )
    p.add_argument("--output", "-o", help="output file (default: stdout)")
    p.add_argument(
        "--pretokenized", action="store_true", help="both files are words separated by spaces; links index these words"
    )
    p.add_argument(
        "--method",
        default="default",
        help="'default' (the model's alignment head, else Shift-Att in layer 1, both read both ways with "
        "grow-diag), 'head', 'full' or 'precise' (the head's two readings: docs/alignment.md), or "
        "LAYER[.HEAD][+shift][+full] with layers/heads numbered from 1, e.g. 3 or 2.1+shift (+full: the "
        "full-context pass, whose self-attention sees the whole translation); append +RULE to read both "
        f"directions and combine them ({', '.join(sorted(SYMMETRIZE))}; e.g. head+grow-diag), @W to drop "
        "links whose weight is below W, e.g. head@0.4",
    )
    p.add_argument("--max-tokens", type=positive_int, default=6000, help="tokens per batch (default 6000)")
    p.add_argument("--chunk-lines", type=positive_int, default=2000, help="pairs read and aligned at a time")
    p.add_argument("--device", default="cpu", help=DEVICE_HELP)
    p.add_argument(
        "--no-restore-english",
        dest="restore_english",
        action="store_false",
        help="read the English exactly as given; by default English that is all lower-case or tokenized "
        "(it 's, ( reporter, -LRB-) is recased with the model folder's truecase.model and "
        "detokenized before the model reads it, and links still index the words given",
    )
    p.add_argument(
        "--whole-pairs",
        dest="by_sentence",
        action="store_false",
        help="read every pair whole; by default a pair whose sides both have several sentences is read sentence "
        "by sentence (paired by length), a long sentence pair in halves where its links part, and the links "
        "joined, which holds the links on long pairs",
    )
    return p


def reverse_model_arg(given: Optional[str], model: Optional[str], method: str) -> Optional[str]:
    """seq2seq-align's second model: the one given (``none``: no second model), else, for a shipped model read
    its default way, the shipped model of the other direction (both heads combined align better than either:
    docs/alignment.md, "Both directions")."""
    from .model_dir import ModelFolderError
    from .translator import PRETRAINED, resolve_model_path, shipped_models

    if given is not None:
        return None if given.strip().lower() == "none" else given
    if method != "default":
        return None
    try:
        path = resolve_model_path(model).resolve()
    except ModelFolderError:
        return None  # the model's own loading says what is wrong
    if path.parent != PRETRAINED.resolve():
        return None
    try:
        other = Direction.parse(path.name).reversed().label
    except ValueError:
        return None
    return other if other in shipped_models() else None


def parse_method(text: str, translator):
    """--method, in the grammar of :func:`seq2seq.align.parse_method`, for ``translator``'s model."""
    from .align import parse_method as parse

    cfg = translator.config.model
    head = translator.align_method if translator.config.alignment else None
    try:
        return parse(text, translator.align_method, cfg.n_dec_layers, cfg.n_heads, head)
    except ValueError as e:
        raise ValueError(f"--method {e}") from None


def align_main(argv=None) -> int:
    parser = build_align_parser()
    args = parser.parse_args(argv)
    args.reverse_model = reverse_model_arg(args.reverse_model, args.model, args.method)
    if args.combine and not args.reverse_model:
        parser.error(
            "argument --combine: goes with --reverse-model MODEL (the model of the other direction whose links "
            "are combined with this one's); alone, the model's own --method reads the links"
        )
    from tqdm.auto import tqdm

    from .align import pharaoh
    from .bidirectional import align_both_ways, check_directions
    from .text import InputEncodingError, read_lines
    from .translator import Translator

    try:
        src, tgt = read_lines(args.source, "source file"), read_lines(args.target, "target file")
        if len(src) != len(tgt):
            raise ValueError(f"{args.source} has {len(src)} lines but {args.target} has {len(tgt)}")
        # Given pairs are read by forced decoding in the full-context pass, which only PyTorch computes.
        tr = Translator.load(args.model, device=args.device, backend="torch")
        method = parse_method(args.method, tr)
        reverse = (
            Translator.load(args.reverse_model, device=args.device, backend="torch") if args.reverse_model else None
        )
        if reverse is not None:
            check_directions(tr, reverse)
    except (ModelFolderError, FileNotFoundError, InputEncodingError, ValueError) as e:
        print(f"seq2seq-align: {e}", file=sys.stderr)
        return 2
    for path, lines, lang in ((args.source, src, tr.direction.source), (args.target, tgt, tr.direction.target)):
        warn_other_language("seq2seq-align", path, lines, tr, lang)
    fout = open_output(args.output, "seq2seq-align") if args.output else sys.stdout
    if fout is None:
        return 2
    limit, skipped = tr.max_source_tokens, 0
    bar = tqdm(total=len(src), unit="pair", file=sys.stderr, disable=None)
    try:
        for start in range(0, len(src), args.chunk_lines):
            s, t = src[start : start + args.chunk_lines], tgt[start : start + args.chunk_lines]
            kwargs = dict(
                pretokenized=args.pretokenized,
                method=method,
                max_tokens=args.max_tokens,
                skip_long=True,
                restore_english=args.restore_english,
                by_sentence=args.by_sentence,
            )
            out = (
                tr.align(s, t, **kwargs)
                if reverse is None
                else align_both_ways(tr, reverse, s, t, args.combine or DEFAULT_RULE, **kwargs)
            )
            for a in out:
                skipped += not a.target_tokens and not a.source_tokens
                fout.write(pharaoh(a.links) + "\n")
            fout.flush()
            bar.update(len(s))
    finally:
        bar.close()
        if args.output:
            fout.close()
    if skipped:
        print(
            f"seq2seq-align: {skipped} pairs were empty or over the model's {limit} pieces: their lines are empty",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(translate_main())
