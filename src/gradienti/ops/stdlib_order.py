"""The orders of ``sort`` (not stable), ``topk`` and ``mode``, as PyTorch's CPU kernels give them.

PyTorch's kernel (``topk_impl_loop``) puts each row's (value, index) pairs through the C++
standard library: ``std::partial_sort`` of the first k when ``k * 64 <= n``, else
``std::nth_element`` at k - 1 and, when ``sorted``, ``std::sort`` of the first k - 1. Its
comparison looks at values only (NaN largest), so among equal values, and for the order of an
unsorted result, what it returns is what those algorithms' swaps leave. A row without equal
values has one sorted answer, the stable order (NumPy's); a row with ties, or an unsorted
result, is run through the same algorithms here, written after GNU libstdc++ (the library
PyTorch's Linux wheels are built with): introselect, introsort and the heap operations.
"""

from __future__ import annotations

import math

from ..backend import xp
from ..batching import along_first_axis
from .order_rows import has_ties, stable_order

_THRESHOLD = 16  # libstdc++'s _S_threshold: introsort leaves ranges this short to insertion


def _larger(a, b) -> bool:
    """``a`` before ``b`` among the largest: NaN first, then by value."""
    a, b = a[0], b[0]
    return (a != a and b == b) or a > b


def _smaller(a, b) -> bool:
    a, b = a[0], b[0]
    return (a == a and b != b) or a < b


class _Algorithms:
    """libstdc++'s ``partial_sort``, ``nth_element`` and ``sort`` on a list of pairs."""

    def __init__(self, items: list, before) -> None:
        self.items = items
        self.before = before

    def swap(self, i: int, j: int) -> None:
        items = self.items
        items[i], items[j] = items[j], items[i]

    # -- heaps (bits/stl_heap.h)
    def push_heap(self, first, hole, top, value) -> None:
        items, before = self.items, self.before
        parent = (hole - 1) // 2
        while hole > top and before(items[first + parent], value):
            items[first + hole] = items[first + parent]
            hole = parent
            parent = (hole - 1) // 2
        items[first + hole] = value

    def adjust_heap(self, first, hole, length, value) -> None:
        items, before = self.items, self.before
        top = hole
        child = hole
        while child < (length - 1) // 2:
            child = 2 * (child + 1)
            if before(items[first + child], items[first + child - 1]):
                child -= 1
            items[first + hole] = items[first + child]
            hole = child
        if length % 2 == 0 and child == (length - 2) // 2:
            child = 2 * (child + 1)
            items[first + hole] = items[first + child - 1]
            hole = child - 1
        self.push_heap(first, hole, top, value)

    def make_heap(self, first, last) -> None:
        length = last - first
        if length < 2:
            return
        parent = (length - 2) // 2
        while True:
            self.adjust_heap(first, parent, length, self.items[first + parent])
            if parent == 0:
                return
            parent -= 1

    def pop_heap(self, first, last, result) -> None:
        value = self.items[result]
        self.items[result] = self.items[first]
        self.adjust_heap(first, 0, last - first, value)

    def heap_select(self, first, middle, last) -> None:
        self.make_heap(first, middle)
        for i in range(middle, last):
            if self.before(self.items[i], self.items[first]):
                self.pop_heap(first, middle, i)

    def partial_sort(self, first, middle, last) -> None:
        self.heap_select(first, middle, last)
        while middle - first > 1:  # sort_heap
            middle -= 1
            self.pop_heap(first, middle, middle)

    # -- partitions and insertion (bits/stl_algo.h)
    def move_median_to_first(self, result, a, b, c) -> None:
        items, before = self.items, self.before
        if before(items[a], items[b]):
            if before(items[b], items[c]):
                self.swap(result, b)
            elif before(items[a], items[c]):
                self.swap(result, c)
            else:
                self.swap(result, a)
        elif before(items[a], items[c]):
            self.swap(result, a)
        elif before(items[b], items[c]):
            self.swap(result, c)
        else:
            self.swap(result, b)

    def unguarded_partition_pivot(self, first, last) -> int:
        items, before = self.items, self.before
        self.move_median_to_first(first, first + 1, first + (last - first) // 2, last - 1)
        pivot = first
        low, high = first + 1, last
        while True:
            while before(items[low], items[pivot]):
                low += 1
            high -= 1
            while before(items[pivot], items[high]):
                high -= 1
            if not low < high:
                return low
            self.swap(low, high)
            low += 1

    def unguarded_linear_insert(self, last) -> None:
        items, before = self.items, self.before
        value = items[last]
        previous = last - 1
        while before(value, items[previous]):
            items[last] = items[previous]
            last = previous
            previous -= 1
        items[last] = value

    def insertion_sort(self, first, last) -> None:
        items = self.items
        for i in range(first + 1, last):
            if self.before(items[i], items[first]):
                value = items[i]
                items[first + 1 : i + 1] = items[first:i]
                items[first] = value
            else:
                self.unguarded_linear_insert(i)

    def nth_element(self, first, nth, last) -> None:
        if first == last or nth == last:
            return
        depth = 2 * _log2(last - first)
        while last - first > 3:
            if depth == 0:
                self.heap_select(first, nth + 1, last)
                self.swap(first, nth)
                return
            depth -= 1
            cut = self.unguarded_partition_pivot(first, last)
            if cut <= nth:
                first = cut
            else:
                last = cut
        self.insertion_sort(first, last)

    def introsort_loop(self, first, last, depth) -> None:
        while last - first > _THRESHOLD:
            if depth == 0:
                self.partial_sort(first, last, last)
                return
            depth -= 1
            cut = self.unguarded_partition_pivot(first, last)
            self.introsort_loop(cut, last, depth)
            last = cut

    def sort(self, first, last) -> None:
        if first == last:
            return
        self.introsort_loop(first, last, 2 * _log2(last - first))
        if last - first > _THRESHOLD:
            self.insertion_sort(first, first + _THRESHOLD)
            for i in range(first + _THRESHOLD, last):
                self.unguarded_linear_insert(i)
        else:
            self.insertion_sort(first, last)


def _log2(n: int) -> int:
    """``std::__lg``: floor(log2(n)) for n > 0."""
    return int(math.floor(math.log2(n))) if n < 2**52 else n.bit_length() - 1


def row_topk(values: list, k: int, largest: bool, sort: bool) -> list:
    """The k indices PyTorch's ``topk_impl_loop`` returns for one row, in its order."""
    algorithms = _Algorithms(
        [(value, index) for index, value in enumerate(values)], _larger if largest else _smaller
    )
    size = len(values)
    if k * 64 <= size:
        algorithms.partial_sort(0, k, size)
    else:
        algorithms.nth_element(0, k - 1, size)
        if sort:
            algorithms.sort(0, k - 1)
    return [index for _, index in algorithms.items[:k]]


@along_first_axis()
def topk_order(rows, k: int, largest: bool, sort: bool):
    """Per row, the indices of its k largest (or smallest) values, as PyTorch's CPU topk."""
    count, size = rows.shape
    if k == 0:
        return xp.zeros((count, 0), dtype=xp.int64)
    chosen = stable_order(rows, largest)[:, :k].copy()
    sorted_anyway = sort or k * 64 <= size
    emulated = xp.arange(count) if not sorted_anyway else xp.flatnonzero(has_ties(rows))
    for row in emulated:
        chosen[row] = row_topk(rows[row].tolist(), k, largest, sort)
    return chosen


def _std_sort(rows, chosen, emulated, before):
    """``chosen`` with the rows ``emulated`` replaced by the order ``std::sort`` leaves."""
    for row in emulated:
        algorithms = _Algorithms(
            [(value, index) for index, value in enumerate(rows[row].tolist())], before
        )
        algorithms.sort(0, rows.shape[1])
        chosen[row] = [index for _, index in algorithms.items]
    return chosen


@along_first_axis()
def unstable_order(rows, descending: bool):
    """Per row, the permutation PyTorch's CPU ``sort`` without ``stable=True`` returns: its
    ``std::sort`` of (value, index) pairs by value, whose order among equal values is what
    introsort's swaps leave (the stable order where a row has no ties)."""
    chosen = stable_order(rows, descending)
    emulated = xp.flatnonzero(has_ties(rows))
    return _std_sort(rows, chosen, emulated, _larger if descending else _smaller)


def std_sort_permutation(keys: list, less) -> list:
    """The indices of ``keys`` in the order libstdc++'s ``std::sort`` leaves them with the
    comparison ``less`` (which, like PyTorch's comparisons involving NaN, need not be a strict
    weak ordering)."""
    algorithms = _Algorithms(
        [(key, index) for index, key in enumerate(keys)], lambda a, b: less(a[0], b[0])
    )
    algorithms.sort(0, len(keys))
    return [index for _, index in algorithms.items]


def _less(a, b) -> bool:
    """``mode``'s comparison: the plain ``<`` (NaN is neither before nor after anything)."""
    return a[0] < b[0]


@along_first_axis()
def mode_index(rows):
    """The index of each row's mode, as PyTorch's CPU kernel: the smallest of the most frequent
    values, at the last of its run in the ``std::sort`` order."""
    order = xp.argsort(rows, axis=1, kind="stable")
    emulated = has_ties(rows)
    if rows.dtype.kind == "f":
        emulated |= xp.isnan(rows).any(axis=1)
    order = _std_sort(rows, order, xp.flatnonzero(emulated), _less)
    values = xp.take_along_axis(rows, order, axis=1)
    size = rows.shape[1]
    positions = xp.arange(size)
    starts_run = xp.ones(values.shape, dtype=bool)
    starts_run[:, 1:] = values[:, 1:] != values[:, :-1]
    ends_run = xp.ones(values.shape, dtype=bool)
    ends_run[:, :-1] = starts_run[:, 1:]
    run_start = xp.maximum.accumulate(xp.where(starts_run, positions, 0), axis=1)
    run_length = xp.where(ends_run, positions - run_start + 1, 0)
    best = xp.argmax(run_length, axis=1)  # the first longest run: the smallest value
    return order[xp.arange(rows.shape[0]), best].astype(xp.int64)
