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

from .align import AlignMethod, links_to_words, piece_alignment, pieces_to_words, word_units
from .decoding import BeamSearch, GreedySearch, Hypothesis, TeacherForcing
from .model import EncoderDecoder
from .model_dir import FolderConfig, ModelFolderError, load_model_dir, load_truecaser, save_model_dir
from .placeholders import (
    N_PLACEHOLDERS,
    has_placeholders,
    label_pieces,
    mask_like,
    mask_source,
    placeholder,
    show_placeholders,
    source_forms,
    unlabel_pieces,
)
from .results import Alignment, Translation, check_decoding_args, check_device, check_search_args, check_sentences
from .results import length_penalty as lp_divisor
from .tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, SubwordTokenizer
from .truecase import TRUECASE_FILE, EnglishRestorer, Restored, Truecaser

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


class Translator:
    def __init__(
        self,
        model: EncoderDecoder,
        src_tok: SubwordTokenizer,
        tgt_tok: SubwordTokenizer,
        folder_config: FolderConfig,
        protos: tuple[bytes, bytes],
        device: str | torch.device = "cpu",
        truecaser: Optional[Truecaser] = None,
    ):
        self.model, self.src_tok, self.tgt_tok = model.eval(), src_tok, tgt_tok
        self.folder_config, self.protos = folder_config, protos
        self.device = torch.device(device)
        # The folder's English truecasing model: with one, align() restores lower-cased or tokenized English.
        self.truecaser = truecaser
        self.english_restorer = EnglishRestorer(truecaser) if truecaser is not None else None

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
        return cls(model, src_tok, tgt_tok, cfg, protos, device, truecaser=load_truecaser(path))

    def save(self, path: str | Path, card: str = "", dtype: Optional[torch.dtype] = None) -> Path:
        extra = {TRUECASE_FILE: self.truecaser.save} if self.truecaser is not None else None
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
        check_search_args(length_penalty, max_tokens, max_len_a, max_len_b)
        strategy = self._search_strategy(
            beam_size,
            nbest,
            return_tree,
            length_penalty=length_penalty,
            max_len_a=max_len_a,
            max_len_b=max_len_b,
            use_cache=use_cache,
            return_attention=return_attention,
            return_topk=return_topk,
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

    def _search_strategy(self, beam_size: Optional[int], nbest: int, return_tree: bool, **opts):
        """Greedy or beam search: ``opts`` (DecodeStrategy's arguments) with the folder's decoding defaults
        ("decoding" in config.json) where they are None."""
        d = self.folder_config.decoding
        beam_size = beam_size if beam_size is not None else d["beam_size"]
        check_decoding_args(beam_size, nbest)
        if not 0 <= opts["return_topk"] <= self.model.cfg.tgt_vocab_size:
            raise ValueError(f"return_topk must be in 0..{self.model.cfg.tgt_vocab_size}, got {opts['return_topk']}")
        for key in ("max_len_a", "max_len_b", "length_penalty"):
            if opts[key] is None:
                opts[key] = d[key]
        if beam_size == 1:
            if nbest != 1:
                raise ValueError("greedy search (beam_size=1) gives one hypothesis: use nbest=1")
            return GreedySearch(self.model, **opts)
        return BeamSearch(self.model, beam_size=beam_size, nbest=nbest, return_tree=return_tree, **opts)

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
        for batch in _batches(order, src_ids, max_tokens):
            src = _padded([src_ids[i] for i in batch])
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

    @property
    def uses_placeholders(self) -> bool:
        """Was this model trained to carry names and numbers as placeholders (``seq2seq.placeholders``)?"""
        return has_placeholders(self.src_tok) and has_placeholders(self.tgt_tok)

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

    def mask_source(self, text: str) -> tuple[str, list[str]]:
        """The source as the model reads it (names and numbers as placeholders, if it uses them), and the spans."""
        return mask_source(text, self.folder_config.source_lang) if self.uses_placeholders else (text, [])

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
        for batch in _batches(order, src_ids, max_tokens):
            src = _padded([src_ids[i] for i in batch])
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

    # ------------------------------------------------------------------ forced alignment and scoring
    @property
    def align_method(self) -> AlignMethod:
        """How this model's word links are read: its alignment head if it was trained with one
        (config.json "alignment"), else the best raw-attention rule (``align.DEFAULT_RAW``)."""
        return AlignMethod.from_config(self.folder_config.alignment)

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
    ) -> list[Alignment]:
        """Run the model on given Chinese/English pairs (teacher forcing, batched) and link their words.

        ``pretokenized=True``: both sides are words separated by spaces (as in gold alignment sets).
        The model still reads the text as it was trained: the Chinese words joined without spaces,
        the English words joined by spaces; links index these words.  Otherwise words are as in
        ``--alignments word``: Chinese characters (runs of other characters) and English
        whitespace tokens.  ``method`` (default :attr:`align_method`) picks the attention.
        An empty side gives an empty result; a side over the model's length limit raises ValueError,
        or with ``skip_long=True`` gives an empty result too (no links).
        ``restore_english`` (default True): where the model folder has a truecasing model (``truecase.model``),
        English that is all lower-case or tokenized (``it 's``, ``( reporter``, ``-LRB-``) is restored before the
        model reads it: recased, first word capitalised, detokenized (:mod:`seq2seq.truecase`); its pieces are
        mapped back to the words given, which the links index.  False: the model reads the English as given.
        """
        sources, targets = _check_pairs(sources, targets)
        check_search_args(length_penalty, max_tokens)
        method = method or self.align_method
        alpha = length_penalty if length_penalty is not None else self.folder_config.decoding["length_penalty"]
        src_text, tgt_text, src_w, tgt_w, restored = self._texts_to_read(
            sources, targets, pretokenized, restore_english
        )
        src_ids, tgt_ids, spans = self._pair_ids(src_text, tgt_text, skip_long)
        strategy = TeacherForcing(self.model)
        results: list[Optional[Alignment]] = [None] * len(sources)
        order = sorted(
            (i for i in range(len(sources)) if src_ids[i] and tgt_ids[i]),
            key=lambda i: -max(len(src_ids[i]), len(tgt_ids[i]) + 1),
        )
        width_of = [max(len(src_ids[i]), len(tgt_ids[i]) + 1) for i in range(len(sources))]
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(order), unit="pair", file=sys.stderr)
        for batch in _batches(order, [[0] * w for w in width_of], max_tokens):
            src = _padded([src_ids[i] for i in batch])
            with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
                hyps = strategy.score(src.to(self.device), [tgt_ids[i] for i in batch], full_context=True)
            for i, h in zip(batch, hyps):
                results[i] = self._pair_alignment(
                    h, src_ids[i], spans[i], src_w[i], tgt_w[i], restored[i], method, alpha
                )
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.close()
        return [
            r if r is not None else self._empty_alignment(src_w[i], tgt_w[i], method) for i, r in enumerate(results)
        ]

    def _texts_to_read(self, sources: list[str], targets: list[str], pretokenized: bool, restore_english: bool):
        """The texts the model reads for :meth:`align`, the words given (``pretokenized``; else None each), and
        each pair's restored English (None where it is read as given).  Given words are joined as the model
        was trained: Chinese without spaces, English with them."""
        en_src = self.folder_config.direction == "en-zh"  # English is the source
        src_w: list = [None] * len(sources)
        tgt_w: list = [None] * len(targets)
        if pretokenized:
            src_w, tgt_w = [s.split() for s in sources], [t.split() for t in targets]
            src_text = [(" " if en_src else "").join(w) for w in src_w]
            tgt_text = [("" if en_src else " ").join(w) for w in tgt_w]
        else:
            src_text, tgt_text = list(sources), list(targets)
        restored: list[Optional[Restored]] = [None] * len(sources)
        if restore_english:  # English the model knows (seq2seq.truecase), on whichever side is English
            restored = self.restore_english(
                src_text if en_src else tgt_text, (src_w if en_src else tgt_w) if pretokenized else None
            )
            side = src_text if en_src else tgt_text
            side[:] = [r.text if r else x for r, x in zip(restored, side)]
        return src_text, tgt_text, src_w, tgt_w, restored

    def _pair_ids(self, src_text: list[str], tgt_text: list[str], skip_long: bool):
        """Source and target ids of each pair (names and numbers as placeholders, the target masked like its
        source), and the placeholder spans; a pair over the model's limit is an error, or with ``skip_long``
        gets no source ids (and so an empty result)."""
        masked = [self.mask_source(x) for x in src_text]
        spans = [sp for _, sp in masked]
        src_ids = self.encode_sources([m for m, _ in masked])
        tgt_ids = self.tgt_tok.encode([mask_like(t, sp) for t, sp in zip(tgt_text, spans)])
        limit = self.max_source_tokens
        for i in range(len(src_ids)):
            if len(src_ids[i]) > limit or len(tgt_ids[i]) + 1 > limit:
                if skip_long:
                    src_ids[i] = []
                    continue
                raise ValueError(
                    f"pair {i} has {len(src_ids[i])} source / {len(tgt_ids[i]) + 1} target pieces; the "
                    f"model reads at most {limit}: split it into shorter sentences"
                )
        return src_ids, tgt_ids, spans

    def _pair_alignment(
        self,
        h,
        src_ids: list[int],
        spans: list[str],
        src_words,
        tgt_words,
        restored: Optional[Restored],
        method: AlignMethod,
        alpha: float,
    ) -> Alignment:
        """One pair's :class:`Alignment` from its teacher-forced hypothesis ``h``: pieces labelled with their
        spans, pieces mapped to the words given (or to word units), links read by ``method``."""
        sp = label_pieces(self.src_tok.ids_to_pieces(src_ids), source_forms(spans))
        tp = label_pieces(self.tgt_tok.ids_to_pieces(h.tokens), spans)
        if src_words is not None:
            sw, tw = src_words, tgt_words
            s_map = pieces_to_words(sp, [self.src_tok.normalize(w) for w in sw])
            t_map = pieces_to_words(tp, tw)
        else:
            sw, s_map = word_units(sp, self.folder_config.source_lang)
            tw, t_map = word_units(tp, self.folder_config.target_lang)
        if restored is not None:  # restored English: its pieces map back to the words given, by characters
            if self.folder_config.direction == "en-zh":
                sw, s_map = restored.words, pieces_to_words(sp, restored.surfaces)
            else:
                tw, t_map = restored.words, pieces_to_words(tp, restored.surfaces)
        att, full = h.attention.numpy(), h.full_context_attention.numpy()
        links = links_to_words(
            piece_alignment(sp, tp, full if method.full_context else att, method=method), s_map, t_map
        )
        lp = h.token_logprobs.numpy()
        score = float(lp.sum())
        return Alignment(
            sp, tp, att, lp, score, score / lp_divisor(len(lp), alpha), links, sw, tw, method.name, s_map, t_map, full
        )

    def _empty_alignment(self, src_words, tgt_words, method: AlignMethod) -> Alignment:
        """The result for a pair with an empty side (or one skipped as too long): no pieces, no links."""
        cfg = self.model.cfg
        return Alignment(
            [],
            [],
            np.zeros((cfg.n_dec_layers, cfg.n_heads, 0, 0), dtype=np.float32),
            np.zeros(0, dtype=np.float32),
            0.0,
            0.0,
            [],
            src_words or [],
            tgt_words or [],
            method.name,
        )

    def restore_english(
        self,
        texts: Sequence[str],
        words: Optional[Sequence[Sequence[str]]] = None,
    ) -> list[Optional[Restored]]:
        """Each English text (or its given ``words``) as the model should read it (:mod:`seq2seq.truecase`), or
        None where the model reads it as given: English that is cased and detokenized already, or every text
        when the model folder has no truecasing model."""
        if self.english_restorer is None:
            return [None] * len(texts)
        out: list[Optional[Restored]] = []
        for k, text in enumerate(texts):
            r = self.english_restorer.restore(words[k] if words is not None else text.split())
            out.append(r if r.changed else None)
        return out

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
        t = Translation("", [], [], att, 0.0, 0.0)
        t.nbest = [t]
        return t


def _padded(seqs: list[list[int]]) -> torch.Tensor:
    """Id lists as one [len(seqs), longest] tensor, padded with PAD_ID."""
    out = torch.full((len(seqs), max(len(x) for x in seqs)), PAD_ID, dtype=torch.long)
    for row, ids in enumerate(seqs):
        out[row, : len(ids)] = torch.as_tensor(ids, dtype=torch.long)
    return out


def _check_pairs(sources, targets) -> tuple[list[str], list[str]]:
    """:meth:`Translator.align`'s pairs as two lists of strings of equal length (a string is one sentence)."""
    if isinstance(sources, str):
        sources = [sources]
    if isinstance(targets, str):
        targets = [targets]
    sources, targets = check_sentences(sources, "align: sources"), check_sentences(targets, "align: targets")
    if len(sources) != len(targets):
        raise ValueError(f"align: {len(sources)} sources but {len(targets)} targets")
    for name, side in (("sources", sources), ("targets", targets)):
        for i, x in enumerate(side):
            if not isinstance(x, str):
                raise TypeError(f"align: {name}[{i}] is {type(x).__name__}, not str")
    return list(sources), list(targets)


def _batches(order: list[int], src_ids: list[list[int]], max_tokens: int) -> list[list[int]]:
    """Group sentence indices (sorted by length, longest first) into batches of at most
    ``max_tokens`` padded source tokens."""
    batches, cur, width = [], [], 0
    for i in order:
        w = max(width, len(src_ids[i]))
        if cur and w * (len(cur) + 1) > max_tokens:
            batches.append(cur)
            cur, w = [], len(src_ids[i])
        cur.append(i)
        width = w
    if cur:
        batches.append(cur)
    return batches
