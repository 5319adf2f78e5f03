"""The hot copies of ``record_node`` (ops/apply.py) record exactly what ``record_node`` records.

Every op case (the table of test_ops.py, its promotion cases, and a few ops of nn.functional)
runs twice: as shipped, and under ``hot_copies.generic_recording()``, where unary, binary,
with_number and unary_op's functions record through ``record_node``. Both runs must give the
same graph, node by node (class, edges, saved values, versions, input metadata, hooks slot,
creation order, static parameters), and bitwise the same first and second derivatives for a
non-uniform upstream gradient, with the graphs that the backward pass records compared too.
Each case also runs while an array modified in place is alive (``MODIFIED`` not empty), with
its inputs modified in place first, so that the saved values' versions are recorded.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import test_ops
from op_cases import ANY, POS, Case

import gradienti
from gradienti.autograd.function import CONFORM_ONLY, AccumulateGrad, Node, edge_parts
from gradienti.ops import apply, hot_copies
from gradienti.tensor import Tensor


def _functional_cases() -> list:
    """Ops recorded outside the op table: nary with saved values replaced, index_put, pooling."""

    def f(lib):
        return lib.nn.functional

    targets = np.array([0, 2, 1, 1])
    return [
        Case("conv2d(x,w,b)", lambda lib, x, w, b: f(lib).conv2d(x, w, b, padding=1),
             ((2, 3, 5, 5), (4, 3, 3, 3), (4,))),
        Case("conv1d(x,w) stride", lambda lib, x, w: f(lib).conv1d(x, w, stride=2),
             ((2, 3, 7), (4, 3, 3))),
        Case("linear(x,w,b)", lambda lib, x, w, b: f(lib).linear(x, w, b), ((4, 3), (5, 3), (5,))),
        Case("linear(x,w)", lambda lib, x, w: f(lib).linear(x, w), ((4, 3), (5, 3))),
        Case("addmm(b,x,y)", lambda lib, b, x, y: lib.addmm(b, x, y), ((4, 5), (4, 3), (3, 5))),
        Case("cross_entropy(x)", lambda lib, x: f(lib).cross_entropy(x, lib.tensor(targets)),
             ((4, 3),)),
        Case("nll_loss(x, sum)",
             lambda lib, x: f(lib).nll_loss(x, lib.tensor(targets), reduction="sum"), ((4, 3),)),
        Case("nll_loss(x, weight)",
             lambda lib, x, w: f(lib).nll_loss(x, lib.tensor(targets), w.detach()),
             ((4, 3), (3,)), (ANY, POS)),
        Case("binary_cross_entropy(p,y)",
             lambda lib, x, y: f(lib).binary_cross_entropy(x.sigmoid(), y.sigmoid()),
             ((2, 3), (2, 3))),
        Case("max_pool2d(x)", lambda lib, x: f(lib).max_pool2d(x, 2), ((1, 2, 4, 4),)),
        Case("avg_pool2d(x)", lambda lib, x: f(lib).avg_pool2d(x, 2), ((1, 2, 4, 4),)),
        Case("layer_norm(x,w,b)", lambda lib, x, w, b: f(lib).layer_norm(x, (4,), w, b),
             ((2, 3, 4), (4,), (4,))),
        Case("embedding(w)", lambda lib, w: f(lib).embedding(lib.tensor([[0, 2], [2, 1]]), w),
             ((3, 4),)),
        Case("split(x) all", lambda lib, x: lib.stack(x.split(1) + x.split(1)), ((2, 3),)),
        Case("x.exp() int", lambda lib, x: x.long().exp() * x, ((2, 3),)),
    ]  # fmt: skip


CASES = test_ops.CASES + _functional_cases()
PROMOTION_CASES = test_ops.PROMOTION_CASES


# ---------------------------------------------------------------------------- describing graphs
class _Graph:
    """A graph as plain data: nodes numbered in the order first reached from the outputs."""

    def __init__(self, inputs: list) -> None:
        self.inputs = inputs
        self.index: dict[int, int] = {}
        self.nodes: list = []
        self.arrays: list = []  # saved arrays by identity: which saved values are one object
        self.seqs: list = []

    def edge(self, edge):
        node, output_nr = edge_parts(edge)
        return None if node is None else (self.node(node), output_nr)

    def node(self, node) -> int:
        key = id(node)
        if key in self.index:
            return self.index[key]
        position = self.index[key] = len(self.nodes)
        self.nodes.append(None)
        self.seqs.append(node._seq)
        self.nodes[position] = self._describe_node(node)
        return position

    def _describe_node(self, node) -> tuple:
        if type(node) is AccumulateGrad:
            variable = node.variable
            leaf = next(i for i, x in enumerate(self.inputs) if x is variable)
            return ("AccumulateGrad", leaf, self._hooks(node))
        slots = {}
        for cls in type(node).__mro__:
            for name in getattr(cls, "__slots__", ()):
                # (_sole is how a compact node holds the edge that _next, compared below, shows)
                if name in ("_seq", "_sole", "__weakref__", "__dict__") or name in slots:
                    continue
                slots[name] = self.value(getattr(node, name, "<unset>"))
        slots["_hooks"] = self._hooks(node)
        slots["_next"] = tuple(self.edge(edge) for edge in node._next)
        return (type(node).__name__, tuple(sorted(slots.items())))

    @staticmethod
    def _hooks(node):
        hooks = node._hooks
        return hooks if hooks is None else "CONFORM_ONLY" if hooks is CONFORM_ONLY else "hooks"

    def value(self, value):
        if isinstance(value, np.ndarray):
            alias = next((i for i, a in enumerate(self.arrays) if a is value), None)
            if alias is None:
                self.arrays.append(value)
            return ("array", value.dtype.str, value.shape, value.strides, value.tobytes(), alias)
        if isinstance(value, np.generic):
            return ("scalar", value.dtype.str, value.tobytes())
        if isinstance(value, Tensor):
            return ("tensor", self.value(value._data), self.edge(value._edge))
        if isinstance(value, Node):
            return ("node", self.node(value))
        if isinstance(value, (tuple, list)):
            return (type(value).__name__, tuple(self.value(v) for v in value))
        if isinstance(value, dict):
            return ("dict", tuple((k, self.value(v)) for k, v in value.items()))
        if isinstance(value, float):
            return ("float", repr(value))  # tells -0.0 and nan apart
        text = repr(value)
        if " object at 0x" in text:  # a helper object (pooling's Windows): its attributes
            return (type(value).__name__, self.value(_attributes(value)))
        return (type(value).__name__, text)

    def creation_order(self) -> tuple:
        """Each node's sequence number relative to the graph's first."""
        first = min(self.seqs, default=0)
        return tuple(seq - first for seq in self.seqs)


def _attributes(value) -> dict:
    names = [name for cls in type(value).__mro__ for name in getattr(cls, "__slots__", ())]
    names += list(getattr(value, "__dict__", {}))
    return {name: getattr(value, name, "<unset>") for name in names if name != "__weakref__"}


def _describe(outputs: list, inputs: list) -> tuple:
    graph = _Graph(inputs)
    tensors = tuple(graph.value(out) for out in outputs)
    return tensors, tuple(graph.nodes), graph.creation_order()


# ---------------------------------------------------------------------------- running a case
def _run(fn, arrays, modified: bool):
    """Forward, first derivatives (create_graph) and second derivatives, described."""
    keep_alive = None
    if modified:
        keep_alive = gradienti.zeros(3)
        keep_alive.add_(1)  # MODIFIED is not empty while it lives
    xs = [gradienti.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    if modified:
        with gradienti.no_grad():
            for x in xs:
                x.mul_(1)  # the same values, version 1: a node saving x records it
    out = fn(gradienti, *xs)
    described = [_describe([out], xs)]
    wrt = [x for x in xs if x.requires_grad]
    if out.grad_fn is None or not wrt:
        return described, keep_alive
    rng = np.random.default_rng(1)
    v = gradienti.tensor(rng.uniform(0.5, 1.5, tuple(out.shape)).astype(out._data.dtype))
    firsts = gradienti.autograd.grad(out, wrt, v, create_graph=True, allow_unused=True)
    firsts = [g for g in firsts if g is not None]
    described.append(_describe(firsts, xs))
    terms = [(g * rng.uniform(0.5, 1.5, tuple(g.shape))).sum() for g in firsts if g.requires_grad]
    if terms:
        h = terms[0]
        for term in terms[1:]:
            h = h + term
        seconds = gradienti.autograd.grad(h, wrt, allow_unused=True)
        described.append(_describe([g for g in seconds if g is not None], xs))
    return described, keep_alive


def _first_difference(hot, generic, path="") -> str | None:
    if type(hot) is not type(generic):
        return f"{path}: {hot!r:.300} != {generic!r:.300}"
    if isinstance(hot, tuple):
        if len(hot) != len(generic):
            return f"{path}: lengths {len(hot)} != {len(generic)}: {hot!r:.300} != {generic!r:.300}"
        for i, (a, b) in enumerate(zip(hot, generic)):
            found = _first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        return None
    return None if hot == generic else f"{path}: {hot!r:.300} != {generic!r:.300}"


def _assert_same_both_ways(name, fn, arrays, modified):
    hot, _ = _run(fn, arrays, modified)
    with hot_copies.generic_recording():
        generic, _ = _run(fn, arrays, modified)
    difference = _first_difference(tuple(hot), tuple(generic))
    assert difference is None, f"[{name}] hot copy and record_node differ at {difference}"


@pytest.mark.parametrize("modified", [False, True], ids=["", "modified"])
@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_op_case_records_the_same_both_ways(case, modified):
    _assert_same_both_ways(case.name, case.fn, case.arrays(np.float32), modified)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in PROMOTION_CASES])
def test_promotion_case_records_the_same_both_ways(case):
    _assert_same_both_ways(case.name, case.fn, list(case.arrays), modified=False)


# ---------------------------------------------------------------------------- the switch itself
def _nodes_through_record_node(monkeypatch) -> list:
    """The nodes recorded through ``record_node`` from now on (wherever it was imported)."""
    recorded = []
    original = apply.record_node

    def spy(node, *args, **kwargs):
        recorded.append(node)
        return original(node, *args, **kwargs)

    for module in list(sys.modules.values()):
        name = getattr(module, "__name__", "")
        if name.startswith("gradienti") and getattr(module, "record_node", None) is original:
            monkeypatch.setattr(module, "record_node", spy)
    return recorded


HOT_OPS = {
    "unary": lambda x, y: x.sum(),
    "unary_op (Tensor method)": lambda x, y: x.exp(),
    "unary_op (ops module)": lambda x, y: gradienti.log1p(x),
    "binary": lambda x, y: x * y,
    "with_number": lambda x, y: x * 2.0,
}


@pytest.mark.parametrize("op", HOT_OPS.values(), ids=HOT_OPS.keys())
def test_generic_recording_routes_the_hot_copies_through_record_node(op, monkeypatch):
    recorded = _nodes_through_record_node(monkeypatch)
    x = gradienti.rand(3, requires_grad=True)
    y = gradienti.rand(3, requires_grad=True)
    assert op(x, y).grad_fn not in recorded  # the hot copy, as shipped
    with hot_copies.generic_recording():
        out = op(x, y)
    assert recorded and recorded[-1] is out.grad_fn
    assert op(x, y).grad_fn is not recorded[-1]  # and back
    assert [f.__code__ for f in hot_copies.hot_functions()] != [
        hot_copies.twin_code(f.__code__) for f in hot_copies.hot_functions()
    ]


def test_generic_recording_records_every_op_node_through_record_node(monkeypatch):
    recorded = _nodes_through_record_node(monkeypatch)
    x = gradienti.rand(2, 3, requires_grad=True)
    with hot_copies.generic_recording():
        out = ((x * 2.0 + x).exp().log1p() - x.sum(0)).relu().mean()
    graph = _Graph([x])
    graph.node(out.grad_fn)
    through_record_node = {id(node) for node in recorded}
    not_recorded = [key for key in graph.index if key not in through_record_node]
    assert len(not_recorded) == 1  # x's AccumulateGrad


def test_the_markers_are_checked():
    source = "def f(x):\n    t = x\n    # Hot copy of record_node(), written out\n    return t\n"
    with pytest.raises(RuntimeError, match="no call under"):
        hot_copies.with_call(source, "f")
    source = source.replace(
        "out\n", "out: what that\n    # saves. As one call:\n    #     t = record_node(x)\n"
    )
    assert hot_copies.with_call(source, "f") == [
        "def f(x):",
        "    t = x",
        "    t = record_node(x)",
        "    return t",
    ]
    with pytest.raises(RuntimeError, match="expected one"):
        hot_copies.with_call("def f(x):\n    return x\n", "f")
    with pytest.raises(RuntimeError, match="must end with 'return t'"):
        hot_copies.with_call(source.replace("return t", "return x"), "f")
