"""``seq2seq-average``: average the last k saved weights of a training run into a model folder.

    seq2seq-average runs/zh-en --last 5 --output runs/zh-en/avg5 [--dtype float16]

The weights come from ``RUN/checkpoints/step-*.safetensors`` (kept by ``train.keep_checkpoints``);
config, tokenizers and card come from ``RUN/last``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

import torch
from safetensors.torch import load_file

from .model_dir import CONFIG, ModelFolderError, bytes_writers, load_model_dir, read_optional_files, save_model_dir
from .text import plain_doc
from .training.checkpoints import list_checkpoints


def average_state_dicts(paths: Sequence[Path]) -> dict[str, torch.Tensor]:
    """Element-wise mean of the tensors in several safetensors files (in float64, returned as float32)."""
    if not paths:
        raise ValueError("no checkpoints to average")
    total = None
    for p in paths:
        sd = load_file(str(p))
        if total is None:
            total = {k: v.double() for k, v in sd.items()}
        else:
            if sd.keys() != total.keys():
                raise ModelFolderError(f"{p} has different tensors from {paths[0]}")
            for k, v in sd.items():
                total[k] += v.double()
    return {k: (v / len(paths)).float() for k, v in total.items()}


def last_checkpoints(run_dir: Path, k: int) -> list[Path]:
    if k < 1:
        raise ValueError(f"--last must be at least 1, got {k}")
    ckpts = list_checkpoints(run_dir)
    if not ckpts:
        raise ModelFolderError(f"{run_dir}/checkpoints has no step-*.safetensors (set train.keep_checkpoints)")
    return ckpts[-k:]


def check_run_dir(run_dir: Path) -> None:
    """A clear error unless ``run_dir`` is a seq2seq-train output folder (with last/)."""
    if not run_dir.is_dir():
        raise ModelFolderError(f"{run_dir} does not exist or is not a directory (give a seq2seq-train --output-dir)")
    if (run_dir / CONFIG).is_file():
        raise ModelFolderError(
            f"{run_dir} is a model folder, not a training run: seq2seq-average needs a "
            "seq2seq-train output folder (with last/ and checkpoints/)"
        )
    if not (run_dir / "last").is_dir():
        raise ModelFolderError(
            f"{run_dir} holds no training run ({run_dir}/last does not exist): give a seq2seq-train output folder"
        )


def average_run(run_dir: str | Path, k: int, output: str | Path, dtype=None, warn=None) -> Path:
    """Average the last ``k`` checkpoints of a run into the model folder ``output``.  When the run has
    fewer, all of them are averaged and ``warn`` (default: print to stderr) gets a line saying so."""
    run_dir = Path(run_dir)
    check_run_dir(run_dir)
    model, _, _, cfg, (src_proto, tgt_proto) = load_model_dir(run_dir / "last")
    paths = last_checkpoints(run_dir, k)
    if len(paths) < k:
        msg = (
            f"seq2seq-average: warning: --last {k}, but {run_dir}/checkpoints holds only {len(paths)} "
            f"checkpoint{'s' if len(paths) != 1 else ''}: averaging those {len(paths)}"
        )
        (warn or (lambda m: print(m, file=sys.stderr)))(msg)
    model.load_state_dict(average_state_dicts(paths), strict=False)
    cfg.extra["averaged"] = [p.name for p in paths]
    card = (run_dir / "last" / "README.md").read_text(encoding="utf-8")
    card += f"\nWeights: the average of {len(paths)} checkpoints ({', '.join(p.stem for p in paths)}).\n"
    extra = bytes_writers(read_optional_files(run_dir / "last")) or None
    return save_model_dir(output, model, src_proto, tgt_proto, cfg, card=card, dtype=dtype, extra_files=extra)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="seq2seq-average", description=plain_doc(__doc__.split("\n\n")[0]))
    p.add_argument("run_dir", help="a seq2seq-train output directory")
    p.add_argument("--last", type=int, default=5, help="how many of the last checkpoints (default 5)")
    p.add_argument("--output", required=True, help="model folder to write")
    p.add_argument(
        "--dtype",
        choices=["float32", "float16", "bfloat16"],
        default="float32",
        help="weights file precision (default float32; float16 halves the file)",
    )
    args = p.parse_args(argv)
    try:
        out = average_run(args.run_dir, args.last, args.output, getattr(torch, args.dtype))
    except (ModelFolderError, ValueError) as e:
        print(f"seq2seq-average: {e}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
