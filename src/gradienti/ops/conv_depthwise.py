"""Depthwise convolution on raw arrays: ``groups`` equal to the input's channels, so every
output channel reads one input channel (``m = out/in`` outputs per input channel, the channel
multiplier). No columns are built; per kernel offset ``k`` the convolution is one shifted
(strided) slice of the padded input scaled per channel::

    out[n, c, j, p]   = b[c*m + j] + sum_k  w[c*m + j, 0, k] * x_pad[n, c, window_k(p)]
    grad_x_pad[n, c, window_k(p)] += sum_j  w[c*m + j, 0, k] * g[n, c, j, p]
    grad_w[c*m + j, 0, k]          = sum_{n,p}  g[n, c, j, p] * x_pad[n, c, window_k(p)]

(``window_k(p) = p*stride + k*dilation`` per dimension.) The same passes as im2col's product
but without the columns (``prod(kernel)`` times the input, written and read once each), and
run block by block: a block of samples and channels whose output fits in the L2 cache goes
through every offset before the next block, so the running sums are read from the cache, not
from memory, on each of the ``prod(kernel)`` passes (measured 3x faster than whole-array passes
on a (32, 64, 28, 28) input).

These functions take plain ndarrays only (``applies`` says when): under vmap the general path
(conv_arrays.py) runs, whose helpers fold the samples into the batch.
"""

from __future__ import annotations

from ..backend import xp
from .conv_arrays import ConvGeometry, product_of

# Elements of one block's output: 64K float32 (256 KiB) keep the output, the input's window
# and the scratch product of a block within a 1 MiB L2 cache.
BLOCK_ELEMENTS = 1 << 16
# The dtypes this path is measured and tested on; float16 and integers keep the general path.
_FAST_DTYPES = frozenset(("float32", "float64"))


def applies(x, w, groups: int) -> bool:
    """Whether the depthwise kernels run: one input channel per group, plain float arrays."""
    return (
        groups > 1
        and w.shape[1] == 1
        and type(x) is xp.ndarray
        and type(w) is xp.ndarray
        and x.dtype.name in _FAST_DTYPES
    )


def _blocks(n: int, c: int, per_channel: int):
    """(samples, channels) slice pairs covering ``(n, c)``, each with about ``BLOCK_ELEMENTS``
    output elements (``per_channel`` per channel and sample); whole samples when they fit,
    else even runs of channels of one sample."""
    per_sample = c * per_channel
    if per_sample <= BLOCK_ELEMENTS:
        samples = max(1, BLOCK_ELEMENTS // per_sample)
        return [(slice(s, s + samples), slice(None)) for s in range(0, n, samples)]
    parts = -(-per_sample // BLOCK_ELEMENTS)
    channels = -(-c // parts)
    return [
        (slice(s, s + 1), slice(first, first + channels))
        for s in range(n)
        for first in range(0, c, channels)
    ]


def _padded(geometry: ConvGeometry, x):
    """The input inside its zero padding (the input itself without padding)."""
    if geometry.interior is None:
        return x
    grid = xp.zeros(x.shape[:2] + geometry.padded, dtype=x.dtype)
    grid[geometry.interior] = x
    return grid


def _offset_weights(geometry: ConvGeometry, w, channels: int):
    """``(K, C, m, 1, ...)``: each kernel offset's weights, broadcast over the positions."""
    multiplier = w.shape[0] // channels
    kernel = product_of(geometry.kernel)
    per_offset = w.reshape(channels, multiplier, kernel).transpose(2, 0, 1)
    return xp.ascontiguousarray(per_offset).reshape(
        (kernel, channels, multiplier) + (1,) * len(geometry.kernel)
    )


def forward(geometry: ConvGeometry, x, w, b):
    """The depthwise convolution of ``x`` (N, C, *size) by ``w`` (C*m, 1, *kernel), plus
    ``b`` (C*m,) or None."""
    n, c = x.shape[:2]
    multiplier = w.shape[0] // c
    grid = _padded(geometry, x)
    weights = _offset_weights(geometry, w, c)
    spatial = (1,) * len(geometry.kernel)
    bias = None if b is None else b.reshape((c, multiplier) + spatial)
    out = xp.empty((n, c, multiplier) + geometry.out, dtype=x.dtype)
    windows = [window[2:] for window in geometry.windows]
    scratch = None
    for samples, channels in _blocks(n, c, multiplier * product_of(geometry.out)):
        block = out[samples, channels]
        if scratch is None:
            scratch = xp.empty_like(block)
        product = scratch[: block.shape[0], : block.shape[1]]
        source = grid[samples, channels]
        for k, window in enumerate(windows):
            piece = source[(slice(None), slice(None), None) + window]  # (n, c, 1, *out)
            if k == 0:
                xp.multiply(piece, weights[0, channels], out=block)
            else:
                xp.multiply(piece, weights[k, channels], out=product)
                block += product
        if bias is not None:
            block += bias[channels]
    return out.reshape((n, c * multiplier) + geometry.out)


def input_grad(geometry: ConvGeometry, g, w, channels: int):
    """The input's gradient: each offset's slice of the padded input gets ``g`` times that
    offset's weight (summed over the channel multiplier)."""
    n = g.shape[0]
    multiplier = w.shape[0] // channels
    g_split = g.reshape((n, channels, multiplier) + geometry.out)
    weights = _offset_weights(geometry, w, channels)
    grid = xp.zeros((n, channels) + geometry.padded, dtype=g.dtype)
    windows = [window[2:] for window in geometry.windows]
    scratch = None
    for samples, block_channels in _blocks(n, channels, multiplier * product_of(geometry.out)):
        g_block = g_split[samples, block_channels]
        if scratch is None:
            scratch = xp.empty_like(g_block)
        product = scratch[: g_block.shape[0], : g_block.shape[1]]
        target = grid[samples, block_channels]
        for k, window in enumerate(windows):
            xp.multiply(g_block, weights[k, block_channels], out=product)
            spread = product[:, :, 0] if multiplier == 1 else product.sum(axis=2)
            target[(slice(None), slice(None)) + window] += spread
    return geometry._unpadded(grid)


def weight_grad(geometry: ConvGeometry, g, x, w_shape: tuple):
    """The weight's gradient: per offset, the dot product of ``g`` with that offset's slice of
    the padded input, per channel (and multiplier), over the samples and positions."""
    n, c = x.shape[:2]
    multiplier = w_shape[0] // c
    g_split = g.reshape((n, c, multiplier) + geometry.out)
    grid = _padded(geometry, x)
    axes = "hwdtuv"[: len(geometry.kernel)]
    subscripts = f"ncj{axes},nc{axes}->cj"  # sum over samples and positions
    windows = [window[2:] for window in geometry.windows]
    sums = xp.zeros((len(windows), c, multiplier), dtype=g.dtype)
    for samples, channels in _blocks(n, c, multiplier * product_of(geometry.out)):
        g_block = g_split[samples, channels]
        source = grid[samples, channels]
        for k, window in enumerate(windows):
            sums[k, channels] += xp.einsum(
                subscripts, g_block, source[(slice(None), slice(None)) + window]
            )
    return xp.ascontiguousarray(sums.transpose(1, 2, 0)).reshape(w_shape)
