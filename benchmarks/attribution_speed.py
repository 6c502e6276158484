"""Speed of attribution and the logit lens for one sentence of about 30 output pieces per direction (issue 39:
input × gradient p50 <= 0.5 s; integrated gradients, 32 steps, batched, p50 <= 3 s).

    .venv/bin/python benchmarks/attribution_speed.py --output benchmarks/attribution_speed.json

The sentence is the model's own translation, given as the target, so only the attribution is timed (no search).
Each figure is the median (and the spread) of ``--repeats`` runs after one warm-up run, on the CPU, for each
PyTorch thread setting in ``--threads`` (default 1 and 2: one core, and the demo's two-core machine); the JSON
records the settings, the load average before and after, and the sentence's lengths.  A few minutes on a free
two-core machine (add ``ablation`` to ``--methods`` for per-piece ablation, about 9 s a run).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import cpu_name  # noqa: E402  (this script's folder is on sys.path: run as a script)

from seq2seq.attribution import native_bf16_cpu  # noqa: E402
from seq2seq.translator import Translator  # noqa: E402

# Written for this benchmark (not from any data set); about 30 pieces in either direction.
SENTENCES = {
    "zh-en": "我们昨天下午在学校附近的一家小饭馆里吃了晚饭，然后一起去公园散步，聊了很多关于未来的计划和梦想。",
    "en-zh": "Yesterday afternoon we had dinner together in a small restaurant near the old school, then walked slowly "
    "through the park and talked for hours about our plans for the summer.",
}
OPTIONS = {"integrated_gradients": {"n_steps": 32}}  # the setting (and the default)
METHODS = "input_x_gradient,integrated_gradients,source_ablation,logit_lens"


def timed(fn, repeats: int) -> dict:
    """Median, min and max seconds of ``repeats`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"p50_s": round(statistics.median(times), 4), "min_s": round(min(times), 4), "max_s": round(max(times), 4)}


def bench_model(
    name: str, methods: list[str], threads: list[int], repeats: int, batch_sizes: list[int], precisions: list[str]
) -> dict:
    tr = Translator.load(name, backend="torch")
    source = SENTENCES[name]
    own = tr.translate([source])[0]
    out = {"source_pieces": len(own.source_tokens), "target_pieces": len(own.target_tokens), "threads": {}}
    runs = {}
    for method in methods:
        if method == "logit_lens":
            runs[method] = lambda: tr.logit_lens([source], [own.text])
            continue
        for precision in precisions:
            key = method if precision == "auto" else f"{method} precision={precision}"
            runs[key] = lambda m=method, p=precision: tr.attribute(
                [source], [own.text], method=m, precision=p, **OPTIONS.get(m, {})
            )
    for batch in batch_sizes:
        runs[f"integrated_gradients internal_batch_size={batch}"] = lambda b=batch: tr.attribute(
            [source], [own.text], method="integrated_gradients", n_steps=32, internal_batch_size=b
        )
    for n in threads:
        torch.set_num_threads(n)
        found = out["threads"][str(n)] = {}
        for key, run in runs.items():
            found[key] = timed(run, repeats)
            print(f"{name} threads={n} {key}: {found[key]}", flush=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="zh-en,en-zh")
    ap.add_argument("--methods", default=METHODS, help=f"attribution methods and logit_lens (default {METHODS})")
    ap.add_argument("--threads", default="1,2", help="PyTorch thread settings to time, each in turn (default 1,2)")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--batch-sizes", default="", help="integrated gradients' internal_batch_size values to compare")
    ap.add_argument(
        "--precisions",
        default="auto",
        help="attribution arithmetic to time, each in turn: auto (the default: bf16 where the CPU has it natively), "
        "fp32, bf16",
    )
    ap.add_argument("--output", default="")
    args = ap.parse_args(argv)
    threads = [int(x) for x in args.threads.split(",") if x]
    report = {
        "what": "seconds per sentence (given target: attribution only), median of repeats after a warm-up, "
        "per PyTorch thread setting",
        "threads": threads,
        "repeats": args.repeats,
        "integrated_gradients": OPTIONS["integrated_gradients"],
        "torch": torch.__version__,
        "cpu": cpu_name(),
        "native_bf16": native_bf16_cpu(),
        "auto_precision": "bf16" if native_bf16_cpu() else "fp32",
        "load_average_at_start": os.getloadavg()[0],
        "models": {},
    }
    methods = [m for m in args.methods.split(",") if m]
    sizes = [int(x) for x in args.batch_sizes.split(",") if x]
    for name in args.models.split(","):
        precisions = [x for x in args.precisions.split(",") if x]
        report["models"][name] = bench_model(name, methods, threads, args.repeats, sizes, precisions)
    report["load_average_at_end"] = os.getloadavg()[0]
    if args.output:
        Path(args.output).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
