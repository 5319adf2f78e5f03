"""Where tensors without a graph came from, recorded only while error explanations are on.

"element 0 of tensors does not require grad" is PyTorch's text for a loss with no ``grad_fn``;
the tensor alone does not say how it lost its graph (computed under ``no_grad()``,
``.detach()``ed, rebuilt from ``.item()``, made without ``requires_grad=True``). While
``gradienti.set_explain_errors(True)`` or anomaly detection is on (one global switch, as
PyTorch's anomaly mode: every thread sees it), this module records that history for the tensors
made without a graph, and autograd/error_hints.py tells it after PyTorch's text.

It costs the plain path nothing: while it is on it counts as a special mode (``enter_special``),
so ops take ``apply.record_special``, which calls ``note_op``; it also counts in
``MODES.inference``, the one test the factories already make (``creation._finish`` calls
``note_creation`` behind it; the test for inference tensors there reads the thread's own flag
too, so this extra count marks nothing). The tensor methods that lose the graph (``detach``,
``.data``, ``.grad``, ``.item()``, ...) are swapped for recording versions by the listeners
(autograd/error_hints.py) only while it is on.

Records are kept per tensor by id, with a weak reference: a record goes with its tensor. A
record made from other records keeps only their root cause, so chains stay two long.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import weakref

from .grad_mode import MODES, _count_lock, enter_special, grad_state, leave_special

# How a tensor came to have no graph (``Provenance.how``).
NO_GRAD = "no_grad"  # an op ran while grad mode was off
INFERENCE = "inference_mode"  # an op ran in inference mode
FROM_CONSTANTS = "from_constants"  # an op whose inputs all had no graph
CREATED = "created"  # a factory (tensor(), zeros(), ...) without requires_grad=True
DETACHED = "detach"  # .detach() of a tensor with a graph
DATA = "data"  # .data of a tensor with a graph
GRAD = "grad"  # a leaf's .grad (a gradient is stored without a graph)
INTEGER = "integer"  # an input of an integer or bool dtype, which no op records a graph for

# gradienti's own files: the location shown is the first frame outside them (the user's line).
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class Provenance:
    """How a tensor without a graph was made: ``how`` (one of the names above), ``name`` (the op
    or factory), ``where`` ((file, line) of the user's code, or None); for ``FROM_CONSTANTS``
    ``root``, the record of an input (its root cause), and ``frozen``, whether parameters with
    ``requires_grad=False`` went into it; for ``CREATED`` ``source``, the
    ``Extraction`` its values seem to come from."""

    __slots__ = ("how", "name", "where", "root", "frozen", "source")

    def __init__(self, how, name, where, root=None, frozen=False, source=None) -> None:
        self.how = how
        self.name = name
        self.where = where
        self.root = root
        self.frozen = frozen
        self.source = source


class Extraction:
    """Values taken out of a tensor with a graph: ``how`` (``.item()``, ``float()``, ...),
    ``where``, and ``value`` (a Python number or list, or a weak reference to the NumPy
    array)."""

    __slots__ = ("how", "where", "value")

    def __init__(self, how: str, where, value) -> None:
        self.how = how
        self.where = where
        self.value = value


class _State:
    """``explicit``: ``set_explain_errors``'s switch; ``anomaly``: anomaly detection is on;
    ``active``: either (what the recorders test)."""

    __slots__ = ("explicit", "anomaly", "active")

    def __init__(self) -> None:
        self.explicit = False
        self.anomaly = False
        self.active = False


PROVENANCE = _State()
# Called with the new ``active`` value when it changes (autograd/error_hints swaps Tensor's
# graph-losing methods for recording ones).
LISTENERS: list = []
_lock = threading.Lock()

# id(tensor) -> (weak reference to it, its Provenance).
_RECORDS: dict[int, tuple] = {}
# The latest values taken out of tensors with a graph, newest last: a tensor created from equal
# values is said to come from them.
_EXTRACTIONS: collections.deque = collections.deque(maxlen=32)
# The most elements of a .tolist() kept there: a list is a copy, and 32 lists of a big output
# logged every step would hold far more memory than the guess is worth.
LIST_LIMIT = 4096


def set_source(source: str, on: bool) -> None:
    """Switch one reason to record on or off: ``"explicit"`` or ``"anomaly"``."""
    with _lock:
        setattr(PROVENANCE, source, bool(on))
        active = PROVENANCE.explicit or PROVENANCE.anomaly
        if active is PROVENANCE.active:
            return
        if active:
            enter_special()
        else:
            leave_special()
        with _count_lock:
            MODES.inference += 1 if active else -1
        PROVENANCE.active = active
        if not active:
            _EXTRACTIONS.clear()
        for listener in LISTENERS:
            listener(active)


def user_location(depth: int = 2):
    """((file, line) of the first caller outside gradienti, or None; the name of the function
    of gradienti it called, or None). ``depth``: frames to skip (this one and its caller)."""
    try:
        frame = sys._getframe(depth)
    except ValueError:  # called with no caller of Python's (a thread started on t.item)
        return None, None
    called = None
    while frame is not None and frame.f_code.co_filename.startswith(PACKAGE_DIR):
        called = frame.f_code.co_name
        frame = frame.f_back
    if frame is None:
        return None, called
    return (frame.f_code.co_filename, frame.f_lineno), called


def note(tensor, record: Provenance) -> None:
    """Keep ``record`` as long as ``tensor`` lives."""
    key = id(tensor)

    def forget(reference, key=key) -> None:
        entry = _RECORDS.get(key)
        if entry is not None and entry[0] is reference:
            _RECORDS.pop(key, None)

    _RECORDS[key] = (weakref.ref(tensor, forget), record)


def provenance_of(tensor) -> Provenance | None:
    entry = _RECORDS.get(id(tensor))
    if entry is None or entry[0]() is not tensor:
        return None
    return entry[1]


def op_name(node) -> str:
    """The op's name from its node's: ``PowBackward0`` -> ``pow``."""
    name = type(node).__name__
    cut = name.find("Backward")
    return (name[:cut] if cut > 0 else name).lower()


def _is_frozen_parameter(value) -> bool:
    # nn.Parameter lives above this layer: known by its class name (a Tensor subclass).
    return type(value).__name__ == "Parameter" and value._edge is None


def note_op(node, inputs: tuple, results) -> None:
    """Called by ``apply.record_special`` while recording is on: the outputs without a graph
    get the op's record."""
    outputs = results if type(results) is tuple else (results,)
    if all(output._edge is not None for output in outputs):
        return
    where, _ = user_location(3)
    if grad_state.inference:
        record = Provenance(INFERENCE, op_name(node), where)
    elif not grad_state.enabled:
        record = Provenance(NO_GRAD, op_name(node), where)
    elif any(getattr(value, "_edge", None) is not None for value in inputs):
        return  # (an output the op does not differentiate, as argmax's indices: its dtype says)
    else:
        root, frozen = None, False
        for value in inputs:
            if _is_frozen_parameter(value):
                frozen = True
            earlier = provenance_of(value)
            if earlier is None:
                if root is None and hasattr(value, "_data") and value._data.dtype.kind in "biu":
                    root = Provenance(INTEGER, str(value.dtype), None)
                continue
            if earlier.how == FROM_CONSTANTS:
                frozen = frozen or earlier.frozen
                earlier = earlier.root
            if root is None:
                root = earlier
        record = Provenance(FROM_CONSTANTS, op_name(node), where, root, frozen)
    for output in outputs:
        if output._edge is None:
            note(output, record)


def note_creation(tensor, array) -> None:
    """Called by the factories (``creation._finish``) while recording is on, for a tensor made
    without requires_grad."""
    where, factory = user_location(3)
    if factory is None or factory.startswith("_"):
        # Made inside a function of gradienti that is no factory (a module's __init__ making a
        # buffer): the hint names the factory that made it, as "zeros()", not "__init__()".
        frame = sys._getframe(2)  # the function that called creation._finish
        while frame is not None and frame.f_code.co_name.startswith("_"):
            frame = frame.f_back
        if frame is not None and frame.f_code.co_filename.startswith(PACKAGE_DIR):
            factory = frame.f_code.co_name
    note(tensor, Provenance(CREATED, factory, where, source=_extraction_matching(array)))


def note_extraction(how: str, value, depth: int = 3) -> None:
    """Values taken out of a tensor with a graph (``.item()``, ``float()``, ``.tolist()``,
    ``.numpy()``)."""
    where, _ = user_location(depth)
    if hasattr(value, "shape"):
        # A weak reference: the array shares the tensor's memory, and holding 32 of them (a
        # model's outputs taken out every step) would keep that memory alive.
        value = weakref.ref(value)
    _EXTRACTIONS.append(Extraction(how, where, value))


def _extraction_matching(array) -> Extraction | None:
    """The newest extraction whose values equal ``array``'s (a guess: equal values)."""
    # A copy (taken at once, under the GIL): another thread may take values out meanwhile, and
    # iterating the deque itself would then raise "deque mutated during iteration".
    for extraction in reversed(tuple(_EXTRACTIONS)):
        value = extraction.value
        if type(value) is weakref.ref:
            value = value()
            if value is None:  # (gone: a tensor made now can only hold a copy of it)
                continue
        try:
            if hasattr(value, "shape"):  # a NumPy array from .numpy()
                same = value is array or (
                    value.shape == array.shape and bool((value == array).all())
                )
            elif isinstance(value, list):
                same = array.tolist() == value
            else:
                same = array.size == 1 and array.reshape(-1)[0] == value
        except (TypeError, ValueError):
            continue
        if same:
            return extraction
    return None
