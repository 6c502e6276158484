"""``seq2seq-train``: parallel text in, a model folder out.

    seq2seq-train --config configs/tiny.yaml --output-dir runs/tiny [--resume] [--max-time 2h] [key=value ...]

Any config option can be overridden with ``section.key=value`` (YAML syntax for the value), e.g.
``train.max_steps=500 model.d_model=128``.  Writes ``DIR/last`` (every save) and ``DIR/best`` (best
mean dev BLEU), both model folders that ``Translator.load`` opens; ``DIR/last`` also holds the
training state that ``--resume`` continues from, and ``DIR/checkpoints/`` the last few weights for
averaging (``seq2seq-average``).  Under ``torchrun --nproc_per_node N`` it trains with
DistributedDataParallel (NCCL on GPUs, gloo on CPU); only rank 0 writes files and prints.
"""

from __future__ import annotations

import argparse
import copy
import glob as globmod
import json
import math
import os
import random
import re
import signal
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import torch.nn.functional as F
import yaml

from .corpus_align import read_links, read_meta, tokenizer_fingerprint
from .data import CleanConfig, DataError, TokenBatcher, clean_pairs_indexed, expand_globs, format_report, \
    load_source, padding_fraction, source_name
from .model import EncoderDecoder, ModelConfig
from .model_dir import DECODING_DEFAULTS, FolderConfig, recover_dir, save_model_dir
from .tokenizer import BOS_ID, EOS_ID, PAD_ID, SubwordTokenizer, train_tokenizers
from .training.alignment import alignment_loss, link_targets, resolve_layer

DEFAULTS: dict = {
    "seed": 1,
    "data": {"train": [], "dev": [], "clean": {}},
    "tokenizer": {"train": True, "src_vocab_size": 8000, "tgt_vocab_size": 8000, "shared": False, "t2s": True,
                  "src_model": None, "tgt_model": None},
    "model": {},  # ModelConfig fields (vocabulary sizes come from the tokenizers)
    "train": {
        "max_tokens": 4096,  # padded tokens per side per batch, per process
        "accum_steps": 1,
        "lr": 1e-3,  # peak learning rate, reached at the end of warmup
        "warmup_steps": 4000,
        "adam_betas": [0.9, 0.98],
        "adam_eps": 1e-9,
        "weight_decay": 0.0,
        "label_smoothing": 0.1,
        "clip_norm": 1.0,
        "init_from": None,  # a model folder to start from (warm start; its tokenizers are used)
        "save_minutes": 10,  # also save DIR/last every this many minutes (0 = only at save_every)
        "max_steps": 0,  # 0 = no limit
        "max_epochs": 0,
        "max_time": None,  # e.g. "2h", "90m"
        "precision": "bf16",  # bf16 autocast or fp32
        "threads": 0,  # torch threads; 0 = all cores
        "log_every": 50,
        "eval_every": 1000,
        "save_every": 0,  # 0 = at every evaluation
        "patience": 0,  # stop after this many evaluations without a better dev BLEU; 0 = never
        "keep_checkpoints": 5,  # weights kept in DIR/checkpoints for averaging
        "pool_batches": 100,
        "tensorboard": False,
    },
    # Alignment loss (Garg et al. 2019): weight λ (0 = off), decoder layer (None = penultimate) and head.
    "alignment": {"weight": 0.0, "layer": None, "head": 0},
    "eval": {"beam_size": 1, "max_sentences": 0, "max_tokens": 6000, "length_penalty": 1.0},
    "decoding": dict(DECODING_DEFAULTS),
}


# ---------------------------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------------------------


def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def apply_override(cfg: dict, item: str) -> None:
    if "=" not in item:
        raise SystemExit(f"seq2seq-train: override {item!r} is not of the form section.key=value")
    key, value = item.split("=", 1)
    node = cfg
    parts = key.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = yaml.safe_load(value)


def load_config(path: Optional[str], overrides: list[str] = ()) -> dict:
    cfg = copy.deepcopy(DEFAULTS)
    if path:
        with open(path, encoding="utf-8") as f:
            cfg = deep_merge(cfg, yaml.safe_load(f) or {})
        base = Path(path).resolve().parent.parent  # paths in configs/*.yaml are relative to the project
        for split in ("train", "dev"):
            for spec in cfg["data"].get(split) or []:
                for key in ("src", "tgt", "tsv", "jsonl", "glob"):
                    if key in spec and not Path(spec[key]).is_absolute() and not globmod.glob(spec[key]):
                        if globmod.glob(str(base / spec[key])):
                            spec[key] = str(base / spec[key])
    for item in overrides:
        apply_override(cfg, item)
    for split in ("train", "dev"):
        cfg["data"][split] = expand_globs(cfg["data"].get(split) or [])
    return cfg


def parse_duration(text) -> Optional[float]:
    """'2h', '90m', '1h30m', '45s' or a number of seconds -> seconds."""
    if text in (None, "", 0):
        return None
    if isinstance(text, (int, float)):
        return float(text)
    parts = re.fullmatch(r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", str(text))
    if not parts or not any(parts.groups()):
        raise ValueError(f"cannot read duration {text!r} (examples: 2h, 90m, 1h30m, 3600)")
    h, m, s = (float(g) if g else 0.0 for g in parts.groups())
    return h * 3600 + m * 60 + s


# ---------------------------------------------------------------------------------------------
# Distributed set-up and logging
# ---------------------------------------------------------------------------------------------


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0

    def barrier(self):
        if self.world > 1:
            torch.distributed.barrier()


def setup_distributed() -> Dist:
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Dist(device=torch.device("cuda" if torch.cuda.is_available() else "cpu"))
    rank, world, local = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0))
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
        torch.distributed.init_process_group("nccl")
        return Dist(rank, world, torch.device("cuda", local))
    torch.distributed.init_process_group("gloo")
    return Dist(rank, world, torch.device("cpu"))


class Logger:
    """Rank 0 prints; everything also goes to DIR/train.log; optional TensorBoard."""

    def __init__(self, dist: Dist, out: Path, tensorboard: bool):
        self.on = dist.main
        self.file = open(out / "train.log", "a", encoding="utf-8") if self.on else None
        self.tb = None
        if self.on and tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(out / "tensorboard"))
        self.bar = None

    def __call__(self, msg: str) -> None:
        if not self.on:
            return
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        if self.bar is not None:
            self.bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)
        self.file.write(line + "\n")
        self.file.flush()

    def scalars(self, step: int, **values) -> None:
        if self.tb is not None:
            for k, v in values.items():
                self.tb.add_scalar(k, v, step)

    def close(self):
        if self.bar is not None:
            self.bar.close()
        if self.file:
            self.file.close()
        if self.tb:
            self.tb.close()


# ---------------------------------------------------------------------------------------------
# Data preparation
# ---------------------------------------------------------------------------------------------


@dataclass
class DevSet:
    name: str
    sources: list[str]  # raw Chinese
    references: list[str]  # raw English
    src_ids: list[list[int]]
    tgt_ids: list[list[int]]


def load_training_pairs(cfg: dict, log: Logger) -> tuple[list[tuple[str, str]], dict, list]:
    """Cleaned pairs, kept pairs per source, and per pair its alignment links (None where the source has none)."""
    clean = CleanConfig(**cfg["data"].get("clean", {}))
    specs = cfg["data"].get("train") or []
    if not specs:
        raise DataError("the config lists no training data (data.train)")
    pairs, counts, links = [], {}, []
    for spec in specs:
        raw = load_source(spec)
        kept, report, index = clean_pairs_indexed(raw, clean)
        log(format_report(source_name(spec), len(raw), report, len(kept)))
        counts[source_name(spec)] = len(kept)
        pairs.extend(kept)
        if spec.get("links"):
            if not Path(spec["links"]).is_file():
                raise DataError(f"links file not found: {spec['links']} (make it with scripts/align_corpus.py)")
            all_links = read_links(spec["links"])
            if len(all_links) != len(raw):
                raise DataError(f"{spec['links']} has {len(all_links)} lines but {source_name(spec)} has {len(raw)} "
                                "pairs: re-run scripts/align_corpus.py")
            links.extend(all_links[i] for i in index)
        else:
            links.extend([None] * len(kept))
    if clean.dedup:  # duplicates across sources
        seen: dict = {}
        for k, p in enumerate(pairs):
            seen.setdefault(p, k)
        keep = sorted(seen.values())
        if len(keep) != len(pairs):
            log(f"data: {len(pairs) - len(keep)} duplicates across sources removed")
            pairs, links = [pairs[k] for k in keep], [links[k] for k in keep]
    if not pairs:
        raise DataError("no training pairs are left after cleaning: check data.train and data.clean")
    n_links = sum(ls is not None for ls in links)
    log(f"data: {len(pairs)} training pairs in total" + (f", {n_links} with alignment links" if n_links else ""))
    return pairs, counts, links


def load_dev_sets(cfg: dict, src_tok: SubwordTokenizer, tgt_tok: SubwordTokenizer, limit: int) -> list[DevSet]:
    out = []
    for spec in cfg["data"].get("dev") or []:
        pairs = load_source(spec)
        if limit:
            pairs = pairs[:limit]
        pairs = [(s.strip(), t.strip()) for s, t in pairs if s.strip() and t.strip()]
        if not pairs:
            raise DataError(f"dev set {source_name(spec)} is empty")
        src = [s for s, _ in pairs]
        ref = [t for _, t in pairs]
        out.append(DevSet(source_name(spec), src, ref, [i + [EOS_ID] for i in src_tok.encode(src)], tgt_tok.encode(ref)))
    return out


def get_tokenizers(cfg: dict, out: Path, pairs, resume_dir: Optional[Path], dist: Dist, log: Logger):
    tc = cfg["tokenizer"]
    tok_dir = out / "tokenizers"
    init = cfg["train"].get("init_from")
    if resume_dir is not None:
        src_proto, tgt_proto = (resume_dir / "source.model").read_bytes(), (resume_dir / "target.model").read_bytes()
    elif init:
        src_proto, tgt_proto = (Path(init) / "source.model").read_bytes(), (Path(init) / "target.model").read_bytes()
        log(f"tokenizers: those of {init} (train.init_from)")
    elif tc.get("src_model") and tc.get("tgt_model"):
        src_proto, tgt_proto = Path(tc["src_model"]).read_bytes(), Path(tc["tgt_model"]).read_bytes()
        log(f"tokenizers: using {tc['src_model']} and {tc['tgt_model']}")
    elif not tc.get("train", True):
        raise DataError("tokenizer.train is false but tokenizer.src_model/tgt_model are not both given")
    else:
        if dist.main:
            t0 = time.time()
            src_proto, tgt_proto = train_tokenizers([s for s, _ in pairs], [t for _, t in pairs], tc["src_vocab_size"],
                                                    tc["tgt_vocab_size"], shared=tc.get("shared", False),
                                                    t2s=tc.get("t2s", True))
            tok_dir.mkdir(parents=True, exist_ok=True)
            (tok_dir / "source.model").write_bytes(src_proto)
            (tok_dir / "target.model").write_bytes(tgt_proto)
            log(f"tokenizers: trained in {time.time() - t0:.0f}s -> {tok_dir}")
        dist.barrier()
        src_proto, tgt_proto = (tok_dir / "source.model").read_bytes(), (tok_dir / "target.model").read_bytes()
    return SubwordTokenizer(src_proto, t2s=tc.get("t2s", True)), SubwordTokenizer(tgt_proto), src_proto, tgt_proto


def collate(idx, src_ids, tgt_ids, device, links=None):
    """Padded (src, decoder input = BOS + y, decoder target = y + EOS); with ``links``, also the gold
    alignment [B, T, S] of :func:`~seq2seq.training.alignment.link_targets`."""
    n = len(idx)
    s_len = max(len(src_ids[i]) for i in idx)
    t_len = max(len(tgt_ids[i]) for i in idx) + 1
    src = torch.full((n, s_len), PAD_ID, dtype=torch.long)
    tin = torch.full((n, t_len), PAD_ID, dtype=torch.long)
    tout = torch.full((n, t_len), PAD_ID, dtype=torch.long)
    for row, i in enumerate(idx):
        s, t = src_ids[i], tgt_ids[i]
        src[row, : len(s)] = torch.as_tensor(s)
        tin[row, 0] = BOS_ID
        tin[row, 1: len(t) + 1] = torch.as_tensor(t)
        tout[row, : len(t)] = torch.as_tensor(t)
        tout[row, len(t)] = EOS_ID
    if links is not None:
        gold = link_targets([links[i] for i in idx], t_len, s_len)
        return src.to(device), tin.to(device), tout.to(device), gold.to(device)
    return src.to(device), tin.to(device), tout.to(device)


# ---------------------------------------------------------------------------------------------
# Training state, saving, evaluation
# ---------------------------------------------------------------------------------------------


@dataclass
class TrainState:
    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0  # index of the next batch of the epoch's (deterministic) batch list
    best_bleu: float = -1.0
    bad_evals: int = 0
    elapsed: float = 0.0  # training seconds before this process started (for --max-time across resumes)
    target_tokens: int = 0


def rng_state() -> dict:
    return {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": np.random.get_state(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(s: dict) -> None:
    torch.set_rng_state(s["torch"])
    random.setstate(s["python"])
    np.random.set_state(s["numpy"])
    if s.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def lr_lambda(warmup: int):
    """Inverse-square-root ("Noam") schedule, as a factor of the peak lr: linear warmup, then 1/sqrt(step)."""
    warmup = max(1, warmup)
    return lambda step: min((step + 1) / warmup, math.sqrt(warmup / (step + 1)))


def greedy_scores(model, src_tok, tgt_tok, dev: DevSet, cfg: dict) -> dict:
    import sacrebleu

    from .translator import Translator

    ev = cfg["eval"]
    tr = Translator(model, src_tok, tgt_tok, FolderConfig(model=model.cfg), (b"", b""), device=next(model.parameters()).device)
    hyps = [t.text for t in tr.translate(dev.sources, beam_size=ev.get("beam_size", 1),
                                          length_penalty=ev.get("length_penalty", 1.0), return_attention=False,
                                          max_tokens=ev.get("max_tokens", 6000))]
    return {"bleu": sacrebleu.corpus_bleu(hyps, [dev.references]).score,
            "chrf": sacrebleu.corpus_chrf(hyps, [dev.references]).score, "example": hyps[0]}


def token_loss(logits: torch.Tensor, tout: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Summed cross-entropy over the non-padding target tokens (log-softmax in fp32, even under autocast)."""
    return F.cross_entropy(logits.float().view(-1, logits.size(-1)), tout.view(-1), ignore_index=PAD_ID,
                           label_smoothing=label_smoothing, reduction="sum")


@torch.no_grad()
def dev_loss(model, dev: DevSet, max_tokens: int, device) -> float:
    """Mean cross-entropy per target token on a dev set (no label smoothing: a plain NLL)."""
    total, count = 0.0, 0
    order = sorted(range(len(dev.src_ids)), key=lambda i: len(dev.src_ids[i]))
    batch: list[int] = []
    for i in order + [None]:
        if i is not None and (not batch or (len(batch) + 1) * max(len(dev.src_ids[i]), len(dev.tgt_ids[i]) + 1) <= max_tokens):
            batch.append(i)
            continue
        src, tin, tout = collate(batch, dev.src_ids, dev.tgt_ids, device)
        logits = model(src, tin)
        total += token_loss(logits, tout).item()
        count += int((tout != PAD_ID).sum())
        batch = [i] if i is not None else []
    return total / max(1, count)


# ---------------------------------------------------------------------------------------------
# The training run
# ---------------------------------------------------------------------------------------------


class StopRequested(Exception):
    pass


def train(cfg: dict, output_dir: str | Path, resume: bool = False) -> dict:
    """Run training as configured; returns a summary dict (steps, best BLEU, ...)."""
    dist = setup_distributed()
    tcfg = cfg["train"]
    torch.set_num_threads(tcfg["threads"] or max(1, (os.cpu_count() or 1) // dist.world))
    out = Path(output_dir)
    if dist.main:
        out.mkdir(parents=True, exist_ok=True)
    dist.barrier()
    log = Logger(dist, out, tcfg.get("tensorboard", False))
    last_dir = recover_dir(out / "last")
    resume_dir = last_dir if resume and (last_dir / "training_state.pt").exists() else None
    if resume and resume_dir is None:
        log(f"--resume: no {last_dir}/training_state.pt yet, starting from scratch")
    if resume_dir is not None:  # the run's own config wins over the one given, except for stopping/eval settings
        saved = json.loads((resume_dir / "config.json").read_text())["extra"]["train_config"]
        for key in ("max_steps", "max_epochs", "max_time", "patience", "eval_every", "save_every", "log_every"):
            saved["train"][key] = tcfg[key]
        cfg, tcfg = saved, saved["train"]
    log(f"config:\n{yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True)}")
    seed = int(cfg["seed"])
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)

    pairs, counts, links = load_training_pairs(cfg, log)
    src_tok, tgt_tok, src_proto, tgt_proto = get_tokenizers(cfg, out, pairs, resume_dir, dist, log)
    acfg = cfg["alignment"]
    align_weight = float(acfg.get("weight") or 0.0)
    if align_weight > 0:
        if all(ls is None for ls in links):
            raise DataError("alignment.weight > 0 but no training source has links (add links: to data.train)")
        for spec in cfg["data"]["train"]:
            meta = read_meta(Path(spec["links"]).parent) if spec.get("links") else None
            if meta and meta.get("tokenizers") != tokenizer_fingerprint(src_proto, tgt_proto):
                raise DataError(f"{spec['links']} was made with other tokenizers than this run's: "
                                "re-run scripts/align_corpus.py with this run's tokenizers")
    else:
        links = None
    mcfg = ModelConfig(src_vocab_size=src_tok.vocab_size, tgt_vocab_size=tgt_tok.vocab_size, pad_id=PAD_ID,
                       **cfg["model"])
    src_ids = [ids + [EOS_ID] for ids in src_tok.encode([s for s, _ in pairs])]
    tgt_ids = tgt_tok.encode([t for _, t in pairs])
    keep = [i for i in range(len(pairs)) if len(src_ids[i]) < mcfg.max_len and len(tgt_ids[i]) + 1 < mcfg.max_len]
    if len(keep) < len(pairs):
        log(f"data: {len(pairs) - len(keep)} pairs over model.max_len={mcfg.max_len} pieces removed")
        src_ids, tgt_ids = [src_ids[i] for i in keep], [tgt_ids[i] for i in keep]
        if links is not None:
            links = [links[i] for i in keep]
    del pairs
    dev_sets = load_dev_sets(cfg, src_tok, tgt_tok, cfg["eval"].get("max_sentences", 0))

    model = EncoderDecoder(mcfg).to(dist.device)
    log(f"model: {model.num_parameters() / 1e6:.2f}M parameters ({mcfg})")
    align_layer = resolve_layer(acfg.get("layer"), mcfg.n_dec_layers)
    align_head = int(acfg.get("head") or 0)
    if not 0 <= align_head < mcfg.n_heads:
        raise DataError(f"alignment.head={align_head} does not exist: the model has {mcfg.n_heads} heads")
    if cfg["train"].get("init_from") and resume_dir is None:
        from .model_dir import load_model_dir

        init_model = load_model_dir(cfg["train"]["init_from"])[0]
        shape = lambda c: {k: v for k, v in c.to_dict().items() if "dropout" not in k}  # dropout may differ
        if shape(init_model.cfg) != shape(mcfg):
            raise DataError(f"train.init_from: {cfg['train']['init_from']} has model {init_model.cfg}, "
                            f"but this config asks for {mcfg}")
        model.load_state_dict(init_model.state_dict())
        del init_model
        log(f"model: weights from {cfg['train']['init_from']} (train.init_from)")
    opt = torch.optim.Adam(model.parameters(), lr=tcfg["lr"], betas=tuple(tcfg["adam_betas"]), eps=tcfg["adam_eps"],
                           weight_decay=tcfg["weight_decay"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_lambda(tcfg["warmup_steps"]))
    state = TrainState()
    if resume_dir is not None:
        from safetensors.torch import load_file

        blob = torch.load(resume_dir / "training_state.pt", weights_only=False)
        model.load_state_dict(load_file(str(resume_dir / "model.safetensors")), strict=False)
        opt.load_state_dict(blob["optimizer"])
        sched.load_state_dict(blob["scheduler"])
        state = TrainState(**blob["state"])
        set_rng_state(blob["rng"][dist.rank] if isinstance(blob["rng"], list) else blob["rng"])
        log(f"resumed from {resume_dir} at step {state.step} (epoch {state.epoch}, batch {state.batch_in_epoch})")
    ddp = None
    if dist.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        ddp = DistributedDataParallel(model, device_ids=[dist.device.index] if dist.device.type == "cuda" else None)
    net = ddp or model

    batcher = TokenBatcher(np.array([len(s) for s in src_ids]), np.array([len(t) + 1 for t in tgt_ids]),
                           tcfg["max_tokens"], seed=seed, pool_batches=tcfg["pool_batches"])
    per_step = dist.world * tcfg["accum_steps"]
    first = batcher.epoch(state.epoch)
    log(f"batches: {len(first)} per epoch of at most {tcfg['max_tokens']} tokens per side; "
        f"{len(first) // per_step} steps per epoch; padding {padding_fraction(first):.1%}")
    use_bf16 = tcfg["precision"] == "bf16"
    autocast = (lambda: torch.autocast(dist.device.type, dtype=torch.bfloat16)) if use_bf16 else nullcontext
    max_time = parse_duration(tcfg.get("max_time"))
    max_steps, max_epochs = int(tcfg.get("max_steps") or 0), int(tcfg.get("max_epochs") or 0)
    eval_every = int(tcfg["eval_every"])
    save_every = int(tcfg.get("save_every") or eval_every)
    ls = float(tcfg["label_smoothing"])
    folder_cfg = FolderConfig(model=mcfg, t2s=cfg["tokenizer"].get("t2s", True), decoding=dict(cfg["decoding"]),
                              alignment=({"method": "head", "layer": align_layer, "head": align_head, "shift": True}
                                         if align_weight > 0 else {}),
                              extra={"train_config": cfg, "data_counts": counts})
    kept_ckpts: list[Path] = sorted((out / "checkpoints").glob("step-*.safetensors"),
                                    key=lambda p: int(p.stem.split("-")[1]))

    def save(which: str = "last", summary: Optional[dict] = None):
        if not dist.main:
            return
        folder_cfg.extra["state"] = asdict(state)
        if summary:
            folder_cfg.extra["dev"] = summary
        blob = {"optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "state": asdict(state),
                "rng": rng_states_all}
        extra = {"training_state.pt": lambda p: torch.save(blob, p)} if which == "last" else None
        save_model_dir(out / which, model, src_proto, tgt_proto, folder_cfg, card=model_card(cfg, mcfg, state, summary),
                       extra_files=extra)
        if which == "last" and tcfg.get("keep_checkpoints", 0):
            from safetensors.torch import save_file

            ckdir = out / "checkpoints"
            ckdir.mkdir(exist_ok=True)
            path = ckdir / f"step-{state.step}.safetensors"
            tmp = path.with_suffix(".tmp")
            sd = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if k != "generator.proj.weight"
                  or not mcfg.tie_output}
            sd.pop("tgt_embed.lut.weight", None) if mcfg.share_embeddings else None
            save_file(sd, str(tmp))
            os.replace(tmp, path)
            if path not in kept_ckpts:
                kept_ckpts.append(path)
            while len(kept_ckpts) > tcfg["keep_checkpoints"]:
                kept_ckpts.pop(0).unlink(missing_ok=True)

    def gather_rng():
        if dist.world == 1:
            return rng_state()
        states = [None] * dist.world
        torch.distributed.all_gather_object(states, rng_state())
        return states

    def evaluate() -> Optional[dict]:
        results = {}
        if dist.main and dev_sets:
            model.eval()
            t0 = time.time()
            for dev in dev_sets:
                sc = greedy_scores(model, src_tok, tgt_tok, dev, cfg)
                sc["loss"] = dev_loss(model, dev, cfg["eval"].get("max_tokens", 6000), dist.device)
                results[dev.name] = sc
                log(f"eval step {state.step} ({(elapsed0 + time.time() - start) / 60:.1f} min) {dev.name}: "
                    f"loss {sc['loss']:.3f} BLEU {sc['bleu']:.2f} "
                    f"chrF {sc['chrf']:.2f} | {sc['example']}")
                log.scalars(state.step, **{f"dev/{dev.name}/bleu": sc["bleu"], f"dev/{dev.name}/loss": sc["loss"],
                                           f"dev/{dev.name}/chrf": sc["chrf"]})
            log(f"eval took {time.time() - t0:.0f}s")
            model.train()
        dist.barrier()
        return results or None

    stop_flag = {"signal": None}

    def on_signal(signum, frame):
        stop_flag["signal"] = signum

    old_handlers = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    start = time.time()
    elapsed0 = state.elapsed
    save_seconds = float(tcfg.get("save_minutes") or 0) * 60
    last_save = start
    window = {"t": time.time(), "tgt": 0, "src": 0, "pad": 0, "all": 0, "loss": 0.0, "align": 0.0, "n": 0}
    bar = None
    if dist.main and sys.stderr.isatty():
        from tqdm.auto import tqdm

        bar = tqdm(total=max_steps or None, initial=state.step, unit="step", dynamic_ncols=True)
        log.bar = bar
    rng_states_all = None
    summary = None
    history: list[tuple[int, float]] = []  # (step, training loss per target token) at every log line
    reason = "finished"
    model.train()
    try:
        while True:
            if max_steps and state.step >= max_steps:
                reason = f"max_steps={max_steps}"
                break
            if max_epochs and state.epoch >= max_epochs:
                reason = f"max_epochs={max_epochs}"
                break
            if max_time and elapsed0 + time.time() - start >= max_time:
                reason = f"max_time={tcfg['max_time']}"
                break
            if stop_flag["signal"] is not None:
                raise StopRequested
            batches = batcher.epoch(state.epoch)
            if state.batch_in_epoch + per_step > len(batches):
                state.epoch += 1
                state.batch_in_epoch = 0
                if len(batches) < per_step:
                    raise DataError(f"an epoch has {len(batches)} batches, fewer than one step needs ({per_step})")
                continue
            group = batches[state.batch_in_epoch: state.batch_in_epoch + per_step]
            mine = group[dist.rank * tcfg["accum_steps"]: (dist.rank + 1) * tcfg["accum_steps"]]
            global_tgt = sum(b.tgt_tokens for b in group)
            step_loss = step_align = 0.0
            for j, b in enumerate(mine):
                batch = collate(b.indices, src_ids, tgt_ids, dist.device, links)
                src, tin, tout = batch[:3]
                sync = nullcontext() if ddp is None or j == len(mine) - 1 else ddp.no_sync()
                with sync:
                    with autocast():
                        if links is not None:
                            logits, weights = net(src, tin, return_attention=True)
                        else:
                            logits = net(src, tin)
                    loss = token_loss(logits, tout, ls)
                    total = loss
                    if links is not None:
                        a_loss = alignment_loss(weights[align_layer][:, align_head], batch[3])
                        total = loss + align_weight * a_loss
                        step_align += a_loss.item()
                    # DDP averages gradients over ranks: scale so the step's gradient is the mean over all
                    # target tokens of the global batch, as in one process with the same batches.
                    (total * dist.world / global_tgt).backward()
                step_loss += loss.item()
            if tcfg["clip_norm"]:
                torch.nn.utils.clip_grad_norm_(model.parameters(), tcfg["clip_norm"])
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            state.step += 1
            state.batch_in_epoch += per_step
            state.target_tokens += global_tgt
            window["tgt"] += global_tgt
            window["src"] += sum(b.src_tokens for b in group)
            window["pad"] += sum(b.padded_tokens for b in group)
            window["all"] += sum(b.src_tokens + b.tgt_tokens for b in group)
            window["loss"] += step_loss  # this rank's share; logged as a per-token estimate below
            window["align"] += step_align
            window["n"] += sum(b.tgt_tokens for b in mine)
            if bar is not None:
                bar.update(1)
            if state.step % tcfg["log_every"] == 0:
                dt = time.time() - window["t"]
                loss_tok = window["loss"] / max(1, window["n"])
                lr = sched.get_last_lr()[0]
                tps = window["tgt"] / dt
                pad = 1 - window["all"] / max(1, window["pad"])
                history.append((state.step, loss_tok))
                if bar is not None:
                    extra = {}
                    if max_time and not max_steps:  # tqdm has no total to give an ETA from: show the time budget left
                        left = max(0.0, max_time - (elapsed0 + time.time() - start))
                        extra["time_left"] = f"{int(left // 3600)}h{int(left % 3600 // 60):02d}m"
                    bar.set_postfix(loss=f"{loss_tok:.3f}", lr=f"{lr:.2e}", tgt_tok_s=f"{tps:.0f}", ep=state.epoch,
                                    **extra)
                else:
                    log(f"step {state.step} epoch {state.epoch} loss {loss_tok:.3f} "
                        + (f"align {window['align'] / max(1, window['n']):.3f} " if links is not None else "")
                        + f"lr {lr:.2e} tgt tok/s {tps:.0f} src+tgt tok/s {(window['tgt'] + window['src']) / dt:.0f} "
                        f"pad {pad:.1%}")
                log.scalars(state.step, **{"train/loss": loss_tok, "train/lr": lr, "train/tgt_tok_s": tps, "train/pad": pad})
                if bar is not None and (state.step // tcfg["log_every"]) % 20 == 0:
                    log.file.write(f"step {state.step} epoch {state.epoch} loss {loss_tok:.3f} lr {lr:.2e} "
                                   f"tgt tok/s {tps:.0f} pad {pad:.1%}\n")
                window.update(t=time.time(), tgt=0, src=0, pad=0, all=0, loss=0.0, align=0.0, n=0)
            timed_save = save_seconds and time.time() - last_save >= save_seconds
            if state.step % eval_every == 0 or state.step % save_every == 0 or timed_save:
                last_save = time.time()
                state.elapsed = elapsed0 + time.time() - start
                rng_states_all = gather_rng()
                if state.step % eval_every == 0:
                    summary = evaluate()
                    if summary:
                        mean_bleu = sum(s["bleu"] for s in summary.values()) / len(summary)
                        if mean_bleu > state.best_bleu:
                            state.best_bleu, state.bad_evals = mean_bleu, 0
                            save("best", summary)
                            log(f"new best mean dev BLEU {mean_bleu:.2f} -> {out / 'best'}")
                        else:
                            state.bad_evals += 1
                save("last", summary)
                dist.barrier()
                window["t"] = time.time()
                if tcfg.get("patience") and state.bad_evals >= tcfg["patience"]:
                    reason = f"early stopping: no better dev BLEU in {state.bad_evals} evaluations"
                    break
    except (KeyboardInterrupt, StopRequested):
        reason = "interrupted"
    finally:
        for s, h in old_handlers.items():
            signal.signal(s, h)
    state.elapsed = elapsed0 + time.time() - start
    rng_states_all = gather_rng()
    save("last", summary)
    if dist.main and not (out / "best").exists():
        save("best", summary)
    log(f"stopped ({reason}) at step {state.step}, epoch {state.epoch}; {state.elapsed / 60:.1f} min; "
        f"last -> {out / 'last'}")
    log.close()
    result = {"step": state.step, "epoch": state.epoch, "best_bleu": state.best_bleu, "reason": reason,
              "elapsed": state.elapsed, "dev": summary, "losses": history}
    if dist.world > 1:
        torch.distributed.destroy_process_group()
    if reason == "interrupted":
        raise KeyboardInterrupt
    return result


def model_card(cfg: dict, mcfg: ModelConfig, state: TrainState, summary: Optional[dict]) -> str:
    lines = ["# seq2seq model (written by seq2seq-train)", "",
             f"- architecture: {mcfg.n_layers}+{mcfg.n_dec_layers} layers, d_model {mcfg.d_model}, "
             f"{mcfg.n_heads} heads, d_ff {mcfg.d_ff}, vocab {mcfg.src_vocab_size}/{mcfg.tgt_vocab_size}",
             f"- training: {state.step} steps, epoch {state.epoch}, {state.elapsed / 60:.1f} minutes",
             "- data: " + ", ".join(source_name(s) for s in cfg["data"].get("train") or [])]
    for name, s in (summary or {}).items():
        lines.append(f"- dev {name}: BLEU {s['bleu']:.2f}, chrF {s['chrf']:.2f} (greedy)")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="seq2seq-train", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Example: seq2seq-train --config configs/tiny.yaml --output-dir runs/tiny "
                                       "train.max_steps=200")
    p.add_argument("--config", required=True, help="YAML config (see configs/)")
    p.add_argument("--output-dir", required=True, help="where last/, best/, checkpoints/ and train.log go")
    p.add_argument("--resume", action="store_true", help="continue from OUTPUT_DIR/last")
    p.add_argument("--max-time", help="wall-clock budget, e.g. 2h, 90m (same as train.max_time=...)")
    p.add_argument("--max-steps", type=int, help="same as train.max_steps=...")
    p.add_argument("overrides", nargs="*", metavar="section.key=value", help="config overrides")
    args = p.parse_args(argv)
    try:
        cfg = load_config(args.config, args.overrides)
    except (OSError, yaml.YAMLError) as e:
        print(f"seq2seq-train: cannot read config: {e}", file=sys.stderr)
        return 2
    if args.max_time:
        cfg["train"]["max_time"] = args.max_time
    if args.max_steps is not None:
        cfg["train"]["max_steps"] = args.max_steps
    try:
        parse_duration(cfg["train"].get("max_time"))
    except ValueError as e:
        print(f"seq2seq-train: {e}", file=sys.stderr)
        return 2
    try:
        train(cfg, args.output_dir, resume=args.resume)
    except DataError as e:
        print(f"seq2seq-train: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"seq2seq-train: interrupted; state saved in {args.output_dir}/last (continue with --resume)",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
