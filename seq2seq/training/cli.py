"""``seq2seq-train``: parallel text in, a model folder out.

    seq2seq-train --config configs/tiny.yaml --output-dir runs/tiny [--resume | --overwrite] [--max-time 2h]
                  [key=value ...]

Any config option can be overridden with ``section.key=value`` (YAML syntax for the value), e.g.
``train.max_steps=500 model.d_model=128``; an unknown key is an error that lists the valid ones.
Writes ``DIR/last`` (every save: at evaluations and every ``train.save_minutes``) and ``DIR/best``
(best mean dev BLEU), both model folders that ``Translator.load`` opens; ``DIR/last`` also holds
the training state that ``--resume`` continues from, and ``DIR/checkpoints/`` the last few weights
for averaging (``seq2seq-average``).  A folder that already holds a run is refused unless
``--resume`` or ``--overwrite`` is given, and a folder another process is training into is refused.
``--max-time`` counts the whole run, data loading and tokenizer training included.  Under
``torchrun --nproc_per_node N`` it trains with DistributedDataParallel (NCCL on GPUs, gloo on CPU);
only rank 0 writes files and prints.
"""

from __future__ import annotations

import argparse
import sys

import yaml

from ..data import DataError
from .config import ConfigError, load_config, parse_duration
from .loop import train
from .runtime import MissingExtra


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="seq2seq-train", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Example: seq2seq-train --config configs/tiny.yaml --output-dir runs/tiny "
                                       "train.max_steps=200")
    p.add_argument("--config", required=True, help="YAML config (see configs/)")
    p.add_argument("--output-dir", required=True, help="where last/, best/, checkpoints/ and train.log go")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--resume", action="store_true", help="continue the run in OUTPUT_DIR (from OUTPUT_DIR/last)")
    mode.add_argument("--overwrite", action="store_true", help="delete the run already in OUTPUT_DIR and start over")
    p.add_argument("--max-time", help="wall-clock budget of the whole run, e.g. 2h, 90m (same as train.max_time=...)")
    p.add_argument("--max-steps", type=int, help="same as train.max_steps=...")
    p.add_argument("overrides", nargs="*", metavar="section.key=value", help="config overrides")
    args = p.parse_args(argv)
    try:
        cfg = load_config(args.config, args.overrides)
    except ConfigError as e:
        print(f"seq2seq-train: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError, yaml.YAMLError) as e:  # missing file, bad YAML
        print(f"seq2seq-train: cannot read config: {e}", file=sys.stderr)
        return 2
    if args.max_time:
        cfg["train"]["max_time"] = args.max_time
    if args.max_steps is not None:
        cfg["train"]["max_steps"] = args.max_steps
    try:
        parse_duration(cfg["train"].get("max_time"))
        if cfg["train"].get("cooldown_steps") and not cfg["train"].get("max_steps"):
            raise ValueError("train.cooldown_steps needs --max-steps (train.max_steps): the cooldown ends there")
    except ValueError as e:
        print(f"seq2seq-train: {e}", file=sys.stderr)
        return 2
    try:
        train(cfg, args.output_dir, resume=args.resume, overwrite=args.overwrite)
    except (DataError, MissingExtra) as e:
        print(f"seq2seq-train: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"seq2seq-train: interrupted; state saved in {args.output_dir}/last (continue with --resume)",
              file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
