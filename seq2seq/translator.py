"""The public API: ``Translator.load(dir).translate(sentences)`` -> translations with cross-attention.

Data flows one way: text -> pieces -> ids -> model -> ids -> text, with the cross-attention that
produced every output piece.  A ``Translator`` holds only read-only things (model, tokenizers,
defaults), so one instance can serve concurrent requests.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from .align import AlignMethod
from .backend import Backend, SearchSettings
from .checks import check_device, check_sentences
from .data import pack_by_tokens, pad_ids
from .decoding import BeamSearch, GreedySearch, Hypothesis
from .forced import PairAligner, TeacherForcing
from .model import EncoderDecoder
from .model_dir import FolderConfig, ModelFolderError, load_model_dir, load_names, load_truecaser, save_model_dir
from .names import NAMES_FILE, NameLexicon
from .placeholders import (
    N_PLACEHOLDERS,
    mask_like,
    placeholder,
    show_placeholders,
    unlabel_pieces,
)
from .results import Translation
from .tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, SubwordTokenizer
from .truecase import TRUECASE_FILE, EnglishRestorer, Truecaser

PRETRAINED = Path(__file__).resolve().parent / "pretrained"
DEFAULT_MODEL_DIR = PRETRAINED / "zh-en"


def resolve_model_path(path: str | Path | None) -> Path:
    """A model folder: ``None`` is the default shipped model (zh-en), a shipped model's name (``"en-zh"``)
    is that model, anything else a folder path."""
    if path is None:
        return DEFAULT_MODEL_DIR
    if isinstance(path, str) and (PRETRAINED / path / "config.json").is_file() and not Path(path).exists():
        return PRETRAINED / path
    return Path(path)


class Translator(Backend, PairAligner):
    """A model folder loaded for use: ``translate`` sentences (greedy or beam search, with the attention that
    produced every piece), and ``align``/score given pairs (:class:`~seq2seq.forced.PairAligner`)."""

    def __init__(
        self,
        model: EncoderDecoder,
        src_tok: SubwordTokenizer,
        tgt_tok: SubwordTokenizer,
        folder_config: FolderConfig,
        protos: tuple[bytes, bytes],
        device: str | torch.device = "cpu",
        truecaser: Optional[Truecaser] = None,
        names: Optional[NameLexicon] = None,
    ):
        self.model, self.src_tok, self.tgt_tok = model.eval(), src_tok, tgt_tok
        self.folder_config, self.protos = folder_config, protos
        self.device = torch.device(device)
        # The folder's English truecasing model: with one, align() restores lower-cased or tokenized English.
        self.truecaser = truecaser
        self.english_restorer = EnglishRestorer(truecaser) if truecaser is not None else None
        # The folder's name lexicon: transliterated names it knows (蒂姆·库克) are carried as their English.
        self.names = names
        # How this model's word links are read: its alignment head if it was trained with one (config.json
        # "alignment"), else the best raw-attention rule (align.DEFAULT_RAW).
        self.align_method = AlignMethod.from_config(folder_config.alignment)

    # ------------------------------------------------------------------ loading and saving
    @classmethod
    def load(cls, path: str | Path | None = None, device: str = "cpu", backend: str = "torch"):
        """Load a model folder, or a shipped model by name (``"zh-en"``, ``"en-zh"``); with no path, the
        default model shipped in the package (zh-en).

        ``backend="ctranslate2"`` loads the folder's CTranslate2 export instead (fast, no attention maps).
        """
        if path is None:
            path = DEFAULT_MODEL_DIR
            if not (path / "config.json").exists():
                raise ModelFolderError(
                    f"no default model is installed at {path}; pass a model folder (train one with seq2seq-train)"
                )
        path = resolve_model_path(path)
        check_device(device)
        if backend == "ctranslate2":
            from .ct2 import CT2Translator

            return CT2Translator.load(path, device=device)
        if backend != "torch":
            raise ValueError(f"unknown backend {backend!r} (torch or ctranslate2)")
        model, src_tok, tgt_tok, cfg, protos = load_model_dir(path, device)
        return cls(model, src_tok, tgt_tok, cfg, protos, device, truecaser=load_truecaser(path), names=load_names(path))

    def save(self, path: str | Path, card: str = "", dtype: Optional[torch.dtype] = None) -> Path:
        extra = {TRUECASE_FILE: self.truecaser.save} if self.truecaser is not None else {}
        if self.names is not None:
            extra[NAMES_FILE] = self.names.save
        return save_model_dir(
            path, self.model, *self.protos, self.folder_config, card=card, dtype=dtype, extra_files=extra
        )

    @property
    def max_source_tokens(self) -> int:
        return self.model.cfg.max_len - 1

    @property
    def languages(self) -> tuple[str, str]:
        """(source, target) language codes, e.g. ("zh", "en")."""
        cfg = self.folder_config
        return getattr(cfg, "source_lang", "zh"), getattr(cfg, "target_lang", "en")

    # ------------------------------------------------------------------ translation
    def encode_sources(self, sentences: Sequence[str]) -> list[list[int]]:
        return [ids + [EOS_ID] if ids else [] for ids in self.src_tok.encode(list(sentences))]

    def translate(
        self,
        sentences: Sequence[str] | str,
        beam_size: Optional[int] = None,
        length_penalty: Optional[float] = None,
        nbest: int = 1,
        max_len_a: Optional[float] = None,
        max_len_b: Optional[int] = None,
        use_cache: bool = True,
        return_attention: bool = True,
        max_tokens: int = 6000,
        progress: bool = False,
        dtype: Optional[torch.dtype] = None,
        prefix=None,
        return_topk: int = 0,
        return_tree: bool = False,
    ) -> list[Translation]:
        """Translate a list of Chinese sentences (a single string is treated as a list of one).

        Defaults for ``beam_size``, ``length_penalty``, ``max_len_a`` and ``max_len_b`` come from the
        model folder's ``config.json`` ("decoding"), else ``model_dir.DECODING_DEFAULTS``.  ``beam_size=1`` is greedy
        search.  Sentences are sorted by length and batched by ``max_tokens`` source tokens.
        An empty sentence gives an empty translation.  A source over the model's length limit
        (``max_source_tokens`` pieces) raises ``ValueError``: split it first.
        ``dtype=torch.bfloat16`` runs the matrix products under bf16 autocast (LayerNorm, softmax and
        scores stay fp32): about 1.4x faster on CPUs with AVX-512 bf16, with slightly different outputs.
        ``return_attention="all"`` also fills ``encoder_attention`` and ``decoder_attention`` (see ``Translation``).
        ``prefix``: English the output must start with, per sentence (a list with one entry per sentence, each
        text, a list of pieces, or None; a single string or piece list applies to a single sentence); the search
        continues from it, and pieces, scores and attention cover the whole output, prefix included.
        ``return_topk=k`` fills ``t.topk``: for every output piece, the k most probable pieces at that step
        on the hypothesis's own path, as ``(piece, probability)``, best first.
        ``return_tree=True`` (beam search) fills ``t.tree``: every hypothesis the search scored (see ``Translation``).
        """
        if isinstance(sentences, str):
            sentences = [sentences]
            prefix = None if prefix is None else [prefix]  # the prefix of that one sentence
        sentences = check_sentences(sentences)
        settings = self.search_settings(beam_size, length_penalty, nbest, max_len_a, max_len_b, max_tokens)
        strategy = self._search_strategy(
            settings, return_tree, use_cache=use_cache, return_attention=return_attention, return_topk=return_topk
        )
        masked = [self.mask_source(x) for x in sentences]
        spans = [sp for _, sp in masked]
        prefixes = self.encode_prefixes(prefix, len(sentences), spans)
        src_ids = self.encode_sources([m for m, _ in masked])
        self._check_source_lengths(src_ids)
        results = self._search(strategy, src_ids, prefixes, max_tokens, progress, dtype)
        results = [r if r is not None else self._empty(return_attention) for r in results]  # empty inputs
        full_context = bool(return_attention) and self.align_method.full_context
        if return_attention == "all" or full_context:
            self._add_teacher_forced(
                [r for r in results if r.target_tokens],
                max_tokens,
                dtype,
                all_attention=return_attention == "all",
                full_context=full_context,
            )
        for r, sp in zip(results, spans):
            if sp:
                show_placeholders(r, sp)
        if return_attention:  # for Translation.coverage: the model's word links and its languages
            for r in results:
                r.align_method, r.languages = self.align_method, self.languages
        return results  # type: ignore[return-value]

    def _search_strategy(self, settings: SearchSettings, return_tree: bool, **opts):
        """Greedy or beam search with these settings; ``opts``: the other arguments of ``DecodeStrategy``."""
        if not 0 <= opts["return_topk"] <= self.model.cfg.tgt_vocab_size:
            raise ValueError(f"return_topk must be in 0..{self.model.cfg.tgt_vocab_size}, got {opts['return_topk']}")
        opts.update(length_penalty=settings.length_penalty, max_len_a=settings.max_len_a, max_len_b=settings.max_len_b)
        if settings.beam_size == 1:
            return GreedySearch(self.model, **opts)
        return BeamSearch(
            self.model, beam_size=settings.beam_size, nbest=settings.nbest, return_tree=return_tree, **opts
        )

    def _check_source_lengths(self, src_ids: list[list[int]]) -> None:
        for i, ids in enumerate(src_ids):
            if len(ids) > self.max_source_tokens:
                raise ValueError(
                    f"sentence {i} has {len(ids)} source pieces; the model reads at most "
                    f"{self.max_source_tokens}: split it into shorter sentences"
                )

    def _search(self, strategy, src_ids, prefixes, max_tokens: int, progress: bool, dtype) -> list:
        """Each non-empty source searched, longest first in batches of ``max_tokens`` source tokens (as
        CTranslate2's batch_type="tokens"; beam search then holds beam_size hypotheses per sentence, while C and
        the cross-attention K/V stay one per sentence).  Returns a Translation per source, None where empty."""
        results: list[Optional[Translation]] = [None] * len(src_ids)
        order = sorted((i for i, ids in enumerate(src_ids) if ids), key=lambda i: -len(src_ids[i]))
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(order), unit="sent", file=sys.stderr)
        for batch in pack_by_tokens(order, [len(x) for x in src_ids], max_tokens):
            src = pad_ids([src_ids[i] for i in batch])
            with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
                hyps = strategy.search(
                    src.to(self.device),
                    [prefixes[i] for i in batch] if prefixes else None,
                    self.placeholder_limits([src_ids[i] for i in batch]),
                )
            for i, sent_hyps in zip(batch, hyps):
                results[i] = self._to_translation(src_ids[i], sent_hyps)
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.close()
        return results

    def placeholder_limits(self, src_ids: list[list[int]]) -> Optional[tuple[torch.Tensor, torch.Tensor]]:
        """For the search (``DecodeStrategy._carry``): the target's placeholder ids, and how often each
        sentence's source holds each placeholder; None when the batch has none."""
        if not self.uses_placeholders:
            return None
        src_ph = self.src_tok.pieces_to_ids([placeholder(p) for p in range(N_PLACEHOLDERS)])
        counts = torch.tensor([[ids.count(i) for i in src_ph] for ids in src_ids])
        if not counts.any():
            return None
        return torch.tensor(self.tgt_tok.pieces_to_ids([placeholder(p) for p in range(N_PLACEHOLDERS)])), counts

    def encode_prefixes(self, prefix, n: int, spans: Optional[list[list[str]]] = None) -> Optional[list[list[int]]]:
        """Prefixes as target ids, one list per sentence (see ``translate``); None when there are none.
        ``spans``: each sentence's placeholder spans, which the prefix spells as text or as labelled pieces."""
        if prefix is None:
            return None
        if isinstance(prefix, str):
            raise TypeError("prefix: give a list with one prefix per sentence (or pass the sentence as a string)")
        prefix = list(prefix)
        if len(prefix) != n:
            raise ValueError(f"prefix has {len(prefix)} entries for {n} sentences (give one per sentence, or None)")
        out = []
        for i, p in enumerate(prefix):
            if p is None or p == "" or p == []:
                out.append([])
            elif isinstance(p, str):
                out.append(self.tgt_tok.encode([mask_like(p, spans[i]) if spans else p])[0])
            elif isinstance(p, (list, tuple)) and all(isinstance(x, str) for x in p):
                ids = self.tgt_tok.pieces_to_ids(unlabel_pieces(p, spans[i]) if spans else p)
                bad = [x for x, j in zip(p, ids) if j == UNK_ID and x != "<unk>" or j in (PAD_ID, BOS_ID, EOS_ID)]
                if bad:
                    raise ValueError(f"prefix {i}: the vocabulary has no piece {bad[0]!r}")
                out.append(ids)
            else:
                raise TypeError(f"prefix {i} is {type(p).__name__}: give text, a list of pieces, or None")
        return out if any(out) else None

    def _add_teacher_forced(
        self, translations: list[Translation], max_tokens: int, dtype, all_attention: bool, full_context: bool
    ) -> None:
        """One teacher-forced pass over each (best) translation's own pieces, which computes exactly what the
        search computed for them, and keeps what the search does not: encoder and decoder self-attention
        (``all_attention``) and the full-context cross-attention a full-context alignment head links from."""
        if not translations:
            return
        src_ids = [self.src_tok.pieces_to_ids(t.source_tokens) for t in translations]
        tgt_ids = [self.tgt_tok.pieces_to_ids(t.target_tokens[:-1]) for t in translations]
        strategy = TeacherForcing(self.model)
        order = sorted(range(len(translations)), key=lambda i: -len(src_ids[i]))
        for batch in pack_by_tokens(order, [len(x) for x in src_ids], max_tokens):
            src = pad_ids([src_ids[i] for i in batch])
            with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
                hyps = strategy.score(
                    src.to(self.device),
                    [tgt_ids[i] for i in batch],
                    all_attention=all_attention,
                    full_context=full_context,
                )
            for i, h in zip(batch, hyps):
                if all_attention:
                    translations[i].encoder_attention = h.encoder_attention.numpy()
                    translations[i].decoder_attention = h.decoder_attention.numpy()
                if full_context:
                    translations[i].full_context_attention = h.full_context_attention.numpy()

    def _to_translation(self, src_ids: list[int], hyps: list[Hypothesis]) -> Translation:
        src_pieces = self.src_tok.ids_to_pieces(src_ids)
        out = []
        for h in hyps:
            att = h.attention.cpu().numpy() if h.attention is not None else None
            topk = None
            if h.topk is not None:
                probs, ids = h.topk
                topk = [
                    list(zip(self.tgt_tok.ids_to_pieces(ir), map(float, pr)))
                    for pr, ir in zip(probs.tolist(), ids.tolist())
                ]
            tree = None
            if h.tree is not None:
                tree = [
                    [{**node, "piece": self.tgt_tok.ids_to_pieces([node["token"]])[0]} for node in step]
                    for step in h.tree
                ]
            out.append(
                Translation(
                    text=self.tgt_tok.decode(h.tokens),
                    source_tokens=src_pieces,
                    target_tokens=self.tgt_tok.ids_to_pieces(h.tokens),
                    cross_attention=att,
                    score=h.score,
                    normalized_score=h.normalized_score,
                    topk=topk,
                    tree=tree,
                )
            )
        best = out[0]
        best.nbest = out
        return best

    def _empty(self, return_attention: bool) -> Translation:
        cfg = self.model.cfg
        att = np.zeros((cfg.n_dec_layers, cfg.n_heads, 0, 0), dtype=np.float32) if return_attention else None
        return self.empty_translation(att)
