"""The state outside a call's arguments that a trace may have read, as one generated check.

A trace bakes in whatever the function read from outside its arguments: the tensor a global
or a closure cell held (a captured slot is kept by identity), a helper function a global
names, an attribute of a bound ``self`` or of an object argument, the contents of a list or
a dict, a module's ``training``, parameters and hooks, the shape of a tensor read into
Python. Before a trace runs, ``outside_guard`` walks what the function can reach (as
compiler/sources.py does for tensors) and writes down how each object was reached and what
it was: identity for objects (and tensors: with their shape, dtype, requires_grad and
whether they have a ``.grad``), the value for numbers, strings and None, the length of lists
and dicts. A replay runs only where every check still holds; otherwise the call traces again.
PyTorch's dynamo guards the same things (its guards on globals, closure cells, attributes,
``nn.Module`` state and hooks).

The checks are generated as one Python function (``if <check>: return False`` per line), so a
call pays a few dozen nanoseconds per reachable object. Gradienti's and NumPy's own functions
and objects (other than modules and tensors) are checked by identity only, never walked into.
"""

from __future__ import annotations

import collections
import functools
import itertools
import math
import operator
import types

from ..backend import xp
from ..nn.module import Module
from ..tensor import Tensor
from .sources import global_names

_MAX_DEPTH = 8
_MAX_ITEMS = 100_000  # a longer container is checked by its length and items' identities only
_INLINE_ITEMS = 64  # a longer one is checked in one loop (a list of data: not one line per item)
_VALUE_TYPES = frozenset((bool, int, float, complex, str, bytes, type(None)))
_LIBRARIES = ("gradienti", "numpy")
_OPAQUE = (type, types.ModuleType, types.BuiltinFunctionType, xp.ufunc, xp.ndarray, xp.generic)


def outside_guard(function, identified: list, call_tensors):
    """A function of the call's tensor arguments that tells whether what ``function`` (and
    the objects of ``identified``: the call's arguments guarded by identity) can reach is as
    it is now; None where there is nothing to check.

    A tensor argument that the function can also reach (``f(w)`` where f reads the global
    ``w``) is one slot of the trace: the program holds only while that argument is ``w``."""
    writer = _GuardWriter()
    writer.walk_root(function)
    for obj in identified:
        writer.walk_root(obj)
    for position, tensor in enumerate(call_tensors):
        if id(tensor) in writer.seen:
            writer.check(f"_args[{position}] is not {writer.name(tensor)}")
    return writer.finish()


def _is_library(obj) -> bool:
    module = getattr(type(obj), "__module__", "") or ""
    return module.startswith(_LIBRARIES)


def _is_library_function(function) -> bool:
    name = function.__globals__.get("__name__", "") or ""
    return name.startswith(_LIBRARIES)


class _GuardWriter:
    def __init__(self) -> None:
        self.cells: list = []  # the objects the checks name (o0, o1, ...)
        self.names: dict[int, str] = {}
        self.lines: list[str] = []
        self.seen: set[int] = set()

    def name(self, obj) -> str:
        name = self.names.get(id(obj))
        if name is None:
            name = self.names[id(obj)] = f"o{len(self.cells)}"
            self.cells.append(obj)
        return name

    def check(self, condition: str) -> None:
        self.lines.append(f"if {condition}: return False")

    # ------------------------------------------------------------ how a child is reached
    def child(self, access: str, value, depth: int) -> None:
        """``access`` (an expression) must still give ``value``; then walk ``value``."""
        if type(value) in _VALUE_TYPES:
            self.lines.append(f"v = {access}")
            expected = self.name(value)
            kind = self.name(type(value))
            differs = f"type(v) is not {kind} or v != {expected}"
            if type(value) is float:  # (0.0 == -0.0, but 1 / -0.0 is -inf)
                differs += f" or _copysign(1.0, v) != {math.copysign(1.0, value)!r}"
            self.check(f"v is not {expected} and ({differs})")
            return
        self.check(f"{access} is not {self.name(value)}")
        self.walk(value, depth + 1)

    def walk_root(self, obj) -> None:
        self.walk(obj, 0)

    def walk(self, obj, depth: int) -> None:
        if id(obj) in self.seen or type(obj) in _VALUE_TYPES:
            return
        self.seen.add(id(obj))
        me = self.name(obj)
        if isinstance(obj, Tensor):
            # Its shape, strides, dtype, requires_grad and array kind: what a function may
            # read into Python (``x.shape[0]``, ``is_contiguous()``). Not whether it has a
            # ``.grad``: that changes every training step (reading ``.grad`` inside breaks
            # the graph, compiler/trace.py).
            data = obj._data
            meta = (data.shape, data.strides, data.dtype, obj._edge is not None, type(data))
            self.check(f"_meta({me}) != {self.name(meta)}")
            return
        if isinstance(obj, _OPAQUE) or depth >= _MAX_DEPTH:
            return
        if isinstance(obj, types.FunctionType):
            self.walk_function(obj, me, depth)
        elif isinstance(obj, types.MethodType):  # (its self and function cannot change)
            self.walk(obj.__self__, depth + 1)
            self.walk(obj.__func__, depth + 1)
        elif isinstance(obj, (tuple, frozenset)):  # immutable: only what they hold may change
            if len(obj) <= _MAX_ITEMS:
                for item in obj:
                    self.walk(item, depth + 1)
        elif isinstance(obj, (list, collections.deque)):
            self.check(f"len({me}) != {len(obj)}")
            if len(obj) > _INLINE_ITEMS:  # one C loop over the items' identities
                self.check(f"not all(map(_is, {me}, {self.name(tuple(obj))}))")
                self.walk_items(obj, depth)
            else:
                for index, item in enumerate(obj):
                    self.child(f"{me}[{index}]", item, depth)
        elif isinstance(obj, dict):
            self.walk_dict(obj, me, depth)
        elif isinstance(obj, set):
            self.check(f"_ids({me}) != {self.name(frozenset(map(id, obj)))}")
            if len(obj) <= _MAX_ITEMS:
                for item in obj:
                    self.walk(item, depth + 1)
        elif isinstance(obj, functools.partial):  # (its function and arguments are fixed)
            self.walk(obj.func, depth + 1)
            self.walk(obj.args, depth + 1)
            self.walk(obj.keywords, depth + 1)
        elif isinstance(obj, Module) or not _is_library(obj):
            self.walk_object(obj, me, depth)

    def walk_items(self, items, depth: int) -> None:
        """What a long container's items hold (their identities are checked; tensors in it
        are checked as captured tensors where the trace uses them)."""
        if len(items) <= _MAX_ITEMS:
            for item in items:
                if not isinstance(item, Tensor):
                    self.walk(item, depth + 1)

    def walk_dict(self, mapping: dict, me: str, depth: int) -> None:
        self.check(f"len({me}) != {len(mapping)}")
        if len(mapping) > _INLINE_ITEMS:
            keys = self.name(tuple(mapping))
            found = f"map({me}.get, {keys}, _repeat(_GONE))"
            self.check(f"not all(map(_is, {found}, {self.name(tuple(mapping.values()))}))")
            self.walk_items(list(mapping.values()), depth)
            return
        for key, value in list(mapping.items()):
            key_name = repr(key) if type(key) is str else self.name(key)
            self.child(f"{me}.get({key_name}, _GONE)", value, depth)

    def walk_function(self, function, me: str, depth: int) -> None:
        if _is_library_function(function):
            return  # gradienti's and NumPy's functions: by identity only
        self.check(f"{me}.__code__ is not {self.name(function.__code__)}")
        self.child(f"{me}.__defaults__", function.__defaults__, depth)
        self.child(f"{me}.__kwdefaults__", function.__kwdefaults__, depth)
        for cell in function.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell (a name assigned later)
                continue
            self.child(f"{self.name(cell)}.cell_contents", value, depth)
        names = global_names(function)
        space = function.__globals__
        space_name = self.name(space)
        for name in sorted(names):
            if name not in space:
                continue
            value = space[name]
            self.child(f"{space_name}.get({name!r}, _GONE)", value, depth)
            if isinstance(value, types.ModuleType) and not value.__name__.startswith(_LIBRARIES):
                self.walk_module_attributes(value, names, depth)

    def walk_module_attributes(self, module, names: set, depth: int) -> None:
        """A user's module (``import settings``; ``settings.scale``): the attributes the
        function's code names."""
        space = module.__dict__
        space_name = self.name(space)
        for name in sorted(names):
            if name in space and not isinstance(space[name], (*_OPAQUE, types.FunctionType)):
                self.child(f"{space_name}.get({name!r}, _GONE)", space[name], depth)

    def walk_object(self, obj, me: str, depth: int) -> None:
        kind = type(obj)
        self.check(f"type({me}) is not {self.name(kind)}")
        for cls in kind.__mro__:  # a user's class attributes (``scale = 2.0`` in its body)
            if cls is not object and not cls.__module__.startswith(_LIBRARIES):
                self.walk_class(cls, depth)
        for method_name in ("forward", "__call__"):  # what calling the object runs
            method = kind.__dict__.get(method_name)
            if isinstance(method, types.FunctionType):
                self.walk(method, depth + 1)
        for slot in _slot_names(kind):
            value = getattr(obj, slot, _GONE)
            if value is not _GONE:
                self.child(f"getattr({me}, {slot!r}, _GONE)", value, depth)
        attributes = getattr(obj, "__dict__", None)
        if isinstance(attributes, dict):
            self.check(f"{me}.__dict__ is not {self.name(attributes)}")
            self.walk(attributes, depth + 1)

    def walk_class(self, cls, depth: int) -> None:
        if id(cls) in self.seen:
            return
        self.seen.add(id(cls))
        space = self.name(cls.__dict__)
        for name, value in list(cls.__dict__.items()):
            if not name.startswith("__"):
                self.child(f"{space}.get({name!r}, _GONE)", value, depth)

    def finish(self):
        if not self.lines:
            return None
        cell_names = [f"o{index}" for index in range(len(self.cells))]
        body = "\n".join(f"        {line}" for line in self.lines)
        source = (
            f"def _make(_meta, _ids, _is, _repeat, _copysign, _GONE, {', '.join(cell_names)}):\n"
            "    def holds(_args):\n"
            f"{body}\n"
            "        return True\n"
            "    return holds\n"
        )
        namespace: dict = {}
        exec(compile(source, "<gradienti.compile guard>", "exec"), namespace)  # noqa: S102
        return namespace["_make"](
            _meta, _ids, operator.is_, itertools.repeat, math.copysign, _GONE, *self.cells
        )


_GONE = object()


def NEVER_HOLDS(call_tensors) -> bool:  # noqa: N802 - a constant guard
    """The guard of a trace whose outside state could not be walked: every call traces
    again (eagerly from the cache limit on), never a replay on unchecked state."""
    return False


def _slot_names(kind) -> list[str]:
    names = []
    for cls in kind.__mro__:
        slots = cls.__dict__.get("__slots__", ())
        names.extend((slots,) if isinstance(slots, str) else slots)
    return [name for name in names if name not in ("__dict__", "__weakref__")]


def _meta(tensor) -> tuple:
    data = tensor._data
    return (data.shape, data.strides, data.dtype, tensor._edge is not None, type(data))


def _ids(items) -> frozenset:
    return frozenset(map(id, items))
