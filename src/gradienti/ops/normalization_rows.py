"""Layer and batch normalisation on plain contiguous arrays, in the fewest passes over memory.

The fused kernels that PyTorch runs read ``x`` once or twice and allocate only their results;
NumPy makes every step a pass and every result a fresh array (for large arrays fresh pages,
whose faults can cost more than the arithmetic), and an operand broadcast along a row (a
per-row mean) costs about two contiguous passes. So here:

- the statistics and the backward's reductions are matrix-vector products (BLAS: no
  temporary, faster than ``sum``) on 2-D views, and the variance a row dot product
  (``vecdot``) of the centered values;
- Layer norm views ``x`` as ``(R, M)`` rows (M: the normalised elements) and works through
  them in blocks of ``BLOCK_BYTES``, so that every pass after a block's first reads it from
  the core's cache, as a fused kernel would, and its temporaries are block-sized scratch
  arrays: the forward allocates only its output, the backward only dx (layer_norm_rows_vjp
  gives the formula). Nothing is kept for the backward but PyTorch's mean and rstd.
- Batch norm views ``x`` as ``(N, C, S)`` (S: the spatial positions) and its ``(N C, S)``
  rows. The forward keeps ``centered = x - mean`` for the backward, whose per-channel sums are
  row sums and row dot products summed over N and which, with ``xhat = centered * invstd``::

      dx = w invstd (g - sum(g) / M - centered * invstd^2 * sum(g * centered) / M)

  computes dx in ``centered`` itself: no full-size array in the backward at all.
  The buffer travels as ``node.owned = (x, centered)`` (None: the forward took the general
  path); the backward takes it only when its saved input is still that ``x`` (a saved-tensor
  hook may hand back another array). A second backward (``retain_graph=True``) rebuilds it
  from the saved input with the forward's own step, so that both give bitwise the same
  gradients (as gradcheck's reentrancy check asks).

Accuracy: the sums over a row are BLAS dot products (several partial sums), the variance is
taken of the centered values (two passes, as the reference formula; layer norm corrects its
mean by the centered values' mean, the corrected two-pass algorithm), so the paths apply only
while a row has at most ``ROW_LIMIT`` elements; longer rows take the general path (NumPy's
pairwise sums).
"""

from __future__ import annotations

from ..backend import xp

ROW_LIMIT = 1 << 14
# Layer norm works through its rows in blocks of about this size, so that each of its passes
# but the first reads the block from the core's cache instead of from memory (as a fused
# kernel would). Measured on the layernorm benchmark: 256 KiB to 2 MiB are about as fast;
# smaller blocks pay NumPy's cost per call, whole arrays (no blocks) take 1.7x as long.
BLOCK_BYTES = 1 << 19
# Below this many elements the general path is as fast or faster: it makes fewer NumPy calls.
MIN_SIZE = 1 << 13
# Batch norm's row path sums rows of S spatial positions: short rows make the row dot products
# slow (BatchNorm1d on (N, C): one element a row), so they take the general path.
MIN_POSITIONS = 16


def fits_rows(x, params, row_length: int, rows: int) -> bool:
    """Whether the row paths apply: plain C-contiguous float32/float64 ``x`` with parameters of
    its dtype (no Tensors, no vmap's BatchedArray) of at least ``MIN_SIZE`` elements, non-empty
    rows of at most ``ROW_LIMIT``."""
    ndarray = xp.ndarray
    return (
        type(x) is ndarray
        and x.flags.c_contiguous
        and x.size >= MIN_SIZE
        and 0 < row_length <= ROW_LIMIT
        and rows > 0
        and all(p is None or (type(p) is ndarray and p.dtype == x.dtype) for p in params)
    )


def _ones(length: int, dtype):
    return xp.ones(length, dtype=dtype)


# ---------------------------------------------------------------------- layer norm
def _row_blocks(rows: int, row_length: int, itemsize: int):
    """Slices of ``BLOCK_BYTES`` worth of whole rows covering ``rows`` (the first one sizes
    the scratch arrays: never more rows than there are)."""
    step = max(1, min(rows, BLOCK_BYTES // (row_length * itemsize)))
    return [slice(start, start + step) for start in range(0, rows, step)]


def layer_norm_rows_forward(ctx, x, params):
    """The forward of layer norm over the last ``M`` elements, one block of rows at a time
    (``xhat`` in a block-sized scratch array); sets ``ctx.mean``, ``ctx.invstd``, ``ctx.var``
    (reduced axes kept)."""
    dtype = x.dtype
    row_count = _lead_size(x.shape, ctx.axes)
    rows = x.reshape(row_count, -1)
    row_length = rows.shape[1]
    ones = _ones(row_length, dtype)
    eps = dtype.type(ctx.eps)
    weight = params[0].reshape(row_length) if ctx.has_weight else None
    bias = params[-1].reshape(row_length) if ctx.has_bias else None
    out = xp.empty_like(rows)
    blocks = _row_blocks(row_count, row_length, dtype.itemsize)
    scratch = xp.empty((blocks[0].stop, row_length), dtype=dtype)
    mean, var, invstd = (xp.empty(row_count, dtype=dtype) for _ in range(3))
    shifts = xp.empty(blocks[0].stop, dtype=dtype)
    for block in blocks:
        x_block, out_block = rows[block], out[block]
        # (without weight and bias xhat is the output)
        xhat = scratch[: len(x_block)] if weight is not None or bias is not None else out_block
        mean_block = xp.matmul(x_block, ones, out=mean[block])
        mean_block /= row_length
        xp.subtract(x_block, mean_block[:, None], out=xhat)
        # The BLAS row sum of values far from zero is off by several of their rounding steps
        # (float32, long rows: up to 3x PyTorch's error after normalising). The centered
        # values' own mean is that error, found exactly enough: the corrected two-pass
        # algorithm moves the mean and the centered values by it (one pass over the cached
        # block; mean(c - shift) = 0 up to rounding at the values' own scale).
        shift = xp.matmul(xhat, ones, out=shifts[: len(x_block)])
        shift /= row_length
        mean_block += shift
        xhat -= shift[:, None]
        var_block = xp.vecdot(xhat, xhat, out=var[block])
        var_block /= row_length
        invstd_block = invstd[block]
        xp.add(var_block, eps, out=invstd_block)  # invstd = 1 / sqrt(var + eps)
        xp.sqrt(invstd_block, out=invstd_block)
        xp.divide(1, invstd_block, out=invstd_block)
        xhat *= invstd_block[:, None]
        if weight is not None:
            xp.multiply(xhat, weight, out=out_block)
            if bias is not None:
                out_block += bias
        elif bias is not None:
            xp.add(xhat, bias, out=out_block)
    stat_shape = x.shape[: ctx.axes[0]] + (1,) * len(ctx.axes)
    ctx.mean, ctx.invstd, ctx.var = (s.reshape(stat_shape) for s in (mean, invstd, var))
    return out.reshape(x.shape)


def _lead_size(shape: tuple, axes: tuple) -> int:
    size = 1
    for length in shape[: axes[0]]:
        size *= length
    return size


def layer_norm_rows_vjp(node, g, saved, mean, invstd) -> tuple:
    """(dx, dw, db) from ``g``, the saved inputs and the statistics, one block of rows at a
    time. With ``c = x - mean`` (xhat = c invstd), ``P = g c`` and ``gw = g w``::

        dw = invstd · P (summed over the rows),   db = 1 · g,
        dx = invstd gw - invstd sum(gw) / M - invstd^3 sum(P w) / M * c

    ``c`` is built in dx's block and turned into dx there, ``P`` and then ``gw`` take turns in
    one block-sized scratch array, so the only full-size array is dx itself; each row scalar
    costs a pass, so the formula has as few of them as it can."""
    x = saved[0]
    row_count = mean.size
    rows = x.reshape(row_count, -1)
    row_length = rows.shape[1]
    upstream = g.reshape(rows.shape)  # (a copy only for a non-contiguous g)
    dtype = x.dtype
    edges = node._next
    need_x = edges[0] is not None
    need_weight = node.has_weight and edges[1] is not None
    need_bias = node.has_bias and edges[-1] is not None
    weight = saved[1].reshape(row_length) if node.has_weight else _ones(row_length, dtype)
    mean, invstd = mean.reshape(row_count, 1), invstd.reshape(row_count)
    blocks = _row_blocks(row_count, row_length, dtype.itemsize)
    ones = _ones(blocks[0].stop, dtype)
    scratch = xp.empty((blocks[0].stop, row_length), dtype=dtype)
    dx = xp.empty_like(rows)
    grad_weight = xp.zeros(row_length, dtype=dtype)
    grad_bias = xp.zeros(row_length, dtype=dtype)
    for block in blocks:
        g_block, centered, invstd_block = upstream[block], dx[block], invstd[block]
        product = scratch[: len(g_block)]
        xp.subtract(rows[block], mean[block], out=centered)
        xp.multiply(g_block, centered, out=product)
        if need_weight:
            grad_weight += invstd_block @ product
        if need_bias:
            grad_bias += ones[: len(g_block)] @ g_block
        if not need_x:
            continue
        sum_gw = g_block @ weight
        sum_gw_centered = product @ weight
        invstd_over_count = invstd_block / row_length
        sum_gw *= invstd_over_count  # invstd sum(gw) / M
        sum_gw_centered *= invstd_over_count * invstd_block * invstd_block
        centered *= sum_gw_centered[:, None]  # the last term, then both subtracted terms
        centered += sum_gw[:, None]
        gw = product
        if node.has_weight:
            xp.multiply(g_block, weight, out=gw)
        else:
            xp.copyto(gw, g_block)
        gw *= invstd_block[:, None]
        xp.subtract(gw, centered, out=centered)
    grads = [None] * len(edges)
    if need_x:
        grads[0] = dx.reshape(g.shape)
    if need_weight:
        grads[1] = grad_weight.reshape(node.param_shape)
    if need_bias:
        grads[-1] = grad_bias.reshape(node.param_shape)
    return tuple(grads)


# ---------------------------------------------------------------------- batch norm
def _per_channel_sum(row_values, batch: int, channels: int):
    """Per-channel sums from per-row ones (rows in (N, C) order): summed over N by BLAS."""
    return _ones(batch, row_values.dtype) @ row_values.reshape(batch, channels)


def batch_norm_channels_forward(ctx, x, params):
    """The training forward of batch norm with the batch's statistics; sets ``ctx.mean``,
    ``ctx.invstd``, ``ctx.var`` (shape ``param_view``) and ``ctx.owned``."""
    dtype = x.dtype
    batch, channels = x.shape[0], x.shape[1]
    positions = x.size // (batch * channels)
    count = batch * positions
    rows = x.reshape(batch * channels, positions)
    mean = _per_channel_sum(rows @ _ones(positions, dtype), batch, channels)
    mean /= count
    centered = x.reshape(batch, channels, positions) - mean[:, None]
    centered_rows = centered.reshape(rows.shape)
    var = _per_channel_sum(xp.vecdot(centered_rows, centered_rows), batch, channels)
    var /= count
    invstd = 1 / xp.sqrt(var + dtype.type(ctx.eps))
    scale = invstd * params[0] if ctx.has_weight else invstd
    out = centered * scale[:, None]
    if ctx.has_bias:
        out += params[-1][:, None]
    view = ctx.param_view
    ctx.mean, ctx.invstd, ctx.var = mean.reshape(view), invstd.reshape(view), var.reshape(view)
    ctx.owned = (x, centered)
    return out.reshape(x.shape)


def batch_norm_channels_vjp(node, g, saved, centered, invstd) -> tuple:
    """(dx, dw, db) from ``g``, the owned ``centered`` (``(N, C, S)``, overwritten into dx) and
    ``invstd``: dw = sum(g xhat) = invstd sum(g centered), db = sum(g), per channel."""
    batch, channels, positions = centered.shape
    count = batch * positions
    upstream = g.reshape(centered.shape)
    upstream_rows = upstream.reshape(batch * channels, positions)
    invstd = invstd.reshape(channels)
    sum_g = _per_channel_sum(upstream_rows @ _ones(positions, g.dtype), batch, channels)
    centered_rows = centered.reshape(upstream_rows.shape)
    sum_g_xhat = _per_channel_sum(xp.vecdot(upstream_rows, centered_rows), batch, channels)
    sum_g_xhat *= invstd
    scale = invstd * saved[1].reshape(channels) if node.has_weight else invstd
    dx = centered
    dx *= (invstd * sum_g_xhat / count)[:, None]
    dx += (sum_g / count)[:, None]
    xp.subtract(upstream, dx, out=dx)
    dx *= scale[:, None]
    edges = node._next
    grads = [None] * len(edges)
    grads[0] = dx.reshape(g.shape)
    if node.has_weight and edges[1] is not None:
        grads[1] = sum_g_xhat.reshape(node.param_shape)
    if node.has_bias and edges[-1] is not None:
        grads[-1] = sum_g.reshape(node.param_shape)
    return tuple(grads)


_TAKEN = (None, None)  # the row path's buffer, handed over to a first backward


def owned_buffer(node, x, rebuild):
    """The buffer that the row-path forward left for the backward if it was made from ``x``
    (the saved input as the backward sees it), taken once; after that, or for another ``x``
    that a saved-tensor hook gave back, ``rebuild(node, x)`` makes it again with the forward's
    own steps (so a second backward gives bitwise the first one's gradients). None: the
    forward took the general path, or ``x`` is not a plain contiguous array."""
    owned = node.owned
    if owned is None:
        return None
    source, buffer = owned
    node.owned = _TAKEN
    if buffer is not None and source is x:
        return buffer
    if type(x) is xp.ndarray and x.flags.c_contiguous:
        return rebuild(node, x)
    return None


def release_owned(node) -> None:
    """Lets the row path's buffer go (a later backward rebuilds it if it needs it)."""
    if node.owned is not None:
        node.owned = _TAKEN


def batch_norm_centered(node, x):
    """The forward's ``centered`` again, from ``x`` and the kept mean."""
    batch, channels = x.shape[0], x.shape[1]
    return x.reshape(batch, channels, -1) - node.mean.reshape(channels, 1)
