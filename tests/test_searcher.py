"""The search both engines share (seq2seq.searcher): the placeholder limits decide which hypotheses stand, and a
result is handed on as soon as it is final, before the PyTorch searches of the sentences that broke the limits."""

import threading
from types import SimpleNamespace

import pytest

from seq2seq.codec import Sources
from seq2seq.decoding import Hypothesis
from seq2seq.searcher import Searcher

PLACEHOLDER, EOS = 7, 2


class Codec:
    """One placeholder piece (id 7), in the source and the target alike."""

    tgt_placeholders = [PLACEHOLDER]

    def banned(self, src_ids):
        return [[] for _ in src_ids]

    def placeholder_counts(self, src_ids):
        return [list(src_ids).count(PLACEHOLDER)]

    def keeps_limits(self, src_ids, tgt_ids):
        want, got = list(src_ids).count(PLACEHOLDER), list(tgt_ids).count(PLACEHOLDER)
        return (want == 0 and got == 0) or 1 <= got <= want


def hyp(tokens):
    return Hypothesis(tokens=tokens + [EOS], score=-1.0, normalized_score=-1.0, attention=None)


class FastEngine:
    """Writes the placeholder twice: a source with one breaks the limits here."""

    name = "fast"

    def search(self, src_ids, settings, prefixes, banned, progress=False, **opts):
        return [[hyp([5] + [PLACEHOLDER] * 2 * s.count(PLACEHOLDER))] for s in src_ids]


class TorchEngine:
    """The search with the limits built in; it records the sources of each call."""

    def __init__(self):
        self.calls = []
        self.started = threading.Event()

    def search(self, src_ids, settings, prefixes, banned, counts, **opts):
        self.started.set()
        self.calls.append([list(s) for s in src_ids])
        return [[hyp([6] + [PLACEHOLDER] * s.count(PLACEHOLDER))] for s in src_ids]


class StreamingEngine(FastEngine):
    """As CTranslate2's engine: hands on each result as it reads it; records whether the PyTorch search of an
    earlier source had begun before it read the last one."""

    name = "ctranslate2"

    def __init__(self, torch):
        self.torch, self.overlapped = torch, False

    def search(self, src_ids, settings, prefixes, banned, progress=False, each=None, **opts):
        found = super().search(src_ids, settings, prefixes, banned)
        for k, hyps in enumerate(found):
            if k == len(found) - 1:
                self.overlapped = self.torch.started.wait(timeout=10)
            each(k, hyps)
        return found


def test_results_that_keep_the_limits_are_handed_on_before_the_searches_with_the_limits():
    src = Sources(ids=[[3, PLACEHOLDER, EOS], [3, 4, EOS], [], [4, EOS]], spans=[[], [], [], []])
    settled = []
    torch = TorchEngine()
    settings = SimpleNamespace(nbest=1, length_penalty=1.0, max_tokens=100)
    out = Searcher(Codec(), lambda: torch).run(
        FastEngine(), src, settings, None, {}, False, lambda i, hyps, how: settled.append((i, how))
    )
    assert torch.calls == [[[3, PLACEHOLDER, EOS]]]  # one search with the limits, of the one source that needs it
    assert settled == [(1, "fast"), (3, "fast"), (0, "torch (placeholder limits)")]  # each once; none for []
    assert out[0][0][0].tokens == [6, PLACEHOLDER, EOS] and out[1][0][0].tokens == [5, EOS]
    assert out[2] == ([], "")


def test_the_searches_with_the_limits_run_while_the_fast_engine_goes_on():
    src = Sources(ids=[[3, PLACEHOLDER, EOS], [3, 4, EOS], [4, EOS]], spans=[[], [], []])
    settled, torch = [], TorchEngine()
    engine = StreamingEngine(torch)
    settings = SimpleNamespace(nbest=1, length_penalty=1.0, max_tokens=100)
    out = Searcher(Codec(), lambda: torch).run(
        engine, src, settings, None, {}, False, lambda i, hyps, how: settled.append((i, how))
    )
    assert engine.overlapped  # source 0's PyTorch search began before the engine read source 2
    assert settled == [(1, "ctranslate2"), (2, "ctranslate2"), (0, "torch (placeholder limits)")]
    assert out[0][0][0].tokens == [6, PLACEHOLDER, EOS]


def test_an_error_in_a_search_with_the_limits_reaches_the_caller():
    class Broken(TorchEngine):
        def search(self, *args, **kw):
            raise RuntimeError("out of memory")

    src = Sources(ids=[[3, PLACEHOLDER, EOS]], spans=[[]])
    settings = SimpleNamespace(nbest=1, length_penalty=1.0, max_tokens=100)
    torch = Broken()
    with pytest.raises(RuntimeError, match="out of memory"):
        Searcher(Codec(), lambda: torch).run(FastEngine(), src, settings, None, {}, False)
