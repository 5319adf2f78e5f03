"""Imports go one way: gradienti's modules form layers, and a module imports only from its own
layer or the layers below it, at the top of the file.

Read from the source (``ast``), not by importing: a module's imports are the ``import`` and
``from ... import`` statements of its file that name a gradienti module. Importing ``a.b.c``
runs the packages ``a`` and ``a.b`` first, so those count too (except the importer's own
packages, which are already running when it is imported). Imports under ``if TYPE_CHECKING:``
never run: they are left out of the cycle check, not out of the layer check.
"""

from __future__ import annotations

import ast
import functools
import pathlib
from dataclasses import dataclass

import gradienti

PACKAGE = "gradienti"

# Lowest first. A name stands for that module; "name.*" for a package and everything in it;
# "" for gradienti/__init__.py. Every module of gradienti is in exactly one layer.
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # arrays and dtypes, sizes, printing: no Tensor
    # (batching: the arrays that vmap computes on, so that every layer above can tell them)
    (
        "base",
        (
            *("backend", "devices", "casting", "size", "_printing", "python_types"),
            *("batching.*", "type_info"),
            "_text_encoding",  # text spelled in ASCII for a stream that cannot encode it
            "beginner_hints",  # hints after PyTorch's error texts, raised at every layer
        ),
    ),
    # the graph's building blocks: nodes and edges, version counters, grad mode
    ("graph", ("graph.*",)),
    ("tensor", ("tensor",)),
    # making Tensors (from data, at random) and checking their arguments
    (
        "tensor helpers",
        (
            "arguments",
            "python_data",
            "creation",
            "random_integers",
            "random",
            "random_sampling",
            "tensor_checks",
            "tensor_copy",
            "legacy_tensors",
        ),
    ),
    ("ops", ("ops.*",)),
    # the backward pass, custom Functions, functional and gradcheck
    ("autograd", ("autograd.*",)),
    (
        "libraries",
        (
            "nn.*",
            "optim.*",
            "viz.*",
            "utils.*",
            "func.*",
            "serialization",
            "_safetensors",
            "_torch_zip_writer",
            "_torch_zip_reader",
            "_restricted_unpickler",
            "_file_output",
            "expression",
            "expression_functions",
            "cli_budget",
            # a CPU-only build's device namespaces, and compile (eager)
            "cuda.*",
            "backends.*",
            "accelerator",
            "_compile",
            "compiler.*",  # gradienti.compile's tracer, programs and guards
            # one process, computing in the tensors' own dtypes: distributed and amp stubs
            "distributed.*",
            "amp.*",
            "in_place_functions",
            "special",  # torch.special's names for the ops
            "linalg",  # torch.linalg's names for the ops
            "distributions.*",
        ),
    ),
    # gradienti/__init__.py: the public names, and Tensor's methods from the layers above tensor
    ("package", ("",)),
    # The command is a client of the package (its demo is the lesson's code, with
    # ``import gradienti as torch``); nothing in the package imports it.
    ("command", ("cli", "cli_help", "cli_page", "__main__")),
)


@dataclass(frozen=True)
class Import:
    importer: str
    target: str
    line: int
    where: str  # "top" | "type-checking" | "function" | "after code"


def _root() -> pathlib.Path:
    return pathlib.Path(gradienti.__file__).parent


@functools.cache
def _modules() -> dict[str, pathlib.Path]:
    modules = {}
    for path in sorted(_root().rglob("*.py")):
        parts = list(path.relative_to(_root().parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_package(module: str) -> bool:
    return _modules()[module].name == "__init__.py"


def _ancestors(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def _targets(importer: str, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The gradienti modules that the statement names (a package's own submodules included:
    ``from . import dot`` names ``viz.dot``)."""
    modules = _modules()
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in modules]
    if node.level:
        base = importer.split(".")
        if not _is_package(importer):
            base.pop()
        base = base[: len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    found = []
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        target = submodule if submodule in modules else source
        if target in modules and target not in found:
            found.append(target)
    return found


def _is_type_checking(node: ast.stmt) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        getattr(test, "id", None) == "TYPE_CHECKING"
        or getattr(test, "attr", None) == "TYPE_CHECKING"
    )


def _is_header(node: ast.stmt) -> bool:
    """A statement that may come before a module's imports: its docstring, an import."""
    is_docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    return is_docstring or isinstance(node, (ast.Import, ast.ImportFrom))


@functools.cache
def _imports() -> tuple[Import, ...]:
    found = []
    for module, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        seen_code = False
        for statement in tree.body:
            if _is_type_checking(statement):
                where = "type-checking"
            elif _is_header(statement):
                where = "after code" if seen_code else "top"
            else:
                seen_code = True
                where = "function"  # an import nested in any other statement runs late or not
            for node in ast.walk(statement):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    found += [
                        Import(module, target, node.lineno, where)
                        for target in _targets(module, node)
                    ]
    return tuple(found)


def _runtime_graph() -> dict[str, set[str]]:
    """module -> the modules its import runs (parent packages included)."""
    graph = {module: set() for module in _modules()}
    for imp in _imports():
        if imp.where == "type-checking":
            continue
        reached = {imp.target} | _ancestors(imp.target)
        graph[imp.importer] |= {m for m in reached if m in graph} - _ancestors(imp.importer)
        graph[imp.importer].discard(imp.importer)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, components = {}, {}, set(), [], []
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph[successor]))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(sorted(component))
    return components


def _layer_of(module: str) -> int | None:
    name = module[len(PACKAGE) + 1 :] if module != PACKAGE else ""
    matches = [
        level
        for level, (_, patterns) in enumerate(LAYERS)
        for pattern in patterns
        if name == pattern
        or (pattern.endswith(".*") and (name == pattern[:-2] or name.startswith(pattern[:-1])))
    ]
    return matches[0] if len(matches) == 1 else None


def _short(module: str) -> str:
    return module[len(PACKAGE) + 1 :] or PACKAGE


# ------------------------------------------------------------------------------------ the tests


def test_the_reader_sees_the_imports():
    """The checks below read what they should: a known import of each kind is found."""
    imports = {(i.importer, i.target, i.where) for i in _imports()}
    assert ("gradienti.tensor", "gradienti.backend", "top") in imports
    assert ("gradienti.viz.explain_text", "gradienti.viz.explain", "type-checking") in imports
    assert ("gradienti.ops.shape", "gradienti.graph.node", "top") in imports
    graph = _runtime_graph()
    assert "gradienti.ops" in graph["gradienti.autograd.schedule"]  # the parent package runs
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_every_module_is_in_exactly_one_layer():
    unplaced = sorted(_short(m) for m in _modules() if _layer_of(m) is None)
    assert not unplaced, f"put each of these in one layer of LAYERS: {unplaced}"


def test_no_import_cycle():
    cycles = [[_short(m) for m in cycle] for cycle in _cycles(_runtime_graph())]
    assert not cycles, f"modules that import each other: {cycles}"


def test_no_late_gradienti_import():
    """gradienti's modules import each other at the top of the file, never inside a function
    or after code (an import that waits there hides a cycle)."""
    late = sorted(
        f"{_modules()[i.importer].relative_to(_root().parent)}:{i.line} imports "
        f"{_short(i.target)} ({'inside code' if i.where == 'function' else i.where})"
        for i in _imports()
        if i.where in ("function", "after code")
    )
    assert not late, "imports below the top of the file:\n" + "\n".join(late)


def test_imports_go_down_the_layers():
    upward = sorted(
        f"{_short(i.importer)} ({LAYERS[_layer_of(i.importer)][0]}) imports {_short(i.target)} "
        f"({LAYERS[_layer_of(i.target)][0]}), line {i.line}"
        for i in _imports()
        if None not in (_layer_of(i.importer), _layer_of(i.target))
        and _layer_of(i.target) > _layer_of(i.importer)
    )
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)
