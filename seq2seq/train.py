"""``python -m seq2seq.train`` and ``torchrun ... -m seq2seq.train``: the training CLI (``seq2seq-train``).

The training code lives in :mod:`seq2seq.training`; ``torchrun -m`` needs a module to run, and this is it.
"""

import sys

from .training.cli import main

if __name__ == "__main__":
    sys.exit(main())
