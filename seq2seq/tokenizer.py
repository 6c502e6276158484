"""Subword tokenizers: a sentencepiece model for Chinese and one for English, the source and target of a zh-en model
and the other way round for en-zh.

Fixed special ids in every model: ``<pad>``=0, ``<unk>``=1, ``<s>``=2 (bos), ``</s>``=3 (eos).

Input normalisation, chosen deliberately:

* **Full-width / half-width forms**: sentencepiece's ``nmt_nfkc`` rule (Unicode NFKC plus
  whitespace clean-up) runs inside the model, in training and at encoding alike.  It maps
  full-width ASCII forms to half-width (``ＡＢＣ１２３`` -> ``ABC123``, ``，`` -> ``,``, ``？`` -> ``?``)
  so the two spellings of the same text get the same pieces.  Ideographic punctuation without a
  compatibility mapping (``。``, ``、``, ``「」``) is kept as it is.
* **Traditional characters**: the training corpus is mostly Simplified, so Chinese text is
  converted Traditional -> Simplified with OpenCC's ``t2s`` table before it reaches
  sentencepiece, both when the tokenizer is trained and when a sentence is translated.  A
  Traditional input therefore gets the same translation as its Simplified form.  The source pieces
  reported with a translation are those of the converted text.  Switch it off with ``t2s=False``.
* Characters outside the Chinese model's vocabulary (character coverage 0.9995) fall back to
  UTF-8 byte pieces (``<0xE4>``...) rather than ``<unk>`` (so the Chinese vocabulary needs
  room for the 256 byte pieces).  The English model has no byte fallback.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Sequence

import sentencepiece as spm

PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3
SPECIAL_PIECES = {PAD_ID: "<pad>", UNK_ID: "<unk>", BOS_ID: "<s>", EOS_ID: "</s>"}


@lru_cache(maxsize=1)
def _t2s():
    import opencc  # opencc-python-reimplemented

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional -> Simplified Chinese (OpenCC t2s)."""
    return _t2s().convert(text)


class SubwordTokenizer:
    """One language's sentencepiece model.  Thread-safe for encoding and decoding."""

    def __init__(self, model_proto: bytes, t2s: bool = False):
        self.sp = spm.SentencePieceProcessor(model_proto=model_proto)
        self.t2s = t2s
        for i, piece in SPECIAL_PIECES.items():
            if self.sp.id_to_piece(i) != piece:
                raise ValueError(f"sentencepiece model has {self.sp.id_to_piece(i)!r} at id {i}, expected {piece!r}")

    @classmethod
    def from_file(cls, path: str | Path, t2s: bool = False) -> "SubwordTokenizer":
        return cls(Path(path).read_bytes(), t2s=t2s)

    @property
    def vocab_size(self) -> int:
        return self.sp.get_piece_size()

    def normalize(self, text: str) -> str:
        """What happens to text before sentencepiece sees it (sentencepiece then applies NFKC itself)."""
        return to_simplified(text) if self.t2s else text

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        return self.sp.encode([self.normalize(t) for t in texts])

    def encode_pieces(self, texts: Sequence[str]) -> list[list[str]]:
        return self.sp.encode([self.normalize(t) for t in texts], out_type=str)

    def ids_to_pieces(self, ids: Sequence[int]) -> list[str]:
        return [self.sp.id_to_piece(int(i)) for i in ids]

    def pieces_to_ids(self, pieces: Sequence[str]) -> list[int]:
        """Each piece's id (``<unk>``'s for a piece the vocabulary lacks)."""
        return [self.sp.piece_to_id(p) for p in pieces]

    def knows(self, piece: str) -> bool:
        """Is ``piece`` in the vocabulary?"""
        return self.sp.piece_to_id(piece) != self.sp.unk_id()

    def decode(self, ids: Sequence[int]) -> str:
        """Ids to detokenized text.  Special ids (pad/bos/eos) are dropped."""
        return self.sp.decode([int(i) for i in ids if int(i) > EOS_ID or int(i) == UNK_ID])


def train_sentencepiece(
    texts: Iterable[str],
    vocab_size: int,
    *,
    character_coverage: float = 1.0,
    model_type: str = "unigram",
    byte_fallback: bool = True,
    t2s: bool = False,
    max_sentences: int = 2_000_000,
) -> bytes:
    """Train a sentencepiece model on ``texts`` and return the serialized model.

    ``t2s`` applies the same Traditional -> Simplified conversion used at encoding time.
    """
    convert = to_simplified if t2s else (lambda s: s)
    sentences = [convert(t) for t in texts if t.strip()]
    if not sentences:
        raise ValueError("cannot train a sentencepiece model on no text")
    out = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(sentences),
            model_writer=out,
            vocab_size=vocab_size,
            model_type=model_type,
            character_coverage=character_coverage,
            byte_fallback=byte_fallback,
            normalization_rule_name="nmt_nfkc",
            pad_id=PAD_ID,
            unk_id=UNK_ID,
            bos_id=BOS_ID,
            eos_id=EOS_ID,
            pad_piece="<pad>",
            unk_piece="<unk>",
            bos_piece="<s>",
            eos_piece="</s>",
            input_sentence_size=max_sentences,
            shuffle_input_sentence=True,
            hard_vocab_limit=False,  # small corpora (tests) may not support the full size
            num_threads=2,
            minloglevel=2,
        )
    except RuntimeError as e:  # sentencepiece's own words: "Vocabulary size is smaller than required_chars. N vs M"
        need = re.search(r"required_chars\. (\d+) vs (\d+)", str(e))
        if need is None:
            raise
        raise ValueError(
            f"a vocabulary of {vocab_size} pieces is smaller than the {need.group(2)} characters "
            f"and special pieces that character coverage {character_coverage} needs on this text: "
            "raise the vocabulary size (tokenizer.src_vocab_size / tgt_vocab_size)"
        ) from None
    return out.getvalue()


ZH_CHARACTER_COVERAGE = 0.9995


def train_tokenizers(
    zh_texts: Sequence[str],
    en_texts: Sequence[str],
    zh_vocab_size: int,
    en_vocab_size: int,
    shared: bool = False,
    t2s: bool = True,
) -> tuple[bytes, bytes]:
    """Train the Chinese and the English model, whatever the direction; returns their serialized protos (Chinese,
    English).

    ``shared=True`` trains one model on both languages (size ``zh_vocab_size``) and returns it twice.
    """
    if shared:
        # Both sides in one model: convert only the Chinese side; keep full character coverage of Chinese.
        texts = [to_simplified(t) if t2s else t for t in zh_texts] + list(en_texts)
        proto = train_sentencepiece(texts, zh_vocab_size, character_coverage=ZH_CHARACTER_COVERAGE)
        return proto, proto
    zh = train_sentencepiece(zh_texts, zh_vocab_size, character_coverage=ZH_CHARACTER_COVERAGE, t2s=t2s)
    # English: rare characters become <unk> rather than byte pieces, which could decode to broken UTF-8.
    en = train_sentencepiece(en_texts, en_vocab_size, character_coverage=1.0, byte_fallback=False)
    return zh, en
