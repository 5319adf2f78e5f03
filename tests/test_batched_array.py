"""BatchedArray's NumPy protocols on their own (gradienti/batching), where no op of gradienti
reaches them yet but NumPy code may: each result is checked sample by sample against NumPy
on that sample's arrays. The ops' use of them under vmap is tested in tests/test_vmap_ops.py.
"""

from __future__ import annotations

import contextlib

import numpy as np

from gradienti import batching
from gradienti.batching import BatchedArray

RNG = np.random.default_rng(3)
SIZE = 3


@contextlib.contextmanager
def _level():
    """A vmap level of SIZE samples in force (its id), as ``vmap`` enters one."""
    level = batching.enter(SIZE, "error")
    try:
        yield level.id
    finally:
        batching.leave(level)


def test_a_ufunc_writes_unbatched_operands_into_a_batched_out():
    a, b = RNG.normal(size=4), RNG.normal(size=4)
    with _level() as level:
        out = BatchedArray(np.zeros((SIZE, 4)), level)
        returned = np.add(a, b, out=out)
    assert returned is out
    np.testing.assert_array_equal(out.physical, np.broadcast_to(a + b, (SIZE, 4)))


def test_a_reduction_of_an_unbatched_array_into_a_batched_out():
    a = RNG.normal(size=(2, 4))
    with _level() as level:
        out = BatchedArray(np.zeros((SIZE, 4)), level)
        np.add.reduce(a, axis=0, out=out)
    np.testing.assert_array_equal(out.physical, np.broadcast_to(a.sum(0), (SIZE, 4)))


def test_where_leaves_out_as_it_was_where_it_is_false():
    x = RNG.normal(size=(SIZE, 4))
    before = RNG.normal(size=(SIZE, 4))
    shared_mask = np.array([True, False, True, False])
    per_sample_mask = RNG.normal(size=(SIZE, 4)) > 0
    for mask, batched_mask in ((shared_mask, False), (per_sample_mask, True)):
        expected = before.copy()
        for index in range(SIZE):
            sample_mask = mask[index] if batched_mask else mask
            np.multiply(x[index], 2.0, out=expected[index], where=sample_mask)
        with _level() as level:
            out = BatchedArray(before.copy(), level)
            where = BatchedArray(mask, level) if batched_mask else mask
            np.multiply(BatchedArray(x, level), 2.0, out=out, where=where)
        np.testing.assert_array_equal(out.physical, expected)


def test_sort_in_place_writes_into_the_array_its_views_see():
    physical = RNG.normal(size=(SIZE, 5))
    with _level() as level:
        array = BatchedArray(physical.copy(), level)
        view = array[1:]
        array.sort()
        np.testing.assert_array_equal(array.physical, np.sort(physical, axis=-1))
        np.testing.assert_array_equal(view.physical, np.sort(physical, axis=-1)[:, 1:])
