"""Elementwise ops whose derivative is one expression per input, declared as table rows.

A row gives the op's name, PyTorch's node class name, the forward (a NumPy ufunc or a function
of one array) and the vector-Jacobian product as one expression of ``g`` (the gradient of the
output), ``x`` (the input) and ``out`` (the output), as autograd's and tinygrad's tables do::

    row("sin", "SinBackward0", xp.sin, "g * cos(x)", ("sine", "cos({x:0})"), cli="sine")

From the row come the node class (what the VJP names decides what the node saves: ``x``, ``out``,
both or nothing), the Tensor method and ``gradienti.<name>`` (``unary_op``: one Python frame per
call), the NumPy routing (the forward ufunc), the explain rule (words and local derivative) and,
with ``cli``, the function of ``gradienti grad``'s expression language.

A two-input op is a ``binary_row`` with one VJP expression per input, of ``g``, ``a``, ``b`` and
``out``; its inputs must be Tensors (broadcast and promoted as every two-input op's)::

    binary_row("logaddexp", "LogaddexpBackward0", xp.logaddexp,
               ("g * exp(a - out)", "g * exp(b - out)"), ("log(e^a + e^b)", ...))

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

from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from ..graph.node import SAVE_BOTH, SAVE_INPUTS, SAVE_NOTHING, SAVE_OUTPUT, Op
from ..tensor import Tensor
from .apply import as_operand, binary, tensor_argument, unary_op
from .declare import Cli, declare
from .explain_rule import ATOM, Rule, binary_rule, unary_rule
from .saved_names import table_saved_names

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


@dataclass(frozen=True)
class BinaryRow:
    """A two-input row: ``vjps`` is (d/da expression, d/db expression), ``explain`` is (words,
    local derivative in a, local derivative in b) for the form ``name(a, b)``. ``floating``:
    integral inputs are refused, as PyTorch's kernel does."""

    name: str
    node_name: str
    forward: object
    vjps: tuple
    explain: tuple
    cli: str | None = None
    aliases: tuple = ()
    floating: bool = True
    constants: tuple = ()  # as a one-input row's


def binary_row(name, node_name, forward, vjps, explain, **options) -> BinaryRow:
    return BinaryRow(name, node_name, forward, vjps, explain, **options)


def table(*rows) -> tuple[dict, tuple]:
    """The node classes (by name) and the declarations of a table's rows."""
    module = sys._getframe(1).f_globals["__name__"]  # where the classes say they live
    nodes = {}
    declarations = []
    for entry in rows:
        if isinstance(entry, BinaryRow):
            node, declaration = _binary_op(entry, module)
            nodes[entry.node_name] = node
            declarations.append(declaration)
            continue
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


def _binary_op(entry: BinaryRow, module: str) -> tuple:
    """A two-input row's node class and declaration (function, method, ufunc, rule, CLI)."""
    node = _node_class(
        entry, module, ("g", "a", "b", "out"), _binary_backward_source(entry), entry.vjps
    )
    name = entry.name

    def apply(input, other):
        if entry.floating and input._data.dtype.kind != "f" and other._data.dtype.kind != "f":
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_torch_name(input)}'")
        return binary(node(), input, other)

    function, method = two_tensor_api(apply, name)
    words, local_a, local_b = entry.explain
    rule = binary_rule(words, f"{name}({{a:0}}, {{b:0}})", ATOM, local_a, local_b)
    declaration = declare(
        name,
        function,
        method=method,
        aliases=entry.aliases,
        ufunc=entry.forward if isinstance(entry.forward, xp.ufunc) else None,
        ufunc_call=ufunc_binary(function),
        explain={node: rule},
        cli=None if entry.cli is None else Cli(entry.cli, ("x", "y")),
    )
    return node, declaration


def two_tensor_api(apply, name: str):
    """``torch.<name>(input, other)`` and ``Tensor.<name>(other)`` around ``apply``, with
    PyTorch's TypeError for an argument that is not a Tensor."""

    def function(input, other):
        tensor_argument(input, name, "input", 1)
        tensor_argument(other, name, "other", 2)
        return apply(input, other)

    def method(self, other):
        tensor_argument(other, name, "other", 1)
        return apply(self, other)

    function.__name__ = function.__qualname__ = method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    return function, method


def _binary_backward_source(entry: BinaryRow) -> tuple:
    """``backward`` of a two-input row: each input's gradient only where it is wanted."""
    vjp_a, vjp_b = entry.vjps
    used = _names(vjp_a) | _names(vjp_b)
    if "out" in used:
        save, unpack = SAVE_BOTH, "(a, b, out) = ctx._saved"
    elif used & {"a", "b"}:
        save, unpack = SAVE_INPUTS, "(a, b) = ctx._saved"
    else:
        save, unpack = SAVE_NOTHING, "pass"
    source = (
        "def backward(ctx, g):\n"
        f"    {unpack}\n"
        "    a_node, b_node = ctx._next\n"
        f"    return ({vjp_a} if a_node is not None else None,"
        f" {vjp_b} if b_node is not None else None)\n"
        # Elementwise: each input's Jacobian is diagonal, so its share of the JVP is its VJP
        # with its tangent for g (the tangent of an input without one is zero).
        "def jvp(ctx, primals, out, tangents):\n"
        "    (a, b), (tangent_a, tangent_b) = primals, tangents\n"
        "    share_a = share_b = None\n"
        "    if tangent_a is not None:\n"
        "        g = tangent_a\n"
        f"        share_a = {vjp_a}\n"
        "    if tangent_b is not None:\n"
        "        g = tangent_b\n"
        f"        share_b = {vjp_b}\n"
        "    if share_a is None or share_b is None:\n"
        "        return share_b if share_a is None else share_a\n"
        "    return share_a + share_b\n"
    )
    return save, source


def ufunc_binary(function):
    """A NumPy ufunc's form (a recorded VJP may pass a number on either side)."""

    def call(a, b):
        like = a if isinstance(a, Tensor) else b
        return function(as_operand(a, like), as_operand(b, like))

    return call


def _torch_name(tensor) -> str:
    return SCALAR_TYPE_NAMES[from_numpy_dtype(tensor._data.dtype).name]


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


def _names(expression: str) -> set:
    return {node.id for node in ast.walk(ast.parse(expression, mode="eval"))
            if isinstance(node, ast.Name)}  # fmt: skip


def pointwise_node(entry: Row, module: str) -> type:
    """The node class of a row: ``forward`` as its function, the VJP compiled as its backward."""
    used = _names(entry.vjp)
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
    # An elementwise op's Jacobian is diagonal, so its JVP is its VJP with the tangent for g.
    source += (
        "def jvp(ctx, primals, out, tangents):\n"
        "    (x,), (g,) = primals, tangents\n"
        f"    return {entry.vjp}\n"
    )
    node_class = _node_class(entry, module, ("g", "x", "out"), (save, source), (entry.vjp,))
    # (gradienti.compile writes this expression into its generated backward: compiler/inline_vjps)
    node_class.vjp_expression = entry.vjp
    return node_class


def _node_class(entry, module: str, operands: tuple, backward: tuple, vjps: tuple) -> type:
    """The node class: ``forward`` as its function, ``backward``'s (save, source) compiled."""
    namespace = {**VJP_NAMES, **dict(getattr(entry, "constants", ()))}
    for vjp in vjps:
        used = _names(vjp)
        unknown = used - set(operands) - namespace.keys()
        if unknown or "g" not in used:
            raise ValueError(f"{entry.node_name}: the VJP {vjp!r} uses {sorted(unknown)}")
    save, source = backward
    exec(compile(source, f"<{entry.node_name}.backward>", "exec"), namespace)  # noqa: S102
    return type(
        entry.node_name,
        (Op,),
        {
            "__slots__": (),
            "__module__": module,
            "__doc__": f"{entry.name}; VJP: {', '.join(vjps)}",
            "save": save,
            "promotes_integers": getattr(entry, "promotes_integers", False),
            # A Python function would become a bound method when read from the node.
            "function": (
                staticmethod(entry.forward)
                if isinstance(entry.forward, types.FunctionType)
                else entry.forward
            ),
            "backward": staticmethod(namespace["backward"]),
            "jvp": staticmethod(namespace["jvp"]),
            "saved_names": table_saved_names(save, operands),
        },
    )
