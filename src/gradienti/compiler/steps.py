"""Whether a traced op can be replayed from its node, and how (compiler/program.py writes
the code).

An op applied by ``ops/apply.py``'s recorders (``unary``, the ``unary_op`` functions,
``binary``, ``with_number``, ``unary_multi``, ``nary``) computes ``node.function(*arrays)``
or ``node.forward(node, *arrays)``, the arrays being its inputs' data, cast where the
recorder promoted them; what its node saves is some of those arrays and its output. Other
ops record from their own code (addmm, the losses, conv, ...): they are replayed the same
way when their node shows the same shape (the forward run again from the node gives the
same output, bit for bit, and what the node saved is among its arrays, its outputs and
numbers); otherwise the op breaks the graph with its name. A forward that writes something
on its node that differs from call to call (an array) breaks it too: the node is shared by
the replays.
"""

from __future__ import annotations

import contextlib
import copy

from ..backend import xp
from ..batching import BatchedArray
from ..graph.node import Op
from ..ops import apply, hot_operators
from ..tensor import Tensor
from . import breaks

_ndarray = xp.ndarray
_NUMBER_TYPES = (bool, int, float, complex)
# What a forward may leave on its node and still be shared: plain values (an axis, a shape).
_PLAIN_TYPES = (type(None), bool, int, float, complex, str, tuple, frozenset, type(xp.float32))


def generic_recorders() -> frozenset:
    """The code objects of apply.py's recorders and ops/hot_operators.py's operators (read each
    time: tests swap hot copies' code)."""
    functions = (apply.unary, apply.binary, apply.with_number, apply.unary_multi, apply.nary)
    hot = (*apply.MADE_BY_UNARY_OP, *hot_operators.HOT_OPERATORS)  # (+ - * x**2: one frame)
    return frozenset(f.__code__ for f in (*functions, *hot))


class Replay:
    """How one step runs again: ``arguments`` (per input: ("slot", n), ("cast", n, dtype),
    ("as_array", n) or ("constant", value)), ``calls_function`` (node.function(*arrays)) or
    the node's forward, ``multi`` (a tuple of outputs), ``saved`` (per saved entry: None,
    ("argument", i), ("output", k) or ("constant", value)), ``recorded`` (the node was
    recorded: it has a VJP to run)."""

    __slots__ = ("arguments", "calls_function", "multi", "saved", "recorded", "template")


def plan_step(step, generic: frozenset, result_edges: list) -> Replay | str:
    """A Replay for ``step``, or the reason it cannot be replayed."""
    node = step.node
    name = node.name()
    unsupported = breaks.UNSUPPORTED_OP.format(op=name)
    is_generic = step.caller in generic
    plan = Replay()
    plan.multi = type(step.outputs) is tuple
    arguments = []
    for ref, tensor, array in zip(step.inputs, step.tensors, step.arrays):
        if tensor is None:
            value = ref[1]
            if array is not value and not (type(array) is type(value) and array == value):
                return unsupported
            arguments.append(("constant", value))
            continue
        slot = ref[1]
        data = tensor._data
        if array is data:
            arguments.append(("slot", slot))
        elif node.is_view and type(array) is _ndarray and array.ndim == 0 and data.ndim == 0:
            arguments.append(("as_array", slot))
        elif (
            isinstance(array, (_ndarray, xp.generic))
            and array.shape == data.shape
            and array.dtype != data.dtype
            and _same_bits(array, data.astype(array.dtype))
        ):
            arguments.append(("cast", slot, array.dtype))
        else:
            return unsupported
    plan.arguments = tuple(arguments)
    # The array function itself (no frame of the node's forward) where that is what runs:
    # apply.py's recorders call it when set, and Op.forward calls nothing else.
    plan.calls_function = (
        node.function is not None
        and not plan.multi
        and (is_generic or type(node).forward is Op.forward)
    )
    template = copy.copy(node)
    _sanitize(template)
    if not plan.calls_function:
        # Run the forward again on a copy of the node: the same output, bit for bit, and
        # nothing left on the node that differs from the first run (it is shared by replays).
        try:
            again = node.forward(template, *step.arrays)
        except Exception:  # noqa: BLE001 - any failure means: not replayable from the node
            return unsupported
        outputs = step.outputs if plan.multi else (step.outputs,)
        again = tuple(again) if plan.multi else (again,)
        if len(again) != len(outputs) or not all(map(_same_bits, again, outputs)):
            return unsupported
        if not _same_state(node, template):
            return unsupported
    if _keeps_an_array(node):
        # A mask or an index the op was given on its node (where's condition, x[mask]'s
        # index): made from a tensor that is no input of the op, so not replayable.
        return breaks.UNSEEN_TENSOR.format(op=name) if is_generic else unsupported
    plan.recorded = any(result_edges)
    if plan.recorded:
        saved = step.saved
        if saved is None or getattr(node, "_saved", None) is not saved:
            return unsupported  # (replaced after recording: the node's own code chose it)
        hooks = node._hooks
        if hooks is not None and hooks is not apply.CONFORM_ONLY:
            return breaks.HOOKED
        entries = []
        outputs = step.outputs if plan.multi else (step.outputs,)
        for entry in saved:
            where = _find_saved(entry, step.arrays, step.tensors, outputs)
            if where is False:
                return unsupported
            entries.append(where)
        plan.saved = tuple(entries)
    else:
        plan.saved = ()
    plan.template = template
    return plan


def _find_saved(entry, arrays, tensors, outputs):
    if entry is None:
        return None
    for index, output in enumerate(outputs):
        if entry is output:
            return ("output", index)
    for index, (array, tensor) in enumerate(zip(arrays, tensors)):
        if entry is array:
            return ("argument", index) if tensor is not None else ("constant", entry)
    if type(entry) in _NUMBER_TYPES:
        return ("constant", entry)
    return False


# Stands for "an edge" in a template node's ``_next``: a VJP may test ``ctx._next[i] is not
# None`` (which gradients are wanted); the trace's real edges are not kept alive.
EDGE_PRESENT = object()


def _sanitize(template) -> None:
    """The template a replay's VJP runs on: the trace's edges and saved values dropped."""
    nexts = getattr(template, "_next", None)
    if nexts is not None:
        template._next = tuple(None if edge is None else EDGE_PRESENT for edge in nexts)
    template._saved = None
    with contextlib.suppress(AttributeError):
        del template._special
    template._hooks = None if getattr(template, "_input_meta", None) is None else apply.CONFORM_ONLY


def _same_bits(a, b) -> bool:
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return False
    if not isinstance(a, (_ndarray, xp.generic)) or not isinstance(b, (_ndarray, xp.generic)):
        return type(a) is type(b) and a == b
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(xp.array_equal(a, b, equal_nan=True))
    return bool(xp.array_equal(a, b))


def _slot_names(node) -> list:
    names = []
    for cls in type(node).__mro__:
        names.extend(getattr(cls, "__slots__", ()))
    skipped = ("_next", "_saved", "_versions", "_special", "_seq", "_hooks", "_input_meta")
    return [n for n in names if n not in skipped]


def _same_state(node, again) -> bool:
    """Whether the forward left the same plain values on both copies (an array left there
    is this call's: the shared node cannot hold it)."""
    for name in _slot_names(node):
        first = getattr(node, name, None)
        second = getattr(again, name, None)
        if first is second:
            continue
        if not isinstance(first, _PLAIN_TYPES) or type(first) is not type(second):
            return False
        if first != second:
            return False
    return True


def _keeps_an_array(node) -> bool:
    """Whether the op's own slots (its static parameters) hold an array."""
    for name in _slot_names(node):
        if name in ("num_outputs", "output_meta"):
            continue
        value = getattr(node, name, None)
        values = value if isinstance(value, (tuple, list)) else (value,)
        for item in values:
            if isinstance(item, (_ndarray, Tensor, BatchedArray)):
                return True
            if isinstance(item, (tuple, list)) and any(
                isinstance(inner, (_ndarray, Tensor, BatchedArray)) for inner in item
            ):
                return True
    return False
