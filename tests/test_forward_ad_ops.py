"""Forward-mode AD of every op case (the table of test_ops.py): the tangent carried through
``f`` by ``autograd.forward_ad`` is checked against float64 central differences of ``f`` along
the tangent (always) and against PyTorch's forward AD (when it is installed); forward over
reverse (the tangent of a gradient: a Hessian-vector product) against PyTorch's.

Tangents are random and non-uniform, one per input; a case with several inputs is also run with
its first input alone dual (the others' tangents are zero), so a rule that mixes up its inputs
or mishandles a missing tangent shows.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_ops import CASES

import gradienti
from gradienti.autograd import forward_ad as our_forward_ad

DIFFERENTIABLE = [case for case in CASES if case.differentiable]
EPS = 1e-6
FD_TOL = {"rtol": 1e-3, "atol": 1e-5}
TORCH_TOL = {"rtol": 1e-7, "atol": 1e-9}


def _params(cases):
    return [pytest.param(case, id=case.name) for case in cases]


def _tangents(case, arrays):
    rng = np.random.default_rng(7)
    return [rng.uniform(-1.5, 1.5, a.shape).astype(a.dtype) for a in arrays]


def _flat(out):
    """An op's result as a list of Tensors (a few ops return tuples)."""
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _as_numpy(value):
    if value is None:
        return None
    value = value.detach()
    return value.numpy(force=True) if type(value).__module__.startswith("torch") else value.numpy()


def forward_tangents(lib, forward_ad, case, arrays, tangents, dual_inputs):
    """(outputs, their tangents) of ``case`` with the inputs in ``dual_inputs`` made dual."""
    with forward_ad.dual_level():
        xs = [
            forward_ad.make_dual(lib.tensor(a), lib.tensor(t))
            if i in dual_inputs
            else lib.tensor(a)
            for i, (a, t) in enumerate(zip(arrays, tangents))
        ]
        outs = _flat(case.fn(lib, *xs))
        unpacked = [forward_ad.unpack_dual(out) for out in outs]
        return (
            [_as_numpy(u.primal) for u in unpacked],
            [_as_numpy(u.tangent) for u in unpacked],
        )


def _finite_differences(case, arrays, tangents, dual_inputs):
    def at(step):
        shifted = [
            a + step * t if i in dual_inputs else a
            for i, (a, t) in enumerate(zip(arrays, tangents))
        ]
        return [_as_numpy(o) for o in _flat(case.fn(gradienti, *map(gradienti.tensor, shifted)))]

    return [(p - m) / (2 * EPS) for p, m in zip(at(EPS), at(-EPS))]


def _dual_sets(case):
    everything = frozenset(range(len(case.shapes)))
    return [everything] if len(everything) < 2 else [everything, frozenset({0})]


def _check(kind, case, ours, theirs, tol):
    assert len(ours) == len(theirs), f"[{case.name}] {kind}: number of outputs"
    for index, (mine, other) in enumerate(zip(ours, theirs)):
        if other is None or mine is None:
            # No tangent on one side is a zero tangent (an output that does not depend on it).
            value = other if mine is None else mine
            if value is not None:
                np.testing.assert_allclose(value, 0 * value, err_msg=f"[{case.name}] {kind}")
            continue
        assert mine.shape == other.shape, f"[{case.name}] {kind} of output {index}: shape"
        np.testing.assert_allclose(mine, other, **tol, err_msg=f"[{case.name}] {kind} {index}")


@pytest.mark.parametrize("case", _params(DIFFERENTIABLE))
def test_tangent_against_finite_differences(case):
    check_tangent_against_finite_differences(case)


@pytest.mark.parametrize("case", _params(DIFFERENTIABLE))
def test_tangent_against_torch(case):
    check_tangent_against_torch(pytest.importorskip("torch"), case)


@pytest.mark.parametrize("case", _params(DIFFERENTIABLE))
def test_forward_over_reverse_against_torch(case):
    check_forward_over_reverse_against_torch(pytest.importorskip("torch"), case)


# The checks, also run on cases outside the table (test_forward_ad_nn.py).
def check_tangent_against_finite_differences(case):
    arrays = case.arrays()
    tangents = _tangents(case, arrays)
    for dual_inputs in _dual_sets(case):
        _, ours = forward_tangents(gradienti, our_forward_ad, case, arrays, tangents, dual_inputs)
        expected = _finite_differences(case, arrays, tangents, dual_inputs)
        _check("tangent vs finite differences", case, ours, expected, FD_TOL)


def check_tangent_against_torch(torch, case):
    if case.name in TORCH_TANGENT_WRONG:
        pytest.skip("PyTorch's tangent is wrong here (see TORCH_TANGENT_WRONG)")
    arrays = case.arrays()
    tangents = _tangents(case, arrays)
    for dual_inputs in _dual_sets(case):
        primals, ours = forward_tangents(
            gradienti, our_forward_ad, case, arrays, tangents, dual_inputs
        )
        their_primals, theirs = forward_tangents(
            torch, torch.autograd.forward_ad, case, arrays, tangents, dual_inputs
        )
        _check("primal", case, primals, their_primals, TORCH_TOL)
        _check("tangent vs torch", case, ours, theirs, TORCH_TOL)


def _hessian_vector(lib, forward_ad, case, arrays, tangents):
    """The tangent of ``grad <f(x), w>`` along the tangents: forward over reverse."""
    rng = np.random.default_rng(3)
    with forward_ad.dual_level():
        xs = [
            forward_ad.make_dual(lib.tensor(a, requires_grad=True), lib.tensor(t))
            for a, t in zip(arrays, tangents)
        ]
        outs = [out for out in _flat(case.fn(lib, *xs)) if out.requires_grad]
        if not outs:
            return []
        total = sum(
            (out * lib.tensor(rng.uniform(0.5, 1.5, tuple(out.shape)))).sum() for out in outs
        )
        grads = lib.autograd.grad(total, xs, allow_unused=True)
        return [None if g is None else _as_numpy(forward_ad.unpack_dual(g).tangent) for g in grads]


def _hessian_vector_by_differences(case, arrays, tangents):
    """Central differences of gradienti's reverse-mode gradient along the tangents."""

    def gradient_at(step):
        shifted = [a + step * t for a, t in zip(arrays, tangents)]
        xs = [gradienti.tensor(a, requires_grad=True) for a in shifted]
        outs = [out for out in _flat(case.fn(gradienti, *xs)) if out.requires_grad]
        rng = np.random.default_rng(3)  # the same weights as _hessian_vector's
        total = sum(
            (out * gradienti.tensor(rng.uniform(0.5, 1.5, tuple(out.shape)))).sum() for out in outs
        )
        grads = gradienti.autograd.grad(total, xs, allow_unused=True)
        return [np.zeros_like(a) if g is None else _as_numpy(g) for a, g in zip(arrays, grads)]

    plus, minus = gradient_at(EPS), gradient_at(-EPS)
    return [(p - m) / (2 * EPS) for p, m in zip(plus, minus)]


# Cases whose tangent PyTorch gets wrong: its cholesky_inverse JVP disagrees with its own
# reverse mode and with finite differences, its triangular_solve JVP differentiates through
# the whole of A, not the triangle it reads (the finite-difference check still runs).
TORCH_TANGENT_WRONG = {
    "cholesky_inverse(chol(spd(x)))",
    "chol(spd(x)).mT.cholesky_inverse(upper=True) batched",
    "triangular_solve(y,x+4I).solution",
    "y.triangular_solve(x,upper=False,transpose=True) both outputs",
    "triangular_solve(y,x,unitriangular=True) broadcast",
}

# Cases whose forward over reverse PyTorch gets wrong (its finite differences disagree): the
# backward of a solve or a determinant reuses the LU saved by the forward, whose tangent it
# drops (slogdet's gives no tangent at all). The finite differences are the reference.
TORCH_FORWARD_OVER_REVERSE_WRONG = {
    *("linalg.solve(x+4I,y)", "linalg.solve(x+4I,y) vector"),
    *("linalg.solve(x+4I,y) batch of vectors", "linalg.solve(x+4I,y,left=False) broadcast"),
    *("linalg.solve_ex(x+4I,y).result", "linalg.det(x)", "linalg.det(x) batched", "det(x)"),
    *("x.det() batched", "linalg.slogdet(x+4I).logabsdet", "slogdet(x+4I).logabsdet"),
    *("linalg.slogdet(x)[1] negative determinants", "x.slogdet()[1]"),
    *("logdet(spd(x))", "spd(x).logdet()"),
    *("linalg.tensorsolve(x,y)", "linalg.tensorsolve(x,y,dims=(0,))"),  # (solve's)
    *TORCH_TANGENT_WRONG,
}


def check_forward_over_reverse_against_torch(torch, case):
    arrays = case.arrays()
    tangents = _tangents(case, arrays)
    ours = _hessian_vector(gradienti, our_forward_ad, case, arrays, tangents)
    if case.name in TORCH_FORWARD_OVER_REVERSE_WRONG:
        expected = _hessian_vector_by_differences(case, arrays, tangents)
        _check("forward over reverse vs finite differences", case, ours, expected, FD_TOL)
        return
    try:
        theirs = _hessian_vector(torch, torch.autograd.forward_ad, case, arrays, tangents)
    except RuntimeError as error:  # (NotImplementedError is one)
        # PyTorch has no forward rule for one of this case's backward ops (silu_backward), or
        # its rule writes into the zero tangent of a constant (mse_loss's double backward:
        # "ZeroTensors are immutable"): the finite differences of the gradient are the
        # reference instead.
        if not isinstance(error, NotImplementedError) and "ZeroTensors are immutable" not in str(
            error
        ):
            raise
        expected = _hessian_vector_by_differences(case, arrays, tangents)
        _check("forward over reverse vs finite differences", case, ours, expected, FD_TOL)
        return
    _check("forward over reverse", case, ours, theirs, TORCH_TOL)
