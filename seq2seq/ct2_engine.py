"""The CTranslate2 engine: the same weights, searched fast (:mod:`seq2seq.engine` for the interface).

A model folder's CTranslate2 form lives in ``MODEL/ctranslate2/`` (:func:`ct2_folder`).  It is made from the
folder's weights the first time it is needed (a few seconds) and kept, with the fingerprint of the weights it was
made from, so a retrained folder gets a new one.  Where the folder cannot be written (a read-only install), it is
kept under ``~/.cache/seq2seq/ctranslate2/`` instead.  ``seq2seq-export`` makes one by hand, e.g. quantized.

The export moves the alignment head first in its layer, so what CTranslate2 returns with ``return_attention``
is exactly that head's attention, read as the search saw it (causal).

What CTranslate2 cannot do (a per-sentence cap on a piece's uses, a length cap per sentence inside a batch, top-k,
the beam tree, every layer's attention) the :class:`~seq2seq.translator.Translator` asks of the PyTorch engine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .decoding import Hypothesis, length_penalty
from .engine import SearchSettings
from .export import CT2_OUR_CONFIG, export_ctranslate2
from .model_dir import CONFIG, WEIGHTS, ModelFolderError, read_folder_config

CT2_SUBDIR = "ctranslate2"  # MODEL/ctranslate2: where a folder's CTranslate2 form is kept
STAMP = "seq2seq.source.json"  # the fingerprint of the weights an export was made from
ALWAYS_SUPPRESSED = ("<pad>", "<s>")  # never an output piece (our search forbids them too)


def available() -> bool:
    """Is CTranslate2 installed?"""
    try:
        import ctranslate2  # noqa: F401
    except ImportError:
        return False
    return True


def fingerprint(model_dir: Path) -> dict:
    """What an export must match to stand for the folder: hashes of its weights and of its config, the config's
    record of how the weights were made (``"extra"``) left out, so that editing that record keeps the export."""
    h = hashlib.sha256()
    with open(model_dir / WEIGHTS, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    config = json.loads((model_dir / CONFIG).read_text(encoding="utf-8"))
    config.pop("extra", None)
    searched = json.dumps(config, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return {WEIGHTS: h.hexdigest(), CONFIG: hashlib.sha256(searched).hexdigest()}


def is_export(path: Path) -> bool:
    """Is ``path`` a CTranslate2 export (``seq2seq-export`` output) rather than a model folder?"""
    return (path / "model.bin").is_file() and (path / CT2_OUR_CONFIG).is_file()


def ct2_folder(model_dir: str | Path) -> Path:
    """The CTranslate2 form of a model folder: ``model_dir`` itself if it is an export, else
    ``model_dir/ctranslate2`` (or a user cache folder), made now if it is missing or stale."""
    model_dir = Path(model_dir)
    if is_export(model_dir):
        return model_dir
    read_folder_config(model_dir)  # a missing or corrupt config.json (or a run folder) is named first
    if not (model_dir / WEIGHTS).is_file():
        raise ModelFolderError(f"model folder {model_dir}: missing file {WEIGHTS}")
    want = fingerprint(model_dir)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "seq2seq" / CT2_SUBDIR
    for place in (model_dir / CT2_SUBDIR, cache / want[WEIGHTS][:16]):
        if export_stamp(place) == want:
            return place
    for place in (model_dir / CT2_SUBDIR, cache / want[WEIGHTS][:16]):
        try:
            return _export_into(model_dir, place, want)
        except OSError:  # not writable: the next place
            continue
    raise ModelFolderError(f"{model_dir}: could not write its CTranslate2 form in {model_dir / CT2_SUBDIR} or {cache}")


def export_stamp(place: Path) -> Optional[dict]:
    """The hashes of the weights and config an export was made from (its stamp), or None."""
    try:
        return json.loads((place / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _export_into(model_dir: Path, place: Path, stamp: dict) -> Path:
    """Export beside ``place`` and rename it into place.  Another process making the same export at the same time
    is harmless: whoever finds a matching export in place when theirs is done keeps that one, and a stale one is
    renamed aside before it is removed, never deleted while it could be loading."""
    place.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{place.name}.tmp-", dir=place.parent))
    try:
        export_ctranslate2(model_dir, tmp)
        (tmp / STAMP).write_text(json.dumps(stamp), encoding="utf-8")
        if export_stamp(place) == stamp:  # another process was quicker
            shutil.rmtree(tmp, ignore_errors=True)
            return place
        if place.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{place.name}.old-", dir=place.parent))
            os.replace(place, old / place.name)
            shutil.rmtree(old, ignore_errors=True)
        os.rename(tmp, place)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if export_stamp(place) == stamp:  # the rename lost a race to an equal export
            return place
        raise
    return place


class CT2Engine:
    """A CTranslate2 translator over a model folder's export (see the module's docstring).

    ``intra_threads``: threads per batch; ``inter_threads``: batches translated at once (0: one per CPU core).  The
    defaults, one thread per batch and one batch per core, are measured (``benchmarks/engines.py``): with two
    threads on one batch a single sentence decodes about 3x slower on a 2-core machine (each of the many small
    steps wakes a sleeping OpenMP thread); one thread per batch and parallel batches keep single sentences fast and
    are also faster on large inputs."""

    name = "ctranslate2"

    def __init__(self, translator, src_vocab: list[str], tgt_vocab: list[str], max_len: int):
        self.ct2 = translator
        self.src_vocab, self.tgt_vocab = src_vocab, tgt_vocab
        self.tgt_index = {p: i for i, p in enumerate(tgt_vocab)}
        self.max_len = max_len

    @classmethod
    def load(
        cls,
        folder: str | Path,
        src_vocab: list[str],
        tgt_vocab: list[str],
        max_len: int,
        device: str = "cpu",
        compute_type: str = "default",
        intra_threads: int = 1,
        inter_threads: int = 0,
    ) -> "CT2Engine":
        import ctranslate2
        import torch

        threads = torch.get_num_threads()
        tr = ctranslate2.Translator(
            str(folder),
            device=device,
            compute_type=compute_type,
            intra_threads=intra_threads,
            inter_threads=inter_threads or os.cpu_count() or 1,
        )
        # CTranslate2 sets the process's OpenMP threads to its intra_threads, PyTorch's among them; the PyTorch
        # searches of this process (the placeholder limits, the microscope) keep the threads they had, and
        # CTranslate2's own threads are unaffected (benchmarks/README.md, "One translator, two engines").
        torch.set_num_threads(threads)
        return cls(tr, src_vocab, tgt_vocab, max_len)

    def search(
        self,
        src_ids: Sequence[Sequence[int]],
        settings: SearchSettings,
        prefixes: Optional[Sequence[Sequence[int]]] = None,
        banned: Optional[Sequence[Sequence[int]]] = None,
        attention: bool = True,
        progress: bool = False,
        keep_capped: bool = False,
    ) -> list[Optional[list[Hypothesis]]]:
        """As ``TorchEngine.search``, for what CTranslate2 can do.  A source whose search reached its own length
        cap gives None: CTranslate2 caps a batch, not a sentence, and ends a capped output without ``</s>``,
        where ours forces ``</s>``; the caller searches that one on PyTorch.  Sources with the same ``banned``
        pieces share a call (CTranslate2 suppresses pieces per call), and the calls run in parallel.  Scores leave
        a prefix out, as both engines rank (``constraints.force``).  ``keep_capped``: a capped output is kept, with
        ``</s>`` put after it (for an export that has no PyTorch weights to search it again)."""
        caps = settings.caps([len(x) for x in src_ids], self.max_len)
        if prefixes:
            caps = [max(c, min(self.max_len - 1, len(p) + 1)) for c, p in zip(caps, prefixes)]
        groups: dict[tuple, list[int]] = {}
        for i, ids in enumerate(src_ids):
            if ids:
                groups.setdefault(tuple(sorted(banned[i])) if banned else (), []).append(i)
        jobs = []
        for ban, idx in groups.items():
            idx.sort(key=lambda i: -len(src_ids[i]))
            jobs.append((idx, self._start(src_ids, idx, ban, prefixes, max(caps[i] for i in idx) - 1, settings)))
        out: list[Optional[list[Hypothesis]]] = [None] * len(src_ids)
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=sum(len(idx) for idx, _ in jobs), unit="sent", file=sys.stderr)
        for idx, pending in jobs:
            for i, res in zip(idx, pending):
                out[i] = self._hypotheses(
                    res.result(), caps[i], settings.length_penalty, attention and settings.beam_size, keep_capped
                )
                if bar is not None:
                    bar.update()
        if bar is not None:
            bar.close()
        return out

    def _start(self, src_ids, idx: list[int], ban: tuple, prefixes, max_length: int, settings: SearchSettings):
        """One asynchronous CTranslate2 call for the sources ``idx``."""
        suppress = [[p] for p in ALWAYS_SUPPRESSED] + [[self.tgt_vocab[i]] for i in ban]
        target_prefix = None
        if prefixes and any(prefixes[i] for i in idx):
            target_prefix = [[self.tgt_vocab[t] for t in prefixes[i]] or None for i in idx]
        return self.ct2.translate_batch(
            [[self.src_vocab[t] for t in src_ids[i]] for i in idx],
            target_prefix,
            beam_size=settings.beam_size,
            num_hypotheses=settings.beam_size,
            length_penalty=settings.length_penalty,
            max_decoding_length=max_length,
            max_batch_size=settings.max_tokens,
            batch_type="tokens",
            suppress_sequences=suppress,
            no_repeat_ngram_size=settings.no_repeat_ngram,
            return_end_token=True,
            return_scores=True,
            return_attention=True,
            asynchronous=True,
        )

    def _hypotheses(
        self, res, cap: int, alpha: float, attention: int, keep_capped: bool = False
    ) -> Optional[list[Hypothesis]]:
        """Our hypotheses from one CTranslate2 result, best first, or None where the length cap decided them.
        ``attention``: 0 for none, else the beam size.  In beam search CTranslate2 4.x returns, as every sentence's
        first attention row (the step that reads ``<s>``), the first sentence of the batch's; that row is zeros here.
        A shifted reading (Shift-Att, every head we train) never reads it."""
        hyps = []
        for pieces, normalized, att in zip(res.hypotheses, res.scores, res.attention):
            if not pieces or pieces[-1] != "</s>" or len(pieces) > cap - 1:
                if not keep_capped:
                    return None
                if pieces[-1:] != ["</s>"]:  # cut at the cap: </s> after it, its attention row the last one
                    pieces = pieces + ["</s>"]
                    att = list(att) + list(att[-1:]) if att else att
            tokens = [self.tgt_index[p] for p in pieces]
            score = float(normalized) * length_penalty(len(tokens), alpha)
            rows = None
            if attention:
                rows = np.asarray(att, dtype=np.float32)
                if attention > 1:
                    rows[0] = 0.0
            hyps.append(
                Hypothesis(
                    tokens=tokens,
                    score=score,
                    normalized_score=score / length_penalty(len(tokens), alpha),
                    attention=None,
                    alignment_attention=rows,
                )
            )
        return sorted(hyps, key=lambda h: -h.normalized_score)
