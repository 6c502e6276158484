"""Corpora in, clean pairs and token-bucketed batches out.

Sources (each a dict in the training config's ``data.train`` / ``data.dev`` lists), all loaded with
the ``datasets`` library:

    {src: a.zh, tgt: a.en}                       aligned line files (line i translates line i)
    {tsv: a.tsv, src_col: 0, tgt_col: 1}        tab-separated columns
    {jsonl: a.jsonl, src_key: zh, tgt_key: en}  one JSON object per line ("translation.zh" reaches into a field)
    {hub: ID, config: NAME, split: train,       a Hugging Face Hub dataset (needs network), e.g. records
     src_key: translation.zh, tgt_key: translation.en}          of the form {"translation": {"zh": .., "en": ..}}

    {glob: data/prepared/train/*.zh}            every X.zh with its X.en beside it (one source per pair)

Every source may carry ``name`` (used in logs and dev-set reports) and ``limit`` (first N pairs).
Word-alignment labels for the alignment loss (``scripts/align_corpus.py``): ``links: FILE`` on a
file-pair source (one line of piece links per corpus line), or ``links: true`` on a glob (each X.links
beside X.zh).
"""

from __future__ import annotations

import glob
import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .batches import pack_by_tokens

Pair = tuple[str, str]


class DataError(ValueError):
    """A corpus cannot be used as configured; the message says which file and why."""


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def source_name(spec: dict) -> str:
    if "name" in spec:
        return str(spec["name"])
    for key in ("src", "tsv", "jsonl"):
        if key in spec:
            p = Path(spec[key])
            return p.stem if key == "src" else p.name
    return f"{spec.get('hub')}:{spec.get('config', '')}:{spec.get('split', 'train')}"


def _require(path: str | Path, what: str) -> str:
    from .text import file_problem

    problem = file_problem(path, f"{what} file")
    if problem:
        raise DataError(problem)
    return str(path)


def expand_globs(specs: Sequence[dict]) -> list[dict]:
    """Replace each ``{glob: "dir/*.zh"}`` by one ``{name, src, tgt}`` source per matching file."""
    out = []
    for spec in specs:
        if "glob" not in spec:
            out.append(dict(spec))
            continue
        files = sorted(glob.glob(str(spec["glob"])))
        if not files:
            raise DataError(f"no files match {spec['glob']}")
        for f in files:
            p = Path(f)
            one = {k: v for k, v in spec.items() if k not in ("glob", "links")} | {
                "name": p.stem,
                "src": str(p),
                "tgt": str(p.with_suffix("." + spec.get("tgt_ext", "en"))),
            }
            if spec.get("links"):
                one["links"] = str(p.with_suffix(".links"))
            out.append(one)
    return out


def _datasets():
    import datasets

    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    return datasets


def _lines(path: str) -> list[str]:
    datasets = _datasets()

    ds = datasets.load_dataset("text", data_files={"data": path}, split="data")
    return list(ds["text"])


def _get(record: dict, key: str):
    for part in key.split("."):
        record = record[part]
    return record


def load_source(spec: dict) -> list[Pair]:
    """Load one source as (source, target) pairs, the sides its spec names ``src``/``tgt`` (``src_key``/``tgt_key``,
    ``src_col``/``tgt_col``): Chinese then English for a zh-en model, English then Chinese for en-zh."""
    datasets = _datasets()

    if "src" in spec or "tgt" in spec:
        if "src" not in spec or "tgt" not in spec:
            raise DataError(f"a file-pair source needs both 'src' and 'tgt': {spec}")
        src_path, tgt_path = _require(spec["src"], "source"), _require(spec["tgt"], "target")
        src, tgt = _lines(src_path), _lines(tgt_path)
        if len(src) != len(tgt):
            raise DataError(f"line counts differ: {src_path} has {len(src)} lines but {tgt_path} has {len(tgt)}")
        pairs = list(zip(src, tgt))
    elif "tsv" in spec:
        path = _require(spec["tsv"], "TSV")
        sc, tc = int(spec.get("src_col", 0)), int(spec.get("tgt_col", 1))
        pairs = []
        for n, line in enumerate(_lines(path), 1):  # quotes are literal text: no CSV quoting rules
            cols = line.split("\t")
            if max(sc, tc) >= len(cols):
                raise DataError(
                    f"{path}, line {n}: has {len(cols)} tab-separated columns, config asks for columns {sc} and {tc}"
                )
            pairs.append((cols[sc], cols[tc]))
    elif "jsonl" in spec:
        path = _require(spec["jsonl"], "JSONL")
        ds = datasets.load_dataset("json", data_files={"data": path}, split="data")
        pairs = _pairs_from_records(ds, spec, path)
    elif "hub" in spec:
        args = [spec["hub"]] + ([spec["config"]] if spec.get("config") else [])
        try:
            ds = datasets.load_dataset(*args, split=spec.get("split", "train"))
        except (ConnectionError, OSError, ValueError) as e:  # offline; no such dataset, configuration or split
            hint = (
                "it needs the network the first time (then it is cached), or give local files (src/tgt, tsv or jsonl)"
                if isinstance(e, ConnectionError)
                else "check the dataset id, its configuration and split, and your access to it"
            )
            first = str(e).splitlines()[0] if str(e) else "no message"
            raise DataError(
                f"Hugging Face Hub dataset {spec['hub']!r} could not be loaded ({type(e).__name__}: {first}); {hint}"
            ) from e
        pairs = _pairs_from_records(ds, spec, spec["hub"])
    else:
        raise DataError(f"unknown data source {spec}: give src/tgt, tsv, jsonl or hub")
    if spec.get("limit"):
        pairs = pairs[: int(spec["limit"])]
    return [("" if s is None else str(s), "" if t is None else str(t)) for s, t in pairs]


def _pairs_from_records(ds, spec: dict, where: str) -> list[Pair]:
    sk, tk = spec.get("src_key", "translation.zh"), spec.get("tgt_key", "translation.en")
    try:
        return [(_get(r, sk), _get(r, tk)) for r in ds]
    except (KeyError, TypeError) as e:
        raise DataError(
            f"{where}: records have no field {e} (src_key={sk!r}, tgt_key={tk!r}; columns: {ds.column_names})"
        ) from e


# ---------------------------------------------------------------------------------------------
# Cleaning
# ---------------------------------------------------------------------------------------------


@dataclass
class CleanConfig:
    normalize: bool = True  # Unicode NFKC, drop BOM/zero-width characters, collapse whitespace
    strip_markup: bool = True  # remove markup tags such as <parallel_talk>, <laugh/>, <br> (text between stays)
    t2s: bool = False  # Traditional -> Simplified on the Chinese side (the tokenizer also converts at encode time)
    max_chars: int = 400  # drop pairs with a side longer than this many characters
    min_ratio: float = 0.4  # English chars / Chinese chars outside [min_ratio, max_ratio] is dropped
    max_ratio: float = 12.0
    ratio_min_chars: int = 6  # ...only for pairs whose shorter side has at least this many characters
    dedup: bool = True


MARKUP = re.compile(r"</?[A-Za-z][A-Za-z0-9_:-]*(?:\s[^<>]*)?/?>")


def strip_markup(text: str) -> str:
    """Remove XML/HTML-like tags (``<laugh/>``, ``<parallel_talk>``...), keeping the text between them."""
    return _SPACES.sub(" ", MARKUP.sub(" ", text)).strip() if "<" in text else text


_INVISIBLE = re.compile("[\ufeff\u200b\u200c\u200d\u2060\u00ad]")
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    return _SPACES.sub(" ", text).strip()


def clean_pairs_indexed(
    pairs: Sequence[Pair],
    cfg: CleanConfig,
    chinese_side: int = 0,
) -> tuple[list[Pair], "OrderedDict[str, int]", list[int]]:
    """Apply the cleaning steps in order; returns the kept pairs, how many each step removed (normalisation
    changes text but removes nothing, so it reports how many pairs it changed), and the index in ``pairs`` of every
    kept pair (to carry per-line data such as alignment links along).  ``chinese_side``: 0 when pairs are
    (Chinese, English), 1 when they are (English, Chinese)."""
    report: OrderedDict[str, int] = OrderedDict()
    out = list(pairs)
    index = list(range(len(out)))
    if cfg.normalize:
        normed = [(normalize_text(s), normalize_text(t)) for s, t in out]
        report["unicode-normalised (changed, not removed)"] = sum(a != b for a, b in zip(out, normed))
        out = normed
    else:
        out = [(s.strip(), t.strip()) for s, t in out]
    if cfg.strip_markup:
        stripped = [(strip_markup(a), strip_markup(b)) for a, b in out]
        report["markup removed (changed, not removed)"] = sum(a != b for a, b in zip(out, stripped))
        out = stripped
    if cfg.t2s:
        from .tokenizer import to_simplified

        conv = [(to_simplified(s), t) if chinese_side == 0 else (s, to_simplified(t)) for s, t in out]
        report["traditional->simplified (changed, not removed)"] = sum(a != b for a, b in zip(out, conv))
        out = conv

    def step(name, keep):
        nonlocal out, index
        flags = [keep(p) for p in out]
        report[name] = len(out) - sum(flags)
        out = [p for p, f in zip(out, flags) if f]
        index = [i for i, f in zip(index, flags) if f]

    step("empty", lambda p: bool(p[0]) and bool(p[1]))
    step(f"over {cfg.max_chars} characters", lambda p: len(p[0]) <= cfg.max_chars and len(p[1]) <= cfg.max_chars)

    def ratio_ok(p):
        if min(len(p[0]), len(p[1])) < cfg.ratio_min_chars:
            return True
        r = len(p[1 - chinese_side]) / len(p[chinese_side])
        return cfg.min_ratio <= r <= cfg.max_ratio

    step(f"length ratio outside [{cfg.min_ratio}, {cfg.max_ratio}]", ratio_ok)
    if cfg.dedup:
        seen = set()

        def first(p):
            if p in seen:
                return False
            seen.add(p)
            return True

        step("exact duplicates", first)
    return out, report, index


def format_report(name: str, before: int, report: dict, after: int) -> str:
    lines = [f"data {name}: {before} pairs"]
    lines += [f"  - {k}: {v}" for k, v in report.items()]
    lines.append(f"  = {after} pairs kept")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Batching
# ---------------------------------------------------------------------------------------------


@dataclass
class Batch:
    indices: np.ndarray  # example indices
    src_tokens: int  # real (non-padding) source tokens
    tgt_tokens: int  # real target tokens (the predicted ones: pieces + EOS)
    padded_tokens: int  # batch size * (max source length + max target length)


@dataclass
class TokenBatcher:
    """Batches of at most ``max_tokens`` padded tokens per side, with length bucketing.

    Each epoch: shuffle all examples (seeded by ``seed`` and the epoch), cut them into pools of
    ``pool_batches * max_tokens`` tokens, sort each pool by length so that neighbours have similar
    lengths, cut the sorted pool into batches, and shuffle the batch order.  The same seed and
    epoch always give the same batches, so a position in the data is just (epoch, batch index).

    The sort is by source length in buckets of ``length_bucket`` pieces, then by target length.  With
    1 (exact source length) the target lengths within a batch vary widely; buckets of 4 pieces (the default)
    let the target lengths line up too, so a batch holds less padding and more real tokens (the figures:
    benchmarks/README.md).
    """

    src_lens: np.ndarray
    tgt_lens: np.ndarray  # including the EOS/BOS position
    max_tokens: int
    seed: int = 1
    pool_batches: int = 100
    length_bucket: int = 4
    _cache: dict = field(default_factory=dict, repr=False)

    def epoch(self, epoch: int) -> list[Batch]:
        if epoch in self._cache:
            return self._cache[epoch]
        rng = np.random.default_rng([self.seed, epoch])
        n = len(self.src_lens)
        order = rng.permutation(n)
        width = np.maximum(self.src_lens, self.tgt_lens)
        mean = max(1.0, float(width.mean()))
        pool = max(1, int(self.pool_batches * self.max_tokens / mean))
        batches = []
        for start in range(0, n, pool):
            chunk = order[start : start + pool]
            chunk = chunk[np.lexsort((self.tgt_lens[chunk], self.src_lens[chunk] // self.length_bucket))]
            batches += [self._batch(idx) for idx in pack_by_tokens(chunk, width, self.max_tokens)]
        rng.shuffle(batches)
        self._cache = {epoch: batches}
        return batches

    def _batch(self, idx: list[int]) -> Batch:
        idx = np.asarray(idx)
        s, t = self.src_lens[idx], self.tgt_lens[idx]
        return Batch(idx, int(s.sum()), int(t.sum()), len(idx) * int(s.max() + t.max()))


def padding_fraction(batches: Sequence[Batch]) -> float:
    real = sum(b.src_tokens + b.tgt_tokens for b in batches)
    padded = sum(b.padded_tokens for b in batches)
    return 1.0 - real / padded if padded else 0.0
