"""In-place operations (``x.add_(y)``, ``x += y``, ``x.fill_(0)``): each computes its result
like the out-of-place op and hands it to ``assign_in_place`` (``Tensor._assign_in_place``),
which writes or rebinds the memory, counts a version and refuses leaves that require grad.

They are Tensor methods only, declared in ``DECLARATIONS`` (see ops/declare.py); an in-place op
records the node of its out-of-place op, so none has a node class or an explain rule of its own.
"""

from __future__ import annotations

import sys

from ..arguments import check_number, is_number, wrong_type
from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from ..batching import BatchedArray, check_in_place
from ..beginner_hints import LEAF_IN_PLACE_HINT, with_hint
from ..graph import versions
from ..graph.dual import FORWARD, set_tangent, tangent_of
from ..graph.grad_mode import MODES, grad_state
from ..graph.node import NO_EDGE, AccumulateGrad, edge_parts
from ..tensor import Tensor, wrap
from .apply import raise_if_not_broadcastable
from .declare import declare
from .explain_rule import ATOM, Rule
from .indexing import VIEW_OF_LEAF_MESSAGE, CopyBackwards, FillBackward3, put
from .sampling import _ZeroGradient, sampled

_ndarray = xp.ndarray


def check_cast_back(result, target) -> None:
    """PyTorch's canCast for an in-place result of NumPy dtype ``result`` into a tensor of
    ``target``: no float into an integral or bool tensor, no non-bool into a bool one, but any
    integer into any integer (int64 into uint8 wraps; NumPy's "same_kind" refuses that)."""
    if (result.kind == "f" and target.kind in "biu") or (result.kind != "b" and target.kind == "b"):
        raise RuntimeError(
            f"result type {SCALAR_TYPE_NAMES[from_numpy_dtype(result).name]} can't be cast to "
            f"the desired output type {SCALAR_TYPE_NAMES[from_numpy_dtype(target).name]}"
        )


def assign_in_place(tensor, result):
    """Make ``result`` the value of ``tensor``, as an in-place op does; counts a version.

    Not recorded (under no_grad, like the optimizer step ``w -= lr * w.grad``, or on a
    tensor that does not require grad, like ``w.data -= ...``): the memory is written in
    place, so every tensor and array sharing it sees the change. Recorded: the tensor becomes
    the op's output and takes the new array (the op's node may have saved the old one).
    Either way the old memory's version goes up, so a node that saved it refuses to run
    backward, with PyTorch's "modified by an inplace operation" error.
    """
    node, output_nr = edge_parts(tensor._edge)
    if grad_state.enabled and node is not None:
        _refuse_in_place_on_leaf_or_view(node, output_nr)
    old = tensor._data
    values = result._data
    if values.shape != old.shape:  # the operands broadcast to more than this tensor holds
        raise RuntimeError(
            f"output with shape {list(old.shape)} doesn't match the broadcast shape "
            f"{list(values.shape)}"
        )
    if values.dtype != old.dtype:
        check_cast_back(values.dtype, old.dtype)
    if type(values) is BatchedArray:  # vmap: per-sample values need a batched tensor
        check_in_place(old, values, "inplace arithmetic")
    if MODES.special and FORWARD.token is not None:  # (the count first: a plain read)
        _carry_tangent(tensor, result)
    if result._edge is None:
        target = tensor._as_array()
        xp.copyto(target, values, casting="unsafe")
        versions.bump(target)
        return tensor
    if node is None and type(old) is _ndarray and _memory_seen_elsewhere(old):
        _refuse_recorded_write_into_shared_memory()
    producer = edge_parts(result._edge)[0]
    count = versions.bump(old, by=producer) if type(old) is _ndarray else tensor._version + 1
    tensor._data = new = xp.array(values, dtype=old.dtype)
    versions.bump(new, to=count)
    saved = producer._saved
    if saved and saved[0] is old:
        # The op's own node saved the old value as its first input on purpose (PyTorch
        # keeps the original tensor): that entry's record is the new count. Anything else
        # it saved from this memory (``y.mul_(y.detach())``) now fails the check, as in
        # PyTorch.
        recorded = getattr(producer, "_versions", None) or (0,) * len(saved)
        producer._versions = (count,) + tuple(recorded[1:])
    tensor._edge = result._edge
    return tensor


def _memory_seen_elsewhere(array) -> bool:
    """Whether another array or tensor may see ``array``'s memory: it is a view (NumPy's
    ``base`` owns the memory) and its base is referenced from more than this view (the base
    tensor, another view of it). A recorded in-place op gives the tensor new memory (its node
    may have saved the old values), which such a sharer would not see."""
    base = array.base
    if base is None:
        return False
    # getrefcount counts its argument, the local ``base`` and ``array.base``: 3 means no one
    # else holds the memory (a fresh ``arange(6.).reshape(2, 3)``, whose base was temporary).
    return type(base) is not _ndarray or sys.getrefcount(base) > 3


def _refuse_recorded_write_into_shared_memory():
    """PyTorch writes through the view and records ``CopySlices`` on its base, so the base
    requires grad afterwards (``out[:2].copy_(a * 2)``); gradienti cannot yet, and refuses
    rather than leave the base without the values."""
    raise NotImplementedError(
        "gradienti cannot yet write a result that requires grad into a view of another tensor "
        "(PyTorch would update the base tensor and record CopySlices on it); write the result "
        "out of place (torch.cat, torch.stack) or assign it with indexing (x[i] = y) instead."
    )


def _carry_tangent(tensor, result) -> None:
    """Under a forward-AD level: ``tensor`` ends with the tangent of ``result``, as PyTorch's
    in-place ops update the tangent in place. A tangent the tensor already had is written into
    (so the tangent given to ``make_dual``, and the tangents of views sharing its memory, see
    the change, as in PyTorch); a tensor without one, or whose tangent cannot be written into
    (read-only, or requiring grad), or a result whose tangent requires grad (its graph is
    kept), takes the result's (in the result's dtype, as PyTorch's). A result without a tangent
    (a non-differentiable update: an embedding's max_norm renormalisation, running statistics)
    leaves the tangent as it was, as in PyTorch; the fills zero it themselves
    (``zero_tangent``)."""
    new = tangent_of(result)
    if new is None:
        return
    old = tangent_of(tensor)
    if old is None or not _writable(old) or new._edge is not None:
        set_tangent(tensor, new)
        return
    target = old._as_array()
    xp.copyto(target, new._data, casting="unsafe")
    versions.bump(target)


def _writable(tangent) -> bool:
    data = tangent._data
    return tangent._edge is None and (type(data) is not _ndarray or data.flags.writeable)


def zero_tangent(tensor) -> None:
    """PyTorch's tangent of a fill (``zero_``, ``fill_``, ``uniform_``, ``normal_``): zero,
    written into the tangent the tensor had (none stays none)."""
    if not MODES.special or FORWARD.token is None:
        return
    old = tangent_of(tensor)
    if old is None:
        return
    if not _writable(old):
        set_tangent(tensor, wrap(xp.zeros_like(old._data), NO_EDGE))
        return
    target = old._as_array()
    target[...] = 0
    versions.bump(target)


# PyTorch's text, then how to update a parameter in place (a hint).
LEAF_IN_PLACE_MESSAGE = with_hint(
    "a leaf Variable that requires grad is being used in an in-place operation.",
    LEAF_IN_PLACE_HINT,
)


def _refuse_in_place_on_leaf_or_view(node, output_nr: int = 0) -> None:
    """PyTorch's errors for an in-place op on a leaf that requires grad, on a view of one, or
    on a view a custom Function made; gradienti does not yet write through a view of a tensor
    that requires grad."""
    if type(node) is AccumulateGrad:
        raise RuntimeError(LEAF_IN_PLACE_MESSAGE)
    if not node.is_view:
        return
    if node.view_function_name is not None:
        raise RuntimeError(
            f"Output {output_nr} of {node.view_function_name} is a view and is being modified "
            "inplace. This view was created inside a custom Function (or because an input was "
            "returned as-is) and the autograd logic to handle view+inplace would override the "
            "custom backward associated with the custom Function, leading to incorrect "
            "gradients. This behavior is forbidden. You can fix this by cloning the output of "
            "the custom Function."
        )
    while node.is_view:
        node = edge_parts(node._next[0])[0]
        if node is None:
            return
    if type(node) is AccumulateGrad:
        raise RuntimeError(VIEW_OF_LEAF_MESSAGE)
    raise NotImplementedError(
        "gradienti cannot yet modify in place a view of a tensor that requires grad (PyTorch "
        "would update the base tensor too); write the result out of place instead."
    )


def add_(input, other, *, alpha=1):
    return input._assign_in_place(input.add(other, alpha=alpha))


def sub_(input, other, *, alpha=1):
    return input._assign_in_place(input.sub(other, alpha=alpha))


def mul_(input, other):
    return input._assign_in_place(input * other)


def div_(input, other, *, rounding_mode=None):
    return input._assign_in_place(input.div(other, rounding_mode=rounding_mode))


def pow_(input, exponent):
    return input._assign_in_place(input**exponent)


def exp_(input):
    return input._assign_in_place(input.exp())


def relu_(input):
    return input._assign_in_place(input.relu())


def clamp_(input, min=None, max=None):  # noqa: A002 - PyTorch's names
    return input._assign_in_place(input.clamp(min, max))


def copy_(input, src, non_blocking: bool = False):
    """Copy ``src`` (broadcast, cast to this dtype) into ``input``; differentiable in src,
    recorded as PyTorch's CopyBackwards (a number: ``input[...] = src``)."""
    if isinstance(src, Tensor):
        shape = input._data.shape
        try:
            broadcast = xp.broadcast_shapes(shape, src._data.shape)
        except ValueError:
            raise_if_not_broadcastable(input._data, src._data)
            raise
        if broadcast != shape:
            raise RuntimeError(
                f"output with shape {list(shape)} doesn't match the broadcast shape "
                f"{list(broadcast)}"
            )
        # One CopyBackwards straight to src, which broadcasts inside the write (the engine
        # sums its gradient back), as PyTorch records it.
        node = CopyBackwards()
        node.steps = ()
        node.key = None
        node.accumulate = False
        return input._assign_in_place(put(node, input, src))
    if is_number(src):
        check_number(src, "copy_", "other", 1)  # PyTorch's OverflowError for 2**70
    else:
        raise wrong_type("copy_", "other", "Tensor", src, 1)
    input[...] = src
    return input


class FillBackward2(_ZeroGradient):  # fill_(number)
    __slots__ = ()


class ZeroBackward0(_ZeroGradient):  # zero_()
    __slots__ = ()


def fill_(input, value):
    return _fill_with(input, value, FillBackward2)


def zero_(input):
    return _fill_with(input, 0, ZeroBackward0)


def _fill_with(input, value, node_class):
    """Every element set to ``value``. On a tensor that requires grad (or with a value that
    does) PyTorch records FillBackward2/ZeroBackward0 (zero gradient) or, for a Tensor value,
    FillBackward3 (the value's gradient is the sum)."""
    value_tensor = value if isinstance(value, Tensor) else None
    if value_tensor is not None and value_tensor._data.ndim:
        raise RuntimeError(
            "fill_ only supports 0-dimension value tensor but got tensor with "
            f"{value_tensor._data.ndim} dimensions."
        )
    number = check_number(value, "fill_", "value", 1)
    if value_tensor is not None and (
        MODES.special or input._edge is not None or value_tensor._edge is not None
    ):  # ``x[...] = value``'s node: the value's gradient is the sum, the tensor's zero
        node = FillBackward3()
        node.steps = ()
        node.key = None
        node.accumulate = False
        return input._assign_in_place(put(node, input, value_tensor))
    filled = xp.full(input._data.shape, number, dtype=input._data.dtype)
    input._assign_in_place(sampled(node_class(), (input,), filled))
    zero_tangent(input)
    return input


DECLARATIONS = (
    declare("_assign_in_place", None, method=assign_in_place),  # for the other op modules
    declare("add_", None, method=add_, method_aliases=("__iadd__",)),
    declare("sub_", None, method=sub_, method_aliases=("__isub__",)),
    declare("mul_", None, method=mul_, method_aliases=("__imul__",)),
    declare("div_", None, method=div_, method_aliases=("__itruediv__",)),
    declare("pow_", None, method=pow_),
    declare("exp_", None, method=exp_),
    declare("relu_", None, method=relu_),
    declare("clamp_", None, method=clamp_, aliases=("clip_",)),
    declare("copy_", None, method=copy_),
    declare(
        "fill_",
        None,
        method=fill_,
        explain={
            FillBackward2: Rule("filled in place with a number", "fill({x:0})", ATOM, ("0",)),
        },
    ),
    declare(
        "zero_",
        None,
        method=zero_,
        explain={ZeroBackward0: Rule("zeroed in place", "zeros_like({x:0})", ATOM, ("0",))},
    ),
)
