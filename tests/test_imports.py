"""Data flows one way: corpus -> annotate -> models -> train/evaluate -> compare/predict -> report.

Every import of the package, including those inside functions (lazy imports are still
dependencies), is read from the source; no module may import one of a later layer, and no
modules may import each other in a circle. A new module must be given its layer here.
"""

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

# In data-flow order; a module may import its own layer and earlier ones. Command front-ends
# (`__main__`, the umbrella `stance` command) and the Python API compose steps, so they sit last.
LAYERS: list[tuple[str, list[str]]] = [
    # stance.models.kinds, the registry's table of kinds and their config sections, sits with the
    # config that reads it (longest prefix wins); the kinds' code stays in the models layer.
    ("base", ["stance.errors", "stance.files", "stance.sections", "stance.models.kinds", "stance.config", "stance.runs",
              "stance.stats", "stance.figures", "stance.quantify", "stance.progress"]),
    ("corpus", ["stance.corpus"]),
    ("annotate", ["stance.annotate"]),
    ("models", ["stance.models"]),
    ("train/evaluate", ["stance.splits", "stance.train", "stance.evaluate"]),
    ("compare/predict", ["stance.predict", "stance.distributed", "stance.compare", "stance.suggest"]),
    ("report", ["stance.report"]),
    ("entry", ["stance", "stance.__main__", "stance.cli", "stance.api", "stance.corpus.__main__",
               "stance.annotate.__main__"]),
]


def module_names(root: Path) -> dict[str, Path]:
    out = {}
    for path in sorted((root / "stance").rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def import_graph(root: Path) -> dict[str, set[str]]:
    """module -> the package modules it imports anywhere in its source (relative imports resolved;
    `from package import module` counts as importing the module)."""
    modules = module_names(root)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parent + ([base] if base else []))
                targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names}
            elif (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "import_module"
                  and node.args and isinstance(node.args[0], ast.Constant)):
                targets.add(node.args[0].value)
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def layer_of(module: str) -> int:
    best, where = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, where = len(prefix), index
    if where is None:
        raise AssertionError(f"{module} has no layer: add it to LAYERS in tests/test_imports.py")
    return where


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return sorted(f"{a} -> {b} ({LAYERS[layer_of(a)][0]} imports {LAYERS[layer_of(b)][0]})"
                  for a, targets in graph.items() for b in targets if layer_of(b) > layer_of(a))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    assert cycles(import_graph(REPO)) == []


def test_no_module_imports_up_the_data_flow():
    assert upward_imports(import_graph(REPO)) == []


def test_the_checks_catch_a_cycle_and_an_upward_import():
    graph = {"stance.predict": {"stance.distributed"}, "stance.distributed": {"stance.predict"},
             "stance.annotate.labels": {"stance.suggest"}, "stance.suggest": set()}
    assert cycles(graph) == [["stance.distributed", "stance.predict"]]
    assert upward_imports(graph) == ["stance.annotate.labels -> stance.suggest (annotate imports compare/predict)"]
    with pytest.raises(AssertionError, match="has no layer"):
        layer_of("elsewhere.module")


def test_lazy_and_relative_imports_are_read(tmp_path):
    package = tmp_path / "stance"
    (package / "corpus").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "corpus" / "__init__.py").write_text("from . import ingest\n")
    (package / "corpus" / "ingest.py").write_text("def f():\n    from stance.report import x\n")
    (package / "report.py").write_text("import stance.corpus.ingest\n")
    graph = import_graph(tmp_path)
    assert graph["stance.corpus"] == {"stance.corpus.ingest"}
    assert graph["stance.corpus.ingest"] == {"stance.report"}
    assert upward_imports(graph) == ["stance.corpus.ingest -> stance.report (corpus imports report)"]
    assert cycles(graph) == [["stance.corpus.ingest", "stance.report"]]
