"""The import rules of docs/architecture.md hold for every module under src/tcobench.

The rule table is read from the page's ``layers`` block, so the page and this test cannot drift. Every
import counts: at module level, inside functions, under ``TYPE_CHECKING``, ``importlib.import_module("...")``,
``__import__("...")`` and ``"module:attribute"`` strings (the CLI's lazy command table).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "tcobench"
DOC = ROOT / "docs" / "architecture.md"
ANY = "*"
PUBLIC_API = "__init__"  # tcobench/__init__.py, the layer an import of the bare ``tcobench`` reaches
OPEN_TO_ALL = {"__version__"}  # package metadata every layer may read from the public API module
OPTIONAL = {"torch", "dask", "distributed", "matplotlib"}  # heavy extras: imported inside functions only
MATPLOTLIB_HOME = "tcobench.report.plots"

Rules = dict[str, frozenset[str]]


@dataclass(frozen=True)
class Import:
    """One import in a module: the dotted target, its line, and whether it runs only when called."""

    target: str
    line: int
    lazy: bool  # inside a function or under ``if TYPE_CHECKING:``


def parse_rules(page: str) -> Rules:
    """The ``layers`` block of the page: ``package  allowed...`` per line, ``-`` for none, ``*`` for any."""
    blocks = re.findall(r"^```layers\n(.*?)^```", page, re.M | re.S)
    assert len(blocks) == 1, "docs/architecture.md needs exactly one ```layers block"
    rules: Rules = {}
    for line in blocks[0].splitlines():
        name, *allowed = line.split()
        assert name not in rules, f"{name} has two rows"
        rules[name] = frozenset() if allowed == ["-"] else frozenset(allowed)
    return rules


def module_name(path: Path) -> str:
    """src/tcobench/loadgen/client.py -> tcobench.loadgen.client; a package's __init__.py -> the package."""
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def layer(module: str) -> str | None:
    """tcobench.perf.inference -> perf; tcobench (or tcobench.__init__) -> __init__; outside tcobench -> None."""
    parts = module.split(".")
    if parts[0] != "tcobench":
        return None
    return parts[1] if len(parts) > 1 else PUBLIC_API


class _Collector(ast.NodeVisitor):
    """Every import in one module, internal or not, resolved to a dotted module name."""

    def __init__(self, module: str, is_package: bool, rules: Rules) -> None:
        self.package = module if is_package else module.rpartition(".")[0]
        self.rules = rules
        self.found: list[Import] = []
        self.depth = 0  # how many functions or TYPE_CHECKING blocks enclose the node
        self.bare: set[str] = set()  # local names bound by ``import tcobench [as x]``
        self.resolved: set[int] = set()  # ids of __import__("tcobench") calls resolved by their attribute

    def add(self, target: str | None, node: ast.AST) -> None:
        if target:
            self.found.append(Import(target, getattr(node, "lineno", 0), self.depth > 0))

    def from_root(self, name: str) -> str | None:
        """``tcobench.<name>``: a layer's module, nothing for metadata, else the public API module."""
        if name in OPEN_TO_ALL:
            return None
        return f"tcobench.{name}" if name in self.rules else "tcobench"

    def nested(self, node: ast.AST) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = nested

    def visit_If(self, node: ast.If) -> None:
        t = node.test
        name = t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else None
        if name == "TYPE_CHECKING":
            self.nested(node)
        else:
            self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name == "tcobench":  # resolved where it is used: tcobench.<name>
                self.bare.add(alias.asname or "tcobench")
            else:
                self.add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            parts = self.package.split(".")
            module = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        if module == "tcobench" or node.module is None:  # each name may be a module of its own
            for alias in node.names:
                self.add(self.from_root(alias.name) if module == "tcobench" else f"{module}.{alias.name}", node)
        else:
            self.add(module, node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        value = node.value
        if isinstance(value, ast.Name) and value.id in self.bare:
            self.add(self.from_root(node.attr), node)
            return
        if isinstance(value, ast.Call) and _dynamic(value) == "tcobench":  # __import__("tcobench").<name>
            self.add(self.from_root(node.attr), node)
            self.resolved.add(id(value))
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.bare and isinstance(node.ctx, ast.Load):  # the package itself, not one name of it
            self.add("tcobench", node)

    def visit_Call(self, node: ast.Call) -> None:
        if id(node) not in self.resolved:
            self.add(_dynamic(node), node)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and re.fullmatch(r"tcobench(\.\w+)+:\w+", node.value):
            self.add(node.value.partition(":")[0], node)


def _dynamic(node: ast.Call) -> str | None:
    """The module of ``importlib.import_module("m")``, ``import_module("m")`` or ``__import__("m")``."""
    f = node.func
    name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
    if name in {"import_module", "__import__"} and node.args and isinstance(node.args[0], ast.Constant):
        arg = node.args[0].value
        return arg if isinstance(arg, str) else None
    return None


def imports_of(module: str, source: str, rules: Rules, is_package: bool = False) -> list[Import]:
    """Every import in one module's source (of tcobench and of anything else)."""
    collector = _Collector(module, is_package, rules)
    collector.visit(ast.parse(source))
    return collector.found


def violations(module: str, source: str, rules: Rules, is_package: bool = False) -> list[str]:
    """One message per import the rules do not allow, naming the line, the target and what is allowed."""
    own = layer(module) or module
    allowed = rules.get(own, frozenset())
    out = []
    for imp in imports_of(module, source, rules, is_package):
        target = layer(imp.target)
        if target is None or target == own or ANY in allowed or target in allowed:
            continue
        may = " ".join(sorted(allowed)) or "nothing internal"
        out.append(f"{module}:{imp.line}: {own} imports {imp.target} ({target}); {own} may import: {may}")
    return out


def optional_violations(module: str, source: str, rules: Rules) -> list[str]:
    """Heavy optional packages imported at module level, and matplotlib outside report/plots.py."""
    out = []
    for imp in imports_of(module, source, rules):
        top = imp.target.split(".")[0]
        if top not in OPTIONAL:
            continue
        if not imp.lazy:
            out.append(f"{module}:{imp.line}: imports {imp.target} at module level, not inside the function")
        if top == "matplotlib" and module != MATPLOTLIB_HOME:
            out.append(f"{module}:{imp.line}: imports matplotlib outside {MATPLOTLIB_HOME}")
    return out


def find_cycle(rules: Rules) -> list[str] | None:
    """A cycle among the rows (``a b`` and ``b a``), as the path that closes it; None when they form layers."""
    graph = {name: sorted(allowed) for name, allowed in rules.items() if ANY not in allowed}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name):], name]
        if name not in graph or name in done:
            return None
        for dep in graph[name]:
            if (cycle := visit(dep, [*path, name])) is not None:
                return cycle
        done.add(name)
        return None

    return next((c for name in graph if (c := visit(name, [])) is not None), None)


RULES = parse_rules(DOC.read_text())
MODULES = sorted(SRC.rglob("*.py"))


def _violations(path: Path) -> list[str]:
    return violations(module_name(path), path.read_text(), RULES, is_package=path.name == "__init__.py")


def test_the_page_has_a_row_for_every_package_and_names_only_known_ones() -> None:
    present = {p.stem for p in SRC.glob("*.py")} | {p.parent.name for p in SRC.glob("*/__init__.py")}
    assert present - RULES.keys() == set(), "packages without a row in docs/architecture.md's layers block"
    named = set().union(*RULES.values()) - {ANY}
    assert named - RULES.keys() == set(), "rows name packages that have no row of their own"


def test_the_rules_are_layers_without_cycles() -> None:
    assert find_cycle(RULES) is None
    assert find_cycle(parse_rules("```layers\nerrors units\nunits records\nrecords errors\n```\n")) == [
        "errors", "units", "records", "errors"]


def test_every_import_follows_the_layers() -> None:
    found = [v for path in MODULES for v in _violations(path)]
    assert found == [], "imports docs/architecture.md does not allow:\n" + "\n".join(found)


def test_the_scan_sees_lazy_and_dynamic_imports_in_the_tree() -> None:
    """The walk over src/ finds what is there: a lazy import inside a function, the CLI's command table."""
    found = {(module_name(p), i.target, i.lazy)
             for p in MODULES for i in imports_of(module_name(p), p.read_text(), RULES)}
    assert ("tcobench.claims.kinds.prediction", "tcobench.perf", True) in found
    assert ("tcobench.cli.main", "tcobench.cli.bench", False) in found
    assert len(MODULES) > 50


def test_optional_heavy_packages_are_imported_lazily() -> None:
    found = [v for path in MODULES for v in optional_violations(module_name(path), path.read_text(), RULES)]
    assert found == [], "\n".join(found)


@pytest.mark.parametrize(("module", "source", "expected"), [
    ("tcobench.loadgen.fake", "def f():\n    from tcobench.perf import evaluate\n",
     "loadgen imports tcobench.perf (perf); loadgen may import: checks cost credentials errors records units"),
    ("tcobench.perf.fake", "from ..search import grid\n", "perf imports tcobench.search (search)"),
    ("tcobench.catalog.fake", "import tcobench\nS = tcobench.store.Store\n", "catalog imports tcobench.store (store)"),
    ("tcobench.store", "from tcobench import Catalog\n", "store imports tcobench (__init__)"),
    ("tcobench.errors", "from tcobench import units\n",
     "errors imports tcobench.units (units); errors may import: nothing internal"),
    ("tcobench.search.fake", "import importlib\nm = importlib.import_module('tcobench.loadgen.bench')\n",
     "search imports tcobench.loadgen.bench (loadgen)"),
    ("tcobench.cost.fake", "COMMANDS = {'x': 'tcobench.cli.x:x'}\n", "cost imports tcobench.cli.x (cli)"),
    ("tcobench.report.fake", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tcobench.api import x\n",
     "report imports tcobench.api (api)"),
])
def test_a_forbidden_import_is_reported(module: str, source: str, expected: str) -> None:
    found = violations(module, source, RULES)
    assert len(found) == 1 and expected in found[0], found


@pytest.mark.parametrize(("module", "source"), [
    ("tcobench.loadgen.fake", "import tcobench\nUA = f'tcobench/{tcobench.__version__}'\n"),
    ("tcobench.report.fake", "V = __import__('tcobench').__version__\nfrom tcobench import units\n"),
    ("tcobench.search.fake", "from . import grid\nfrom .. import errors\nimport numpy as np\n"),
    ("tcobench.cli.fake", "from tcobench.api import x\nfrom tcobench import Catalog\n"),
])
def test_an_allowed_import_passes(module: str, source: str) -> None:
    assert violations(module, source, RULES) == []


def test_a_module_level_heavy_import_is_reported() -> None:
    found = optional_violations("tcobench.search.fake", "import dask.distributed\ndef f():\n    import torch\n", RULES)
    assert found == ["tcobench.search.fake:1: imports dask.distributed at module level, not inside the function"]
    found = optional_violations("tcobench.perf.fake", "def f():\n    import matplotlib\n", RULES)
    assert found == ["tcobench.perf.fake:2: imports matplotlib outside tcobench.report.plots"]
