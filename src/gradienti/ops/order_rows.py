"""The raw-array work of the ordering ops (ops/sorting.py): for each row of a 2-d array (the
sorted dimension moved last, every other dimension folded into the rows), the indices that
sort, select the k largest, the k-th smallest, the median or the mode, chosen among equal
values as PyTorch's CPU kernels choose.

PyTorch's choices among ties:

- ``sort(stable=True)`` and ``median``/``nanmedian``
  along a dim (``std::nth_element`` with the index as tie-break) follow the stable order;
  NaN sorts as the largest value.
- ``kthvalue`` runs Sedgewick's quickselect (``quick_select_template``), whose swaps decide
  which of several equal values ends at rank k: a row with ties is run through the same
  swaps here (``_quickselect``); a row without ties has only one answer, the stable one.
- ``sort`` without ``stable=True``, ``topk`` and ``mode`` go through ``std::sort`` and its
  kin: see ops/stdlib_order.py.

Each function takes plain arrays; ``batching.along_first_axis`` folds vmap's samples into
the rows.
"""

from __future__ import annotations

from ..backend import xp
from ..batching import along_first_axis


def rows_along(x, dim: int):
    """``x`` with ``dim`` moved last and the other dimensions folded: shape (rows, size)."""
    moved = xp.moveaxis(x, dim, -1)
    lead = moved.shape[:-1]
    count = 1
    for size in lead:
        count *= size
    return moved.reshape((count, moved.shape[-1])), lead


def unfold_rows(indices, lead: tuple, dim: int):
    """Per-row indices (rows, m) back to the input's layout, ``m`` along ``dim``."""
    return xp.moveaxis(indices.reshape(lead + (indices.shape[-1],)), -1, dim)


@along_first_axis()
def stable_order(rows, descending: bool):
    """The stable sorting permutation of each row (NaN largest; equal values keep their
    order, also when descending)."""
    if not descending:
        return xp.argsort(rows, axis=1, kind="stable").astype(xp.int64, copy=False)
    # Sorting the reversed row stably and reversing the result keeps equal values in their
    # original order while the values descend.
    size = rows.shape[1]
    reversed_order = xp.argsort(rows[:, ::-1], axis=1, kind="stable")[:, ::-1]
    return (size - 1 - reversed_order).astype(xp.int64)


def _nan_counts(rows):
    if rows.dtype.kind in "fc":
        return xp.isnan(rows).sum(axis=1)
    return xp.zeros(rows.shape[0], dtype=xp.int64)


@along_first_axis()
def median_index(rows, ignore_nan: bool):
    """The index of each row's median (the lower of the two middle values): for ``median``
    the first NaN where there is one, for ``nanmedian`` the median of the other values (the
    first NaN when all are NaN)."""
    order = xp.argsort(rows, axis=1, kind="stable")  # NaNs last, in their order
    size = rows.shape[1]
    nans = _nan_counts(rows)
    if ignore_nan:
        # C++'s (count - 1) / 2 truncates: 0 when every value is NaN.
        position = xp.maximum(size - nans - 1, 0) // 2
    else:
        position = xp.where(nans > 0, size - nans, (size - 1) // 2)
    return xp.take_along_axis(order, position[:, None], axis=1)[:, 0].astype(xp.int64)


def _greater_or_nan(a, b) -> bool:
    """PyTorch's ``gt_or_nan``: NaN counts as larger than any number."""
    return (a != a and b == b) or a > b


def _quickselect(values: list, k: int) -> int:
    """The index that PyTorch's ``quick_select_template`` leaves at rank ``k`` (0-based) of
    ``values``: the same median-of-three pivots and swaps, on a list of (value, index)."""
    items = [(value, index) for index, value in enumerate(values)]

    def swap(i, j):
        items[i], items[j] = items[j], items[i]

    low, high = 0, len(items) - 1
    while True:
        if high <= low:
            return items[k][1]
        if high == low + 1:
            if _greater_or_nan(items[low][0], items[high][0]):
                swap(low, high)
            return items[k][1]
        middle = (low + high) >> 1
        swap(middle, low + 1)
        if _greater_or_nan(items[low + 1][0], items[high][0]):
            swap(low + 1, high)
        if _greater_or_nan(items[low][0], items[high][0]):
            swap(low, high)
        if _greater_or_nan(items[low + 1][0], items[low][0]):
            swap(low + 1, low)
        i, j = low + 1, high
        pivot = items[low][0]
        while True:
            i += 1
            while _greater_or_nan(pivot, items[i][0]):
                i += 1
            j -= 1
            while _greater_or_nan(items[j][0], pivot):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(low, j)
        if j <= k:
            low = i
        if j >= k:
            high = j - 1


def has_ties(rows):
    """Per row, whether two of its values are equal (NaNs count as equal to each other)."""
    if rows.shape[1] < 2:
        return xp.zeros(rows.shape[0], dtype=bool)
    ordered = xp.sort(rows, axis=1)
    same = ordered[:, 1:] == ordered[:, :-1]
    if rows.dtype.kind in "fc":
        same |= xp.isnan(ordered[:, 1:]) & xp.isnan(ordered[:, :-1])
    return same.any(axis=1)


@along_first_axis()
def kth_index(rows, k: int):
    """The index of each row's k-th smallest value (k from 1), as PyTorch's kthvalue."""
    order = xp.argsort(rows, axis=1, kind="stable")
    chosen = order[:, k - 1].astype(xp.int64)
    for row in xp.flatnonzero(has_ties(rows)):
        chosen[row] = _quickselect(rows[row].tolist(), k - 1)
    return chosen
