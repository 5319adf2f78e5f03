"""Padding: ``torch.constant_pad_nd`` and ``nn.functional.pad``'s four modes, as ATen's ``pad``.

``pad`` lists (left, right) pairs from the last dimension backwards; a negative amount crops.

* ``constant``: any number of trailing dimensions; one node, ConstantPadNdBackward0, whose VJP is
  the gradient padded by the negated amounts (a crop, and zeros where the input was cropped):
  the same op again, so a recorded backward records ConstantPadNdBackward0 too, as PyTorch's.
* ``reflect`` and ``replicate``: the last 1, 2 or 3 dimensions of an input with one or two more
  (ReflectionPad1D/2D/3DBackward0, ReplicationPad...): each padded axis is an index map
  (ops/axis_maps.py). Reflection mirrors about the edge element (``d c b | a b c d | c b a``),
  replication repeats it.
* ``circular``: composed as ATen composes it, so it records the same nodes (CopySlices): a new
  tensor gets the kept part of the input, then each padded axis's wrapped-around strips copied
  from the tensor itself, left strip first (so a corner is written more than once).
"""

from __future__ import annotations

import math

from ..backend import OVERFLOW_TYPE_NAMES, SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from ..batching import writable_for
from ..graph.node import NO_EDGE, SAVE_INPUTS, SAVE_NOTHING, Op
from ..tensor import Tensor, wrap
from .apply import tensor_argument, unary
from .axis_maps import axis_map_nodes
from .declare import declare, explain_nodes
from .explain_rule import Rule

ReflectionPad1DBackward0, ReflectionPad1DBackwardBackward0 = axis_map_nodes(
    "ReflectionPad1D", SAVE_INPUTS
)
ReflectionPad2DBackward0, ReflectionPad2DBackwardBackward0 = axis_map_nodes(
    "ReflectionPad2D", SAVE_INPUTS
)
ReflectionPad3DBackward0, ReflectionPad3DBackwardBackward0 = axis_map_nodes(
    "ReflectionPad3D", SAVE_INPUTS
)
ReplicationPad1DBackward0, ReplicationPad1DBackwardBackward0 = axis_map_nodes(
    "ReplicationPad1D", SAVE_INPUTS
)
ReplicationPad2DBackward0, ReplicationPad2DBackwardBackward0 = axis_map_nodes(
    "ReplicationPad2D", SAVE_INPUTS
)
ReplicationPad3DBackward0, ReplicationPad3DBackwardBackward0 = axis_map_nodes(
    "ReplicationPad3D", SAVE_INPUTS
)
_INDEX_PAD_NODES = {
    ("reflect", 1): ReflectionPad1DBackward0,
    ("reflect", 2): ReflectionPad2DBackward0,
    ("reflect", 3): ReflectionPad3DBackward0,
    ("replicate", 1): ReplicationPad1DBackward0,
    ("replicate", 2): ReplicationPad2DBackward0,
    ("replicate", 3): ReplicationPad3DBackward0,
}
_KERNEL_NAMES = {"reflect": "reflection_pad", "replicate": "replication_pad"}
_AXIS_LETTERS = ("D", "H", "W")


# ---------------------------------------------------------------------- constant
def _crop_and_place(shape: tuple, pairs: list) -> tuple:
    """For (left, right) pairs from the last axis backwards: the output's shape, and the keys of
    the input's kept part and of where it goes in the output."""
    out_shape, source, target = list(shape), [slice(None)] * len(shape), [slice(None)] * len(shape)
    for offset, (left, right) in enumerate(pairs):
        axis = len(shape) - 1 - offset
        kept = max(0, shape[axis] - max(-left, 0) - max(-right, 0))
        out_shape[axis] = shape[axis] + left + right
        source[axis] = slice(max(-left, 0), max(-left, 0) + kept)
        target[axis] = slice(max(left, 0), max(left, 0) + kept)
    return tuple(out_shape), tuple(source), tuple(target)


def _constant_pad_array(x, pairs: list, value):
    out_shape, source, target = _crop_and_place(x.shape, pairs)
    out = writable_for(xp.full(out_shape, value, dtype=x.dtype), x)
    out[target] = x[source]
    return out


class ConstantPadNdBackward0(Op):
    __slots__ = ("pad", "value")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        return _constant_pad_array(x, _pairs(ctx.pad), ctx.value)

    @staticmethod
    def backward(ctx, g):
        # The gradient cropped back (the negated amounts): zeros where the input was cropped.
        negated = [-amount for amount in ctx.pad]
        if type(g) is Tensor:
            return constant_pad_nd(g, negated)
        return _constant_pad_array(g, _pairs(negated), 0)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        (tangent,) = tangents
        return constant_pad_nd(tangent, ctx.pad)  # the padding itself has no tangent


def _pairs(pad) -> list:
    return [(pad[2 * i], pad[2 * i + 1]) for i in range(len(pad) // 2)]


def _is_index(amount) -> bool:
    """An int as PyTorch's int-list argument takes one: a Python or NumPy int (not a bool),
    or a one-element integral Tensor (``lengths[i]`` in ``(0, max_len - lengths[i])``)."""
    if isinstance(amount, Tensor):
        return amount._data.dtype.kind in "iu" and amount.numel() == 1
    return isinstance(amount, int | xp.integer) and not isinstance(amount, bool)


def _int_list(pad, function: str) -> list:
    if isinstance(pad, Tensor):
        raise TypeError(
            f"{function}(): argument 'pad' (position 2) must be tuple of ints, not Tensor"
        )
    for position, amount in enumerate(pad):
        if not _is_index(amount):
            raise TypeError(
                f"{function}(): argument 'pad' (position 2) must be tuple of ints, but found "
                f"element of type {type(amount).__name__} at pos {position}"
            )
    return [int(amount) for amount in pad]


def constant_pad_nd(input, pad, value=0):
    tensor_argument(input, "constant_pad_nd", "input", 1)
    pad = _int_list(pad, "constant_pad_nd")
    ndim = input.dim()
    if len(pad) % 2:
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad)}")
    if len(pad) > 2 * ndim:
        raise RuntimeError(
            "Length of pad should be no more than twice the number of dimensions of the input. "
            f"Pad length is {len(pad)} while the input has {ndim} dimensions."
        )
    shape = tuple(input.shape)
    for offset, (left, right) in enumerate(_pairs(pad)):
        axis = ndim - 1 - offset
        # ATen crops by the negative amounts first (narrow), then pads: a crop beyond the
        # size fails even where the positive amount would make the output size non-negative
        if shape[axis] + min(left, 0) + min(right, 0) < 0:
            raise RuntimeError("narrow(): length must be non-negative.")
    node = ConstantPadNdBackward0()
    node.pad = tuple(pad)
    # (ATen only crops when no amount is positive: the value is never converted then)
    node.value = checked_scalar_value(value, input._data.dtype) if max(pad) > 0 else value
    return unary(node, input)


def checked_scalar_value(value, dtype):
    """A Scalar argument (the padding value, threshold's threshold and value) as c10's
    checked_convert takes it into ``dtype``: a bool always; a
    float out of the type's range (NaN and ±inf too, for an integral type) refused; an int
    refused out of range, except that a negative one wraps into an unsigned type (two's
    complement) down to -max."""
    if dtype.kind == "b" or isinstance(value, bool | xp.bool_):
        return value
    if dtype.kind == "f":
        highest = float(xp.finfo(dtype).max)
        overflows = math.isfinite(value) and abs(value) > highest
    elif isinstance(value, int | xp.integer):
        limits = xp.iinfo(dtype)
        lowest = -int(limits.max) if limits.min == 0 else int(limits.min)
        overflows = not lowest <= value <= limits.max
        if not overflows and value < 0 and limits.min == 0:
            value += int(limits.max) + 1  # (NumPy refuses a negative int for uint8)
    else:
        limits = xp.iinfo(dtype)
        overflows = not (math.isfinite(value) and limits.min <= value <= limits.max)
        if not overflows:
            value = int(value)  # (C++'s conversion truncates toward 0: threshold -1.5 is -1)
    if overflows:
        raise RuntimeError(
            f"value cannot be converted to type {OVERFLOW_TYPE_NAMES[dtype.name]} without overflow"
        )
    return value


# ---------------------------------------------------------------------- reflect, replicate
def _index_taps(size: int, left: int, right: int, mode: str) -> tuple:
    """The taps of one padded axis: output position j reads input position j - left, mirrored
    about the edge elements (reflect) or held at them (replicate)."""
    position = xp.arange(size + left + right) - left
    if mode == "reflect":
        position = xp.abs(position)
        position = xp.where(position >= size, 2 * (size - 1) - position, position)
    else:
        position = xp.clip(position, 0, size - 1)
    return ((position, None),)


def _check_index_pad(input, pairs: list, mode: str) -> None:
    count, shape, ndim = len(pairs), tuple(input.shape), input.dim()
    non_batch = shape[1:] if ndim == count + 2 else shape  # (a batch may be empty)
    if any(size == 0 for size in non_batch):
        raise RuntimeError(
            f"Expected {count + 1}D or {count + 2}D (batch mode) tensor with possibly 0 batch "
            f"size and other non-zero dimensions for input, but got: {list(shape)}"
        )
    if mode == "reflect":
        for offset, (left, right) in enumerate(pairs):
            axis = ndim - 1 - offset
            if left >= shape[axis] or right >= shape[axis]:
                raise RuntimeError(
                    f"Argument #{4 + 2 * offset}: Padding size should be less than the "
                    "corresponding input dimension, but got: padding "
                    f"({left}, {right}) at dimension {axis} of input {list(shape)}"
                )
    sizes = [shape[ndim - 1 - offset] + left + right for offset, (left, right) in enumerate(pairs)]
    # ATen refuses only an output with every padded size below 1; another negative size fails
    # in the allocation, and a size of 0 gives an empty result
    if all(size < 1 for size in sizes):
        letters = _AXIS_LETTERS[3 - count :]
        given = ", ".join(
            f"{letter}: {shape[ndim - count + i]}" for i, letter in enumerate(letters)
        )
        made = " ".join(f"{letter}: {sizes[count - 1 - i]}" for i, letter in enumerate(letters))
        if count == 3:  # (ATen's texts differ so)
            given = given.replace(",", "", 1)
        elif count == 2 and mode == "replicate":
            given += " "
        raise RuntimeError(f"input ({given}) is too small. Calculated output {made}")
    if any(size < 0 for size in sizes):  # (ATen's reflect and replicate fail differently)
        if mode == "reflect":
            raise RuntimeError("numel: integer multiplication overflow")
        out_shape = list(shape[: ndim - count]) + sizes[::-1]
        negative = next(size for size in out_shape if size < 0)
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {negative}: {out_shape}"
        )
    if input._data.dtype == xp.bool_:  # (the kernel refuses it, after the checks above)
        name = SCALAR_TYPE_NAMES[from_numpy_dtype(input._data.dtype).name]
        kernel = f"{_KERNEL_NAMES[mode]}{count}d"
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")


def index_pad(input, pairs: list, mode: str):
    """reflect or replicate padding of the last ``len(pairs)`` axes (checked by ``pad``)."""
    _check_index_pad(input, pairs, mode)
    ndim, shape = input.dim(), tuple(input.shape)
    count = len(pairs)
    node = _INDEX_PAD_NODES[mode, count]()
    # maps are listed from the first padded axis on; pairs from the last
    node.maps = tuple(
        _index_taps(shape[ndim - count + k], *pairs[count - 1 - k], mode) for k in range(count)
    )
    node.scatter_maps = node.maps
    node.sizes = shape[ndim - count :]
    return unary(node, input)


# ---------------------------------------------------------------------- circular
def _key(ndim: int, axis: int, start: int, stop: int) -> tuple:
    key = [slice(None)] * ndim
    key[axis] = slice(start, stop)
    return tuple(key)


def circular_pad(input, pairs: list):
    """ATen's _pad_circular, step by step (see the module docstring)."""
    ndim, shape = input.dim(), tuple(input.shape)
    out_shape = list(shape)
    for offset, (left, right) in reversed(list(enumerate(pairs))):  # (ATen checks so)
        axis = ndim - 1 - offset
        out_shape[axis] = shape[axis] + left + right
        if left > shape[axis] or right > shape[axis]:
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if out_shape[axis] < 0:
            raise RuntimeError("Negative padding value is resulting in an empty dimension")
    # (under vmap a buffer of the input's batching, so that the samples' values can go in)
    buffer = writable_for(xp.empty(tuple(out_shape), dtype=input._data.dtype), input._data)
    out = wrap(buffer, NO_EDGE)
    # the input's kept part, narrowed one padded axis at a time (ATen's chain of slices: a
    # SliceBackward0 each, even for a whole axis)
    out_key, kept = [slice(None)] * ndim, input
    for offset, (left, right) in enumerate(pairs):
        axis = ndim - 1 - offset
        out_key[axis] = slice(max(left, 0), out_shape[axis] - max(right, 0))
        start, stop = max(-left, 0), shape[axis] - max(-right, 0)
        kept = kept.narrow(axis, start, max(stop - start, 0))  # (ATen's slice: empty)
    out[tuple(out_key)] = kept
    if 0 in out_shape:  # an empty result: ATen's strip copies are empty too
        return out
    for offset, (left, right) in enumerate(pairs):
        axis = ndim - 1 - offset
        size = out_shape[axis]
        if left > 0:  # the left strip from the right end of the kept part
            out[_key(ndim, axis, 0, left)] = out.narrow(axis, size - left - max(right, 0), left)
        if right > 0:  # the right strip from its left end
            out[_key(ndim, axis, size - right, size)] = out.narrow(axis, max(left, 0), right)
    return out


# ---------------------------------------------------------------------- F.pad
_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input, pad, mode: str = "constant", value=None):
    """``torch.nn.functional.pad``: ATen's ``_pad_enum`` (checks, then the mode's op)."""
    tensor_argument(input, "pad", "input", 1)
    if mode not in _MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pad = _int_list(pad, "pad")
    ndim = input.dim()
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) > 2 * ndim:
        raise RuntimeError(
            "Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(pad)} and input of dimension {ndim}"
        )
    if mode == "constant":  # (F.pad's value is a float: an int goes through a double)
        return constant_pad_nd(input, pad, 0.0 if value is None else float(value))
    if value is not None and value != 0:
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    count = len(pad) // 2
    if count not in (1, 2, 3) or ndim not in (count + 1, count + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {ndim}D input tensor.\n"
            "Supported combinations for non-constant padding:\n"
            "  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    if mode == "circular":
        return circular_pad(input, _pairs(pad))
    return index_pad(input, _pairs(pad), mode)


# ---------------------------------------------------------------------- explain rules
def _axes_text(count: int) -> str:
    return "the last axis" if count == 1 else f"the last {count} axes"


def _index_pad_rule(mode_words: str, backward: bool):
    def rule(node) -> Rule:
        axes = _axes_text(len(node.sizes))
        sizes = "×".join(str(int(size)) for size in node.sizes)
        if backward:
            return Rule(
                f"{mode_words} padding's backward over {axes} (recorded by a backward pass)",
                "pad_backward({x:0})",
                passes=(f"the gradient read where the padding copied from: {mode_words} padding",),
            )
        return Rule(
            f"{mode_words} padding of {axes} (input {sizes})",
            "pad({x:0})",
            passes=(
                "the gradient of each element, plus the gradients of the padding elements "
                "copied from it",
            ),
        )

    return rule


def _constant_pad_rule(node) -> Rule:
    return Rule(
        f"padded with {node.value} by {list(node.pad)} (negative amounts crop)",
        f"constant_pad_nd({{x:0}}, {list(node.pad)})",
        passes=("the gradient with the padding cut off (zeros where the input was cropped)",),
    )


_RULES = {}
for _mode, _words in (("reflect", "reflection"), ("replicate", "replication")):
    for _count in (1, 2, 3):
        _node_class = _INDEX_PAD_NODES[_mode, _count]
        _RULES[_node_class] = _index_pad_rule(_words, backward=False)
        _RULES[_node_class.partner] = _index_pad_rule(_words, backward=True)

DECLARATIONS = (
    declare(
        "constant_pad_nd",
        constant_pad_nd,
        method=None,
        explain={ConstantPadNdBackward0: _constant_pad_rule},
    ),
    explain_nodes(_RULES),
)
