"""Every console script the README names answers --help (a fresh install has them all)."""

import re
import subprocess
import sys

import pytest
import tomllib
from helpers import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
SCRIPTS = PROJECT["scripts"]
NAMED = sorted(
    {name for name in re.findall(r"\b(seq2seq-[a-z]+)\b", README)} - {PROJECT["name"]}
)  # not the distribution


def test_the_readme_names_only_scripts_that_exist():
    assert NAMED and set(NAMED) <= set(SCRIPTS), set(NAMED) - set(SCRIPTS)


@pytest.mark.parametrize("name", NAMED)
def test_help(name):
    module, func = SCRIPTS[name].split(":")
    code = f"import sys; sys.argv = [{name!r}, '--help']; from {module} import {func}; {func}()"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "usage:" in out.stdout


def test_app_py_help():
    out = subprocess.run([sys.executable, str(ROOT / "app.py"), "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "--port" in out.stdout


def test_demo_refuses_a_port_in_use(capsys):
    import socket

    from seq2seq.app.server import main

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["--port", str(port)]) == 2
    assert "already in use" in capsys.readouterr().err


def test_demo_without_gradio_names_the_extra(monkeypatch, capsys):
    from seq2seq.app.server import main

    monkeypatch.setitem(sys.modules, "gradio", None)  # import gradio raises ImportError
    assert main([]) == 2
    assert "pip install 'seq2seq-zhen[app]'" in capsys.readouterr().err
