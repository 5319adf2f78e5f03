"""The order in which PyTorch's CPU ``topk`` returns tied values, for ``multinomial``.

``multinomial`` without replacement takes the ``topk`` of ``p / q`` (``q`` exponential). When the
k largest values are distinct, any sort gives the same indices; when some tie (probabilities of
zero give ``0 / q == 0``), the indices come out in whatever order ATen's ``topk_impl_loop``
leaves them: ``std::partial_sort`` when ``k * 64 <= n``, else ``std::nth_element`` then
``std::sort`` of the first ``k - 1``, with the comparator "NaN first, then greater". This module
repeats those algorithms as libstdc++ writes them (introselect, introsort with a final insertion
sort, heap select and heap sort), on the values alone, so ties land where PyTorch puts them.
"""

from __future__ import annotations

import math

import numpy as np

_SORT_THRESHOLD = 16  # libstdc++'s _S_threshold


def topk_indices(values: np.ndarray, k: int) -> np.ndarray:
    """The indices of the ``k`` largest of the 1-D ``values`` (NaN largest), sorted, in PyTorch's
    CPU order."""
    n = values.shape[0]
    order = _descending(values)
    top = values[order[: k + 1]]
    ties = np.isnan(top).any() or bool((top[1:] == top[:-1]).any())
    if not ties:  # every algorithm agrees: the k largest, largest first
        return order[:k]
    queue = [(float(value), index) for index, value in enumerate(values.tolist())]
    if k * 64 <= n:
        _partial_sort(queue, 0, k, n)
    else:
        _introselect(queue, 0, k - 1, n, _depth_limit(n))
        if k - 1 > 0:
            _sort(queue, 0, k - 1)
    return np.array([index for _, index in queue[:k]], dtype=np.int64)


def _descending(values: np.ndarray) -> np.ndarray:
    """Indices by decreasing value, NaN first (a stable order: only used where ties are absent)."""
    keys = np.where(np.isnan(values), -np.inf, -values.astype(np.float64))
    nan_first = ~np.isnan(values)
    return np.lexsort((keys, nan_first))


def _before(x, y) -> bool:
    """topk's comparator for ``largest``: x goes before y."""
    a, b = x[0], y[0]
    return (math.isnan(a) and not math.isnan(b)) or a > b


def _depth_limit(count: int) -> int:
    return 2 * (count.bit_length() - 1)


def _move_median_to_first(q, result, a, b, c) -> None:
    if _before(q[a], q[b]):
        if _before(q[b], q[c]):
            q[result], q[b] = q[b], q[result]
        elif _before(q[a], q[c]):
            q[result], q[c] = q[c], q[result]
        else:
            q[result], q[a] = q[a], q[result]
    elif _before(q[a], q[c]):
        q[result], q[a] = q[a], q[result]
    elif _before(q[b], q[c]):
        q[result], q[c] = q[c], q[result]
    else:
        q[result], q[b] = q[b], q[result]


def _unguarded_partition(q, first, last, pivot) -> int:
    while True:
        while _before(q[first], q[pivot]):
            first += 1
        last -= 1
        while _before(q[pivot], q[last]):
            last -= 1
        if not first < last:
            return first
        q[first], q[last] = q[last], q[first]
        first += 1


def _partition_pivot(q, first, last) -> int:
    mid = first + (last - first) // 2
    _move_median_to_first(q, first, first + 1, mid, last - 1)
    return _unguarded_partition(q, first + 1, last, first)


def _unguarded_linear_insert(q, last) -> None:
    value = q[last]
    previous = last - 1
    while _before(value, q[previous]):
        q[last] = q[previous]
        last = previous
        previous -= 1
    q[last] = value


def _insertion_sort(q, first, last) -> None:
    if first == last:
        return
    for i in range(first + 1, last):
        if _before(q[i], q[first]):
            value = q[i]
            q[first + 1 : i + 1] = q[first:i]
            q[first] = value
        else:
            _unguarded_linear_insert(q, i)


def _push_heap(q, first, hole, top, value) -> None:
    parent = (hole - 1) // 2
    while hole > top and _before(q[first + parent], value):
        q[first + hole] = q[first + parent]
        hole = parent
        parent = (hole - 1) // 2
    q[first + hole] = value


def _adjust_heap(q, first, hole, length, value) -> None:
    top = hole
    child = hole
    while child < (length - 1) // 2:
        child = 2 * (child + 1)
        if _before(q[first + child], q[first + child - 1]):
            child -= 1
        q[first + hole] = q[first + child]
        hole = child
    if length % 2 == 0 and child == (length - 2) // 2:
        child = 2 * (child + 1)
        q[first + hole] = q[first + child - 1]
        hole = child - 1
    _push_heap(q, first, hole, top, value)


def _make_heap(q, first, last) -> None:
    length = last - first
    if length < 2:
        return
    parent = (length - 2) // 2
    while True:
        _adjust_heap(q, first, parent, length, q[first + parent])
        if parent == 0:
            return
        parent -= 1


def _pop_heap(q, first, last, result) -> None:
    value = q[result]
    q[result] = q[first]
    _adjust_heap(q, first, 0, last - first, value)


def _heap_select(q, first, middle, last) -> None:
    _make_heap(q, first, middle)
    for i in range(middle, last):
        if _before(q[i], q[first]):
            _pop_heap(q, first, middle, i)


def _sort_heap(q, first, last) -> None:
    while last - first > 1:
        last -= 1
        _pop_heap(q, first, last, last)


def _partial_sort(q, first, middle, last) -> None:
    _heap_select(q, first, middle, last)
    _sort_heap(q, first, middle)


def _introselect(q, first, nth, last, depth) -> None:
    while last - first > 3:
        if depth == 0:
            _heap_select(q, first, nth + 1, last)
            q[first], q[nth] = q[nth], q[first]  # the nth element in its place
            return
        depth -= 1
        cut = _partition_pivot(q, first, last)
        if cut <= nth:
            first = cut
        else:
            last = cut
    _insertion_sort(q, first, last)


def _introsort_loop(q, first, last, depth) -> None:
    while last - first > _SORT_THRESHOLD:
        if depth == 0:
            _partial_sort(q, first, last, last)
            return
        depth -= 1
        cut = _partition_pivot(q, first, last)
        _introsort_loop(q, cut, last, depth)
        last = cut


def _sort(q, first, last) -> None:
    """``std::sort``: introsort, then one insertion sort over the nearly sorted range."""
    if first == last:
        return
    _introsort_loop(q, first, last, _depth_limit(last - first))
    if last - first > _SORT_THRESHOLD:
        _insertion_sort(q, first, first + _SORT_THRESHOLD)
        for i in range(first + _SORT_THRESHOLD, last):
            _unguarded_linear_insert(q, i)
    else:
        _insertion_sort(q, first, last)
