"""Kept for scripts that import ``seq2seq.webapp``: the demo now lives in the :mod:`seq2seq.app` package."""

from .app import *  # noqa: F401,F403
from .app import __all__  # noqa: F401
