"""The vmap levels in force on this thread: one per ``vmap`` call being run, outermost first.

A level is an id, unique for the life of the process and increasing, so that the arrays of a
level that has ended (saved by a graph, say) are never confused with those of a later one, and
a nested level always has a larger id than the levels around it: a ``BatchedArray`` of level
``n`` holds, as its physical array, arrays of smaller levels only (batched_array.py). ``depth``
is PyTorch's ``lvl`` in a printed BatchedTensor: 1 for the outermost vmap.

``randomness`` is the ``vmap(..., randomness=)`` of the level: random ops read it
(``batched_draw``).
"""

from __future__ import annotations

import contextlib
import threading
from itertools import count

_next_id = count(1).__next__

RANDOM_ERROR = (
    "vmap: called random operation while in randomness error mode. Please either use the "
    "'same' or 'different' randomness flags on vmap or perform the randomness operation out "
    "of vmap"
)


class Level:
    """One vmap call in force: its id, batch size, randomness and nesting depth, and how many
    function transforms (grad, vjp, jvp...) run inside it (not inside a vmap of their own)."""

    __slots__ = ("id", "size", "randomness", "depth", "transforms")

    def __init__(self, size: int, randomness: str, depth: int) -> None:
        self.id = _next_id()
        self.size = size
        self.randomness = randomness
        self.depth = depth
        self.transforms = 0


class _Active(threading.local):
    """The levels in force on the current thread, outermost first."""

    def __init__(self) -> None:
        self.levels: list[Level] = []


ACTIVE = _Active()
# The depth of every level in force, by id, for printing. A level's entry goes when it ends
# (kept, the table would grow with every vmap call): an array of an ended level that escaped
# vmap prints lvl=0, where PyTorch's prints the level it had.
DEPTHS: dict[int, int] = {}


def enter(size: int, randomness: str) -> Level:
    levels = ACTIVE.levels
    level = Level(size, randomness, len(levels) + 1)
    DEPTHS[level.id] = level.depth
    levels.append(level)
    return level


def leave(level: Level) -> None:
    levels = ACTIVE.levels
    if levels and levels[-1] is level:
        levels.pop()
    else:
        levels.remove(level)
    DEPTHS.pop(level.id, None)


def depth_of(level_id: int) -> int:
    return DEPTHS.get(level_id, 0)


def in_vmap() -> bool:
    """Whether a vmap is being run on this thread."""
    return bool(ACTIVE.levels)


@contextlib.contextmanager
def transform_running():
    """Around a function transform of gradienti.func (grad, vjp, jvp...): while it runs inside
    the innermost vmap, a value of that vmap read as a number or a condition gets PyTorch's
    message for a transformed tensor (``transformed_leaving``)."""
    levels = ACTIVE.levels
    if not levels:
        yield
        return
    level = levels[-1]
    level.transforms += 1
    try:
        yield
    finally:
        level.transforms -= 1


def under_transform() -> bool:
    """Whether a function transform runs inside the innermost vmap (see transform_running)."""
    levels = ACTIVE.levels
    return bool(levels) and levels[-1].transforms > 0
