import json
from unittest import mock

import numpy as np
import pytest

from seq2seq.data import (
    CleanConfig,
    DataError,
    TokenBatcher,
    clean_pairs_indexed,
    expand_globs,
    load_source,
    padding_fraction,
)


def write(path, lines):
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return str(path)


def test_file_pairs_keep_empty_lines_aligned(tmp_path):
    src = write(tmp_path / "a.zh", ["你好", "", "谢谢"])
    tgt = write(tmp_path / "a.en", ["hello", "empty", "thanks"])
    assert load_source({"src": src, "tgt": tgt}) == [("你好", "hello"), ("", "empty"), ("谢谢", "thanks")]


def test_mismatched_line_counts_name_both_files_and_counts(tmp_path):
    src = write(tmp_path / "a.zh", ["一", "二", "三"])
    tgt = write(tmp_path / "a.en", ["one", "two"])
    with pytest.raises(DataError) as e:
        load_source({"src": src, "tgt": tgt})
    msg = str(e.value)
    assert src in msg and tgt in msg and "3 lines" in msg and "has 2" in msg


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match="not found: .*nope.zh"):
        load_source({"src": str(tmp_path / "nope.zh"), "tgt": str(tmp_path / "nope.en")})


def test_tsv_and_jsonl(tmp_path):
    tsv = tmp_path / "c.tsv"
    tsv.write_text('你好\thello "there"\n谢谢\tthanks\n', encoding="utf-8")
    assert load_source({"tsv": str(tsv)}) == [("你好", 'hello "there"'), ("谢谢", "thanks")]
    jl = tmp_path / "c.jsonl"
    jl.write_text(
        "\n".join(
            json.dumps({"translation": {"zh": z, "en": e}}, ensure_ascii=False)
            for z, e in [("你好", "hello"), ("再见", "bye")]
        )
        + "\n",
        encoding="utf-8",
    )
    assert load_source({"jsonl": str(jl), "limit": 1}) == [("你好", "hello")]
    with pytest.raises(DataError, match="no field"):
        load_source({"jsonl": str(jl), "src_key": "zh"})


def test_hub_source_calls_load_dataset_with_id_config_and_split():
    import datasets

    records = datasets.Dataset.from_list(
        [{"translation": {"zh": "你好", "en": "hello"}}, {"translation": {"zh": "谢谢", "en": "thanks"}}]
    )
    with mock.patch("datasets.load_dataset", return_value=records) as load:
        pairs = load_source(
            {
                "hub": "wmt/wmt19",
                "config": "zh-en",
                "split": "validation",
                "src_key": "translation.zh",
                "tgt_key": "translation.en",
            }
        )
    load.assert_called_once_with("wmt/wmt19", "zh-en", split="validation")
    assert pairs == [("你好", "hello"), ("谢谢", "thanks")]


def test_hub_source_offline_is_a_data_error_naming_the_dataset():
    # datasets' own offline error (a ConnectionError) becomes one clear line: the CLIs print DataError messages
    offline = ConnectionError("Couldn't reach 'wmt/wmt17' on the Hub (LocalEntryNotFoundError)")
    with mock.patch("datasets.load_dataset", side_effect=offline):
        with pytest.raises(
            DataError, match=r"'wmt/wmt17' could not be loaded \(ConnectionError: Couldn't reach.*network"
        ):
            load_source({"hub": "wmt/wmt17", "config": "zh-en"})
    for missing in (FileNotFoundError("Dataset 'no/such' doesn't exist"), ValueError("Unknown split 'dev'")):
        with mock.patch("datasets.load_dataset", side_effect=missing):
            with pytest.raises(DataError, match="check the dataset id, its configuration and split"):
                load_source({"hub": "no/such", "split": "dev"})


def test_glob_expands_to_pairs(tmp_path):
    for name in ("b", "a"):
        write(tmp_path / f"{name}.zh", ["一"])
        write(tmp_path / f"{name}.en", ["one"])
    specs = expand_globs([{"glob": str(tmp_path / "*.zh")}, {"src": "x.zh", "tgt": "x.en"}])
    assert [s.get("name") for s in specs] == ["a", "b", None]
    assert specs[0]["tgt"] == str(tmp_path / "a.en")
    with pytest.raises(DataError, match="no files match"):
        expand_globs([{"glob": str(tmp_path / "*.xx")}])


def test_cleaning_counts_each_step():
    pairs = [
        ("\ufeff你好。", "Hello."),  # BOM removed by normalisation
        ("ＡＢＣ好", "ABC good"),  # full-width -> half-width
        ("", "nothing"),  # empty
        ("长" * 50, "long " * 100),  # over max_chars on the English side
        ("这是一个很长的中文句子。", "Hi."),  # ratio too low (3 / 12)
        ("你好。", "Hello."),  # duplicate of the first after normalisation
        ("我們", "we"),
    ]
    kept, report, _ = clean_pairs_indexed(
        pairs, CleanConfig(max_chars=200, min_ratio=0.4, max_ratio=12, ratio_min_chars=3, t2s=True)
    )
    assert kept == [("你好。", "Hello."), ("ABC好", "ABC good"), ("我们", "we")]
    # normalised: the BOM, the full-width letters and the trailing space of the long line
    assert list(report.values()) == [3, 0, 1, 1, 1, 1, 1]  # ... markup removed: none here


def test_batcher_respects_budget_covers_everything_and_is_deterministic():
    rng = np.random.default_rng(0)
    src = rng.integers(2, 60, 3000)
    tgt = src + rng.integers(0, 10, 3000)  # target lengths follow source lengths, as in real corpora
    b = TokenBatcher(src, tgt, max_tokens=800, seed=3, pool_batches=20)
    batches = b.epoch(0)
    for batch in batches:
        assert len(batch.indices) * max(src[batch.indices].max(), tgt[batch.indices].max()) <= 800
    assert sorted(np.concatenate([x.indices for x in batches]).tolist()) == list(range(3000))
    again = TokenBatcher(src, tgt, max_tokens=800, seed=3, pool_batches=20).epoch(0)
    assert all(np.array_equal(x.indices, y.indices) for x, y in zip(batches, again))
    assert not all(np.array_equal(x.indices, y.indices) for x, y in zip(batches, b.epoch(1)))
    # bucketing wastes far less on padding than batches of the same sizes over a random order
    order = rng.permutation(3000)
    sizes = np.cumsum([len(x.indices) for x in batches])[:-1]
    unsorted = [b._batch(list(chunk)) for chunk in np.split(order, sizes)]
    assert padding_fraction(batches) < 0.15
    assert padding_fraction(batches) < 0.4 * padding_fraction(unsorted)


def test_markup_is_removed_and_counted():
    from seq2seq.data import strip_markup

    pairs = [("你好<laugh/>", "<parallel_talk>hello</parallel_talk> there"), ("a < b", "a < b <3")]
    kept, report, _ = clean_pairs_indexed(pairs, CleanConfig(ratio_min_chars=100))
    assert kept[0] == ("你好", "hello there") and kept[1] == ("a < b", "a < b <3")
    assert report["markup removed (changed, not removed)"] == 1
    assert strip_markup('x <div class="a">y</div> <br/>z') == "x y z"


def test_length_buckets_line_up_target_lengths_and_cut_padding():
    """Source lengths vary around the target length, as in a real corpus: sorting by exact source length
    leaves target lengths ragged within a batch; buckets of 4 source pieces sort those by target length."""
    rng = np.random.default_rng(5)
    tgt = rng.integers(3, 60, size=5000)
    src = np.maximum(1, (tgt * rng.uniform(0.6, 1.4, size=5000)).astype(int))
    exact = TokenBatcher(src, tgt, max_tokens=1000, seed=1, length_bucket=1).epoch(0)
    bucketed = TokenBatcher(src, tgt, max_tokens=1000, seed=1, length_bucket=4).epoch(0)
    for batches in (exact, bucketed):
        assert sorted(np.concatenate([x.indices for x in batches]).tolist()) == list(range(5000))
        assert all(len(x.indices) * max(src[x.indices].max(), tgt[x.indices].max()) <= 1000 for x in batches)
    # each batch is a run of its pool in sort order: source lengths (in buckets) never decrease within it
    assert all(np.all(np.diff(src[x.indices]) >= 0) for x in exact)
    assert all(np.all(np.diff(src[x.indices] // 4) >= 0) for x in bucketed)
    assert not all(np.all(np.diff(src[x.indices]) >= 0) for x in bucketed)
    assert padding_fraction(bucketed) < padding_fraction(exact) - 0.03
    real = lambda bs: sum(x.src_tokens + x.tgt_tokens for x in bs) / len(bs)  # noqa: E731
    assert real(bucketed) > real(exact)
