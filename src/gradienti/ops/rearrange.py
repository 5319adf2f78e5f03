"""Rearranging ops: transpose, t, T, mT, permute, movedim, flip, roll, repeat, tile.

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).

Each VJP is the inverse rearrangement (a transpose for a transpose, the inverse permutation,
a flip, a roll back) run through ``shape.run``, so it works on raw arrays and on Tensors alike;
repeat's VJP sums the repeated blocks. Transposes and permutations return NumPy views, as
PyTorch returns views; flip and roll copy, as PyTorch does.
"""

from __future__ import annotations

import warnings

from ..backend import xp
from ..graph.node import SAVE_NOTHING, Op
from ..size import normalize_dim, shape_arguments
from .apply import unary
from .declare import declare
from .explain_rule import POW, Rule
from .jvp_rules import linear
from .saved_names import SavedNames, value
from .shape import reshape, run


class PermuteBackward0(Op):
    __slots__ = ("dims",)
    save = SAVE_NOTHING
    saved_names = SavedNames(dims=value("dims"))
    jvp = staticmethod(linear)
    is_view = True

    @staticmethod
    def forward(ctx, x):
        return xp.transpose(x, ctx.dims)

    @staticmethod
    def backward(ctx, g):
        node = PermuteBackward0()
        node.dims = tuple(sorted(range(len(ctx.dims)), key=ctx.dims.__getitem__))  # inverse
        return run(node, g)


class TransposeBackward0(Op):
    __slots__ = ("dim0", "dim1")
    save = SAVE_NOTHING
    saved_names = SavedNames(dim0=value("dim0"), dim1=value("dim1"))
    jvp = staticmethod(linear)
    is_view = True

    @staticmethod
    def forward(ctx, x):
        return xp.swapaxes(x, ctx.dim0, ctx.dim1)

    @staticmethod
    def backward(ctx, g):
        return run(_transpose_node(ctx.dim0, ctx.dim1), g)


class TBackward0(Op):
    """``x.t()``: a transpose of a matrix, the identity on fewer dimensions."""

    __slots__ = ()
    save = SAVE_NOTHING
    saved_names = SavedNames()
    jvp = staticmethod(linear)
    is_view = True

    @staticmethod
    def forward(ctx, x):
        return x.T  # (a NumPy scalar's T is itself)

    @staticmethod
    def backward(ctx, g):
        if type(g) is xp.ndarray:  # run()'s raw-array case, without a node (F.linear's weight)
            return g.T
        return run(TBackward0(), g)


class FlipBackward0(Op):
    __slots__ = ("dims",)
    save = SAVE_NOTHING
    jvp = staticmethod(linear)

    @staticmethod
    def forward(ctx, x):
        return xp.flip(x, ctx.dims).copy()  # PyTorch's flip copies (a contiguous result)

    @staticmethod
    def backward(ctx, g):
        node = FlipBackward0()
        node.dims = ctx.dims
        return run(node, g)


class RollBackward0(Op):
    """``roll(shifts, dims)``; ``dims`` None rolls the flattened tensor."""

    __slots__ = ("shifts", "dims")
    save = SAVE_NOTHING
    jvp = staticmethod(linear)

    @staticmethod
    def forward(ctx, x):
        return xp.roll(x, ctx.shifts, axis=ctx.dims)

    @staticmethod
    def backward(ctx, g):
        node = RollBackward0()
        node.shifts = tuple(-shift for shift in ctx.shifts)
        node.dims = ctx.dims
        return run(node, g)


class RepeatBackward0(Op):
    __slots__ = ("repeats", "input_shape")
    save = SAVE_NOTHING
    jvp = staticmethod(linear)

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return xp.tile(x, ctx.repeats)

    @staticmethod
    def backward(ctx, g):
        # Output dim i is (repeat k, position j) with index k * size + j: split each dimension
        # in two and sum over the repeats.
        repeats = ctx.repeats
        input_shape = ctx.input_shape
        padded = (1,) * (len(repeats) - len(input_shape)) + tuple(input_shape)
        split = tuple(size for pair in zip(repeats, padded) for size in pair)
        summed = reshape(g, split).sum(tuple(range(0, 2 * len(repeats), 2)))
        return reshape(summed, input_shape)


# ---------------------------------------------------------------------- public functions
def _transpose_node(dim0: int, dim1: int):
    node = TransposeBackward0()
    node.dim0 = dim0
    node.dim1 = dim1
    return node


def transpose(input, dim0: int, dim1: int):
    ndim = input._data.ndim
    return unary(_transpose_node(normalize_dim(dim0, ndim), normalize_dim(dim1, ndim)), input)


def t(input):
    ndim = input._data.ndim
    if ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {ndim}D")
    return unary(TBackward0(), input)


T_WARNING = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
    "and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
    "matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a "
    "tensor."
)
T_0D_WARNING = (
    "Tensor.T is deprecated on 0-D tensors. This function is the identity in these cases."
)


def numpy_T(input):  # noqa: N802 - PyTorch's name for x.T
    ndim = input._data.ndim
    if ndim != 2:
        warnings.warn(T_WARNING if ndim else T_0D_WARNING, UserWarning, stacklevel=2)
    node = PermuteBackward0()
    node.dims = tuple(range(ndim - 1, -1, -1))
    return unary(node, input)


def matrix_T(input):  # noqa: N802 - x.mT
    ndim = input._data.ndim
    if ndim < 2:
        raise RuntimeError(
            f"tensor.mT is only supported on matrices or batches of matrices. Got {ndim}-D tensor."
        )
    return unary(_transpose_node(ndim - 2, ndim - 1), input)


def _dims_arguments(dims: tuple) -> tuple:
    """``f(0, 1)`` and ``f((0, 1))`` / ``f([0, 1])`` alike."""
    if len(dims) == 1 and not isinstance(dims[0], int):
        dims = tuple(dims[0])
    return tuple(int(dim) for dim in dims)


def permute(input, *dims):
    dims = _dims_arguments(dims)
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise RuntimeError(
            "permute(sparse_coo): number of dimensions in the tensor input does not match the "
            "length of the desired ordering of dimensions i.e. input.dim() = "
            f"{ndim} is not equal to len(dims) = {len(dims)}"
        )
    dims = tuple(normalize_dim(dim, ndim) for dim in dims)
    if len(set(dims)) != ndim:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    node = PermuteBackward0()
    node.dims = dims
    return unary(node, input)


def movedim(input, source, destination):
    ndim = input._data.ndim
    source = (source,) if isinstance(source, int) else tuple(source)
    destination = (destination,) if isinstance(destination, int) else tuple(destination)
    if len(source) != len(destination):
        raise RuntimeError(
            f"movedim: Invalid source or destination dims: source ({list(source)} dims) should "
            f"contain the same number of dims as destination ({list(destination)} dims)"
        )
    normalized = []
    for name, dims in (("source", source), ("destination", destination)):
        dims = [normalize_dim(dim, ndim) for dim in dims]
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"movedim: repeated dim in `{name}` ({list(dims)})")
        normalized.append(dims)
    order = [None] * ndim
    for src, dst in zip(*normalized):
        order[dst] = src
    rest = iter(dim for dim in range(ndim) if dim not in normalized[0])
    node = PermuteBackward0()
    node.dims = tuple(dim if dim is not None else next(rest) for dim in order)
    return unary(node, input)


def repeat(input, *sizes):
    repeats = shape_arguments(sizes)
    shape = input._data.shape
    if len(repeats) < len(shape):
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    padded = (1,) * (len(repeats) - len(shape)) + shape
    target = [size * count for size, count in zip(padded, repeats)]
    for size in target:
        if size < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {size}: {target}")
    node = RepeatBackward0()
    node.repeats = repeats
    return unary(node, input)


def tile(input, dims):
    dims = shape_arguments((dims,))
    return repeat(input, (1,) * (input._data.ndim - len(dims)) + dims)


def flip(input, *dims):
    ndim = input._data.ndim
    dims = tuple(normalize_dim(dim, ndim) for dim in _dims_arguments(dims))
    for dim in dims:
        if dims.count(dim) > 1:
            raise RuntimeError(f"dim {dim} appears multiple times in the list of dims")
    node = FlipBackward0()
    node.dims = dims
    return unary(node, input)


def roll(input, shifts, dims=None):
    shifts = (int(shifts),) if isinstance(shifts, int) else tuple(int(s) for s in shifts)
    ndim = input._data.ndim
    if dims is not None:
        dims = (dims,) if isinstance(dims, int) else tuple(dims)
        dims = tuple(normalize_dim(dim, ndim) for dim in dims)
    if len(shifts) != len(dims or ()) and not (dims is None and len(shifts) == 1):
        raise RuntimeError(
            f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims or ())}"
        )
    node = RollBackward0()
    node.shifts = shifts
    node.dims = dims
    return unary(node, input)


# ---------------------------------------------------------------------- explain rules
def _listed(values) -> str:
    return ", ".join(str(value) for value in values)


def _flip_rule(node) -> Rule:
    return Rule(
        f"reversal along dim{'s' * (len(node.dims) > 1)} {_listed(node.dims)}",
        f"{{x:9}}.flip({_listed(node.dims)})",
        passes=("the gradient, flipped back",),
    )


def _roll_rule(node) -> Rule:
    shifts = node.shifts if len(node.shifts) > 1 else node.shifts[0]
    dims = "" if node.dims is None else f", {node.dims if len(node.dims) > 1 else node.dims[0]}"
    return Rule(
        "rolling (a cyclic shift)",
        f"{{x:9}}.roll({shifts}{dims})",
        passes=("the gradient, rolled back",),
    )


def _repeat_rule(node) -> Rule:
    return Rule(
        "repetition",
        f"{{x:9}}.repeat({_listed(node.repeats)})",
        passes=("the gradient, the copies' parts summed",),
    )


_PERMUTE_RULE = Rule(
    "permutation of dims", "{x:9}.permute(…)", passes=("the gradient, permuted back",)
)
_TRANSPOSE_RULE = Rule("transpose", "{x:9}.transpose(…)", passes=("the gradient, transposed back",))

DECLARATIONS = (
    declare(
        "transpose",
        transpose,
        aliases=("swapaxes", "swapdims"),
        explain={TransposeBackward0: _TRANSPOSE_RULE},  # x.mT too
    ),
    declare(
        "t",
        t,
        explain={
            TBackward0: Rule("transpose", "{x:9}ᵀ", POW, passes=("the gradient, transposed back",))
        },
    ),
    declare("T", None, method=property(numpy_T)),  # records PermuteBackward0
    declare("mT", None, method=property(matrix_T)),  # records TransposeBackward0
    declare("permute", permute, explain={PermuteBackward0: _PERMUTE_RULE}),
    declare("movedim", movedim, aliases=("moveaxis",)),  # records PermuteBackward0
    declare("repeat", None, method=repeat, explain={RepeatBackward0: _repeat_rule}),
    declare("tile", tile),  # records RepeatBackward0
    declare("flip", flip, explain={FlipBackward0: _flip_rule}),
    declare("roll", roll, explain={RollBackward0: _roll_rule}),
)
