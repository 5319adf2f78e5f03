"""Anomaly detection, as ``torch.autograd.anomaly_mode``: ``detect_anomaly`` and
``set_detect_anomaly``, and the switches PyTorch keeps at ``torch.`` level
(``is_anomaly_enabled``, ``is_anomaly_check_nan_enabled``, ``set_anomaly_enabled``).

While it is on (one global switch, as in PyTorch: every thread sees it), each node recorded
keeps the stack of the forward call that made it; a node that fails in backward warns with
that stack (the user's file and line), and with ``check_nan`` a VJP that returns NaN raises
PyTorch's RuntimeError. How: graph/anomaly.py.
"""

from __future__ import annotations

import functools
import warnings

from ..graph.anomaly import ANOMALY, set_anomaly_enabled

__all__ = ["detect_anomaly", "set_detect_anomaly"]


def is_anomaly_enabled() -> bool:
    return ANOMALY.enabled


def is_anomaly_check_nan_enabled() -> bool:
    return ANOMALY.check_nan


class detect_anomaly:  # noqa: N801 - PyTorch's public name
    """A context manager that turns anomaly detection on (``check_nan``: whether a backward
    that returns NaN raises) and restores the previous setting on exit. Constructing it warns,
    as PyTorch does. gradienti also takes it as a decorator (``@detect_anomaly()``), which
    PyTorch 2.13's class does not offer."""

    def __init__(self, check_nan: bool = True) -> None:
        self.prev = ANOMALY.enabled
        self.check_nan = check_nan
        self.prev_check_nan = ANOMALY.check_nan
        warnings.warn(
            "Anomaly Detection has been enabled. This mode will increase the runtime and should "
            "only be enabled for debugging.",
            UserWarning,
            stacklevel=2,
        )

    def __enter__(self) -> None:
        set_anomaly_enabled(True, self.check_nan)

    def __exit__(self, *exc_info) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)

    def __call__(self, func):
        check_nan = self.check_nan

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            previous = (ANOMALY.enabled, ANOMALY.check_nan)
            set_anomaly_enabled(True, check_nan)
            try:
                return func(*args, **kwargs)
            finally:
                set_anomaly_enabled(*previous)

        return wrapper


class set_detect_anomaly:  # noqa: N801
    """Sets anomaly detection on or off at once (a plain call), and, used as a context manager,
    restores the previous setting on exit."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = ANOMALY.enabled
        self.prev_check_nan = ANOMALY.check_nan
        set_anomaly_enabled(mode, check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info) -> None:
        set_anomaly_enabled(self.prev, self.prev_check_nan)
