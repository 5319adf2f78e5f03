"""Tensor's ``+ - *`` and ``x ** 2``, ``x ** 3`` as one Python frame each: the hot path of
scalar graphs and of elementwise chains on small tensors.

Why: on a 0-d or 16-element tensor an op is a ~100-400 ns NumPy call inside several hundred
nanoseconds of Python. Going operator -> ``binary``/``with_number`` (ops/apply.py) costs a
frame, and reading the op class's constants from the node (``node.function``, ``node.save``,
``node.lean_inputs``: class attributes read through an instance, which Python 3.11 does not
specialize) costs a generic attribute lookup each. An operator made here is
``binary(op_class(), self, other)`` for a Tensor ``other`` of the same dtype and
``with_number(op_class(), self, other, saved)`` for a Python number, written out with the
class's constants bound once (closure cells); anything else (promotion between dtypes, a Tensor
subclass, a NumPy array, a list) calls ``binary`` as before. The recording is a hot copy of
``record_node`` (marked as in ops/apply.py; ops/hot_copies.py runs it as the call, and
tests/test_recorder_paths.py compares both ways on every op case).
"""

from __future__ import annotations

from ..backend import default_float, xp
from ..batching import BatchedArray
from ..graph.grad_mode import MODES, grad_state
from ..graph.node import CONFORM_ONLY, SAVE_INPUTS, SAVE_NOTHING, next_sequence_number
from ..graph.versions import MODIFIED
from ..graph.versions import record as record_versions
from ..tensor import Tensor
from .apply import (
    binary,
    input_meta,
    lift_to_float,
    raise_if_not_broadcastable,
    record_node,  # noqa: F401 - the hot copies' calls (their twins, ops/hot_copies.py) use it
    record_special,
    saved_values,  # noqa: F401 - as record_node
    unary,
)
from .elementwise import PowBackward0, PowBackward1

_new_object = object.__new__
_ndarray = xp.ndarray
_FLOAT_DTYPES = frozenset(xp.dtype(t) for t in (xp.float16, xp.float32, xp.float64, xp.longdouble))
# The dtypes whose x**2 and x**3 PyTorch's CPU kernel computes as products (see power_array).
_PRODUCT_POWER_DTYPES = frozenset((xp.dtype(xp.float32), xp.dtype(xp.float64)))

# The operators made here (ops/hot_copies.py swaps their code for their twins' in tests).
HOT_OPERATORS: list = []


_BOOL_SUBTRACTION = (
    "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to "
    "invert a mask, use the `~` or `logical_not()` operator instead."
)
_TWO_BOOLS_SUBTRACTION = (
    "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
    "`logical_xor()` operator instead."
)


def _is_bool(value) -> bool:
    """A bool tensor or a Python bool (PyTorch counts it as one)."""
    if isinstance(value, Tensor):
        return value._data.dtype.kind == "b"
    return type(value) is bool


def refuse_bool_subtraction(a, b) -> None:
    """PyTorch's RuntimeError for a subtraction with a bool operand (tensor or Python bool)."""
    bools = _is_bool(a) + _is_bool(b)
    if bools:
        raise RuntimeError(_TWO_BOOLS_SUBTRACTION if bools == 2 else _BOOL_SUBTRACTION)


def arithmetic_operator(op_class, name: str, refuses_bool: bool = False):
    """``self <op> other`` for a two-input elementwise op class that saves nothing (Add, Sub)
    or keeps each input only for the other's gradient (Mul: ``lean_inputs``). The body is
    ``binary``'s and ``with_number``'s, written out (see the module's docstring).
    ``refuses_bool``: PyTorch's error for a bool operand (subtraction), tested where it costs
    nothing (a NumPy TypeError, the promotion path) or one closure test (a Python bool); a
    bool tensor minus a Python int or float is not refused (reading the dtype would cost every
    ``x - 2``)."""
    function = op_class.function
    save = op_class.save
    lean = op_class.lean_inputs
    if function is None or not (save == SAVE_NOTHING or (save == SAVE_INPUTS and lean == 1)):
        raise TypeError(f"{op_class.__name__}: not an op that {name} can record inline")

    def apply_operator(self, other):
        data = self._data
        kind = type(other)
        if kind is Tensor:
            other_data = other._data
            if data.dtype is not other_data.dtype:  # promotion: binary's general path
                if refuses_bool:
                    refuse_bool_subtraction(self, other)
                return binary(op_class(), self, other)
            try:
                out = function(data, other_data)
            except ValueError:
                raise_if_not_broadcastable(data, other_data, hint=True)
                raise
            except TypeError:  # NumPy refuses bool - bool: PyTorch's text instead
                if refuses_bool:
                    refuse_bool_subtraction(self, other)
                raise
            a_edge = self._edge
            b_edge = other._edge
            if MODES.count:  # grad mode off in some thread, or a special mode
                if MODES.special:
                    return record_special(op_class(), (self, other), (data, other_data), out)
                if not grad_state._enabled:
                    a_edge = b_edge = None
            t = _new_object(Tensor)
            t._data = out
            t._grad = None
            if a_edge is None and b_edge is None:
                t._edge = None
                return t
            # The dtypes are the same: only broadcasting makes input metadata. A NumPy scalar
            # result means both inputs were 0-d (no shape to read: ~100 ns on scalar graphs);
            # a BatchedArray (vmap) has its shapes read as an array's.
            out_type = type(out)
            if (out_type is not _ndarray and out_type is not BatchedArray) or (
                data.shape == other_data.shape
            ):
                meta = None
            else:
                meta = input_meta((self, other), out)
        elif kind is int or kind is float or kind is bool:
            if refuses_bool and kind is bool:  # (a bool tensor and a number: not refused,
                refuse_bool_subtraction(self, other)  # as before; a dtype read costs ~40 ns)
            # A Python float lifts an integral or bool tensor to the default float dtype.
            if kind is float and data.dtype not in _FLOAT_DTYPES:
                data = data.astype(default_float.value.np)
            other_data = other
            out = function(data, other)
            a_edge = self._edge
            b_edge = None
            if MODES.count:  # grad mode off in some thread, or a special mode
                if MODES.special:
                    saved = (None, other) if save else ()
                    return record_special(op_class(), (self, other), (data, other), out, saved)
                if not grad_state._enabled:
                    a_edge = None
            t = _new_object(Tensor)
            t._data = out
            t._grad = None
            if a_edge is None:
                t._edge = None
                return t
            meta = None
        else:  # a Tensor subclass, a NumPy array or scalar, a list
            if refuses_bool:
                refuse_bool_subtraction(self, other)
            return binary(op_class(), self, other)
        node = op_class()
        # Hot copy of record_node(), written out: the binary/with_number frame, the
        # record_node call and the node's class attributes would add ~150 ns to a ~500 ns op
        # on a 0-d tensor. As one call:
        #     edges = (a_edge, b_edge)
        #     saved = saved_values(save, (data, other_data), out, op_class.lean_inputs, edges)
        #     t._edge = record_node(node, edges, saved, meta)
        if b_edge is None:
            # compact (graph/node.py): a constant second input (a number, a Tensor that needs
            # no gradient) leaves one edge, kept without an (edge, None) tuple for the
            # collector to track; Add/Sub/Mul's compact_tail (None,) rebuilds _next on a read
            node._sole = a_edge
        else:
            node._next = (a_edge, b_edge)
            node._sole = None
        if save:
            # Mul needs each input only for the other's gradient: what is not needed is not kept.
            node._saved = (
                data if b_edge is not None else None,
                other_data if a_edge is not None else None,
            )
        else:
            node._saved = ()
        if MODIFIED:
            node._versions = record_versions(node._saved)
        node._input_meta = meta
        node._hooks = None if meta is None else CONFORM_ONLY
        node._seq = next_sequence_number()
        t._edge = node
        return t

    apply_operator.__name__ = apply_operator.__qualname__ = name
    HOT_OPERATORS.append(apply_operator)
    return apply_operator


def __pow__(self, exponent) -> Tensor:  # noqa: N807 - bound onto Tensor as its operator
    """``x ** exponent``. ``x ** 2`` and ``x ** 3`` on float32/float64 (the lesson's powers) are
    ``unary(PowBackward0 with the exponent, x)`` written out: products, as power_array computes
    them (PyTorch's rounding)."""
    data = self._data
    if (
        type(exponent) is not int
        or (exponent != 2 and exponent != 3)
        or data.dtype not in _PRODUCT_POWER_DTYPES
    ):
        # any other exponent or dtype: unary's general path (a Tensor exponent: PowBackward1)
        if type(exponent) is Tensor:
            return binary(PowBackward1(), self, exponent)
        node = PowBackward0()
        node.exponent = exponent
        if type(exponent) is float:
            return unary(node, lift_to_float(self))
        return unary(node, self)
    out = data * data if exponent == 2 else data * data * data
    node = PowBackward0()
    node.exponent = exponent
    edge = self._edge
    if MODES.count:  # grad mode off in some thread, or a special mode
        if MODES.special:
            return record_special(node, (self,), (data,), out)
        if not grad_state._enabled:
            edge = None
    t = _new_object(Tensor)
    t._data = out
    t._grad = None
    if edge is None:
        t._edge = None
        return t
    # Hot copy of record_node(), written out: unary's frame and the forward's two frames
    # (PowBackward0.forward, power_array) would add ~250 ns to a ~500 ns op on a 0-d tensor.
    # As one call:
    #     t._edge = record_node(node, (edge,), saved_values(node.save, (data,), out))
    node._sole = edge  # compact: no (edge,) tuple for the collector to track (graph/node.py)
    node._saved = (data,)  # PowBackward0 saves its input
    if MODIFIED:
        node._versions = record_versions(node._saved)
    node._input_meta = None
    node._hooks = None
    node._seq = next_sequence_number()
    t._edge = node
    return t


HOT_OPERATORS.append(__pow__)
