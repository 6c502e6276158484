"""What both translation backends share: :class:`~seq2seq.translator.Translator` (PyTorch) and
:class:`~seq2seq.ct2.CT2Translator` (CTranslate2) take the same ``translate`` arguments, fill in the model
folder's decoding defaults the same way, and return the same result for an empty sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from .checks import check_decoding_args, check_search_args
from .results import Translation


@dataclass(frozen=True)
class SearchSettings:
    """One ``translate`` call's search, every value known (the caller's, else the model folder's default)."""

    beam_size: int  # 1 = greedy
    nbest: int
    length_penalty: float  # alpha of score / |y| ** alpha
    max_len_a: float  # the output is at most max_len_a * |source| + max_len_b pieces, EOS included
    max_len_b: int
    max_tokens: int  # source tokens per batch


class Backend:
    """The interface of a translator: ``translate`` and ``align`` over a model folder (``folder_config``)."""

    folder_config: object  # model_dir.FolderConfig
    src_tok: object  # tokenizer.SubwordTokenizer
    tgt_tok: object
    names: object = None  # names.NameLexicon: the folder's name lexicon, if it has one

    @property
    def uses_placeholders(self) -> bool:
        """Was this model trained to carry names and numbers as placeholders (``seq2seq.placeholders``)?"""
        from .placeholders import has_placeholders

        return has_placeholders(self.src_tok) and has_placeholders(self.tgt_tok)

    def mask_source(self, text: str) -> tuple[str, list[str]]:
        """The source as the model reads it (names and numbers as placeholders, if it uses them), and the spans."""
        from .placeholders import mask_source

        if not self.uses_placeholders:
            return text, []
        return mask_source(text, self.folder_config.source_lang, names=self.names)

    def search_settings(
        self,
        beam_size: Optional[int] = None,
        length_penalty: Optional[float] = None,
        nbest: int = 1,
        max_len_a: Optional[float] = None,
        max_len_b: Optional[int] = None,
        max_tokens: int = 6000,
    ) -> SearchSettings:
        """The settings given, checked (a clear ``ValueError`` for each out of range), with the model folder's
        decoding defaults (config.json "decoding", else ``model_dir.DECODING_DEFAULTS``) where they are None."""
        check_search_args(length_penalty, max_tokens, max_len_a, max_len_b)
        d = self.folder_config.decoding
        s = SearchSettings(
            beam_size=beam_size if beam_size is not None else d["beam_size"],
            nbest=nbest,
            length_penalty=length_penalty if length_penalty is not None else d["length_penalty"],
            max_len_a=max_len_a if max_len_a is not None else d["max_len_a"],
            max_len_b=max_len_b if max_len_b is not None else d["max_len_b"],
            max_tokens=max_tokens,
        )
        check_decoding_args(s.beam_size, nbest)
        return s

    @staticmethod
    def empty_translation(attention: Optional[np.ndarray] = None) -> Translation:
        """The translation of an empty sentence: no pieces, score 0, and itself as its only n-best entry."""
        t = Translation("", [], [], attention, 0.0, 0.0)
        t.nbest = [t]
        return t
