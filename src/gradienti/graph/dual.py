"""Forward-mode AD's state: the dual level, and where a tensor keeps its tangent.

As in PyTorch's ``torch.autograd.forward_ad``, one dual level exists at a time (entering a
second raises) and it is global, not per thread. A tensor made dual at the level keeps its
tangent in its ``_tangent`` slot as ``(token, tangent)``: the token is the level's own object,
so once the level is left every tangent made in it reads as absent at once, without visiting
the tensors (PyTorch clears them; nobody can tell the difference). A tensor that was never made
dual has the slot unset (``getattr`` with a default reads it): the plain path sets nothing.

While an op's JVP rule runs, the level is *suspended* in that thread (``FORWARD.token`` reads
None there): the rule computes with ordinary ops, and those must not compute tangents of the
tangent. Only in that thread: another thread's ops, run meanwhile, still carry their tangents.
"""

from __future__ import annotations

import threading

from .grad_mode import enter_special, leave_special


class _Suspensions(threading.local):
    """How many ``suspended`` blocks this thread is inside (they nest: a rule's ops may run a
    custom Function, whose forward runs suspended too)."""

    depth = 0


_SUSPENDED = _Suspensions()


class _ForwardState:
    """``level``: the public index of the dual level (0) or None; ``level_token``: the object
    that marks the tangents of the current level, None outside one; ``token``: the same, but
    None in a thread that runs a JVP rule (``suspended``)."""

    __slots__ = ("level", "level_token")

    def __init__(self) -> None:
        self.level = None
        self.level_token = None

    @property
    def token(self):
        token = self.level_token
        if token is None or not _SUSPENDED.depth:
            return token
        return None


FORWARD = _ForwardState()
_level_lock = threading.Lock()


class _LevelToken:
    """The identity of one entered dual level (tangents made in it carry it)."""

    __slots__ = ()


def enter_level() -> int:
    """Enter the dual level (PyTorch's error when one exists); its index, 0."""
    with _level_lock:
        if FORWARD.level is not None:
            raise RuntimeError("Nested forward mode AD is not supported at the moment")
        FORWARD.level = 0
        FORWARD.level_token = _LevelToken()
        enter_special()
    return 0


def exit_level(level: int | None = None) -> None:
    """Leave the dual level (``level``: its index, None for the current one), with PyTorch's
    errors: no level (and none named), or not the current one."""
    with _level_lock:
        if level is None and FORWARD.level is None:
            raise RuntimeError("Dual level must be a positive number.")
        if FORWARD.level is None or (level is not None and level != FORWARD.level):
            raise RuntimeError(
                "Trying to exit a forward AD level that was not the last one that was created. "
                "This is not supported."
            )
        FORWARD.level = None
        FORWARD.level_token = None
        leave_special()


def tangent_of(tensor):
    """The tensor's tangent at the current level, or None (no level, not dual, suspended)."""
    pair = getattr(tensor, "_tangent", None)
    if pair is None:
        return None
    token = FORWARD.token
    if token is None or pair[0] is not token:
        return None
    return pair[1]


def set_tangent(tensor, tangent) -> None:
    """Make ``tangent`` the tensor's tangent at the current level (None removes it)."""
    tensor._tangent = None if tangent is None else (FORWARD.token, tangent)


class suspended:  # noqa: N801 - reads as a statement: ``with suspended():``
    """Run a JVP rule: ops inside, in this thread, compute no tangents (back on exit)."""

    __slots__ = ()

    def __enter__(self) -> None:
        _SUSPENDED.depth += 1

    def __exit__(self, *exc_info) -> None:
        _SUSPENDED.depth -= 1
