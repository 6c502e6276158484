"""The seq2seq web demo: Chinese -> English with cross-attention alignment maps.

    python app.py                      # the shipped default model on http://127.0.0.1:7860
    python app.py --model runs/zh-en/best --port 8080
"""

import argparse
import logging
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="model folder (default: the shipped model)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.add_argument("--share", action="store_true", help="also open a public Gradio share link (off by default)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    from seq2seq import ModelFolderError, Translator
    from seq2seq.webapp import build_demo

    try:
        translator = Translator.load(args.model)
    except ModelFolderError as e:
        print(f"app.py: {e}", file=sys.stderr)
        return 2
    demo = build_demo(translator, model_name=args.model or "default (seq2seq/pretrained/zh-en)")
    demo.launch(server_name=args.host, server_port=args.port, share=args.share, show_error=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
