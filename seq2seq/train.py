"""``python -m seq2seq.train`` and ``torchrun ... -m seq2seq.train``: the training CLI.

The training code lives in :mod:`seq2seq.training` (config, data, step, checkpoints, evaluation,
alignment loss, loop, CLI); this module keeps the entry point and the names scripts import.
"""

import sys

from .training.cli import main
from .training.config import DEFAULTS, load_config, parse_duration
from .training.data import collate
from .training.loop import train
from .training.step import token_loss

__all__ = ["DEFAULTS", "collate", "load_config", "main", "parse_duration", "token_loss", "train"]

if __name__ == "__main__":
    sys.exit(main())
