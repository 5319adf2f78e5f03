"""torch.linalg's compositions (ops/linalg_composite.py) against PyTorch: values, dtypes,
batches, errors (class and text) and out=. Their gradients and graphs are the op table's
(tests/op_cases_linalg_composite.py), except cond's norm forms, whose backward both refuse."""

import warnings

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

INF = float("inf")


def _pair(array, requires_grad=False):
    return (
        gradienti.tensor(array, requires_grad=requires_grad),
        torch.tensor(array, requires_grad=requires_grad),
    )


def _same(ours, theirs, rtol=1e-5, atol=1e-6):
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=atol)


def _raises_same(ours, theirs):
    """Both calls raise the same exception class (by name) and text."""
    with pytest.raises(Exception) as expected:
        theirs()
    with pytest.raises(Exception) as got:
        ours()
    assert type(got.value).__name__.lstrip("_") == type(expected.value).__name__.lstrip("_")
    assert str(got.value).split("\n")[0] == str(expected.value).split("\n")[0]


def _random(*shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _call(lib_fn, *arrays, **kwargs):
    """lib_fn(lib) called on both libraries with the arrays as tensors."""
    ours = lib_fn(gradienti)(*(gradienti.tensor(a) for a in arrays), **kwargs)
    theirs = lib_fn(torch)(*(torch.tensor(a) for a in arrays), **kwargs)
    return ours, theirs


# ------------------------------------------------------------------ matmul, diagonal
def test_matmul_is_torch_matmul_with_out():
    assert gradienti.linalg.matmul is gradienti.matmul
    a, b = _random(2, 3, 4), _random(4, seed=1)
    _same(*_call(lambda lib: lib.linalg.matmul, a, b))
    ours_out, theirs_out = gradienti.empty(0), torch.empty(0)
    gradienti.linalg.matmul(gradienti.tensor(a), gradienti.tensor(b), out=ours_out)
    torch.linalg.matmul(torch.tensor(a), torch.tensor(b), out=theirs_out)
    _same(ours_out, theirs_out)


@pytest.mark.parametrize(
    "kwargs", [{}, {"offset": 1}, {"offset": -2, "dim1": 0, "dim2": 2}, {"dim1": 2, "dim2": 0}]
)
def test_diagonal(kwargs):
    _same(*_call(lambda lib: lib.linalg.diagonal, _random(3, 4, 5), **kwargs))


def test_diagonal_errors():
    _raises_same(
        lambda: gradienti.linalg.diagonal(gradienti.ones(3)),
        lambda: torch.linalg.diagonal(torch.ones(3)),
    )
    _raises_same(  # offset is keyword-only
        lambda: gradienti.linalg.diagonal(gradienti.ones(3, 3), out=gradienti.empty(0)),
        lambda: torch.linalg.diagonal(torch.ones(3, 3), out=torch.empty(0)),
    )


# ------------------------------------------------------------------ vecdot
@pytest.mark.parametrize(
    ("x_shape", "y_shape", "dim"),
    [((3,), (3,), -1), ((2, 3), (2, 3), -1), ((4, 3), (3,), -1), ((4, 3), (4, 1), 0)],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vecdot_values(x_shape, y_shape, dim, dtype):
    x, y = _random(*x_shape, dtype=dtype), _random(*y_shape, dtype=dtype, seed=1)
    _same(*_call(lambda lib: lib.linalg.vecdot, x, y, dim=dim))


def test_vecdot_of_two_vectors_is_vdot_and_ignores_dim():
    x, y = _random(4), _random(4, seed=1)
    ours_x, theirs_x = _pair(x, requires_grad=True)
    ours = gradienti.linalg.vecdot(ours_x, gradienti.tensor(y), dim=3)
    theirs = torch.linalg.vecdot(theirs_x, torch.tensor(y), dim=3)
    _same(ours, theirs)
    assert ours.grad_fn.name() == theirs.grad_fn.name() == "VdotBackward0"
    ours.backward(gradienti.tensor(2.5))
    theirs.backward(torch.tensor(2.5))
    _same(ours_x.grad, theirs_x.grad)
    _raises_same(  # no broadcasting
        lambda: gradienti.linalg.vecdot(gradienti.tensor(x), gradienti.ones(1)),
        lambda: torch.linalg.vecdot(torch.tensor(x), torch.ones(1)),
    )
    ours_out, theirs_out = gradienti.empty(0), torch.empty(0)
    gradienti.linalg.vecdot(gradienti.tensor(x), gradienti.tensor(y), out=ours_out)
    torch.linalg.vecdot(torch.tensor(x), torch.tensor(y), out=theirs_out)
    _same(ours_out, theirs_out)
    _raises_same(
        lambda: gradienti.linalg.vecdot(ours_x, gradienti.tensor(y), out=gradienti.empty(0)),
        lambda: torch.linalg.vecdot(theirs_x, torch.tensor(y), out=torch.empty(0)),
    )


def test_vecdot_half():
    x = _random(5).astype(np.float16)
    _same(*_call(lambda lib: lib.linalg.vecdot, x, x), rtol=1e-3)


def test_vecdot_errors():
    f, d, i = _random(3), _random(3, dtype=np.float64), np.arange(3, dtype=np.int32)
    cases = [((f, d), {}), ((i, i), {}), ((f, i), {}), ((_random(2, 3), f), {"dim": 2})]
    cases.append(((_random(2, 3), _random(4, 3)), {}))
    for arrays, kwargs in cases:
        _raises_same(
            lambda arrays=arrays, kwargs=kwargs: gradienti.linalg.vecdot(
                *map(gradienti.tensor, arrays), **kwargs
            ),
            lambda arrays=arrays, kwargs=kwargs: torch.linalg.vecdot(
                *map(torch.tensor, arrays), **kwargs
            ),
        )


def test_vecdot_out():
    x, y = _random(4, 3), _random(4, 3, seed=1)
    ours_out, theirs_out = gradienti.empty(0), torch.empty(0)
    gradienti.linalg.vecdot(gradienti.tensor(x), gradienti.tensor(y), out=ours_out)
    torch.linalg.vecdot(torch.tensor(x), torch.tensor(y), out=theirs_out)
    _same(ours_out, theirs_out)
    _raises_same(  # out of another dtype
        lambda: gradienti.linalg.vecdot(
            gradienti.tensor(x),
            gradienti.tensor(y),
            out=gradienti.empty(0, dtype=gradienti.float64),
        ),
        lambda: torch.linalg.vecdot(
            torch.tensor(x), torch.tensor(y), out=torch.empty(0, dtype=torch.float64)
        ),
    )
    ours_x, theirs_x = _pair(x, requires_grad=True)
    _raises_same(  # out= records no graph
        lambda: gradienti.linalg.vecdot(ours_x, gradienti.tensor(y), out=gradienti.empty(0)),
        lambda: torch.linalg.vecdot(theirs_x, torch.tensor(y), out=torch.empty(0)),
    )


# ------------------------------------------------------------------ matrix_rank
def _low_rank(batch, m, n, rank, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    left = rng.standard_normal((*batch, m, rank))
    right = rng.standard_normal((*batch, rank, n))
    return (left @ right).astype(dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"hermitian": True},
        {"atol": 0.5},
        {"rtol": 0.3},
        {"atol": 1.0, "rtol": 0.1},
        {"atol": 0.0},
        {"tol": 2.0},
    ],
)
def test_matrix_rank_values(dtype, kwargs):
    a = _low_rank((3,), 4, 5, 2, dtype)
    if kwargs.get("hermitian"):
        a = _low_rank((3,), 4, 4, 2, dtype)
        a = a + np.swapaxes(a, -1, -2)
    ours, theirs = _call(lambda lib: lib.linalg.matrix_rank, a, **kwargs)
    assert ours.dtype == gradienti.int64
    assert ours.tolist() == theirs.tolist()


def test_matrix_rank_tolerances_as_tensors_and_positional_tol():
    a = _random(3, 4, 4)
    s = np.linalg.svd(a, compute_uv=False)
    atol = s[:, 1].astype(np.float32)  # (3,): each matrix its own threshold, at a value
    for kwargs in ({"atol": atol}, {"rtol": np.float64(0.5) * np.ones(3)}):
        ours = gradienti.linalg.matrix_rank(
            gradienti.tensor(a), **{k: gradienti.tensor(v) for k, v in kwargs.items()}
        )
        theirs = torch.linalg.matrix_rank(
            torch.tensor(a), **{k: torch.tensor(v) for k, v in kwargs.items()}
        )
        assert ours.tolist() == theirs.tolist()
    ours = gradienti.linalg.matrix_rank(gradienti.tensor(a), 1.0)
    theirs = torch.linalg.matrix_rank(torch.tensor(a), 1.0)
    assert ours.tolist() == theirs.tolist()
    ours = gradienti.linalg.matrix_rank(gradienti.tensor(a), gradienti.tensor(1.0), True)
    theirs = torch.linalg.matrix_rank(torch.tensor(a), torch.tensor(1.0), True)
    assert ours.tolist() == theirs.tolist()


def test_matrix_rank_special_inputs():
    ones, zeros = np.ones((3, 3), np.float32), np.zeros((2, 3, 3), np.float32)
    for a in (ones, zeros, np.zeros((2, 0, 3), np.float32), np.eye(4)):
        ours, theirs = _call(lambda lib: lib.linalg.matrix_rank, a)
        assert ours.tolist() == theirs.tolist()
        assert str(ours.dtype) == str(theirs.dtype)
    ours_a, theirs_a = _pair(_random(3, 3), requires_grad=True)
    assert gradienti.linalg.matrix_rank(ours_a).requires_grad is False
    assert torch.linalg.matrix_rank(theirs_a).requires_grad is False


def test_matrix_rank_errors():
    calls = [
        (np.ones(3, np.float32), {}),
        (np.ones((3, 3), np.int32), {}),
        (np.ones((3, 3), np.float16), {}),
        (np.ones((3, 3), np.int32), {"rtol": 0.1}),
    ]
    for array, kwargs in calls:
        _raises_same(
            lambda array=array, kwargs=kwargs: gradienti.linalg.matrix_rank(
                gradienti.tensor(array), **kwargs
            ),
            lambda array=array, kwargs=kwargs: torch.linalg.matrix_rank(
                torch.tensor(array), **kwargs
            ),
        )
    a = np.ones((3, 3), np.float32)
    with pytest.raises(TypeError, match="linalg_matrix_rank"):
        gradienti.linalg.matrix_rank(gradienti.tensor(a), tol=0.5, atol=0.5)
    with pytest.raises(TypeError):
        torch.linalg.matrix_rank(torch.tensor(a), tol=0.5, atol=0.5)


def test_matrix_rank_out():
    a = _low_rank((2,), 4, 4, 3)
    for dtype in ("int64", "int32", "float32"):
        ours_out = gradienti.empty(0, dtype=getattr(gradienti, dtype))
        theirs_out = torch.empty(0, dtype=getattr(torch, dtype))
        assert gradienti.linalg.matrix_rank(gradienti.tensor(a), out=ours_out) is ours_out
        torch.linalg.matrix_rank(torch.tensor(a), out=theirs_out)
        _same(ours_out, theirs_out)
    _raises_same(
        lambda: gradienti.linalg.matrix_rank(
            gradienti.tensor(a), out=gradienti.empty(0, dtype=gradienti.bool)
        ),
        lambda: torch.linalg.matrix_rank(torch.tensor(a), out=torch.empty(0, dtype=torch.bool)),
    )


# ------------------------------------------------------------------ cond
ORDERS = [None, 2, -2, "fro", "nuc", 1, -1, INF, -INF, 1.0, 2.0]


@pytest.mark.parametrize("p", ORDERS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cond_values(p, dtype):
    a = _random(2, 3, 4, 4, dtype=dtype)
    _same(*_call(lambda lib: lib.linalg.cond, a, p=p), rtol=1e-4)


@pytest.mark.parametrize("p", ORDERS)
def test_cond_of_singular_and_empty_matrices(p):
    for a in (np.zeros((3, 3), np.float32), np.ones((2, 3, 3)), np.zeros((2, 0, 0), np.float32)):
        ours, theirs = _call(lambda lib: lib.linalg.cond, a, p=p)
        assert str(ours.dtype) == str(theirs.dtype)
        assert tuple(ours.shape) == tuple(theirs.shape)
        if p in (None, 2, -2, 2.0, "nuc") and a.size and a.any():
            # (singular values, one at rounding level (or 0): huge, tiny or inf in both)
            both = np.stack([ours.numpy(), theirs.numpy()])
            assert ((np.abs(both) > 1e6) | (np.abs(both) < 1e-6)).all()
        else:  # inf where the inverse fails, NaN for 0 / 0, 0 for no matrix: exactly PyTorch's
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("p", [None, 2, -2])
def test_cond_of_rectangular_matrices(p):
    _same(*_call(lambda lib: lib.linalg.cond, _random(2, 3, 5), p=p), rtol=1e-4)


def test_cond_errors():
    vector, wide = np.ones(3, np.float32), _random(2, 3)
    calls = [(vector, None), (vector, 1), (vector, "fro"), (_random(3, 3), 3)]
    calls += [(_random(3, 3), "foo"), (_random(3, 3), 0.5)]
    calls += [(wide, p) for p in (1, 1.0, -1, INF, -INF, "fro", "nuc")]
    integers = np.ones((3, 3), np.int32)
    calls += [(integers, None), (integers, 1), (_random(3, 3).astype(np.float16), 1)]
    for array, p in calls:
        _raises_same(
            lambda array=array, p=p: gradienti.linalg.cond(gradienti.tensor(array), p),
            lambda array=array, p=p: torch.linalg.cond(torch.tensor(array), p),
        )


@pytest.mark.parametrize("p", ["fro", 1, -INF])
def test_cond_by_norms_refuses_backward_as_pytorch(p):
    """The inverse is filled in place after inv_ex saved it: PyTorch's backward raises."""
    ours_a, theirs_a = _pair(_random(3, 3, dtype=np.float64), requires_grad=True)
    ours, theirs = gradienti.linalg.cond(ours_a, p), torch.linalg.cond(theirs_a, p)
    assert ours.grad_fn.name() == theirs.grad_fn.name() == "NanToNumBackward0"
    _raises_same(ours.backward, theirs.backward)


def test_cond_out():
    a = _random(2, 3, 3)
    for p in (None, "fro", 1):
        for dtype in ("float32", "float64"):
            ours_out = gradienti.empty(0, dtype=getattr(gradienti, dtype))
            theirs_out = torch.empty(0, dtype=getattr(torch, dtype))
            assert gradienti.linalg.cond(gradienti.tensor(a), p, out=ours_out) is ours_out
            torch.linalg.cond(torch.tensor(a), p, out=theirs_out)
            _same(ours_out, theirs_out, rtol=1e-4)
    ours_a, theirs_a = _pair(a, requires_grad=True)
    ours = gradienti.linalg.cond(ours_a, out=gradienti.empty(0))
    theirs = torch.linalg.cond(theirs_a, out=torch.empty(0))
    assert ours.grad_fn.name() == theirs.grad_fn.name() == "torch::autograd::CopyBackwards"


# ------------------------------------------------------------------ tensorinv, tensorsolve
@pytest.mark.parametrize(("shape", "ind"), [((6, 6), 1), ((2, 3, 6), 2), ((4, 6, 8, 3), 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tensorinv_values(shape, ind, dtype):
    a = _random(*shape, dtype=dtype)
    ours, theirs = _call(lambda lib: lib.linalg.tensorinv, a, ind=ind)
    _same(ours, theirs, rtol=1e-3, atol=1e-4)
    # tensordot(X, A, ind) is the identity of A's trailing dims
    product = gradienti.tensordot(ours, gradienti.tensor(a), ind).numpy()
    size = int(np.prod(shape[ind:]))
    np.testing.assert_allclose(product.reshape(size, size), np.eye(size), atol=1e-3)


def test_tensorinv_errors():
    calls = [((4, 6, 8, 3), 0, np.float32), ((4, 6, 8, 2), 2, np.float32)]
    calls += [((2, 3, 6), 2, np.int32), ((0, 0), 2, np.float32)]
    for shape, ind, dtype in calls:
        a = np.ones(shape, dtype)
        _raises_same(
            lambda a=a, ind=ind: gradienti.linalg.tensorinv(gradienti.tensor(a), ind=ind),
            lambda a=a, ind=ind: torch.linalg.tensorinv(torch.tensor(a), ind=ind),
        )
    singular = np.zeros((2, 2, 2, 2), np.float32)
    _raises_same(
        lambda: gradienti.linalg.tensorinv(gradienti.tensor(singular)),
        lambda: torch.linalg.tensorinv(torch.tensor(singular)),
    )
    with pytest.raises(gradienti.linalg.LinAlgError):
        gradienti.linalg.tensorinv(gradienti.tensor(singular))


@pytest.mark.parametrize(
    ("a_shape", "b_shape", "dims"),
    [
        ((2, 3, 6), (2, 3), None),
        ((6, 6), (6,), None),
        ((6, 2, 3), (2, 3), (0,)),
        ((2, 6, 3), (2, 3), [1]),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tensorsolve_values(a_shape, b_shape, dims, dtype):
    a, b = _random(*a_shape, dtype=dtype), _random(*b_shape, dtype=dtype, seed=1)
    _same(*_call(lambda lib: lib.linalg.tensorsolve, a, b, dims=dims), rtol=1e-3, atol=1e-4)


def test_tensorsolve_errors():
    f = np.float32
    calls = [
        (_random(2, 3, 5), _random(2, 3)),
        (_random(2, 3, 6), _random(2, 3, dtype=np.float64)),
        (_random(2, 3, 6), _random(2, 3)),
        (np.zeros((2, 3, 6), f), _random(2, 3)),
        (np.ones((2, 3, 6), np.int32), np.ones((2, 3), np.int32)),
    ]
    dims = [None, None, 1, None, None]  # (an int dims: PyTorch wants a tuple)
    for (a, b), d in zip(calls, dims):
        _raises_same(
            lambda a=a, b=b, d=d: gradienti.linalg.tensorsolve(
                gradienti.tensor(a), gradienti.tensor(b), dims=d
            ),
            lambda a=a, b=b, d=d: torch.linalg.tensorsolve(
                torch.tensor(a), torch.tensor(b), dims=d
            ),
        )


def test_tensorinv_and_tensorsolve_out():
    a, b = _random(2, 3, 6), _random(2, 3, seed=1)
    for dtype in ("float32", "float64"):
        ours_out = gradienti.empty(0, dtype=getattr(gradienti, dtype))
        theirs_out = torch.empty(0, dtype=getattr(torch, dtype))
        assert gradienti.linalg.tensorinv(gradienti.tensor(a), out=ours_out) is ours_out
        torch.linalg.tensorinv(torch.tensor(a), out=theirs_out)
        _same(ours_out, theirs_out, rtol=1e-4, atol=1e-5)
        ours_out = gradienti.empty(0, dtype=getattr(gradienti, dtype))
        theirs_out = torch.empty(0, dtype=getattr(torch, dtype))
        gradienti.linalg.tensorsolve(gradienti.tensor(a), gradienti.tensor(b), out=ours_out)
        torch.linalg.tensorsolve(torch.tensor(a), torch.tensor(b), out=theirs_out)
        _same(ours_out, theirs_out, rtol=1e-4, atol=1e-5)
    ours_a, theirs_a = _pair(a, requires_grad=True)
    ours = gradienti.linalg.tensorinv(ours_a, out=gradienti.empty(0))
    theirs = torch.linalg.tensorinv(theirs_a, out=torch.empty(0))
    assert ours.grad_fn.name() == theirs.grad_fn.name() == "torch::autograd::CopyBackwards"
    ours.sum().backward()
    theirs.sum().backward()
    _same(ours_a.grad, theirs_a.grad, rtol=1e-4, atol=1e-5)
    with warnings.catch_warnings():  # a nonempty out of another shape is resized, with a warning
        warnings.simplefilter("error")
        with pytest.warns(UserWarning, match="resized"):
            gradienti.linalg.tensorinv(gradienti.tensor(a), out=gradienti.zeros(2))


# ------------------------------------------------------------------ vander
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.int32, np.uint8])
@pytest.mark.parametrize(("shape", "n"), [((3,), None), ((3,), 5), ((2, 4), None), ((), 3)])
def test_vander_values(dtype, shape, n):
    x = (np.arange(int(np.prod(shape))).reshape(shape) % 4 + 1).astype(dtype)
    if dtype in (np.float32, np.float64):
        x = x * np.asarray(-0.7, dtype)
    _same(*_call(lambda lib: lib.linalg.vander, x, N=n))


def test_vander_errors():
    calls = [
        (np.ones(3, bool), None),
        (np.ones(3, np.float16), None),
        (np.ones(3, np.float32), 1),
        (np.ones(3, np.float32), 0),
        (np.ones(0, np.float32), None),
        (np.float32(2.0), None),
    ]
    for x, n in calls:
        _raises_same(
            lambda x=x, n=n: gradienti.linalg.vander(gradienti.tensor(x), N=n),
            lambda x=x, n=n: torch.linalg.vander(torch.tensor(x), N=n),
        )
    _raises_same(
        lambda: gradienti.linalg.vander(gradienti.ones(3), out=gradienti.empty(0)),
        lambda: torch.linalg.vander(torch.ones(3), out=torch.empty(0)),
    )


# ------------------------------------------------------------------ householder_product
def test_householder_product_values():
    rng = np.random.default_rng(3)
    for a_shape, tau_shape in [((5, 3), (3,)), ((2, 5, 3), (2, 2)), ((3, 3), (3,)), ((4, 2), (0,))]:
        a, tau = rng.standard_normal(a_shape), rng.standard_normal(tau_shape)
        _same(*_call(lambda lib: lib.linalg.householder_product, a, tau), rtol=1e-10, atol=1e-12)
        _same(*_call(lambda lib: lib.orgqr, a, tau), rtol=1e-10, atol=1e-12)


def test_householder_product_of_geqrf_is_qr_q():
    a = _random(5, 3, dtype=np.float64)
    reflectors, tau = torch.geqrf(torch.tensor(a))
    ours = gradienti.linalg.householder_product(
        gradienti.tensor(reflectors.numpy()), gradienti.tensor(tau.numpy())
    )
    np.testing.assert_allclose(ours.numpy(), torch.linalg.qr(torch.tensor(a)).Q.numpy(), atol=1e-12)


def test_householder_product_graph_and_gradient():
    a, tau = _random(4, 3, dtype=np.float64), _random(3, dtype=np.float64, seed=2)
    ours_a, theirs_a = _pair(a, requires_grad=True)
    ours_tau, theirs_tau = _pair(tau, requires_grad=True)
    ours = ours_a.orgqr(ours_tau)
    theirs = theirs_a.orgqr(theirs_tau)
    assert ours.grad_fn.name() == theirs.grad_fn.name() == "LinalgHouseholderProductBackward0"
    upstream = _random(4, 3, dtype=np.float64, seed=5)
    ours.backward(gradienti.tensor(upstream))
    theirs.backward(torch.tensor(upstream))
    _same(ours_a.grad, theirs_a.grad, rtol=1e-10, atol=1e-12)
    _same(ours_tau.grad, theirs_tau.grad, rtol=1e-10, atol=1e-12)


def test_householder_product_empty():
    for a_shape, tau_shape in [((4, 0), (0,)), ((0, 0), (0,)), ((2, 3, 2), (2, 0))]:
        _same(
            *_call(
                lambda lib: lib.linalg.householder_product,
                np.ones(a_shape, np.float32),
                np.ones(tau_shape, np.float32),
            )
        )


def test_householder_product_errors():
    f = np.float32
    calls = [
        (np.ones((4, 3), f), np.ones(4, f)),
        (np.ones((3, 4), f), np.ones(3, f)),
        (np.ones(4, f), np.ones(3, f)),
        (np.ones((4, 3), f), np.ones((2, 3), f)),
        (np.ones((2, 4, 3), f), np.ones((3, 3), f)),
        (np.ones((2, 4, 3), f), np.ones((1, 3), f)),
        (np.ones((4, 3), f), np.ones(3)),
        (np.ones((4, 3), np.int32), np.ones(3, np.int32)),
        (np.ones((4, 3), np.float16), np.ones(3, np.float16)),
    ]
    for a, tau in calls:
        _raises_same(
            lambda a=a, tau=tau: gradienti.linalg.householder_product(
                gradienti.tensor(a), gradienti.tensor(tau)
            ),
            lambda a=a, tau=tau: torch.linalg.householder_product(
                torch.tensor(a), torch.tensor(tau)
            ),
        )


def test_householder_product_out():
    a, tau = _random(4, 3, dtype=np.float64), _random(3, dtype=np.float64, seed=2)
    for dtype in ("float64", "float32"):
        ours_out = gradienti.empty(0, dtype=getattr(gradienti, dtype))
        theirs_out = torch.empty(0, dtype=getattr(torch, dtype))
        gradienti.linalg.householder_product(
            gradienti.tensor(a), gradienti.tensor(tau), out=ours_out
        )
        torch.linalg.householder_product(torch.tensor(a), torch.tensor(tau), out=theirs_out)
        _same(ours_out, theirs_out)
    _raises_same(
        lambda: gradienti.linalg.householder_product(
            gradienti.tensor(a),
            gradienti.tensor(tau),
            out=gradienti.empty(0, dtype=gradienti.int64),
        ),
        lambda: torch.linalg.householder_product(
            torch.tensor(a), torch.tensor(tau), out=torch.empty(0, dtype=torch.int64)
        ),
    )
    ours_a, theirs_a = _pair(a, requires_grad=True)
    _raises_same(
        lambda: gradienti.linalg.householder_product(
            ours_a, gradienti.tensor(tau), out=gradienti.empty(0, dtype=gradienti.float64)
        ),
        lambda: torch.linalg.householder_product(
            theirs_a, torch.tensor(tau), out=torch.empty(0, dtype=torch.float64)
        ),
    )
