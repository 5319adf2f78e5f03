"""The array-only steps of batch and layer normalisation (normalization.py), in few temporaries.

On plain arrays the backward needs no graph, so it can write into its own temporaries: each
VJP below makes two or three passes' worth of full-size arrays where the generic formula (which
also runs on Tensors, for a recorded backward) allocates one per operation. With ``M`` the
number of elements per statistic and ``A`` the normalised axes::

    dx = invstd * (gw - sum_A(gw) / M - xhat * sum_A(gw * xhat) / M),   gw = g * w.

The VJPs are called only where ``plain_arrays`` holds (the callers check), and
never write into ``g`` or the saved inputs.
"""

from __future__ import annotations

from ..backend import xp


def count_over(shape: tuple, axes: tuple) -> int:
    """The number of elements per statistic: the product of ``shape`` over ``axes``."""
    count = 1
    for axis in axes:
        count *= shape[axis]
    return count


def normalized(x, mean, invstd):
    """xhat = (x - mean) * invstd; for plain arrays in one temporary (scaled in place) when
    that keeps the dtype that the two products would give."""
    xhat = x - mean
    if type(xhat) is xp.ndarray and xhat.dtype == xp.result_type(xhat, invstd):
        xhat *= invstd
        return xhat
    return xhat * invstd


def plain_arrays(g, saved, invstd) -> bool:
    """Whether ``g``, the saved inputs and ``invstd`` are plain arrays (no Tensors: a recorded
    backward; no batched arrays: vmap) of one dtype, which the in-place steps keep."""
    ndarray, dtype = xp.ndarray, g.dtype
    return (
        type(g) is ndarray
        and type(invstd) is ndarray
        and invstd.dtype == dtype
        and all(a is None or (type(a) is ndarray and a.dtype == dtype) for a in saved)
    )


def layer_norm_array_vjp(node, g, saved, mean, invstd) -> tuple:
    """LayerNorm's (dx, dw, db) in three temporaries: xhat, g w and one scratch array."""
    x = saved[0]
    axes = node.axes
    count = count_over(x.shape, axes)
    xhat = normalized(x, mean, invstd)
    edges = node._next
    grads = [None] * len(edges)
    scratch = None
    if edges[0] is not None:
        gw = g * saved[1].reshape(node.param_view) if node.has_weight else g.copy()
        scratch = gw * xhat
        mean_gw_xhat = scratch.sum(axis=axes, keepdims=True) / count
        mean_gw = gw.sum(axis=axes, keepdims=True) / count
        xp.multiply(xhat, mean_gw_xhat, out=scratch)
        scratch += mean_gw
        gw -= scratch
        gw *= invstd
        grads[0] = gw
    if node.has_weight and edges[1] is not None:
        if scratch is None:
            scratch = g * xhat
        else:
            xp.multiply(g, xhat, out=scratch)
        grads[1] = node.param_grad(scratch)
    if node.has_bias and edges[-1] is not None:
        grads[-1] = node.param_grad(g)
    return tuple(grads)


def batch_norm_array_vjp(node, g, saved, mean, invstd) -> tuple:
    """BatchNorm's (dx, dw, db) from batch statistics in two temporaries (xhat, one scratch
    array). Here w is constant over A, which is also the axes w is broadcast over, so
    sum_A(g w) = w sum_A(g), and sum_A(g) and sum_A(g xhat) are db and dw themselves."""
    x = saved[0]
    axes = node.axes
    count = count_over(x.shape, axes)
    xhat = normalized(x, mean, invstd)
    scratch = g * xhat
    sum_g_xhat = scratch.sum(axis=axes, keepdims=True)
    sum_g = g.sum(axis=axes, keepdims=True)
    scale = invstd * saved[1].reshape(node.param_view) if node.has_weight else invstd
    xp.multiply(xhat, sum_g_xhat / count, out=scratch)
    scratch += sum_g / count
    xp.subtract(g, scratch, out=scratch)
    scratch *= scale
    edges = node._next
    grads = [None] * len(edges)
    grads[0] = scratch
    if node.has_weight and edges[1] is not None:
        grads[1] = sum_g_xhat.reshape(node.param_shape)
    if node.has_bias and edges[-1] is not None:
        grads[-1] = sum_g.reshape(node.param_shape)
    return tuple(grads)
