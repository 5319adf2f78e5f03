"""``torch.autocast`` / ``torch.amp.autocast``: PyTorch's mixed-precision context manager.

gradienti computes every op in its tensors' own dtypes, so autocast changes no result here:
inside ``with torch.autocast("cpu"):`` a float32 matmul stays float32 (PyTorch's CPU autocast
would compute it in bfloat16). The object keeps PyTorch's arguments, checks and warnings (a
``"cuda"`` autocast on a machine without CUDA disables itself with PyTorch's warning), works as
a context manager and a decorator, and the first enabled one says once that nothing is cast.
"""

from __future__ import annotations

import functools
import threading
import warnings
from typing import Any

from .. import backend
from ..devices import _parse

# The dtype an autocast region of each device type uses when none is given (PyTorch's
# ``torch.get_autocast_dtype``); a device type missing here has no autocast.
_DEFAULT_FAST_DTYPES = {
    "cpu": backend.bfloat16,
    "cuda": backend.float16,
    "mps": backend.float16,
    "xpu": backend.float16,
    "ipu": backend.float16,
    "mtia": backend.float16,
    "hpu": backend.bfloat16,
    "xla": backend.bfloat16,
}
_SUPPORTED_FAST_DTYPES = (backend.bfloat16, backend.float16)

_NOTHING_IS_CAST = (
    "gradienti's autocast casts nothing: every op computes in its tensors' own dtypes "
    "(NumPy has no bfloat16), so results are those of the same code without autocast."
)


class _AutocastState(threading.local):
    """Per thread, as PyTorch's: which device types have autocast on, and in which dtype."""

    def __init__(self) -> None:
        self.enabled: dict[str, bool] = {}
        self.fast_dtype: dict[str, backend.dtype] = {}


_STATE = _AutocastState()
_warned_nothing_is_cast = False


def _warn_nothing_is_cast_once() -> None:
    global _warned_nothing_is_cast
    if not _warned_nothing_is_cast:
        _warned_nothing_is_cast = True
        warnings.warn(_NOTHING_IS_CAST, UserWarning, stacklevel=3)


def _default_fast_dtype(device_type: str) -> backend.dtype:
    kind, _index = _parse(device_type)
    found = _DEFAULT_FAST_DTYPES.get(kind)
    if found is None:
        raise RuntimeError("unsupported scalarType")
    return found


def is_autocast_available(device_type: str) -> bool:
    """Whether ``device_type`` has an autocast (its device need not exist: "cuda" has one)."""
    kind, _index = _parse(device_type)
    return kind in _DEFAULT_FAST_DTYPES or kind == "privateuseone"


def is_autocast_enabled(device_type: str = "cuda") -> bool:
    """Whether an enabled autocast region of ``device_type`` is active in this thread."""
    return _STATE.enabled.get(device_type, False)


def get_autocast_dtype(device_type: str) -> backend.dtype:
    """The dtype an autocast region of ``device_type`` names (set by the innermost region)."""
    return _STATE.fast_dtype.get(device_type) or _default_fast_dtype(device_type)


class autocast:  # noqa: N801 - PyTorch's public name
    """A mixed-precision region, as ``torch.autocast(device_type, dtype, enabled,
    cache_enabled)``. gradienti casts nothing in it (see the module's docstring)."""

    def __init__(
        self,
        device_type: str,
        dtype: backend.dtype | None = None,
        enabled: bool = True,
        cache_enabled: bool | None = None,
    ) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.fast_dtype = _default_fast_dtype(device_type) if dtype is None else dtype
        self.device = device_type
        self._cache_enabled = True if cache_enabled is None else cache_enabled
        if enabled:
            if device_type == "cuda":
                # gradienti is a CPU-only build: PyTorch's check for a CUDA device fails.
                warnings.warn(
                    "CUDA is not available or torch_xla is imported. Disabling autocast.",
                    UserWarning,
                    stacklevel=2,
                )
                enabled = False
            elif self.fast_dtype not in _SUPPORTED_FAST_DTYPES:
                name = device_type.upper()
                warnings.warn(
                    f"In {name} autocast, but the target dtype is not supported. Disabling "
                    f"autocast.\n{name} Autocast only supports dtypes of torch.bfloat16, "
                    "torch.float16 currently.",
                    UserWarning,
                    stacklevel=2,
                )
                enabled = False
        self._enabled = enabled

    def __enter__(self) -> autocast:
        if self._enabled:
            _warn_nothing_is_cast_once()
        self._previous = (
            _STATE.enabled.get(self.device, False),
            _STATE.fast_dtype.get(self.device),
        )
        _STATE.enabled[self.device] = bool(self._enabled)
        _STATE.fast_dtype[self.device] = self.fast_dtype
        return self

    def __exit__(self, exc_type: Any, exc_value: Any, traceback: Any) -> bool:
        enabled, fast_dtype = self._previous
        _STATE.enabled[self.device] = enabled
        if fast_dtype is None:
            _STATE.fast_dtype.pop(self.device, None)
        else:
            _STATE.fast_dtype[self.device] = fast_dtype
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                "Did you mean to use autocast as a context manager? For example:\n"
                "    with torch.autocast(device_type=...):\n"
                "        output = model(input)"
            )

        @functools.wraps(func)
        def run_in_region(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return run_in_region
