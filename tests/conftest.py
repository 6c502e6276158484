"""Shared fixtures (the helpers behind them are in ``helpers.py``), and the tests' thread count."""

from __future__ import annotations

import os

import pytest
import torch
from helpers import overfit_translator

from seq2seq.translator import Translator

torch.set_num_threads(int(os.environ.get("S2S_TEST_THREADS", "2")))


@pytest.fixture(autouse=True)
def fp32_attribution(monkeypatch):
    """Attribution's "auto" precision as on hardware without native bf16, whatever this machine has, so that every
    test computes the same numbers everywhere (tests that want bf16 ask for it)."""
    monkeypatch.setattr("seq2seq.attribution.native_bf16_cpu", lambda: False)
    monkeypatch.setattr("torch.cuda.is_bf16_supported", lambda *a, **k: False)


@pytest.fixture(scope="session")
def toy_translator() -> Translator:
    return overfit_translator()


@pytest.fixture(scope="session")
def toy_en_zh_translator() -> Translator:
    """The toy pairs read the other way, English -> Chinese (300 steps are enough)."""
    return overfit_translator(steps=300, direction="en-zh")
