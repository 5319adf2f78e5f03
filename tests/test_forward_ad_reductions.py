"""Forward-mode AD of reductions and extremes where the op table cannot go (finite differences
are not valid there): ties, NaN, zeros in a product, degrees of freedom <= 0, a standard
deviation of 0. The tangent is checked against PyTorch's forward AD (its formulas:
evenly_read_jvp, amaxamin_jvp, prod's, var_jvp, std's), NaN where PyTorch gives NaN.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

NAN = float("nan")
TIES = [[1.0, 3.0, 3.0], [0.0, 3.0, 2.0]]

CASES = {
    "x.prod() two zeros": (lambda x: x.prod(), [[0.0, 2.0, 3.0], [1.0, 0.0, 2.0]]),
    "x.prod() one zero": (lambda x: x.prod(), [[0.0, 2.0, 3.0], [1.0, 5.0, 2.0]]),
    "x.prod(1) zeros": (lambda x: x.prod(1), [[0.0, 2.0, 3.0], [1.0, 0.0, 0.0]]),
    "x.prod(0, keepdim) zeros": (
        lambda x: x.prod(0, keepdim=True),
        [[0.0, 2.0, 3.0], [1.0, 0.0, 0.0]],
    ),
    "x.prod(dtype=float64) zero": (
        lambda x: x.float().prod(dtype=x.dtype),
        [[0.0, 2.0, 3.0], [1.0, 4.0, 0.5]],
    ),
    "x.var() one element": (lambda x: x.var(), [2.0]),
    "x.var(0) dof 0": (lambda x: x.var(0), [[2.0, 3.0]]),
    "x.var(correction=3) dof < 0": (lambda x: x.var(correction=3), [1.0, 2.0, 4.0]),
    "x.var(0, correction=3) dof < 0": (lambda x: x.var(0, correction=3), [[1.0], [2.0]]),
    "x.var(correction=2.5)": (lambda x: x.var(correction=2.5), [1.0, 2.0, 5.0]),
    "x.std() constant": (lambda x: x.std(), [1.0, 1.0, 1.0]),
    "x.std(1) a constant row": (lambda x: x.std(1), [[1.0, 1.0], [1.0, 2.0]]),
    "x.std(0, keepdim) a constant column": (
        lambda x: x.std(0, keepdim=True),
        [[1.0, 2.0], [1.0, 3.0]],
    ),
    "x.std() one element": (lambda x: x.std(), [1.0]),
    "x.std(correction=3) dof < 0": (lambda x: x.std(correction=3), [1.0, 2.0]),
    "x.max() ties": (lambda x: x.max(), TIES),
    "x.min() NaN": (lambda x: x.min(), [[1.0, NAN, 3.0], [0.0, 3.0, 2.0]]),
    "x.max(1).values ties": (lambda x: x.max(1).values, [[1.0, 3.0, 3.0], [0.0, 3.0, 3.0]]),
    "x.min(0, keepdim).values ties": (lambda x: x.min(0, True).values, [[1.0, 3.0], [1.0, 2.0]]),
    "x.amax(1) ties": (lambda x: x.amax(1), TIES),
    "x.amin() ties": (lambda x: x.amin(), [[1.0, 1.0, 3.0], [1.0, 3.0, 2.0]]),
    "x.amax(0) NaN": (lambda x: x.amax(0), [[1.0, NAN, 3.0], [0.0, 3.0, 2.0]]),
    "x.amax((0,1), keepdim) ties": (lambda x: x.amax((0, 1), keepdim=True), TIES),
}


def _tangent(lib, fn, values, tangent):
    forward_ad = lib.autograd.forward_ad
    with forward_ad.dual_level(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # degrees of freedom <= 0
        x = forward_ad.make_dual(
            lib.tensor(values, dtype=lib.float64), lib.tensor(tangent, dtype=lib.float64)
        )
        result = forward_ad.unpack_dual(fn(x)).tangent
        return result.detach().numpy() if lib is torch else result.numpy()


@pytest.mark.parametrize("name", list(CASES))
def test_tangent_at_the_edges_against_torch(name):
    fn, values = CASES[name]
    tangent = np.random.default_rng(0).uniform(-1.0, 1.0, np.shape(values))
    ours = _tangent(gradienti, fn, values, tangent)
    theirs = _tangent(torch, fn, values, tangent)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)  # NaNs equal
