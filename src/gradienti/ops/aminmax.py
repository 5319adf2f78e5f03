"""``aminmax(input, *, dim=None, keepdim=False)``: the smallest and the largest elements at
once, as ``torch.return_types.aminmax(min, max)``, both outputs of one ``AminmaxBackward0``.

The gradient of each is amin's and amax's: shared equally among the elements tied for the
extreme (NaN where the extreme is NaN, as PyTorch's).
"""

from __future__ import annotations

from ..arguments import check_int
from ..graph.node import SAVE_INPUTS, Op
from ..size import normalize_dim
from .apply import unary_multi
from .declare import declare
from .elementwise import where
from .explain_rule import Rule
from .extrema import return_types
from .reduce import keep_dims, raw, reduction_dims
from .reduce import sum as reduce_sum
from .saved_names import SavedNames, value


def _dim_as_saved(node):
    """PyTorch's ``dim``: None when not given, a negative one as its uint64 bits."""
    return None if node.given_dim is None else node.given_dim % 2**64


class AminmaxBackward0(Op):
    """Both extremes over ``dims`` (every axis when no dim is given)."""

    __slots__ = ("dims", "keepdim", "given_dim", "input_shape", "num_outputs", "output_meta")
    save = SAVE_INPUTS
    saved_names = SavedNames(dim=value(_dim_as_saved), keepdim=value("keepdim"), self=0)

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        dims, keepdim = ctx.dims, ctx.keepdim
        return x.min(axis=dims, keepdims=keepdim), x.max(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g_min, g_max):
        (x,) = ctx.saved_tensors
        x = raw(x)
        dims, keepdim, shape = ctx.dims, ctx.keepdim, ctx.input_shape
        total = None
        for g, extreme in ((g_min, x.min(axis=dims, keepdims=True)), (g_max, None)):
            if extreme is None:
                extreme = x.max(axis=dims, keepdims=True)
            chosen = x == extreme
            count = chosen.sum(axis=dims, keepdims=True, dtype=x.dtype)
            # (g / count) * chosen, as PyTorch's amin/amax: NaN where the extreme is NaN
            share = (keep_dims(g, dims, keepdim, shape) / count) * chosen.astype(x.dtype)
            total = share if total is None else total + share
        return total

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # Each output's tangent: the mean of the tangents of its tied extremes.
        x = raw(primals[0])
        dims, keepdim = ctx.dims, ctx.keepdim
        results = []
        for extreme in (x.min(axis=dims, keepdims=True), x.max(axis=dims, keepdims=True)):
            chosen = x == extreme
            count = chosen.sum(axis=dims, keepdims=keepdim, dtype=x.dtype)
            results.append(reduce_sum(where(chosen, tangents[0], 0.0), dims, keepdim) / count)
        return tuple(results)


def aminmax(input, *, dim=None, keepdim: bool = False):
    shape = input._data.shape
    if dim is None:
        if 0 in shape:
            raise RuntimeError(
                "aminmax(): cannot compute aminmax over an empty dimension as the operation "
                "has no identity."
            )
        dims = tuple(range(len(shape)))
    else:
        dim = check_int(dim, "aminmax", "dim")  # (True was read as dim 1)
        axis = normalize_dim(dim, max(len(shape), 1))
        if shape and shape[axis] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {axis} to have non-zero size.")
        dims = reduction_dims(dim, len(shape))
    node = AminmaxBackward0()
    node.dims = dims
    node.keepdim = keepdim
    node.given_dim = dim
    low, high = unary_multi(node, input)
    return return_types.aminmax(low, high)


def _aminmax_rule(node) -> Rule:
    over = "of all elements" if node.given_dim is None else f"over dim {node.dims}"
    return Rule(
        f"smallest and largest {over}",
        "aminmax({x:0})",
        passes=("each output's gradient, shared equally among the elements tied for it",),
    )


DECLARATIONS = (declare("aminmax", aminmax, explain={AminmaxBackward0: _aminmax_rule}),)
