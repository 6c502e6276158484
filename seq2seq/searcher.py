"""One search, on either engine, kept to the rules both engines share: the placeholder limits, the per-sentence
length cap, and the scores of a search from a prefix (see ``docs/api.md``, "Two engines").

:class:`Searcher` asks an engine (``seq2seq.engine`` / ``seq2seq.ct2_engine``) for hypotheses and decides, per
sentence, which ones stand, searching again where the limits are broken.  ``Translator.translate`` makes one per
call; it holds nothing between calls.
"""

from __future__ import annotations

from typing import Callable, Optional

from .codec import FolderCodec, Sources
from .decoding import length_penalty
from .engine import SearchSettings, TorchEngine


class Searcher:
    """Hypotheses for every source, and the path that gave each (see the module's docstring).  ``torch``: the
    PyTorch engine of the folder, called when it is needed (it may be loaded then), or None for a CTranslate2
    export that has no PyTorch weights."""

    def __init__(self, codec: FolderCodec, torch: Callable[[], Optional[TorchEngine]]):
        self.codec, self.torch = codec, torch

    def run(
        self,
        engine,
        src: Sources,
        settings: SearchSettings,
        prefixes,
        opts: dict,
        progress: bool,
        settled: Optional[Callable[[int, list, str], None]] = None,
    ) -> list:
        """Each source's hypotheses (``settings.nbest`` of them, best first) and the path that gave them.
        ``settled(i, hypotheses, path)``: called once for each source with its result: for those whose hypotheses
        keep the limits, before the PyTorch searches of the others (a server answers them without waiting for the
        slow few); for those searched from a prefix, or again on PyTorch (the limits, or the length cap of a
        CTranslate2 batch, which is decided with the search itself), at the end.

        The placeholder limits (each placeholder of the source out at least once and no more often than the source
        has it) are kept the same way on both engines: the search bans the placeholders a source lacks; of its
        hypotheses the best that keep the limits stand; where none does, a PyTorch search with the limits built
        into every step decides (``constraints.carry``).  Searching again from a prefix before the fault was
        tried and lost BLEU and copy rate (docs/experiments has the figures).  The best
        translation does not depend on ``nbest``: the n-best list holds the hypotheses that keep the limits, which
        may be fewer.  A CTranslate2 export with no PyTorch weights beside it keeps the best hypothesis instead,
        and says so in ``Translation.search``."""
        codec, n = self.codec, len(src.ids)
        banned = codec.banned(src.ids)
        used = list(prefixes) if prefixes else [[] for _ in range(n)]  # the prefix each result was searched from
        live = [i for i in range(n) if src.ids[i]]
        found = self._search_on(engine, src.ids, live, settings, used, banned, opts, progress)
        out: list = [([], "")] * n
        todo, early = [], set()
        for i in live:
            hyps, how = found[i]
            valid = [h for h in hyps if codec.keeps_limits(src.ids[i], h.tokens)]
            if valid:
                first = hyps.index(valid[0])
                out[i] = valid[: settings.nbest], how + (f" (hypothesis {first + 1} keeps the limits)" if first else "")
                if settled is not None and not used[i]:  # a prefix's own score is added below
                    settled(i, *out[i])
                    early.add(i)
            elif self.torch() is None:
                out[i] = hyps[: settings.nbest], how + " (placeholder limits not kept: no PyTorch weights)"
            else:
                todo.append(i)
        for i, hyps in zip(todo, self._constrained(src, todo, settings, prefixes, opts)):
            out[i] = hyps[: settings.nbest], "torch (placeholder limits)"
        self._add_prefix_scores(src, out, used, settings)
        if settled is not None:
            for i in live:
                if i not in early:
                    settled(i, *out[i])
        return out

    def _search_on(self, engine, src_ids, which, settings, prefixes, banned, opts: dict, progress: bool):
        """Search the sources ``which`` on ``engine`` (``prefixes`` and ``banned`` indexed like ``src_ids``); returns
        {index: (hypotheses, the engine's name)}.  A source the engine leaves to PyTorch (its length cap) is searched
        there."""
        ids = [src_ids[i] for i in which]
        pre = [prefixes[i] or [] for i in which] if any(prefixes[i] for i in which) else None
        found = engine.search(ids, settings, pre, [banned[i] for i in which], progress=progress, **opts)
        out = {i: (h, engine.name) for i, h in zip(which, found)}
        capped = [i for i in which if out[i][0] is None]
        if capped and self.torch() is None:  # an export alone: CTranslate2's capped outputs, as they are
            again = engine.search(
                [src_ids[i] for i in capped],
                settings,
                None if pre is None else [prefixes[i] or [] for i in capped],
                [banned[i] for i in capped],
                keep_capped=True,
                **opts,
            )
            out.update({i: (h, f"{engine.name} (length cap)") for i, h in zip(capped, again)})
        elif capped:  # the engine's batch cap is not these sentences': PyTorch searches them
            torch_opts = {k: v for k, v in opts.items() if k == "attention"}
            again = self._search_on(self.torch(), src_ids, capped, settings, prefixes, banned, torch_opts, False)
            out.update({i: (h, "torch (length cap)") for i, (h, _) in again.items()})
        return out

    def _add_prefix_scores(self, src: Sources, chosen: list, prefixes: list, settings: SearchSettings) -> None:
        """A search from a prefix scores what follows it; the scores reported include the prefix's own
        log-probability (one forced pass on the PyTorch engine for every sentence searched from a prefix)."""
        todo = [i for i, p in enumerate(prefixes) if p and chosen[i][0]]
        if not todo or self.torch() is None:  # an export alone: scores of what follows the prefix
            return
        ids = [src.ids[i] for i in todo]
        start = self.torch().prefix_logprobs(
            ids, [prefixes[i] for i in todo], self.codec.banned(ids), settings.max_tokens
        )
        for i, p in zip(todo, start):
            for h in chosen[i][0]:
                h.score += p
                h.normalized_score = h.score / length_penalty(len(h.tokens), settings.length_penalty)
            chosen[i][0].sort(key=lambda h: -h.normalized_score)

    def _constrained(self, src: Sources, which: list[int], settings, prefixes, opts: dict) -> list:
        """The sources ``which`` searched together on the PyTorch engine with the placeholder limits built in."""
        if not which:
            return []
        ids = [src.ids[i] for i in which]
        counts = (self.codec.tgt_placeholders, [self.codec.placeholder_counts(x) for x in ids])
        pre = [prefixes[i] for i in which] if prefixes else None
        extra = {k: v for k, v in opts.items() if k != "progress"}
        return self.torch().search(ids, settings, pre, self.codec.banned(ids), counts, **extra)
