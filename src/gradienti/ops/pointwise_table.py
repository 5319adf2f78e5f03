"""One-input elementwise ops whose derivative is one expression, declared as table rows.

A row gives the op's name, PyTorch's node class name, the forward (a NumPy ufunc or a function
of one array) and the vector-Jacobian product as one expression of ``g`` (the gradient of the
output), ``x`` (the input) and ``out`` (the output), as autograd's and tinygrad's tables do::

    row("sin", "SinBackward0", xp.sin, "g * cos(x)", ("sine", "cos({x:0})"), cli="sine")

From the row come the node class (what the VJP names decides what the node saves: ``x``, ``out``,
both or nothing), the Tensor method and ``gradienti.<name>`` (``unary_op``: one Python frame per
call), the NumPy routing (the forward ufunc), the explain rule (words and local derivative) and,
with ``cli``, the function of ``gradienti grad``'s expression language.

The VJP is compiled into the node's ``backward`` (``def backward(ctx, g): (x,) = ctx._saved;
return g * cos(x)``), so a table op runs exactly the code a hand-written class would, in as many
frames. Its names are those of ``VJP_NAMES`` (NumPy ufuncs, which run the differentiable ops on
Tensors when the backward pass is recorded) and of the row's ``constants``; a name outside them is
an error at import, not at the first backward.
"""

from __future__ import annotations

import ast
import sys
import types
from dataclasses import dataclass

from ..backend import xp
from ..graph.node import SAVE_BOTH, SAVE_INPUTS, SAVE_NOTHING, SAVE_OUTPUT, Op
from .apply import tensor_argument, unary_op
from .declare import Cli, declare
from .explain_rule import Rule, unary_rule

# What a VJP expression may call: ufuncs, so that they work on arrays and on Tensors alike.
VJP_NAMES = {
    name: getattr(xp, name)
    for name in ("cos", "sin", "cosh", "sinh", "exp", "log", "sqrt", "sign", "reciprocal")
}
_OPERANDS = ("g", "x", "out")


@dataclass(frozen=True)
class Row:
    """One table row (see the module docstring); ``explain`` is (words, local derivative) for
    the form ``name(x)``, or a whole ``Rule`` for another form (``1/x``)."""

    name: str
    node_name: str
    forward: object
    vjp: str
    explain: tuple
    cli: str | None = None
    aliases: tuple = ()
    constants: tuple = ()  # (name, value) pairs the VJP may use, e.g. ("LN2", log(2))
    promotes_integers: bool = True  # an integral input computes in the default float dtype
    ufunc: object = None  # the NumPy ufunc routed to the op, if not the forward itself


def row(name, node_name, forward, vjp, explain, **options) -> Row:
    return Row(name, node_name, forward, vjp, explain, **options)


def table(*rows: Row) -> tuple[dict, tuple]:
    """The node classes (by name) and the declarations of a table's rows."""
    module = sys._getframe(1).f_globals["__name__"]  # where the classes say they live
    nodes = {}
    declarations = []
    for entry in rows:
        node = pointwise_node(entry, module)
        nodes[entry.node_name] = node
        ufunc = entry.ufunc if entry.ufunc is not None else entry.forward
        method = unary_op(node, entry.name)
        declarations.append(
            declare(
                entry.name,
                checked_function(method, entry.name),
                method=method,
                aliases=entry.aliases,
                ufunc=ufunc if isinstance(ufunc, xp.ufunc) else None,
                explain={node: _rule(entry)},
                cli=None if entry.cli is None else Cli(entry.cli),
            )
        )
    return nodes, tuple(declarations)


def _rule(entry: Row) -> Rule:
    if isinstance(entry.explain, Rule):
        return entry.explain
    words, local = entry.explain
    return unary_rule(words, entry.name, local)


def checked_function(method, name: str):
    """``gradienti.<name>(input)``: the method, after PyTorch's TypeError for a non-Tensor
    (the method itself, the hot path, checks nothing)."""

    def function(input):
        tensor_argument(input, name, "input", 1)
        return method(input)

    function.__name__ = function.__qualname__ = name
    return function


def pointwise_node(entry: Row, module: str) -> type:
    """The node class of a row: ``forward`` as its function, the VJP compiled as its backward."""
    expression = ast.parse(entry.vjp, mode="eval")
    used = {node.id for node in ast.walk(expression) if isinstance(node, ast.Name)}
    namespace = {**VJP_NAMES, **dict(entry.constants)}
    unknown = used - set(_OPERANDS) - namespace.keys()
    if unknown or "g" not in used:
        raise ValueError(f"{entry.node_name}: the VJP {entry.vjp!r} uses {sorted(unknown)}")
    saves_x, saves_out = "x" in used, "out" in used
    save, unpack = {
        (True, True): (SAVE_BOTH, "(x, out) = ctx._saved"),
        (True, False): (SAVE_INPUTS, "(x,) = ctx._saved"),
        (False, True): (SAVE_OUTPUT, "(out,) = ctx._saved"),
        (False, False): (SAVE_NOTHING, "pass"),
    }[saves_x, saves_out]
    # The engine has checked that the saved values are not released, so the VJP reads
    # ``ctx._saved`` directly (the ``saved_tensors`` property would be a frame more).
    source = f"def backward(ctx, g):\n    {unpack}\n    return {entry.vjp}\n"
    exec(compile(source, f"<{entry.node_name}.backward>", "exec"), namespace)  # noqa: S102
    return type(
        entry.node_name,
        (Op,),
        {
            "__slots__": (),
            "__module__": module,
            "__doc__": f"{entry.name}(x); VJP: {entry.vjp}",
            "save": save,
            "promotes_integers": entry.promotes_integers,
            # A Python function would become a bound method when read from the node.
            "function": (
                staticmethod(entry.forward)
                if isinstance(entry.forward, types.FunctionType)
                else entry.forward
            ),
            "backward": staticmethod(namespace["backward"]),
        },
    )
