"""Vector geometry: ``cross`` (the cross product of 3-vectors along a dim) and ``cdist`` (the
p-norm distance between every row of one batch of point sets and every row of another).

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).

Both VJPs are written with operators and methods that run on raw arrays and on Tensors alike,
so a recorded backward (``create_graph=True``) records them and higher derivatives follow.
The cross product is bilinear: its VJPs are cross products again (``∂/∂a <g, a×b> = b×g``,
``∂/∂b = g×a``) and its JVP is the product rule. ``cdist``'s gradient is, per pair of rows,
the derivative of the p-norm of their difference, ``w = ∂‖d‖_p/∂d``, times the upstream
gradient, summed over the other set's rows (and negated for ``x2``).
"""

from __future__ import annotations

import math
import warnings

from ..arguments import check_int
from ..backend import SCALAR_TYPE_NAMES, xp
from ..graph.node import SAVE_BOTH, SAVE_INPUTS, Op
from ..size import normalize_dim
from ..tensor import Tensor
from .apply import binary, raise_if_not_broadcastable
from .declare import declare
from .elementwise import where
from .explain_rule import Rule
from .jvp_rules import zeros_like_primal
from .products import _mT, product_rule
from .shape import expand_tensor


# ---------------------------------------------------------------------- cross product
def _component(x, index: int, dim: int):
    """Component ``index`` of the 3-vectors of ``x`` along ``dim``, kept as a size-1 dim."""
    return x[(slice(None),) * dim + (slice(index, index + 1),)]


def _cross_values(a, b, dim: int):
    """a × b along ``dim``: (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0); arrays or Tensors."""
    a0, a1, a2 = (_component(a, i, dim) for i in range(3))
    b0, b1, b2 = (_component(b, i, dim) for i in range(3))
    parts = (a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0)
    return xp.concatenate(parts, axis=dim)


class LinalgCrossBackward0(Op):
    __slots__ = ("dim",)
    save = SAVE_INPUTS

    @staticmethod
    def forward(ctx, a, b):
        return _cross_values(a, b, ctx.dim)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a_edge, b_edge = ctx._next
        grad_a = _cross_of(b, g, ctx.dim) if a_edge is not None else None
        grad_b = _cross_of(g, a, ctx.dim) if b_edge is not None else None
        return grad_a, grad_b

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return product_rule(lambda a, b: _cross_of(a, b, ctx.dim), primals, tangents)


def _cross_of(a, b, dim: int):
    """a × b along a valid non-negative ``dim``: recorded when either is a Tensor."""
    if isinstance(a, Tensor):  # (a recorded backward or a JVP: both are Tensors)
        node = LinalgCrossBackward0()
        node.dim = dim
        return binary(node, a, b)
    return _cross_values(a, b, dim)


_CROSS_DIM_WARNING = (
    "Using torch.cross without specifying the dim arg is deprecated.\n"
    "Please either pass the dim explicitly or simply use torch.linalg.cross.\n"
    "The default value of dim will change to agree with that of linalg.cross in a future "
    "release."
)
_warned_about_cross_dim = []  # PyTorch warns once per process


def cross(input, other, dim=None, *, out=None):
    """``torch.cross``: without ``dim``, the first dim of ``input`` of size 3 (deprecated)."""
    shape = input._data.shape
    if dim is not None:
        dim = check_int(dim, "cross", "dim")
    if dim is None:
        if not _warned_about_cross_dim:
            _warned_about_cross_dim.append(True)
            warnings.warn(_CROSS_DIM_WARNING, UserWarning, stacklevel=2)
        dim = next((axis for axis, size in enumerate(shape) if size == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    return _checked_cross(input, other, dim)


def _checked_cross(input, other, dim: int):
    shape, other_shape = input._data.shape, other._data.shape
    if len(shape) != len(other_shape):
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if not shape:  # (PyTorch reads input.size(dim))
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    axis = normalize_dim(dim, len(shape))
    if shape[axis] != 3 or other_shape[axis] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {shape[axis]} and "
            f"{other_shape[axis]}"
        )
    # The kernel is chosen by input's dtype and reads other in it: no promotion.
    dtype, other_dtype = input._data.dtype, other._data.dtype
    if dtype == xp.bool_:
        raise NotImplementedError("\"cross\" not implemented for 'Bool'")
    if other_dtype != dtype:
        raise RuntimeError(
            f"expected scalar type {SCALAR_TYPE_NAMES[dtype.name]} but found "
            f"{SCALAR_TYPE_NAMES[other_dtype.name]}"
        )
    node = LinalgCrossBackward0()
    node.dim = axis
    return binary(node, input, other)


# ---------------------------------------------------------------------- cdist
_COMPUTE_MODES = (
    "use_mm_for_euclid_dist_if_necessary",
    "use_mm_for_euclid_dist",
    "donot_use_mm_for_euclid_dist",
)


def _pair_differences(x1, x2):
    """d[..., i, j, :] = x1[..., i, :] - x2[..., j, :] (batch dims broadcast)."""
    return x1[..., :, None, :] - x2[..., None, :, :]


def _distances(x1, x2, p: float):
    """‖x1_i - x2_j‖_p for every pair of rows, on raw arrays."""
    diff = _pair_differences(x1, x2)
    if diff.shape[-1] == 0:
        return xp.zeros(diff.shape[:-1], dtype=diff.dtype)
    size = abs(diff)
    if p == 0:
        return (size != 0).sum(-1).astype(diff.dtype)
    if p == 1:
        return size.sum(-1)
    if p == 2:
        return xp.sqrt((size * size).sum(-1))
    if math.isinf(p):
        return size.max(-1)
    return ((size**p).sum(-1)) ** (1.0 / p)


def _sign(x):
    return x.sign() if isinstance(x, Tensor) else xp.sign(x)


def _norm_gradient(diff, dist, p: float):
    """w = ∂‖d‖_p / ∂d for each pair (arrays or Tensors), 0 where PyTorch's is 0: at d = 0
    (where the norm has no derivative), and for p < 1 at components d_k = 0.

    p = 1: sign(d); p = 2: d/‖d‖; p = ∞: sign(d) at the components whose |d_k| is the max;
    otherwise sign(d)·|d|^(p-1) / ‖d‖^(p-1)."""
    if p == 0:
        return diff * 0
    if p == 1:
        return _sign(diff)
    dist = dist[..., None]
    zero = dist == 0
    safe = where(zero, 1.0, dist)  # (no 0/0 for a recorded backward to differentiate)
    if p == 2:
        return where(zero, 0.0, diff / safe)
    if math.isinf(p):
        return _sign(diff) * (abs(diff) == dist)
    size = abs(diff)
    if p < 1:
        zero = zero | (size == 0)
        size = where(size == 0, 1.0, size)
    return where(zero, 0.0, _sign(diff) * (size / safe) ** (p - 1))


class CdistBackward0(Op):
    __slots__ = ("p",)
    save = SAVE_BOTH

    @staticmethod
    def forward(ctx, x1, x2):
        return _distances(x1, x2, ctx.p)

    @staticmethod
    def backward(ctx, g):
        x1, x2, dist = ctx.saved_tensors
        x1_edge, x2_edge = ctx._next
        weighted = _norm_gradient(_pair_differences(x1, x2), dist, ctx.p) * g[..., None]
        grad_x1 = weighted.sum(-2) if x1_edge is not None else None
        grad_x2 = -weighted.sum(-3) if x2_edge is not None else None
        return grad_x1, grad_x2

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # d dist_ij = <w_ij, dx1_i - dx2_j>
        x1, x2 = primals
        t1, t2 = (
            tangent if tangent is not None else zeros_like_primal(primal)
            for primal, tangent in zip(primals, tangents)
        )
        weights = _norm_gradient(_pair_differences(x1, x2), out, ctx.p)
        return (weights * _pair_differences(t1, t2)).sum(-1)


class EuclideanDistBackward0(Op):
    """PyTorch's p = 2 distances through one matrix product, as ``cdist`` takes them for more
    than 25 rows: ‖a - b‖² = [-2a, ‖a‖², 1] · [b, 1, ‖b‖²], clamped at 0, square-rooted.
    Its VJP is PyTorch's ``_euclidean_dist_backward``: with r = g / dist (0 where dist = 0),
    ∂x1 = x1 · Σ_j r_ij - r @ x2 and ∂x2 = x2 · Σ_i r_ij - rᵀ @ x1."""

    __slots__ = ()
    save = SAVE_BOTH

    @staticmethod
    def forward(ctx, x1, x2):
        x1_norm = (x1 * x1).sum(-1)[..., None]
        x2_norm = (x2 * x2).sum(-1)[..., None]
        x1_ = xp.concatenate([x1 * -2, x1_norm, xp.ones_like(x1_norm)], axis=-1)
        x2_ = xp.concatenate([x2, xp.ones_like(x2_norm), x2_norm], axis=-1)
        return xp.sqrt(xp.maximum(x1_ @ xp.swapaxes(x2_, -1, -2), 0))

    @staticmethod
    def backward(ctx, g):
        x1, x2, dist = ctx.saved_tensors
        x1_edge, x2_edge = ctx._next
        zero = dist == 0
        ratio = where(zero, 0.0, g / where(zero, 1.0, dist))
        grad_x1 = x1 * ratio.sum(-1)[..., None] - ratio @ x2 if x1_edge is not None else None
        grad_x2 = x2 * ratio.sum(-2)[..., None] - _mT(ratio) @ x1 if x2_edge is not None else None
        return grad_x1, grad_x2

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return CdistBackward0.jvp(_P2, primals, out, tangents)


class _TwoNorm:
    """The static parameters of a p = 2 ``CdistBackward0`` (for the JVP they share)."""

    p = 2.0


_P2 = _TwoNorm()


def _uses_matrix_product(p: float, compute_mode: str, rows1: int, rows2: int) -> bool:
    """PyTorch's choice: p = 2 through a matrix product when asked, or by default for more
    than 25 rows on either side."""
    if p != 2 or compute_mode == "donot_use_mm_for_euclid_dist":
        return False
    return compute_mode == "use_mm_for_euclid_dist" or rows1 > 25 or rows2 > 25


def _euclidean_cdist(x1, x2):
    """cdist's p = 2 matrix-product path, recording PyTorch's nodes: the batch dims expanded
    and folded into one (unless there is one batch), EuclideanDistBackward0, a view back."""
    batch = xp.broadcast_shapes(x1._data.shape[:-2], x2._data.shape[:-2])
    count = math.prod(batch)
    rows1, rows2 = x1._data.shape[-2], x2._data.shape[-2]
    if count != 1:
        x1, x2 = (
            expand_tensor(x, batch + x._data.shape[-2:])
            .contiguous()
            .view(count, *x._data.shape[-2:])
            for x in (x1, x2)
        )
    return binary(EuclideanDistBackward0(), x1, x2).view(*batch, rows1, rows2)


def cdist(x1, x2, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary"):
    """``torch.cdist``: ``x1`` (B..., P, M) and ``x2`` (B..., R, M) give (B..., P, R).

    For p = 2 with more than 25 rows on a side (or ``compute_mode="use_mm_for_euclid_dist"``)
    the distances come from a matrix product, as PyTorch computes them."""
    for name, x in (("X1", x1), ("X2", x2)):
        if x._data.ndim < 2:
            raise RuntimeError(
                f"cdist only supports at least 2D tensors, {name} got: {x._data.ndim}D"
            )
    columns1, columns2 = x1._data.shape[-1], x2._data.shape[-1]
    if columns1 != columns2:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {columns1} X2: {columns2}"
        )
    if compute_mode not in _COMPUTE_MODES:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    dtype1, dtype2 = x1._data.dtype, x2._data.dtype
    for name, dtype in (("X1", dtype1), ("X2", dtype2)):
        if dtype.kind != "f":
            raise RuntimeError(
                f"cdist only supports floating-point dtypes, {name} got: "
                f"{SCALAR_TYPE_NAMES[dtype.name]}"
            )
    if not p >= 0:  # (NaN too)
        raise RuntimeError("cdist only supports non-negative p values")
    rows1, rows2 = x1._data.shape[-2], x2._data.shape[-2]
    uses_matrix_product = _uses_matrix_product(p, compute_mode, rows1, rows2)
    type_name = SCALAR_TYPE_NAMES[dtype1.name]
    computes = x1._data.size and x2._data.size and not uses_matrix_product
    if computes and type_name in ("Half", "BFloat16"):  # (its distance kernel has no 16 bits)
        raise NotImplementedError(f"\"cdist\" not implemented for '{type_name}'")
    if dtype1 != dtype2:
        raise RuntimeError(
            f"expected scalar type {SCALAR_TYPE_NAMES[dtype1.name]} but found "
            f"{SCALAR_TYPE_NAMES[dtype2.name]}"
        )
    batch1, batch2 = x1._data.shape[:-2], x2._data.shape[:-2]
    try:
        xp.broadcast_shapes(batch1, batch2)
    except ValueError:
        raise_if_not_broadcastable(xp.broadcast_to(0, batch1), xp.broadcast_to(0, batch2))
        raise
    if x1._data.size and x2._data.size and uses_matrix_product:
        return _euclidean_cdist(x1, x2)
    node = CdistBackward0()
    node.p = float(p)
    return binary(node, x1, x2)


# ---------------------------------------------------------------------- explain rules
def _cdist_rule(node) -> Rule:
    p = "∞" if math.isinf(node.p) else format(node.p, "g")
    return Rule(
        f"pairwise {p}-norm distances",
        f"cdist({{a:0}}, {{b:0}}, p={p})",
        passes=(
            "per row, the gradient times ∂‖a_i - b_j‖/∂a_i, summed over the rows j of b",
            "per row, minus the gradient times ∂‖a_i - b_j‖/∂a_i, summed over the rows i of a",
        ),
    )


DECLARATIONS = (
    declare(
        "cross",
        cross,
        explain={
            LinalgCrossBackward0: Rule(
                "cross product",
                "{a:9} × {b:9}",
                passes=("b × the gradient", "the gradient × a"),
            )
        },
    ),
    declare(
        "cdist",
        cdist,
        method=None,
        explain={
            CdistBackward0: _cdist_rule,
            EuclideanDistBackward0: Rule(
                "pairwise Euclidean distances (through a matrix product)",
                "_euclidean_dist({a:0}, {b:0})",
                passes=(
                    "per row, the gradient times (a_i - b_j)/‖a_i - b_j‖, summed over the rows j",
                    "per row, minus the gradient times (a_i - b_j)/‖a_i - b_j‖, summed over i",
                ),
            ),
        },
    ),
)
