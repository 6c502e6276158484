"""What a run writes and how it resumes exactly: ``DIR/last`` (model folder + optimizer, scheduler, RNG
and data position), ``DIR/best``, and the last few weights in ``DIR/checkpoints/`` for averaging."""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional

import numpy as np
import torch

from ..data import DataError
from ..direction import Direction
from ..model import EncoderDecoder, ModelConfig
from ..model_dir import FolderConfig, bytes_writers, read_optional_files, save_model_dir, saved_state
from .runtime import Logger
from .settings import TrainConfig

STATE_FILE = "training_state.pt"
CHECKPOINTS = "checkpoints"  # DIR/checkpoints/step-N.safetensors: the last train.keep_checkpoints weights


@dataclass
class TrainState:
    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0  # index of the next batch of the epoch's (deterministic) batch list
    best_bleu: float = -1.0
    bad_evals: int = 0
    elapsed: float = 0.0  # seconds of this run before this process started (for --max-time across resumes)
    target_tokens: int = 0
    eval_step: int = -1  # the step of the last evaluation (-1: none yet, or a run saved before this was kept)


def rng_state() -> dict:
    return {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
    }


def set_rng_state(s: dict) -> None:
    torch.set_rng_state(s["torch"])
    random.setstate(s["python"])
    np.random.set_state(s["numpy"])
    if s.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(s["cuda"])


def gather_rng(dist) -> dict | list:
    """This process's RNG state, or every rank's under torchrun (each resumes its own)."""
    if dist.world == 1:
        return rng_state()
    states = [None] * dist.world
    torch.distributed.all_gather_object(states, rng_state())
    return states


def restore(resume_dir: Path, model, opt, sched, rank: int) -> TrainState:
    """Load weights, optimizer, scheduler, RNG and data position saved in ``resume_dir`` (a ``last`` folder)."""
    from safetensors.torch import load_file

    blob = torch.load(resume_dir / STATE_FILE, weights_only=False)
    model.load_state_dict(load_file(str(resume_dir / "model.safetensors")), strict=False)
    opt.load_state_dict(blob["optimizer"])
    sched.load_state_dict(blob["scheduler"])
    set_rng_state(blob["rng"][rank] if isinstance(blob["rng"], list) else blob["rng"])
    return TrainState(**blob["state"])


def list_checkpoints(run_dir: Path) -> list[Path]:
    """The weights a run keeps in ``DIR/checkpoints`` for averaging, oldest first."""
    return sorted((run_dir / CHECKPOINTS).glob("step-*.safetensors"), key=lambda p: int(p.stem.split("-")[1]))


def run_folder_config(cfg: TrainConfig, mcfg: ModelConfig, data_counts: dict) -> FolderConfig:
    """The config.json of a run's model folders: the model, its decoding defaults, the alignment head the
    alignment loss teaches (read back by :meth:`seq2seq.align.AlignMethod.from_config`), and the run's config."""
    head = cfg.alignment.trained_head(mcfg.n_dec_layers)
    return FolderConfig(
        model=mcfg,
        t2s=cfg.tokenizer.t2s,
        decoding=asdict(cfg.decoding),
        direction=cfg.direction,
        alignment=head.to_config() if head else {},
        extra={"train_config": cfg.to_dict(), "data_counts": data_counts},
    )


def model_card(cfg: TrainConfig, mcfg: ModelConfig, state: TrainState, summary: Optional[dict]) -> str:
    lines = [
        "# seq2seq model (written by seq2seq-train)",
        "",
        f"- architecture: {mcfg.n_layers}+{mcfg.n_dec_layers} layers, d_model {mcfg.d_model}, "
        f"{mcfg.n_heads} heads, d_ff {mcfg.d_ff}, vocab {mcfg.src_vocab_size}/{mcfg.tgt_vocab_size}",
        f"- training: {state.step} steps, epoch {state.epoch}, {state.elapsed / 60:.1f} minutes",
        "- data: " + ", ".join(source.name for source in cfg.data.train),
    ]
    for name, s in (summary or {}).items():
        lines.append(f"- dev {name}: BLEU {s['bleu']:.2f}, chrF {s['chrf']:.2f} (greedy)")
    return "\n".join(lines) + "\n"


def carried_files(init_from: Optional[str], resume_dir: Optional[Path]) -> dict[str, bytes]:
    """The files a run keeps from the model folder it starts from (``train.init_from``, or its own ``last`` when
    resumed): the English truecasing model, which the tokenizers' English side shares, and the name lexicon."""
    start = resume_dir or (Path(init_from) if init_from else None)
    return read_optional_files(start) if start is not None else {}


class Checkpointer:
    """Writes ``last`` (with the training state), ``best``, and rotates ``checkpoints/step-N.safetensors``."""

    def __init__(
        self,
        out: Path,
        *,
        model,
        opt,
        sched,
        protos: tuple[bytes, bytes],
        folder_cfg: FolderConfig,
        cfg: TrainConfig,
        keep: int,
        carried: Optional[dict[str, bytes]] = None,
    ):
        self.out, self.model, self.opt, self.sched = out, model, opt, sched
        self.carried = carried or {}  # files of the folder the run started from that its folders keep
        self.protos, self.folder_cfg, self.cfg, self.keep = protos, folder_cfg, cfg, keep
        self.kept: list[Path] = list_checkpoints(out)

    def save(self, which: str, state: TrainState, rng, summary: Optional[dict] = None) -> None:
        fc = self.folder_cfg
        fc.extra["state"] = asdict(state)
        if summary:
            fc.extra["dev"] = summary
        blob = {
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(),
            "state": asdict(state),
            "rng": rng,
        }
        extra = bytes_writers(self.carried)
        if which == "last":
            extra[STATE_FILE] = lambda p: torch.save(blob, p)
        save_model_dir(
            self.out / which,
            self.model,
            *self.protos,
            fc,
            card=model_card(self.cfg, self.model.cfg, state, summary),
            extra_files=extra,
        )
        if which == "last" and self.keep:
            self._checkpoint(state.step)

    def _checkpoint(self, step: int) -> None:
        from safetensors.torch import save_file

        ckdir = self.out / CHECKPOINTS
        ckdir.mkdir(exist_ok=True)
        path = ckdir / f"step-{step}.safetensors"
        tmp = path.with_suffix(".tmp")
        save_file(saved_state(self.model), str(tmp))
        os.replace(tmp, path)
        if path not in self.kept:
            self.kept.append(path)
        while len(self.kept) > self.keep:
            self.kept.pop(0).unlink(missing_ok=True)


def warm_start(model: EncoderDecoder, folder: str, log: Logger, direction: Direction) -> None:
    """Copy the weights of a model folder of the same shape (dropout may differ) into ``model``.

    A folder that translates the other way gives its target embeddings to the source side and its source
    embeddings to the target side (encoder and decoder layers come across as they are; the output bias
    starts at zero).  Pieces the folder's vocabularies lack (placeholders) keep their fresh initialisation."""
    from ..model_dir import load_model_dir

    init_model, _, _, init_cfg, _ = load_model_dir(folder)
    shape = lambda c: {k: v for k, v in c.to_dict().items() if "dropout" not in k and "vocab" not in k}  # noqa: E731
    if shape(init_model.cfg) != shape(model.cfg):
        raise DataError(f"train.init_from: {folder} has model {init_model.cfg}, but this config asks for {model.cfg}")
    state = init_model.state_dict()
    swap = init_cfg.direction != direction
    if swap:
        state["src_embed.lut.weight"], state["tgt_embed.lut.weight"] = (
            state["tgt_embed.lut.weight"],
            state["src_embed.lut.weight"],
        )
        state["generator.proj.weight"] = state["tgt_embed.lut.weight"]
        state["generator.proj.bias"] = torch.zeros(state["generator.proj.bias"].shape[0])
    own = model.state_dict()
    for name, value in state.items():
        if value.shape != own[name].shape:  # a vocabulary grown by placeholder pieces: keep the new rows' init
            rows = min(value.shape[0], own[name].shape[0])
            value = torch.cat([value[:rows], own[name][rows:]])
        state[name] = value
    model.load_state_dict(state)
    log(
        f"model: weights from {folder} (train.init_from"
        f"{', embeddings swapped: it translates ' + init_cfg.direction.label if swap else ''})"
    )
