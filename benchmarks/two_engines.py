"""Both backends in one process: does each slow the other down, and does an OpenMP wait policy fix it?

    python benchmarks/two_engines.py [--sentences 60]

Runs, each in a fresh process, beam 5 at batch 1 on the first N newstest2017 sentences:
CTranslate2 alone, PyTorch alone, and each next to the other (both loaded, the other used first),
with the default environment and with ``OMP_WAIT_POLICY=PASSIVE KMP_BLOCKTIME=0`` (threads that finish a
parallel region sleep at once instead of spinning).  Prints sentences/s.
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


def worker(which: str, beside: bool, n: int) -> float:
    sys.path.insert(0, str(ROOT))
    from seq2seq import Translator

    folder = ROOT / "seq2seq" / "pretrained" / "zh-en"
    lines = DEV.read_text(encoding="utf-8").splitlines()[:n]
    main = Translator.load(folder, backend=which)
    if beside:
        other = Translator.load(folder, backend="torch" if which == "ctranslate2" else "ctranslate2")
        other.translate(lines[:5], beam_size=5)
    main.translate(lines[:2], beam_size=5)
    t0 = time.perf_counter()
    for line in lines:
        main.translate([line], beam_size=5)
        if beside:  # the other engine in use too, as in a notebook comparing them
            other.translate([line], beam_size=1, max_len_b=1)
    return n / (time.perf_counter() - t0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sentences", type=int, default=60)
    p.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker[0], args.worker[1] == "beside", args.sentences)))
        return 0
    if not (ROOT / "seq2seq" / "pretrained" / "zh-en" / "ctranslate2" / "model.bin").exists():
        print("two_engines: export the shipped model first: seq2seq-export --format ctranslate2 "
              "seq2seq/pretrained/zh-en seq2seq/pretrained/zh-en/ctranslate2", file=sys.stderr)
        return 2
    results = {}
    for env_name, extra in (("default", {}), ("passive", {"OMP_WAIT_POLICY": "PASSIVE", "KMP_BLOCKTIME": "0"})):
        for which in ("ctranslate2", "torch"):
            for beside in ("alone", "beside"):
                out = subprocess.run([sys.executable, __file__, "--sentences", str(args.sentences), "--worker", which,
                                      beside], capture_output=True, text=True, env={**os.environ, **extra})
                value = json.loads(out.stdout.strip().splitlines()[-1]) if out.returncode == 0 else None
                results[f"{env_name} {which} {beside}"] = value
                print(f"{env_name:8s} {which:12s} {beside:7s} {value if value is None else round(value, 2)} sent/s",
                      flush=True)
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
