"""The argument checks both backends (PyTorch and CTranslate2) and the web API share: a clear ``ValueError`` or
``TypeError`` that names the argument and its range, instead of a deep traceback."""

from __future__ import annotations

import numbers

from .decoding import LENGTH_PENALTY_RANGE, MIN_BEAM


def check_device(device) -> None:
    """A clear error for a device this machine does not have (instead of a deep CUDA traceback)."""
    name = str(device)
    if name.startswith("cuda") and not _cuda_available():
        raise ValueError(f"device {name!r}: CUDA is not available on this machine (use --device cpu)")
    if name not in ("cpu",) and not name.startswith(("cuda", "mps", "xpu")):
        raise ValueError(f"unknown device {name!r} (cpu, cuda, cuda:N)")


def check_sentences(sentences, what: str = "sentences", language: str = "") -> list:
    """The sentences as a list; every element must be a string: say which one is not (and, for ``what`` =
    "sentences", that it should be text in ``language``, the model's source language, e.g. "English")."""
    if sentences is None or isinstance(sentences, (bytes, bytearray)) or not hasattr(sentences, "__iter__"):
        raise TypeError(f"{what} must be a string or a list of strings, not {type(sentences).__name__}")
    sentences = list(sentences)
    for i, s in enumerate(sentences):
        if not isinstance(s, str):
            if what != "sentences":  # e.g. "align: targets"
                raise TypeError(f"{what}[{i}] is {type(s).__name__} ({s!r}), not str")
            raise TypeError(f"sentence {i} is {type(s).__name__} ({s!r}), not str: pass {language or 'the'} text")
    return sentences


def check_decoding_args(beam_size, nbest) -> None:
    if not isinstance(beam_size, int) or isinstance(beam_size, bool) or beam_size < MIN_BEAM:
        raise ValueError(f"beam_size must be an integer >= {MIN_BEAM} (1 = greedy), got {beam_size!r}")
    if beam_size == 1 and nbest != 1:
        raise ValueError("greedy search (beam_size=1) gives one hypothesis: use nbest=1")
    if not isinstance(nbest, int) or not 1 <= nbest <= beam_size:
        raise ValueError(f"nbest must be an integer in 1..beam_size={beam_size}, got {nbest!r}")


def _is_number(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _is_int(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def check_search_args(
    length_penalty=None, max_tokens=6000, max_len_a=None, max_len_b=None, no_repeat_ngram=None
) -> None:
    """Clear errors for search settings out of range (None: the model folder's default)."""
    lo, hi = LENGTH_PENALTY_RANGE
    if length_penalty is not None and (not _is_number(length_penalty) or not lo <= length_penalty <= hi):
        raise ValueError(
            f"length_penalty must be a number from {lo:g} to {hi:g} (higher gives longer output), "
            f"got {length_penalty!r}"
        )
    if not _is_int(max_tokens) or max_tokens < 1:
        raise ValueError(f"max_tokens must be an integer >= 1 (source tokens per batch), got {max_tokens!r}")
    if max_len_a is not None and (not _is_number(max_len_a) or max_len_a < 0):
        raise ValueError(f"max_len_a must be a number >= 0, got {max_len_a!r}")
    if max_len_b is not None and (not _is_int(max_len_b) or max_len_b < 0):
        raise ValueError(f"max_len_b must be an integer >= 0, got {max_len_b!r}")
    if no_repeat_ngram is not None and (not _is_int(no_repeat_ngram) or no_repeat_ngram < 0):
        raise ValueError(f"no_repeat_ngram must be an integer >= 0 (0: off), got {no_repeat_ngram!r}")


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()
