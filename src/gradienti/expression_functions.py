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
