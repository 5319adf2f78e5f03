"""Declaring an op: one statement says everything the rest of gradienti learns about it.

An op module lists its public operations in ``DECLARATIONS``, one ``declare(...)`` each::

    declare(
        "log1p", log1p,                     # gradienti.log1p, and Tensor.log1p (the same function)
        ufunc=xp.log1p,                      # np.log1p on Tensors (a recorded VJP) runs it
        explain={Log1PBackward0: unary_rule("log(1 + x)", "log1p", "1/(1 + {x:6})")},
        cli=Cli("log(1 + x)"),               # `gradienti grad "log1p(x)" x=1` offers it
    )

From these, at import (``ops/api.py``): Tensor gets its methods, ``gradienti`` its functions,
the NumPy routing its table, ``explain`` its rules (keyed by node class name) and the
expression language of ``gradienti grad`` its functions. Nothing else is edited to add an op.

``method`` is what ``Tensor.<name>`` is: by default the function itself (it takes the tensor
first), ``None`` for a function that is not a method, or another callable (``Tensor.atan2``
checks its argument with the method's position). ``function=None`` declares a method only
(the operators ``__add__``, ...). ``aliases`` are further names for both (``arcsin``),
``method_aliases`` further names of the method alone (``eq`` is also ``__eq__``).
``ufunc`` may also be a tuple of ufuncs, with ``ufunc_call`` the callable they run when it is
not ``function`` (a ufunc may pass a number where the op wants a Tensor). ``public=False``
declares an op that PyTorch has only elsewhere (torch.nn.functional's activations): neither
``gradienti.<name>`` nor a method, only its explain rules and its function of ``gradienti grad``.

A node class recorded by no public op of its own (a backward of a backward) declares its rule
with ``explain_nodes({NodeClass: rule})``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

SAME = "same as function"  # the default ``method``: Tensor.<name> is the function itself


@dataclass(frozen=True)
class Cli:
    """How ``gradienti grad``'s expression language offers an op: ``summary`` is its one line
    in ``--help``; ``params`` name its arguments, the first ``min_args`` required. ``call``
    (args, as_tensor) computes it when plain ``function(*tensors)`` will not do; ``as_tensor``
    turns a number of the expression into a Tensor of the chosen dtype."""

    summary: str
    params: tuple = ("x",)
    min_args: int | None = None
    call: Callable | None = None


@dataclass(frozen=True)
class Declaration:
    """One public op (see the module docstring): ``function`` under each of ``function_names``
    (``gradienti.<name>``), ``method`` under each of ``method_names`` (``Tensor.<name>``)."""

    function_names: tuple
    method_names: tuple
    function: Callable | None
    method: Callable | None
    ufuncs: tuple
    ufunc_call: Callable | None
    explain: dict = field(default_factory=dict)
    cli: Cli | None = None
    name: str = ""  # the op's name (its CLI function's), even when it is not public


def declare(
    name: str,
    function: Callable | None = None,
    *,
    method=SAME,
    aliases: tuple = (),
    method_aliases: tuple = (),
    ufunc=None,
    ufunc_call: Callable | None = None,
    explain: dict | None = None,
    cli: Cli | None = None,
    public: bool = True,
) -> Declaration:
    """Declare one public op; see the module docstring for each argument."""
    if method is SAME:
        method = function
    if function is None and method is None:
        raise ValueError(f"{name}: an op is a function, a Tensor method or both")
    ufuncs = () if ufunc is None else ufunc if isinstance(ufunc, tuple) else (ufunc,)
    names = (name, *aliases) if public else ()
    return Declaration(
        function_names=() if function is None else names,
        method_names=() if method is None or not public else (*names, *method_aliases),
        function=function,
        method=method,
        ufuncs=ufuncs,
        ufunc_call=ufunc_call,
        explain=_by_class_name(explain),
        cli=cli,
        name=name,
    )


def explain_nodes(rules: dict) -> Declaration:
    """The explain rules of node classes that no public op of their own records."""
    return Declaration(
        function_names=(),
        method_names=(),
        function=None,
        method=None,
        ufuncs=(),
        ufunc_call=None,
        explain=_by_class_name(rules),
    )


def _by_class_name(rules: dict | None) -> dict:
    """Rules keyed by the node class (checked to exist) become keyed by its name."""
    if not rules:
        return {}
    return {node_class.__name__: rule for node_class, rule in rules.items()}
