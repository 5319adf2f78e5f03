"""Counting: unique, unique_consecutive, bincount, histc, histogram, searchsorted, bucketize.

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).

None of them is differentiable (their results are counts, positions or values picked by
equality). As in PyTorch, the values of ``unique`` and ``unique_consecutive`` are recorded
all the same, under nodes whose backward (and forward-mode derivative) raise PyTorch's "not
implemented" errors; the other results are constant tensors.
"""

from __future__ import annotations

from fractions import Fraction

from ..backend import CPP_TYPE_NAMES, SCALAR_TYPE_NAMES, result_type, scalar_result_type, xp
from ..graph.node import SAVE_NOTHING, Op
from ..size import normalize_dim
from ..tensor import Tensor, wrap
from .apply import unary
from .declare import declare
from .explain_rule import Rule
from .extrema import return_types
from .stdlib_order import std_sort_permutation, unstable_order

_INTEGRAL = "iu"


def _constant(array) -> Tensor:
    return wrap(xp.asarray(array), None)


class Unique2Backward0(Op):
    """The values of ``unique``: recorded, but without a derivative (PyTorch's node)."""

    __slots__ = ("result",)
    save = SAVE_NOTHING
    aten_name = "_unique2"

    @staticmethod
    def forward(ctx, x):
        return ctx.result  # computed by the public function with the other results

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError(f"the derivative for '{ctx.aten_name}' is not implemented.")

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        raise NotImplementedError(
            f"Trying to use forward AD with {ctx.aten_name} that does not support it because it "
            "has not been implemented yet.\nPlease file an issue to PyTorch at "
            "https://github.com/pytorch/pytorch/issues/new?template=feature-request.yml so that "
            "we can prioritize its implementation or submit a PR adding the implementation to "
            "derivatives.yaml"
        )


class UniqueDimBackward0(Unique2Backward0):
    __slots__ = ()
    aten_name = "unique_dim"


class UniqueConsecutiveBackward0(Unique2Backward0):
    __slots__ = ()
    aten_name = "unique_consecutive"


def _results(input, node, output, inverse, counts, return_inverse, return_counts):
    """PyTorch's return shape: the values alone, or a tuple with what was asked for. The
    values are recorded under ``node`` (no derivative), the rest are constants."""
    node.result = xp.asarray(output)
    values = unary(node, input)
    if not (return_inverse or return_counts):
        return values
    results = [values]
    if return_inverse:
        results.append(_constant(inverse.astype(xp.int64)))
    if return_counts:
        results.append(_constant(counts.astype(xp.int64)))
    return tuple(results)


# ---------------------------------------------------------------------- unique
def _unique_axis(data, dim) -> int:
    """``dim`` normalized, after PyTorch's checks of unique along a dimension: the input has
    dimensions, and only the selected one may be empty."""
    if data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    axis = normalize_dim(dim, data.ndim)
    empty = [size == 0 for size in data.shape]
    if sum(empty) > 1:
        raise RuntimeError(
            "Number of zero sized dimensions is more than one, so unique cannot be applied "
        )  # (sic: PyTorch's message ends in a space)
    if any(empty) and not empty[axis]:
        raise RuntimeError(
            "There are 0 sized dimensions, and they aren't selected, so unique cannot be applied"
        )
    return axis


def _has_both_zeros(data) -> bool:
    """Whether ``data`` holds both -0.0 and 0.0: equal values, one of which represents both."""
    if data.dtype.kind != "f":
        return False
    zeros = data == 0
    negative = xp.signbit(data) & zeros
    return bool(negative.any()) and bool((zeros & ~negative).any())


def _first_zero_of_pytorchs_sort(flat):
    """The zero PyTorch's unique keeps for -0.0 and 0.0: the first in its (unstable) sort."""
    order = unstable_order(flat.reshape(1, -1), False)[0]
    ordered = flat[order]
    return ordered[ordered == 0][0]


def _lexicographic_less(a: tuple, b: tuple) -> bool:
    """PyTorch's comparison of two slices: the first element that differs decides (a NaN
    is neither below nor above anything, so it decides nothing)."""
    for x, y in zip(a, b):
        if x < y:
            return True
        if x > y:
            return False
    return False


def _unique_slices_as_pytorch(data, axis):
    """``unique`` along ``axis`` as PyTorch's CPU kernel, for floating slices with NaN or
    signed zeros (where NumPy's answer differs): ``std::sort`` of the slices by
    ``_lexicographic_less``, then each run of slices equal to its first (a slice with NaN
    equals nothing) kept as that first."""
    moved = xp.moveaxis(data, axis, 0)
    size = moved.shape[0]
    slices = [tuple(row) for row in moved.reshape(size, -1).tolist()]
    inverse = xp.zeros(size, dtype=xp.int64)
    kept, counts = [], []
    for index in std_sort_permutation(slices, _lexicographic_less):
        if kept and all(x == y for x, y in zip(slices[index], slices[kept[-1]])):
            counts[-1] += 1
        else:
            kept.append(index)
            counts.append(1)
        inverse[index] = len(kept) - 1
    output = xp.moveaxis(xp.take(moved, kept, axis=0), 0, axis)
    return output, inverse, xp.asarray(counts, dtype=xp.int64)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """``torch.unique``: the distinct values (or, with ``dim``, slices along it), sorted (also
    with ``sorted=False``, as PyTorch's CPU kernel), with the index of each element's value
    and how often each occurs when asked. Each NaN is distinct."""
    data = input._data
    if dim is None:
        flat = data.reshape(-1)
        output, inverse, counts = xp.unique(
            flat, return_inverse=True, return_counts=True, equal_nan=False
        )
        inverse = inverse.reshape(data.shape)
        if _has_both_zeros(flat):
            output[output == 0] = _first_zero_of_pytorchs_sort(flat)
    else:
        axis = _unique_axis(data, dim)
        if data.dtype.kind == "f" and (xp.isnan(data).any() or _has_both_zeros(data)):
            output, inverse, counts = _unique_slices_as_pytorch(data, axis)
        else:
            output, inverse, counts = xp.unique(
                data, return_inverse=True, return_counts=True, axis=axis, equal_nan=False
            )
        inverse = inverse.reshape(-1)
    node = Unique2Backward0() if dim is None else UniqueDimBackward0()
    return _results(input, node, output, inverse, counts, return_inverse, return_counts)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """``torch.unique_consecutive``: each run of equal consecutive values (or slices along
    ``dim``) kept once."""
    data = input._data
    if dim is None:
        slices = data.reshape(-1, 1)
        axis = 0
    else:
        axis = _unique_axis(data, dim)
        moved = xp.moveaxis(data, axis, 0)
        slices = moved.reshape(moved.shape[0], data.size // max(moved.shape[0], 1))
    size = slices.shape[0]
    starts = xp.ones(size, dtype=bool)
    if size > 1:
        starts[1:] = (slices[1:] != slices[:-1]).any(axis=1)
    positions = xp.flatnonzero(starts)
    inverse = xp.cumsum(starts) - 1
    counts = xp.diff(xp.append(positions, size))
    if dim is None:
        output = data.reshape(-1)[positions]
        inverse = inverse.reshape(data.shape)
    else:
        output = xp.take(data, positions, axis=axis)
    node = UniqueConsecutiveBackward0()
    return _results(input, node, output, inverse, counts, return_inverse, return_counts)


# ---------------------------------------------------------------------- bincount
def bincount(input, weights=None, minlength=0):
    """``torch.bincount``: how often each non-negative integer occurs (the sum of its
    ``weights`` when given), at least ``minlength`` counts long."""
    data = input._data
    if data.dtype.kind not in _INTEGRAL:
        name = SCALAR_TYPE_NAMES.get(data.dtype.name, data.dtype.name)
        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{name}'")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if data.ndim != 1 or (data.size and data.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None or not data.size:
        # (no data: PyTorch's integer zeros, whatever the weights)
        return _constant(xp.bincount(data, minlength=minlength).astype(xp.int64))
    weight_data = weights._data
    if weight_data.ndim != 1 or weight_data.shape[0] != data.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    # float weights keep their dtype, any other weights count in double (PyTorch's rule),
    # added one by one in that dtype as PyTorch's loop adds them (a float32 sum rounds at
    # each step; NumPy's bincount would sum in double).
    dtype = xp.float32 if weight_data.dtype == xp.float32 else xp.float64
    sums = xp.zeros(max(int(data.max()) + 1, minlength), dtype=dtype)
    xp.add.at(sums, data, weight_data.astype(dtype))
    return _constant(sums)


# ---------------------------------------------------------------------- histograms
def _check_floating(input, kernel: str) -> None:
    dtype = input._data.dtype
    if dtype.kind != "f":
        name = SCALAR_TYPE_NAMES.get(dtype.name, dtype.name)
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")


def _check_bins(bins: int) -> None:
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")


def _data_range(data, low, high, widen, histc: bool):
    """The leftmost and rightmost edges: ``low``/``high`` as given, or the data's extremes
    when both are equal (0 and 0 by default), widened by ``widen`` on each side when they
    still are (a single value is centred in the middle bin)."""
    if low == high and data.size:
        low, high = data.min().item(), data.max().item()
    if low == high:
        low, high = low - widen, high + widen
    if not (xp.isfinite(low) and xp.isfinite(high)):
        if histc:  # (PyTorch's extremes of data with a NaN print as -nan)
            shown = ", ".join("-nan" if v != v else f"{v:g}" for v in (low, high))
            raise RuntimeError(f"torch.histc: range of [{shown}] is not finite")
        raise RuntimeError(
            f"torch.histogramdd: dimension 0's range [{low:g}, {high:g}] is not finite"
        )
    return low, high


def _linear_bins(data, low, high, bins: int, edges, search: bool):
    """Each element's bin among ``bins`` equal bins from ``low`` to ``high`` (-1 outside, and
    for NaN): PyTorch's ``(x - low) * bins / (high - low)`` in the data's dtype; ``search``
    (histogram's local search) then takes the bin among that one and its neighbours whose
    ``edges`` hold the element; the top edge is in the last bin."""
    dtype = data.dtype.type
    low_value, high_value = dtype(low), dtype(high)
    inside = (data >= low_value) & (data <= high_value)
    span = high_value - low_value
    position = ((data - low_value) * dtype(bins) / span).astype(xp.int64)
    position = xp.where(inside, position, 0)
    if search:
        # std::upper_bound over edges[position - 1 : position + 2], minus one.
        first = xp.maximum(position - 1, 0)
        last = xp.minimum(position + 2, bins + 1)
        above = first.copy()
        for offset in range(3):
            at = first + offset
            counted = (at < last) & (edges[xp.minimum(at, bins)] <= data)
            above = xp.where(counted, at + 1, above)
        position = above - 1
    position = xp.where(position == bins, bins - 1, position)
    return xp.where(inside, position, -1)


def _fused_multiply_add(a, b, c, dtype):
    """``a * b + c`` rounded once to ``dtype``, as the compiled kernels' fused multiply-add."""
    return dtype(float(Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))))


def _edges(low, high, count: int, dtype):
    """``torch.linspace(low, high, count)`` in ``dtype``, bit for bit: PyTorch's kernel steps
    up from ``low`` for the first half and down from ``high`` for the second, each point one
    fused multiply-add."""
    low, high = dtype(low), dtype(high)
    step = dtype((high - low) / dtype(count - 1))
    half = count // 2
    return xp.array(
        [
            _fused_multiply_add(step, i, low, dtype)
            if i < half
            else _fused_multiply_add(-step, count - 1 - i, high, dtype)
            for i in range(count)
        ],
        dtype=dtype,
    )


def _count(positions, bins: int, weights, dtype):
    """The histogram of ``positions`` (-1: outside), in ``dtype``; weights are added one by
    one in that dtype, as PyTorch's kernel adds them (a float32 sum rounds at each step)."""
    keep = positions >= 0
    if weights is None:
        return xp.bincount(positions[keep], minlength=bins).astype(dtype)
    hist = xp.zeros(bins, dtype=dtype)
    xp.add.at(hist, positions[keep], weights[keep].astype(dtype))
    return hist


def histc(input, bins=100, min=0, max=0):  # noqa: A002 - PyTorch's names
    """``torch.histc``: counts in ``bins`` equal bins from ``min`` to ``max`` (the data's
    extremes when both are 0); elements outside are ignored."""
    _check_floating(input, "histogram_cpu")
    _check_bins(bins)
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    data = input._data.reshape(-1)
    low, high = _data_range(data, min, max, 1, histc=True)
    positions = _linear_bins(data, low, high, bins, None, search=False)
    return _constant(_count(positions, bins, None, data.dtype))


def _checked_weights(weight, data):
    """``weight`` as a flat array, after PyTorch's checks: the data's dtype, one per element."""
    weights = weight._data
    if weights.dtype != data.dtype:
        raise RuntimeError(
            "torch.histogramdd: if weight tensor is provided, input tensor and weight tensor "
            f"should have the same dtype, but got input({CPP_TYPE_NAMES[data.dtype.name]}), and "
            f"weight({CPP_TYPE_NAMES[weights.dtype.name]})"
        )
    if weights.size != data.size:
        raise RuntimeError(
            "torch.histogramdd: if weight tensor is provided it should have the same shape as "
            "the input tensor excluding its innermost dimension, but got input with shape "
            f"[{data.size}, 1] and weight with shape [{weights.size}]"
        )
    return weights.reshape(-1)


def histogram(input, bins=100, *, range=None, weight=None, density=False):  # noqa: A002
    """``torch.histogram``: (hist, bin_edges) for ``bins`` equal bins over ``range`` (the
    data's extremes by default), or for the given increasing edges; the last bin includes
    its right edge; ``density`` divides by the total and the bin widths."""
    data = input._data.reshape(-1)
    dtype = data.dtype
    if isinstance(bins, Tensor):
        _check_floating(input, "histogram_cpu")
        edges = bins._data
        if edges.dtype != dtype:
            raise RuntimeError(
                "torch.histogramdd: input tensor and bins tensors should have the same dtype, "
                f"but got input with dtype {CPP_TYPE_NAMES[dtype.name]} and bins for dimension 0 "
                f"with dtype {CPP_TYPE_NAMES[edges.dtype.name]}"
            )
        if edges.ndim != 1:
            raise RuntimeError(
                "torch.histogramdd: bins tensor should have one dimension, but got "
                f"{edges.ndim} dimensions in the bins tensor for dimension 0"
            )
    elif range is not None and range[0] > range[1]:
        raise RuntimeError(
            f"torch.histogramdd: min should not exceed max, but got min {range[0]:g} max "
            f"{range[1]:g} for dimension 0"
        )
    else:
        _check_floating(input, "histogramdd")
        if dtype == xp.float16:  # (edges given as a tensor work in half)
            raise NotImplementedError("\"histogramdd\" not implemented for 'Half'")
    weights = None if weight is None else _checked_weights(weight, data)
    if isinstance(bins, Tensor):
        count = edges.shape[0] - 1
        _check_bins(count)
        positions = xp.searchsorted(edges, data, side="right") - 1
        positions = xp.where(data == edges[-1], count - 1, positions)
        positions = xp.where((data >= edges[0]) & (data <= edges[-1]), positions, -1)
    else:
        count = int(bins)
        _check_bins(count)
        low, high = (0, 0) if range is None else range
        if range is None and not data.size:
            low, high = 0, 1  # PyTorch's edges for no data
        low, high = _data_range(data, low, high, 0.5, histc=False)
        edges = _edges(low, high, count + 1, dtype.type)
        positions = _linear_bins(data, low, high, count, edges, search=True)
    hist = _count(positions, count, weights, dtype)
    if density:
        # Two divisions in the data's dtype, as PyTorch: by the total, then by the widths.
        hist = (hist / dtype.type(hist.sum())) / xp.diff(edges)
    return return_types.histogram(_constant(hist), _constant(edges))


# ---------------------------------------------------------------------- searchsorted
def _side(right: bool, side) -> str:
    if side is None:
        return "right" if right else "left"
    if side not in ("left", "right"):
        raise RuntimeError(
            f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}"
        )
    if right and side == "left":
        raise RuntimeError(
            "torch.searchsorted(): side and right can't be set to opposites, got side of "
            "left while right was True"
        )
    return side


def _as_values(values):
    return values._data if isinstance(values, Tensor) else xp.asarray(values)


def _comparison_dtype(boundaries, input, values):
    """The dtype PyTorch compares in: a Python number is weak (it keeps the boundaries' dtype,
    or lifts integral boundaries to the default float), a tensor promotes as in arithmetic
    (int64 with float32 is float32, a 0-d tensor is weak)."""
    if isinstance(input, Tensor):
        return result_type(boundaries.dtype, values.dtype, boundaries.ndim, values.ndim)
    return xp.dtype(scalar_result_type(boundaries.dtype, input))


def _binary_search(rows, values, right: bool):
    """Per row of ``values``, PyTorch's lower (``right``: upper) bound in the same row of
    ``rows``: its bisection, whose comparisons treat a NaN boundary as below every value
    (``!(boundary >= value)`` moves right), run for all values at once."""
    size = rows.shape[1]
    start = xp.zeros(values.shape, dtype=xp.int64)
    end = xp.full(values.shape, size, dtype=xp.int64)
    if size == 0:
        return start
    for _ in range(size.bit_length() + 1):
        active = start < end
        middle = start + ((end - start) >> 1)
        boundary = xp.take_along_axis(rows, xp.minimum(middle, max(size - 1, 0)), axis=1)
        above = boundary > values if right else boundary >= values
        start = xp.where(active & ~above, middle + 1, start)
        end = xp.where(active & above, middle, end)
    return start


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, sorter=None):
    """``torch.searchsorted``: for each value, the index at which it would be inserted into
    the sorted innermost dimension of ``sorted_sequence`` to keep it sorted (after equal
    values with ``right``/``side="right"``); ``sorter`` sorts an unsorted sequence."""
    side = _side(right, side)
    boundaries = sorted_sequence._data
    values = _as_values(input)
    if values.ndim == 0 and boundaries.ndim != 1:
        raise RuntimeError(
            "torch.searchsorted(): input value can be a scalar only when boundaries tensor "
            f"dimension is 1, but we got boundaries tensor dim({boundaries.ndim}) and input "
            f"value's dim(0) numel(1)"
        )
    if boundaries.ndim == 0:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
            "dimension"
        )
    if boundaries.ndim > 1 and boundaries.shape[:-1] != values.shape[:-1]:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            "dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(boundaries.shape)} and input value tensor "
            f"{list(values.shape)}"
        )
    common = _comparison_dtype(boundaries, input, values)
    if common.kind == "b":
        raise NotImplementedError("\"searchsorted_out_cpu\" not implemented for 'Bool'")
    if sorter is not None:
        order = sorter._data
        if order.size and (order.min() < 0 or order.max() >= boundaries.shape[-1]):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
        boundaries = xp.take_along_axis(boundaries, order, axis=-1)
    if boundaries.ndim <= 1:
        rows = boundaries.reshape(1, -1)
        wanted = values.reshape(1, -1)
    else:
        count = int(xp.prod(boundaries.shape[:-1]))
        rows = boundaries.reshape(count, boundaries.shape[-1])
        wanted = values.reshape(count, values.shape[-1])
    positions = _binary_search(rows.astype(common), wanted.astype(common), side == "right")
    positions = positions.reshape(values.shape)
    return _constant(xp.asarray(positions).astype(xp.int32 if out_int32 else xp.int64))


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """``torch.bucketize``: the index of each value's bucket among the 1-d increasing
    ``boundaries`` (``right``: a value equal to a boundary goes to the bucket above it)."""
    if boundaries._data.ndim != 1:
        raise RuntimeError(
            f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})"
        )
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


_NO_DERIVATIVE = Rule(
    "the distinct values (PyTorch defines no derivative)",
    "unique({x:0})",
    passes=("nothing: backward raises PyTorch's 'not implemented' error",),
)

DECLARATIONS = (
    declare(
        "unique",
        unique,
        explain={Unique2Backward0: _NO_DERIVATIVE, UniqueDimBackward0: _NO_DERIVATIVE},
    ),
    declare(
        "unique_consecutive",
        unique_consecutive,
        explain={UniqueConsecutiveBackward0: _NO_DERIVATIVE},
    ),
    declare("bincount", bincount),
    declare("histc", histc),
    declare("histogram", histogram),
    declare("searchsorted", searchsorted, method=None),
    declare("bucketize", bucketize, method=None),
)
