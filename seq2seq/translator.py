"""The public API: ``Translator.load(dir).translate(sentences)`` -> translations with the word links that produced
them.

One translator, two engines.  ``Translator.load`` searches with CTranslate2 where it is installed (fast) and
explains with our PyTorch model on demand: every layer's attention, self-attention, the top candidates at every
step, the beam tree and forced alignment come from the PyTorch engine of the same folder, loaded the first time
such a request comes.  ``backend="torch"`` uses PyTorch for everything.

Data flows one way: text -> :class:`~seq2seq.codec.FolderCodec` (pieces, ids) -> an engine (hypotheses) -> the
codec again (a complete :class:`~seq2seq.results.Translation`).  A ``Translator`` holds only read-only things, so
one instance serves concurrent requests.

Both engines search the same way, so they give the same translations (up to float rounding on near-ties): a
search bans the placeholders its source lacks; of its ``beam_size`` hypotheses the best one that carries every
placeholder of the source no more often than the source has it wins; where none does, a PyTorch search with those
limits built in decides (``Translation.search`` says which path gave each translation).
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np
import torch

from .align import AlignMethod
from .aligner import Aligner
from .checks import check_decoding_args, check_device, check_search_args, check_sentences
from .codec import FolderCodec
from .direction import LANGUAGE_NAMES, Direction
from .engine import HeadChoice, SearchSettings, TorchEngine, head_choice
from .model import EncoderDecoder
from .model_dir import (
    FolderConfig,
    ModelFolderError,
    load_folder_files,
    load_model_dir,
    optional_file_writers,
    read_folder_config,
    save_model_dir,
)
from .results import Alignment, Translation
from .searcher import Searcher
from .tokenizer import SubwordTokenizer

PRETRAINED = Path(__file__).resolve().parent / "pretrained"
DEFAULT_MODEL_DIR = PRETRAINED / "zh-en"
BACKENDS = ("auto", "ctranslate2", "torch")


def resolve_model_path(path: str | Path | None) -> Path:
    """A model folder: ``None`` is the default shipped model (zh-en), a shipped model's name (``"en-zh"``)
    is that model, anything else a folder path."""
    if path is None:
        return DEFAULT_MODEL_DIR
    if not str(path).strip():
        raise ModelFolderError(
            f"no model given (an empty name): use a shipped model ({', '.join(shipped_models())}) or a folder"
        )
    if isinstance(path, str) and (PRETRAINED / path / "config.json").is_file() and not Path(path).exists():
        return PRETRAINED / path
    return Path(path)


def shipped_models() -> list[str]:
    return sorted(p.name for p in PRETRAINED.iterdir() if (p / "config.json").is_file()) if PRETRAINED.is_dir() else []


class Translator:
    """A model folder loaded for use: ``translate`` sentences (greedy or beam search, with the word links that
    produced every piece), and ``align``/score given pairs.  Build one with :meth:`load` (or :meth:`from_model`
    around a PyTorch model in memory)."""

    def __init__(
        self,
        codec: FolderCodec,
        engine,
        config: FolderConfig,
        protos: tuple[bytes, bytes],
        path: Optional[Path] = None,
        device: str | torch.device = "cpu",
    ):
        self.codec, self.engine, self.config, self.protos = codec, engine, config, protos
        self.path, self.device = path, torch.device(device)
        self.direction: Direction = config.direction
        # How this model's word links are read for given pairs (align): its alignment head if it was trained with
        # one (config.json "alignment"), else the best raw-attention rule (align.DEFAULT_RAW).
        self.align_method = AlignMethod.from_config(config.alignment)
        # How a translation's links are read: the same head as the search saw it (causal), which both engines
        # return at search speed (docs/alignment.md compares the two readings).
        self.link_method = dataclasses.replace(self.align_method, full_context=False)
        self.head: HeadChoice = head_choice(self.align_method, config.model.n_dec_layers)
        self._torch: Optional[TorchEngine] = engine if isinstance(engine, TorchEngine) else None
        self._torch_lock = threading.Lock()
        # The hashes of the weights the search engine was made from (a CTranslate2 export's stamp): the PyTorch
        # engine loaded later must be made from the same weights, or the two engines would disagree.
        self.weights_stamp: Optional[dict] = None

    # ------------------------------------------------------------------ loading and saving
    @classmethod
    def load(
        cls, path: str | Path | None = None, device: str = "cpu", backend: str = "auto", **ct2_options
    ) -> "Translator":
        """Load a model folder, or a shipped model by name (``"zh-en"``, ``"en-zh"``); with no path, the default
        model shipped in the package (zh-en).

        ``backend``: ``"auto"`` (default) searches with CTranslate2 when it is installed, else with PyTorch;
        ``"ctranslate2"`` insists on it; ``"torch"`` uses PyTorch only.  The CTranslate2 form of the folder is
        made the first time it is needed (``seq2seq.ct2_engine.ct2_folder``).  ``ct2_options``: ``compute_type``
        (e.g. ``"int8"``), ``intra_threads`` and ``inter_threads`` of ``CT2Engine.load``."""
        from . import ct2_engine

        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r} (auto, ctranslate2 or torch)")
        if path is None and not (DEFAULT_MODEL_DIR / "config.json").exists():
            raise ModelFolderError(
                f"no default model is installed at {DEFAULT_MODEL_DIR}; pass a model folder (train one with "
                "seq2seq-train)"
            )
        path = resolve_model_path(path)
        check_device(device)
        if not path.is_dir():
            hint = f"; the shipped models are {', '.join(shipped_models())}" if len(path.parts) == 1 else ""
            raise ModelFolderError(f"model folder {path} does not exist or is not a directory{hint}")
        if ct2_engine.is_export(path):  # a seq2seq-export folder: CTranslate2 only
            if backend == "torch":
                raise ModelFolderError(
                    f"{path} is a CTranslate2 export (seq2seq-export output), which PyTorch cannot load: use "
                    "backend='ctranslate2', or the model folder it was exported from"
                )
            return cls._load_ct2(path, path, device, ct2_options)
        if backend == "ctranslate2" and not ct2_engine.available():
            raise ImportError("the CTranslate2 backend needs ctranslate2: pip install ctranslate2")
        if backend == "torch" or (backend == "auto" and not ct2_engine.available()):
            return cls._load_torch(path, device)
        if device != "cpu" and backend == "auto":  # CTranslate2 wheels for CPU are the common case
            return cls._load_torch(path, device)
        if backend == "auto" and not AlignMethod.from_config(read_folder_config(path).alignment).shift:
            return cls._load_torch(path, device)  # CTranslate2 misreports the first row, which this head reads
        return cls._load_ct2(path, ct2_engine.ct2_folder(path), device, ct2_options)

    @classmethod
    def _load_torch(cls, path: Path, device: str) -> "Translator":
        model, src_tok, tgt_tok, cfg, protos = load_model_dir(path, device)
        files = load_folder_files(path)
        return cls.from_model(model, src_tok, tgt_tok, cfg, protos, device, path=path, **files)

    @classmethod
    def _load_ct2(cls, path: Path, export: Path, device: str, options: dict) -> "Translator":
        from .ct2_engine import CT2Engine
        from .export import CT2_OUR_CONFIG
        from .model_dir import load_tokenizers

        cfg = read_folder_config(export, CT2_OUR_CONFIG)
        src_tok, tgt_tok, src_proto, tgt_proto = load_tokenizers(export, cfg.t2s, cfg.direction)
        vocab = lambda tok: tok.ids_to_pieces(range(tok.vocab_size))
        engine = CT2Engine.load(export, vocab(src_tok), vocab(tgt_tok), cfg.model.max_len, device=device, **options)
        codec = FolderCodec(  # the optional files of the folder itself: its export may be older than they are
            cfg.direction,
            src_tok,
            tgt_tok,
            cfg.model.max_len,
            **load_folder_files(path),
        )
        tr = cls(codec, engine, cfg, (src_proto, tgt_proto), path=path, device=device)
        if export != path:  # the hashes ct2_folder just matched, read from the export's stamp (not hashed again)
            from .ct2_engine import export_stamp

            tr.weights_stamp = export_stamp(export)
        return tr

    @classmethod
    def from_model(
        cls,
        model: EncoderDecoder,
        src_tok: SubwordTokenizer,
        tgt_tok: SubwordTokenizer,
        folder_config: FolderConfig,
        protos: tuple[bytes, bytes],
        device: str | torch.device = "cpu",
        truecaser=None,
        names=None,
        path: Optional[Path] = None,
        known_words=None,
    ) -> "Translator":
        """A PyTorch translator around a model in memory (training, tests)."""
        cfg = folder_config
        codec = FolderCodec(cfg.direction, src_tok, tgt_tok, model.cfg.max_len, names, truecaser, known_words)
        head = head_choice(AlignMethod.from_config(folder_config.alignment), model.cfg.n_dec_layers)
        return cls(codec, TorchEngine(model, head, device), folder_config, protos, path=path, device=device)

    def save(self, path: str | Path, card: str = "", dtype: Optional[torch.dtype] = None) -> Path:
        extra = optional_file_writers(self.codec.optional_files())
        return save_model_dir(
            path, self.torch.model, *self.protos, self.config, card=card, dtype=dtype, extra_files=extra
        )

    @property
    def torch(self) -> TorchEngine:
        """The PyTorch engine of this folder: this translator's own, or loaded once when first needed."""
        if self._torch is None:
            with self._torch_lock:
                if self._torch is None:
                    if self.path is None or not (self.path / "model.safetensors").is_file():
                        raise ModelFolderError(
                            f"{self.path} holds no PyTorch weights (a CTranslate2 export): top-k, the beam tree, "
                            "every layer's attention and forced alignment need the model folder it was exported from"
                        )
                    self._check_weights_unchanged()
                    model = load_model_dir(self.path, self.device)[0]
                    self._torch = TorchEngine(model, self.head, self.device)
        return self._torch

    def _check_weights_unchanged(self) -> None:
        """The folder's weights are still those the search engine was made from (a folder trained again in place
        while this translator was loaded would give a PyTorch engine that disagrees with the search)."""
        from .ct2_engine import fingerprint

        if self.weights_stamp is not None and fingerprint(self.path) != self.weights_stamp:
            raise ModelFolderError(
                f"the weights in {self.path} changed after this translator loaded them; load it again "
                "(Translator.load) so that both engines use the same weights"
            )

    def _torch_if_any(self) -> Optional[TorchEngine]:
        """The PyTorch engine, or None where the folder is a CTranslate2 export alone."""
        if self._torch is None and (self.path is None or not (self.path / "model.safetensors").is_file()):
            return None
        return self.torch

    @property
    def backend(self) -> str:
        """The engine that searches: ``"ctranslate2"`` or ``"torch"``."""
        return self.engine.name

    @property
    def max_source_tokens(self) -> int:
        return self.codec.max_source_tokens

    @property
    def languages(self) -> tuple[str, str]:
        """(source, target) language codes, e.g. ("zh", "en")."""
        return self.direction.languages

    # ------------------------------------------------------------------ translation
    def search_settings(
        self,
        beam_size: Optional[int] = None,
        length_penalty: Optional[float] = None,
        nbest: int = 1,
        max_len_a: Optional[float] = None,
        max_len_b: Optional[int] = None,
        max_tokens: int = 6000,
        no_repeat_ngram: Optional[int] = None,
    ) -> SearchSettings:
        """The settings given, checked (a clear ``ValueError`` for each out of range), with the model folder's
        decoding defaults (config.json "decoding", else ``model_dir.DECODING_DEFAULTS``) where they are None."""
        check_search_args(length_penalty, max_tokens, max_len_a, max_len_b, no_repeat_ngram)
        d = self.config.decoding
        s = SearchSettings(
            beam_size=beam_size if beam_size is not None else d["beam_size"],
            nbest=nbest,
            length_penalty=length_penalty if length_penalty is not None else d["length_penalty"],
            max_len_a=max_len_a if max_len_a is not None else d["max_len_a"],
            max_len_b=max_len_b if max_len_b is not None else d["max_len_b"],
            max_tokens=max_tokens,
            no_repeat_ngram=no_repeat_ngram if no_repeat_ngram is not None else int(d["no_repeat_ngram"]),
        )
        check_decoding_args(s.beam_size, nbest)
        return s

    def translate(
        self,
        sentences: Sequence[str] | str,
        beam_size: Optional[int] = None,
        length_penalty: Optional[float] = None,
        nbest: int = 1,
        max_len_a: Optional[float] = None,
        max_len_b: Optional[int] = None,
        use_cache: bool = True,
        return_attention: bool | str = True,
        max_tokens: int = 6000,
        progress: bool = False,
        dtype: Optional[torch.dtype] = None,
        prefix=None,
        return_topk: int = 0,
        return_tree: bool = False,
        no_repeat_ngram: Optional[int] = None,
        ready: Optional[Callable[[int, Translation], None]] = None,
    ) -> list[Translation]:
        """Translate a list of sentences in the model's source language (a single string is a list of one).

        Defaults for ``beam_size``, ``length_penalty``, ``max_len_a`` and ``max_len_b`` come from the model folder's
        ``config.json`` ("decoding"), else ``model_dir.DECODING_DEFAULTS``.  ``beam_size=1`` is greedy search.
        Sentences are sorted by length and batched by ``max_tokens`` source tokens.  An empty sentence gives an empty
        translation; a source over the model's length limit (``max_source_tokens`` pieces) raises ``ValueError``:
        split it first (``translator.codec.split_long``).

        ``return_attention=True`` (default): each translation carries the attention its word links are read from
        (``alignment_attention``, so ``t.coverage.links`` work on either engine); on the PyTorch engine also every
        layer's cross-attention.  ``"all"`` also fills every layer's cross-attention, ``encoder_attention``,
        ``decoder_attention`` and ``full_context_attention`` (PyTorch).  ``prefix``: text (or pieces) each output
        must start with, one entry per sentence.  ``return_topk=k``: for every output piece the k most probable
        pieces at that step (PyTorch).  ``return_tree=True``: every hypothesis the beam search scored (PyTorch).
        ``no_repeat_ngram=n``: no n-gram of pieces twice in an output (fairseq's and CTranslate2's
        ``no_repeat_ngram_size``; default: the folder's, else 0, off).  ``dtype=torch.bfloat16``: bf16 autocast on the
        PyTorch engine.  ``use_cache=False``: re-run the whole prefix
        at every step (PyTorch; for tests).  ``ready(i, translation)``: called once with each sentence's translation
        when it is final, so a server can answer most requests before the few that need a PyTorch search with the
        placeholder limits are done (``Searcher.run`` says which come early; with ``return_attention="all"`` all
        come after the forced pass); the list returned holds the same objects.
        """
        if isinstance(sentences, str):
            sentences = [sentences]
            prefix = None if prefix is None else [prefix]  # the prefix of that one sentence
        sentences = check_sentences(sentences, language=LANGUAGE_NAMES[self.direction.source])
        settings = self.search_settings(
            beam_size, length_penalty, nbest, max_len_a, max_len_b, max_tokens, no_repeat_ngram
        )
        src = self.codec.encode_sources(sentences)
        prefixes = self.codec.encode_prefixes(prefix, len(sentences), src.spans)
        explain = return_attention == "all" or return_topk or return_tree or not use_cache or dtype is not None
        engine = self.torch if explain else self.engine
        opts = dict(attention=bool(return_attention))
        if engine is self._torch:
            opts.update(topk=return_topk, tree=return_tree, use_cache=use_cache, dtype=dtype)
        out: list = [None] * len(sentences)
        hand_on = ready or (lambda i, t: None)
        for i in (i for i, ids in enumerate(src.ids) if not ids):
            out[i] = self._empty(bool(return_attention), "".join(m.text for m in src.marks[i]))
            hand_on(i, out[i])

        def settle(i: int, hyps: list, how: str) -> None:
            texts = dict(source_text=src.texts[i], marks=src.marks[i])
            out[i] = self.codec.translation(src.ids[i], hyps, src.spans[i], how, self.link_method, **texts)
            if return_attention != "all":  # "all": handed on after the forced pass
                hand_on(i, out[i])

        chosen = Searcher(self.codec, self._torch_if_any).run(engine, src, settings, prefixes, opts, progress, settle)
        if return_attention == "all":  # one forced pass computes exactly what the search did, and keeps the rest
            live = [i for i, ids in enumerate(src.ids) if ids]
            ids, outs = [src.ids[i] for i in live], [chosen[i][0][0].tokens[:-1] for i in live]
            every = dict(all_attention=True, full_context=True, dtype=dtype, banned=self.codec.banned(ids))
            forced = self.torch.force(ids, outs, max_tokens, **every)
            for i, h in zip(live, forced):
                out[i].keep_forced(h)
                hand_on(i, out[i])
        return out

    def _empty(self, attention: bool, text: str = "") -> Translation:
        """The translation of an empty sentence (``text``: its markup or emoji, given back): no pieces, score 0."""
        cfg = self.config.model
        att = np.zeros((cfg.n_dec_layers, cfg.n_heads, 0, 0), dtype=np.float32) if attention else None
        t = Translation(
            text=text, source_tokens=[], target_tokens=[], cross_attention=att, score=0.0, normalized_score=0.0
        )
        t.nbest, t.align_method, t.languages = [t], self.link_method, self.languages
        t.alignment_attention = None if att is None else att[0, 0]
        return t

    # ------------------------------------------------------------------ given pairs
    def align(
        self,
        sources: Sequence[str] | str,
        targets: Sequence[str] | str,
        pretokenized: bool = False,
        method: Optional[AlignMethod] = None,
        length_penalty: Optional[float] = None,
        max_tokens: int = 6000,
        progress: bool = False,
        dtype: Optional[torch.dtype] = None,
        skip_long: bool = False,
        restore_english: bool = True,
        by_sentence: bool = True,
    ) -> list[Alignment]:
        """Run the model on given pairs (teacher forcing on the PyTorch engine, batched) and link their words.

        ``pretokenized=True``: both sides are words separated by spaces (as in gold alignment sets).  The model
        still reads the text as it was trained: Chinese words joined without spaces, English words joined by
        spaces; links index these words.  Otherwise words are as in ``--alignments word``: Chinese characters
        (runs of other characters) and English whitespace tokens.  ``method`` (default the translator's
        ``align_method``, the alignment head in its full-context pass) picks the attention.  An empty side gives
        an empty result; a side over the model's length limit raises ValueError, or with ``skip_long=True`` gives
        an empty result too (no links).  ``restore_english`` (default True): where the model folder has a
        truecasing model (``truecase.model``), English that is all lower-case or tokenized (``it 's``,
        ``( reporter``, ``-LRB-``) is restored before the model reads it (:mod:`seq2seq.truecase`); its pieces are
        mapped back to the words given, which the links index.  False: the model reads the English as given.
        ``by_sentence`` (default True): pairs of several sentences a side are read sentence by sentence, and a
        long sentence pair in halves where its links part (:mod:`seq2seq.sentence_pairs`); False reads every pair
        whole.
        """
        aligner = Aligner(self.codec, self.torch, self.align_method, self.config.decoding["length_penalty"])
        options = (method, length_penalty, max_tokens, progress, dtype, skip_long, restore_english, by_sentence)
        return aligner.align(sources, targets, pretokenized, *options)

    def restore_english(self, texts, words=None):
        """See :meth:`seq2seq.codec.FolderCodec.restore_english`."""
        return self.codec.restore_english(texts, words)

    # ------------------------------------------------------------------ attribution and the logit lens
    def attribute(self, sources, targets=None, method: str = "input_x_gradient", **options) -> list:
        """What each output piece drew on, in the source and in its own prefix (needs captum): one
        :class:`~seq2seq.attribution.Attribution` per sentence (``source`` [T, S], ``prefix`` [T, T], ``source_share``
        [T], pieces and words, the head's links and the agreement).  ``targets``: texts, or this model's
        ``Translation`` of each source; without them, the model's own translation.  ``method``:
        ``"input_x_gradient"``, ``"integrated_gradients"``, ``"ablation"`` or ``"source_ablation"``;
        ``contrast=(output word, alternative)`` explains log p(chosen) - log p(alternative) instead.  Options and
        methods: :mod:`seq2seq.attributor` and docs/attribution.md."""
        from .attributor import attribute

        return attribute(self, sources, targets, method, **options)

    def logit_lens(self, sources, targets=None, **options) -> list:
        """Each decoder layer's output read through the final LayerNorm and the output projection, one
        :class:`~seq2seq.lens.LogitLens` per sentence: ``ranks`` [layers, T] of the piece finally chosen, ``top``
        three (piece, probability) per layer and step.  ``targets`` as :meth:`attribute`'s; without them, the
        model's own translation."""
        from .lens import logit_lens

        return logit_lens(self, sources, targets, **options)


def note_if_slow(translator: Translator, who: str) -> None:
    """One line on stderr where speed matters and CTranslate2 is missing."""
    if translator.backend == "torch" and translator.path is not None:
        from .ct2_engine import available

        if not available():
            print(
                f"{who}: CTranslate2 is not installed; searching with PyTorch (slower): pip install ctranslate2",
                file=sys.stderr,
            )
