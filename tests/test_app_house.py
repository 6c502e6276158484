"""The demo as a core and a face: the core (what the page computes) imports neither Gradio nor Plotly, not even
through another module of the demo, so it can be tested and reused without them; the face imports them once, at
the top of its modules.  (The package's own rules: test_house.py.)"""

import ast
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "seq2seq" / "app"
CORE = {
    "inputs",
    "predict",
    "batching",
    "explore",
    "maps",
    "labels",
    "intros",
    "chips",
    "downloads",
    "attributions",
    "layer_lens",
}
FACE_LIBRARIES = ("gradio", "plotly")
# server.py checks that the face's libraries are installed before it imports the face, to say how to install them.
CHECKS_INSTALLED = {"server"}


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, at the top of the file?) for every import of a file; relative imports of the app as
    ``.name``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 1:
                names = [f".{node.module}"] if node.module else [f".{a.name}" for a in node.names]
                out += [(n, id(node) in top) for n in names]
            elif node.level == 0:
                out.append((node.module, id(node) in top))
    return out


def _modules() -> dict[str, list[tuple[str, bool]]]:
    return {p.stem: _imports(p) for p in APP.glob("*.py") if p.stem != "__init__"}


def test_the_core_imports_neither_gradio_nor_plotly_even_through_the_app():
    modules = _modules()
    assert CORE <= set(modules), CORE - set(modules)
    for name in sorted(CORE):
        for imported, _ in modules[name]:
            assert not imported.startswith(FACE_LIBRARIES), (name, imported)
            if imported.startswith("."):
                assert imported[1:] in CORE, f"core module {name} imports {imported[1:]}, which is not core"


def test_the_face_imports_its_libraries_at_the_top():
    for name, imports in _modules().items():
        inside = [m for m, at_top in imports if not at_top and m.startswith(FACE_LIBRARIES)]
        assert not inside or name in CHECKS_INSTALLED, (name, inside)


def test_importing_the_core_loads_neither():
    core = ", ".join(f"seq2seq.app.{m}" for m in sorted(CORE))
    code = (
        f"import sys; import {core}; "
        "loaded = [m for m in sys.modules if m.split('.')[0] in ('gradio', 'plotly')]; "
        "assert not loaded, loaded[:5]"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=APP.parent.parent)
