"""Replaying ``nll_loss`` (and so ``cross_entropy``): its node computes from what it saved,
the kept positions and weights that ``ops/nll_loss._kept_positions`` derives from the
target, which is no input of the op. A replay derives them again from the target's (and the
class weights') data of this call, on a node of its own (the positions are this call's, so
the node is not shared): ``nll_loss``'s own function, on the arrays of this call.
"""

from __future__ import annotations

import copy

from ..ops import nll_loss
from .steps import Replay

# The loss nodes replayed this way, and whether the target keeps its shape (2-D spatial).
LOSS_NODES = {nll_loss.NllLossBackward0: False, nll_loss.NllLoss2DBackward0: True}


class LossReplay(Replay):
    """A Replay whose node is made per call (``per_call``): ``target``/``weight`` are the
    slots of the target and class weights (None: no weights), ``ignore_index``."""

    __slots__ = ("target", "weight", "ignore_index", "spatial")


def plan_loss(step, slot_of_array, result_edges) -> LossReplay | None:
    """A LossReplay for an nll_loss step, or None (then it is not replayed)."""
    node = step.node
    spatial = LOSS_NODES.get(type(node))
    if spatial is None or len(step.inputs) != 1 or step.inputs[0][0] != "slot":
        return None
    x, target, weight, ignore_index = node.inputs
    if x is not step.arrays[0]:
        return None
    target_slot = slot_of_array(target)
    weight_slot = None if weight is None else slot_of_array(weight)
    if target_slot is None or (weight is not None and weight_slot is None):
        return None
    plan = LossReplay()
    plan.arguments = (("slot", step.inputs[0][1]),)
    plan.calls_function = False
    plan.multi = False
    plan.recorded = any(result_edges)
    plan.saved = ()
    template = copy.copy(node)
    template._saved = None
    template._next = tuple(None if edge is None else True for edge in getattr(node, "_next", ()))
    template.inputs = None
    plan.template = template
    plan.target, plan.weight = target_slot, weight_slot
    plan.ignore_index, plan.spatial = ignore_index, spatial
    return plan


def fresh_node(template, x, target, weight, ignore_index, spatial):
    """This call's loss node: ``template``'s parameters, the positions of this target."""
    node = copy.copy(template)
    n_classes = x.shape[1] if spatial else x.shape[-1]
    classes = target if spatial else target.reshape(-1)
    weights = weight.reshape(-1) if (spatial and weight is not None) else weight
    shapes = (x.shape, target.shape)
    node._saved = nll_loss._kept_positions(
        classes, n_classes, ignore_index, weights, x.dtype, shapes
    )
    node.inputs = (x, target, weight, ignore_index)
    return node
