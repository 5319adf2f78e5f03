"""Forward-mode AD's state: the dual level, and where a tensor keeps its tangent.

As in PyTorch's ``torch.autograd.forward_ad``, one dual level exists at a time (entering a
second raises) and it is global, not per thread. A tensor made dual at the level keeps its
tangent in its ``_tangent`` slot as ``(token, tangent)``: the token is the level's own object,
so once the level is left every tangent made in it reads as absent at once, without visiting
the tensors (PyTorch clears them; nobody can tell the difference). A tensor that was never made
dual has the slot unset (``getattr`` with a default reads it): the plain path sets nothing.

While an op's JVP rule runs, the level is *suspended* (``token`` is None): the rule computes
with ordinary ops, and those must not compute tangents of the tangent.
"""

from __future__ import annotations

from .grad_mode import enter_special, leave_special


class _ForwardState:
    """``level``: the public index of the dual level (0) or None; ``token``: the object that
    marks the tangents of the current level, None outside one or while a JVP rule runs."""

    __slots__ = ("level", "token")

    def __init__(self) -> None:
        self.level = None
        self.token = None


FORWARD = _ForwardState()


class _LevelToken:
    """The identity of one entered dual level (tangents made in it carry it)."""

    __slots__ = ()


def enter_level() -> int:
    if FORWARD.level is not None:
        raise RuntimeError(
            "Entering a new forward AD level but the current level is not valid. Make sure "
            "you did not forget to exit the previous level."
        )
    FORWARD.level = 0
    FORWARD.token = _LevelToken()
    enter_special()
    return 0


def exit_level(level: int | None = None) -> None:
    if FORWARD.level is None or (level is not None and level != FORWARD.level):
        raise RuntimeError(
            "Trying to exit a forward AD level that was not the last one that was created. "
            "This is not supported."
        )
    FORWARD.level = None
    FORWARD.token = None
    leave_special()


def tangent_of(tensor):
    """The tensor's tangent at the current level, or None (no level, not dual, suspended)."""
    pair = getattr(tensor, "_tangent", None)
    if pair is None or pair[0] is not FORWARD.token or pair[0] is None:
        return None
    return pair[1]


def set_tangent(tensor, tangent) -> None:
    """Make ``tangent`` the tensor's tangent at the current level (None removes it)."""
    tensor._tangent = None if tangent is None else (FORWARD.token, tangent)


class suspended:  # noqa: N801 - reads as a statement: ``with suspended():``
    """Run a JVP rule: ops inside compute no tangents (the level is back on exit)."""

    __slots__ = ("_token",)

    def __enter__(self) -> None:
        self._token = FORWARD.token
        FORWARD.token = None

    def __exit__(self, *exc_info) -> None:
        FORWARD.token = self._token
