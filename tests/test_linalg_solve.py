"""torch.linalg's inverses, determinants, solves and factorizations (ops/linalg_*.py) beyond
the op table (tests/op_cases_linalg_solve.py): errors, named tuples, info outputs."""

import warnings

import numpy as np
import pytest

import gradienti


def test_linalg_error_is_a_runtime_error_as_pytorch():
    torch = pytest.importorskip("torch")
    assert issubclass(torch.linalg.LinAlgError, RuntimeError)
    assert issubclass(gradienti.linalg.LinAlgError, RuntimeError)
    assert gradienti.linalg.LinAlgError is not RuntimeError


def _both(torch, function):
    """``function(lib)``'s outcome in each library: ("ok", result) or (class name, message)."""
    outcomes = []
    for lib in (gradienti, torch):
        try:
            outcomes.append(("ok", function(lib)))
        except Exception as error:  # noqa: BLE001 - the outcome is compared
            outcomes.append((type(error).__name__.lstrip("_"), str(error).split("\n")[0]))
    return outcomes


def _same_error(torch, function):
    ours, theirs = _both(torch, function)
    assert ours[0] != "ok", "gradienti gave a result where PyTorch raises"
    assert ours == theirs


BAD_BATCH = [np.eye(3), np.diag([1.0, -1.0, 1.0])]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.linalg.cholesky(lib.tensor([[1.0, 2.0], [2.0, 1.0]])),
        lambda lib: lib.linalg.cholesky(lib.tensor(np.array(BAD_BATCH))),
        lambda lib: lib.linalg.cholesky(lib.tensor(np.array(BAD_BATCH)), upper=True),
        lambda lib: lib.linalg.cholesky(lib.full((2, 2), float("nan"))),
        lambda lib: lib.linalg.cholesky(lib.ones(3)),
        lambda lib: lib.linalg.cholesky(lib.ones(2, 3)),
        lambda lib: lib.linalg.cholesky(lib.ones(2, 2, dtype=lib.long)),
        lambda lib: lib.linalg.cholesky(lib.ones(2, 2, dtype=lib.half)),
        lambda lib: lib.linalg.cholesky_ex(lib.tensor(np.array(BAD_BATCH)), check_errors=True),
    ],
)
def test_cholesky_errors_as_pytorch(call):
    torch = pytest.importorskip("torch")
    _same_error(torch, call)


def test_cholesky_error_is_a_linalg_error():
    with pytest.raises(gradienti.linalg.LinAlgError):
        gradienti.linalg.cholesky(gradienti.tensor([[1.0, 2.0], [2.0, 1.0]]))


def test_cholesky_ex_reports_info_per_matrix_as_pytorch():
    torch = pytest.importorskip("torch")
    ours = gradienti.linalg.cholesky_ex(gradienti.tensor(np.array(BAD_BATCH)))
    theirs = torch.linalg.cholesky_ex(torch.tensor(np.array(BAD_BATCH)))
    assert repr(ours) == repr(theirs)
    assert type(ours).__name__ == "linalg_cholesky_ex"
    assert ours.info.dtype == gradienti.int32


def test_cholesky_legacy_warns_and_matches_pytorch():
    torch = pytest.importorskip("torch")
    spd = np.array([[4.0, 2.0, 0.4], [2.0, 3.0, 0.5], [0.4, 0.5, 2.0]])
    for upper in (False, True):
        x = gradienti.tensor(spd, requires_grad=True)
        t = torch.tensor(spd, requires_grad=True)
        with pytest.warns(UserWarning, match="torch.cholesky is deprecated"):
            ours = gradienti.cholesky(x, upper)
        with warnings.catch_warnings():  # (PyTorch's warns once a process)
            warnings.simplefilter("ignore")
            theirs = torch.cholesky(t, upper)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
        assert type(ours.grad_fn).__name__ == theirs.grad_fn.name() == "CholeskyBackward0"
        w = np.arange(9.0).reshape(3, 3) / 7 + 0.5
        ours.backward(gradienti.tensor(w))
        theirs.backward(torch.tensor(w))
        np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_gradient_of_a_nonsymmetric_input_as_pytorch(upper):
    """Only one triangle is read; PyTorch's gradient is the symmetric formula, not that
    triangle's (finite differences would give the triangle): gradienti gives PyTorch's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a = rng.uniform(-1, 1, (2, 4, 4)) + 5 * np.eye(4)
    w = rng.uniform(0.5, 1.5, (2, 4, 4))
    x, t = gradienti.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours, theirs = gradienti.linalg.cholesky(x, upper=upper), torch.linalg.cholesky(t, upper=upper)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    ours.backward(gradienti.tensor(w))
    theirs.backward(torch.tensor(w))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.linalg.solve_triangular(lib.ones(3), lib.ones(3, 1), upper=True),
        lambda lib: lib.linalg.solve_triangular(lib.ones(2, 3), lib.ones(2, 1), upper=True),
        lambda lib: lib.linalg.solve_triangular(lib.eye(3), lib.ones(3), upper=True),
        lambda lib: lib.linalg.solve_triangular(lib.eye(3), lib.ones(2, 1), upper=True),
        lambda lib: lib.linalg.solve_triangular(lib.eye(3), lib.ones(2, 2), upper=True, left=False),
        lambda lib: lib.linalg.solve_triangular(
            lib.eye(3).expand(2, 3, 3), lib.ones(3, 3, 1), upper=True
        ),
        lambda lib: lib.linalg.solve_triangular(
            lib.eye(3, dtype=lib.long), lib.ones(3, 1, dtype=lib.long), upper=True
        ),
        lambda lib: lib.linalg.solve_triangular(
            lib.eye(3, dtype=lib.half), lib.ones(3, 1, dtype=lib.half), upper=True
        ),
        lambda lib: lib.linalg.solve_triangular(lib.eye(3), lib.ones(3, 1)),
    ],
)
def test_solve_triangular_errors_as_pytorch(call):
    torch = pytest.importorskip("torch")
    _same_error(torch, call)


def test_solve_triangular_promotes_and_broadcasts_as_pytorch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    a = (rng.uniform(-1, 1, (2, 1, 3, 3)) + 3 * np.eye(3)).astype(np.float32)
    b = rng.uniform(-1, 1, (4, 3, 2))
    ours = gradienti.linalg.solve_triangular(gradienti.tensor(a), gradienti.tensor(b), upper=True)
    theirs = torch.linalg.solve_triangular(torch.tensor(a), torch.tensor(b), upper=True)
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_solve_triangular_with_a_zero_on_the_diagonal_gives_inf_or_nan_as_pytorch():
    torch = pytest.importorskip("torch")
    a = np.array([[0.0, 1.0], [0.0, 1.0]])
    ours = gradienti.linalg.solve_triangular(gradienti.tensor(a), gradienti.ones(2, 1), upper=True)
    theirs = torch.linalg.solve_triangular(torch.tensor(a), torch.ones(2, 1), upper=True)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


SINGULAR = [[1.0, 2.0], [2.0, 4.0]]
SINGULAR_BATCH = [np.eye(2), np.array(SINGULAR)]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.linalg.inv(lib.tensor(SINGULAR)),
        lambda lib: lib.linalg.inv(lib.tensor([[1.0, 2, 3], [4, 5, 6], [7, 8, 9]])),
        lambda lib: lib.linalg.inv(lib.tensor(np.array(SINGULAR_BATCH))),
        lambda lib: lib.linalg.inv(lib.ones(3)),
        lambda lib: lib.linalg.inv(lib.ones(2, 3)),
        lambda lib: lib.linalg.inv(lib.ones(2, 2, dtype=lib.long)),
        lambda lib: lib.linalg.inv(lib.ones(2, 2, dtype=lib.half)),
        lambda lib: lib.inverse(lib.tensor(SINGULAR)),
        lambda lib: lib.linalg.inv_ex(lib.ones(2, 3)),
        lambda lib: lib.linalg.inv_ex(lib.tensor(np.array(SINGULAR_BATCH)), check_errors=True),
        lambda lib: lib.linalg.solve(lib.tensor(SINGULAR), lib.ones(2, 1)),
        lambda lib: lib.linalg.solve(lib.tensor(np.array(SINGULAR_BATCH)), lib.ones(2, 1)),
        lambda lib: lib.linalg.solve(lib.ones(3), lib.ones(3)),
        lambda lib: lib.linalg.solve(lib.ones(2, 3), lib.ones(2)),
        lambda lib: lib.linalg.solve(lib.eye(3), lib.ones(2, 1)),
        lambda lib: lib.linalg.solve(lib.eye(3), lib.ones(2)),
        lambda lib: lib.linalg.solve(lib.eye(3), lib.ones(2, 2), left=False),
        lambda lib: lib.linalg.solve(lib.eye(3), lib.ones(3), left=False),
        lambda lib: lib.linalg.solve(lib.eye(3), lib.ones(3, 1, dtype=lib.float64)),
        lambda lib: lib.linalg.solve(lib.eye(3, dtype=lib.long), lib.ones(3, 1, dtype=lib.long)),
        lambda lib: lib.linalg.solve(lib.eye(3), lib.tensor(1.0)),
        lambda lib: lib.linalg.solve(lib.eye(3).expand(2, 3, 3), lib.ones(3, 3, 1)),
        lambda lib: lib.linalg.solve_ex(
            lib.tensor(np.array(SINGULAR_BATCH)), lib.ones(2, 1), check_errors=True
        ),
        lambda lib: lib.linalg.det(lib.ones(3)),
        lambda lib: lib.linalg.det(lib.ones(2, 3)),
        lambda lib: lib.linalg.det(lib.ones(2, 2, dtype=lib.long)),
        lambda lib: lib.linalg.det(lib.ones(2, 2, dtype=lib.half)),
        lambda lib: lib.det(lib.ones(2, 3)),
        lambda lib: lib.linalg.slogdet(lib.ones(3)),
        lambda lib: lib.linalg.slogdet(lib.ones(2, 3)),
        lambda lib: lib.linalg.slogdet(lib.ones(2, 2, dtype=lib.long)),
        lambda lib: lib.linalg.slogdet(lib.ones(2, 2, dtype=lib.half)),
        lambda lib: lib.slogdet(lib.ones(2, 3)),
        lambda lib: lib.logdet(lib.ones(2, 3)),
        lambda lib: lib.logdet(lib.ones(2, 2, dtype=lib.long)),
        lambda lib: lib.linalg.lu_factor(lib.ones(3)),
        lambda lib: lib.linalg.lu_factor(lib.tensor(SINGULAR)),
        lambda lib: lib.linalg.lu_factor(lib.ones(2, 3)),
        lambda lib: lib.linalg.lu_factor(lib.ones(2, 2, dtype=lib.long)),
        lambda lib: lib.linalg.lu_factor_ex(
            lib.tensor(np.array(SINGULAR_BATCH)), check_errors=True
        ),
    ],
)
def test_inverse_solve_det_lu_errors_as_pytorch(call):
    torch = pytest.importorskip("torch")
    _same_error(torch, call)


def test_singular_matrix_errors_are_linalg_errors():
    singular = gradienti.tensor(SINGULAR)
    for call in (gradienti.linalg.inv, lambda a: gradienti.linalg.solve(a, gradienti.ones(2))):
        with pytest.raises(gradienti.linalg.LinAlgError):
            call(singular)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, a: lib.linalg.inv_ex(a),
        lambda lib, a: lib.linalg.solve_ex(a, lib.ones(2, 1, dtype=a.dtype)),
        lambda lib, a: lib.linalg.lu_factor_ex(a),
        lambda lib, a: lib.linalg.lu_factor(a[0]),
        lambda lib, a: lib.linalg.slogdet(a),
        lambda lib, a: lib.slogdet(a),
        lambda lib, a: lib.linalg.lu(a),
    ],
)
def test_named_tuples_and_singular_results_print_as_pytorch(call):
    """The *_ex functions give inf/NaN where a pivot is zero, with info, as PyTorch's."""
    torch = pytest.importorskip("torch")
    batch = np.array(SINGULAR_BATCH)
    ours = call(gradienti, gradienti.tensor(batch))
    theirs = call(torch, torch.tensor(batch))
    assert type(ours).__name__ == type(theirs).__name__
    assert repr(ours) == repr(theirs)


def test_det_and_logdet_values_at_the_edges_as_pytorch():
    torch = pytest.importorskip("torch")
    cases = [SINGULAR, (-np.eye(3)).tolist(), np.diag([2.0, -1.0, -3.0]).tolist()]
    for values in cases:
        for name in ("det", "logdet"):
            ours = getattr(gradienti, name)(gradienti.tensor(values))
            theirs = getattr(torch, name)(torch.tensor(values))
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_det_gradient_of_a_singular_matrix_as_pytorch():
    torch = pytest.importorskip("torch")
    values = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]
    x, t = gradienti.tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    gradienti.linalg.det(x).backward()
    torch.linalg.det(t).backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_tensor_methods_and_torch_functions_are_the_linalg_ops():
    torch = pytest.importorskip("torch")
    a = np.array([[4.0, 1.0], [2.0, 3.0]])
    for name in ("inverse", "det", "logdet"):
        ours = getattr(gradienti.tensor(a), name)()
        theirs = getattr(torch.tensor(a), name)()
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    assert repr(gradienti.tensor(a).slogdet()) == repr(torch.tensor(a).slogdet())


LOWER = [[2.0, 0.0], [1.0, 3.0]]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.linalg.matrix_power(lib.ones(3), 2),
        lambda lib: lib.linalg.matrix_power(lib.ones(2, 3), 2),
        lambda lib: lib.matrix_power(lib.ones(2, 3), 2),
        lambda lib: lib.linalg.matrix_power(lib.ones(2, 2, dtype=lib.long), -1),
        lambda lib: lib.linalg.matrix_power(lib.ones(2, 2), 2.0),
        lambda lib: lib.linalg.matrix_power(lib.tensor(SINGULAR), -2),
        lambda lib: lib.linalg.matrix_exp(lib.ones(3)),
        lambda lib: lib.linalg.matrix_exp(lib.ones(2, 3)),
        lambda lib: lib.linalg.matrix_exp(lib.ones(2, 2, dtype=lib.long)),
        lambda lib: lib.linalg.multi_dot([lib.ones(2, 2)]),
        lambda lib: lib.linalg.multi_dot([]),
        lambda lib: lib.linalg.multi_dot([lib.ones(2, 2, 2), lib.ones(2, 2)]),
        lambda lib: lib.linalg.multi_dot([lib.ones(2, 2), lib.ones(2), lib.ones(2, 2)]),
        lambda lib: lib.linalg.multi_dot([lib.ones(2, 2), lib.ones(2, 2, 2)]),
        lambda lib: lib.linalg.multi_dot([lib.ones(2, 3), lib.ones(2, 2)]),
        lambda lib: lib.linalg.multi_dot([lib.ones(2, 2), lib.ones(2, 2, dtype=lib.float64)]),
        lambda lib: lib.linalg.cross(lib.ones(3, 2), lib.ones(3, 2)),
        lambda lib: lib.linalg.cross(lib.ones(2, 3), lib.ones(3)),
        lambda lib: lib.linalg.cross(lib.ones(3), lib.ones(3, dtype=lib.float64)),
        lambda lib: lib.cholesky_solve(lib.ones(2), lib.tensor(LOWER)),
        lambda lib: lib.cholesky_solve(lib.ones(2, 1), lib.ones(2)),
        lambda lib: lib.cholesky_solve(lib.ones(3, 1), lib.tensor(LOWER)),
        lambda lib: lib.cholesky_solve(lib.ones(2, 1, dtype=lib.float64), lib.tensor(LOWER)),
        lambda lib: lib.cholesky_solve(
            lib.ones(2, 1, dtype=lib.long), lib.tensor(LOWER).to(lib.long)
        ),
        lambda lib: lib.cholesky_solve(lib.ones(2, 3), lib.ones(2, 3)),
        lambda lib: lib.cholesky_inverse(lib.ones(2)),
        lambda lib: lib.cholesky_inverse(lib.ones(2, 3)),
        lambda lib: lib.cholesky_inverse(lib.tensor(LOWER).to(lib.long)),
        lambda lib: lib.triangular_solve(lib.ones(2), lib.tensor(LOWER)),
        lambda lib: lib.triangular_solve(lib.ones(3, 1), lib.tensor(LOWER)),
        lambda lib: lib.triangular_solve(lib.ones(2, 1), lib.ones(2, 3)),
        lambda lib: lib.triangular_solve(lib.ones(2, 1, dtype=lib.float64), lib.tensor(LOWER)),
    ],
)
def test_matrix_functions_and_legacy_solver_errors_as_pytorch(call):
    torch = pytest.importorskip("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same_error(torch, call)


def test_linalg_cross_defaults_to_the_last_dim_unlike_torch_cross():
    torch = pytest.importorskip("torch")
    a = np.arange(9.0).reshape(3, 3) + np.eye(3)
    b = np.arange(9.0).reshape(3, 3)[::-1].copy()
    ours = gradienti.linalg.cross(gradienti.tensor(a), gradienti.tensor(b))
    theirs = torch.linalg.cross(torch.tensor(a), torch.tensor(b))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert not np.array_equal(ours.numpy(), torch.cross(torch.tensor(a), torch.tensor(b), 0))


def test_matrix_power_zero_is_the_identity_with_a_zero_gradient_as_pytorch():
    torch = pytest.importorskip("torch")
    a = np.array([[[1.0, 2.0], [3.0, 4.0]]] * 2)
    x, t = gradienti.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ours, theirs = gradienti.linalg.matrix_power(x, 0), torch.linalg.matrix_power(t, 0)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    assert type(ours.grad_fn).__name__ == theirs.grad_fn.name().split("::")[-1]
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())
    integral = gradienti.linalg.matrix_power(gradienti.tensor([[1, 2], [3, 4]]), 3)
    expected = torch.linalg.matrix_power(torch.tensor([[1, 2], [3, 4]]), 3)
    assert integral.dtype == gradienti.int64
    np.testing.assert_array_equal(integral.numpy(), expected.numpy())


def test_matrix_exp_of_large_and_nilpotent_matrices_as_pytorch():
    torch = pytest.importorskip("torch")
    for values in ([[0.0, 1.0], [0.0, 0.0]], [[10.0, -3.0], [4.0, -7.0]], [[0.0]]):
        ours = gradienti.linalg.matrix_exp(gradienti.tensor(values, dtype=gradienti.float64))
        theirs = torch.linalg.matrix_exp(torch.tensor(values, dtype=torch.float64))
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_solve_reads_one_triangle_and_gives_pytorchs_gradient(upper):
    """The factor's other triangle is not read; PyTorch's gradient for it is its formula's."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    factor = rng.uniform(-1, 1, (3, 3)) + 4 * np.eye(3)
    b = rng.uniform(-1, 1, (3, 2))
    w = rng.uniform(0.5, 1.5, (3, 2))
    f, t = gradienti.tensor(factor, requires_grad=True), torch.tensor(factor, requires_grad=True)
    ours = gradienti.cholesky_solve(gradienti.tensor(b), f, upper)
    theirs = torch.cholesky_solve(torch.tensor(b), t, upper)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-12)
    ours.backward(gradienti.tensor(w))
    theirs.backward(torch.tensor(w))
    np.testing.assert_allclose(f.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_triangular_solve_warns_and_returns_pytorchs_named_tuple():
    torch = pytest.importorskip("torch")
    a, b = np.array(LOWER), np.ones((2, 1))
    with pytest.warns(UserWarning, match="torch.triangular_solve is deprecated"):
        ours = gradienti.triangular_solve(gradienti.tensor(b), gradienti.tensor(a), upper=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.triangular_solve(torch.tensor(b), torch.tensor(a), upper=False)
    assert repr(ours) == repr(theirs)


def _out_calls():
    """Calls with out= while an argument requires grad: PyTorch refuses each, naming the ATen
    function that writes (linalg.inv's is linalg_inv_ex, multi_dot's is mm)."""

    def empty(lib, *shape, dtype=None):
        return lib.empty(*shape, dtype=dtype or lib.float64)

    def operands(lib):
        a = lib.tensor([[4.0, 1.0], [2.0, 3.0]], dtype=lib.float64, requires_grad=True)
        return a, lib.ones(2, 1, dtype=lib.float64)

    def int32(lib):
        return lib.empty(0, dtype=lib.int32)

    return {
        "solve_triangular": lambda lib, a, b: lib.linalg.solve_triangular(
            a, b, upper=True, out=empty(lib, 0)
        ),
        "triangular_solve": lambda lib, a, b: lib.triangular_solve(
            b, a, out=(empty(lib, 0), empty(lib, 0))
        ),
        "cholesky": lambda lib, a, b: lib.linalg.cholesky(a, out=empty(lib, 0)),
        "cholesky_ex": lambda lib, a, b: lib.linalg.cholesky_ex(a, out=(empty(lib, 0), int32(lib))),
        "torch.cholesky": lambda lib, a, b: lib.cholesky(a, out=empty(lib, 0)),
        "cholesky_solve": lambda lib, a, b: lib.cholesky_solve(b, a, out=empty(lib, 0)),
        "cholesky_inverse": lambda lib, a, b: lib.cholesky_inverse(a, out=empty(lib, 0)),
        "inverse": lambda lib, a, b: lib.inverse(a, out=empty(lib, 0)),
        "inv": lambda lib, a, b: lib.linalg.inv(a, out=empty(lib, 0)),
        "inv_ex": lambda lib, a, b: lib.linalg.inv_ex(a, out=(empty(lib, 0), int32(lib))),
        "solve": lambda lib, a, b: lib.linalg.solve(a, b, out=empty(lib, 0)),
        "solve_ex": lambda lib, a, b: lib.linalg.solve_ex(a, b, out=(empty(lib, 0), int32(lib))),
        "det": lambda lib, a, b: lib.linalg.det(a, out=empty(lib, 0)),
        "torch.det": lambda lib, a, b: lib.det(a, out=empty(lib, 0)),
        "slogdet": lambda lib, a, b: lib.linalg.slogdet(a, out=(empty(lib, 0), empty(lib, 0))),
        "lu_factor": lambda lib, a, b: lib.linalg.lu_factor(a, out=(empty(lib, 0), int32(lib))),
        "lu_factor_ex": lambda lib, a, b: lib.linalg.lu_factor_ex(
            a, out=(empty(lib, 0), int32(lib), int32(lib))
        ),
        "lu": lambda lib, a, b: lib.linalg.lu(a, out=(empty(lib, 0), empty(lib, 0), empty(lib, 0))),
        "lu_solve": lambda lib, a, b: lib.linalg.lu_solve(
            a.detach(), lib.tensor([1, 2], dtype=lib.int32), b.requires_grad_(), out=empty(lib, 0)
        ),
        "multi_dot": lambda lib, a, b: lib.linalg.multi_dot([a, a], out=empty(lib, 0)),
        "cross": lambda lib, a, b: lib.linalg.cross(
            lib.ones(3, requires_grad=True), lib.ones(3), out=lib.empty(0)
        ),
        "matrix_power": lambda lib, a, b: lib.linalg.matrix_power(a, 2, out=empty(lib, 0)),
    }, operands


@pytest.mark.parametrize("name", sorted(_out_calls()[0]))
def test_out_with_a_tensor_that_requires_grad_raises_as_pytorch(name):
    torch = pytest.importorskip("torch")
    calls, operands = _out_calls()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same_error(torch, lambda lib: calls[name](lib, *operands(lib)))


def test_out_writes_the_results_as_pytorch():
    torch = pytest.importorskip("torch")
    a = np.array([[[4.0, 1.0], [2.0, 3.0]]] * 2)
    results = []
    for lib in (gradienti, torch):
        inverse = lib.empty(2, 2, 2, dtype=lib.float64)
        returned = lib.linalg.inv(lib.tensor(a), out=inverse)
        assert returned is inverse
        pair = (lib.empty(2, dtype=lib.float64), lib.empty(2, dtype=lib.float64))
        logdet = lib.linalg.slogdet(lib.tensor(a), out=pair)
        factors = (lib.empty(0, dtype=lib.float64), lib.empty(0, dtype=lib.int32))
        lib.linalg.lu_factor(lib.tensor(a), out=factors)
        results.append((repr(inverse), repr(logdet), repr(factors)))
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "values",
    [
        [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]],
        [[[2.0, 0.0], [0.0, 2.0]], [[1.0, 2.0], [2.0, 4.0]]],
    ],
)
def test_det_double_backward_at_a_singular_matrix_as_pytorch(values):
    """A recorded gradient (create_graph=True) of det at a singular matrix: the cofactors by
    PyTorch's SVD form (a solve would fail), on the singular matrices of the batch only."""
    torch = pytest.importorskip("torch")
    shape = np.shape(values)
    weights = np.arange(1.0, np.size(values) + 1).reshape(shape)
    results = []
    for lib in (gradienti, torch):
        a = lib.tensor(values, dtype=lib.float64, requires_grad=True)
        upstream = lib.full(shape[:-2], 1.5, dtype=lib.float64)
        (first,) = lib.autograd.grad(lib.linalg.det(a), a, upstream, create_graph=True)
        (second,) = lib.autograd.grad((first * lib.tensor(weights)).sum(), a)
        results.append((first.detach().numpy(), second.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.linalg.inv(lib.ones(2, 0, 0)),
        lambda lib: lib.linalg.det(lib.ones(0, 3, 3)),
        lambda lib: lib.linalg.slogdet(lib.ones(0, 0)),
        lambda lib: lib.linalg.cholesky(lib.ones(0, 2, 2)),
        lambda lib: lib.linalg.solve(lib.ones(0, 0), lib.ones(0, 2)),
        lambda lib: lib.linalg.solve(lib.ones(2, 2), lib.ones(2, 0)),
        lambda lib: lib.linalg.solve_ex(lib.ones(3, 2, 2), lib.ones(3, 2, 0)),
        lambda lib: lib.linalg.lu_factor(lib.ones(0, 2, 2)),
        lambda lib: lib.linalg.lu(lib.ones(0, 0)),
        lambda lib: lib.linalg.lu(lib.ones(2, 3)),
        lambda lib: lib.linalg.lu(lib.ones(3, 2)),
        lambda lib: lib.linalg.lu_factor_ex(lib.tensor([[1.0, 2, 3], [2, 4, 7]])),
        lambda lib: lib.linalg.matrix_exp(lib.ones(0, 0)),
        lambda lib: lib.linalg.matrix_power(lib.ones(0, 0), 3),
        lambda lib: lib.linalg.solve_triangular(lib.ones(0, 0), lib.ones(0, 2), upper=True),
        lambda lib: lib.cholesky_inverse(lib.ones(0, 0)),
    ],
)
def test_empty_and_rectangular_inputs_as_pytorch(call):
    torch = pytest.importorskip("torch")
    ours, theirs = _both(torch, call)
    assert ours[0] == theirs[0]
    assert (repr(ours[1]) if ours[0] == "ok" else ours) == (
        repr(theirs[1]) if theirs[0] == "ok" else theirs
    )


@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 5, 3), (3, 1), (1, 3)])
def test_lu_of_a_rectangular_matrix_gradients_as_pytorch(shape):
    """PyTorch's wide and tall formulas (the op table's LU cases are square), first and
    second order, and against finite differences."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    a = rng.uniform(-2, 2, shape)

    def outcome(lib, function):
        x = lib.tensor(a, requires_grad=True)
        outputs = function(lib, x)
        total = sum(
            (out * lib.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(tuple(out.shape)))).sum()
            for out in outputs
        )
        (first,) = lib.autograd.grad(total, x, create_graph=True)
        (second,) = lib.autograd.grad((first * first).sum(), x)
        return first.detach().numpy(), second.numpy()

    for function in (
        lambda lib, x: [lib.linalg.lu_factor(x).LU],
        lambda lib, x: list(lib.linalg.lu(x)[1:]),
        lambda lib, x: [lib.linalg.lu(x).L],
        lambda lib, x: [lib.linalg.lu(x).U],
    ):
        for ours, theirs in zip(outcome(gradienti, function), outcome(torch, function)):
            np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    assert gradienti.autograd.gradcheck(
        lambda x: gradienti.linalg.lu_factor(x).LU, gradienti.tensor(a, requires_grad=True)
    )
    assert gradienti.autograd.gradgradcheck(
        lambda x: gradienti.linalg.lu(x).U, gradienti.tensor(a, requires_grad=True)
    )


def _factored(lib):
    return lib.linalg.lu_factor(lib.tensor([[4.0, 1.0], [2.0, 3.0]]))


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.linalg.lu_solve(
            _factored(lib).LU, _factored(lib).pivots.long(), lib.ones(2, 1)
        ),
        lambda lib: lib.linalg.lu_solve(*_factored(lib), lib.ones(3, 1)),
        lambda lib: lib.linalg.lu_solve(*_factored(lib), lib.ones(1, 3), left=False),
        lambda lib: lib.linalg.lu_solve(*_factored(lib), lib.ones(2)),
        lambda lib: lib.linalg.lu_solve(*_factored(lib), lib.ones(2, 1, dtype=lib.float64)),
        lambda lib: lib.linalg.lu_solve(lib.ones(2, 3), _factored(lib).pivots, lib.ones(2, 1)),
        lambda lib: lib.linalg.lu_solve(
            _factored(lib).LU, _factored(lib).pivots[:1], lib.ones(2, 1)
        ),
        lambda lib: lib.linalg.lu_solve(lib.ones(3), _factored(lib).pivots, lib.ones(2, 1)),
        lambda lib: lib.linalg.lu_solve(
            _factored(lib).LU.long(), _factored(lib).pivots, lib.ones(2, 1).long()
        ),
        lambda lib: lib.linalg.lu_solve(
            _factored(lib).LU.expand(3, 2, 2), _factored(lib).pivots, lib.ones(2, 1)
        ),
    ],
)
def test_lu_solve_errors_as_pytorch(call):
    torch = pytest.importorskip("torch")
    _same_error(torch, call)
