"""A run's folder: what makes it hold a run, the lock that keeps one process in it, and the config a
resumed run goes on with."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Collection, Optional

from .runtime import Dist
from .settings import TrainConfig

# Settings a resumed run takes from the command line rather than from the run's own saved config.
RESUMABLE_OVERRIDES = (
    "max_steps",
    "max_epochs",
    "max_time",
    "patience",
    "eval_every",
    "save_every",
    "log_every",
    "save_minutes",
    "cooldown_steps",
)
# ...of which these budgets are kept from the saved run when the command line leaves them out (or sets them to
# 0/null): a run started with --max-time 3m and resumed without it still stops at 3 minutes; a new --max-time
# replaces it, and a resumed run that is resumed again goes on with the replacing value.
KEPT_UNLESS_GIVEN = ("max_steps", "max_epochs", "max_time", "cooldown_steps")
# What makes a folder hold a run (a start that failed before saving anything leaves only train.log),
# and what ``--overwrite`` removes (nothing else).
RUN_FILES = ("last", "last.old", "best", "best.old", "checkpoints", "tokenizers")
LOG_FILES = ("train.log", "tensorboard")


class RunFolderError(Exception):
    """The output folder holds another run, or another process is writing into it."""


def prepare_output(out: Path, resume: bool, overwrite: bool, dist: Dist):
    """Create the folder, refuse to mix two runs in it, and lock it for this process (returns the lock file)."""
    if not dist.main:
        return None
    out.mkdir(parents=True, exist_ok=True)
    lock = open(out / ".lock", "a+")
    try:
        import fcntl

        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise RunFolderError(f"{out} is in use by another seq2seq-train process (lock {out / '.lock'})") from None
    except ImportError:  # no fcntl (Windows): no lock
        pass
    present = [name for name in RUN_FILES if (out / name).exists()]
    if present and not resume:
        if not overwrite:
            lock.close()
            raise RunFolderError(
                f"{out} already holds a run ({', '.join(present)}): continue it with --resume, "
                "start over with --overwrite, or choose another --output-dir"
            )
        for name in present + [n for n in LOG_FILES if (out / n).exists()]:
            p = out / name
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    return lock


def saved_config(folder: Path) -> TrainConfig:
    """The config a run saved in its model folder ``folder`` (``last``); settings added since take their defaults."""
    path = folder / "config.json"
    return TrainConfig.from_dict(json.loads(path.read_text())["extra"]["train_config"], where=str(path))


def resumed_config(
    saved: TrainConfig, given: TrainConfig, log, command_line: Optional[Collection[str]] = None
) -> TrainConfig:
    """The config a resumed run goes on with, checked: its own ``saved`` one, with the stopping and evaluation
    settings of the command line (:data:`RESUMABLE_OVERRIDES`), except that a budget the command line leaves unset
    keeps the run's own (:data:`KEPT_UNLESS_GIVEN`).

    ``command_line``: the ``section.key`` names the command line set (``--max-steps`` is ``train.max_steps``); a
    budget that only the config file sets is then not a new value (the file's ``max_steps: 300`` does not undo a
    resume's ``--max-steps 340``).  None: every budget in ``given`` that is not 0/null is a new value."""
    changes = {}
    for key in RESUMABLE_OVERRIDES:
        value = getattr(given.train, key)
        if key in KEPT_UNLESS_GIVEN and command_line is not None and f"train.{key}" not in command_line:
            value = None
        if key in KEPT_UNLESS_GIVEN and not value:
            if getattr(saved.train, key):
                kept = getattr(saved.train, key)
                log(f"--resume: train.{key}={kept} kept from the run (give a new value to change it)")
            continue
        changes[key] = value
    cfg = replace(saved, train=replace(saved.train, **changes))
    cfg.validate()
    return cfg
