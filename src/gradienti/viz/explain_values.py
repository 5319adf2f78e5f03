"""The forward values of a graph's tensors, as far as the graph still holds them or can replay them.

The graph keeps the leaves' values and what each node saved for its backward (inputs, output, what
a custom Function passed to ``save_for_backward``); ``known_values`` gathers those, ``saved_input``
reads one saved input, and ``replay`` computes the output of a node whose forward is a pure
function of known inputs (run on a copy of the node where the forward writes bookkeeping on it),
or a constant added to a tensor that the node did not keep. The values are only shown: the
backward pass never needs them.
"""

from __future__ import annotations

import copy

from ..autograd.custom_function import FunctionCtx, _SavedOutput
from ..backend import xp
from ..graph.node import SAVE_INPUTS, SAVE_OUTPUT, AccumulateGrad, Op, edge_parts
from ..tensor import Tensor


def saved_input(node, position: int):
    """The value a node saved of its input at ``position``, if it kept one."""
    saved = node._saved
    if not saved or not (getattr(node, "save", 0) & SAVE_INPUTS) or position >= len(saved):
        return None
    if getattr(node, "save", 0) & SAVE_OUTPUT and position == len(saved) - 1:
        return None
    return saved[position]


# Ops whose forward is a pure function of the inputs and static attributes: replaying them on
# known input values gives the values of intermediate tensors, which the graph does not keep.
_REPLAYABLE = frozenset(
    (
        "PowBackward0",
        "PowBackward2",
        "RsubBackward1",
        "ReciprocalBackward0",
        "SigmoidBackward0",
        "ReluBackward0",
    )
)

# Ops whose forward also writes bookkeeping on its node (the input's shape, the indices of a
# maximum, im2col's columns) but reads and changes nothing else: no random draw, no write into
# an input. They are replayed on a copy of the node, so that the graph's own node is untouched:
# reductions, views and indexing, transposes, products with a bias, maxima, convolution, joins,
# copies and casts, selections, running sums and layer norm -- the usual ops of a network
# between the values the graph keeps.
_REPLAYABLE_ON_A_COPY = frozenset(
    (
        "SumBackward0",
        "SumBackward1",
        "MeanBackward0",
        "MeanBackward1",
        "ViewBackward0",
        "UnsafeViewBackward0",
        "SelectBackward0",
        "SliceBackward0",
        "IndexBackward0",
        "PermuteBackward0",
        "TransposeBackward0",
        "TBackward0",
        "ExpandBackward0",
        "SqueezeBackward0",
        "SqueezeBackward1",
        "SqueezeBackward2",
        "UnsqueezeBackward0",
        "AddmmBackward0",
        "MaxBackward0",
        "MaxBackward1",
        "MinBackward0",
        "MinBackward1",
        "ConvolutionBackward0",
        "CloneBackward0",
        "CatBackward0",
        "StackBackward0",
        "ToCopyBackward0",
        "WhereBackward0",
        "GatherBackward0",
        "MaskedFillBackward0",
        "ProdBackward0",
        "CumsumBackward0",
        "CumprodBackward0",
        "NativeLayerNormBackward0",
    )
)


# The most array elements a replay on a copy may touch: a picture of a large network must not
# cost a second forward pass (a convolution's im2col columns are its input times its kernel's
# size). Such values are summarised in a box anyway; past this they are left unknown.
REPLAY_LIMIT = 1 << 22


def _replay_cost(name: str, inputs: list) -> int:
    cost = sum(int(xp.size(value)) for value in inputs if value is not None)
    if name == "ConvolutionBackward0":
        kernel = inputs[1]
        cost *= max(1, int(xp.size(kernel)) // max(1, int(xp.shape(kernel)[0])))
    return cost


def _not_given(node, name: str, position: int) -> bool:
    """Whether input ``position`` is an optional one the op was called without (a convolution's
    bias, layer norm's weight or bias): None is then its value, not an unknown one."""
    if name == "ConvolutionBackward0":
        return position == 2 and getattr(node, "has_bias", True) is False
    if name == "NativeLayerNormBackward0":
        if position == 1:
            return getattr(node, "has_weight", True) is False
        return position == 2 and getattr(node, "has_bias", True) is False
    return False


def replay(node, constants: dict, known: dict) -> None:
    """Learn the value of ``node``'s output, or of an unknown constant added to a tensor."""
    if node.num_outputs != 1:
        return
    inputs = [
        constants[position] if edge is None else known.get(edge_parts(edge))
        for position, edge in enumerate(node._next)
    ]
    name = type(node).__name__
    out = known.get((node, 0))
    if out is None and all(
        value is not None or _not_given(node, name, position)
        for position, value in enumerate(inputs)
    ):
        function = getattr(type(node), "function", None)
        if getattr(type(node), "forward", None) is not Op.forward:
            function = None  # the class computes its forward itself: not replayed blindly
        try:
            with xp.errstate(all="ignore"):
                if function is not None:
                    out = function(*inputs)
                elif name in _REPLAYABLE:
                    out = node.forward(node, *inputs)
                elif name in _REPLAYABLE_ON_A_COPY and _replay_cost(name, inputs) <= REPLAY_LIMIT:
                    out = type(node).forward(copy.copy(node), *inputs)
        except Exception:  # noqa: BLE001 - a value to show, never needed for the pass
            out = None
        if out is not None:
            known[(node, 0)] = out
        return
    if out is None or name not in ("AddBackward0", "SubBackward0") or len(inputs) != 2:
        return
    # y = a + c or a - c with c a constant the node did not keep: c follows from y and a.
    if inputs[0] is not None and inputs[1] is None and 1 in constants:
        with xp.errstate(all="ignore"):
            constants[1] = out - inputs[0] if name == "AddBackward0" else inputs[0] - out
    elif inputs[1] is not None and inputs[0] is None and 0 in constants:
        with xp.errstate(all="ignore"):
            constants[0] = out - inputs[1] if name == "AddBackward0" else out + inputs[1]


def known_values(nodes, output) -> dict:
    """Values of node outputs that the graph still holds: leaves, saved inputs and outputs."""
    known = {}
    for node in nodes:
        if type(node) is AccumulateGrad:
            leaf = node.variable
            if leaf is not None:
                known[(node, 0)] = leaf._data
            continue
        if isinstance(node, FunctionCtx):
            _learn_from_function(node, known)
            continue
        saved = node._saved
        save = getattr(node, "save", 0)
        if not saved:
            continue
        if save & SAVE_OUTPUT and node.num_outputs == 1:
            known.setdefault((node, 0), saved[-1])
        if save & SAVE_INPUTS:
            for position, edge in enumerate(node._next):
                if edge is not None and position < len(saved) and saved[position] is not None:
                    if save & SAVE_OUTPUT and position == len(saved) - 1:
                        continue
                    known.setdefault(edge_parts(edge), saved[position])
    known[edge_parts(output._edge)] = output._data
    return known


def _learn_from_function(node, known: dict) -> None:
    """What a custom Function's ``save_for_backward`` kept: its outputs (position, data) and
    tensors, each the value of the node that made it (its grad_fn)."""
    for entry in node._saved or ():
        if type(entry) is _SavedOutput:
            output_nr, array = entry
            known.setdefault((node, output_nr), array)
        elif isinstance(entry, Tensor) and entry._edge is not None:
            known.setdefault(edge_parts(entry._edge), entry._data)
