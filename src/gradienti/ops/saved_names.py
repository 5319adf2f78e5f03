"""PyTorch's names for what a node saved: ``grad_fn._saved_<name>`` and ``_raw_saved_<name>``.

Each op class declares, beside its ``save``, what PyTorch's node of the same name saves, in
PyTorch's order (the order saved-tensor hooks see the values packed and unpacked)::

    class MulBackward0(Op):
        save = SAVE_INPUTS
        saved_names = SavedNames(other=1, self=0)

A name given a number is a tensor: the value at that position of the node's ``_saved``;
``needed(position, by=input)`` one that PyTorch saves only while that input needs a gradient;
``held(attribute, ...)`` tensors the node holds in an attribute (the index arrays of
``x[idx]``), which only the hooks and ``_saved_<name>`` see (the VJP reads the attribute).
``value(attribute or function of the node)`` is anything else (a dim, sizes, a scalar), read
at access. The declaration gives the class a property per name: ``_saved_<name>`` (for a tensor,
a Tensor with the grad_fn of the tensor saved, or None where PyTorch saved none; PyTorch's error
once backward released the node) and, for a tensor, ``_raw_saved_<name>`` (a ``SavedTensor``,
whose ``register_hooks(pack, unpack)`` packs that one value).
"""

from __future__ import annotations

from ..backend import xp
from ..graph.node import NO_EDGE, SAVE_INPUTS, SAVE_OUTPUT, SAVED_RELEASED_MESSAGE
from ..tensor import wrap
from .saved_tensors import (
    PackedSaved,
    SavedVariable,
    element_strides,
    is_tensor_value,
    new_variable,
    order_key,
    saved_origin,
)

_ndarray = xp.ndarray

FREED_MESSAGE = (
    "Calling register_hooks on a saved tensor after it has been freed. Saved intermediate "
    "values of the graph are freed when you call .backward() or autograd.grad(). Specify "
    "retain_graph=True if you need to backward through the graph a second time or if you need "
    "to access saved variables after calling backward."
)


class needed:  # noqa: N801 - reads as a declaration: needed(0, by=1)
    """A tensor at ``position`` of ``_saved`` (by ``by``: one PyTorch saves only while input
    ``by`` needs a gradient, as ``mm`` keeps ``self`` for ``mat2``'s gradient)."""

    many = False

    def __init__(self, position: int, by: int | None = None) -> None:
        self.position = position
        self.by = by

    def raw(self, node, saved, part=None):
        """The raw value PyTorch would hold (a SavedVariable once packed), or None."""
        if self.position >= len(saved):
            return None
        if self.by is not None and node._next[self.by] is None:
            return None
        return saved[self.position]

    def sources(self, rank: int, name: str, node, saved):
        raw = self.raw(node, saved)
        if type(raw) is SavedVariable or (raw is not None and is_tensor_value(raw)):
            yield rank, name, self.position, None, raw, None

    def read(self, node, saved, variables: dict):
        raw = self.raw(node, saved)
        if raw is None:
            return None
        if type(raw) is SavedVariable:
            return raw.unpack_tensor(node)
        if type(raw) in (int, float, bool):
            return wrap(xp.asarray(raw), NO_EDGE)  # a Python number operand
        edge, output_nr, dtype = saved_origin(node, self.position)
        if dtype is not None and raw.dtype != dtype:
            raw = raw.astype(dtype)
        if output_nr is not None:
            edge = node if node.num_outputs == 1 else (node, output_nr)
        return wrap(raw, edge)

    def parts(self, node) -> tuple:
        return (None,)


class held:  # noqa: N801
    """Tensors the node holds in ``attribute``: the attribute itself, its item ``index``, or,
    with ``many``, each array among its items (a list, such as ``indices``; its other items
    are not tensors). ``input``: the input whose value it is (its grad_fn); else a constant."""

    def __init__(self, attribute: str, index=None, input=None, many=False) -> None:
        self.attribute = attribute
        self.index = index
        self.input = input
        self.many = many
        self.position = None

    def _items(self, node) -> tuple:
        items = getattr(node, self.attribute, None)
        if self.many:
            return tuple(items or ())
        return (items if self.index is None or items is None else items[self.index],)

    def raw(self, node, saved, part=None):
        return self._items(node)[0 if part is None else part]

    def origin(self, node) -> tuple:
        edge = None if self.input is None else node._next[self.input]
        return edge, None, None

    def sources(self, rank: int, name: str, node, saved):
        origin = self.origin(node)
        for part, item in enumerate(self._items(node)):
            if item is not None and is_tensor_value(item):
                yield rank, name, None, part if self.many else None, item, origin

    def read(self, node, saved, variables: dict):
        values = []
        edge = self.origin(node)[0]
        for part, item in enumerate(self._items(node)):
            variable = variables.get(part if self.many else None)
            if variable is not None:
                values.append(variable.unpack_tensor(node))
            elif item is not None and is_tensor_value(item):
                values.append(wrap(item, edge))
            else:
                values.append(None)
        return tuple(values) if self.many else values[0]

    def parts(self, node) -> tuple:
        return tuple(range(len(self._items(node)))) if self.many else (None,)


class value:  # noqa: N801
    """A saved value that is not a tensor: the node attribute of that name, or
    ``function(node)``."""

    def __init__(self, source) -> None:
        self.source = source

    def get(self, node):
        if isinstance(self.source, str):
            return getattr(node, self.source)
        return self.source(node)


def dim_as_given(node) -> int | tuple:
    """PyTorch's ``dim`` (``node.given_dim``): as the caller gave it (not normalized), a
    negative one shown as its uint64 bits, as PyTorch's node keeps it."""
    dim = node.given_dim
    if isinstance(dim, tuple):
        return tuple(item % 2**64 for item in dim)
    return dim % 2**64


def shape_at(position: int) -> value:
    """PyTorch's ``<input>_sym_sizes``: the shape of the tensor saved at ``position`` (kept
    beside it once packed), else the input's shape the node keeps (``_input_meta``); None once
    neither is kept."""
    return value(lambda node: _layout(node, position, "shape"))


def strides_at(position: int) -> value:
    """PyTorch's ``<input>_sym_strides``, in elements, of the input at ``position`` (saved at
    the same position): kept for that input's own gradient, ``()`` when it needs none."""

    def strides(node):
        if node._next[position] is None:
            return ()
        return _layout(node, position, "strides")

    return value(strides)


def _layout(node, position: int, which: str):
    saved = node._saved
    item = None if saved is None or position >= len(saved) else saved[position]
    if type(item) is SavedVariable:
        return getattr(item, which)
    if item is not None and is_tensor_value(item):
        return xp.shape(item) if which == "shape" else element_strides(item)
    meta = node._input_meta
    if which == "shape" and meta is not None and meta[position] is not None:
        return meta[position][0]
    return None


def bias_sizes(node):
    """A convolution's ``bias_sym_sizes_opt``: the bias's shape (its output channels, the
    saved weight's first size), ``(0,)`` without a bias, as PyTorch's."""
    if not getattr(node, "has_bias", len(node._next) == 3):
        return (0,)
    weight_shape = _layout(node, 1, "shape")
    return None if weight_shape is None else weight_shape[:1]


def numel_of(attribute: str) -> value:
    """PyTorch's ``self_sym_numel``: the number of elements of the shape in ``attribute``."""

    def numel(node) -> int:
        count = 1
        for size in getattr(node, attribute):
            count *= size
        return count

    return value(numel)


class SavedNames:
    """A node class's saved values under PyTorch's names, tensors in PyTorch's order (see the
    module's docstring). Setting it on a class gives the class its properties."""

    def __init__(self, /, **entries) -> None:
        self.tensors: list[tuple[str, object]] = []
        self.values: dict[str, value] = {}
        for name, entry in entries.items():
            if isinstance(entry, int):
                entry = needed(entry)
            if isinstance(entry, value):
                self.values[name] = entry
            else:
                self.tensors.append((name, entry))
        # Whether the node may have tensors to pack when its ``_saved`` is empty.
        self.hooks_only = any(type(entry) is held for _name, entry in self.tensors)

    def names(self) -> tuple:
        """Every name, as ``_saved_<name>`` gives it."""
        return tuple(name for name, _entry in self.tensors) + tuple(self.values)

    def rank(self, name: str) -> int:
        return [tensor_name for tensor_name, _entry in self.tensors].index(name)

    def tensor_sources(self, node, saved):
        """``(rank, name, position, part, value, origin)`` for each tensor PyTorch saved, in
        PyTorch's order (``origin`` None: the position's, see ``saved_origin``)."""
        for rank, (name, entry) in enumerate(self.tensors):
            yield from entry.sources(rank, name, node, saved)

    def __set_name__(self, owner, attribute: str) -> None:
        for name, entry in self.tensors:
            setattr(owner, f"_saved_{name}", property(_tensor_reader(entry, name)))
            setattr(owner, f"_raw_saved_{name}", property(_raw_reader(entry, name)))
        for name, entry in self.values.items():
            setattr(owner, f"_saved_{name}", property(entry.get))
        # A subclass (SliceBackward0 of SelectBackward0) has none of its base's other names.
        inherited = getattr(super(owner, owner), "saved_names", None)
        if inherited is not None:
            names = self.names()
            for name in inherited.names():
                if name not in names:
                    setattr(owner, f"_saved_{name}", property(_missing(owner, f"_saved_{name}")))
                    setattr(
                        owner, f"_raw_saved_{name}", property(_missing(owner, f"_raw_saved_{name}"))
                    )


def _missing(owner, attribute: str):
    def missing(node):
        raise AttributeError(f"'{owner.__name__}' object has no attribute '{attribute}'")

    return missing


def _tensor_reader(entry, name: str):
    def read(node):
        saved = node._saved
        if saved is None:
            raise RuntimeError(SAVED_RELEASED_MESSAGE)
        variables = {}
        if type(saved) is PackedSaved:
            variables = {v.part: v for v in saved.order if v.name == name}
        return entry.read(node, saved, variables)

    return read


def _raw_reader(entry, name: str):
    def raw(node):
        handles = tuple(SavedTensor(node, name, entry, part) for part in entry.parts(node))
        return handles if entry.many else handles[0]

    return raw


class SavedTensor:
    """One value a node saved, as ``grad_fn._raw_saved_<name>`` hands it out (PyTorch's
    ``torch._C._autograd.SavedTensor``): ``register_hooks(pack_hook, unpack_hook)`` packs it
    now, and backward (and ``_saved_<name>``) unpacks it."""

    __slots__ = ("_node", "_name", "_entry", "_part")

    def __init__(self, node, name: str, entry, part=None) -> None:
        self._node = node
        self._name = name
        self._entry = entry
        self._part = part

    def register_hooks(self, pack_hook, unpack_hook) -> None:
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError(
                "register_hooks(): incompatible function arguments. The following argument "
                "types are supported:\n    1. (self: torch._C._autograd.SavedTensor, arg0: "
                "collections.abc.Callable, arg1: collections.abc.Callable) -> None\n"
            )
        node = self._node
        saved = node._saved
        if saved is None:
            raise RuntimeError(FREED_MESSAGE)
        order = list(saved.order) if type(saved) is PackedSaved else []
        if any(v.name == self._name and v.part == self._part for v in order):
            raise RuntimeError(
                "Calling register_hooks on a saved tensor whose hooks have already been set. "
                "Hint: only one pair of hooks is allowed at a time."
            )
        raw = self._entry.raw(node, saved, self._part)
        if raw is None or not is_tensor_value(raw):
            raise RuntimeError(
                "Calling register_hooks on a saved tensor with value None is forbidden"
            )
        entry = self._entry
        origin = entry.origin(node) if type(entry) is held else None
        variable = new_variable(node, raw, entry.position, pack_hook, unpack_hook, origin)
        variable.name, variable.part = self._name, self._part
        variable.rank = type(node).saved_names.rank(self._name)
        items = list(saved)
        if entry.position is not None:
            items[entry.position] = variable
        order.append(variable)
        order.sort(key=order_key)
        node._saved = PackedSaved(items, order)


def table_saved_names(save: int, operands: tuple) -> SavedNames:
    """A table row's saved values under PyTorch's names, as its VJP's operand names give them
    (ops/pointwise_table.py): ``x`` is PyTorch's ``self``, ``out`` its ``result``; a two-input
    row's ``a`` and ``b`` are ``self`` and ``other``, which PyTorch saves other first (and no
    result)."""
    if "a" in operands:
        return SavedNames(other=1, self=0) if save & SAVE_INPUTS else SavedNames()
    names = {}
    if save & SAVE_INPUTS:
        names["self"] = 0
    if save & SAVE_OUTPUT:
        names["result"] = 1 if save & SAVE_INPUTS else 0
    return SavedNames(**names)
