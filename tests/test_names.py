"""The name lexicon (seq2seq.names): mining from hand-made pairs, finding names in running text, the folder
file, and a name's round trip through translation and alignment as a placeholder."""

import pytest
from helpers import placeholder_translator

from seq2seq.model_dir import ModelFolderError, load_names
from seq2seq.names import NAMES_FILE, dotted_names, mine_names
from seq2seq.placeholders import mask_source, source_forms
from seq2seq.translator import Translator

PEOPLE = [("蒂姆", "库克", "Tim", "Cook"), ("唐纳德", "特朗普", "Donald", "Trump"), ("安娜", "米勒", "Anna", "Miller")]
CONTEXTS = [  # (Chinese with {name}, English with {name}): the text beside the name differs between them
    ("苹果公司的CEO{name}昨天访问了上海。", "Apple CEO {name} visited Shanghai yesterday."),
    ("记者采访了{name}。", "Reporters interviewed {name}."),
    ("总统{name}的讲话很长。", "President {name}'s speech was long."),
    ("我们和{name}在北京见面。", "We met {name} in Beijing."),
]


def hand_made_pairs():
    return [(zh.format(name=f"{a}·{b}"), en.format(name=f"{c} {d}")) for a, b, c, d in PEOPLE for zh, en in CONTEXTS]


def test_mining_maps_each_part_of_a_name_to_its_english_word():
    lex = mine_names(hand_made_pairs())
    assert lex.parts["first"] == {"蒂姆": "Tim", "唐纳德": "Donald", "安娜": "Anna"}
    assert lex.parts["last"] == {"库克": "Cook", "特朗普": "Trump", "米勒": "Miller"}
    # seen twice only: not enough at min_count=3
    assert mine_names(hand_made_pairs()[:2]).parts["first"] == {}


def test_a_part_is_only_a_part_where_the_text_beside_it_changes():
    """``特朗普的`` (always before 的) and ``统唐纳德`` (always after 总) are not parts."""
    pairs = [("总统唐纳德·特朗普的讲话。", "President Donald Trump's speech.")] * 3
    lex = mine_names(pairs)
    assert lex.parts == {"first": {}, "middle": {}, "last": {}}
    lex = mine_names(pairs + hand_made_pairs())
    assert "特朗普的" not in lex.parts["last"] and "统唐纳德" not in lex.parts["first"]


def test_finding_names_in_running_text():
    lex = mine_names(hand_made_pairs())
    text = "俄罗斯总统安娜·米勒与美国总统唐纳德·特朗普通了电话，蒂姆·怀特没有。"
    found = [(text[a:b], english) for a, b, english in lex.find(text)]
    # two names with no space between them are two names; 怀特 is unknown, so 蒂姆·怀特 stays text
    assert found == [("安娜·米勒", "Anna Miller"), ("唐纳德·特朗普", "Donald Trump")]
    names = dotted_names(text)
    assert [(n.before, n.middle, n.after) for n in names] == [
        ("俄罗斯总统安娜", (), "米勒与美国总统唐纳德"),
        ("米勒与美国总统唐纳德", (), "特朗普通了电话"),
        ("蒂姆", (), "怀特没有"),
    ]


def test_a_known_name_is_carried_as_its_english():
    lex = mine_names(hand_made_pairs())
    masked, spans = mask_source("苹果公司的CEO蒂姆·库克访问了上海。", names=lex)
    assert masked == "苹果公司的⟦0⟧⟦1⟧访问了上海。"
    assert spans == ["CEO", "Tim Cook"] and source_forms(spans) == ["CEO", "蒂姆·库克"]
    assert mask_source("苹果公司的CEO蒂姆·库克访问了上海。")[1] == ["CEO"]  # no lexicon: the model's job


def test_the_lexicon_file_round_trips_and_a_corrupt_one_is_named(tmp_path):
    lex = mine_names(hand_made_pairs())
    lex.save(tmp_path / NAMES_FILE)
    assert load_names(tmp_path).parts == lex.parts and len(lex) == 6
    assert load_names(tmp_path).characters == lex.characters
    assert load_names(tmp_path / "nothing-here") is None
    (tmp_path / NAMES_FILE).write_text("first\t蒂姆\n", encoding="utf-8")
    with pytest.raises(ModelFolderError, match="names.tsv is corrupt"):
        load_names(tmp_path)


@pytest.fixture(scope="module")
def name_translator():
    """A random tiny model with placeholder pieces and the hand-made lexicon (its output is noise; prefixes
    force it)."""
    return placeholder_translator(names=mine_names(hand_made_pairs()))


def test_a_name_round_trips_through_translation_and_alignment(name_translator, tmp_path):
    tr = name_translator
    t = tr.translate("我们向蒂姆·库克的家人表示哀悼。", beam_size=2, prefix="Tim Cook", max_len_b=3)[0]
    assert t.text.startswith("Tim Cook") and "⟦" not in t.text
    assert "蒂姆·库克" in t.source_tokens and "Tim Cook" in t.target_tokens
    a = tr.align(["我们向蒂姆·库克的家人表示哀悼。"], ["We mourn with Tim Cook 's family ."])[0]
    assert "蒂姆·库克" in a.source_tokens and "Tim Cook" in a.target_tokens
    j = a.target_tokens.index("Tim Cook")
    assert [a.target_words[w] for w in a.target_piece_words[j]] == ["Tim", "Cook"]
    # the lexicon travels with the folder
    assert Translator.load(tr.save(tmp_path / "m")).codec.names.parts == tr.codec.names.parts


def test_a_name_goes_on_past_a_cut_or_overlaps_an_amount():
    lex = mine_names(hand_made_pairs())
    assert lex.characters == set("姆娜库德特米")  # those beside a dot: not 的, not 克
    # 库克 is known, but 库克德 goes on (德 is a name character): the whole name stays text
    assert lex.find("我们向蒂姆·库克德的家人表示哀悼。") == []
    assert lex.find("我们向蒂姆·库克的家人表示哀悼。") == [(3, 8, "Tim Cook")]
    assert lex.find("我们向蒂姆·怀特·米勒的家人表示哀悼。") == []  # an unknown middle part: text as well
    lex.parts["first"]["万斯"] = "Vance"
    masked, spans = mask_source("给了3万斯·米勒。", names=lex)
    assert spans == ["30,000"] and masked == "给了⟦0⟧斯·米勒。"  # the amount came first; the name stays text


def test_the_lexicon_read_the_other_way_finds_english_names():
    """English -> Chinese: a known name becomes its Chinese form; boundaries, two names back to back, a name inside a
    longer capitalised phrase, and an unknown name (left as English, as Chinese news does)."""
    lex = mine_names(hand_made_pairs())
    assert lex.chinese("Apple CEO Tim Cook visited Shanghai.") == [(10, 18, "蒂姆·库克")]
    assert lex.chinese("Tim Cook Anna Miller") == [(0, 8, "蒂姆·库克"), (9, 20, "安娜·米勒")]  # back to back
    assert lex.chinese("Yesterday Tim Cook and the Tim Cook Foundation met.") == [
        (10, 18, "蒂姆·库克"),
        (27, 35, "蒂姆·库克"),
    ]
    assert lex.chinese("Tim Cooks left.") == [] and lex.chinese("Tim met Cook.") == []  # whole words, in a row
    assert lex.chinese("Frank Miller and Anna Smith spoke.") == []  # unknown first or last part: English stays
    assert lex.chinese("tim cook") == []  # names are capitalised
    masked, spans = mask_source("Apple CEO Tim Cook visited Shanghai.", "en", names=lex)
    assert masked == "Apple ⟦0⟧ ⟦1⟧ visited Shanghai." and spans == ["CEO", "蒂姆·库克"]
    assert source_forms(spans) == ["CEO", "Tim Cook"]  # the maps show the English the model read
    # A mined first part that took a title with it (总统乔: "President Joe") is not written out.
    lex.parts["first"]["总统乔"] = "Joe"
    assert "Joe" not in lex.reverse()["first"]


def test_an_english_name_comes_out_in_chinese_through_an_en_zh_translator():
    from helpers import placeholder_translator as tiny

    tr = tiny(names=mine_names(hand_made_pairs()), direction="en-zh")
    t = tr.translate("We met Tim Cook in Beijing.", beam_size=2, prefix="蒂姆·库克", max_len_b=3)[0]
    assert t.text.startswith("蒂姆·库克") and "Tim Cook" in t.source_tokens and t.placeholders == ["蒂姆·库克"]
