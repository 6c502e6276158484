"""The seq2seq web demo: Chinese <-> English with cross-attention alignment maps.

    python app.py                      # both shipped models, a switch for the direction, on http://127.0.0.1:7860
    python app.py --model en-zh        # one model, one direction (a shipped model's name, or a folder)
    python app.py --model runs/zh-en/best --model runs/en-zh/best --port 8080    # one model per direction

The same as the ``seq2seq-demo`` command (seq2seq/app/server.py).
"""

import sys

from seq2seq.app.server import main

if __name__ == "__main__":
    sys.exit(main())
