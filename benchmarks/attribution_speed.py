"""Speed of attribution and the logit lens for one sentence of about 30 output pieces (issue 39: input × gradient
p50 <= 0.5 s; integrated gradients, 32 steps, batched, p50 <= 3 s).

    .venv/bin/python benchmarks/attribution_speed.py --threads 1 --output benchmarks/attribution_speed.json

The sentence is the model's own translation, given as the target, so only the attribution is timed (no search).
Each figure is the median (and the spread) of ``--repeats`` runs after one warm-up run, on the CPU, with
``--threads`` PyTorch threads.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from seq2seq.translator import Translator  # noqa: E402

# Written for this benchmark (not from any data set); about 30 pieces in either direction.
SENTENCES = {  # zh-en: 32 source / 29 output pieces; en-zh: 34 / 28 (</s> included)
    "zh-en": "我们昨天下午在学校附近的一家小饭馆里吃了晚饭，然后一起去公园散步，聊了很多关于未来的计划和梦想。",
    "en-zh": "Yesterday afternoon we had dinner together in a small restaurant near the old school, then walked slowly "
    "through the park and talked for hours about our plans for the summer.",
}
RUNS = [
    ("input_x_gradient", {}),
    ("integrated_gradients", {"n_steps": 32}),
    ("source_ablation", {}),
    ("ablation", {}),
]


def timed(fn, repeats: int) -> dict:
    """Median, min and max seconds of ``repeats`` calls after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {"p50_s": statistics.median(times), "min_s": min(times), "max_s": max(times), "runs": repeats}


def bench_model(name: str, repeats: int, batch_sizes: list[int]) -> dict:
    tr = Translator.load(name, backend="torch")
    source = SENTENCES[name]
    own = tr.translate([source])[0]
    pieces = len(own.target_tokens)
    out = {"source_pieces": len(own.source_tokens), "target_pieces": pieces, "methods": {}}
    for method, options in RUNS:
        out["methods"][method] = timed(lambda: tr.attribute([source], [own.text], method=method, **options), repeats)
        print(name, method, out["methods"][method], flush=True)
    for batch in batch_sizes:
        key = f"integrated_gradients internal_batch_size={batch}"
        run = lambda: tr.attribute([source], [own.text], method="integrated_gradients", internal_batch_size=batch)
        out["methods"][key] = timed(run, repeats)
        print(name, key, out["methods"][key], flush=True)
    out["methods"]["logit_lens"] = timed(lambda: tr.logit_lens([source], [own.text]), repeats)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="zh-en,en-zh")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-sizes", default="32,256", help="integrated gradients' internal_batch_size to compare")
    ap.add_argument("--output", default="")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    report = {
        "what": "seconds per sentence (given target: attribution only), median of repeats after a warm-up",
        "threads": args.threads,
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0],
        "models": {},
    }
    sizes = [int(x) for x in args.batch_sizes.split(",") if x]
    for name in args.models.split(","):
        report["models"][name] = bench_model(name, args.repeats, sizes)
    report["load_average_at_end"] = os.getloadavg()[0]
    if args.output:
        Path(args.output).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
