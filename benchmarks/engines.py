"""One translator, two engines: how fast is the default ``Translator`` with word links against CTranslate2 alone?

    .venv/bin/python benchmarks/engines.py [--model zh-en] [--sentences 100] [--batched 300] [--rounds 3] \\
        [--output benchmarks/engines.json]

Each row runs in a fresh process, beam 5, on the first N newstest2017 sentences (read in the model's direction):

* ``ct2-alone``: CTranslate2 as its users call it: sentencepiece pieces in, ``translate_batch``, pieces decoded
  to text, at every thread setting (``intra_threads`` x ``inter_threads``); the best is the row compared against.
* ``default+links``: ``Translator.load(model)`` (CTranslate2 where it is installed) and every translation's word
  links read (``t.coverage.links``), as the demo's first view does.
* ``torch+links``: ``Translator.load(model, backend="torch")``, the same.

Two loads: batch 1 (one sentence per call, as a web request) and batched (``--batched`` sentences in one call,
``max_tokens`` 6000).  Every row runs once a round, ``--rounds`` rounds, the rows in turn: on a shared machine whose
speed drifts by 25% between runs, the ratio of the default to the best CTranslate2 row is taken within each round
(the median of the rounds is the figure).  Batch 1 again with the drift taken out (``interleaved``): CTranslate2
alone and the default, each in its own process, get each sentence in turn, ``--rounds`` runs.  Then the demo's
first view of a 30-character sentence (``predict``, the alignment map as Gradio sends it, the coverage check), 30
runs on each engine: p50 and p95.  Prints the figures and writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from machine import cpu_name  # this script's folder is on sys.path (run as a script)

ROOT = Path(__file__).resolve().parent.parent
DEV = Path(os.environ.get("S2S_SHARED", ROOT.parent / "shared")) / "data" / "dev" / "newstest2017"
THREADS = [(1, 1), (1, 2), (2, 1), (0, 1)]  # (intra, inter); 0: CTranslate2's own default


def lines(model: str, n: int) -> list[str]:
    from seq2seq import Translator

    lang = Translator.load(model, backend="torch").direction.source
    return (DEV.parent / f"{DEV.name}.{lang}").read_text(encoding="utf-8").splitlines()[:n]


def ct2_alone(model: str, texts: list[str], batched: bool, intra: int, inter: int) -> float:
    return _timed(ct2_alone_runner(model, intra, inter), texts, batched)


def ct2_alone_runner(model: str, intra: int, inter: int):
    import ctranslate2
    import sentencepiece as spm

    from seq2seq.ct2_engine import ct2_folder
    from seq2seq.translator import resolve_model_path

    folder = ct2_folder(resolve_model_path(model))
    src = spm.SentencePieceProcessor(model_file=str(folder / "source.model"))
    tgt = spm.SentencePieceProcessor(model_file=str(folder / "target.model"))
    tr = ctranslate2.Translator(str(folder), intra_threads=intra, inter_threads=inter)

    def run(batch: list[str]) -> list[str]:
        pieces = [p + ["</s>"] for p in src.encode(batch, out_type=str)]
        out = tr.translate_batch(pieces, beam_size=5, max_batch_size=6000, batch_type="tokens")
        return [tgt.decode(r.hypotheses[0]) for r in out]

    return run


def ours(model: str, texts: list[str], batched: bool, backend: str) -> float:
    return _timed(ours_runner(model, backend), texts, batched)


def ours_runner(model: str, backend: str):
    from seq2seq import Translator

    tr = Translator.load(model, backend=backend)

    def run(batch: list[str]) -> list:
        out = tr.translate(batch, beam_size=5)
        return [t.coverage.links for t in out if t.target_tokens]

    return run


def serve(run) -> None:
    """A worker of the interleaved batch-1 run: one sentence (JSON) a line on stdin, its seconds on stdout."""
    for line in sys.stdin:
        text = json.loads(line)
        t0 = time.perf_counter()
        run([text])
        print(json.dumps(time.perf_counter() - t0), flush=True)


def interleaved(model: str, texts: list[str]) -> dict:
    """Batch 1 with the drift taken out: CTranslate2 alone (1 thread x 1 replica, its best at batch 1) and the
    default translator with links, each in its own process, get each sentence in turn (which goes first
    alternates), so that both see the machine as it is at that moment; each times its own calls."""
    procs = []
    for what, a, b in (("ct2-alone", "1", "1"), ("default+links", "-", "-")):
        cmd = [sys.executable, __file__, "--model", model, "--worker", what, "serve", a, b]
        procs.append(subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))

    def ask(p, text: str) -> float:
        p.stdin.write(json.dumps(text, ensure_ascii=False) + "\n")
        p.stdin.flush()
        return json.loads(p.stdout.readline())

    try:
        for text in texts[:3]:  # warm-up
            for p in procs:
                ask(p, text)
        totals = [0.0, 0.0]
        for k, text in enumerate(texts):
            for j in (0, 1) if k % 2 == 0 else (1, 0):
                totals[j] += ask(procs[j], text)
    finally:
        for p in procs:
            p.stdin.close()
            p.wait()
    n = len(texts)
    return {
        "ct2-alone intra=1 inter=1": round(n / totals[0], 2),
        "default+links": round(n / totals[1], 2),
        "ratio": round(totals[0] / totals[1], 3),
    }


FIRST_VIEW = "苹果公司的首席执行官昨天在上海宣布了一项全新的海外投资计划。"  # 30 characters


def first_view(model: str, backend: str, runs: int = 30) -> dict:
    """The demo's first view: the translation with its links, the map and the coverage check, in process."""
    from seq2seq import Translator
    from seq2seq.app.chips import coverage_html
    from seq2seq.app.figures import alignment_figure
    from seq2seq.app.predict import predict

    tr = Translator.load(model, backend=backend)
    ms = []
    for k in range(runs + 3):
        t0 = time.perf_counter()
        pred = predict(tr, FIRST_VIEW, beam_size=5)
        alignment_figure(pred).to_json()
        coverage_html(pred)
        if k >= 3:  # warm-up
            ms.append((time.perf_counter() - t0) * 1e3)
    ms.sort()
    return {"p50_ms": round(ms[len(ms) // 2], 1), "p95_ms": round(ms[int(0.95 * (len(ms) - 1))], 1)}


def _timed(run, texts: list[str], batched: bool) -> float:
    run(texts[:3])  # warm-up
    t0 = time.perf_counter()
    if batched:
        run(texts)
    else:
        for line in texts:
            run([line])
    return len(texts) / (time.perf_counter() - t0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="zh-en")
    p.add_argument("--sentences", type=int, default=100, help="batch-1 run: the first N sentences")
    p.add_argument("--batched", type=int, default=300, help="batched run: the first N sentences in one call")
    p.add_argument("--rounds", type=int, default=3, help="times every row runs, the rows in turn (default 3)")
    p.add_argument("--output", default=str(ROOT / "benchmarks" / "engines.json"))
    p.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.rounds < 1:
        p.error("--rounds must be at least 1")
    if args.worker:
        what, load, a, b = args.worker
        if load == "first-view":
            print(json.dumps(first_view(args.model, a)))
            return 0
        if load == "serve":
            if what == "ct2-alone":
                serve(ct2_alone_runner(args.model, int(a), int(b)))
            else:
                serve(ours_runner(args.model, "auto" if what == "default+links" else "torch"))
            return 0
        texts = lines(args.model, args.batched if load == "batched" else args.sentences)
        if what == "ct2-alone":
            value = ct2_alone(args.model, texts, load == "batched", int(a), int(b))
        else:
            value = ours(args.model, texts, load == "batched", "auto" if what == "default+links" else "torch")
        print(json.dumps(value))
        return 0
    rows: dict = {}
    for load in ("batch1", "batched"):
        runs = [("ct2-alone", str(i), str(j)) for i, j in THREADS] + [
            ("default+links", "-", "-"),
            ("torch+links", "-", "-"),
        ]
        ratios = []
        for r in range(args.rounds):  # every row once a round: a machine that drifts moves a round's rows together
            got = {}
            for what, a, b in runs:
                cmd = [sys.executable, __file__, "--model", args.model, "--sentences", str(args.sentences)]
                cmd += ["--batched", str(args.batched), "--worker", what, load, a, b]
                out = subprocess.run(cmd, capture_output=True, text=True)
                value = round(json.loads(out.stdout.strip().splitlines()[-1]), 2) if out.returncode == 0 else None
                if out.returncode:
                    print(out.stderr[-2000:], file=sys.stderr)
                name = what if what != "ct2-alone" else f"ct2-alone intra={a} inter={b}"
                got[name] = value
                rows.setdefault(f"{load} {name}", []).append(value)
                print(f"{load:8s} round {r + 1} {name:28s} {value} sent/s", flush=True)
            best = max((v for k, v in got.items() if k.startswith("ct2-alone") and v), default=None)
            ratios.append(round(got["default+links"] / best, 3) if best and got["default+links"] else None)
            print(f"{load:8s} round {r + 1} default+links / best CTranslate2 alone: {ratios[-1]}", flush=True)
        ran = [x for x in ratios if x is not None]  # a row that failed (its error printed) leaves its round out
        median = round(statistics.median(ran), 3) if ran else None
        rows[f"{load} ratio default+links / best ct2-alone, each round"] = ratios
        rows[f"{load} ratio, median of rounds"] = median
        print(f"{load:8s} ratio, median of the rounds: {median} {ratios}", flush=True)
    texts = lines(args.model, args.sentences)
    turns = [interleaved(args.model, texts) for _ in range(args.rounds)]
    for r, got in enumerate(turns):
        print(f"batch1 interleaved, run {r + 1}: {got}", flush=True)
    rows["batch1 interleaved, each run"] = turns
    rows["batch1 interleaved ratio, median of runs"] = statistics.median(t["ratio"] for t in turns)
    print(f"batch1 interleaved ratio, median of the runs: {rows['batch1 interleaved ratio, median of runs']}")
    for backend in ("auto", "torch"):
        cmd = [sys.executable, __file__, "--model", args.model, "--worker", "first-view", "first-view", backend, "-"]
        out = subprocess.run(cmd, capture_output=True, text=True)
        value = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else None
        rows[f"first view, 30 characters, {'default' if backend == 'auto' else backend}"] = value
        print(f"first view ({len(FIRST_VIEW)} characters), {backend}: {value}", flush=True)
    meta = dict(model=args.model, sentences=args.sentences, batched=args.batched, rounds=args.rounds, cpu=cpu_name())
    Path(args.output).write_text(json.dumps({**meta, "sent_s": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
