"""Running a compiled program: the arrays in, the generated forward, the outputs' Tensors,
and one node for the whole call in the graph (``CompiledFunctionBackward``, PyTorch's name),
whose VJP is the generated backward. The eager engine does the rest: accumulation into the
leaves, their hooks, ``retain_graph`` (the tape is the node's saved values, released after a
backward without it, so a second backward raises the usual error)."""

from __future__ import annotations

from ..graph.grad_mode import MODES
from ..graph.node import NO_EDGE, SAVE_NOTHING, Node, next_sequence_number
from ..graph.versions import MODIFIED
from ..graph.versions import record as record_versions
from ..ops.api import EXPLAIN_RULES
from ..ops.apply import record_node
from ..ops.explain_rule import Rule
from ..tensor import Tensor, wrap
from .program import SINGLE_OUTPUT, rebuild

DOUBLE_BACKWARD = "torch.compile with aot_autograd does not currently support double backward"


class CompiledFunctionBackward(Node):
    """The backward of one compiled call: ``_next`` the edges of the inputs (arguments,
    parameters, captured tensors) that require grad, ``_saved`` this call's tape. A Node,
    not an Op: no forward-mode rule is needed, since a compiled function runs eagerly under
    forward AD (compiler/compiled.py)."""

    __slots__ = ("program", "num_outputs")
    save = SAVE_NOTHING  # (a recorded pass hands the tape over as it is: arrays)
    # A missing output gradient stays None: the generated backward skips what it would reach.
    materialize_grads = False

    def refuse(self, grads: tuple):
        """The gradients of a create_graph=True pass (``grads``: Tensors), refusing to go on."""
        return _refusing_double_backward(self, grads)

    @staticmethod
    def backward(ctx, *grads):
        for grad in grads:
            if type(grad) is Tensor:  # create_graph=True: a recorded pass
                return _refusing_double_backward(ctx, grads)
        program = ctx.program
        with program.lock:  # the template nodes' _saved are set per VJP
            # (a tuple, or the bare gradient of a call with one input that needs one: the
            # engine's short path for a one-input node)
            return program.backward(ctx._saved, grads)


class CompiledFunctionBackwardBackward(Node):
    """The gradients of a ``create_graph=True`` pass through a compiled call: right values,
    and PyTorch's error if they are differentiated again."""

    __slots__ = ()
    save = SAVE_NOTHING

    @staticmethod
    def backward(ctx, *grads):
        raise RuntimeError(DOUBLE_BACKWARD)


def is_simple(program) -> bool:
    """Whether ``run`` may take its short path: the call's tensor 0 is the only input (no
    captured tensor) and the only one given a gradient, one output, a tensor of the ops."""
    return (
        program.input_positions == _FIRST
        and not program.captured
        and program.differentiable_count == 1
        and program.grad_sources == _FIRST_INPUT
        and program.layout is SINGLE_OUTPUT
    )


def node_class(program) -> type:
    """The class of a program's nodes: CompiledFunctionBackward, or where the program has a
    ``node_backward`` (program.py) a subclass of the same name whose VJP it is."""
    if program.node_backward is None:
        return CompiledFunctionBackward
    return type(
        CompiledFunctionBackward.__name__,
        (CompiledFunctionBackward,),
        {
            "__slots__": (),
            "__module__": __name__,
            "__qualname__": CompiledFunctionBackward.__qualname__,
            "backward": staticmethod(program.node_backward),
        },
    )


def _refusing_double_backward(ctx, grads):
    program = ctx.program
    arrays = tuple(g._data if type(g) is Tensor else g for g in grads)
    tape = tuple(t._data if type(t) is Tensor else t for t in ctx._saved)
    with program.lock:
        results = program.backward(tape, arrays)
    if type(results) is not tuple:
        results = (results,)
    # The gradients depend on the output gradients and, through the tape, on the inputs.
    edges = tuple(g._edge if type(g) is Tensor else NO_EDGE for g in grads) + ctx._next
    if all(edge is None for edge in edges):
        return tuple(None if r is None else wrap(r, NO_EDGE) for r in results)
    node = record_node(CompiledFunctionBackwardBackward(), edges, ())
    return tuple(None if r is None else wrap(r, node) for r in results)


def run(program, call_tensors):
    """The compiled function's result for this call (``call_tensors``: its tensor arguments,
    in the order the signature lists them)."""
    if program.simple:  # y = f(x), x's gradient alone, y made by the ops: run() below, cut short
        tensor = call_tensors[0]
        outputs, tape = program.forward(tensor._data)
        node = _new_object(program.node_class)
        node.program = program
        node.num_outputs = 1
        if MODES.special:
            record_node(node, (tensor._edge,), tape)
        else:  # record_node written out, as ops/apply.py's hot recorders do (a frame per call)
            node._next = (tensor._edge,)
            node._sole = None
            node._saved = tape
            if MODIFIED:
                node._versions = record_versions(tape)
            node._input_meta = None
            node._hooks = None
            node._seq = next_sequence_number()
        result = _new_object(Tensor)  # wrap(outputs[0], node), written out
        result._data = outputs[0]
        result._edge = node
        result._grad = None
        return result
    positions = program.input_positions
    if program.captured:
        arrays = [call_tensors[position]._data for position in positions]
        arrays += [tensor._data for tensor in program.captured]
        outputs, tape = program.forward(*arrays)
    elif positions == _FIRST:  # f(x): no list
        outputs, tape = program.forward(call_tensors[0]._data)
    else:
        outputs, tape = program.forward(*[call_tensors[position]._data for position in positions])
    count = program.differentiable_count
    if not count:
        tensors = [wrap(array, NO_EDGE) for array in outputs]
        return rebuild(program.layout, tensors, call_tensors)
    # CompiledFunctionBackward(), without a call of its (Node's) constructor
    node = _new_object(program.node_class)
    node.program = program
    node.num_outputs = count
    sources = program.grad_sources
    if sources == _FIRST_INPUT:  # the gradient of f(x)'s x alone
        edges = (call_tensors[0]._edge,)
    else:
        captured = program.captured
        edges = tuple(
            (call_tensors[index] if kind == "input" else captured[index])._edge
            for kind, index in sources
        )
    if MODES.special:
        record_node(node, edges, tape)
    else:  # record_node written out, as ops/apply.py's hot recorders do (a frame per call)
        node._next = edges
        node._sole = None
        node._saved = tape
        if MODIFIED:
            node._versions = record_versions(tape)
        node._input_meta = None
        node._hooks = None
        node._seq = next_sequence_number()
    if program.layout is SINGLE_OUTPUT and count == 1:  # one tensor out, made by the ops
        # wrap(outputs[0], node), written out
        tensor = _new_object(Tensor)
        tensor._data = outputs[0]
        tensor._edge = node
        tensor._grad = None
        return tensor
    tensors = []
    index = 0
    for array, differentiable in zip(outputs, program.output_differentiable):
        if differentiable:
            tensors.append(wrap(array, node if count == 1 else (node, index)))
            index += 1
        else:
            tensors.append(wrap(array, NO_EDGE))
    return rebuild(program.layout, tensors, call_tensors)


_new_object = object.__new__
_FIRST = (0,)
_FIRST_INPUT = (("input", 0),)


def captured_unchanged(program) -> bool:
    """Whether the captured tensors still have the shape, dtype and requires_grad they had
    when traced (an optimizer may change their values, not these)."""
    for tensor, (shape, dtype, requires_grad, kind) in zip(program.captured, program.captured_meta):
        data = tensor._data
        if (
            data.shape != shape
            or data.dtype != dtype
            or (tensor._edge is not None) is not requires_grad
            or type(data) is not kind
        ):
            return False
    return True


def _slots(node) -> list[str]:
    count = len(node._next)
    return ["x"] if count == 1 else [chr(ord("a") + position) for position in range(count)]


def _compiled_rule(node) -> Rule:
    slots = _slots(node)
    ops = ", ".join(node.program.ops)
    return Rule(
        f"a call of a compiled function (its ops: {ops})",
        "compiled(" + ", ".join(f"{{{slot}:0}}" for slot in slots) + ")",
        passes=("the gradient of the compiled ops, their VJPs run in reverse order",) * len(slots),
    )


def _refusing_rule(node) -> Rule:
    slots = _slots(node)
    return Rule(
        "the gradients of a compiled call, which cannot be differentiated again",
        ", ".join(f"{{{slot}:9}}" for slot in slots),
        passes=("nothing: a backward pass that reaches this node raises",) * len(slots),
    )


# The nodes are the compiler's, not an op's: their explain rules join the ops' here.
EXPLAIN_RULES[CompiledFunctionBackward.__name__] = _compiled_rule
EXPLAIN_RULES[CompiledFunctionBackwardBackward.__name__] = _refusing_rule
