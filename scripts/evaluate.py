"""Evaluate a model folder with sacreBLEU/chrF: the same as the installed `seq2seq-evaluate` command.

    python scripts/evaluate.py --model DIR --test ../shared/data/dev/newstest2017 --beam 1 5
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from seq2seq.evaluate import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
