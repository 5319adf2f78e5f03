"""``gradienti.compiler``: what ``gradienti.compile`` builds, and how to look at it.

``gradienti.compile(fn)`` traces ``fn`` on its first call per signature (compiler/trace.py),
turns the trace into one forward and one backward function of arrays (compiler/program.py)
and replays them on later calls with that signature (compiler/runtime.py): the same array
calls in the same order as eager, without the per-op bookkeeping. ``stats(compiled)`` says
what happened, ``reset()`` clears every cache (PyTorch's ``torch.compiler.reset``),
``is_compiling()`` is True while a trace runs (PyTorch's ``torch.compiler.is_compiling``).
"""

from __future__ import annotations

from .breaks import GraphBreakError
from .compiled import CompiledState, CompileStats, reset_all
from .trace import is_tracing

__all__ = ["CompileStats", "GraphBreakError", "is_compiling", "reset", "stats"]


def stats(compiled) -> CompileStats:
    """The counters of a callable that ``gradienti.compile`` returned."""
    state = getattr(compiled, "_gradienti_compiled", None)
    if state is None:
        state = getattr(compiled, "__dict__", {}).get("_gradienti_compiled")
    if not isinstance(state, CompiledState):
        raise TypeError(
            f"gradienti.compiler.stats expects what gradienti.compile returned, "
            f"got {type(compiled).__name__}"
        )
    return state.stats()


def reset() -> None:
    """Clears every compiled callable's cache (and its counters and graph break): the next
    call traces again."""
    reset_all()


def is_compiling() -> bool:
    """True while gradienti.compile traces a function on this thread."""
    return is_tracing()
