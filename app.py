"""The seq2seq web demo: Chinese -> English with cross-attention alignment maps.

    python app.py                      # the shipped default model on http://127.0.0.1:7860
    python app.py --model runs/zh-en/best --port 8080

The same as the ``seq2seq-demo`` command (seq2seq/app/server.py).
"""

import sys

from seq2seq.app.server import main

if __name__ == "__main__":
    sys.exit(main())
