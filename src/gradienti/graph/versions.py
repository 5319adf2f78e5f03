"""Version counters: detect a saved array that was modified in place before backward.

PyTorch counts, per tensor (shared with its views), how often it was modified in place; a node
records the versions of what it saved and refuses to run if they changed. Here the counter
belongs to the memory: the root array of a NumPy view chain (``array.base`` ...), so every
view of the same memory shares it. Arrays never modified in place have no entry, and while no
array has one (the usual case) saving and checking cost one truthiness test of ``MODIFIED``.

``x.data`` is the exception, as in PyTorch: it shares ``x``'s memory under a counter of its own,
so writing through it is not seen by the nodes that saved ``x`` (``untracked_alias``).
"""

from __future__ import annotations

import re
import weakref

from ..backend import LEGACY_TYPE_NAMES, from_numpy_dtype, xp
from ..batching import BatchedArray
from .compile_hook import HOOK as TRACE_HOOK
from .node import SAVE_OUTPUT, AccumulateGrad, edge_parts

_ndarray = xp.ndarray

# id(root array) -> [version, weak reference that removes the entry when the array dies,
#                    the name of the op that last modified it in place, for the error message]
MODIFIED: dict[int, list] = {}


def _root(array):
    """The array that owns the memory behind ``array`` (the end of its chain of views)."""
    base = array.base
    while type(base) is _ndarray:
        array = base
        base = array.base
    return array


def version(value) -> int:
    """How often the memory behind ``value`` was modified in place (0 for NumPy scalars)."""
    if type(value) is not _ndarray or not MODIFIED:
        return 0
    entry = MODIFIED.get(id(_root(value)))
    return 0 if entry is None else entry[0]


def bump(array, to: int | None = None, by=None) -> int:
    """Count one in-place modification of ``array``'s memory (or set the count to ``to``);
    ``by`` is the node of the recorded op that made it, if any."""
    if TRACE_HOOK.active:  # an in-place write while gradienti.compile traces: a graph break
        TRACE_HOOK.on_write(array)
    root = _root(array)
    key = id(root)
    entry = MODIFIED.get(key)
    if entry is None:
        forget = weakref.ref(root, lambda _ref, key=key: MODIFIED.pop(key, None))
        entry = MODIFIED[key] = [0, forget, None]
    entry[0] = entry[0] + 1 if to is None else to
    entry[2] = None if by is None else forward_name(by)
    return entry[0]


def record(saved: tuple):
    """The versions of saved values, kept by a node while some array has been modified: None
    when every one is 0 (the usual case, and what ``check`` reads None as).

    Written out, without ``version`` and ``_root`` calls: while any modified array is alive
    (in every training loop, whose optimizer writes the parameters in place) this runs for
    every recorded op, and ``check`` for every node backward runs.
    """
    versions = None
    get = MODIFIED.get
    for position, value in enumerate(saved):
        if type(value) is _ndarray:
            base = value.base
            entry = get(id(value)) if type(base) is not _ndarray else get(id(_root(base)))
            if entry is not None and entry[0]:
                if versions is None:
                    versions = [0] * len(saved)
                versions[position] = entry[0]
    return None if versions is None else tuple(versions)


def check(node) -> None:
    """PyTorch's error when a value the node saved was modified in place since."""
    expected = getattr(node, "_versions", None)
    get = MODIFIED.get
    for position, value in enumerate(node._saved):
        if type(value) is not _ndarray:
            continue  # a NumPy scalar is immutable
        base = value.base
        entry = get(id(value)) if type(base) is not _ndarray else get(id(_root(base)))
        now = 0 if entry is None else entry[0]
        was = 0 if expected is None else expected[position]
        if now != was:
            raise modified_error(_describe(node, position, value), now, was)


def modified_error(description: str, now: int, was: int) -> RuntimeError:
    """PyTorch's error for a saved tensor (``description``) modified in place since saved."""
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: {description} is at version {now}; expected version {was} "
        "instead. Hint: enable anomaly detection to find the operation that failed to compute "
        "its gradient, with torch.autograd.set_detect_anomaly(True, check_nan=False)."
    )


def tensor_text(value) -> str:
    """``[torch.FloatTensor [3]]``: a saved array as PyTorch's error names it."""
    name = LEGACY_TYPE_NAMES[from_numpy_dtype(value.dtype).name]
    return f"[torch.{name} {list(value.shape)}]"


def untracked_alias(array):
    """``array``'s memory under a version counter of its own, as PyTorch's ``x.data``.

    An ndarray made from a memoryview has that memoryview, not an ndarray, as its base, so its
    view chain (and that of every view of it) ends at itself: ``_root`` gives it its own entry.
    """
    if type(array) is BatchedArray:  # (vmap: a new holder of the same samples)
        return BatchedArray(array.physical, array.level)
    return xp.asarray(memoryview(array))


def unaliased(array):
    """The array an ``untracked_alias`` was made of, else ``array`` itself: ``x.data -= d``
    (which assigns ``x.data``) leaves ``x`` with its own memory and counter, as in PyTorch."""
    view = array.base
    if type(view) is not memoryview:
        return array
    original = view.obj
    # The whole of an ndarray, seen as it is (not a slice or a cast of the memoryview).
    if (
        type(original) is _ndarray
        and original.dtype == array.dtype
        and original.shape == view.shape
        and original.strides == view.strides
    ):
        return original
    return array


def _describe(node, position: int, value) -> str:
    """``[torch.FloatTensor [3]], which is output 0 of Sigmoid,`` as PyTorch words it."""
    text = tensor_text(value)
    if node.save & SAVE_OUTPUT and position == len(node._saved) - 1:
        return f"{text}, which is output 0 of {forward_name(node)},"
    if position >= len(node._next):
        # A multi-output node's saved outputs follow its inputs (linalg's decompositions).
        return f"{text}, which is output {position - len(node._next)} of {forward_name(node)},"
    # A saved input: PyTorch names the saved tensor's current grad_fn, so an input that did
    # not require grad (a constant, a detached tensor) or a leaf gets no clause; one that was
    # written in place since is named after the op that wrote it.
    producer, output_nr = edge_parts(node._next[position])
    if producer is None or type(producer) is AccumulateGrad:
        return text
    entry = MODIFIED.get(id(_root(value)))
    if entry is not None and entry[2] is not None:
        return f"{text}, which is output 0 of {entry[2]},"
    return f"{text}, which is output {output_nr} of {forward_name(producer)},"


def forward_name(node) -> str:
    """``AddBackward0`` -> ``Add``, as PyTorch's message names the op."""
    return re.sub(r"Backward\d*$", "", type(node).__name__)
