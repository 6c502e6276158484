import pytest
from helpers import sample_pairs

from seq2seq.tokenizer import BOS_ID, EOS_ID, PAD_ID, UNK_ID, SubwordTokenizer, to_simplified, train_tokenizers


@pytest.fixture(scope="module")
def toks():
    zh, en = sample_pairs()
    src, tgt = train_tokenizers(zh, en, 400, 100)
    return SubwordTokenizer(src, t2s=True), SubwordTokenizer(tgt)


def test_special_ids_are_fixed(toks):
    for tok in toks:
        assert [tok.sp.id_to_piece(i) for i in (PAD_ID, UNK_ID, BOS_ID, EOS_ID)] == ["<pad>", "<unk>", "<s>", "</s>"]


def test_round_trip(toks):
    zh_tok, en_tok = toks
    for text in ["Can my friend drink tea?", "The teacher will go to Beijing tomorrow."]:
        assert en_tok.decode(en_tok.encode([text])[0]) == text
    for text in ["我喜欢吃苹果。", "老师明天要去北京。"]:
        assert zh_tok.decode(zh_tok.encode([text])[0]) == text
        assert "".join(zh_tok.encode_pieces([text])[0]).replace("\u2581", "") == text


def test_unseen_characters_fall_back_to_bytes_not_unk(toks):
    zh_tok, _ = toks
    ids = zh_tok.encode(["鑫"])[0]  # not in the toy corpus
    assert UNK_ID not in ids
    assert zh_tok.decode(ids) == "鑫"


def test_full_width_forms_map_to_half_width(toks):
    zh_tok, en_tok = toks
    assert zh_tok.encode(["我喜欢ＡＢＣ１２３？"]) == zh_tok.encode(["我喜欢ABC123?"])
    assert en_tok.encode(["Ｉ ｌｉｋｅ ｔｅａ．"]) == en_tok.encode(["I like tea."])


def test_traditional_input_is_converted_to_simplified(toks):
    zh_tok, _ = toks
    assert to_simplified("我們喜歡喝茶。") == "我们喜欢喝茶。"
    assert zh_tok.encode(["我們喜歡喝茶。"]) == zh_tok.encode(["我们喜欢喝茶。"])
    zh_raw = SubwordTokenizer(zh_tok.sp.serialized_model_proto(), t2s=False)
    assert zh_raw.encode(["我們"]) != zh_raw.encode(["我们"])


def test_decode_drops_special_ids(toks):
    _, en_tok = toks
    ids = en_tok.encode(["Thank you."])[0]
    assert en_tok.decode([BOS_ID] + ids + [EOS_ID, PAD_ID]) == "Thank you."


def test_shared_vocabulary():
    zh, en = sample_pairs()
    src, tgt = train_tokenizers(zh, en, 450, 450, shared=True)
    assert src == tgt
    tok = SubwordTokenizer(src)
    assert tok.decode(tok.encode(["Thank you."])[0]) == "Thank you."


def test_empty_corpus_is_an_error():
    with pytest.raises(ValueError, match="no text"):
        train_tokenizers(["", " "], ["x"], 50, 50)


def test_vocabulary_smaller_than_the_characters_is_a_clear_error():
    # 600 distinct characters, each many times: character coverage 0.9995 needs all of them.
    chars = [chr(0x4E00 + i) for i in range(600)]
    zh = ["".join(chars[(i * 7 + k) % 600] for k in range(20)) for i in range(600)]
    with pytest.raises(ValueError, match=r"smaller than the \d+ characters.*src_vocab_size"):
        train_tokenizers(zh, ["a b c"] * 600, 300, 50)
