"""Saved-tensor hooks, where gradienti's nodes keep their saved values.

PyTorch keeps each tensor an op saves for backward in a SavedVariable. While hooks are on
(``autograd.graph.saved_tensors_hooks(pack_hook, unpack_hook)``, a stack per thread), it calls
``pack_hook(tensor)`` once, when the op saves the tensor, and keeps only what that returned;
``unpack_hook(packed)`` gives the tensor back each time it is read: when backward runs the
node, and on ``grad_fn._saved_<name>``. A Python number operand is never packed, nor a value
the op did not save.

gradienti's nodes keep raw arrays in ``node._saved``, which the hot VJPs read directly. Hooks
turn on a special mode (graph/grad_mode.py), so every op is recorded through
``apply.record_node``, which calls ``on_record`` here: a node that saved something gets a
``PackedSaved`` as its ``_saved``, the same layout with a ``SavedVariable`` (what pack_hook
returned) in place of each packed value. Which values are packed, in which order and under
which names is PyTorch's, declared beside each op class (``saved_names``, see
ops/saved_names.py); a node class without a declaration packs every array it saved. The
reference loop (autograd/schedule.py) unpacks a node's values just before its VJP runs (and
drops them after); while any PackedSaved is alive, ``loss.backward()``'s fast path hands
the pass to it (``anomaly.REFERENCE_LOOP``).
"""

from __future__ import annotations

import threading
from contextlib import suppress

from ..backend import xp
from ..graph.anomaly import ANOMALY, REFERENCE_LOOP, forward_trace
from ..graph.grad_mode import enter_special, grad_state, leave_special
from ..graph.node import SAVE_INPUTS, SAVE_OUTPUT, set_special_entry
from ..tensor import Tensor, wrap

_ndarray = xp.ndarray
_generic = xp.generic


class _HookStack(threading.local):
    """This thread's saved-tensor hooks (innermost last) and, inside
    ``disable_saved_tensors_hooks``, the error message that refuses them."""

    def __init__(self) -> None:
        self.stack: list = []
        self.disabled_message: str | None = None


HOOKS = _HookStack()


def push_hooks(pack_hook, unpack_hook) -> None:
    """Enter a ``saved_tensors_hooks`` block (PyTorch refuses it while hooks are disabled)."""
    if HOOKS.disabled_message is not None:
        raise RuntimeError(HOOKS.disabled_message)
    HOOKS.stack.append((pack_hook, unpack_hook))
    enter_special()


def pop_hooks() -> None:
    HOOKS.stack.pop()
    leave_special()


def current_hooks():
    """The innermost ``(pack_hook, unpack_hook)`` of this thread, or None."""
    stack = HOOKS.stack
    return stack[-1] if stack else None


def on_record(node) -> None:
    """What the special modes add to a node that ``record_node`` just recorded: the forward
    stack under anomaly detection, packed saved values under saved-tensor hooks."""
    if ANOMALY.enabled:
        set_special_entry(node, "trace", forward_trace())
    if HOOKS.stack:
        pack_saved(node, node._saved)


def pack_saved(node, saved: tuple, previous=None) -> None:
    """Under saved-tensor hooks, pack what ``node`` keeps (``saved``, its ``_saved``; for
    ``replace_saved``, ``previous`` is what it kept before, whose packed values stay)."""
    declaration = getattr(type(node), "saved_names", None)
    if saved or (declaration is not None and declaration.hooks_only):
        packed = pack_node(node, saved, current_hooks(), previous)
        if packed.order:
            node._saved = packed


# ---------------------------------------------------------------------- packed values
class SavedVariable:
    """One packed value: what ``pack_hook`` returned and the ``unpack_hook`` that reads it.

    ``position``: its place in the node's ``_saved`` layout (None for a value only the hooks
    see); ``name``: PyTorch's name of it (None where the node class declares none), ``part``
    its index in a saved list (``indices``) or None; ``rank``: its place in PyTorch's order.
    The Tensor it stands for has ``edge`` as its grad_fn, or, when ``output_nr`` is not None,
    is that output of the node that saved it (kept as a number: the node holds this object).
    ``dtype``: the dtype the VJP computes in where it differs from the value the hooks saw (an
    input that the op promoted). ``shape``, ``strides`` (in elements): the value's, which
    PyTorch keeps beside it (``_saved_self_sym_sizes``).
    """

    __slots__ = ("packed", "unpack_hook", "position", "name", "part", "rank", "edge")
    __slots__ += ("output_nr", "dtype", "shape", "strides")

    def unpack(self) -> Tensor:
        """``unpack_hook(packed)``, checked as PyTorch checks it."""
        value = self.unpack_hook(self.packed)
        if not isinstance(value, Tensor):
            raise TypeError(
                "Output of saved tensor unpack_hook expected to be a Tensor but got result of "
                f"type {type(value).__name__}"
            )
        return value

    def unpack_array(self):
        """The unpacked value as the VJP reads it (in the dtype the op computed in)."""
        array = self.unpack()._data
        if self.dtype is not None and array.dtype != self.dtype:
            array = array.astype(self.dtype)
        return array

    def unpack_tensor(self, owner) -> Tensor:
        """The unpacked value as PyTorch hands it out: a Tensor with the saved tensor's
        grad_fn (``owner`` is the node that saved it)."""
        return wrap(self.unpack()._data, self.edge_in(owner))

    def edge_in(self, owner):
        if self.output_nr is None:
            return self.edge
        return owner if owner.num_outputs == 1 else (owner, self.output_nr)


class PackedSaved(tuple):
    """A node's ``_saved`` while some of it is packed: the layout of the raw ``_saved``, with a
    SavedVariable in place of each packed value. ``order``: every SavedVariable of the node in
    PyTorch's order (those only the hooks see too), the order backward unpacks them in.

    While one is alive, ``loss.backward()`` takes the reference loop (``REFERENCE_LOOP`` holds
    an entry per PackedSaved: entries are interchangeable, added and removed atomically)."""

    def __new__(cls, items, order: list):
        packed = super().__new__(cls, items)
        packed.order = order
        REFERENCE_LOOP.append(None)
        return packed

    def __del__(self) -> None:
        with suppress(IndexError, AttributeError, TypeError):  # (interpreter shutdown)
            REFERENCE_LOOP.pop()


def pack_node(node, saved: tuple, hooks, previous=None) -> PackedSaved:
    """``saved`` with the values PyTorch saves (per the node class's ``saved_names``, else
    every array) packed by ``hooks``, in PyTorch's order. A value already packed (a layout
    given again by ``replace_saved``, which may keep the values of ``previous``) stays."""
    pack_hook, unpack_hook = hooks
    items = list(saved)
    order = [item for item in items if type(item) is SavedVariable]
    if type(previous) is PackedSaved:  # values only the hooks see stay too
        order += [variable for variable in previous.order if variable.position is None]
    declaration = getattr(type(node), "saved_names", None)
    sources = (
        declaration.tensor_sources(node, saved)
        if declaration is not None
        else generic_sources(node, saved)
    )
    done = {(variable.name, variable.part) for variable in order if variable.name is not None}
    for rank, name, position, part, value, origin in sources:
        if position is not None and type(items[position]) is SavedVariable:
            continue
        if name is not None and (name, part) in done:
            continue
        variable = new_variable(node, value, position, pack_hook, unpack_hook, origin)
        variable.name, variable.part, variable.rank = name, part, rank
        if position is not None:
            items[position] = variable
        order.append(variable)
    order.sort(key=order_key)
    return PackedSaved(items, order)


def order_key(variable: SavedVariable) -> tuple:
    """PyTorch's order: by declaration, then a list's items in turn."""
    return variable.rank, -1 if variable.part is None else variable.part


def new_variable(node, value, position, pack_hook, unpack_hook, origin=None) -> SavedVariable:
    """A SavedVariable of ``value`` (an array the node saved at ``position``, or a value only
    the hooks see, whose ``origin`` is given as ``saved_origin`` gives it): ``pack_hook``
    called once, with grad mode off, as in PyTorch."""
    variable = SavedVariable()
    variable.position = position
    if origin is None:
        origin = saved_origin(node, position)
    variable.edge, variable.output_nr, hook_dtype = origin
    variable.dtype = None
    array = value
    if hook_dtype is not None and value.dtype != hook_dtype:
        variable.dtype = value.dtype  # promoted by the op: the hooks see the input's dtype
        array = value.astype(hook_dtype)
    variable.shape, variable.strides = xp.shape(value), element_strides(value)
    tensor = wrap(array, variable.edge_in(node))
    previous = grad_state.enabled
    grad_state.enabled = False
    try:
        variable.packed = pack_hook(tensor)
    finally:
        grad_state.enabled = previous
    variable.unpack_hook = unpack_hook
    return variable


def element_strides(array) -> tuple:
    """An array's strides counted in elements, as PyTorch's (a NumPy scalar has none)."""
    if type(array) is not _ndarray:
        return ()
    return tuple(stride // array.itemsize for stride in array.strides)


def saved_origin(node, position) -> tuple:
    """Where the value at ``position`` of a node's ``_saved`` came from, by the op class's
    ``save`` (the inputs in order, then the output): ``(edge, output_nr, input dtype)``, the
    input's edge and dtype for a saved input, ``(None, 0, None)`` for the output, no edge for
    anything else (what the op keeps besides)."""
    save = getattr(node, "save", 0)
    if position is None:
        return None, None, None
    inputs = len(node._next) if save & SAVE_INPUTS else 0
    if save & SAVE_OUTPUT and position == inputs:
        return None, 0, None
    if position < inputs:
        meta = node._input_meta
        dtype = None if meta is None or meta[position] is None else meta[position][1]
        return node._next[position], None, dtype
    return None, None, None


def is_tensor_value(value) -> bool:
    """Whether a saved value is one PyTorch would pack: an array or NumPy scalar, not a Python
    number operand (a "wrapped number"), None or a structure."""
    if type(value) is _ndarray:
        return True
    return isinstance(value, _generic) and value.dtype.kind in "biufc"


def generic_sources(node, saved: tuple):
    """A node class without ``saved_names``: every array it saved, in order."""
    for position, value in enumerate(saved):
        if type(value) is SavedVariable or is_tensor_value(value):
            yield position, None, position, None, value, None


def unpacked(packed: PackedSaved) -> tuple:
    """The raw layout back, each packed value unpacked in PyTorch's order (those only the
    hooks see are unpacked and dropped): what the VJP reads as ``ctx._saved``."""
    items = list(packed)
    for variable in packed.order:
        array = variable.unpack_array()
        if variable.position is not None:
            items[variable.position] = array
    return tuple(items)


# ---------------------------------------------------------------------- custom Functions
def pack_function_saved(entries: tuple, outputs: list, hooks) -> tuple:
    """A custom Function's ``save_for_backward`` tensors packed by ``hooks``, one pack call
    each (None is not packed), in order. An entry is the Tensor itself, or a ``(position,
    data)`` pair for a differentiable output of the Function (custom_function.py); the hooks
    see the Tensors the Function was given and returned."""
    pack_hook, unpack_hook = hooks
    packed = []
    previous = grad_state.enabled
    for entry in entries:
        if entry is None:
            packed.append(None)
            continue
        variable = SavedVariable()
        variable.unpack_hook = unpack_hook
        variable.position = variable.name = variable.part = variable.dtype = None
        variable.rank = len(packed)
        if isinstance(entry, Tensor):
            tensor, variable.edge, variable.output_nr = entry, entry._edge, None
        else:
            output_nr = entry[0]
            tensor, variable.edge, variable.output_nr = outputs[output_nr], None, output_nr
        variable.shape, variable.strides = xp.shape(tensor._data), element_strides(tensor._data)
        grad_state.enabled = False
        try:
            variable.packed = pack_hook(tensor)
        finally:
            grad_state.enabled = previous
        packed.append(variable)
    return tuple(packed)
