"""Forward-mode AD of the products, einsum and the nn ops beyond the op-case table
(test_forward_ad_ops.py runs the table, op_cases_nn.py's cases included).

- einsum's cases (outside the table: PyTorch's graph differs) get the table's three checks;
- cases whose VJP is deliberately not the derivative (embedding's ``padding_idx`` and
  ``scale_grad_by_freq``, as PyTorch's) and cases PyTorch cannot run backward twice: the
  tangent is the true derivative, against finite differences and PyTorch's forward AD;
- reverse over forward: the tangent is itself differentiable (in the primals and the tangents),
  against finite differences and PyTorch's gradients (where PyTorch's are right);
- batch norm's running statistics are updated as without tangents and get none;
- a convolution module with a non-zero padding mode carries the input's tangent.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import Case
from op_cases_linalg import EINSUM_CASES
from op_cases_nn import F
from test_forward_ad_ops import (
    EPS,
    FD_TOL,
    TORCH_TOL,
    _check,
    _tangents,
    check_forward_over_reverse_against_torch,
    check_tangent_against_finite_differences,
    check_tangent_against_torch,
)

import gradienti
from gradienti.autograd import forward_ad as our_forward_ad


def _params(cases):
    return [pytest.param(case, id=case.name) for case in cases]


def _embedding(**options):
    return lambda lib, w: F(lib).embedding(lib.tensor([[0, 2, 1], [2, 3, 2]]), w, **options)


# Their VJP is not the transpose of their derivative (PyTorch's choice), or PyTorch has no
# double backward for them: out of the table (gradcheck, double backward), in here.
OUTSIDE_TABLE = [
    Case("embedding(i,w,padding_idx=2)", _embedding(padding_idx=2), ((5, 3),)),
    Case("embedding(i,w,padding_idx=-1)", _embedding(padding_idx=-1), ((5, 3),)),
    Case("embedding(i,w,scale_grad_by_freq)", _embedding(scale_grad_by_freq=True), ((5, 2),)),
    Case(
        "layer_norm(x,(3,),bias=b)",
        lambda lib, x, b: F(lib).layer_norm(x, (3,), bias=b),
        ((4, 3), (3,)),
    ),
    Case(
        "batch_norm eval, bias only",
        lambda lib, x, b: F(lib).batch_norm(
            x, lib.zeros(3, dtype=x.dtype), lib.ones(3, dtype=x.dtype), None, b
        ),
        ((2, 3, 2), (3,)),
    ),
]
TANGENT_CASES = EINSUM_CASES + OUTSIDE_TABLE


@pytest.mark.parametrize("case", _params(TANGENT_CASES))
def test_tangent_against_finite_differences(case):
    check_tangent_against_finite_differences(case)


@pytest.mark.parametrize("case", _params(TANGENT_CASES))
def test_tangent_against_torch(case):
    check_tangent_against_torch(pytest.importorskip("torch"), case)


@pytest.mark.parametrize("case", _params(EINSUM_CASES + OUTSIDE_TABLE[:3]))
def test_forward_over_reverse_against_torch(case):
    check_forward_over_reverse_against_torch(pytest.importorskip("torch"), case)


# ------------------------------------------------------------------ reverse over forward
REVERSE_OVER_FORWARD = [
    Case("mm", lambda lib, x, y: lib.mm(x, y), ((2, 3), (3, 4))),
    Case(
        "addmm beta alpha",
        lambda lib, b, x, y: lib.addmm(b, x, y, beta=0.5, alpha=3),
        ((4,), (2, 3), (3, 4)),
    ),
    Case("bmm", lambda lib, x, y: lib.bmm(x, y), ((2, 2, 3), (2, 3, 2))),
    Case("mv", lambda lib, x, y: lib.mv(x, y), ((2, 3), (3,))),
    Case("dot", lambda lib, x, y: lib.dot(x, y), ((3,), (3,))),
    Case("einsum", lambda lib, x, y: lib.einsum("ij,jk->ik", x, y), ((2, 3), (3, 2))),
    Case("einsum diagonal", lambda lib, x: lib.einsum("ii->i", x).exp(), ((3, 3),)),
    Case(
        "conv2d",
        lambda lib, x, w, b: F(lib).conv2d(x, w, b, stride=2, padding=1, groups=2),
        ((1, 4, 5, 5), (2, 2, 3, 3), (2,)),
    ),
    Case("max_pool2d", lambda lib, x: F(lib).max_pool2d(x, 2, padding=1), ((1, 2, 4, 4),)),
    Case("avg_pool2d", lambda lib, x: F(lib).avg_pool2d(x, 3, stride=2), ((1, 1, 5, 5),)),
    Case("adaptive_avg_pool2d", lambda lib, x: F(lib).adaptive_avg_pool2d(x, 2), ((1, 2, 5, 3),)),
    Case(
        "batch_norm training",
        lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True),
        ((4, 3), (3,), (3,)),
    ),
    Case("layer_norm", lambda lib, x, w, b: F(lib).layer_norm(x, (3,), w, b), ((2, 3), (3,), (3,))),
    Case("embedding", _embedding(), ((5, 3),)),
    Case("norm 3", lambda lib, x: lib.norm(x, 3, 1), ((2, 3),)),
]


# PyTorch's normalization JVPs read the forward's mean and rstd, which it does not
# differentiate: its reverse over forward misses their dependence on the input (finite
# differences of its own tangent disagree with it). These are checked against finite differences
# only.
TORCH_MISSES_THE_STATISTICS = {"batch_norm training", "layer_norm"}


def _weighted_tangent(lib, forward_ad, case, primals, directions):
    """``sum(v * tangent of f)`` at the primals along the directions (Tensors)."""
    rng = np.random.default_rng(5)
    with forward_ad.dual_level():
        duals = [forward_ad.make_dual(p, t) for p, t in zip(primals, directions)]
        tangent = forward_ad.unpack_dual(case.fn(lib, *duals)).tangent
        weights = lib.tensor(rng.uniform(0.5, 1.5, tuple(tangent.shape)))
        return (tangent * weights).sum()


def _tangent_gradients(lib, forward_ad, case, arrays, tangents):
    """The gradients of ``sum(v * tangent of f)`` in the primals and in the tangents."""
    primals = [lib.tensor(a, requires_grad=True) for a in arrays]
    directions = [lib.tensor(t, requires_grad=True) for t in tangents]
    total = _weighted_tangent(lib, forward_ad, case, primals, directions)
    grads = lib.autograd.grad(total, primals + directions, allow_unused=True)
    return [None if g is None else g.detach().numpy() for g in grads]


def _tangent_differences(case, arrays, tangents):
    """Central differences of ``sum(v * tangent of f)`` in each primal and tangent entry."""
    values = [a.copy() for a in arrays] + [t.copy() for t in tangents]
    count = len(arrays)

    def total():
        tensors = [gradienti.tensor(value) for value in values]
        return _weighted_tangent(
            gradienti, our_forward_ad, case, tensors[:count], tensors[count:]
        ).item()

    grads = []
    for value in values:
        grad = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            kept = value[index]
            value[index] = kept + EPS
            up = total()
            value[index] = kept - EPS
            down = total()
            value[index] = kept
            grad[index] = (up - down) / (2 * EPS)
        grads.append(grad)
    return grads


@pytest.mark.parametrize("case", _params(REVERSE_OVER_FORWARD))
def test_reverse_over_forward_against_finite_differences(case):
    arrays = case.arrays()
    tangents = _tangents(case, arrays)
    ours = _tangent_gradients(gradienti, our_forward_ad, case, arrays, tangents)
    expected = _tangent_differences(case, arrays, tangents)
    _check("reverse over forward vs finite differences", case, ours, expected, FD_TOL)


@pytest.mark.parametrize(
    "case",
    _params(
        [case for case in REVERSE_OVER_FORWARD if case.name not in TORCH_MISSES_THE_STATISTICS]
    ),
)
def test_reverse_over_forward_against_torch(case):
    torch = pytest.importorskip("torch")
    arrays = case.arrays()
    tangents = _tangents(case, arrays)
    ours = _tangent_gradients(gradienti, our_forward_ad, case, arrays, tangents)
    theirs = _tangent_gradients(torch, torch.autograd.forward_ad, case, arrays, tangents)
    _check("reverse over forward", case, ours, theirs, TORCH_TOL)


# ------------------------------------------------------------------ what tangents leave alone
def test_batch_norm_running_statistics_get_no_tangent_and_torchs_values():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x, t = rng.normal(size=(4, 3, 2)), rng.normal(size=(4, 3, 2))
    results = []
    for lib in (gradienti, torch):
        mean, var = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        with lib.autograd.forward_ad.dual_level():
            dual = lib.autograd.forward_ad.make_dual(lib.tensor(x), lib.tensor(t))
            out = F(lib).batch_norm(dual, mean, var, training=True, momentum=0.25)
            tangent = lib.autograd.forward_ad.unpack_dual(out).tangent.numpy()
            assert lib.autograd.forward_ad.unpack_dual(mean).tangent is None
            assert lib.autograd.forward_ad.unpack_dual(var).tangent is None
        results.append((tangent, mean.numpy(), var.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, **TORCH_TOL)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv_module_with_padding_mode_carries_the_tangent(mode):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, t = rng.normal(size=(2, 2, 5, 4)), rng.normal(size=(2, 2, 5, 4))
    weight, bias = rng.normal(size=(3, 2, 3, 3)), rng.normal(size=(3,))
    tangents = []
    for lib in (gradienti, torch):
        conv = lib.nn.Conv2d(2, 3, 3, padding=1, padding_mode=mode).double()
        with lib.no_grad():
            conv.weight.copy_(lib.tensor(weight))
            conv.bias.copy_(lib.tensor(bias))
        with lib.autograd.forward_ad.dual_level():
            out = conv(lib.autograd.forward_ad.make_dual(lib.tensor(x), lib.tensor(t)))
            tangents.append(lib.autograd.forward_ad.unpack_dual(out).tangent.detach().numpy())
    np.testing.assert_allclose(tangents[0], tangents[1], **TORCH_TOL)


def test_max_pool_without_requires_grad_still_gathers_the_tangent():
    """The winners are kept for the tangent alone (no gradient, no indices asked for)."""
    x = -np.arange(16.0).reshape(1, 1, 4, 4)
    t = np.arange(16.0).reshape(1, 1, 4, 4) * 10
    with our_forward_ad.dual_level():
        dual = our_forward_ad.make_dual(gradienti.tensor(x), gradienti.tensor(t))
        out = F(gradienti).max_pool2d(dual, 2)
        tangent = our_forward_ad.unpack_dual(out).tangent.numpy()
    # each window's maximum is its top-left element
    np.testing.assert_array_equal(tangent, t[..., ::2, ::2])
