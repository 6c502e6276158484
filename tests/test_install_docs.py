"""Issue 27, installing: the distribution name, the install and data instructions the README gives."""

import re

import tomllib
from helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def section(title: str) -> str:
    m = re.search(rf"^## {title}\n(.*?)(?=^## )", README, re.M | re.S)
    assert m, title
    return m.group(1)


def test_the_distribution_has_a_name_of_its_own_and_the_import_package_stays():
    assert PROJECT["name"] == "seq2seq-zhen"  # "seq2seq" on PyPI is an unrelated project
    assert all(target.startswith("seq2seq.") for target in PROJECT["scripts"].values())
    assert any(dep.startswith("protobuf") for dep in PROJECT["dependencies"])  # seq2seq.placeholders needs it


def test_no_message_or_doc_names_the_other_projects_distribution():
    files = [ROOT / "README.md", ROOT / "pyproject.toml", *ROOT.glob("seq2seq/**/*.py"), *ROOT.glob("scripts/*")]
    stale = [
        str(f.relative_to(ROOT))
        for f in files
        if f.is_file() and re.search(r"pip install '?seq2seq\[", f.read_text(encoding="utf-8", errors="replace"))
    ]
    assert stale == []
    assert "pip install ctranslate2" in (ROOT / "seq2seq" / "translator.py").read_text(encoding="utf-8")


def test_quickstart_says_how_to_install_without_cuda_and_where_from():
    quick = section("Quickstart")
    assert "pip install torch --index-url https://download.pytorch.org/whl/cpu" in quick
    assert "git clone" in quick and "seq2seq-zhen && cd seq2seq-zhen" in quick  # the clone folder, named
    assert "ImportError: cannot import name 'Translator' from 'seq2seq' (unknown location)" in " ".join(quick.split())
    assert "not on PyPI" in quick and "pip install ./seq2seq-zhen" in quick
    assert "Training needs the clone" in quick  # configs and the toy corpus are not in the package
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    assert "https://download.pytorch.org/whl/cpu" in setup


def test_data_section_names_the_corpora_the_layout_and_the_loaders():
    data = section("Data")
    for name in ("Tatoeba", "News Commentary", "UN Parallel", "newstest2017", "tatoeba-dev", "nist02"):
        assert name in data, name
    assert "`NAME.zh` and `NAME.en` line-aligned" in data and "train/" in data and "dev/" in data
    assert "scripts/prepare_data.py --from-dir" in data and "--hub Helsinki-NLP/news_commentary" in data
    training = section("Training")
    assert "alignment.weight=0" in training  # when align_corpus.py is needed


def test_readme_says_which_engine_searches_and_which_explains():
    engines = section("Two engines")
    assert "CTranslate2" in engines and "seq2seq-export" in engines and "docs/api.md#two-engines" in engines
    translate = section("Translate")
    assert 'backend="torch"' in translate and "MODEL/ctranslate2/" in translate


# ---- issue 38, item 15: the docs run the clone's scripts as everything else does, and time the toy run alike
DOC_FILES = [
    ROOT / "README.md",
    *ROOT.glob("docs/*.md"),
    ROOT / "benchmarks" / "README.md",
    *ROOT.glob("seq2seq/pretrained/*/README.md"),
    *ROOT.glob("scripts/*.py"),
    *ROOT.glob("benchmarks/*.py"),
]


def test_the_docs_run_scripts_with_the_virtualenvs_python():
    bare = re.compile(r"(?<![/\w.])python3? (?:scripts/|benchmarks/|app\.py)")
    found = [
        f"{f.relative_to(ROOT)}:{n}: {line.strip()}"
        for f in DOC_FILES
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
        if bare.search(line)
    ]
    assert found == []


def test_the_toy_run_has_one_measured_time_with_its_conditions():
    training = " ".join((ROOT / "docs" / "training.md").read_text(encoding="utf-8").split())
    m = re.search(r"`configs/tiny\.yaml` trains .*? in ((?:\d+ min )?\d+ s) (.*?)\. ", training)
    assert m, "docs/training.md: the toy run's measured time"
    figure, conditions = m.groups()
    assert "2 CPU cores" in conditions and "nothing else running" in conditions  # the machine, and quiet
    readme = next(line for line in README.splitlines() if "--config configs/tiny.yaml" in line)
    assert f"toy model in {figure}" in readme  # the README quotes the same measurement
    tiny = (ROOT / "configs" / "tiny.yaml").read_text(encoding="utf-8")
    assert figure in tiny and "docs/training.md" in tiny
