"""Where ``gradienti.compile``'s tracer listens (the tracer itself: compiler/trace.py).

It sits this low so that the layers that must tell it something can: ``ops/apply.
record_special`` reports each op while a trace runs (a trace is a special mode, so every op
goes through it), ``tensor.py``'s value readers (``.item()``, ``bool()``, printing, ...)
report a value read into Python, ``graph/versions.bump`` an in-place write. Each tests one
flag, ``HOOK.active``, which is False unless some thread is tracing: the plain path pays
nothing and the special path one attribute read.
"""

from __future__ import annotations


class _TraceHook:
    """``active``: whether some thread is tracing. ``on_op(node, inputs, arrays, outputs,
    results, saved)``, ``on_read(what)``, ``on_write(array)`` and ``on_lift(tensor, result)``
    (an integral tensor cast to float before an op, ops/apply.lifted) are set by the tracer;
    each looks at the calling thread's trace, if any."""

    __slots__ = ("active", "on_op", "on_read", "on_write", "on_lift")

    def __init__(self) -> None:
        self.active = False
        self.on_op = None
        self.on_read = None
        self.on_write = None
        self.on_lift = None


HOOK = _TraceHook()
