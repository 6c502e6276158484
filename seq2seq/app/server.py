"""``seq2seq-demo`` (and ``python app.py``): serve the web demo.

seq2seq-demo                       # both shipped models (zh-en, en-zh) on http://127.0.0.1:7860
seq2seq-demo --model en-zh         # one model, one direction (a shipped model's name, or a folder)
seq2seq-demo --model runs/zh-en/best --model runs/en-zh/best --port 8080   # one model per direction
"""

from __future__ import annotations

import argparse
import logging
import socket
import sys

from ..text import plain_doc

SHIPPED = ("zh-en", "en-zh")  # served both ways when no --model is given (the first is the default direction)


def model_name(model) -> str:
    """How the page's header names a model given as ``--model`` (None: the default shipped model)."""
    if model is None or model in SHIPPED:
        return f"shipped (seq2seq/pretrained/{model or 'zh-en'})"
    return str(model)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def default_threads() -> int:
    """PyTorch threads for the demo: the cores shared by its batch workers (:data:`~seq2seq.app.batching.WORKERS`,
    each may run a PyTorch search beside CTranslate2's).  Under load, more threads than that made the slowest
    requests slower (benchmarks/README.md, "The web demo")."""
    import os

    from .batching import WORKERS

    return max(1, (os.cpu_count() or 1) // WORKERS)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(
        prog="seq2seq-demo",
        description=plain_doc(__doc__.split("\n\n")[0]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--model",
        action="append",
        help="model folder or shipped model name (zh-en, en-zh); give it "
        "twice for both directions, the first the page's default (default: both shipped models)",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for every interface)",
    )
    p.add_argument("--port", type=int, default=7860, help="port to listen on (default 7860)")
    p.add_argument("--share", action="store_true", help="also open a public Gradio share link (off by default)")
    p.add_argument(
        "--threads",
        type=int,
        help="PyTorch threads (default: the CPU cores shared by the demo's batch workers, "
        f"{default_threads()} here; CTranslate2 takes one per core)",
    )
    args = p.parse_args(argv)
    if args.threads is not None and args.threads < 1:
        p.error("--threads must be at least 1")
    logging.basicConfig(level=logging.INFO)
    try:  # the face of the demo needs these: say how to install them rather than fail on an import
        import gradio  # noqa: F401
        import plotly  # noqa: F401
    except ImportError as e:
        print(
            f"seq2seq-demo: the web demo needs the app extra (gradio, plotly, jieba), and {e.name} is missing: "
            "pip install 'seq2seq-zhen[app]' (in the clone: pip install -e '.[app]')",
            file=sys.stderr,
        )
        return 2
    from ..model_dir import ModelFolderError
    from ..translator import Translator, note_if_slow, resolve_model_path
    from .layout import build_demo, launch_options

    if not port_is_free(args.host, args.port):
        print(
            f"seq2seq-demo: port {args.port} on {args.host} is already in use; choose another with --port",
            file=sys.stderr,
        )
        return 2
    import torch

    torch.set_num_threads(args.threads or default_threads())
    models = args.model or [m for m in SHIPPED if (resolve_model_path(m) / "config.json").is_file()] or [None]
    try:
        translators = [Translator.load(m) for m in models]
        note_if_slow(translators[0], "seq2seq-demo")
        demo = build_demo(translators, model_name=[model_name(m) for m in models]).blocks
    except (ModelFolderError, ValueError) as e:
        print(f"seq2seq-demo: {e}", file=sys.stderr)
        return 2
    # quiet: Gradio's own start-up lines advise `share=True` in launch(); ours name our flag.
    demo.launch(
        server_name=args.host,
        server_port=args.port,
        share=args.share,
        show_error=False,
        quiet=True,
        prevent_thread_lock=True,
        **launch_options(),
    )
    print(
        f"seq2seq-demo: running on {demo.local_url}"
        + (f" and {demo.share_url}" if demo.share_url else " (add --share for a public link)"),
        flush=True,
    )
    demo.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
