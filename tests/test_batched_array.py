"""BatchedArray's NumPy protocols on their own (gradienti/batching), where no op of gradienti
reaches them yet but NumPy code may: each result is checked sample by sample against NumPy
on that sample's arrays. The ops' use of them under vmap is tested in tests/test_vmap_ops.py.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

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


def test_reshape_and_ravel_in_fortran_order_as_numpy_on_each_sample():
    physical = RNG.normal(size=(SIZE, 2, 3))
    with _level() as level, pytest.warns(UserWarning, match="performance drop"):
        array = BatchedArray(physical, level)
        reshaped = np.reshape(array, (3, 2), order="F")
        raveled = np.ravel(array, order="F")
    for index in range(SIZE):
        np.testing.assert_array_equal(
            reshaped.physical[index], np.reshape(physical[index], (3, 2), order="F")
        )
        np.testing.assert_array_equal(raveled.physical[index], np.ravel(physical[index], "F"))


def test_copyto_with_where_writes_each_samples_selection():
    source = RNG.normal(size=(SIZE, 4))
    before = RNG.normal(size=(SIZE, 4))
    mask = np.array([True, False, False, True])
    with _level() as level:
        target = BatchedArray(before.copy(), level)
        np.copyto(target, BatchedArray(source, level), where=mask)
    np.testing.assert_array_equal(target.physical, np.where(mask, source, before))


def test_copyto_with_where_of_per_sample_values_into_a_shared_array_is_refused():
    shared = np.zeros(4)
    with _level() as level, pytest.raises(RuntimeError, match="is not possible"):
        np.copyto(shared, BatchedArray(RNG.normal(size=(SIZE, 4)), level), where=shared == 0)
    assert not shared.any()
