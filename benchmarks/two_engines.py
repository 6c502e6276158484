"""Both backends in one process: does each slow the other down, and what do CTranslate2's thread settings do?

    python benchmarks/two_engines.py [--sentences 60] [--output benchmarks/two_engines.json]

Runs, each in a fresh process, beam 5 at batch 1 on the first N newstest2017 sentences:
CTranslate2 alone, PyTorch alone, and each next to the other (both loaded, the other used too),
with CTranslate2 loaded three ways:

* ``ct2-default``: CTranslate2's own default (``intra_threads=0``: several OpenMP threads per batch), which
  ``Translator.load(d, backend="ctranslate2")`` used before;
* ``ct2-default+spin``: the same with ``OMP_WAIT_POLICY=ACTIVE GOMP_SPINCOUNT=100000000`` (idle OpenMP
  threads spin instead of sleeping);
* ``seq2seq``: ``CT2Translator.load``'s default now, one thread per batch and one batch per core
  (``intra_threads=1, inter_threads=cores``).

Prints sentences/s and writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV = Path(os.environ.get("S2S_SHARED", ROOT.parent / "shared")) / "data" / "dev" / "newstest2017.zh"


CT2_SETTINGS = {  # name: (CT2Translator.load keyword arguments, extra environment)
    "ct2-default": ({"intra_threads": 0, "inter_threads": 1}, {}),
    "ct2-default+spin": (
        {"intra_threads": 0, "inter_threads": 1},
        {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": "100000000"},
    ),
    "seq2seq": ({}, {}),
}


def worker(which: str, beside: bool, n: int, setting: str) -> float:
    from seq2seq import Translator
    from seq2seq.ct2 import CT2Translator

    folder = ROOT / "seq2seq" / "pretrained" / "zh-en"
    lines = DEV.read_text(encoding="utf-8").splitlines()[:n]

    def load(backend):
        if backend == "ctranslate2":
            return CT2Translator.load(folder, **CT2_SETTINGS[setting][0])
        return Translator.load(folder)

    main = load(which)
    if beside:
        other = load("torch" if which == "ctranslate2" else "ctranslate2")
        other.translate(lines[:5], beam_size=5)
    main.translate(lines[:2], beam_size=5)
    spent = 0.0  # only the measured engine's calls are timed
    for line in lines:
        t0 = time.perf_counter()
        main.translate([line], beam_size=5)
        spent += time.perf_counter() - t0
        if beside:  # the other engine in use too, in turn, as in a notebook comparing them
            other.translate([line], beam_size=5)
    return n / spent


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sentences", type=int, default=60)
    p.add_argument("--output", default=str(ROOT / "benchmarks" / "two_engines.json"))
    p.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1] == "beside", args.sentences, args.worker[2])))
        return 0
    if not (ROOT / "seq2seq" / "pretrained" / "zh-en" / "ctranslate2" / "model.bin").exists():
        print(
            "two_engines: export the shipped model first: seq2seq-export --format ctranslate2 "
            "seq2seq/pretrained/zh-en seq2seq/pretrained/zh-en/ctranslate2",
            file=sys.stderr,
        )
        return 2
    results = {}
    for setting, (_, extra) in CT2_SETTINGS.items():
        for which in ("ctranslate2", "torch"):
            for beside in ("alone", "beside"):
                if which == "torch" and beside == "alone" and setting != "seq2seq":
                    continue  # no CTranslate2 in that process: one measurement is enough
                out = subprocess.run(
                    [sys.executable, __file__, "--sentences", str(args.sentences), "--worker", which, beside, setting],
                    capture_output=True,
                    text=True,
                    env={**os.environ, **extra},
                )
                value = round(json.loads(out.stdout.strip().splitlines()[-1]), 2) if out.returncode == 0 else None
                results[f"{setting} {which} {beside}"] = value
                print(f"{setting:17s} {which:12s} {beside:7s} {value} sent/s", flush=True)
                if out.returncode:
                    print(out.stderr[-2000:], file=sys.stderr)
    Path(args.output).write_text(json.dumps({"sentences": args.sentences, "sent_s": results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
