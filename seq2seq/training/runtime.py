"""Process set-up and logging for training: one process, or several under ``torchrun``."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch


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


class MissingExtra(RuntimeError):
    """An optional feature whose package is not installed; the message names the extra to install."""


class Logger:
    """Rank 0 prints; everything also goes to DIR/train.log; optional TensorBoard."""

    def __init__(self, dist: Dist, out: Path, tensorboard: bool):
        self.on = dist.main
        self.file = open(out / "train.log", "a", encoding="utf-8") if self.on else None
        self.tb = None
        if self.on and tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise MissingExtra(
                    "train.tensorboard=true needs TensorBoard: pip install 'seq2seq-zhen[tensorboard]'"
                ) from None
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

    def to_file(self, msg: str) -> None:
        """A line for DIR/train.log only (the terminal shows the same in its progress bar)."""
        if self.on:
            self.file.write(f"[{time.strftime('%H:%M:%S')}] {msg}\n")
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
