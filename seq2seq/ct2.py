"""Translation through a CTranslate2 export (``seq2seq-export``): fast, no attention maps.

    tr = Translator.load("ct2-model", backend="ctranslate2")                 # an export folder
    tr = Translator.load("runs/zh-en/best", backend="ctranslate2")           # a model folder with ctranslate2/ inside
    tr.translate(["我喜欢吃苹果。"], beam_size=5)

Returns the same ``Translation`` objects as the PyTorch translator, with ``cross_attention=None``.
What needs attention or the decoder's internals is PyTorch-only, and asking for it here is an error that
says so: ``align()``, ``return_attention=True``, ``prefix``, ``return_topk``, ``return_tree``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence

from .backend import Backend
from .checks import check_device, check_sentences
from .model_dir import ModelFolderError, load_names, load_tokenizers, read_folder_config, run_folder_error
from .placeholders import show_placeholders
from .results import Translation
from .results import length_penalty as lp_divisor

TORCH_BACKEND_HINT = "use the PyTorch backend: Translator.load(path)"
# The arguments of Translator.translate that this backend uses too.
SEARCH_ARGS = {"beam_size", "length_penalty", "nbest", "max_len_a", "max_len_b", "max_tokens"}


class BackendError(ValueError):
    """Something only the PyTorch backend can do was asked of the CTranslate2 backend."""


class CT2Translator(Backend):
    """A CTranslate2 export loaded for fast translation (no attention); see the module's docstring."""

    def __init__(self, translator, src_tok, tgt_tok, folder_config, names=None):
        self.ct2, self.src_tok, self.tgt_tok = translator, src_tok, tgt_tok
        self.folder_config, self.names = folder_config, names  # names: as Translator.names
        # Positions the model has, as in Translator.max_source_tokens and DecodeStrategy.
        self.max_source_tokens = self.max_output_tokens = folder_config.model.max_len - 1

    @classmethod
    def load(
        cls,
        path: str | Path,
        device: str = "cpu",
        compute_type: str = "default",
        intra_threads: int = 1,
        inter_threads: int = 0,
    ):
        """``intra_threads``: threads per batch; ``inter_threads``: batches translated at once (0: one per CPU core).

        The defaults, one thread per batch and one batch per core, are measured (``benchmarks/two_engines.py``):
        with two threads on one batch, a single sentence decodes about 3x slower on a 2-core machine (each of the
        many small steps wakes a sleeping OpenMP thread), whatever else runs in the process.  One thread per
        batch and parallel batches keep single sentences fast and are also faster on large inputs.
        """
        try:
            import ctranslate2
        except ImportError:
            raise ImportError("the CTranslate2 backend needs ctranslate2: pip install 'seq2seq-zhen[fast]'") from None

        check_device(device)
        path = Path(path)
        from .export import CT2_OUR_CONFIG, CT2_SUBDIR

        if (path / CT2_SUBDIR / "model.bin").is_file():
            path = path / CT2_SUBDIR
        if not (path / "model.bin").is_file():
            if run_folder_error(path):
                raise ModelFolderError(run_folder_error(path))
            raise ModelFolderError(f"{path}: no CTranslate2 model.bin (create one with seq2seq-export)")
        cfg = read_folder_config(path, CT2_OUR_CONFIG)
        names = load_names(path)  # seq2seq-export copies the model folder's name lexicon
        src_tok, tgt_tok, _, _ = load_tokenizers(path, cfg.t2s, cfg.direction)
        if inter_threads == 0:
            inter_threads = os.cpu_count() or 1
        tr = ctranslate2.Translator(
            str(path),
            device=device,
            compute_type=compute_type,
            intra_threads=intra_threads,
            inter_threads=inter_threads,
        )
        return cls(tr, src_tok, tgt_tok, cfg, names)

    # Options of the PyTorch backend that change nothing here (accepted, so that callers can switch backends).
    TORCH_ONLY = {"use_cache", "return_attention", "progress", "dtype"}
    # Options of the PyTorch backend that this one cannot honour: an error, never a silently different result.
    UNSUPPORTED = {"prefix": "a forced prefix", "return_topk": "top-k candidates", "return_tree": "the beam tree"}

    def align(self, *args, **kwargs):
        """Forced alignment needs the model's cross-attention, which CTranslate2 does not give."""
        raise BackendError(
            "the CTranslate2 backend cannot align (forced alignment reads the cross-attention, "
            f"which CTranslate2 does not return): {TORCH_BACKEND_HINT}"
        )

    def translate(self, sentences: Sequence[str] | str, **options) -> list[Translation]:
        """As :meth:`seq2seq.translator.Translator.translate` (the same arguments, by name), without attention.
        ``score`` is the log-probability of the output (EOS included), from CTranslate2's own scoring of it."""
        torch_only = {k: options.pop(k) for k in list(options) if k not in SEARCH_ARGS}
        if torch_only.get("return_attention"):
            raise BackendError(
                "the CTranslate2 backend cannot return attention (return_attention=True): "
                f"{TORCH_BACKEND_HINT}, or pass return_attention=False"
            )
        asked = [k for k in self.UNSUPPORTED if torch_only.get(k) not in (None, False, 0)]
        if asked:
            raise BackendError(
                f"the CTranslate2 backend cannot give {self.UNSUPPORTED[asked[0]]} ({asked[0]}=...): "
                f"{TORCH_BACKEND_HINT}"
            )
        unknown = set(torch_only) - self.TORCH_ONLY - set(self.UNSUPPORTED)
        if unknown:
            raise TypeError(f"translate() got unexpected keyword arguments {sorted(unknown)}")
        st = self.search_settings(**options)
        if isinstance(sentences, str):
            sentences = [sentences]
        sentences = check_sentences(sentences)
        masked = [self.mask_source(x) for x in sentences]
        pieces = [p + ["</s>"] if p else [] for p in self.src_tok.encode_pieces([m for m, _ in masked])]
        todo = [i for i, p in enumerate(pieces) if p]
        results: list[Optional[Translation]] = [None] * len(pieces)
        if todo:
            longest = max(len(pieces[i]) for i in todo)
            outs = self.ct2.translate_batch(
                [pieces[i] for i in todo],
                beam_size=st.beam_size,
                length_penalty=st.length_penalty,
                num_hypotheses=st.nbest,
                max_decoding_length=min(int(st.max_len_a * longest + st.max_len_b), self.max_output_tokens),
                max_batch_size=st.max_tokens,
                batch_type="tokens",
                disable_unk=False,
            )
            flat_src = [pieces[i] for i, res in zip(todo, outs) for _ in res.hypotheses]
            flat_tgt = [toks for res in outs for toks in res.hypotheses]
            scored = iter(self.ct2.score_batch(flat_src, flat_tgt, max_batch_size=st.max_tokens, batch_type="tokens"))
            for i, res in zip(todo, outs):
                hyps = []
                for toks in res.hypotheses:
                    logp = float(sum(next(scored).log_probs))  # the pieces and </s>
                    ids = self.tgt_tok.pieces_to_ids(toks)
                    hyps.append(
                        Translation(
                            self.tgt_tok.decode(ids),
                            pieces[i],
                            toks + ["</s>"],
                            None,
                            logp,
                            logp / lp_divisor(len(toks) + 1, st.length_penalty),
                        )
                    )
                hyps.sort(key=lambda h: h.normalized_score, reverse=True)
                hyps[0].nbest = hyps
                results[i] = hyps[0]
        for i, r in enumerate(results):
            if r is None:
                results[i] = self.empty_translation()
            elif masked[i][1]:
                show_placeholders(results[i], masked[i][1])
        return results  # type: ignore[return-value]
