"""Translation through a CTranslate2 export (``seq2seq-export``): fast, no attention maps.

    tr = Translator.load("ct2-model", backend="ctranslate2")                 # an export folder
    tr = Translator.load("runs/zh-en/best", backend="ctranslate2")           # a model folder with ctranslate2/ inside
    tr.translate(["我喜欢吃苹果。"], beam_size=5)

Returns the same ``Translation`` objects as the PyTorch translator, with ``cross_attention=None``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Sequence

from .model_dir import ModelFolderError, read_folder_config, load_tokenizers
from .results import Translation


class CT2Translator:
    def __init__(self, translator, src_tok, tgt_tok, folder_config):
        self.ct2, self.src_tok, self.tgt_tok = translator, src_tok, tgt_tok
        self.folder_config = folder_config
        # Positions the model has, as in Translator.max_source_tokens and DecodeStrategy.
        self.max_source_tokens = self.max_output_tokens = folder_config.model.max_len - 1

    @classmethod
    def load(cls, path: str | Path, device: str = "cpu", compute_type: str = "default", intra_threads: int = 0):
        import ctranslate2

        path = Path(path)
        if (path / "ctranslate2" / "model.bin").is_file():
            path = path / "ctranslate2"
        if not (path / "model.bin").is_file():
            raise ModelFolderError(f"{path}: no CTranslate2 model.bin (create one with seq2seq-export)")
        from .export import CT2_OUR_CONFIG

        cfg = read_folder_config(path, CT2_OUR_CONFIG)
        src_tok, tgt_tok, _, _ = load_tokenizers(path, cfg.t2s)
        tr = ctranslate2.Translator(str(path), device=device, compute_type=compute_type, intra_threads=intra_threads)
        return cls(tr, src_tok, tgt_tok, cfg)

    def translate(self, sentences: Sequence[str] | str, beam_size: Optional[int] = None,
                  length_penalty: Optional[float] = None, nbest: int = 1, max_len_a: Optional[float] = None,
                  max_len_b: Optional[int] = None, max_tokens: int = 6000, **_ignored) -> list[Translation]:
        if isinstance(sentences, str):
            sentences = [sentences]
        d = self.folder_config.decoding
        beam_size = beam_size or d["beam_size"]
        lp = length_penalty if length_penalty is not None else d["length_penalty"]
        a = max_len_a if max_len_a is not None else d["max_len_a"]
        b = max_len_b if max_len_b is not None else d["max_len_b"]
        pieces = [p + ["</s>"] if p else [] for p in self.src_tok.encode_pieces(list(sentences))]
        todo = [i for i, p in enumerate(pieces) if p]
        results: list[Optional[Translation]] = [None] * len(pieces)
        if todo:
            longest = max(len(pieces[i]) for i in todo)
            outs = self.ct2.translate_batch(
                [pieces[i] for i in todo], beam_size=beam_size, length_penalty=lp, num_hypotheses=nbest,
                max_decoding_length=min(int(a * longest + b), self.max_output_tokens), return_scores=True, max_batch_size=max_tokens,
                batch_type="tokens", disable_unk=False)
            for i, res in zip(todo, outs):
                hyps = []
                for toks, score in zip(res.hypotheses, res.scores):
                    ids = [self.tgt_tok.sp.piece_to_id(t) for t in toks]
                    hyps.append(Translation(self.tgt_tok.decode(ids), pieces[i], toks + ["</s>"], None, float("nan"),
                                            float(score)))
                hyps[0].nbest = hyps
                results[i] = hyps[0]
        for i, r in enumerate(results):
            if r is None:
                results[i] = Translation("", [], [], None, 0.0, 0.0)
                results[i].nbest = [results[i]]
        return results  # type: ignore[return-value]
