"""torch.linalg.ldl_factor, ldl_factor_ex and ldl_solve (ops/linalg_ldl.py) against PyTorch:
LD and pivots (LAPACK's sytf2: the same pivots, bit for bit on these sizes), info, the
solve, batches, errors and the NotImplemented node that PyTorch records."""

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")


def _symmetric(rng, n, kind):
    a = rng.standard_normal((n, n))
    if kind == "rounded":  # ties among the pivot candidates
        a = np.round(a)
    if kind == "zero row":
        a[rng.integers(0, n)] = 0
    a = a + a.T
    if kind == "zero diagonal":  # 2x2 pivots
        np.fill_diagonal(a, 0)
    return a


def _raises_same(ours, theirs):
    with pytest.raises(Exception) as expected:
        theirs()
    with pytest.raises(Exception) as got:
        ours()
    assert type(got.value).__name__.lstrip("_") == type(expected.value).__name__.lstrip("_")
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("kind", ["plain", "rounded", "zero row", "zero diagonal"])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_ldl_factor_ex_matches_torch(kind, n):
    rng = np.random.default_rng(n * 10 + len(kind))
    a = np.stack([_symmetric(rng, n, kind) for _ in range(4)])
    ours = gradienti.linalg.ldl_factor_ex(gradienti.tensor(a))
    theirs = torch.linalg.ldl_factor_ex(torch.tensor(a))
    assert repr(type(ours).__qualname__) == repr("return_types.linalg_ldl_factor_ex")
    np.testing.assert_array_equal(ours.pivots.numpy(), theirs.pivots.numpy())
    np.testing.assert_array_equal(ours.info.numpy(), theirs.info.numpy())
    assert str(ours.pivots.dtype) == str(theirs.pivots.dtype) == "torch.int32"
    assert str(ours.info.dtype) == str(theirs.info.dtype)
    np.testing.assert_allclose(ours.LD.numpy(), theirs.LD.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ldl_factor_and_solve_match_torch(dtype):
    rng = np.random.default_rng(1)
    a = np.stack([_symmetric(rng, 5, "zero diagonal"), _symmetric(rng, 5, "plain")]).astype(dtype)
    ours = gradienti.linalg.ldl_factor(gradienti.tensor(a), hermitian=True)
    theirs = torch.linalg.ldl_factor(torch.tensor(a), hermitian=True)
    assert repr(ours)[:33] == repr(theirs)[:33]  # torch.return_types.linalg_ldl_factor(
    np.testing.assert_array_equal(ours.pivots.numpy(), theirs.pivots.numpy())
    np.testing.assert_allclose(ours.LD.numpy(), theirs.LD.numpy(), rtol=1e-5, atol=1e-5)
    b = rng.standard_normal((2, 5, 4)).astype(dtype)
    x = gradienti.linalg.ldl_solve(ours.LD, ours.pivots, gradienti.tensor(b))
    expected = torch.linalg.ldl_solve(theirs.LD, theirs.pivots, torch.tensor(b))
    assert str(x.dtype) == str(expected.dtype)
    np.testing.assert_allclose(x.numpy(), expected.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(a @ x.numpy(), b, rtol=1e-3, atol=1e-3)


def test_ldl_solve_broadcasts_one_factorization_over_bs_batch():
    # (a batch of B over a batch of LD: PyTorch 2.13 crashes on (3, 2) over (2,); not tested)
    rng = np.random.default_rng(2)
    theirs = torch.linalg.ldl_factor(torch.tensor(_symmetric(rng, 4, "zero diagonal")))
    b = rng.standard_normal((3, 4, 2))
    x = gradienti.linalg.ldl_solve(
        gradienti.tensor(theirs.LD.numpy()),
        gradienti.tensor(theirs.pivots.numpy()),
        gradienti.tensor(b),
    )
    expected = torch.linalg.ldl_solve(theirs.LD, theirs.pivots, torch.tensor(b))
    assert tuple(x.shape) == tuple(expected.shape) == (3, 4, 2)
    np.testing.assert_allclose(x.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


def test_ldl_of_empty_and_singular_matrices():
    for a in (np.zeros((0, 0), np.float32), np.zeros((2, 3, 3), np.float32)):
        ours = gradienti.linalg.ldl_factor_ex(gradienti.tensor(a))
        theirs = torch.linalg.ldl_factor_ex(torch.tensor(a))
        for mine, other in zip(ours, theirs):
            assert tuple(mine.shape) == tuple(other.shape)
            assert str(mine.dtype) == str(other.dtype)
            np.testing.assert_array_equal(mine.numpy(), other.numpy())
    singular = np.zeros((2, 3, 3), np.float32)
    for name, kwargs in (("ldl_factor", {}), ("ldl_factor_ex", {"check_errors": True})):
        _raises_same(
            lambda name=name, kwargs=kwargs: getattr(gradienti.linalg, name)(
                gradienti.tensor(singular), **kwargs
            ),
            lambda name=name, kwargs=kwargs: getattr(torch.linalg, name)(
                torch.tensor(singular), **kwargs
            ),
        )


def test_ldl_factor_errors():
    for a in (
        np.zeros((2, 3), np.float32),
        np.zeros(3, np.float32),
        np.zeros((3, 3), np.int32),
        np.zeros((3, 3), np.float16),
    ):
        for name in ("ldl_factor", "ldl_factor_ex"):
            _raises_same(
                lambda a=a, name=name: getattr(gradienti.linalg, name)(gradienti.tensor(a)),
                lambda a=a, name=name: getattr(torch.linalg, name)(torch.tensor(a)),
            )


def test_ldl_solve_errors():
    a = np.array([[0.0, 1, 2], [1, 0, 3], [2, 3, 0]], np.float32)
    ld, pivots = torch.linalg.ldl_factor(torch.tensor(a))
    ld_np, piv_np = ld.numpy(), pivots.numpy()
    calls = [
        (ld_np, piv_np, np.ones(3, np.float32)),
        (ld_np, piv_np, np.ones((4, 2), np.float32)),
        (ld_np, piv_np, np.ones((3, 2))),
        (ld_np, piv_np[:2], np.ones((3, 2), np.float32)),
        (np.broadcast_to(ld_np, (2, 3, 3)), piv_np, np.ones((3, 2), np.float32)),
        (ld_np, piv_np.astype(np.float32), np.ones((3, 2), np.float32)),
        (ld_np[0], piv_np, np.ones((3, 2), np.float32)),
    ]
    for ld_array, piv_array, b in calls:
        _raises_same(
            lambda ld_array=ld_array, piv_array=piv_array, b=b: gradienti.linalg.ldl_solve(
                gradienti.tensor(ld_array), gradienti.tensor(piv_array), gradienti.tensor(b)
            ),
            lambda ld_array=ld_array, piv_array=piv_array, b=b: torch.linalg.ldl_solve(
                torch.tensor(ld_array), torch.tensor(piv_array), torch.tensor(b)
            ),
        )


def test_ldl_solve_takes_int64_pivots():
    rng = np.random.default_rng(4)
    a = _symmetric(rng, 4, "zero diagonal")
    theirs = torch.linalg.ldl_factor(torch.tensor(a))
    b = rng.standard_normal((4, 3))
    x = gradienti.linalg.ldl_solve(
        gradienti.tensor(theirs.LD.numpy()),
        gradienti.tensor(theirs.pivots.numpy().astype(np.int64)),
        gradienti.tensor(b),
    )
    expected = torch.linalg.ldl_solve(theirs.LD, theirs.pivots.long(), torch.tensor(b))
    np.testing.assert_allclose(x.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


def test_ldl_records_pytorchs_not_implemented_node():
    ours_a = gradienti.eye(3, requires_grad=True)
    theirs_a = torch.eye(3, requires_grad=True)
    ours, theirs = gradienti.linalg.ldl_factor(ours_a), torch.linalg.ldl_factor(theirs_a)
    assert ours.LD.requires_grad and not ours.pivots.requires_grad
    assert theirs.LD.requires_grad and not theirs.pivots.requires_grad
    assert ours.LD.grad_fn.name() == theirs.LD.grad_fn.name()
    _raises_same(ours.LD.sum().backward, theirs.LD.sum().backward)
    ours_x = gradienti.linalg.ldl_solve(ours.LD.detach(), ours.pivots, gradienti.ones(3, 1))
    assert not ours_x.requires_grad
    ours_x = gradienti.linalg.ldl_solve(ours.LD, ours.pivots, gradienti.ones(3, 1))
    theirs_x = torch.linalg.ldl_solve(theirs.LD, theirs.pivots, torch.ones(3, 1))
    _raises_same(ours_x.sum().backward, theirs_x.sum().backward)


def test_ldl_out():
    rng = np.random.default_rng(6)
    a = _symmetric(rng, 4, "zero diagonal").astype(np.float32)
    ours_outs = (gradienti.empty(0), gradienti.empty(0, dtype=gradienti.int32))
    theirs_outs = (torch.empty(0), torch.empty(0, dtype=torch.int32))
    ours = gradienti.linalg.ldl_factor(gradienti.tensor(a), out=ours_outs)
    theirs = torch.linalg.ldl_factor(torch.tensor(a), out=theirs_outs)
    assert ours[0] is ours_outs[0] and ours[1] is ours_outs[1]
    assert repr(ours).split("(")[0] == repr(theirs).split("(")[0]  # ..._out named tuple
    np.testing.assert_array_equal(ours_outs[1].numpy(), theirs_outs[1].numpy())
    np.testing.assert_allclose(ours_outs[0].numpy(), theirs_outs[0].numpy(), rtol=1e-6)
    ours_ex = (
        gradienti.empty(0),
        gradienti.empty(0, dtype=gradienti.int32),
        gradienti.empty(0, dtype=gradienti.int32),
    )
    theirs_ex = (
        torch.empty(0),
        torch.empty(0, dtype=torch.int32),
        torch.empty(0, dtype=torch.int32),
    )
    gradienti.linalg.ldl_factor_ex(gradienti.tensor(a), out=ours_ex)
    torch.linalg.ldl_factor_ex(torch.tensor(a), out=theirs_ex)
    for mine, other in zip(ours_ex, theirs_ex):
        np.testing.assert_allclose(mine.numpy(), other.numpy(), rtol=1e-6)
    b = rng.standard_normal((4, 2)).astype(np.float32)
    ours_x, theirs_x = gradienti.empty(0), torch.empty(0)
    gradienti.linalg.ldl_solve(*ours_outs, gradienti.tensor(b), out=ours_x)
    torch.linalg.ldl_solve(*theirs_outs, torch.tensor(b), out=theirs_x)
    np.testing.assert_allclose(ours_x.numpy(), theirs_x.numpy(), rtol=1e-5, atol=1e-6)
    for outs in (
        (gradienti.empty(0, dtype=gradienti.float64), gradienti.empty(0, dtype=gradienti.int32)),
        (gradienti.empty(0), gradienti.empty(0, dtype=gradienti.int64)),
    ):
        torch_outs = tuple(torch.empty(0, dtype=getattr(torch, str(t.dtype)[6:])) for t in outs)
        _raises_same(
            lambda outs=outs: gradienti.linalg.ldl_factor(gradienti.tensor(a), out=outs),
            lambda torch_outs=torch_outs: torch.linalg.ldl_factor(torch.tensor(a), out=torch_outs),
        )
