"""Speed benchmarks: training throughput, decoding speed, and peers, in one run.

    .venv/bin/python benchmarks/run.py [--model DIR] [--sentences 500] [--train-steps 20] [--quick]

Writes benchmarks/results.json and prints a table.  Parts:

* matmul peak: a large torch.matmul in fp32 and bf16 (GFLOP/s), the yardstick for MFU;
* training: the shipped config (configs/zh-en.yaml) on data/prepared, fp32 vs bf16 autocast: source+target
  and target tokens/s, padding fraction, model FLOPs utilisation;
* decoding: the first N sentences of newstest2017, greedy and beam 5, batch 1 and batched, cache on/off,
  sentences/s, target tokens/s and peak memory (each configuration in its own process);
* peers on the same weights and sentences: (a) the Annotated Transformer's decoding (greedy, batch 1,
  whole prefix recomputed each step); (b) CTranslate2 fp32 and int8, greedy and beam 5.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

from machine import cpu_name  # this script's folder is on sys.path (run as a script)

ROOT = Path(__file__).resolve().parent.parent
DEV_DIR = Path(os.environ.get("S2S_SHARED", ROOT.parent / "shared")) / "data" / "dev"
DEV = DEV_DIR / "newstest2017.zh"
SHORT = DEV_DIR / "tatoeba-dev.zh"  # short everyday sentences, for the JoeyNMT reference figure
JOEYNMT = {"train_tgt_tok_s": 280, "beam5_sent_s_short": 6.6}  # JoeyNMT 2.3, 6+6 x d256, this machine (issue #7)
OUT_DIR = ROOT / "benchmarks" / "out"


def matmul_peak(dtype_name: str, n: int = 2048, reps: int = 10) -> float:
    import torch

    dtype = getattr(torch, dtype_name)
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    torch.matmul(a, b)
    t0 = time.perf_counter()
    for _ in range(reps):
        torch.matmul(a, b)
    return 2 * n**3 * reps / (time.perf_counter() - t0) / 1e9


def train_flops(model, src_tokens: int, tgt_tokens: int, src_len: float, tgt_len: float) -> float:
    """Forward+backward FLOPs ~ 6 x (matmul parameters x tokens) + attention score/value products."""
    cfg = model.cfg
    d = cfg.d_model
    enc_layer = 4 * d * d + 2 * d * cfg.d_ff
    dec_layer = 8 * d * d + 2 * d * cfg.d_ff
    dense = 6 * (
        cfg.n_layers * enc_layer * src_tokens + (cfg.n_dec_layers * dec_layer + d * cfg.tgt_vocab_size) * tgt_tokens
    )
    attn = 6 * 2 * d * (cfg.n_layers * src_tokens * src_len + cfg.n_dec_layers * tgt_tokens * (tgt_len / 2 + src_len))
    return dense + attn


def bench_training(steps: int, precision: str, length_bucket: int = 1) -> dict:
    """Time `steps` optimizer steps of the shipped config (after 3 warm-up steps), with batches sorted by source
    length in buckets of ``length_bucket`` pieces (1: the shipped run's batches)."""
    import numpy as np
    import torch

    from seq2seq.data import TokenBatcher, clean_pairs_indexed, load_source, padding_fraction
    from seq2seq.model import EncoderDecoder
    from seq2seq.tokenizer import EOS_ID, SubwordTokenizer
    from seq2seq.training.config import load_config
    from seq2seq.training.data import collate
    from seq2seq.training.step import token_loss

    cfg = load_config(str(ROOT / "configs" / "zh-en.yaml"))
    tok_dir = ROOT / "seq2seq" / "pretrained" / "zh-en"  # the run warm-starts from these tokenizers
    if not (ROOT / "data" / "prepared" / "train").is_dir():
        return {"skipped": "needs data/prepared (.venv/bin/python scripts/prepare_data.py --from-dir ../shared/data)"}
    src_tok = SubwordTokenizer.from_file(tok_dir / "source.model", t2s=True)
    tgt_tok = SubwordTokenizer.from_file(tok_dir / "target.model")
    pairs = []
    for source in cfg.data.train:
        pairs += clean_pairs_indexed(load_source(source.spec), cfg.data.clean)[0]
    pairs = pairs[:: max(1, len(pairs) // 20000)]  # a 20k sample keeps this quick; lengths are representative
    src_ids = [s + [EOS_ID] for s in src_tok.encode([p[0] for p in pairs])]
    tgt_ids = tgt_tok.encode([p[1] for p in pairs])
    torch.manual_seed(0)
    model = EncoderDecoder(cfg.model_config(src_tok.vocab_size, tgt_tok.vocab_size))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    batcher = TokenBatcher(
        np.array([len(s) for s in src_ids]),
        np.array([len(t) + 1 for t in tgt_ids]),
        cfg.train.max_tokens,
        seed=1,
        length_bucket=length_bucket,
    )
    batches = batcher.epoch(0)[: steps + 3]
    autocast = torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")
    model.train()
    t0 = None
    for i, b in enumerate(batches):
        if i == 3:
            t0 = time.perf_counter()
        src, tin, tout = collate(b.indices, src_ids, tgt_ids, "cpu")
        with autocast:
            logits, _ = model(src, tin)
        (token_loss(logits, tout, cfg.train.label_smoothing) / b.tgt_tokens).backward()
        opt.step()
        opt.zero_grad()
    dt = time.perf_counter() - t0
    timed = batches[3:]
    s_tok, t_tok = sum(b.src_tokens for b in timed), sum(b.tgt_tokens for b in timed)
    s_len = s_tok / sum(len(b.indices) for b in timed)
    t_len = t_tok / sum(len(b.indices) for b in timed)
    return {
        "precision": precision,
        "length_bucket": length_bucket,
        "steps": len(timed),
        "src_tgt_tok_s": round((s_tok + t_tok) / dt),
        "tgt_tok_s": round(t_tok / dt),
        "padding": round(padding_fraction(timed), 4),
        "achieved_gflops": round(train_flops(model, s_tok, t_tok, s_len, t_len) / dt / 1e9, 1),
        "params_m": round(model.num_parameters() / 1e6, 2),
    }


def peak_rss_mb() -> int:
    """This process's peak resident memory (VmHWM; ru_maxrss would include the parent's pages at fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def decode_worker(args) -> dict:
    """One decoding configuration, in this (fresh) process, so that peak memory is its own."""
    import torch

    torch.set_num_threads(os.cpu_count() or 1)
    sents = Path(args.data).read_text(encoding="utf-8").splitlines()[: args.sentences]
    if args.backend == "ctranslate2":
        from seq2seq import Translator

        threads = {} if not args.ct2_intra else {"intra_threads": args.ct2_intra, "inter_threads": 1}
        tr = Translator.load(args.model, backend="ctranslate2", compute_type=args.compute_type, **threads)
    else:
        from seq2seq import Translator

        tr = Translator.load(args.model, backend="torch")
    kw = dict(beam_size=args.beam)
    if args.backend == "torch":
        kw.update(use_cache=not args.no_cache, return_attention=args.attention)
        if args.compute_type == "bfloat16":
            kw["dtype"] = torch.bfloat16
    tr.translate(sents[:2], **kw)  # warm-up
    t0 = time.perf_counter()
    outs = []
    if args.batch == 1:
        for s in sents:
            outs += tr.translate([s], **kw)
    else:
        outs = tr.translate(sents, max_tokens=args.batch, **kw)
    dt = time.perf_counter() - t0
    tgt_tokens = sum(len(t.target_tokens) for t in outs)
    return {
        "sentences": len(sents),
        "seconds": round(dt, 2),
        "sent_s": round(len(sents) / dt, 2),
        "tgt_tok_s": round(tgt_tokens / dt, 1),
        "peak_rss_mb": peak_rss_mb(),
        "outputs": [t.text for t in outs],
    }


def bench_app_latency(model: str, runs: int = 30) -> dict:
    """The web demo's work for one request: a 20-character sentence, beam 5, then the map and the word view."""
    import numpy as np
    import torch

    from seq2seq import Translator
    from seq2seq.app.chips import word_alignment_html
    from seq2seq.app.figures import alignment_figure
    from seq2seq.app.predict import predict

    torch.set_num_threads(os.cpu_count() or 1)
    tr = Translator.load(model)
    text = "他说我们明天早上八点在北京火车站见面吧。"  # 20 characters
    for _ in range(3):
        pred = predict(tr, text, beam_size=5)
        alignment_figure(pred).to_json()
    translate_ms, total_ms = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        pred = predict(tr, text, beam_size=5)
        t1 = time.perf_counter()
        alignment_figure(pred).to_json()  # what Gradio serialises and sends
        word_alignment_html(pred)
        t2 = time.perf_counter()
        translate_ms.append((t1 - t0) * 1e3)
        total_ms.append((t2 - t0) * 1e3)
    pct = lambda xs, q: round(float(np.percentile(xs, q)), 1)
    return {
        "sentence": text,
        "characters": len(text),
        "output": pred.translation,
        "runs": runs,
        "translate_p50_ms": pct(translate_ms, 50),
        "translate_p95_ms": pct(translate_ms, 95),
        "with_map_p50_ms": pct(total_ms, 50),
        "with_map_p95_ms": pct(total_ms, 95),
    }


def run_decode(model: str, sentences: int, _script: str = __file__, **cfg) -> dict:
    cmd = [sys.executable, _script, "--worker", "--model", model, "--sentences", str(sentences)]
    for k, v in cfg.items():
        if isinstance(v, bool):
            cmd += [f"--{k.replace('_', '-')}"] if v else []
        else:
            cmd += [f"--{k.replace('_', '-')}", str(v)]
    # The worker imports seq2seq from its own checkout (a --before worktree, or this one), not the installed one.
    env = {**os.environ, "PYTHONPATH": str(Path(_script).resolve().parent.parent)}
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="model folder (default: the shipped model)")
    p.add_argument("--sentences", type=int, default=500)
    p.add_argument(
        "--slow-sentences", type=int, default=100, help="sentences for the slow configurations (batch 1, no cache)"
    )
    p.add_argument("--train-steps", type=int, default=20)
    p.add_argument("--skip-train", action="store_true")
    p.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 100 sentences, 20 for the slow configurations, 5 training steps",
    )
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results.json"))
    # worker options
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--backend", default="torch")
    p.add_argument("--compute-type", default="default")
    p.add_argument("--beam", type=int, default=1)
    p.add_argument("--batch", type=int, default=1, help="1, or a batch size in source tokens")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--attention", action="store_true")
    p.add_argument("--data", default=str(DEV))
    p.add_argument(
        "--ct2-intra", type=int, default=0, help="CTranslate2 threads per batch (0: the CTranslate2 engine's default)"
    )
    p.add_argument(
        "--before",
        metavar="GIT_REF",
        help="also time our batch-1 and batched beam search with the code at GIT_REF (a git worktree), "
        "on the same model, in this run: before/after figures",
    )
    args = p.parse_args(argv)
    if args.quick:
        args.sentences, args.slow_sentences, args.train_steps = 100, 20, 5
    return args


def decode_configs(n: int, slow: int) -> list[tuple[str, dict, int]]:
    """(name, worker options, sentences) of every decoding configuration timed."""
    cores = os.cpu_count() or 1
    ct2 = dict(backend="ctranslate2")
    return [
        ("ours greedy batched", dict(beam=1, batch=6000), n),
        ("ours beam5 batched", dict(beam=5, batch=6000), n),
        ("ours beam5 batched +attention", dict(beam=5, batch=6000, attention=True), n),
        ("ours bf16 greedy batched", dict(beam=1, batch=6000, compute_type="bfloat16"), n),
        ("ours bf16 beam5 batched", dict(beam=5, batch=6000, compute_type="bfloat16"), n),
        ("ours greedy batch1", dict(beam=1, batch=1), slow),
        ("ours beam5 batch1", dict(beam=5, batch=1), slow),
        ("ours beam5 batched no-cache", dict(beam=5, batch=6000, no_cache=True), slow),
        ("annotated (greedy batch1 no-cache)", dict(beam=1, batch=1, no_cache=True), slow),
        ("ctranslate2 fp32 greedy batched", dict(**ct2, beam=1, batch=6000), n),
        ("ctranslate2 fp32 beam5 batched", dict(**ct2, beam=5, batch=6000), n),
        ("ctranslate2 int8 greedy batched", dict(**ct2, compute_type="int8", beam=1, batch=6000), n),
        ("ctranslate2 int8 beam5 batched", dict(**ct2, compute_type="int8", beam=5, batch=6000), n),
        ("ctranslate2 fp32 beam5 batch1", dict(**ct2, beam=5, batch=1), slow),
        # CTranslate2 with two OpenMP threads on one batch (see engines.py)
        ("ctranslate2 fp32 beam5 batch1, 2 threads per batch", dict(**ct2, beam=5, batch=1, ct2_intra=cores), slow),
        ("ctranslate2 fp32 beam5 batched, 2 threads per batch", dict(**ct2, beam=5, batch=6000, ct2_intra=cores), n),
        # short everyday sentences, for the JoeyNMT reference (beam 5 at about 6.6 sentences/s)
        ("ours beam5 batched, tatoeba-dev", dict(beam=5, batch=6000, data=str(SHORT)), n),
        ("ours beam5 batch1, tatoeba-dev", dict(beam=5, batch=1, data=str(SHORT)), n),
    ]


def with_before(configs: list, ref: str) -> list:
    """Our batch-1 and batched beam search also run by the code at git ``ref`` (a worktree), first."""
    before = OUT_DIR / "before"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(before)], capture_output=True)
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(before), ref], check=True, capture_output=True
    )
    script = str(before / "benchmarks" / "run.py")
    return [
        (f"before ({ref}) {name}", {"data": str(DEV), **cfg, "_script": script}, count)
        for name, cfg, count in configs
        if name in ("ours greedy batch1", "ours beam5 batch1", "ours beam5 batched")
    ] + configs


def training_results(steps: int, peaks: dict) -> list[dict]:
    out = []
    for prec, bucket in (("fp32", 1), ("bf16", 1), ("bf16", 4)):
        r = bench_training(steps, prec, bucket)
        if "achieved_gflops" in r:
            r["mfu"] = round(r["achieved_gflops"] / peaks["float32" if prec == "fp32" else "bfloat16"], 3)
        out.append(r)
        print(f"training {prec}, length_bucket {bucket}: {r}", flush=True)
    return out


def decoding_results(configs: list, model: str, ct2_dir: Path) -> dict:
    out = {}
    for name, cfg, count in configs:
        r = run_decode(str(ct2_dir) if cfg.get("backend") == "ctranslate2" else model, count, **cfg)
        outputs = r.pop("outputs")
        r["config"] = {k: v for k, v in cfg.items() if k != "_script"}
        r["_first_outputs"] = outputs[:3]
        out[name] = r
        print(
            f"{name:<38} {r['sent_s']:>8.2f} sent/s {r['tgt_tok_s']:>9.1f} tok/s  peak {r['peak_rss_mb']} MB "
            f"({r['sentences']} sentences)",
            flush=True,
        )
    return out


RATIOS = [  # (ours, peer): sentences/s of ours over the peer's
    ("ours beam5 batched", "ctranslate2 fp32 beam5 batched"),
    ("ours greedy batched", "ctranslate2 fp32 greedy batched"),
    ("ours greedy batch1", "annotated (greedy batch1 no-cache)"),
    ("ours greedy batched", "annotated (greedy batch1 no-cache)"),
    ("ours beam5 batched", "ctranslate2 int8 beam5 batched"),
    ("ours bf16 beam5 batched", "ctranslate2 fp32 beam5 batched"),
    ("ours beam5 batch1", "ctranslate2 fp32 beam5 batch1"),
    ("ours beam5 batch1", "ctranslate2 fp32 beam5 batch1, 2 threads per batch"),
]


def ratios(d: dict) -> dict:
    def ratio(a, b):
        return round(d[a]["sent_s"] / d[b]["sent_s"], 2)

    out = {f"{a} / {b.replace(' (greedy batch1 no-cache)', ' greedy batch1')}": ratio(a, b) for a, b in RATIOS}
    for name in d:
        if name.startswith("before ("):
            after = name.split(") ", 1)[1]
            out[f"{after}: after / {name}"] = ratio(after, name)
    return out


def joeynmt_ratios(d: dict, training: list) -> dict:
    out = {
        f"beam5 {kind} sent/s on tatoeba-dev / 6.6": round(
            d[f"ours beam5 {kind}, tatoeba-dev"]["sent_s"] / JOEYNMT["beam5_sent_s_short"], 1
        )
        for kind in ("batched", "batch1")
    }
    for r in training:
        if "tgt_tok_s" in r:
            bucketed = f", length buckets of {r['length_bucket']}" if r.get("length_bucket", 1) > 1 else ""
            out[f"training {r['precision']}{bucketed} tgt tok/s / 280"] = round(
                r["tgt_tok_s"] / JOEYNMT["train_tgt_tok_s"], 1
            )
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.worker:
        print(json.dumps(decode_worker(args)))
        return 0
    from seq2seq.translator import DEFAULT_MODEL_DIR

    model = args.model or str(DEFAULT_MODEL_DIR)
    if not DEV.exists():
        print(f"benchmarks: needs {DEV} (the shared dev data)", file=sys.stderr)
        return 2
    results = {
        "machine": {
            "cpu": cpu_name(),
            "python": platform.python_version(),
            "torch": __import__("torch").__version__,
        },
        "model": model,
        "matmul_gflops": {dt: round(matmul_peak(dt), 1) for dt in ("float32", "bfloat16")},
    }
    print(f"matmul peak: {results['matmul_gflops']} GFLOP/s", flush=True)
    if not args.skip_train:
        results["training"] = training_results(args.train_steps, results["matmul_gflops"])
    ct2_dir = OUT_DIR / "ctranslate2"
    if not (ct2_dir / "model.bin").exists():
        from seq2seq.export import export_ctranslate2

        export_ctranslate2(model, ct2_dir)
    configs = decode_configs(args.sentences, args.slow_sentences)
    if args.before:
        configs = with_before(configs, args.before)
    d = results["decoding"] = decoding_results(configs, model, ct2_dir)
    results["ratios"] = ratios(d)
    results["vs_joeynmt"] = joeynmt_ratios(d, results.get("training", []))
    results["app_latency"] = bench_app_latency(model)
    print(f"app latency: {results['app_latency']}")
    print("\nratios (sentences/s, ours : peer):")
    for k, v in {**results["ratios"], **results["vs_joeynmt"]}.items():
        print(f"  {k}: {v}")
    Path(args.out).write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
