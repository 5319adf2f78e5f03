"""Running an op: unwrap the inputs, promote dtypes, call forward, record the node.

Recording a node means ``record_node``: its docstring says what each slot holds. What a node
keeps for backward is ``saved_values``, read from the op class's declarations. Every op records
through these two, except the hot paths of small-tensor graphs (``unary``, the functions made
by ``unary_op``, ``binary``, ``with_number``): there a Python frame is a fair part of an op's
cost, so they write the recording out. Each such copy is marked ``# Hot copy of record_node()``
and followed by the call it stands for; ops/hot_copies.py runs them as that call, and
tests/test_recorder_paths.py checks that both ways give the same graphs and gradients.
"""

from __future__ import annotations

from .. import creation
from ..backend import default_float, result_type, xp
from ..batching import BatchedArray
from ..beginner_hints import broadcast_hint, with_hint
from ..graph.compile_hook import HOOK as TRACE_HOOK
from ..graph.dual import FORWARD, tangent_of
from ..graph.grad_mode import MODES, grad_state, is_inference_tensor, mark_inference
from ..graph.node import (
    CONFORM_ONLY,
    NO_EDGE,
    SAVE_INPUTS,
    SAVE_OUTPUT,
    next_sequence_number,
    set_special_entry,
)
from ..graph.provenance import PROVENANCE, note_op
from ..graph.versions import MODIFIED
from ..graph.versions import record as record_versions
from ..tensor import Tensor, wrap
from .forward_tangents import forward_tangents
from .saved_tensors import HOOKS, on_record, pack_saved

_ndarray = xp.ndarray
_new_object = object.__new__
_PY_NUMBER_TYPES = frozenset((float, int, bool))
_FLOAT_DTYPES = frozenset(xp.dtype(t) for t in (xp.float16, xp.float32, xp.float64, xp.longdouble))


def record_node(node, edges: tuple, saved: tuple, input_meta: tuple | None = None):
    """Record ``node`` as the grad_fn of an op's output; returns ``node``, the output's edge (a
    multi-output op gives its outputs ``(node, index)``). Called once grad mode is on and some
    input needs a gradient. The slots it sets are what the engine reads:

    ``_next``: per forward input, that tensor's edge (``next_functions``): the node that made it,
    ``(node, output_nr)`` for an output of a multi-output node, None (NO_EDGE) for a tensor that
    needs no gradient or a Python number.
    ``_saved``: what the VJP reads as ``ctx._saved`` (see ``saved_values``); None once released.
    ``_versions``: only while some array has been modified in place (``MODIFIED``): the version
    counts of the saved arrays, checked before the VJP runs (PyTorch's "modified by an inplace
    operation" error); None when they are all 0, and left unset (read as all 0) otherwise.
    ``_input_meta``: None, or per input None or its ``(shape, dtype)`` where that differs from
    the output's: the engine sums that input's gradient over the broadcast dimensions and casts
    it to its dtype.
    ``_hooks``: None, or CONFORM_ONLY when there is ``_input_meta``, so that the engine tests one
    slot per node for all it does besides the VJP (hooks registered later replace it).
    ``_seq``: the creation order; every node is created after its inputs' nodes, so running
    nodes in decreasing order is a topological order.
    """
    node._next = edges
    node._sole = None
    node._saved = saved
    if MODIFIED:
        node._versions = record_versions(saved)
    node._input_meta = input_meta
    node._hooks = None if input_meta is None else CONFORM_ONLY
    node._seq = next_sequence_number()
    if MODES.special:  # anomaly detection keeps the forward stack, saved-tensor hooks pack
        on_record(node)
    return node


def record_special(node, inputs: tuple, arrays: tuple, outputs, saved: tuple | None = None):
    """The output Tensor (a tuple of them for a multi-output op) of an op that ran while a
    special mode is on (``MODES.special``: see graph/grad_mode.py); the plain paths above hand
    over to it with one test. It does what they do, and what the modes ask:

    - grad mode is read from this thread, and the node recorded through ``record_node`` (where
      saved-tensor hooks pack the saved values and anomaly detection keeps the forward stack);
    - under a forward-AD level, when an input has a tangent, the output gets its tangent from
      the op's JVP rule (``forward_tangents``, ops/forward_tangents.py).

    ``inputs`` are the op's forward inputs as given (Tensors or Python numbers), ``arrays``
    what its forward computed with (promoted), ``outputs`` the output array or a tuple of
    them. ``saved`` is what the node keeps when the op chose it (``with_number``); None: by the
    op class's declarations (``saved_values``).
    """
    multi = type(outputs) is tuple
    results = tuple(wrap(out, NO_EDGE) for out in outputs) if multi else wrap(outputs, NO_EDGE)
    if MODES.inference and grad_state.inference:
        # (a view of a normal tensor stays normal, of an inference tensor not, as in PyTorch)
        if not node.is_view or is_inference_tensor(inputs[0]):
            mark_inference(results)
        if FORWARD.token is None:
            # Nothing to record, even under enable_grad (PyTorch's inference mode records no
            # graph), and no tangent.
            if PROVENANCE.active:  # (why the results have no graph, for error hints)
                note_op(node, inputs, results)
            return results
    edges = tuple(value._edge if isinstance(value, Tensor) else NO_EDGE for value in inputs)
    if grad_state.enabled and any(edge is not None for edge in edges):
        if multi:
            if saved is None:
                saved = saved_values(node.save, arrays, None)
            record_node(node, edges, saved)
            node.num_outputs = len(outputs)
            node.output_meta = tuple((out.shape, out.dtype) for out in outputs)
            for index, result in enumerate(results):
                result._edge = (node, index)
        else:
            if saved is None:
                saved = saved_values(node.save, arrays, outputs, node.lean_inputs, edges)
            results._edge = record_node(node, edges, saved, input_meta(inputs, outputs))
    if FORWARD.token is not None:
        tangents = tuple(tangent_of(v) if isinstance(v, Tensor) else None for v in inputs)
        if any(tangent is not None for tangent in tangents):
            kept = getattr(node, "_saved", None)
            if saved is None or kept is saved:
                forward_tangents(node, inputs, arrays, results, tangents)
            else:  # packed by saved-tensor hooks: a rule reads the values themselves
                node._saved = saved
                try:
                    forward_tangents(node, inputs, arrays, results, tangents)
                finally:
                    node._saved = kept
            if getattr(node, "_seq", None) is not None:
                # Recorded: a backward pass under this level reads the saved values with
                # their tangents (autograd/schedule.saved_as_tensors): forward over reverse.
                output_tangent = None if multi else tangent_of(results)
                set_special_entry(node, "tangents", (FORWARD.token, tangents, output_tangent))
    if PROVENANCE.active:  # (why outputs without a graph have none, for error hints)
        note_op(node, inputs, results)
    if TRACE_HOOK.active:  # gradienti.compile records the op (graph/compile_hook.py)
        TRACE_HOOK.on_op(node, inputs, arrays, outputs, results, saved)
    return results


def saved_values(save: int, inputs: tuple, out, lean: int = 0, edges: tuple = ()) -> tuple:
    """What a node keeps for its VJP, by its op class's declarations (see Op): ``save`` says
    nothing, the inputs (in order), the output, or the inputs then the output. A two-input op's
    ``lean_inputs`` leaves out an input that no gradient will read, None standing in for it:
    1 keeps each input only for the other's gradient (Mul: d(ab)/da = b), 2 keeps the numerator
    only for the denominator's (Div); ``edges`` (the inputs' edges) says which gradients are
    wanted."""
    if save == SAVE_OUTPUT:
        return (out,)
    if not save:
        return ()
    if lean:
        a_edge, b_edge = edges
        return (
            inputs[0] if b_edge is not None else None,
            inputs[1] if lean == 2 or a_edge is not None else None,
        )
    return inputs if save == SAVE_INPUTS else inputs + (out,)


def replace_saved(node, saved: tuple) -> None:
    """Keep ``saved`` instead of what ``record_node`` was given: for an op whose VJP needs other
    values than its ``save`` declaration gives (conv's unfolded columns, nll_loss's positions and
    weights). The same two slots as ``record_node``'s, set again (and, under saved-tensor
    hooks, what was not packed yet is packed)."""
    previous = node._saved
    node._saved = saved
    if MODIFIED:
        node._versions = record_versions(saved)
    if MODES.special and HOOKS.stack:
        pack_saved(node, saved, previous)


def unary(node, x: Tensor) -> Tensor:
    """Apply a one-input op. ``node`` is a fresh instance of the op, static parameters set."""
    data = x._data
    if type(data) is not _ndarray and node.is_view:
        # a view of a 0-d tensor holding a NumPy scalar (immutable) must alias memory that
        # in-place writes reach: the tensor's own 0-d array, made once
        data = x._as_array()
    if node.promotes_integers and data.dtype not in _FLOAT_DTYPES:
        # exp, log, tanh, ... of an integral tensor compute in the default float dtype.
        data = data.astype(default_float.value.np)
        x = lifted(x, data)
    function = node.function
    out = function(data) if function is not None else node.forward(node, data)
    edge = x._edge
    if MODES.count:  # grad mode off in some thread, or a special mode: see graph/grad_mode.py
        if MODES.special:
            return record_special(node, (x,), (data,), out)
        if not grad_state._enabled:
            edge = None
    t = _new_object(Tensor)
    t._data = out
    t._grad = None
    if edge is None:
        t._edge = NO_EDGE
        return t
    # Hot copy of record_node(), written out: the record_node and saved_values calls
    # would add ~80 ns to a ~550 ns op on a 0-d tensor (see ops/hot_copies.py). As one call:
    #     t._edge = record_node(node, (edge,), saved_values(node.save, (data,), out))
    node._sole = edge  # compact: no (edge,) tuple for the collector to track (graph/node.py)
    save = node.save
    if save == SAVE_OUTPUT:
        node._saved = (out,)
    elif save:
        node._saved = (data,) if save == SAVE_INPUTS else (data, out)
    else:
        node._saved = ()
    if MODIFIED:
        node._versions = record_versions(node._saved)
    node._input_meta = None
    node._hooks = None
    node._seq = next_sequence_number()
    t._edge = node
    return t


def unary_op(op_class, name: str):
    """``unary(op_class(), x)`` as one function, for an op without static parameters: the
    class's constants are bound once, and a call is one Python frame instead of two (on small
    tensors a frame is a fair part of an op's cost). The body is ``unary``'s, written out."""
    function = op_class.function
    forward = op_class.forward
    save = op_class.save
    promotes = op_class.promotes_integers

    def apply_op(x: Tensor) -> Tensor:
        data = x._data
        if promotes and data.dtype not in _FLOAT_DTYPES:
            data = data.astype(default_float.value.np)
            x = lifted(x, data)
        node = op_class()
        out = function(data) if function is not None else forward(node, data)
        edge = x._edge
        if MODES.count:  # grad mode off in some thread, or a special mode
            if MODES.special:
                return record_special(node, (x,), (data,), out)
            if not grad_state._enabled:
                edge = None
        t = _new_object(Tensor)
        t._data = out
        t._grad = None
        if edge is None:
            t._edge = NO_EDGE
            return t
        # Hot copy of record_node(), written out: the record_node and saved_values calls
        # would add ~80 ns to a ~550 ns op on a 0-d tensor (see ops/hot_copies.py). As one call:
        #     t._edge = record_node(node, (edge,), saved_values(save, (data,), out))
        node._sole = edge  # compact: no (edge,) tuple for the collector to track
        if save == SAVE_OUTPUT:
            node._saved = (out,)
        elif save:
            node._saved = (data,) if save == SAVE_INPUTS else (data, out)
        else:
            node._saved = ()
        if MODIFIED:
            node._versions = record_versions(node._saved)
        node._input_meta = None
        node._hooks = None
        node._seq = next_sequence_number()
        t._edge = node
        return t

    apply_op.__name__ = apply_op.__qualname__ = name
    MADE_BY_UNARY_OP.append(apply_op)
    return apply_op


# The functions unary_op made: hot copies too (ops/hot_copies.py swaps their code in tests).
MADE_BY_UNARY_OP: list = []


def binary(node, a: Tensor, b) -> Tensor:
    """Apply a two-input op to a Tensor and a Tensor or Python number (a constant)."""
    a_data = a._data
    meta = None
    if type(b) is Tensor:
        b_data = b._data
        b_edge = b._edge
        if a_data.dtype is not b_data.dtype:  # (NumPy scalars have dtypes too)
            a_data, b_data, meta = _promote(a_data, b_data)
        a_shape = a_data.shape
        b_shape = b_data.shape
    elif type(b) in _PY_NUMBER_TYPES:
        b_data = b
        b_edge = NO_EDGE
        # A Python float lifts an integral or bool tensor to the default float dtype.
        if type(b) is float and a_data.dtype not in _FLOAT_DTYPES:
            a_data = a_data.astype(default_float.value.np)
        a_shape = b_shape = None
    else:
        return binary(node, a, as_tensor_operand(b, a))
    function = node.function
    try:
        out = (
            function(a_data, b_data) if function is not None else node.forward(node, a_data, b_data)
        )
    except ValueError:
        raise_if_not_broadcastable(a_data, b_data, hint=True)
        raise
    a_edge = a._edge
    if MODES.count:  # grad mode off in some thread, or a special mode
        if MODES.special:
            return record_special(node, (a, b), (a_data, b_data), out)
        if not grad_state._enabled:
            a_edge = b_edge = None
    t = _new_object(Tensor)
    t._data = out
    t._grad = None
    if a_edge is None and b_edge is None:
        t._edge = NO_EDGE
        return t
    # Hot copy of record_node(), written out: the record_node and saved_values calls
    # would add ~80 ns to a ~730 ns op on a 0-d tensor (see ops/hot_copies.py). As one call:
    #     edges = (a_edge, b_edge)
    #     saved = saved_values(node.save, (a_data, b_data), out, node.lean_inputs, edges)
    #     if a_shape != b_shape or meta is not None:
    #         meta = _input_meta(a, b, out)
    #     t._edge = record_node(node, edges, saved, meta)
    node._next = (a_edge, b_edge)
    node._sole = None
    save = node.save
    if save == SAVE_OUTPUT:
        node._saved = (out,)
    elif save:
        lean = node.lean_inputs
        if lean:
            # Mul (lean 1) needs each input only for the other's gradient; Div (lean 2) needs
            # its numerator only for the denominator's. What is not needed is not kept.
            node._saved = (
                a_data if b_edge is not None else None,
                b_data if lean == 2 or a_edge is not None else None,
            )
        else:
            node._saved = (a_data, b_data) if save == SAVE_INPUTS else (a_data, b_data, out)
    else:
        node._saved = ()
    if MODIFIED:
        node._versions = record_versions(node._saved)
    if a_shape != b_shape or meta is not None:
        meta = _input_meta(a, b, out)
    node._input_meta = meta
    node._hooks = None if meta is None else CONFORM_ONLY
    node._seq = next_sequence_number()
    t._edge = node
    return t


# The operand types that with_number takes: a Python number is a constant of the graph.
NUMBER_TYPES = frozenset((float, int, bool))


def with_number(node, a: Tensor, number, saved: tuple) -> Tensor:
    """``binary(node, a, number)`` for a Python number, written out for + - * / (the hot path
    of scalar graphs): no promotion beyond an integral tensor meeting a float, no broadcasting,
    and ``saved`` given by the caller (the number alone, or nothing)."""
    data = a._data
    if type(number) is float and data.dtype not in _FLOAT_DTYPES:
        data = data.astype(default_float.value.np)
    out = node.function(data, number)
    edge = a._edge
    if MODES.count:  # grad mode off in some thread, or a special mode
        if MODES.special:
            return record_special(node, (a, number), (data, number), out, saved)
        if not grad_state._enabled:
            edge = None
    t = _new_object(Tensor)
    t._data = out
    t._grad = None
    if edge is None:
        t._edge = NO_EDGE
        return t
    # Hot copy of record_node(), written out: the record_node call would add ~25 ns
    # to a ~570 ns op on a 0-d tensor (see ops/hot_copies.py). As one call:
    #     t._edge = record_node(node, (edge, NO_EDGE), saved)
    node._sole = edge  # compact, compact_tail (None,): no (edge, None) tuple (graph/node.py)
    node._saved = saved
    if MODIFIED:
        node._versions = record_versions(saved)
    node._input_meta = None
    node._hooks = None
    node._seq = next_sequence_number()
    t._edge = node
    return t


def unary_multi(node, x: Tensor) -> tuple:
    """Apply a one-input op with several outputs (split, unbind, chunk).

    ``forward`` returns a tuple of arrays; ``backward(ctx, *grads)`` receives one gradient per
    output (zeros for an output that got none). The op's class declares ``num_outputs`` and
    ``output_meta`` in its ``__slots__``; each output's edge is ``(node, output_nr)``.
    """
    data = x._data
    outputs = tuple(node.forward(node, data))
    if node.save & SAVE_OUTPUT:
        raise TypeError("a multi-output op can save its inputs only")
    edge = x._edge
    if MODES.count:  # grad mode off in some thread, or a special mode
        if MODES.special:
            return record_special(node, (x,), (data,), outputs)
        if not grad_state._enabled:
            edge = None
    if edge is None:
        return tuple(wrap(out, NO_EDGE) for out in outputs)
    record_node(node, (edge,), saved_values(node.save, (data,), None))
    node.num_outputs = len(outputs)
    node.output_meta = tuple((out.shape, out.dtype) for out in outputs)
    return tuple(wrap(out, (node, index)) for index, out in enumerate(outputs))


def nary(node, *inputs) -> Tensor:
    """Apply an op to any number of inputs, each a Tensor or a Python number (a constant).

    The general, slower path (cat, einsum, clamp with tensor bounds, ...): tensor inputs are
    promoted to one dtype with PyTorch's rules, and an input whose shape or dtype differs from
    the output's gets metadata so the engine sums/casts its gradient back.
    """
    tensors = [value for value in inputs if isinstance(value, Tensor)]
    common = _common_dtype(tensors)
    arrays = tuple(
        (value._data if value._data.dtype == common else value._data.astype(common))
        if isinstance(value, Tensor)
        else value
        for value in inputs
    )
    function = node.function
    try:
        out = function(*arrays) if function is not None else node.forward(node, *arrays)
    except ValueError:
        raise_if_not_broadcastable(*arrays)
        raise
    if MODES.special:
        return record_special(node, inputs, arrays, out)
    edges = tuple(value._edge if isinstance(value, Tensor) else NO_EDGE for value in inputs)
    if not grad_state.enabled or all(edge is None for edge in edges):
        return wrap(out, NO_EDGE)
    meta = input_meta(inputs, out)
    return wrap(out, record_node(node, edges, saved_values(node.save, arrays, out), meta))


def input_meta(inputs: tuple, out) -> tuple | None:
    """Per input, None or its ``(shape, dtype)`` where that differs from the output's (a
    Python number: None); None when no input differs. See ``record_node``."""
    entries = tuple(
        None
        if not isinstance(value, Tensor)
        or (value._data.shape == out.shape and value._data.dtype == out.dtype)
        else (value._data.shape, value._data.dtype)
        for value in inputs
    )
    return None if all(entry is None for entry in entries) else entries


def _common_dtype(tensors: list):
    """PyTorch's result dtype of several tensors (0-d ones are weak against dimensioned ones)."""
    if not tensors:
        return None
    common = tensors[0]._data.dtype
    common_dim = tensors[0]._data.ndim
    for tensor in tensors[1:]:
        data = tensor._data
        common = result_type(common, data.dtype, common_dim, data.ndim)
        common_dim = max(common_dim, data.ndim)
    return common


def raise_if_not_broadcastable(*arrays, hint: bool = False) -> None:
    """PyTorch's RuntimeError for shapes that do not broadcast (NumPy raises ValueError):
    shapes folded left to right, the rightmost mismatch reported, as ATen's ``infer_size``.
    Called after NumPy refused, so the happy path pays nothing. ``hint``: the two arrays are
    the operands of ``a op b``; the message then names their shapes (beginner_hints)."""
    result: tuple = ()
    for array in arrays:
        shape = tuple(xp.shape(array))
        ndim = max(len(result), len(shape))
        a = (1,) * (ndim - len(result)) + result
        b = (1,) * (ndim - len(shape)) + shape
        for dim in reversed(range(ndim)):
            if a[dim] != b[dim] and a[dim] != 1 and b[dim] != 1:
                message = (
                    f"The size of tensor a ({a[dim]}) must match the size of tensor b "
                    f"({b[dim]}) at non-singleton dimension {dim}"
                )
                if hint:
                    message = with_hint(message, broadcast_hint(result, shape))
                raise RuntimeError(message)
        result = tuple(y if x == 1 else x for x, y in zip(a, b))


def _promote(a_data, b_data):
    """Cast two arrays to PyTorch's result dtype; the third value marks that a cast happened."""
    a_dtype = a_data.dtype
    b_dtype = b_data.dtype
    if a_dtype == b_dtype:
        return a_data, b_data, None
    common = result_type(a_dtype, b_dtype, a_data.ndim, b_data.ndim)
    if a_dtype != common:
        a_data = a_data.astype(common)
    if b_dtype != common:
        b_data = b_data.astype(common)
    return a_data, b_data, True


def _input_meta(a: Tensor, b: Tensor, out) -> tuple:
    """Per input, its (shape, dtype) where it differs from the output's, else None."""
    out_shape = out.shape
    out_dtype = out.dtype
    entries = []
    for tensor in (a, b):
        data = tensor._data
        same = data.shape == out_shape and data.dtype == out_dtype
        entries.append(None if same else (data.shape, data.dtype))
    return tuple(entries)


# ---------------------------------------------------------------- operand preparation
def as_tensor_operand(value, like: Tensor) -> Tensor:
    """A second operand that is not a plain Tensor: a Tensor subclass (same data and graph edge),
    or a NumPy array or scalar or a list (a constant)."""
    if isinstance(value, Tensor):
        return wrap(value._data, value._edge)  # a Tensor subclass: the same data and edge
    if isinstance(value, (xp.ndarray, xp.generic, BatchedArray)):
        return wrap(value, NO_EDGE)
    if isinstance(value, (list, tuple)):
        return creation.tensor(value)
    raise TypeError(f"unsupported operand type for a Tensor operation: '{type(value).__name__}'")


def lift_to_float(x: Tensor) -> Tensor:
    """Floating-point math on an integral tensor computes in the default float dtype."""
    if x._data.dtype.kind == "f":
        return x
    return lifted(x, x._data.astype(default_float.value.np))


def lifted(x: Tensor, data) -> Tensor:
    """``data``, ``x``'s data cast to a float dtype, as a Tensor that needs no gradient (an
    integral tensor has none). A trace (gradienti.compile) records the cast."""
    result = wrap(data, NO_EDGE)
    if TRACE_HOOK.active:
        TRACE_HOOK.on_lift(x, result)
    return result


def lift_for_scalar(x: Tensor, scalar) -> Tensor:
    """An integral tensor meeting a Python float computes in the default float dtype."""
    if type(scalar) is float and x._data.dtype.kind != "f":
        return lift_to_float(x)
    return x


def lift_for_division(x: Tensor, other) -> Tensor:
    """True division of integers gives the default float dtype (NumPy would give float64)."""
    if x._data.dtype.kind == "f":
        return x
    other_kind = other._data.dtype.kind if type(other) is Tensor else "f" * (type(other) is float)
    return x if other_kind == "f" else lift_to_float(x)


def compare(ufunc, a: Tensor, other) -> Tensor:
    if other is None:
        return ufunc is not xp.equal
    other_data = other._data if type(other) is Tensor else other
    if not isinstance(other_data, (xp.ndarray, xp.generic, int, float, bool)):
        other_data = as_tensor_operand(other, a)._data
    try:
        return wrap(ufunc(a._data, other_data), NO_EDGE)
    except ValueError:  # NumPy's text for shapes that do not broadcast: PyTorch's instead
        raise_if_not_broadcastable(a._data, other_data, hint=True)
        raise


def tensor_argument(value, function: str, argument: str, position: int) -> None:
    """PyTorch's TypeError for an argument that must be a Tensor."""
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{function}(): argument '{argument}' (position {position}) must be Tensor, "
            f"not {type(value).__name__}"
        )


def as_operand(value, like: Tensor) -> Tensor:
    """An operand as a plain Tensor: a Tensor subclass keeps its data and graph edge, a number
    or array becomes a constant in ``like``'s dtype (where's branches, ufunc forms in VJPs)."""
    if not isinstance(value, Tensor):
        return wrap(xp.asarray(value, dtype=like._data.dtype), NO_EDGE)
    return value if type(value) is Tensor else wrap(value._data, value._edge)
