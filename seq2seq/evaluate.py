"""``seq2seq-evaluate``: sacreBLEU and chrF of a model folder on test sets, for several decoding settings.

    seq2seq-evaluate --model DIR --test ../shared/data/dev/newstest2017 ../shared/data/dev/tatoeba-dev \\
        --beam 1 5 --length-penalty 0.6 1.0 --output-dir eval/

A test set is a path prefix P with P.zh and P.en beside each other, an explicit pair ``SRC.zh=REF.en``,
or a sacrebleu test-set name with ``-l zh-en`` (e.g. ``wmt17``; downloaded by sacrebleu, needs network).

Word alignment: ``--align-test PREFIX`` (PREFIX.zh and PREFIX.en split into words by spaces, PREFIX.gold
with Pharaoh links ``i-j`` sure / ``ipj`` possible, i the Chinese word) aligns the gold set's own pairs
(forced decoding, in the model's direction) and reports AER, precision and recall for every extraction
method: each decoder layer's attention (heads averaged) read at the predicting step and shifted by one
(Shift-Att), and the model's alignment head if it has one.  ``--reverse-model en-zh`` adds the head of
the model of the other direction, alone and combined with this one's (intersection, grow-diag, ...).
Hypotheses are detokenized model output, scored against the raw references.  Writes, per test
set and setting, ``NAME.SETTING.en`` (and ``.align`` with ``--alignments``), plus ``report.json``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Sequence

from .align_report import alignment_default, evaluate_alignment, evaluate_both_ways, format_alignment_table
from .cli import add_backend_option, beam_size_arg, length_penalty_arg, non_negative_int, positive_int
from .decoding import LENGTH_PENALTY_RANGE
from .input_language import warn_other_language
from .model_dir import ModelFolderError


@dataclass
class TestSet:
    name: str
    sources: list[str]
    references: list[str]


@dataclass
class Row:
    test_set: str
    setting: str
    beam_size: int
    length_penalty: Optional[float]
    bleu: float
    chrf: float
    length_ratio: float
    sentences_per_s: float
    sentences: int
    hypotheses_file: str
    copy: dict  # copy rate of names and numbers (seq2seq.copyrate): latin, number, and their counts
    repetition: dict  # outputs that loop where their reference does not (seq2seq.copyrate.repetition_rate)


def read_test_set(spec: str, langpair: str = "zh-en", limit: int = 0) -> TestSet:
    """Resolve a --test argument (see module docstring); ``langpair`` (the model's direction) says which of
    P.zh and P.en is the source.  ``limit`` N > 0: the first N lines only (0: all)."""
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ValueError(f"limit must be an integer >= 1 (the first N lines), or 0 for all, got {limit!r}")
    src_lang, tgt_lang = langpair.split("-")
    if Path(spec).is_dir():
        raise FileNotFoundError(
            f"test set {spec} is a folder: give the path prefix P of P.zh and P.en (e.g. {Path(spec) / 'NAME'}), "
            "or SRC=REF"
        )
    if "=" in spec:
        src, ref = spec.split("=", 1)
        name = Path(src).stem
    elif Path(spec + ".zh").is_file() or Path(spec + ".en").is_file():
        src, ref, name = f"{spec}.{src_lang}", f"{spec}.{tgt_lang}", Path(spec).name
    elif Path(spec).suffix in (".zh", ".en"):
        raise FileNotFoundError(f"test set {spec}: give the prefix without .zh/.en, or SRC=REF")
    else:  # a sacrebleu test set name
        from sacrebleu.utils import get_reference_files, get_source_file

        try:
            src, ref = get_source_file(spec, langpair), get_reference_files(spec, langpair)[0]
        except Exception as e:  # unknown name, or no network
            raise FileNotFoundError(
                f"test set {spec!r} is neither files (P.zh/P.en, SRC=REF) nor a sacrebleu "
                f"test set that could be loaded for {langpair} ({e})"
            ) from e
        name = spec
    from .text import decode_utf8, file_problem  # decode_utf8 names the file and says how to convert it

    for f, what in ((src, "source"), (ref, "reference")):
        problem = file_problem(f, f"{what} file")
        if problem:
            raise FileNotFoundError(f"test set {spec}: {problem}")

    sources = decode_utf8(Path(src).read_bytes(), f"test set {name}: {src}").split("\n")
    refs = decode_utf8(Path(ref).read_bytes(), f"test set {name}: {ref}").split("\n")
    if sources and sources[-1] == "":
        sources.pop()
    if refs and refs[-1] == "":
        refs.pop()
    if len(sources) != len(refs):
        raise ValueError(f"test set {name}: {src} has {len(sources)} lines but {ref} has {len(refs)}")
    if not sources:
        raise ValueError(f"test set {name} is empty: {src} and {ref} have no lines")
    if limit:
        sources, refs = sources[:limit], refs[:limit]
    return TestSet(name, sources, refs)


def settings(beams: Sequence[int], penalties: Sequence[float]) -> list[tuple[int, Optional[float]]]:
    """Every beam size with every length penalty; greedy (beam 1) once, where the penalty has no effect."""
    out = []
    for b, lp in itertools.product(beams, penalties):
        s = (1, None) if b == 1 else (b, lp)
        if s not in out:
            out.append(s)
    return out


def setting_name(beam: int, lp: Optional[float]) -> str:
    return "greedy" if beam == 1 else f"beam{beam}-lp{lp:g}"


def evaluate(
    translator,
    test_sets: Sequence[TestSet],
    beams: Sequence[int],
    penalties: Sequence[float],
    output_dir: Optional[Path] = None,
    alignments: Optional[str] = None,
    max_tokens: int = 6000,
    progress: bool = True,
    dtype=None,
    on_done=None,
    no_repeat_ngram=None,
) -> tuple[list[Row], dict]:
    """Translate and score; returns the table rows and the sacrebleu signatures.

    A line over the model's length limit is translated in parts (as seq2seq-translate does), joined by a
    space.  ``on_done(rows, signatures)`` is called after every test set and setting, so a caller can
    write what is finished before a later set fails."""
    from sacrebleu.metrics import BLEU, CHRF

    from .align import alignment_line
    from .copyrate import copy_rate, repetition_rate
    from .text import group_by_line, join_parts

    tokenize = translator.direction.bleu_tokenize

    rows, signatures = [], {}
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
    for ts in test_sets:
        for beam, lp in settings(beams, penalties):
            name = setting_name(beam, lp)
            t0 = time.perf_counter()
            parts, owner = translator.codec.split_long(ts.sources, "seq2seq-evaluate")
            outs = translator.translate(
                parts,
                beam_size=beam,
                length_penalty=lp,
                max_tokens=max_tokens,
                return_attention=alignments is not None,
                progress=progress,
                dtype=dtype,
                no_repeat_ngram=no_repeat_ngram,
            )
            dt = time.perf_counter() - t0
            groups = group_by_line(outs, owner, len(ts.sources))
            hyps = [join_parts(g, translator.direction.target) for g in groups]
            bleu_m, chrf_m = BLEU(tokenize=tokenize), CHRF()
            bleu = bleu_m.corpus_score(hyps, [ts.references])
            chrf = chrf_m.corpus_score(hyps, [ts.references])
            signatures = {"bleu": str(bleu_m.get_signature()), "chrf": str(chrf_m.get_signature())}
            hyp_file = ""
            if output_dir is not None:
                hyp_path = output_dir / f"{ts.name}.{name}.{translator.direction.target}"
                hyp_path.write_text("".join(h + "\n" for h in hyps), encoding="utf-8")
                hyp_file = str(hyp_path)
                if alignments:
                    (output_dir / f"{ts.name}.{name}.align").write_text(
                        "".join(
                            alignment_line(g, level=alignments, method=translator.link_method) + "\n" for g in groups
                        ),
                        encoding="utf-8",
                    )
            rows.append(
                Row(
                    ts.name,
                    name,
                    beam,
                    lp,
                    round(bleu.score, 2),
                    round(chrf.score, 2),
                    round(bleu.sys_len / max(1, bleu.ref_len), 3),
                    round(len(hyps) / dt, 2),
                    len(hyps),
                    hyp_file,
                    copy_rate(ts.sources, ts.references, hyps).as_dict(),
                    repetition_rate(hyps, ts.references),
                )
            )
            if on_done is not None:
                on_done(rows, signatures)
    return rows, signatures


def format_table(rows: Sequence[Row]) -> str:
    """The BLEU table, with the copy rate of Latin words and numbers (copied/total) and the outputs that loop
    (``repeats``: a character or a run of up to 4 written 3+ times in a row where the reference has none)."""
    head = (
        f"{'test set':<16} {'setting':<14} {'BLEU':>6} {'chrF':>6} {'len ratio':>9} {'sent/s':>8} "
        f"{'copy latin':>18} {'copy numbers':>18} {'repeats':>14}"
    )
    lines = [head, "-" * len(head)]

    def share(c: dict, kind: str) -> str:
        total = c[f"{kind}_total"]
        return f"{100 * c[kind]:.1f}% ({c[f'{kind}_copied']}/{total})" if total else "-"

    def loops(r: dict) -> str:
        return f"{100 * r['repetition']:.1f}% ({r['repetition_count']})"

    lines += [
        f"{r.test_set:<16} {r.setting:<14} {r.bleu:>6.2f} {r.chrf:>6.2f} {r.length_ratio:>9.3f} "
        f"{r.sentences_per_s:>8.1f} {share(r.copy, 'latin'):>18} {share(r.copy, 'number'):>18} "
        f"{loops(r.repetition):>14}"
        for r in rows
    ]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    from .text import plain_doc

    p = argparse.ArgumentParser(
        prog="seq2seq-evaluate",
        description=plain_doc(__doc__.split("\n\n")[0]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=plain_doc(__doc__.split("\n\n", 1)[1]),
    )
    p.add_argument("--model", help="model folder (default: the shipped model)")
    p.add_argument("--test", nargs="+", default=[], help="test sets: path prefix, SRC=REF, or a sacrebleu name")
    p.add_argument(
        "--align-test",
        action="append",
        default=[],
        metavar="PREFIX",
        help="gold word-alignment set PREFIX.zh/.en/.gold: report AER per extraction method (repeatable)",
    )
    p.add_argument(
        "--reverse-model",
        metavar="MODEL",
        help="with --align-test: also the model of the other direction (a folder, or zh-en / en-zh for a "
        "shipped one): AER of each alignment head alone and of every rule that combines the two",
    )
    p.add_argument("-l", "--langpair", help="source-target languages of the test sets (default: the model's own)")
    p.add_argument("--beam", nargs="+", type=beam_size_arg, help="beam sizes (1 = greedy; default 5)")
    p.add_argument(
        "--length-penalty",
        nargs="+",
        type=length_penalty_arg,
        help="length penalties alpha from {:g} to {:g} (score / length**alpha); default: the model folder's own".format(
            *LENGTH_PENALTY_RANGE
        ),
    )
    p.add_argument(
        "--limit", type=positive_int, default=0, metavar="N", help="first N sentences of each test set only (N >= 1)"
    )
    p.add_argument(
        "--no-repeat-ngram",
        type=non_negative_int,
        metavar="N",
        help="no n-gram of pieces twice in an output (0: off; default: the model folder's)",
    )
    p.add_argument("--output-dir", default="eval", help="where hypotheses and report.json go (default eval/)")
    p.add_argument("--alignments", choices=["piece", "word"], help="also write Pharaoh alignments")
    p.add_argument("--max-tokens", type=positive_int, default=6000, help="source tokens per batch (default 6000)")
    p.add_argument("--device", default="cpu", help="where the model runs: cpu (default), cuda or cuda:N")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast for the matrix products (PyTorch engine)")
    add_backend_option(p)
    return p


def main(argv=None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    import torch

    from .translator import Translator, note_if_slow

    if not args.test and not args.align_test:
        p.error("give --test and/or --align-test")
    if args.reverse_model and not args.align_test:
        p.error("--reverse-model goes with --align-test")
    # The options of --test: --align-test reads the gold set's own pairs and translates nothing.
    only_test = ("beam", "length_penalty", "limit", "no_repeat_ngram", "alignments", "langpair")
    given = ["--" + name.replace("_", "-") for name in only_test if getattr(args, name)]
    if given and not args.test:
        p.error(
            f"{', '.join(given)} {'go' if len(given) > 1 else 'goes'} with --test (--align-test translates nothing)"
        )
    try:
        backend = "torch" if args.bf16 else args.backend
        tr = Translator.load(args.model, device=args.device, backend=backend)
        other = Translator.load(args.reverse_model, device=args.device, backend="torch") if args.reverse_model else None
        note_if_slow(tr, "seq2seq-evaluate")
        test_sets = [read_test_set(t, args.langpair or tr.direction.label, args.limit) for t in args.test]
    except (ModelFolderError, FileNotFoundError, ValueError, ImportError) as e:
        print(f"seq2seq-evaluate: {e}", file=sys.stderr)
        return 2
    for ts in test_sets:
        warn_other_language("seq2seq-evaluate", f"test set {ts.name}", ts.sources, tr)
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    report: dict = {"model": str(args.model or "default")}
    if args.align_test:
        align_rows = []
        for prefix in args.align_test:
            try:
                align_rows += evaluate_alignment(tr, prefix, args.max_tokens)
                if other is not None:
                    align_rows += evaluate_both_ways(tr, other, prefix, args.max_tokens)
            except (FileNotFoundError, ValueError) as e:
                print(f"seq2seq-evaluate: {e}", file=sys.stderr)
                return 2
        report["alignment_default"] = alignment_default(tr)
        print(format_alignment_table(align_rows, report["alignment_default"]))
        report["alignment"] = align_rows
        _write_report(out, report)
    if test_sets:
        penalties = args.length_penalty or [tr.config.decoding["length_penalty"]]

        def write_so_far(rows, sigs):  # a later failure keeps what is done
            report.update(rows=[asdict(r) for r in rows], signatures=sigs)
            _write_report(out, report)

        rows, sigs = evaluate(
            tr,
            test_sets,
            args.beam or [5],
            penalties,
            out,
            args.alignments,
            args.max_tokens,
            progress=True,
            dtype=torch.bfloat16 if args.bf16 else None,
            on_done=write_so_far,
            no_repeat_ngram=args.no_repeat_ngram,
        )
        print(format_table(rows))
        print(f"BLEU signature: {sigs['bleu']}\nchrF signature: {sigs['chrf']}")
        report.update(rows=[asdict(r) for r in rows], signatures=sigs)
        _write_report(out, report)
    print(f"report.json{' and hypotheses' if test_sets else ''} in {out}/")
    return 0


def _write_report(out: Path, report: dict) -> None:
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
