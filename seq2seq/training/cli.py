"""``seq2seq-train``: parallel text in, a model folder out.

    seq2seq-train --config configs/tiny.yaml --output-dir runs/tiny [--resume | --overwrite] [--max-time 2h]
                  [key=value ...]

Any config option can be overridden with ``section.key=value`` (YAML syntax for the value), e.g.
``train.max_steps=500 model.d_model=128``; an unknown key is an error that lists the valid ones.
Writes ``DIR/last`` (every save: at evaluations and every ``train.save_minutes``) and ``DIR/best``
(best mean dev BLEU; when training stops, the last weights are evaluated too), both model folders that
``Translator.load`` opens; ``DIR/last`` also holds the training state that ``--resume`` continues from,
and ``DIR/checkpoints/`` the last few weights for averaging (``seq2seq-average``).  A folder that already
holds a run is refused unless ``--resume`` or ``--overwrite`` is given, and a folder another process is
training into is refused.
``--max-time`` counts the whole run, data loading and tokenizer training included; ``--resume`` keeps
the run's own budget (``--max-time``, ``--max-steps``, ...) unless the command line gives a new one (the
config file's value is the budget of a new run only).  Values are
checked when the config is read, before any data is.  The configs in ``configs/`` and the toy corpus
come with a clone of the repository: run it in the clone.  Under
``torchrun --nproc_per_node N`` it trains with DistributedDataParallel (NCCL on GPUs, gloo on CPU);
only rank 0 writes files and prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from ..cli import positive_int  # seq2seq-translate's --beam rule
from ..data import DataError
from ..text import plain_doc
from .config import load_config
from .loop import train
from .run_folder import RunFolderError
from .runtime import MissingExtra
from .values import ConfigError, parse_duration


def find_config(name: str) -> str:
    """The config file for ``--config``: a path, or the name of one in ./configs (``tiny`` = configs/tiny.yaml).
    A config that is not there is a ConfigError that says where the shipped ones are."""
    if Path(name).is_file():
        return name
    if Path(name).is_dir():
        raise ConfigError(f"config {name} is a folder, not a file: give a YAML file, e.g. configs/tiny.yaml")
    for candidate in (Path("configs") / name, Path("configs") / f"{name}.yaml"):
        if "/" not in name and candidate.is_file():
            return str(candidate)
    raise ConfigError(
        f"config file not found: {name}. The configs (configs/*.yaml) and the toy corpus "
        "(data/sample) come with a clone of the repository, not with pip install: run seq2seq-train "
        "in the clone's folder, e.g. --config configs/tiny.yaml"
    )


def time_budget(text: str) -> str:
    """An argparse type: a duration of more than 0 (2h, 90m, 1h30m, 3600), kept as written."""
    try:
        seconds = parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if not seconds:
        raise argparse.ArgumentTypeError(f"must be more than 0 (e.g. 2h, 90m), got {text}")
    return text


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="seq2seq-train",
        description=plain_doc(__doc__.split("\n\n")[0]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Example: seq2seq-train --config configs/tiny.yaml --output-dir runs/tiny train.max_steps=200",
    )
    p.add_argument(
        "--config",
        required=True,
        help="YAML config: a file, or the name of one in ./configs of a clone (tiny = configs/tiny.yaml)",
    )
    p.add_argument("--output-dir", required=True, help="where last/, best/, checkpoints/ and train.log go")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue the run in OUTPUT_DIR (from OUTPUT_DIR/last)")
    mode.add_argument("--overwrite", action="store_true", help="delete the run already in OUTPUT_DIR and start over")
    p.add_argument(
        "--max-time",
        type=time_budget,
        help="wall-clock budget of the whole run, e.g. 2h, 90m (same as train.max_time=...); "
        "--resume keeps the run's own unless given",
    )
    p.add_argument(
        "--max-steps",
        type=positive_int,
        metavar="N",
        help="stop at step N >= 1 (same as train.max_steps=N); --resume keeps the run's own unless given",
    )
    p.add_argument("overrides", nargs="*", metavar="section.key=value", help="config overrides")
    args = p.parse_intermixed_args(argv)  # overrides may come before or after the options
    flags = [
        f"train.{key}={value}"
        for key, value in (("max_time", args.max_time), ("max_steps", args.max_steps))
        if value is not None
    ]  # checked with the config, as overrides
    try:
        cfg = load_config(find_config(args.config), list(args.overrides) + flags, resume=args.resume)
    except ConfigError as e:
        print(f"seq2seq-train: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError, yaml.YAMLError) as e:  # unreadable file, bad YAML
        print(f"seq2seq-train: cannot read config: {e}", file=sys.stderr)
        return 2
    command_line = {item.split("=", 1)[0].strip() for item in list(args.overrides) + flags}
    try:
        train(cfg, args.output_dir, resume=args.resume, overwrite=args.overwrite, command_line=command_line)
    except (DataError, MissingExtra, ConfigError, RunFolderError) as e:
        print(f"seq2seq-train: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if (Path(args.output_dir) / "last").is_dir():
            print(
                f"seq2seq-train: interrupted; state saved in {args.output_dir}/last (continue with --resume)",
                file=sys.stderr,
            )
        else:
            print(
                f"seq2seq-train: interrupted before the first save: nothing to resume, and {args.output_dir} "
                "is free for a new run",
                file=sys.stderr,
            )
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
