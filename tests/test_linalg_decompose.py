"""torch.linalg's decompositions, pseudo-inverse, least squares and norms (ops/linalg_spectral.py,
linalg_qr.py, linalg_pinv.py, linalg_norms.py) beyond the op table
(tests/op_cases_linalg_decompose.py): PyTorch's errors, named tuples and their printing, the
fields lstsq fills per driver, factors compared where they are unique (up to sign), options,
and derivatives in float64."""

import subprocess
import sys
import warnings

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(14)
SQUARE = RNG.uniform(-2, 2, (3, 3))
TALL = RNG.uniform(-2, 2, (5, 3))
WIDE = RNG.uniform(-2, 2, (2, 4))
BATCH = RNG.uniform(-2, 2, (2, 3, 4))


def _outcome(lib, call):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ("ok", call(lib))
    except Exception as error:  # noqa: BLE001 - the outcome is compared
        return (type(error).__name__.lstrip("_"), str(error))


def _t(lib, array, **options):
    return lib.tensor(np.asarray(array), **options)


ERRORS = {
    "svd 1-d": lambda lib: lib.linalg.svd(_t(lib, [1.0, 2.0])),
    "svd int": lambda lib: lib.linalg.svd(_t(lib, [[1, 2], [3, 4]])),
    "svdvals 1-d": lambda lib: lib.linalg.svdvals(_t(lib, [1.0, 2.0])),
    "torch.svd 1-d": lambda lib: lib.svd(_t(lib, [1.0, 2.0])),
    "eigh not square": lambda lib: lib.linalg.eigh(_t(lib, WIDE)),
    "eigh 1-d": lambda lib: lib.linalg.eigh(_t(lib, [1.0, 2.0])),
    "eigh UPLO": lambda lib: lib.linalg.eigh(_t(lib, SQUARE), UPLO="X"),
    "eigh int": lambda lib: lib.linalg.eigh(_t(lib, [[1, 2], [3, 4]])),
    "eigvalsh not square": lambda lib: lib.linalg.eigvalsh(_t(lib, WIDE)),
    "qr 1-d": lambda lib: lib.linalg.qr(_t(lib, [1.0, 2.0])),
    "qr mode": lambda lib: lib.linalg.qr(_t(lib, SQUARE), mode="bad"),
    "qr int": lambda lib: lib.linalg.qr(_t(lib, [[1, 2], [3, 4]])),
    "pinv 1-d": lambda lib: lib.linalg.pinv(_t(lib, [1.0, 2.0, 3.0])),
    "pinv int": lambda lib: lib.linalg.pinv(_t(lib, [[1, 2], [3, 4]])),
    "lstsq rows": lambda lib: lib.linalg.lstsq(_t(lib, SQUARE), _t(lib, TALL)),
    "lstsq 1-d A": lambda lib: lib.linalg.lstsq(_t(lib, [1.0, 2.0]), _t(lib, SQUARE)),
    "lstsq dims": lambda lib: lib.linalg.lstsq(_t(lib, SQUARE), _t(lib, BATCH)),
    "lstsq dtype": lambda lib: lib.linalg.lstsq(
        _t(lib, SQUARE, dtype=lib.float32), _t(lib, SQUARE)
    ),
    "lstsq driver": lambda lib: lib.linalg.lstsq(_t(lib, SQUARE), _t(lib, SQUARE), driver="x"),
    "vector_norm int": lambda lib: lib.linalg.vector_norm(_t(lib, [1, 2])),
    "vector_norm str": lambda lib: lib.linalg.vector_norm(_t(lib, SQUARE), "fro"),
    "vector_norm narrowing": lambda lib: lib.linalg.vector_norm(_t(lib, SQUARE), dtype=lib.float32),
    "vector_norm inf empty": lambda lib: lib.linalg.vector_norm(
        _t(lib, np.zeros((0, 2))), float("inf")
    ),
    "matrix_norm 1-d": lambda lib: lib.linalg.matrix_norm(_t(lib, [1.0, 2.0])),
    "matrix_norm ord 3": lambda lib: lib.linalg.matrix_norm(_t(lib, SQUARE), 3),
    "matrix_norm ord 0.5": lambda lib: lib.linalg.matrix_norm(_t(lib, SQUARE), 0.5),
    "matrix_norm ord str": lambda lib: lib.linalg.matrix_norm(_t(lib, SQUARE), "foo"),
    "matrix_norm one dim": lambda lib: lib.linalg.matrix_norm(_t(lib, SQUARE), dim=(0,)),
    "matrix_norm same dims": lambda lib: lib.linalg.matrix_norm(_t(lib, SQUARE), dim=(1, -1)),
    "matrix_norm int": lambda lib: lib.linalg.matrix_norm(_t(lib, [[1, 2], [3, 4]])),
    "matrix_norm int nuc": lambda lib: lib.linalg.matrix_norm(_t(lib, [[1, 2], [3, 4]]), "nuc"),
    "norm 3-d with ord": lambda lib: lib.linalg.norm(_t(lib, BATCH), 2),
    "norm 3-d with 'fro'": lambda lib: lib.linalg.norm(_t(lib, BATCH), "fro"),
    "norm three dims": lambda lib: lib.linalg.norm(_t(lib, BATCH), dim=(0, 1, 2)),
    "svd nan": lambda lib: lib.linalg.svd(_t(lib, [[np.nan, 1.0], [1.0, 2.0]])),
    "svdvals nan in a batch": lambda lib: lib.linalg.svdvals(
        _t(lib, [np.eye(2), [[np.nan, 1.0], [1.0, 2.0]]])
    ),
    "pinv nan": lambda lib: lib.linalg.pinv(_t(lib, [[np.nan, 1.0], [1.0, 2.0]])),
    "svd driver": lambda lib: lib.linalg.svd(_t(lib, SQUARE), driver="gesvd"),
    "svd float16": lambda lib: (lambda h: lib.linalg.svd(h))(_t(lib, SQUARE, dtype=lib.float16)),
    "svdvals float16": lambda lib: (lambda h: lib.linalg.svdvals(h))(
        _t(lib, SQUARE, dtype=lib.float16)
    ),
    "torch.svd float16": lambda lib: (lambda h: lib.svd(h))(_t(lib, SQUARE, dtype=lib.float16)),
    "eigh float16": lambda lib: (lambda h: lib.linalg.eigh(h))(_t(lib, SQUARE, dtype=lib.float16)),
    "eigvalsh float16": lambda lib: (lambda h: lib.linalg.eigvalsh(h))(
        _t(lib, SQUARE, dtype=lib.float16)
    ),
    "qr float16": lambda lib: (lambda h: lib.linalg.qr(h))(_t(lib, SQUARE, dtype=lib.float16)),
    "torch.qr float16": lambda lib: (lambda h: lib.qr(h))(_t(lib, SQUARE, dtype=lib.float16)),
    "pinv float16": lambda lib: (lambda h: lib.linalg.pinv(h))(_t(lib, SQUARE, dtype=lib.float16)),
    "lstsq float16": lambda lib: (lambda h: lib.linalg.lstsq(h, h))(
        _t(lib, SQUARE, dtype=lib.float16)
    ),
    "matrix_norm nuc float16": lambda lib: (lambda h: lib.linalg.matrix_norm(h, "nuc"))(
        _t(lib, SQUARE, dtype=lib.float16)
    ),
    "matrix_norm 2 float16": lambda lib: (lambda h: lib.linalg.matrix_norm(h, 2))(
        _t(lib, SQUARE, dtype=lib.float16)
    ),
    "eigh bool float16": lambda lib: (
        lambda h: lib.linalg.eigh(_t(lib, [[True, False], [False, True]]))
    )(_t(lib, SQUARE, dtype=lib.float16)),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_as_pytorch(name):
    ours = _outcome(gradienti, ERRORS[name])
    theirs = _outcome(torch, ERRORS[name])
    assert ours[0] != "ok", "gradienti gave a result where PyTorch raises"
    assert ours == theirs


def _backward_error(lib, mode, shape):
    x = lib.tensor(RNG.uniform(-2, 2, shape), requires_grad=True)
    q, r = lib.linalg.qr(x, mode=mode)
    (r.sum() if mode == "r" else q.sum() + r.sum()).backward()


@pytest.mark.parametrize("mode, shape", [("r", (3, 2)), ("complete", (4, 2))])
def test_qr_backward_refuses_as_pytorch(mode, shape):
    assert _outcome(gradienti, lambda lib: _backward_error(lib, mode, shape)) == _outcome(
        torch, lambda lib: _backward_error(lib, mode, shape)
    )


# ---------------------------------------------------------------------- named tuples, printing
def test_named_tuples_print_as_pytorch():
    diagonal = np.diag([3.0, 1.0, 2.0])
    calls = [
        lambda lib: lib.linalg.svd(_t(lib, diagonal)),
        lambda lib: lib.svd(_t(lib, diagonal)),
        lambda lib: lib.linalg.eigh(_t(lib, diagonal)),
        lambda lib: lib.linalg.qr(_t(lib, np.triu(np.ones((3, 3))) * -1)),
        lambda lib: lib.linalg.lstsq(_t(lib, diagonal), _t(lib, np.ones((3, 1)))),
        lambda lib: lib.linalg.lstsq(
            _t(lib, np.ones((3, 1))), _t(lib, np.array([[1.0], [2.0], [4.0]])), driver="gelsd"
        ),
    ]
    for call in calls:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ours, theirs = call(gradienti), call(torch)
        assert repr(ours) == repr(theirs)
        assert type(ours).__name__ == type(theirs).__name__


def test_result_types_and_grad_fns():
    x = gradienti.tensor(SQUARE, requires_grad=True)
    assert gradienti.linalg.svdvals(x).grad_fn.name() == "LinalgSvdBackward0"
    assert gradienti.linalg.eigvalsh(x).grad_fn.name() == "LinalgEighBackward0"
    assert gradienti.svd(x).V.grad_fn.name() == "TransposeBackward0"
    assert gradienti.linalg.svdvals(x.detach()).grad_fn is None
    assert isinstance(gradienti.linalg.svd(x), gradienti.return_types.linalg_svd)
    assert isinstance(x.svd(), gradienti.return_types.svd)
    with pytest.warns(UserWarning, match="torch.qr is deprecated"):
        assert isinstance(x.qr(), gradienti.return_types.qr)


# ---------------------------------------------------------------------- factors
def _both(call, array, dtype=np.float64):
    results = []
    for lib in (gradienti, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results.append(call(lib, lib.tensor(array.astype(dtype))))
    return results


def _np(value):
    return value.detach().numpy()


@pytest.mark.parametrize(
    "array", [SQUARE, TALL, WIDE, BATCH], ids=["square", "tall", "wide", "batch"]
)
@pytest.mark.parametrize("full_matrices", [True, False])
def test_svd_factors_as_pytorch_up_to_sign(array, full_matrices):
    ours, theirs = _both(lambda lib, x: lib.linalg.svd(x, full_matrices=full_matrices), array)
    k = min(array.shape[-2:])
    for mine, their in zip(ours, theirs):
        assert tuple(mine.shape) == tuple(their.shape)
        assert mine.dtype == gradienti.float64
    np.testing.assert_allclose(_np(ours.S), _np(theirs.S), rtol=1e-12)
    u, s, vh = (_np(value) for value in ours)
    recomposed = (u[..., :k] * s[..., None, :]) @ vh[..., :k, :]
    np.testing.assert_allclose(recomposed, array, atol=1e-12)
    # each singular pair is PyTorch's up to one common sign
    signs = np.sign(np.sum(u[..., :k] * _np(theirs.U)[..., :k], axis=-2))
    np.testing.assert_allclose(u[..., :k] * signs[..., None, :], _np(theirs.U)[..., :k], atol=1e-10)
    np.testing.assert_allclose(
        vh[..., :k, :] * signs[..., :, None], _np(theirs.Vh)[..., :k, :], atol=1e-10
    )


@pytest.mark.parametrize("some", [True, False])
@pytest.mark.parametrize("compute_uv", [True, False])
def test_legacy_svd_returns_v_and_zeros_without_uv(some, compute_uv):
    ours, theirs = _both(lambda lib, x: lib.svd(x, some=some, compute_uv=compute_uv), TALL)
    for mine, their in zip(ours, theirs):
        assert tuple(mine.shape) == tuple(their.shape)
    np.testing.assert_allclose(_np(ours.S), _np(theirs.S), rtol=1e-12)
    if compute_uv:
        k = 3
        np.testing.assert_allclose(
            _np(ours.V)[:, :k], _np(gradienti.linalg.svd(gradienti.tensor(TALL)).Vh).T[:, :k]
        )
        np.testing.assert_allclose(
            np.abs(_np(ours.V)[:, :k]), np.abs(_np(theirs.V)[:, :k]), atol=1e-10
        )
    else:
        np.testing.assert_array_equal(_np(ours.U), _np(theirs.U))
        np.testing.assert_array_equal(_np(ours.V), _np(theirs.V))


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_reads_one_triangle_as_pytorch(uplo):
    """The other triangle is ignored: a non-symmetric input gives the eigenvalues of the
    symmetric matrix of the triangle read."""
    ours, theirs = _both(lambda lib, x: lib.linalg.eigh(x, UPLO=uplo), SQUARE)
    np.testing.assert_allclose(_np(ours.eigenvalues), _np(theirs.eigenvalues), rtol=1e-12)
    np.testing.assert_allclose(
        np.abs(_np(ours.eigenvectors)), np.abs(_np(theirs.eigenvectors)), atol=1e-10
    )
    values = _both(lambda lib, x: lib.linalg.eigvalsh(x, uplo), SQUARE)
    np.testing.assert_allclose(_np(values[0]), _np(values[1]), rtol=1e-12)


@pytest.mark.parametrize("mode", ["reduced", "complete", "r"])
@pytest.mark.parametrize("array", [TALL, WIDE, BATCH], ids=["tall", "wide", "batch"])
def test_qr_modes_as_pytorch(mode, array):
    ours, theirs = _both(lambda lib, x: lib.linalg.qr(x, mode=mode), array)
    for mine, their in zip(ours, theirs):
        assert tuple(mine.shape) == tuple(their.shape)
        np.testing.assert_allclose(_np(mine), _np(their), atol=1e-10)


def test_legacy_qr_warns_as_pytorch():
    # PyTorch warns once per process: its text is read in a fresh one
    script = (
        "import warnings, torch\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    torch.qr(torch.eye(2), some=False)\n"
        "print(str(caught[0].message).split(' (Triggered internally')[0], end='')\n"
    )
    theirs = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    with pytest.warns(UserWarning) as ours:
        gradienti.qr(gradienti.tensor(SQUARE), some=False)
    assert str(ours[0].message) == theirs


# ---------------------------------------------------------------------- pinv, lstsq
SINGULAR = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])

PINV_CALLS = {
    "default": lambda lib, x: lib.linalg.pinv(x),
    "rcond positional": lambda lib, x: lib.linalg.pinv(x, 0.5),
    "atol": lambda lib, x: lib.linalg.pinv(x, atol=1.0),
    "rtol": lambda lib, x: lib.linalg.pinv(x, rtol=0.3),
    "atol and rtol": lambda lib, x: lib.linalg.pinv(x, atol=0.5, rtol=0.1),
    "atol tensor": lambda lib, x: lib.linalg.pinv(x, atol=lib.tensor(1.0, dtype=lib.float64)),
    "hermitian": lambda lib, x: lib.linalg.pinv(x + x.mT, hermitian=True),
    "pinverse": lambda lib, x: lib.pinverse(x, 0.2),
    "method": lambda lib, x: x.pinverse(),
}


@pytest.mark.parametrize("name", sorted(PINV_CALLS))
@pytest.mark.parametrize("array", [SINGULAR, TALL, BATCH], ids=["singular", "tall", "batch"])
def test_pinv_options_as_pytorch(name, array):
    if name == "hermitian" and array.shape[-1] != array.shape[-2]:
        return
    ours, theirs = _both(PINV_CALLS[name], array)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(_np(ours), _np(theirs), atol=1e-10)


def test_pinv_of_an_empty_matrix():
    ours, theirs = _both(lambda lib, x: lib.linalg.pinv(x), np.zeros((0, 3)))
    assert tuple(ours.shape) == tuple(theirs.shape) == (3, 0)


@pytest.mark.parametrize("driver", [None, "gelsy", "gelsd", "gelss", "gels"])
@pytest.mark.parametrize(
    "shapes",
    [((5, 3), (5, 2)), ((3, 3), (3, 1)), ((5, 3), (5,)), ((2, 5, 3), (1, 5, 2)), ((2, 4), (2, 3))],
    ids=["tall", "square", "vector", "batch", "wide"],
)
def test_lstsq_fields_per_driver_as_pytorch(driver, shapes):
    a, b = (RNG.uniform(-2, 2, shape) for shape in shapes)
    results = [
        lib.linalg.lstsq(_t(lib, a), _t(lib, b), driver=driver) for lib in (gradienti, torch)
    ]
    for mine, their in zip(*results):
        assert tuple(mine.shape) == tuple(their.shape)
        assert str(mine.dtype) == str(their.dtype)
        np.testing.assert_allclose(_np(mine), _np(their), atol=1e-10)


def test_lstsq_rank_of_a_singular_matrix():
    results = [
        lib.linalg.lstsq(_t(lib, SINGULAR), _t(lib, np.ones((3, 2)))) for lib in (gradienti, torch)
    ]
    assert int(results[0].rank) == int(results[1].rank) == 2
    np.testing.assert_allclose(_np(results[0].solution), _np(results[1].solution), atol=1e-10)


# ---------------------------------------------------------------------- norms
def test_torch_norm_agrees_with_linalg_norms():
    x = gradienti.tensor(BATCH)
    np.testing.assert_allclose(_np(gradienti.norm(x)), _np(gradienti.linalg.vector_norm(x)))
    np.testing.assert_allclose(
        _np(gradienti.norm(x, 3, dim=1)), _np(gradienti.linalg.vector_norm(x, 3, 1))
    )
    np.testing.assert_allclose(
        _np(gradienti.norm(x, "fro", dim=(1, 2))), _np(gradienti.linalg.matrix_norm(x))
    )


NORM_CALLS = {
    "vector_norm keepdim all": lambda lib, x: lib.linalg.vector_norm(x, keepdim=True),
    "vector_norm 0": lambda lib, x: lib.linalg.vector_norm(x, 0, dim=(0, 2)),
    "vector_norm dtype": lambda lib, x: lib.linalg.vector_norm(x.float(), dtype=lib.float64),
    "matrix_norm dtype": lambda lib, x: lib.linalg.matrix_norm(x.float(), "nuc", dtype=lib.float64),
    "matrix_norm 2 keepdim": lambda lib, x: lib.linalg.matrix_norm(x, 2, dim=(0, 2), keepdim=True),
    "matrix_norm inf dims": lambda lib, x: lib.linalg.matrix_norm(x, float("inf"), dim=(2, 1)),
    "norm dim int": lambda lib, x: lib.linalg.norm(x, dim=1),
    "norm ord dim pair": lambda lib, x: lib.linalg.norm(x, -1, dim=(0, 2), keepdim=True),
}


@pytest.mark.parametrize("name", sorted(NORM_CALLS))
def test_norm_options_as_pytorch(name):
    ours, theirs = _both(NORM_CALLS[name], BATCH)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-6)


# ---------------------------------------------------------------------- derivatives, float64
def _gradients(lib, call, arrays, order):
    inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
    out = call(lib, *inputs)
    weights = lib.tensor(np.random.default_rng(3).uniform(0.5, 1.5, tuple(out.shape)))
    firsts = lib.autograd.grad(out, inputs, weights, create_graph=order == 2)
    if order == 1:
        return [_np(g) for g in firsts]
    total = sum((g * g).sum() for g in firsts)
    return [_np(g) for g in lib.autograd.grad(total, inputs)]


DERIVATIVE_CALLS = {
    "svd tall full_matrices": (
        lambda lib, x: (lambda r: r.U[:, :3] * r.S @ r.Vh)(lib.linalg.svd(x)),
        (TALL,),
    ),
    "svd U only, wide": (lambda lib, x: lib.linalg.svd(x, False).U ** 2, (WIDE,)),
    "eigh vectors only": (lambda lib, x: lib.linalg.eigh(x + x.mT)[1] ** 2, (SQUARE,)),
    "qr wide": (lambda lib, x: (lambda q, r: q * 3 + r[:, :2])(*lib.linalg.qr(x)), (WIDE,)),
    "pinv wide": (lambda lib, x: lib.linalg.pinv(x), (WIDE,)),
    "lstsq gelsd residuals": (
        lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelsd").residuals,
        (TALL, RNG.uniform(-2, 2, (5, 2))),
    ),
    "matrix_norm nuc": (lambda lib, x: lib.linalg.matrix_norm(x, "nuc"), (BATCH,)),
}


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("name", sorted(DERIVATIVE_CALLS))
def test_derivatives_in_float64_as_pytorch(name, order):
    call, arrays = DERIVATIVE_CALLS[name]
    ours = _gradients(gradienti, call, arrays, order)
    theirs = _gradients(torch, call, arrays, order)
    for mine, their in zip(ours, theirs):
        np.testing.assert_allclose(mine, their, rtol=1e-8, atol=1e-10)


def test_forward_mode_of_svd_and_qr_as_pytorch():
    tangent = RNG.uniform(-1, 1, TALL.shape)
    results = []
    for lib in (gradienti, torch):
        import_ad = lib.autograd.forward_ad
        with import_ad.dual_level():
            dual = import_ad.make_dual(lib.tensor(TALL), lib.tensor(tangent))
            u, s, vh = lib.linalg.svd(dual, full_matrices=False)
            q, r = lib.linalg.qr(dual)
            results.append(
                [_np(import_ad.unpack_dual(value).tangent) for value in (u * u, s, q, r)]
            )
    for mine, their in zip(*results):
        np.testing.assert_allclose(mine, their, atol=1e-10)


# ---------------------------------------------------------------------- out=
def _empties(lib, count):
    return tuple(lib.empty(0, dtype=lib.float64) for _ in range(count))


OUT_CALLS = {
    "linalg.svd": (lambda lib, x, out: lib.linalg.svd(x, out=out), 3),
    "linalg.svdvals": (lambda lib, x, out: lib.linalg.svdvals(x, out=out[0]), 1),
    "svd": (lambda lib, x, out: lib.svd(x, out=out), 3),
    "linalg.eigh": (lambda lib, x, out: lib.linalg.eigh(x + x.mT, out=out), 2),
    "linalg.eigvalsh": (lambda lib, x, out: lib.linalg.eigvalsh(x, out=out[0]), 1),
    "linalg.qr": (lambda lib, x, out: lib.linalg.qr(x, out=out), 2),
    "linalg.pinv": (lambda lib, x, out: lib.linalg.pinv(x, out=out[0]), 1),
    "linalg.vector_norm": (lambda lib, x, out: lib.linalg.vector_norm(x, out=out[0]), 1),
    "linalg.matrix_norm": (lambda lib, x, out: lib.linalg.matrix_norm(x, "nuc", out=out[0]), 1),
    "linalg.norm": (lambda lib, x, out: lib.linalg.norm(x, 2, out=out[0]), 1),
}


@pytest.mark.parametrize("name", sorted(OUT_CALLS))
def test_out_as_pytorch(name):
    call, count = OUT_CALLS[name]
    outcomes = []
    for lib in (gradienti, torch):
        out = _empties(lib, count)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = call(lib, lib.tensor(SQUARE), out)
        values = result if isinstance(result, tuple) else (result,)
        assert all(value is target for value, target in zip(values, out))
        outcomes.append((type(result).__name__, [np.abs(_np(value)) for value in out]))
    assert outcomes[0][0] == outcomes[1][0]
    for mine, their in zip(outcomes[0][1], outcomes[1][1]):
        np.testing.assert_allclose(mine, their, atol=1e-10)
    # with an input that requires grad: the native functions refuse, the composite ones
    # copy the result in with a recorded copy_
    refusals = [
        _outcome(
            lib, lambda lib: call(lib, lib.tensor(SQUARE, requires_grad=True), _empties(lib, count))
        )
        for lib in (gradienti, torch)
    ]
    if refusals[1][0] == "ok":
        assert refusals[0][0] == "ok"
        assert refusals[0][1].grad_fn.name() == refusals[1][1].grad_fn.name()
    else:
        assert refusals[0] == refusals[1]


# ---------------------------------------------------------------------- empty matrices
EMPTY_CALLS = {
    "svd": lambda lib, x: lib.linalg.svd(x),
    "svd reduced": lambda lib, x: lib.linalg.svd(x, full_matrices=False),
    "svdvals": lambda lib, x: (lib.linalg.svdvals(x),),
    "qr": lambda lib, x: lib.linalg.qr(x),
    "qr complete": lambda lib, x: lib.linalg.qr(x, "complete"),
    "pinv": lambda lib, x: (lib.linalg.pinv(x),),
    "matrix_norm nuc": lambda lib, x: (lib.linalg.matrix_norm(x, "nuc"),),
}


@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (2, 0, 0), (0, 2, 2)], ids=str)
@pytest.mark.parametrize("name", sorted(EMPTY_CALLS))
def test_matrices_without_elements_as_pytorch(name, shape):
    outcomes = []
    for lib in (gradienti, torch):
        x = lib.zeros(shape, dtype=lib.float64, requires_grad=True)
        results = EMPTY_CALLS[name](lib, x)
        total = sum(value.sum() for value in results)
        grad = _outcome(
            lib, lambda lib, total=total, x=x: lib.autograd.grad(total, x, allow_unused=True)[0]
        )
        grad = grad if grad[0] != "ok" or grad[1] is None else tuple(grad[1].shape)
        outcomes.append(([(tuple(value.shape), _np(value).tolist()) for value in results], grad))
    assert outcomes[0] == outcomes[1]
