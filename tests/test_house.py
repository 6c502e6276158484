"""The house rules that keep the code readable: every module under 450 lines, every function under 100, no
circle of imports inside the package (at module level, or inside functions), and every module's job in one line of
docs/design.md."""

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "seq2seq"
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_modules_and_functions_stay_small():
    too_long = []
    for path in MODULES:
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > 450:
            too_long.append(f"{path.name}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > 100:
                too_long.append(f"{path.name}:{node.lineno} {node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert not too_long, too_long


def _imports(path: Path, inside_functions: bool) -> set[str]:
    """The package modules a module imports: when it is imported (module level), or anywhere in it."""
    name = _name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree) if inside_functions else tree.body:
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")
            base = base[: len(base) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
            out.add(target)
            out.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("seq2seq"):
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("seq2seq"))
    names = {_name(p) for p in MODULES}
    return {m for m in out if m in names and m != name and not name.startswith(m + ".")}  # not its own package


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    seen, on_path, circles = set(), [], []

    def visit(node):
        if node in on_path:
            circles.append(on_path[on_path.index(node) :] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        on_path.append(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt)
        on_path.pop()

    for node in sorted(graph):
        visit(node)
    return circles


def test_no_circle_of_imports():
    circles = _circles({_name(p): _imports(p, inside_functions=False) for p in MODULES})
    assert not circles, circles


def test_no_circle_of_imports_inside_functions_either():
    """An import inside a function is still an arrow between two modules: no two modules need each other."""
    circles = _circles({_name(p): _imports(p, inside_functions=True) for p in MODULES})
    assert not circles, circles


def test_the_design_doc_gives_every_module_its_job():
    """docs/design.md's layout table has one row per module (``| `seq2seq/...py` | its job |``), and no other."""
    doc = (PACKAGE.parent / "docs" / "design.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(seq2seq/[\w/]+\.py)` \|", doc, re.M))
    modules = {str(p.relative_to(PACKAGE.parent)) for p in MODULES}
    assert (sorted(modules - rows), sorted(rows - modules)) == ([], [])
