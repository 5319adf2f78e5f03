"""The convolution's array layer: its geometry, im2col and col2im, and the input's gradient
on raw arrays (see ops/conv.py for the math and the ops).

The input's gradient never builds the gradient's columns (as large as k*k inputs): per kernel
offset, one product ``W_k^T @ g`` is added onto the pixels that offset read, while it is hot
in the cache. With stride 1 it takes the "wide" layout: the gradient's rows padded with zeros to
the padded input's row length, so that each offset is one shift of the flattened image and the
additions run over long contiguous rows; the extra zeros add nothing.
"""

from __future__ import annotations

from itertools import product

from ..backend import xp
from ..batching import BatchedArray, along_first_axis
from .conv_scratch import kept, scratch, zero_bordered

as_strided = xp.lib.stride_tricks.as_strided


def product_of(sizes) -> int:
    count = 1
    for size in sizes:
        count *= size
    return count


# ------------------------------------------------------------------ geometry, im2col, col2im
class ConvGeometry:
    """The sizes of one convolution over ``d`` spatial dimensions (tuples of ``d`` ints):
    input ``size``, ``kernel``, ``stride``, ``dilation``, zero padding ``before``/``after``
    each dimension; derived: the ``padded`` and ``out`` sizes, ``wide``: whether the input's
    gradient takes the wide layout (stride 1, at most 50% extra columns), and the index plans
    below. Immutable, and cached per call signature (see ``check_shapes``)."""

    __slots__ = (
        "size", "kernel", "stride", "dilation", "before", "after", "padded", "out", "wide",
        "wide_grid", "interior", "windows", "shifts",
    )  # fmt: skip

    def __init__(self, size, kernel, stride, dilation, before, after) -> None:
        self.size, self.kernel, self.stride = size, kernel, stride
        self.dilation, self.before, self.after = dilation, before, after
        self.padded = tuple(n + a + b for n, a, b in zip(size, before, after))
        self.out = tuple(
            (p - d * (k - 1) - 1) // s + 1
            for p, k, s, d in zip(self.padded, kernel, stride, dilation)
        )
        # The wide layout's output grid: the output's first size, then the padded sizes.
        self.wide_grid = self.out[:1] + self.padded[1:]
        extra_ok = 2 * product_of(self.wide_grid) <= 3 * product_of(self.out)
        self.wide = all(s == 1 for s in stride) and extra_ok
        # Where the unpadded input sits in the padded grid (None: there is no padding).
        every = (slice(None), slice(None))
        self.interior = None
        if any(before) or any(after):
            self.interior = every + tuple(slice(b, b + n) for b, n in zip(before, size))
        offsets = list(product(*(range(k) for k in kernel)))
        # Per kernel offset: the slices of the padded grid it reads for all outputs, and its
        # shift in the flattened padded image (wide layout).
        self.windows = [
            every
            + tuple(
                slice(k * d, k * d + s * (o - 1) + 1, s)
                for k, d, s, o in zip(offset, dilation, stride, self.out)
            )
            for offset in offsets
        ]
        row_lengths = [product_of(self.padded[i + 1 :]) for i in range(len(self.padded))]
        self.shifts = [
            sum(k * d * r for k, d, r in zip(offset, dilation, row_lengths)) for offset in offsets
        ]

    def _unpadded(self, grid):
        if self.interior is None:
            return grid
        return xp.ascontiguousarray(grid[self.interior])

    @along_first_axis(1)  # (vmap: the samples' images are more images)
    def columns(self, x):
        """im2col: ``(N, C, *size)`` -> ``(N, C * prod(kernel), prod(out))``, kernel offsets
        inner to channels (the weight's layout): one copy of a strided view of the windows,
        ``view[n, c, k, p] = padded[n, c, p * stride + k * dilation]`` (per dimension)."""
        n, c = x.shape[:2]
        if self.interior is not None:
            grid = xp.zeros((n, c) + self.padded, dtype=x.dtype)
            grid[self.interior] = x
        else:
            grid = x
        cols = xp.ascontiguousarray(self._windows(grid))
        return cols.reshape(n, c * product_of(self.kernel), product_of(self.out))

    def scratch_columns(self, x, keep: bool = False):
        """``columns`` of a plain ndarray, built in this thread's scratch memory (see
        conv_scratch.py): valid until the next call, unless ``keep`` (a block of the pool that
        stays the caller's while it refers to it)."""
        n, c = x.shape[:2]
        if self.interior is not None:
            grid = zero_bordered("conv padded input", (n, c) + self.padded, x.dtype, self.interior)
            grid[self.interior] = x
        else:
            grid = x
        view = self._windows(grid)
        if keep:
            cols = kept("conv kept columns", view.shape, x.dtype)
        else:
            cols = scratch("conv columns", view.shape, x.dtype)
        xp.copyto(cols, view)
        return cols.reshape(n, c * product_of(self.kernel), product_of(self.out))

    def _windows(self, grid):
        """The strided view ``view[n, c, k, p] = grid[n, c, p * stride + k * dilation]``."""
        n, c = grid.shape[:2]
        spatial = grid.strides[2:]
        return as_strided(
            grid,
            (n, c) + self.kernel + self.out,
            grid.strides[:2]
            + tuple(d * step for d, step in zip(self.dilation, spatial))
            + tuple(s * step for s, step in zip(self.stride, spatial)),
            writeable=False,
        )

    def image(self, cols, n: int, c: int):
        """col2im, the adjoint of ``columns``: ``(N, C * prod(kernel), prod(out))`` ->
        ``(N, C, *size)``, each entry added onto the input pixel it was read from."""
        grid = xp.zeros((n, c) + self.padded, dtype=cols.dtype)
        per_offset = cols.reshape((n, c, product_of(self.kernel)) + self.out)
        for k, window in enumerate(self.windows):
            grid[window] += per_offset[:, :, k]
        return self._unpadded(grid)

    def input_grad(self, g, w, groups: int):
        """``image(W^T @ g)`` without the columns: per kernel offset k, ``W_k^T @ g`` (one
        matrix product per group) is added onto the input pixels that offset read. In the wide
        layout each offset is one shift of the flattened padded image (long contiguous runs);
        g is widened with zeros, so the extra columns add nothing (only a weight holding inf or
        NaN turns them into NaN, as 0 * inf: a gradient that is not finite anyway)."""
        n, o = g.shape[:2]
        c_group = w.shape[1]
        c = c_group * groups
        # (K, groups, in/groups, out/groups): each offset's transposed weight, per group.
        w_t = xp.ascontiguousarray(
            w.reshape(groups, o // groups, c_group, product_of(self.kernel)).transpose(3, 0, 2, 1)
        )
        if self.wide:
            # (only its first out-sized corner is written: the rest stays zero while reused)
            grid = zero_bordered("conv wide gradient", (n, o) + self.wide_grid, g.dtype, self.out)
            grid[(slice(None), slice(None)) + tuple(slice(0, size) for size in self.out)] = g
            g_groups = grid.reshape(n, groups, o // groups, product_of(self.wide_grid))
        else:
            g_groups = g.reshape(n, groups, o // groups, product_of(self.out))
        length = g_groups.shape[-1]
        product_k = scratch("conv offset product", (n, groups, c_group, length), g.dtype)
        if not self.wide:
            grid = xp.zeros((n, c) + self.padded, dtype=g.dtype)
            for k, window in enumerate(self.windows):
                group_product(w_t[k], g_groups, out=product_k)
                grid[window] += product_k.reshape((n, c) + self.out)
            return self._unpadded(grid)
        shifts = self.shifts
        plane = product_of(self.padded)
        # Spare room at the end: the last offsets' extra columns reach past the last image.
        if self.interior is None:  # returned as it is: a buffer of its own
            flat = xp.zeros(n * c * plane + shifts[-1], dtype=g.dtype)
        else:  # only its interior's copy is returned
            flat = scratch("conv padded input gradient", (n * c * plane + shifts[-1],), g.dtype)
            flat.fill(0)
        for k, shift in enumerate(shifts):
            group_product(w_t[k], g_groups, out=product_k)
            rows = flat[shift : shift + n * c * plane].reshape(n * c, plane)
            rows[:, :length] += product_k.reshape(n * c, length)
        return self._unpadded(flat[: n * c * plane].reshape((n, c) + self.padded))


@along_first_axis(1)  # (vmap: the samples' columns are more columns)
def columns_to_image(geometry: ConvGeometry, cols, channels: int):
    return geometry.image(cols, cols.shape[0], channels)


def batched_input_grad(geometry: ConvGeometry, g, w, groups: int):
    """``input_grad`` under vmap: with per-sample weights, col2im of ``W^T g`` (batched
    products); else the samples' gradients are more images."""
    if type(w) is not BatchedArray:
        return along_first_axis(1)(ConvGeometry.input_grad)(geometry, g, w, groups)
    n, o = g.shape[:2]
    per_weight = product_of(w.shape[1:])
    grad_cols = xp.einsum(
        "goc,ngol->ngcl",
        w.reshape(groups, o // groups, per_weight),
        g.reshape(n, groups, o // groups, -1),
    )
    return columns_to_image(
        geometry, grad_cols.reshape(n, groups * per_weight, -1), w.shape[1] * groups
    )


def group_product(a, b, out):
    """``a @ b`` per group, into ``out``: ``a`` (G, M, 1) and ``b`` (N, G, 1, L) make an outer
    product (depthwise convolution), one broadcast multiplication instead of N*G tiny BLAS calls."""
    if a.shape[-1] == 1:
        return xp.multiply(a, b, out=out)
    return xp.matmul(a, b, out=out)
