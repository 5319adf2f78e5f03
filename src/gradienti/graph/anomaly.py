"""Anomaly detection's state and its two checks, below the layers that use them.

PyTorch's anomaly mode is one global switch (not per thread): ``ANOMALY.enabled`` and
``ANOMALY.check_nan``, set by ``autograd.set_detect_anomaly`` / ``detect_anomaly``
(autograd/anomaly_mode.py). While it is on:

- every op takes the special path (it counts as a special mode, graph/grad_mode.py), where the
  recorder keeps on each node the stack of the forward call that made it (``forward_trace``;
  the plain path never looks);
- every backward pass runs the reference loop (``REFERENCE_LOOP``), which warns with that stack
  when a node fails (``warn_forward_trace``) and, with ``check_nan``, refuses a VJP that returns
  NaN (``raise_if_nan``).
"""

from __future__ import annotations

import linecache
import os
import sys
import threading
import warnings

from ..backend import xp
from .grad_mode import enter_special, leave_special
from .node import special_entry
from .provenance import set_source as set_provenance_source

# Why ``loss.backward()``'s fast path (autograd/engine.py) hands the pass to the reference loop:
# one entry while anomaly mode is on, one per node whose saved values saved-tensor hooks packed
# (ops/saved_tensors.py). A list, so that adding and removing an entry is atomic from any thread
# (a packed node may die in any thread); the fast path tests it once per backward call. The
# entries are all None, so that any one that goes may be the last (``pop``): a packed node
# that dies while anomaly mode is on does not take the mode's entry.
REFERENCE_LOOP: list = []

# gradienti's own files: a stack shown to the user (a forward trace, a warning's stacklevel)
# leaves them out.
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_lock = threading.Lock()


class _AnomalyState:
    __slots__ = ("enabled", "check_nan")

    def __init__(self) -> None:
        self.enabled = False
        self.check_nan = True


ANOMALY = _AnomalyState()


def set_anomaly_enabled(enabled: bool, check_nan: bool = True) -> None:
    """PyTorch's ``torch.set_anomaly_enabled``: global, for every thread."""
    enabled = bool(enabled)
    with _lock:
        if enabled and not ANOMALY.enabled:
            enter_special()
            REFERENCE_LOOP.append(None)
        elif not enabled and ANOMALY.enabled:
            leave_special()
            REFERENCE_LOOP.pop()
        ANOMALY.enabled = enabled
        ANOMALY.check_nan = bool(check_nan)
    # Anomaly mode also records where tensors lost their graph (graph/provenance.py), for the
    # hint of "does not require grad" errors.
    set_provenance_source("anomaly", enabled)


class ForwardTrace:
    """Where a node was made: the stack of the forward call, outermost frame first, as
    ``(filename, line number, function name)``, without gradienti's own frames (the user's
    line is last); ``parent``: the node whose backward made this node (a node
    recorded by a backward pass under ``create_graph``), else None. The source lines are read
    only when a warning shows them."""

    __slots__ = ("frames", "parent")

    def __init__(self, frames: tuple, parent) -> None:
        self.frames = frames
        self.parent = parent

    def text(self) -> str:
        """The frames as ``traceback.format_stack`` writes them."""
        lines = []
        for filename, lineno, name in self.frames:
            lines.append(f'  File "{filename}", line {lineno}, in {name}\n')
            source = linecache.getline(filename, lineno).strip()
            if source:
                lines.append(f"    {source}\n")
        return "".join(lines)


class _Backward(threading.local):
    """The node whose VJP is being recorded in this thread (``create_graph``), if any."""

    def __init__(self) -> None:
        self.node = None


RUNNING = _Backward()


def forward_trace() -> ForwardTrace:
    """The stack of the caller's forward call (see ForwardTrace): a walk over the frames,
    with no source lines read (that is done only for a warning). gradienti's own frames are
    left out (the op's, and the engine's around a user's backward that recorded the node)."""
    frames = []
    frame = sys._getframe(1)
    while frame is not None:
        code = frame.f_code
        if not code.co_filename.startswith(PACKAGE_DIR):
            frames.append((code.co_filename, frame.f_lineno, code.co_name))
        frame = frame.f_back
    frames.reverse()
    return ForwardTrace(tuple(frames), RUNNING.node)


def warn_forward_trace(node) -> None:
    """PyTorch's warnings for a node that failed in backward: where it was made, then, for a
    node made by a backward pass, where each node that led to it was made."""
    trace = special_entry(node, "trace")
    if trace is None:
        warnings.warn(
            f"Error detected in {node.name()}. No forward pass information available. Enable "
            "detect anomaly during forward pass for more information.",
            UserWarning,
            stacklevel=3,
        )
        return
    warnings.warn(
        f"Error detected in {node.name()}. Traceback of forward call that caused the error:\n"
        + trace.text(),
        UserWarning,
        stacklevel=3,
    )
    parent = trace.parent
    while parent is not None:
        trace = special_entry(parent, "trace")
        if trace is None:
            break
        warnings.warn(
            f"\n\nPrevious calculation was induced by {parent.name()}. Traceback of forward "
            "call that induced the previous calculation:\n" + trace.text(),
            UserWarning,
            stacklevel=3,
        )
        parent = trace.parent


def raise_if_nan(node, results: tuple) -> None:
    """PyTorch's error for a VJP that returned NaN: ``results`` holds one gradient (an array,
    a NumPy scalar, a Tensor or None) per input of ``node``."""
    for position, value in enumerate(results):
        if value is None:
            continue
        array = getattr(value, "_data", value)
        if xp.asarray(array).dtype.kind in "fc" and xp.isnan(array).any():
            raise RuntimeError(
                f"Function '{node.name()}' returned nan values in its {position}th output."
            )
