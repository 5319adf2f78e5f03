"""The tensors a traced function may use from outside its arguments: those reachable from
the function itself when the trace begins (its closure, its defaults, the globals its code
names, a bound method's object, a module's parameters and buffers, and what these hold, a
few levels deep), as dynamo's guards find theirs through a function's sources.

A tensor an op uses that is neither an argument, nor made by a traced op, nor found here
breaks the graph: it was made during the call by a path the tracer does not see (a
comparison, ``detach()``, a creation function), or is held where this walk does not look.
Either way the trace cannot say where its values come from, so it is never frozen in.
"""

from __future__ import annotations

import contextlib
import functools
import types

from ..backend import xp
from ..tensor import Tensor

_MAX_DEPTH = 8
_MAX_ITEMS = 100_000  # a longer container (a list of numbers) is not searched
_SKIPPED = (
    type(None),
    bool,
    int,
    float,
    complex,
    str,
    bytes,
    type,
    types.ModuleType,
    types.BuiltinFunctionType,
    xp.ndarray,
    xp.generic,
)


def reachable_tensors(roots) -> dict[int, Tensor]:
    """``{id(tensor): tensor}`` for the tensors reachable from ``roots``."""
    found: dict[int, Tensor] = {}
    seen: set[int] = set()
    stack = [(root, 0) for root in roots]
    while stack:
        obj, depth = stack.pop()
        key = id(obj)
        if key in seen:
            continue
        seen.add(key)
        if isinstance(obj, Tensor):
            found[key] = obj
            grad = obj._grad
            if grad is not None:
                found[id(grad)] = grad
            continue
        if isinstance(obj, _SKIPPED) or depth >= _MAX_DEPTH:
            continue
        stack.extend((child, depth + 1) for child in _children(obj))
    return found


def _children(obj) -> list:
    if isinstance(obj, (tuple, list, set, frozenset)):
        return list(obj) if len(obj) <= _MAX_ITEMS else []
    if isinstance(obj, dict):
        return list(obj.values()) if len(obj) <= _MAX_ITEMS else []
    if isinstance(obj, types.FunctionType):
        return _function_children(obj)
    if isinstance(obj, types.MethodType):
        return [obj.__self__, obj.__func__]
    if isinstance(obj, functools.partial):
        return [obj.func, obj.args, obj.keywords]
    children = []
    attributes = getattr(obj, "__dict__", None)
    if isinstance(attributes, dict):
        children.extend(attributes.values())
    kind = type(obj)
    for name in ("forward", "__call__"):  # what calling the object runs
        method = kind.__dict__.get(name)
        if isinstance(method, types.FunctionType):
            children.append(method)
    return children


def _function_children(function) -> list:
    children = []
    for cell in function.__closure__ or ():
        with contextlib.suppress(ValueError):  # (an empty cell)
            children.append(cell.cell_contents)
    children.append(function.__defaults__)
    children.append(function.__kwdefaults__)
    space = function.__globals__
    children.extend(space[name] for name in global_names(function) if name in space)
    return children


def global_names(function) -> set[str]:
    """The names ``function``'s code (its nested functions' and comprehensions' too) may look
    up as globals or attributes: every global it can read is among them."""
    names: set[str] = set()
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        names.update(code.co_names)
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return names
