"""Whether operations record the graph: no_grad, enable_grad, set_grad_enabled, inference_mode.

The state is thread-local, as in PyTorch: ``grad_state.enabled``. A thread-local read costs
~45 ns, a tenth of an op's whole bookkeeping on a scalar, so every change of the state is also
counted in ``MODES.count``: the number of threads whose grad mode is off, plus the number of
special modes switched on (``MODES.special``: a forward-AD level, anomaly detection, saved-tensor
hooks; see ``enter_special``). While it is 0 (the common case: outside ``no_grad``, no special
mode; a plain ``backward()`` leaves the mode alone) an op takes the plain path with one test and
no thread-local read (see ops/apply.py). A thread that ends with grad mode off leaves the count
above 0, which only costs speed.

``inference_mode()`` is a special mode too: while it is on, every op takes the special path,
whose ``record_special`` records no graph (even under enable_grad, as PyTorch) and marks its
outputs (not views) as inference tensors, as the factories
(creation._finish) mark theirs; ``Tensor.is_inference()`` reads the mark. ``MODES.inference``
counts the threads in inference mode, so outside it the mark costs one attribute read.
"""

from __future__ import annotations

import functools
import threading
import weakref


class _OpModes:
    """``count``: threads with grad mode off + ``special``; ``special``: special modes on;
    ``inference``: threads in inference mode (each also counted in ``special``)."""

    __slots__ = ("count", "special", "inference")

    def __init__(self) -> None:
        self.count = 0
        self.special = 0
        self.inference = 0


MODES = _OpModes()
_count_lock = threading.Lock()


def enter_special() -> None:
    """A special mode goes on: ops take the special path (``ops/apply.record_special``)."""
    with _count_lock:
        MODES.special += 1
        MODES.count += 1


def leave_special() -> None:
    """A special mode goes off (once per ``enter_special``)."""
    with _count_lock:
        MODES.special -= 1
        MODES.count -= 1


class _GradState(threading.local):
    def __init__(self) -> None:
        self._enabled = True
        self.inference = False

    @property
    def enabled(self) -> bool:
        return self._enabled

    @enabled.setter
    def enabled(self, value) -> None:
        value = bool(value)
        with _count_lock:
            if value is not self._enabled:
                MODES.count += -1 if value else 1
            self._enabled = value


grad_state = _GradState()


def is_grad_enabled() -> bool:
    return grad_state.enabled


def is_inference_mode_enabled() -> bool:
    return grad_state.inference


class _GradModeContext:
    """A context manager that is also a decorator; the previous state returns on any exit.

    As a decorator it enters a fresh copy (``clone``) on every call, so a decorated function
    may call itself or run in several threads.
    """

    def __new__(cls, *args, **kwargs):
        # ``@no_grad`` without parentheses decorates at once, as in PyTorch.
        if cls._takes_bare_function and len(args) == 1 and callable(args[0]) and not kwargs:
            return cls()(args[0])
        return super().__new__(cls)

    _takes_bare_function = True

    def __call__(self, func):
        make_context = self.clone

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with make_context():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):  # noqa: N801 - PyTorch's public name
    """Operations inside do not record a graph: ``with torch.no_grad(): w -= lr * w.grad``."""

    def __enter__(self) -> None:
        self._previous = grad_state.enabled
        grad_state.enabled = False

    def __exit__(self, *exc_info) -> None:
        grad_state.enabled = self._previous

    def clone(self) -> no_grad:
        return no_grad()


class enable_grad(_GradModeContext):  # noqa: N801
    def __enter__(self) -> None:
        self._previous = grad_state.enabled
        grad_state.enabled = True

    def __exit__(self, *exc_info) -> None:
        grad_state.enabled = self._previous

    def clone(self) -> enable_grad:
        return enable_grad()


class set_grad_enabled(_GradModeContext):  # noqa: N801
    """Sets the mode at once (as a plain call, like PyTorch) and restores it after ``with``."""

    _takes_bare_function = False

    def __init__(self, mode: bool) -> None:
        self._previous = grad_state.enabled
        self._mode = bool(mode)
        grad_state.enabled = self._mode

    def __call__(self, func):
        # Decorating must not leave the mode switched: undo what __init__ did.
        grad_state.enabled = self._previous
        return super().__call__(func)

    def __enter__(self) -> None:
        grad_state.enabled = self._mode

    def __exit__(self, *exc_info) -> None:
        grad_state.enabled = self._previous

    def clone(self) -> set_grad_enabled:
        return set_grad_enabled(self._mode)


class inference_mode(_GradModeContext):  # noqa: N801
    """Grad mode off, and the tensors made inside are inference tensors (``is_inference()``).
    ``mode=False`` switches both back on inside (grad mode on, as PyTorch's guard does)."""

    def __init__(self, mode: bool = True) -> None:
        self._mode = bool(mode)

    def __enter__(self) -> None:
        self._previous = (grad_state.enabled, grad_state.inference)
        grad_state.enabled = not self._mode
        self._set_inference(self._mode)

    def __exit__(self, *exc_info) -> None:
        enabled, inference = self._previous
        grad_state.enabled = enabled
        self._set_inference(inference)

    @staticmethod
    def _set_inference(value: bool) -> None:
        if value is grad_state.inference:
            return
        grad_state.inference = value
        if value:
            enter_special()
        else:
            leave_special()
        with _count_lock:
            MODES.inference += 1 if value else -1

    def clone(self) -> inference_mode:
        return inference_mode(self._mode)


# ---------------------------------------------------------------------- inference tensors
# id(tensor) -> a weak reference to it, for the tensors made in inference mode. (Not a WeakSet:
# its lookups compare live tensors with ==, which is elementwise on Tensors.)
_INFERENCE_TENSORS: dict[int, weakref.ref] = {}


def mark_inference(result) -> None:
    """Marks ``result`` (a Tensor or a tuple of them) as made in inference mode."""
    for tensor in result if type(result) is tuple else (result,):
        key = id(tensor)
        _INFERENCE_TENSORS[key] = weakref.ref(tensor, functools.partial(_forget, key))


def _forget(key: int, reference: weakref.ref) -> None:
    if _INFERENCE_TENSORS.get(key) is reference:
        del _INFERENCE_TENSORS[key]


def is_inference_tensor(tensor) -> bool:
    if not _INFERENCE_TENSORS:
        return False
    reference = _INFERENCE_TENSORS.get(id(tensor))
    return reference is not None and reference() is tensor


def in_inference_mode_here() -> bool:
    """Whether this thread is in inference mode (one attribute read while no thread is)."""
    return bool(MODES.inference) and grad_state.inference
