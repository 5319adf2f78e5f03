"""What ``gradienti grad``'s expression language may call, and how its operators compute.

The functions are the ops that declare a ``Cli`` (``cli=`` in their declaration, see
ops/declare.py, gathered in ``ops.api.CLI_FUNCTIONS``), plus the forms that are the language's
own: ``pow(x, y)`` is the operator ``**``, ``max(x)``/``min(x)`` with one argument reduce and
with two compare elementwise.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from . import creation
from .backend import xp
from .ops import api as _ops
from .tensor import Tensor


def _as_tensor(value, dtype):
    """A Tensor as it is; a number (a Python float) as a 0-d tensor of ``dtype``."""
    if isinstance(value, Tensor):
        return value
    return creation.tensor(float(value), dtype=dtype)


def _legacy(name: str) -> Callable:
    """An op that does not declare its ``Cli`` yet: called as ``gradienti.<name>``."""

    def call(args, dtype):
        return _ops.FUNCTIONS[name](*(_as_tensor(arg, dtype) for arg in args))

    return call


def _activation(name: str) -> Callable:
    # torch.nn.functional's activations; gradienti keeps them in ops/activation.py
    def call(args, dtype):
        return getattr(_ops.activation, name)(_as_tensor(args[0], dtype))

    return call


def _declared(cli, function) -> Callable:
    """The call of an op that declares its ``Cli``: its own ``call``, else the function of
    the arguments made Tensors."""
    if cli.call is not None:
        return lambda args, dtype: cli.call(args, lambda value: _as_tensor(value, dtype))
    return lambda args, dtype: function(*(_as_tensor(arg, dtype) for arg in args))


def _extreme(name: str) -> Callable:
    # max(x) is the largest element (torch.max(x)); max(x, y) is elementwise (torch.maximum)
    def call(args, dtype):
        if len(args) == 1:
            return _ops.FUNCTIONS[name](_as_tensor(args[0], dtype))
        both = (_as_tensor(args[0], dtype), _as_tensor(args[1], dtype))
        return _ops.FUNCTIONS[name + "imum"](*both)

    return call


def _clamp(args, dtype):
    x = _as_tensor(args[0], dtype)
    bounds = list(args[1:]) + [None] * (3 - len(args))  # clamp(x, lo) has no upper bound
    if any(isinstance(b, Tensor) for b in bounds):  # torch.clamp takes all-tensor bounds...
        bounds = [None if b is None else _as_tensor(b, dtype) for b in bounds]
    return _ops.FUNCTIONS["clamp"](x, *bounds)  # ...or all-number bounds


def _pow(args, dtype):
    return binary_operator(ast.Pow(), args[0], args[1], dtype)


@dataclass(frozen=True)
class Function:
    """A function the language may call: its name, how many arguments, and what it does."""

    name: str
    min_args: int
    max_args: int
    summary: str
    call: Callable  # call(args: list[Tensor | float], dtype) -> Tensor

    params: tuple[str, ...] = ("x",)

    @property
    def signature(self) -> str:
        required = ", ".join(self.params[: self.min_args])
        optional = "".join(f"[, {n}]" for n in self.params[self.min_args : self.max_args])
        return f"{self.name}({required}{optional})"


# Ops whose declarations do not give their ``Cli`` yet (being moved there): name -> summary.
_LEGACY_UNARY = {
    "rsqrt": "1/sqrt(x)",
    "square": "x**2",
    "exp2": "2**x",
    "expm1": "e**x - 1",
    "log2": "base-2 logarithm",
    "log10": "base-10 logarithm",
    "log1p": "log(1 + x)",
    "tan": "tangent",
    "asin": "arcsine",
    "acos": "arccosine",
    "atan": "arctangent",
    "sinh": "hyperbolic sine",
    "cosh": "hyperbolic cosine",
    "erf": "error function",
    "erfc": "1 - erf(x)",
    "floor": "round down",
    "ceil": "round up",
    "round": "round to nearest (half to even)",
    "trunc": "round towards 0",
    "frac": "x - trunc(x)",
    "sum": "sum of the elements",
    "mean": "mean of the elements",
    "prod": "product of the elements",
    "norm": "Euclidean norm",
}
_LEGACY_ACTIVATIONS = {
    "softplus": "log(1 + e**x)",
    "silu": "x*sigmoid(x)",
    "gelu": "x*P(X <= x), X standard normal",
    "elu": "x if x > 0 else e**x - 1",
    "logsigmoid": "log(sigmoid(x))",
}


def _table() -> dict[str, Function]:
    XY = ("x", "y")  # noqa: N806
    declared = _ops.CLI_FUNCTIONS
    table = [
        Function(
            name, cli.min_args or len(cli.params), len(cli.params), cli.summary,
            _declared(cli, function), cli.params,
        )
        for name, (cli, function) in declared.items()
    ]  # fmt: skip
    legacy = [Function(n, 1, 1, s, _legacy(n)) for n, s in _LEGACY_UNARY.items()]
    legacy += [Function(n, 1, 1, s, _activation(n)) for n, s in _LEGACY_ACTIVATIONS.items()]
    legacy += [
        Function("atan2", 2, 2, "angle of the point (x, y)", _legacy("atan2"), ("y", "x")),
        Function("maximum", 2, 2, "larger of x and y, elementwise", _legacy("maximum"), XY),
        Function("minimum", 2, 2, "smaller of x and y, elementwise", _legacy("minimum"), XY),
        Function("clamp", 2, 3, "x limited to [lo, hi]", _clamp, ("x", "lo", "hi")),
        Function("dot", 2, 2, "dot product of two vectors", _legacy("dot"), XY),
    ]
    table += [function for function in legacy if function.name not in declared]
    # The language's own forms.
    table += [
        Function("pow", 2, 2, "x**y", _pow, ("x", "y")),
        Function("max", 1, 2, "largest element; max(x, y) = maximum(x, y)", _extreme("max"), XY),
        Function("min", 1, 2, "smallest element; min(x, y) = minimum(x, y)", _extreme("min"), XY),
    ]
    names = [function.name for function in table]
    duplicated = {name for name in names if names.count(name) > 1}
    if duplicated:
        raise RuntimeError(f"expression functions declared twice: {sorted(duplicated)}")
    return {f.name: f for f in sorted(table, key=lambda f: f.name)}


FUNCTIONS: dict[str, Function] = _table()


def binary_operator(op, a, b, dtype):
    """``a op b``; two plain numbers are combined in float64 with IEEE results (1/0 = inf,
    9**9**9 = inf) as a tensor op would give them, never a Python exception or a big int."""
    if isinstance(a, float) and isinstance(b, float):
        with xp.errstate(all="ignore"):
            return float(_PYTHON_OPERATORS[type(op)](xp.float64(a), xp.float64(b)))
    return _PYTHON_OPERATORS[type(op)](a, b)


_PYTHON_OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
