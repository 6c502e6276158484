"""The views' downloads, with no Gradio in it: files named after their sentence, written to a fresh temporary folder
(the page offers them for download), JSON for a sentence's whole data and CSV for the map on screen."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import tempfile
from typing import Sequence

import numpy as np


def file_stem(source: str, direction: str) -> str:
    """A download's name for a sentence: the direction, the sentence's first Latin words (if any) and a short hash
    of it, so that every sentence downloads under its own name (``en-zh-i-like-to-eat-apples-3f2a9c1d``,
    ``zh-en-5be1c2a0``)."""
    words = re.findall(r"[a-z0-9]+", source.lower())
    slug = "-".join(words)[:40].strip("-")
    digest = hashlib.sha1(source.encode("utf-8")).hexdigest()[:8]
    return "-".join(x for x in (direction, slug, digest) if x)


def slug(what: str) -> str:
    """A file name's part for what a file holds: "cross attention, layer 2" -> ``cross-attention-layer-2``."""
    return re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")


def matrix_csv(mat: np.ndarray, rows: Sequence[str], cols: Sequence[str], what: str = "") -> str:
    """A map as CSV: a header of column labels, then one row per row label; ``what`` (the sentence and the map)
    in the top-left cell."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([what] + list(cols))
    for label, row in zip(rows, mat):
        w.writerow([label] + [f"{x:.5f}" for x in row])
    return buf.getvalue()


def table_csv(header: Sequence[str], rows: Sequence[Sequence]) -> str:
    """Rows as CSV under ``header``."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(list(header))
    w.writerows([list(r) for r in rows])
    return buf.getvalue()


def write_files(stem: str, files: dict[str, object]) -> list[str]:
    """Write ``{suffix: content}`` in a fresh temporary folder as ``STEM-SUFFIX`` (a dict or list as JSON, text as
    it is); returns the paths in the order given.  A fresh folder per call: two people never share a file."""
    folder = tempfile.mkdtemp(prefix="seq2seq-")
    paths = []
    for suffix, content in files.items():
        path = f"{folder}/{stem}-{suffix}"
        with open(path, "w", encoding="utf-8") as f:
            if isinstance(content, str):
                f.write(content)
            else:
                json.dump(content, f, ensure_ascii=False)
        paths.append(path)
    return paths
