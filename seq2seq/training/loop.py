"""The training run: set-up, the loop over steps, evaluation and saving, stopping and resuming."""

from __future__ import annotations

import math
import os
import random
import shutil
import signal
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import torch
import yaml

from ..data import DataError, TokenBatcher, padding_fraction
from ..model import EncoderDecoder
from ..model_dir import recover_dir
from .checkpoints import (
    STATE_FILE,
    Checkpointer,
    TrainState,
    carried_files,
    gather_rng,
    restore,
    run_folder_config,
    warm_start,
)
from .data import RunData, load_run_data
from .evaluation import dev_loss, dev_scores
from .limits import limits_setup
from .run_folder import RUN_FILES, prepare_output, resumed_config, saved_config
from .runtime import Dist, Logger, setup_distributed
from .settings import TrainConfig
from .step import faults_backward, forward_backward

PROGRESS_SECONDS = 60  # off a terminal, a progress line at least this often


class StopRequested(Exception):
    pass


def lr_lambda(warmup: int, max_steps: int = 0, cooldown: int = 0):
    """Inverse-square-root ("Noam") schedule, as a factor of the peak lr: linear warmup, then 1/sqrt(step).
    ``cooldown`` > 0: the last ``cooldown`` steps before ``max_steps`` also scale it linearly down to 0, as
    warmup-stable-decay schedules end (Hägele et al. 2024); a resumed run may add it (``train.cooldown_steps``,
    which :meth:`~.settings.TrainConfig.validate` keeps within ``max_steps``)."""
    warmup = max(1, warmup)

    def factor(step: int) -> float:
        f = min((step + 1) / warmup, math.sqrt(warmup / (step + 1)))
        return f * min(1.0, max(0.0, (max_steps - step) / cooldown)) if cooldown else f

    return factor


def train(
    cfg: TrainConfig, output_dir: str | Path, resume: bool = False, overwrite: bool = False, command_line=None
) -> dict:
    """Run training as configured; returns a summary dict (steps, best BLEU, ...).  ``command_line``: the
    ``section.key`` names the command line set, for ``resume`` (:func:`~.run_folder.resumed_config`).

    ``--max-time`` counts the whole run from this call: data loading and tokenizer training included.
    A run that fails (or is interrupted) before its first save removes what it wrote besides its log
    (``tokenizers/``), so the folder takes a new run without ``--overwrite``."""
    out = Path(output_dir)
    before = {name for name in RUN_FILES if (out / name).exists()}
    opened: dict = {}  # what _train opened (the lock, the log), and whether this process writes the files
    try:
        return _train(cfg, out, resume, overwrite, opened, command_line)
    except BaseException:
        if opened.get("main") and not (out / "last").exists():
            for name in RUN_FILES:
                path = out / name
                if name not in before and path.exists():
                    shutil.rmtree(path) if path.is_dir() else path.unlink()
        for name in ("log", "lock"):
            if opened.get(name) is not None:
                opened[name].close()
        raise


def _train(cfg: TrainConfig, out: Path, resume: bool, overwrite: bool, opened: dict, command_line) -> dict:
    start = time.time()
    dist = setup_distributed()
    torch.set_num_threads(cfg.train.threads or max(1, (os.cpu_count() or 1) // dist.world))
    lock = prepare_output(out, resume, overwrite, dist)
    opened.update(main=dist.main, lock=lock)
    dist.barrier()
    log = Logger(dist, out, cfg.train.tensorboard)
    opened["log"] = log
    last_dir = recover_dir(out / "last")
    resume_dir = last_dir if resume and (last_dir / STATE_FILE).exists() else None
    if resume and resume_dir is None:
        log(f"--resume: no {last_dir}/{STATE_FILE} yet, starting from scratch")
    if resume_dir is not None:  # the run's own config wins over the one given, except for stopping/eval settings
        cfg = resumed_config(saved_config(resume_dir), cfg, log, command_line)
    else:
        cfg.validate()
    log(f"config:\n{yaml.safe_dump(cfg.to_dict(), sort_keys=False, allow_unicode=True)}")
    random.seed(cfg.seed)
    np.random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    data = load_run_data(cfg, out, resume_dir, dist, log)
    trainer = Trainer(cfg, out, dist=dist, log=log, data=data, resume_dir=resume_dir, start=start)
    reason = trainer.run()
    log.close()
    if lock is not None:
        lock.close()
    state = trainer.state
    result = {
        "step": state.step,
        "epoch": state.epoch,
        "best_bleu": state.best_bleu,
        "reason": reason,
        "elapsed": state.elapsed,
        "dev": trainer.summary,
        "losses": trainer.history,
    }
    if dist.world > 1:
        torch.distributed.destroy_process_group()
    if reason == "interrupted":
        raise KeyboardInterrupt
    return result


@dataclass
class Throughput:
    """Tokens, padding and loss since the last progress line."""

    t: float = field(default_factory=time.time)
    tgt: int = 0
    src: int = 0
    padded: int = 0
    real: int = 0
    loss: float = 0.0  # this rank's share; logged as a per-token estimate
    align: float = 0.0
    limits: float = 0.0
    own_tgt: int = 0  # this rank's target tokens

    def add(self, group: list, mine: list, losses) -> None:
        self.tgt += sum(b.tgt_tokens for b in group)
        self.src += sum(b.src_tokens for b in group)
        self.padded += sum(b.padded_tokens for b in group)
        self.real += sum(b.src_tokens + b.tgt_tokens for b in group)
        self.loss += losses.translation
        self.align += losses.alignment
        self.limits += losses.limits
        self.own_tgt += sum(b.tgt_tokens for b in mine)


class Trainer:
    """One run's model, optimizer and state, and the loop: step, log, evaluate, save, stop."""

    def __init__(
        self,
        cfg: TrainConfig,
        out: Path,
        *,
        dist: Dist,
        log: Logger,
        data: RunData,
        resume_dir: Optional[Path],
        start: float,
    ):
        self.cfg, self.out, self.dist, self.log, self.data, self.start = cfg, out, dist, log, data, start
        t = cfg.train
        self.model = self._build_model(resume_dir)
        self.align = cfg.alignment.trained_head(data.model_cfg.n_dec_layers)  # None: no alignment loss
        self.limits, self.faults = limits_setup(cfg, data.src_tok, data.tgt_tok, dist.rank, log)
        self.opt = torch.optim.Adam(
            self.model.parameters(), lr=t.lr, betas=t.adam_betas, eps=t.adam_eps, weight_decay=t.weight_decay
        )
        self.max_time = t.max_seconds
        self.save_every = t.save_every or t.eval_every
        self.sched = torch.optim.lr_scheduler.LambdaLR(
            self.opt, lr_lambda(t.warmup_steps, t.max_steps, t.cooldown_steps)
        )
        self.state = TrainState()
        if resume_dir is not None:
            self.state = restore(resume_dir, self.model, self.opt, self.sched, dist.rank)
            s = self.state
            log(f"resumed from {resume_dir} at step {s.step} (epoch {s.epoch}, batch {s.batch_in_epoch})")
            if self.faults is not None:
                self.faults.skip(s.step)
        self.elapsed0 = self.state.elapsed
        self.ddp = None
        if dist.world > 1:
            from torch.nn.parallel import DistributedDataParallel

            ids = [dist.device.index] if dist.device.type == "cuda" else None
            self.ddp = DistributedDataParallel(self.model, device_ids=ids)
        self.batcher = TokenBatcher(
            np.array([len(s) for s in data.src_ids]),
            np.array([len(y) + 1 for y in data.tgt_ids]),
            t.max_tokens,
            seed=cfg.seed,
            pool_batches=t.pool_batches,
            length_bucket=t.length_bucket,
        )
        self.per_step = dist.world * t.accum_steps
        first = self.batcher.epoch(self.state.epoch)
        log(
            f"batches: {len(first)} per epoch of at most {t.max_tokens} tokens per side; "
            f"{len(first) // self.per_step} steps per epoch; padding {padding_fraction(first):.1%}"
        )
        bf16 = t.precision == "bf16"
        self.autocast = (lambda: torch.autocast(dist.device.type, dtype=torch.bfloat16)) if bf16 else nullcontext
        self.ckpt = Checkpointer(
            out,
            model=self.model,
            opt=self.opt,
            sched=self.sched,
            protos=data.protos,
            folder_cfg=run_folder_config(cfg, data.model_cfg, data.counts),
            cfg=cfg,
            keep=t.keep_checkpoints,
            carried=carried_files(t.init_from, resume_dir),
        )
        self.summary: Optional[dict] = None
        self.history: list[tuple[int, float]] = []  # (step, training loss per target token) at every log line
        self.window = Throughput()
        self.bar = None

    def _build_model(self, resume_dir: Optional[Path]) -> EncoderDecoder:
        mcfg = self.data.model_cfg
        model = EncoderDecoder(mcfg).to(self.dist.device)
        self.log(f"model: {model.num_parameters() / 1e6:.2f}M parameters ({mcfg})")
        if self.cfg.train.init_from and resume_dir is None:
            warm_start(model, self.cfg.train.init_from, self.log, self.cfg.direction)
        return model

    def run_time(self) -> float:
        return self.elapsed0 + time.time() - self.start

    def save(self, which: str, rng) -> None:
        if self.dist.main:
            self.ckpt.save(which, self.state, rng, self.summary)

    # ---- evaluation
    def evaluate(self) -> Optional[dict]:
        """Greedy BLEU/chrF and loss on each dev set (the main process; the others wait)."""
        state, log = self.state, self.log
        state.eval_step = state.step
        results = {}
        if self.dist.main and self.data.dev_sets:
            self.model.eval()
            t0 = time.time()
            for dev in self.data.dev_sets:
                sc = dev_scores(self.model, self.data.src_tok, self.data.tgt_tok, dev, self.cfg)
                sc["loss"] = dev_loss(self.model, dev, self.cfg.eval.max_tokens, self.dist.device)
                results[dev.name] = sc
                log(
                    f"eval step {state.step} ({self.run_time() / 60:.1f} min) {dev.name}: loss {sc['loss']:.3f} "
                    f"BLEU {sc['bleu']:.2f} chrF {sc['chrf']:.2f} | {sc['example']}"
                )
                log.scalars(state.step, **{f"dev/{dev.name}/{k}": sc[k] for k in ("bleu", "loss", "chrf")})
            log(f"eval took {time.time() - t0:.0f}s")
            self.model.train()
        self.dist.barrier()
        return results or None

    def evaluate_and_keep_best(self, rng) -> None:
        """Evaluate; weights with a better mean dev BLEU than any before go to DIR/best (only evaluated
        weights ever do)."""
        result, state = self.evaluate(), self.state
        if result:
            self.summary = result
            mean_bleu = sum(s["bleu"] for s in result.values()) / len(result)
            if mean_bleu > state.best_bleu:
                state.best_bleu, state.bad_evals = mean_bleu, 0
                self.save("best", rng)
                self.log(f"new best mean dev BLEU {mean_bleu:.2f} -> {self.out / 'best'}")
            else:
                state.bad_evals += 1

    # ---- the loop
    def stop_reason(self) -> Optional[str]:
        state, t = self.state, self.cfg.train
        if t.max_steps and state.step >= t.max_steps:
            return f"max_steps={t.max_steps}"
        if t.max_epochs and state.epoch >= t.max_epochs:
            return f"max_epochs={t.max_epochs}"
        if self.max_time and self.run_time() >= self.max_time:
            return f"max_time={t.max_time}"
        return None

    def next_group(self) -> Optional[list]:
        """The batches of the next step (every rank's), or None at the end of an epoch (the next one starts)."""
        state = self.state
        batches = self.batcher.epoch(state.epoch)
        if state.batch_in_epoch + self.per_step > len(batches):
            state.epoch += 1
            state.batch_in_epoch = 0
            if len(batches) < self.per_step:
                raise DataError(f"an epoch has {len(batches)} batches, fewer than one step needs ({self.per_step})")
            return None
        return batches[state.batch_in_epoch : state.batch_in_epoch + self.per_step]

    def step(self, group: list) -> None:
        """One optimizer step on ``group`` (this rank's share of it, in ``accum_steps`` micro-batches)."""
        t, dist, data, state = self.cfg.train, self.dist, self.data, self.state
        mine = group[dist.rank * t.accum_steps : (dist.rank + 1) * t.accum_steps]
        global_tgt = sum(b.tgt_tokens for b in group)
        fault_loss = 0.0
        if self.faults is not None:  # first: its local gradient is then averaged with the step's (DDP)
            fb = dict(device=dist.device, autocast=self.autocast, global_tgt=global_tgt, world=dist.world)
            fault_loss = faults_backward(self.model, self.faults.take(), self.faults, limits=self.limits, **fb)
        losses = forward_backward(
            self.ddp or self.model,
            mine,
            ddp=self.ddp,
            src_ids=data.src_ids,
            tgt_ids=data.tgt_ids,
            links=data.links,
            device=dist.device,
            autocast=self.autocast,
            label_smoothing=t.label_smoothing,
            global_tgt=global_tgt,
            world=dist.world,
            align=self.align,
            align_weight=self.cfg.alignment.weight,
            limits=self.limits,
        )
        losses.limits += fault_loss
        if t.clip_norm:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), t.clip_norm)
        self.opt.step()
        self.sched.step()
        self.opt.zero_grad(set_to_none=True)
        state.step += 1
        state.batch_in_epoch += self.per_step
        state.target_tokens += global_tgt
        self.window.add(group, mine, losses)
        if self.bar is not None:
            self.bar.update(1)

    def after_step(self, last_save: float) -> tuple[float, Optional[str]]:
        """Log, evaluate and save when due; returns (time of the last save, a reason to stop early or None)."""
        t, state = self.cfg.train, self.state
        steady = self.bar is None and time.time() - self.window.t >= PROGRESS_SECONDS
        if state.step % t.log_every == 0 or steady:
            self.log_progress()
        eval_every, save_every = t.eval_every, self.save_every
        timed_save = t.save_minutes and time.time() - last_save >= t.save_minutes * 60
        if state.step % eval_every == 0 or state.step % save_every == 0 or timed_save:
            last_save = time.time()
            state.elapsed = self.run_time()
            rng = gather_rng(self.dist)
            if state.step % eval_every == 0:
                self.evaluate_and_keep_best(rng)
            self.save("last", rng)
            self.dist.barrier()
            self.window.t = time.time()
            if t.patience and state.bad_evals >= t.patience:
                return last_save, f"early stopping: no better dev BLEU in {state.bad_evals} evaluations"
        return last_save, None

    def run(self) -> str:
        """Train until a budget, early stopping or a signal stops the run; evaluate the weights it ends with
        and save them.  Returns why it stopped ("interrupted" after Ctrl-C or SIGTERM)."""
        stop: dict = {"signal": None}
        old_handlers = {
            s: signal.signal(s, lambda signum, frame: stop.update(signal=signum))
            for s in (signal.SIGINT, signal.SIGTERM)
        }
        if self.dist.main and sys.stderr.isatty():
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=self.cfg.train.max_steps or None, initial=self.state.step, unit="step", dynamic_ncols=True
            )
            self.log.bar = self.bar
        reason, last_save = None, time.time()
        self.model.train()
        try:
            while reason is None:
                reason = self.stop_reason()
                if reason is not None:
                    break
                if stop["signal"] is not None:
                    raise StopRequested
                group = self.next_group()
                if group is not None:
                    self.step(group)
                    last_save, reason = self.after_step(last_save)
        except (KeyboardInterrupt, StopRequested):
            reason = "interrupted"
        finally:
            for s, h in old_handlers.items():
                signal.signal(s, h)
        self.finish(reason)
        return reason

    def finish(self, reason: str) -> None:
        state = self.state
        if reason != "interrupted" and self.data.dev_sets and state.step > 0 and state.eval_step != state.step:
            self.log(f"final evaluation at step {state.step} (the last was at step {max(0, state.eval_step)})")
            self.evaluate_and_keep_best(gather_rng(self.dist))  # the weights the run ends with, evaluated too
        state.elapsed = self.run_time()
        self.save("last", gather_rng(self.dist))
        self.log(
            f"stopped ({reason}) at step {state.step}, epoch {state.epoch}; {state.elapsed / 60:.1f} min; "
            f"last -> {self.out / 'last'}"
        )

    def log_progress(self) -> None:
        """A progress line (the bar's postfix on a terminal; train.log gets every line) and its scalars."""
        w, state, log, bar = self.window, self.state, self.log, self.bar
        dt = max(1e-9, time.time() - w.t)
        loss_tok = w.loss / max(1, w.own_tgt)
        lr = self.sched.get_last_lr()[0]
        tps = w.tgt / dt
        pad = 1 - w.real / max(1, w.padded)
        self.history.append((state.step, loss_tok))
        losses = f"align {w.align / max(1, w.own_tgt):.3f} " if self.data.links is not None else ""
        losses += f"limits {w.limits / max(1, w.own_tgt):.4f} " if self.limits is not None else ""
        line = (
            f"step {state.step} epoch {state.epoch} loss {loss_tok:.3f} {losses}lr {lr:.2e} tgt tok/s {tps:.0f} "
            f"src+tgt tok/s {(w.tgt + w.src) / dt:.0f} pad {pad:.1%}"
        )
        if bar is not None:
            extra = {}
            if (
                self.max_time and not self.cfg.train.max_steps
            ):  # tqdm has no total to give an ETA from: the time budget left
                left = max(0.0, self.max_time - self.run_time())
                extra["time_left"] = f"{int(left // 3600)}h{int(left % 3600 // 60):02d}m"
            bar.set_postfix(loss=f"{loss_tok:.3f}", lr=f"{lr:.2e}", tgt_tok_s=f"{tps:.0f}", ep=state.epoch, **extra)
            log.to_file(line)
        else:
            log(line)
        log.scalars(state.step, **{"train/loss": loss_tok, "train/lr": lr, "train/tgt_tok_s": tps, "train/pad": pad})
        self.window = Throughput()
