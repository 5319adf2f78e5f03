"""Hints appended to PyTorch's error texts: why a beginner's mistake failed.

The message of an error that carries a hint is PyTorch's text unchanged, a blank line, then one
or more lines that start with ``gradienti: `` (``with_hint``). So the first line still equals
what PyTorch says (tests compare it with torch's), and the exception class stays PyTorch's.
Hints are only built at raise time: nothing here runs on the plain path of an op or of a
backward pass.

Here: the hint of "element 0 of tensors does not require grad and does not have a grad_fn"
(``no_grad_fn_hint``, raised by autograd/engine.py for backward and autograd.grad). From the
tensor alone it can tell an integer dtype or an inference tensor; which other tensor lost the
graph, how and on which line of the user's code is recorded only while
``set_explain_errors(True)`` or anomaly detection is on (graph/provenance.py), and the hint
says how to turn that on. While it is on, Tensor's methods that lose the graph (``detach``,
``detach_``, ``.data``, ``.grad``, ``item``, ``tolist``, ``numpy``, ``float()``) are swapped for
recording versions.
"""

from __future__ import annotations

import sys
import warnings

# with_hint is the base layer's (the other beginner errors are raised below autograd)
from ..beginner_hints import with_hint  # noqa: F401 - engine.py and tests import it here
from ..graph.grad_mode import grad_state, is_inference_tensor
from ..graph.provenance import (
    CREATED,
    DATA,
    DETACHED,
    GRAD,
    INFERENCE,
    INTEGER,
    LIST_LIMIT,
    LISTENERS,
    NO_GRAD,
    PACKAGE_DIR,
    PROVENANCE,
    Provenance,
    note,
    note_extraction,
    provenance_of,
    set_source,
    user_location,
)
from ..tensor import NON_LEAF_GRAD_WARNING, Tensor, _say_once_scalar_of_requires_grad


# ---------------------------------------------------------------------- the switch
class set_explain_errors:  # noqa: N801 - named as PyTorch's switches (set_detect_anomaly)
    """``gradienti.set_explain_errors(True)``: record where tensors lose their graph, so that
    "does not require grad" errors say which tensor and at which line of your code.

    Global, as PyTorch's anomaly mode (every thread sees it; anomaly detection turns the same
    recording on). Set at once by the call; used as a context manager (``with
    gradienti.set_explain_errors(True):``) the previous setting returns on exit. Recording costs
    time on every op while it is on, and nothing while it is off."""

    def __init__(self, mode: bool) -> None:
        self.prev = PROVENANCE.explicit
        set_source("explicit", bool(mode))

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info) -> None:
        set_source("explicit", self.prev)


def is_explain_errors_enabled() -> bool:
    """Whether ``set_explain_errors(True)`` is on (anomaly detection records too, apart)."""
    return PROVENANCE.explicit


# ---------------------------------------------------------------------- recording methods
# Tensor's methods that lose the graph, swapped for these recording versions only while the
# recording is on (``_swap_methods``): the plain methods stay as they are otherwise.
_ORIGINALS: dict = {}


def _note_lost_graph(source: Tensor, result: Tensor, how: str, name: str) -> None:
    if source._edge is not None:
        note(result, Provenance(how, name, user_location()[0]))
    else:
        earlier = provenance_of(source)
        if earlier is not None:
            note(result, earlier)


def _had_graph(tensor: Tensor) -> bool:
    """Whether values taken out of ``tensor`` lose a graph: it has one, or it was cut from one."""
    if tensor._edge is not None:
        return True
    record = provenance_of(tensor)
    return record is not None and record.how in (DETACHED, DATA)


def _recording_detach(self: Tensor) -> Tensor:
    result = _ORIGINALS["detach"](self)
    _note_lost_graph(self, result, DETACHED, "detach")
    return result


def _recording_detach_(self: Tensor) -> Tensor:
    had_graph = self._edge is not None
    result = _ORIGINALS["detach_"](self)
    if had_graph:
        note(self, Provenance(DETACHED, "detach_", user_location()[0]))
    return result


def _recording_data_get(self: Tensor) -> Tensor:
    result = _ORIGINALS["data"].fget(self)
    _note_lost_graph(self, result, DATA, "data")
    return result


def _recording_data_set(self: Tensor, value) -> None:
    _ORIGINALS["data"].fset(self, value)


def _recording_grad_get(self: Tensor):
    grad = self._grad
    if grad is None:
        # Tensor.grad's getter written out here rather than called: its warning
        # (stacklevel=2) must point at the user's line, not at this wrapper.
        if not self.is_leaf and not self.retains_grad:
            warnings.warn(NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return None
    if grad._edge is None:
        # The line is the user's latest read: an optimizer's or clip_grad_norm_'s read (inside
        # gradienti) is not where the user took the gradient, so it records no line.
        caller = sys._getframe(1)
        if not caller.f_code.co_filename.startswith(PACKAGE_DIR):
            note(grad, Provenance(GRAD, "grad", (caller.f_code.co_filename, caller.f_lineno)))
        elif provenance_of(grad) is None:
            note(grad, Provenance(GRAD, "grad", None))
    return grad


def _recording_grad_set(self: Tensor, value) -> None:
    _ORIGINALS["grad"].fset(self, value)


def _recording_grad_delete(self: Tensor) -> None:
    _ORIGINALS["grad"].fdel(self)


def _recording_item(self: Tensor):
    value = _ORIGINALS["item"](self)
    if _had_graph(self):
        note_extraction(".item()", value)
    return value


def _recording_tolist(self: Tensor):
    value = _ORIGINALS["tolist"](self)
    if self._data.size <= LIST_LIMIT and _had_graph(self):
        note_extraction(".tolist()", value)
    return value


def _recording_numpy(self: Tensor, *, force: bool = False):
    array = _ORIGINALS["numpy"](self, force=force)
    if _had_graph(self):
        note_extraction(".numpy()", array)
    return array


def _recording_float(self: Tensor) -> float:
    # Tensor.__float__ written out here rather than called: its once-per-process warning
    # (stacklevel=3 from the helper) must point at the user's line, not at this wrapper.
    if self._edge is not None and grad_state.enabled:
        _say_once_scalar_of_requires_grad()
    value = float(self._scalar_for_conversion())
    if _had_graph(self):
        note_extraction("float()", value)
    return value


_RECORDING = {
    "detach": _recording_detach,
    "detach_": _recording_detach_,
    "data": property(_recording_data_get, _recording_data_set, doc=Tensor.data.__doc__),
    "grad": property(
        _recording_grad_get,
        _recording_grad_set,
        _recording_grad_delete,
        doc=Tensor.grad.__doc__,
    ),
    "item": _recording_item,
    "tolist": _recording_tolist,
    "numpy": _recording_numpy,
    "__float__": _recording_float,
}


def _swap_methods(active: bool) -> None:
    if active:
        for name, replacement in _RECORDING.items():
            _ORIGINALS[name] = Tensor.__dict__[name]
            setattr(Tensor, name, replacement)
    else:
        for name, original in _ORIGINALS.items():
            setattr(Tensor, name, original)
        _ORIGINALS.clear()


LISTENERS.append(_swap_methods)


# ---------------------------------------------------------------------- the hint
_SWITCH_ADVICE = (
    "call gradienti.set_explain_errors(True) (or run under torch.autograd.detect_anomaly()) "
    "before computing it, and this message will say where it lost its graph"
)


def no_grad_fn_hint(tensor: Tensor) -> list:
    """Why ``tensor`` (an output given to backward or autograd.grad) has no graph."""
    record = provenance_of(tensor)
    lines = []
    if tensor._data.dtype.kind not in "fc":
        lines.append(
            f"the tensor is of dtype {tensor.dtype}: only floating point and complex tensors "
            "can require grad, so no operation records a graph for it (argmax, comparisons, "
            ".long() and integer arithmetic give such tensors); compute the loss from floating "
            "point tensors"
        )
        if record is not None:
            lines.extend(_describe(record, "the tensor"))
        return lines
    if record is not None:
        return _describe(record, "the tensor")
    if is_inference_tensor(tensor):
        return [
            "the tensor was created inside inference_mode(), which records no graph; compute it "
            "outside inference_mode() (or use no_grad() only around the updates)"
        ]
    lines.append(
        "the tensor does not require grad: it, or every tensor it was computed from, was created "
        "without requires_grad=True, .detach()ed (or taken from .data), computed under "
        "no_grad()/inference_mode(), or rebuilt from numbers taken out with .item(), "
        ".tolist(), float() or .numpy()"
    )
    if not grad_state.enabled:
        lines.append("grad mode is off here (inside no_grad() or set_grad_enabled(False))")
    if PROVENANCE.active:
        lines.append(
            "it was made before gradienti.set_explain_errors(True) was on, or by a function "
            "that does not record its history, so where is not known"
        )
    else:
        lines.append(_SWITCH_ADVICE)
    return lines


def _at(where) -> str:
    return "" if where is None else f" at {where[0]}:{where[1]}"


def _describe(record: Provenance, subject: str) -> list:
    """The lines telling ``record``; ``subject`` names the tensor it belongs to."""
    how, at = record.how, _at(record.where)
    if how == NO_GRAD:
        return [
            f"{subject} was computed by {record.name}{at} while grad mode was off (inside "
            "no_grad() or set_grad_enabled(False)), which records no graph; compute the loss "
            "outside that block"
        ]
    if how == INFERENCE:
        return [
            f"{subject} was computed by {record.name}{at} inside inference_mode(), which "
            "records no graph; compute the loss outside that block"
        ]
    if how == DETACHED:
        return [
            f"{subject} was cut from the graph by .{record.name}(){at}: a detached tensor shares "
            "the values but not the graph; compute with the tensor itself to let gradients flow"
        ]
    if how == DATA:
        return [
            f"{subject} was cut from the graph by .data{at}: .data shares the values but not "
            "the graph; compute with the tensor itself to let gradients flow"
        ]
    if how == GRAD:
        read = "" if record.where is None else f" (last read by your code{at})"
        return [
            f"{subject} is a .grad{read}: a gradient is stored without a graph; to "
            "differentiate through it, make it with backward(create_graph=True) or "
            "torch.autograd.grad(..., create_graph=True)"
        ]
    if how == INTEGER:
        return [
            f"{subject} is of dtype {record.name}, which cannot require grad: integer results "
            "(argmax, comparisons, .long()) have no graph, and neither has what is computed "
            "from them alone"
        ]
    if how == CREATED:
        source = record.source
        if source is not None:
            # A guess from equal values: said as one (a constant may just be equal).
            return [
                f"{subject} was created by {record.name}(){at} without requires_grad=True, "
                f"probably from the values that {source.how} took out of a tensor with a "
                f"graph{_at(source.where)} (they are equal): Python numbers and NumPy arrays "
                "carry no graph; keep computing with the tensor itself"
            ]
        return [
            f"{subject} was created by {record.name}(){at} without requires_grad=True: pass "
            "requires_grad=True (or call .requires_grad_()) for the tensors you want "
            "gradients of"
        ]
    lines = [
        f"{subject} was computed by {record.name}{at} from tensors none of which requires grad"
    ]
    if record.frozen:
        lines.append(
            "parameters with requires_grad=False (frozen) went into it: call .requires_grad_() "
            "on the parameters you want to train"
        )
    if record.root is not None:
        lines.extend(_describe(record.root, "the tensor it came from"))
    elif not record.frozen:
        lines.append(
            "they were created without requires_grad=True (or before "
            "gradienti.set_explain_errors(True) was on)"
        )
    return lines
