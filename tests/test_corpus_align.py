"""seq2seq.corpus_align: eflomal's units, links projected onto pieces, and the head's agreement with them."""

from seq2seq.align import method_attention, piece_alignment
from seq2seq.corpus_align import head_agreement, project_to_pieces
from seq2seq.words import corpus_words, pieces_to_words


def test_units():
    assert corpus_words("我有iPhone 15。", "zh") == ["我", "有", "iPhone", "15", "。"]
    assert corpus_words("It's 5 o'clock.", "en") == ["it", "'", "s", "5", "o", "'", "clock", "."]


def test_unit_links_projected_onto_pieces():
    # 我喜欢 / 苹果: pieces "我喜欢" (units 0-2) and "苹果" (3-4); English "·I", "·lik", "e" (units 0, 1, 1)
    src_map = [[0, 1, 2], [3, 4]]
    tgt_map = [[0], [1], [1]]
    assert project_to_pieces([(0, 0), (1, 1)], src_map, tgt_map) == [(0, 0), (0, 1), (0, 2)]
    assert project_to_pieces([(4, 1), (9, 0)], src_map, tgt_map) == [(1, 1), (1, 2)]  # unit 9: no piece


def test_head_agreement_keeps_the_links_the_head_gives_too(toy_translator):
    """On every unit pair, the agreement is the head's own links on those units; on none, nothing."""
    sources, targets = ["我喜欢吃苹果", "谢谢你"], ["I like to eat apples", "Thank you"]
    su = [corpus_words(s, "zh") for s in sources]
    tu = [corpus_words(t, "en") for t in targets]
    every = [[(i, j) for i in range(len(s)) for j in range(len(t))] for s, t in zip(su, tu)]
    agreed = head_agreement(every, toy_translator, sources, targets, su, tu, chunk=1)
    method = toy_translator.align_method
    for k, a in enumerate(toy_translator.align(sources, targets, restore_english=False)):
        # Units here are the aligner's words (characters; whitespace words), so its links are the reference.
        assert agreed[k] == a.links and a.links
        pieces = piece_alignment(a.source_tokens, a.target_tokens, method_attention(a, method), method=method)
        s_map, t_map = pieces_to_words(a.source_tokens, su[k]), pieces_to_words(a.target_tokens, tu[k])
        assert {(s, t) for i, j in pieces for s in s_map[i] for t in t_map[j]} == set(agreed[k])
    some = [links[::2] for links in every]
    assert head_agreement(some, toy_translator, sources, targets, su, tu) == [
        sorted(set(x) & set(y)) for x, y in zip(some, agreed)
    ]
    assert head_agreement([[], []], toy_translator, sources, targets, su, tu) == [[], []]
