"""A compiled callable: per call, its signature's program (traced on the first call with
that signature), or the eager function where the trace broke, past the cache limit, or
under a mode a program does not cover (forward AD, vmap, anomaly detection, saved-tensor
hooks, inference mode: the function then simply runs eagerly)."""

from __future__ import annotations

import threading
import warnings
import weakref
from dataclasses import dataclass

from ..backend import default_float
from ..graph.grad_mode import MODES, grad_state
from ..graph.node import AccumulateGrad
from ..tensor import Tensor
from . import breaks, guards, outside, runtime, trace
from .program import build

# Every compiled callable's state, for ``reset()``.
ALL_STATES: weakref.WeakSet = weakref.WeakSet()


@dataclass(frozen=True)
class CompileStats:
    """What ``gradienti.compiler.stats`` reports of a compiled callable: ``traces``
    (signatures compiled), ``compiled_calls`` (calls that ran a compiled program),
    ``eager_calls`` (calls that ran the function eagerly), ``recompiles`` (traces after the
    first), ``graph_break`` (why the function runs eagerly, with the user's file:line, or
    None) and ``ops`` (the node names of the last trace, in order)."""

    traces: int
    compiled_calls: int
    eager_calls: int
    recompiles: int
    graph_break: str | None
    ops: tuple[str, ...]


class CompiledState:
    """The cache and counters of one compiled callable."""

    def __init__(self, function, name: str, fullgraph: bool, module=None) -> None:
        self.function = function
        self.name = name
        self.fullgraph = fullgraph
        self.module = module
        self.lock = threading.Lock()
        self.clear()
        ALL_STATES.add(self)

    def clear(self) -> None:
        # signature -> (Program, objects guarded by identity, the Python values it read
        # from its closure and globals: where, and what they were)
        self.cache: dict = {}
        # The key's parts and the entry of the last compiled call of the common form f(x) (one
        # attribute: a thread reads all of one call's): the next such call with the same key
        # is five compares, without the signature's call and the dict lookup.
        self.last: tuple | None = None
        self.traces = 0
        self.compiled_calls = 0
        self.eager_calls = 0
        self.recompiles = 0
        self.graph_break: str | None = None
        self.ops: tuple[str, ...] = ()
        self.warned_limit = False
        # Traces again of a signature whose outside state changed (a side effect on what the
        # function reads, ``calls.append(...)``, changes it at every call): limited as signatures.
        self.retraces = 0

    def stats(self) -> CompileStats:
        return CompileStats(
            self.traces,
            self.compiled_calls,
            self.eager_calls,
            self.recompiles,
            self.graph_break,
            self.ops,
        )

    # ------------------------------------------------------------------ a call
    def __call__(self, *args, **kwargs):
        return self.call(args, kwargs)

    def call(self, args: tuple, kwargs: dict):
        """A call of the compiled function (``args``, ``kwargs`` as the caller packed them)."""
        last = self.last  # (None after a graph break, a reset, a failed check)
        if last is not None and not kwargs and not MODES.special:
            # f(x) with no mode on, keyed as guards.signature keys it, compared part by part
            try:
                (tensor,) = args
            except ValueError:  # (only where one function is called with 1 and n arguments)
                tensor = None
            if type(tensor) is Tensor:
                data = tensor._data
                edge = tensor._edge
                if (
                    data.shape == last[0]
                    and data.dtype == last[1]
                    and type(data) is last[2]
                    and (edge is not None) is last[3]
                    and grad_state._enabled is last[4]
                    and data.strides == last[7]
                    and (type(edge) is AccumulateGrad) is last[8]
                    and default_float.value is last[9]
                ):
                    program, entry = last[5], last[6]
                    if entry is None or (
                        (not program.captured or runtime.captured_unchanged(program))
                        and (not entry[2] or guards.read_sources(entry[2]) == entry[3])
                        and (entry[4] is None or entry[4](args))
                    ):
                        self.compiled_calls += 1
                        return runtime.run(program, args)
        return self._call(args, kwargs)

    def _call(self, args, kwargs):
        special = MODES.special
        if self.graph_break is not None or (
            special
            and (
                special != trace.tracing_threads()  # another special mode is on
                or trace.is_tracing()  # called from a function being traced: part of it
            )
        ):
            return self._eager(args, kwargs)
        tensors: list = []
        keep: list = []
        key = guards.signature(args, kwargs, grad_state._enabled, tensors, keep)
        if self.module is not None:
            key = (key, guards.module_state(self.module))
            keep.append(self.module)
        entry = self.cache.get(key)
        if entry is not None:
            program = entry[0]
            if (
                runtime.captured_unchanged(program)
                and (not entry[2] or guards.read_sources(entry[2]) == entry[3])
                and (entry[4] is None or entry[4](tensors))
            ):
                result = runtime.run(program, tensors)
                self.compiled_calls += 1
                if self.module is None and len(key) == 8:  # f(x): see __call__
                    enabled, default, shape, strides, dtype, requires_grad, leaf, kind = key
                    # (entry None: nothing besides the key to check)
                    checked = entry if program.captured or entry[2] or entry[4] else None
                    self.last = (
                        *(shape, dtype, kind, requires_grad, enabled, program, checked),
                        *(strides, leaf, default),
                    )
                return result
            with self.lock:
                self.cache.pop(key, None)
                self.last = None
                self.retraces += 1
        if len(self.cache) >= guards.CACHE_SIZE_LIMIT or self.retraces >= guards.CACHE_SIZE_LIMIT:
            self._warn_limit()
            return self._eager(args, kwargs)
        return self._trace(key, keep, tensors, args, kwargs)

    def _eager(self, args, kwargs):
        self.eager_calls += 1
        return self.function(*args, **kwargs)

    def _trace(self, key, keep, tensors, args, kwargs):
        roots = (self.function, args, kwargs)
        sources = guards.plain_sources(self.function)
        values = guards.read_sources(sources)
        # What the function can reach, as it is before the call (a call that changes it,
        # ``calls.append(...)``, is traced again next time: its side effect is not replayed).
        try:
            outside_holds = outside.outside_guard(self.function, keep, tensors)
        except Exception:  # noqa: BLE001 - an object the walk cannot read: never replayed
            outside_holds = outside.NEVER_HOLDS
        record = trace.Trace(self.name, self.fullgraph, tensors, roots)
        trace.begin(record)
        try:
            try:
                result = self.function(*args, **kwargs)
            finally:
                trace.end(record)
            record.check_after_call()
            if record.broken is not None:
                return self._broken(*record.broken, result)
            program = build(record, result)
        finally:
            record.release()
        if type(program) is str:
            return self._broken(program, None, result)
        program.node_class = runtime.node_class(program)
        program.simple = runtime.is_simple(program)
        with self.lock:
            if self.traces:
                self.recompiles += 1
            self.traces += 1
            self.ops = program.ops
            self.cache[key] = (program, keep, sources, values, outside_holds)
        return result

    def _broken(self, reason: str, location: str | None, result):
        """The function runs eagerly from now on (``location``: the user's line of the
        break; None: the line of this call)."""
        if location is None:
            location = breaks.user_location()
        if self.fullgraph:
            raise breaks.GraphBreakError(breaks.fullgraph_text(self.name, reason, location))
        with self.lock:
            first = self.graph_break is None
            self.graph_break = f"{reason} at {location}"
            self.cache.clear()
            self.last = None
        if first:
            text = breaks.warning_text(self.name, reason, location)
            warnings.warn(text, UserWarning, stacklevel=breaks.user_stacklevel())
        return result

    def _warn_limit(self) -> None:
        if not self.warned_limit:
            self.warned_limit = True
            warnings.warn(
                f"gradienti.compile hit the cache size limit ({guards.CACHE_SIZE_LIMIT}): "
                f"{self.name} was compiled for {guards.CACHE_SIZE_LIMIT} signatures (argument "
                "shapes, dtypes, requires_grad, Python values, grad mode); calls with a new "
                "signature run eagerly from now on (as torch._dynamo does at "
                "config.recompile_limit)"
                if self.retraces < guards.CACHE_SIZE_LIMIT
                else f"gradienti.compile hit the cache size limit ({guards.CACHE_SIZE_LIMIT}): "
                f"{self.name} was traced again {guards.CACHE_SIZE_LIMIT} times because what it "
                "reads outside its arguments (globals, closure cells, attributes, a module's "
                "state) changed between calls; calls that would trace again run eagerly from "
                "now on (as torch._dynamo does at config.recompile_limit)",
                UserWarning,
                stacklevel=breaks.user_stacklevel(),
            )


def reset_all() -> None:
    for state in list(ALL_STATES):
        with state.lock:
            state.clear()
