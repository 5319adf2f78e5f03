"""Recording one call of a function: the ops it runs, as steps over numbered slots.

A trace runs the user's function eagerly (its results go back to the user as they are)
inside a special mode, so that every op reaches ``ops/apply.record_special``, which hands it
to ``Trace.op`` through graph/compile_hook.py. Tensors are mapped to slots by identity: the
call's tensor arguments are input slots, each op's results new slots, and a tensor from
outside the call (a closure's, a global, a module's parameter) a *captured* slot, provided it
is reachable from the function when the trace begins (compiler/sources.py; they are kept
referenced, so that no new tensor can take one of their ids). An integral tensor that a
recorder cast to float (``ops/apply.lifted``) is a slot computed from its source. Whatever
the trace cannot replay breaks the graph (compiler/breaks.py): the first reason, with the
user's line, is kept.
"""

from __future__ import annotations

import random
import sys
import threading

from ..backend import xp
from ..graph.compile_hook import HOOK
from ..graph.grad_mode import enter_special, leave_special
from ..ops.apply import CONFORM_ONLY
from ..random import default_generator
from ..tensor import Tensor
from . import breaks
from .losses import LOSS_NODES, plan_loss
from .sources import reachable_tensors
from .steps import generic_recorders, plan_step

_LOCAL = threading.local()  # .trace: this thread's Trace, while one runs
_ACTIVE_LOCK = threading.Lock()
_ACTIVE = [0]  # threads tracing now (HOOK.active while it is above 0)


class Step:
    """One op of a trace: its node (as the op left it), the caller of record_special (the
    recorder that applied it), its inputs (a slot number, or the Python value of a
    constant), what it computed with and on, its results' slots, and what its node saved."""

    __slots__ = (
        *("node", "caller", "inputs", "tensors", "arrays", "outputs", "results", "saved"),
        "plan",  # how it runs again (compiler/steps.Replay)
    )

    def __init__(self, node, caller, inputs, tensors, arrays, outputs, results, saved) -> None:
        self.node = node
        self.caller = caller
        self.inputs = inputs  # per op input: ("slot", number) or ("constant", value)
        self.tensors = tensors  # per op input: the Tensor, or None
        self.arrays = arrays
        self.outputs = outputs
        self.results = results  # the result slots, in order
        self.saved = saved


class Lift:
    """A cast of an integral slot to a float dtype, done by a recorder before its op."""

    __slots__ = ("source", "dtype", "results")

    def __init__(self, source: int, dtype) -> None:
        self.source = source
        self.dtype = dtype


class Trace:
    """The record of one call: ``slots`` (id(tensor) -> slot number), ``tensors`` (slot ->
    the Tensor, kept alive), ``sources`` (slot -> ("input", k) / ("captured", j) / ("step",
    i, output)), ``steps``, ``captured`` (the outside tensors, in slot order), ``broken``
    (the first graph break: its reason and the user's "file:line", None where only the end
    of the call showed it)."""

    def __init__(self, name: str, fullgraph: bool, input_tensors: list, roots: tuple) -> None:
        self.name = name
        self.fullgraph = fullgraph
        self.slots: dict[int, int] = {}
        self.tensors: list = []
        self.sources: list = []
        self.steps: list[Step] = []
        self.captured: list = []
        self.grads_at_entry: list = []  # (tensor, its .grad when it became a slot)
        self.broken: tuple | None = None
        self.generic = generic_recorders()
        for index, tensor in enumerate(input_tensors):
            if id(tensor) not in self.slots:
                self._new_slot(tensor, ("input", index))
        # The tensors the function can reach may be captured; kept referenced, their ids stay.
        self.live = reachable_tensors(roots)
        # The .grad of the arguments and reachable tensors: another tensor after each
        # backward, so never a captured slot (held by identity, a replay would read the
        # first call's gradient).
        self.grads = {
            id(tensor._grad)
            for tensor in (*input_tensors, *self.live.values())
            if tensor._grad is not None
        }
        self.random_state = _generator_state()
        self.python_random_state = _python_random_state()
        # The arguments' autograd edges: ``x.requires_grad_()`` inside the function changes
        # one, and a replay would not (its output would lead to no gradient).
        self.edges_at_entry = [(tensor, tensor._edge) for tensor in input_tensors]

    def _new_slot(self, tensor, source) -> int:
        slot = len(self.tensors)
        self.slots[id(tensor)] = slot
        self.tensors.append(tensor)
        self.sources.append(source)
        self.grads_at_entry.append((tensor, tensor._grad))
        return slot

    def break_graph(self, reason: str) -> None:
        """Keep the first reason (with the user's line); with fullgraph=True, raise there."""
        if self.broken is None:
            location = breaks.user_location()
            self.broken = (reason, location)
            if self.fullgraph:
                text = breaks.fullgraph_text(self.name, reason, location)
                raise breaks.GraphBreakError(text)

    def op(self, node, inputs, arrays, outputs, results, saved) -> None:
        if self.broken is not None:
            return
        caller = sys._getframe(3).f_code  # (Trace.op <- hook <- record_special <- recorder)
        refs = []
        tensors = []
        for value in inputs:
            if isinstance(value, Tensor):
                slot = self.slots.get(id(value))
                if slot is None:
                    if id(value) in self.grads:
                        self.break_graph(breaks.GRAD_READ)
                        return
                    if self.live.get(id(value)) is not value:
                        # (a random draw made it, if the generator moved: say that)
                        moved = _generator_state() != self.random_state
                        unseen = breaks.UNSEEN_TENSOR.format(op=node.name())
                        self.break_graph(breaks.RANDOM_DRAW if moved else unseen)
                        return
                    slot = self._new_slot(value, ("captured", len(self.captured)))
                    self.captured.append(value)
                refs.append(("slot", slot))
                tensors.append(value)
            else:
                refs.append(("constant", value))
                tensors.append(None)
        step_index = len(self.steps)
        multi = type(results) is tuple
        result_slots = tuple(
            self._new_slot(result, ("step", step_index, k))
            for k, result in enumerate(results if multi else (results,))
        )
        step = Step(node, caller, tuple(refs), tuple(tensors), arrays, outputs, result_slots, saved)
        edges = [self.tensors[slot]._edge is not None for slot in result_slots]
        plan = plan_loss(step, self.slot_of_array, edges) if type(node) in LOSS_NODES else None
        if plan is None:
            plan = plan_step(step, self.generic, edges)
        if type(plan) is str:
            self.break_graph(plan)
            return
        step.plan = plan
        self.steps.append(step)

    def slot_of_array(self, array) -> int | None:
        """The slot of the tensor whose data is ``array`` (a captured slot for a reachable
        tensor met for the first time), or None."""
        for slot, tensor in enumerate(self.tensors):
            if tensor._data is array:
                return slot
        for tensor in self.live.values():
            if tensor._data is array:
                slot = self._new_slot(tensor, ("captured", len(self.captured)))
                self.captured.append(tensor)
                return slot
        return None

    def lift(self, source, result) -> None:
        """``result`` is ``source``'s data cast to a float dtype (ops/apply.lifted)."""
        if self.broken is not None:
            return
        slot = self.slots.get(id(source))
        if slot is None:
            return  # (an op that uses ``result`` then breaks the graph: its source is unseen)
        lift = Lift(slot, result._data.dtype)
        self._new_slot(result, ("step", len(self.steps), 0))
        lift.results = (len(self.tensors) - 1,)
        self.steps.append(lift)

    def check_after_call(self) -> None:
        """What only the end of the call shows: a random draw, a backward inside."""
        if self.broken is not None:
            return
        if _generator_state() != self.random_state:
            self.broken = (breaks.RANDOM_DRAW, None)
            return
        if _python_random_state() != self.python_random_state:  # a number drawn: frozen in
            self.broken = (breaks.PYTHON_RANDOM_DRAW, None)
            return
        for tensor, grad in self.grads_at_entry:
            if tensor._grad is not grad:
                self.broken = (breaks.BACKWARD_INSIDE, None)
                return
        for tensor, edge in self.edges_at_entry:
            if tensor._edge is not edge:
                self.broken = (breaks.REQUIRES_GRAD_CHANGED, None)
                return
        for step in self.steps:  # a hook registered on an op's output after the op ran
            hooks = None if type(step) is Lift else getattr(step.node, "_hooks", None)
            if hooks is not None and hooks is not CONFORM_ONLY:
                self.broken = (breaks.HOOKED, None)
                return

    def release(self) -> None:
        self.live = None


def _python_random_state() -> tuple:
    """The states of Python's ``random`` and NumPy's global generator (a number drawn from
    them inside the function would be a constant of the trace)."""
    numpy_state = xp.random.get_state(legacy=False)
    position, key = numpy_state["state"]["pos"], numpy_state["state"]["key"].tobytes()
    return (random.getstate(), int(position), key, numpy_state["has_gauss"], numpy_state["gauss"])


def _generator_state() -> tuple:
    state = default_generator._bits.state["state"]
    return (int(state["pos"]), state["key"].tobytes(), default_generator._next_double_normal)


def current():
    """This thread's trace, or None."""
    return getattr(_LOCAL, "trace", None)


def is_tracing() -> bool:
    return getattr(_LOCAL, "trace", None) is not None


def begin(trace: Trace) -> None:
    """Trace on this thread: ops take the special path and report to ``trace``."""
    _LOCAL.trace = trace
    with _ACTIVE_LOCK:
        _ACTIVE[0] += 1
        HOOK.active = True
    enter_special()


def end(trace: Trace) -> None:
    leave_special()
    with _ACTIVE_LOCK:
        _ACTIVE[0] -= 1
        HOOK.active = _ACTIVE[0] > 0
    _LOCAL.trace = None


def tracing_threads() -> int:
    """How many threads trace now (each counts one special mode)."""
    return _ACTIVE[0]


# ---------------------------------------------------------------- what the hooks report
def _on_op(node, inputs, arrays, outputs, results, saved) -> None:
    trace = getattr(_LOCAL, "trace", None)
    if trace is not None:
        trace.op(node, inputs, arrays, outputs, results, saved)


def _on_read(what: str) -> None:
    trace = getattr(_LOCAL, "trace", None)
    if trace is not None:
        if what == "Tensor.grad":
            trace.break_graph(breaks.GRAD_READ)
        else:
            trace.break_graph(breaks.VALUE_READ.format(what=what))


def _on_lift(source, result) -> None:
    trace = getattr(_LOCAL, "trace", None)
    if trace is not None:
        trace.lift(source, result)


def _on_write(array) -> None:
    trace = getattr(_LOCAL, "trace", None)
    if trace is not None:
        trace.break_graph(breaks.IN_PLACE)


HOOK.on_op = _on_op
HOOK.on_read = _on_read
HOOK.on_write = _on_write
HOOK.on_lift = _on_lift
