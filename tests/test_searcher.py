"""The search both engines share (seq2seq.searcher): the placeholder limits decide which hypotheses stand, and a
result is handed on as soon as it is final, before the PyTorch searches of the sentences that broke the limits."""

from types import SimpleNamespace

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
    """The search with the limits built in; it records what was settled before it ran."""

    def __init__(self, settled):
        self.settled, self.seen = settled, None

    def search(self, src_ids, settings, prefixes, banned, counts, **opts):
        self.seen = list(self.settled)
        return [[hyp([6] + [PLACEHOLDER] * s.count(PLACEHOLDER))] for s in src_ids]


def test_results_that_keep_the_limits_are_handed_on_before_the_searches_with_the_limits():
    src = Sources(ids=[[3, PLACEHOLDER, EOS], [3, 4, EOS], [], [4, EOS]], spans=[[], [], [], []])
    settled = []
    torch = TorchEngine(settled)
    settings = SimpleNamespace(nbest=1, length_penalty=1.0, max_tokens=100)
    out = Searcher(Codec(), lambda: torch).run(
        FastEngine(), src, settings, None, {}, False, lambda i, hyps, how: settled.append((i, how))
    )
    assert torch.seen == [(1, "fast"), (3, "fast")]  # both settled before the PyTorch search began
    assert settled == [(1, "fast"), (3, "fast"), (0, "torch (placeholder limits)")]  # each once; none for []
    assert out[0][0][0].tokens == [6, PLACEHOLDER, EOS] and out[1][0][0].tokens == [5, EOS]
    assert out[2] == ([], "")
