"""Review of issue 14's linalg decompositions and norms: regressions found by comparing with
PyTorch where tests/test_linalg_decompose.py and the op table did not look (torch.norm's
matrix orders, tolerances that broadcast pinv's batch, ...)."""

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(1414)
INF = float("inf")


def _outcome(call, lib, array, weight=None):
    """The value, and the gradient under a non-uniform upstream gradient (or the error)."""
    x = lib.tensor(array, requires_grad=True)
    try:
        y = call(lib, x)
    except Exception as error:  # noqa: BLE001 - the outcome is compared
        return type(error).__name__, str(error)
    if weight is None:
        weight = np.random.default_rng(7).standard_normal(tuple(y.shape))
    (grad,) = lib.autograd.grad((y * lib.tensor(weight, dtype=y.dtype)).sum(), x)
    return tuple(y.shape), str(y.dtype), y.detach().numpy(), grad.numpy()


def _assert_same(call, array):
    expected = _outcome(call, torch, array)
    actual = _outcome(call, gradienti, array)
    assert len(actual) == len(expected), (actual, expected)
    if len(expected) == 2:
        assert actual == expected
        return
    assert actual[:2] == expected[:2]
    np.testing.assert_allclose(actual[2], expected[2], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(actual[3], expected[3], rtol=1e-9, atol=1e-12)


# -------------------------------------------------------- torch.norm's matrix orders
MATRIX_3D = RNG.standard_normal((2, 3, 4))

TORCH_NORM_CALLS = {
    "nuc": lambda lib, x: lib.norm(x, p="nuc"),
    "nuc keepdim": lambda lib, x: lib.norm(x, p="nuc", keepdim=True),
    "nuc dim": lambda lib, x: lib.norm(x, p="nuc", dim=(0, 2)),
    "nuc dim keepdim": lambda lib, x: lib.norm(x, "nuc", (2, 1), True),
    "nuc method": lambda lib, x: x.norm(p="nuc", dim=[-1, -2]),
    "nuc method keepdim": lambda lib, x: x.norm("nuc", (1, 2), True),
    "nuc of a matrix": lambda lib, x: lib.norm(x[0], p="nuc"),
    "nuc float32 dtype": lambda lib, x: lib.norm(x.float(), "nuc", (1, 2), dtype=lib.float64),
    "fro over three dims": lambda lib, x: lib.norm(x, p="fro", dim=(0, 1, 2)),
    "fro over two dims": lambda lib, x: lib.norm(x, p="fro", dim=(0, 2)),
    "fro over one dim": lambda lib, x: x.norm("fro", 1, True),
    "2 over two dims (a vector norm)": lambda lib, x: lib.norm(x, p=2, dim=(0, 1)),
    "inf over two dims (a vector norm)": lambda lib, x: lib.norm(x, p=INF, dim=(1, 2)),
    "unknown order": lambda lib, x: lib.norm(x, p="bad"),
    "unknown order with dims": lambda lib, x: lib.norm(x, p="bad", dim=(0, 1)),
    "nuc of a vector": lambda lib, x: lib.norm(x[0, 0], p="nuc"),
    "nuc over one dim": lambda lib, x: lib.norm(x, p="nuc", dim=1),
    "nuc over a repeated dim": lambda lib, x: lib.norm(x, p="nuc", dim=(1, 1)),
}


@pytest.mark.parametrize("name", TORCH_NORM_CALLS)
def test_torch_norm_routes_matrix_orders_to_matrix_norm_as_pytorch(name):
    _assert_same(TORCH_NORM_CALLS[name], MATRIX_3D)


def test_torch_norm_out_argument_as_pytorch():
    outcomes = []
    for lib in (torch, gradienti):
        x = lib.tensor(MATRIX_3D)
        out = lib.empty(0, dtype=lib.float64)
        returned = lib.norm(x, p="nuc", dim=(1, 2), out=out)
        vector_out = lib.empty(3, dtype=lib.float64)
        lib.norm(x, p=3, dim=(0, 2), out=vector_out)
        outcomes.append((returned is out, out.numpy().copy(), vector_out.numpy().copy()))
    assert outcomes[0][0] and outcomes[1][0]
    np.testing.assert_allclose(outcomes[1][1], outcomes[0][1], rtol=1e-12)
    np.testing.assert_allclose(outcomes[1][2], outcomes[0][2], rtol=1e-12)


# ------------------------------------------------------ pinv's broadcast tolerances
SYMMETRIC = np.array([[-3.0, 1.0, 0.0], [1.0, -2.0, 0.5], [0.0, 0.5, 0.001]])
SYMMETRIC_BATCH = np.stack([SYMMETRIC, 2 * SYMMETRIC])


@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("atol", [[[0.01], [10.0]], [[0.01, 10.0]], [0.01, 10.0]])
def test_pinv_gradient_is_summed_to_the_input_when_tolerances_broadcast_its_batch(hermitian, atol):
    # atol of shape (2, 1) makes A⁺ (2, 2, 3, 3) from A (2, 3, 3): A's gradient is (2, 3, 3).
    def call(lib, x):
        return lib.linalg.pinv(x, atol=lib.tensor(atol), hermitian=hermitian)

    _assert_same(call, SYMMETRIC_BATCH)


# ------------------------------------------- vector_norm's recorded derivative at zero
@pytest.mark.parametrize("ord", [0.5, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 7.0])
@pytest.mark.parametrize("function", ["vector_norm", "torch.norm"])
def test_second_derivative_of_a_p_norm_at_a_zero_vector_as_pytorch(ord, function):
    # d/dx of (d‖x‖ₚ/dx · w) where a row of x is zero: for p >= 3 PyTorch masks g / ‖x‖^(p-1)
    # at the zero norm, so the NaN its own derivative sends there is masked too (it was NaN
    # here); below 3 PyTorch's is NaN there.
    rows = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, -3.0]])
    weight = np.random.default_rng(3).standard_normal(rows.shape)
    results = []
    for lib in (torch, gradienti):
        x = lib.tensor(rows, requires_grad=True)
        if function == "vector_norm":
            y = lib.linalg.vector_norm(x, ord, dim=-1)
        else:
            y = lib.norm(x, p=ord, dim=1)
        (first,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (second,) = lib.autograd.grad((first * lib.tensor(weight)).sum(), x)
        results.append((first.detach().numpy(), second.numpy()))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-10, atol=1e-12)
    assert np.isnan(results[1][1][0]).all() == (ord < 3)


# ------------------------------------------------------------- norms of nothing
def _empty_outcome(lib, call):
    try:
        result = call(lib)
    except Exception as error:  # noqa: BLE001 - the outcome is compared
        return type(error).__name__, str(error)
    return tuple(result.shape), str(result.dtype), type(result.grad_fn).__name__, result.tolist()


@pytest.mark.parametrize("ord", [-1, -1.0, -0.5, -2, -INF, INF, 0.5, 0, 2])
@pytest.mark.parametrize("dim", [None, 0, (0, 1), 1])
def test_vector_norm_of_negative_order_over_an_empty_dim_raises_as_pytorch(ord, dim):
    # PyTorch refuses every negative order there (no identity), not only -inf (was inf here).
    def call(lib):
        return lib.linalg.vector_norm(lib.ones(0, 3, requires_grad=True), ord, dim=dim)

    assert _empty_outcome(gradienti, call) == _empty_outcome(torch, call)


def test_torch_norm_of_negative_order_of_an_empty_tensor_raises_as_pytorch():
    def call(lib):
        return lib.norm(lib.ones(0, 3), p=-1)

    assert _empty_outcome(gradienti, call) == _empty_outcome(torch, call)


@pytest.mark.parametrize("ord", [INF, -INF, 1, -1, 2, -2, "nuc", "fro"])
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (2, 0, 3), (2, 3, 0), (0, 3, 4)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_matrix_norm_of_empty_matrices_as_pytorch(ord, shape, keepdim):
    # PyTorch's largest of nothing (1, inf and 2 over an empty dim) is 0 without a graph;
    # the smallest of nothing raises amin's IndexError (amax's was raised here).
    def call(lib):
        return lib.linalg.matrix_norm(lib.ones(*shape, requires_grad=True), ord, keepdim=keepdim)

    assert _empty_outcome(gradienti, call) == _empty_outcome(torch, call)


# ------------------------------------------- a saved factor modified in place
MODIFIED_OUTPUTS = {
    "svd U": lambda lib, x: lib.linalg.svd(x).U,
    "svd S": lambda lib, x: lib.linalg.svd(x).S,
    "svdvals": lambda lib, x: lib.linalg.svdvals(x),
    "eigh eigenvalues": lambda lib, x: lib.linalg.eigh(x).eigenvalues,
    "eigvalsh": lambda lib, x: lib.linalg.eigvalsh(x),
    "qr R": lambda lib, x: lib.linalg.qr(x).R,
    "lstsq solution": lambda lib, x: lib.linalg.lstsq(x, x).solution,
}


@pytest.mark.parametrize("name", MODIFIED_OUTPUTS)
def test_a_saved_factor_modified_in_place_raises_pytorchs_error(name):
    # The message named a multi-output node's saved output by an input's edge (IndexError).
    matrices = RNG.standard_normal((2, 3, 3))
    matrices = matrices + matrices.swapaxes(-1, -2)

    def call(lib):
        x = lib.tensor(matrices, requires_grad=True)
        factor = MODIFIED_OUTPUTS[name](lib, x * 1)
        factor.mul_(2)
        factor.sum().backward()

    outcomes = []
    for lib in (torch, gradienti):
        with pytest.raises(RuntimeError) as caught:
            call(lib)
        outcomes.append(str(caught.value))
    assert outcomes[1] == outcomes[0]


# ------------------------------------------------------------------ out='s dtypes
OUT_CALLS = {
    "matrix_norm fro": lambda lib, x, out: lib.linalg.matrix_norm(x, out=out),
    "matrix_norm nuc": lambda lib, x, out: lib.linalg.matrix_norm(x, "nuc", out=out),
    "matrix_norm 1": lambda lib, x, out: lib.linalg.matrix_norm(x, 1, out=out),
    "linalg.norm": lambda lib, x, out: lib.linalg.norm(x, out=out),
    "linalg.norm 2 over dims": lambda lib, x, out: lib.linalg.norm(x, 2, dim=(1, 2), out=out),
    "torch.norm nuc": lambda lib, x, out: lib.norm(x, "nuc", dim=(1, 2), out=out),
    "torch.norm": lambda lib, x, out: lib.norm(x, out=out),
    "pinv": lambda lib, x, out: lib.linalg.pinv(x, out=out),
    "pinv hermitian": lambda lib, x, out: lib.linalg.pinv(x, hermitian=True, out=out),
}


@pytest.mark.parametrize("dtype", ["float32", "int64", "bool", "float64"])
@pytest.mark.parametrize("name", OUT_CALLS)
def test_out_of_another_dtype_as_pytorch(name, dtype):
    # matrix_norm/norm wrote a float64 result into an int64 (truncated) or float32 out where
    # PyTorch refuses; pinv refused a float32 out that PyTorch fills.
    matrices = np.random.default_rng(2).standard_normal((2, 3, 3))
    outcomes = []
    for lib in (torch, gradienti):
        out = lib.zeros(2, dtype=getattr(lib, dtype))
        try:
            returned = OUT_CALLS[name](lib, lib.tensor(matrices), out)
        except RuntimeError as error:
            outcomes.append((str(error), out.tolist()))
            continue
        assert returned is out
        outcomes.append((str(out.dtype), tuple(out.shape), out.double().numpy().round(5).tolist()))
    assert outcomes[1] == outcomes[0]


# ------------------------------------------------------- lstsq's gradient under rcond
@pytest.mark.parametrize("driver", ["gelsd", "gelss", "gelsy"])
@pytest.mark.parametrize("rcond", [None, 0.05, 0.5])
@pytest.mark.parametrize("create_graph", [False, True])
def test_lstsq_gradient_reads_the_default_pseudo_inverse_as_pytorch(driver, rcond, create_graph):
    # PyTorch's derivative takes linalg.pinv(A) at its default tolerance whatever rcond cut
    # off; the plain backward read the rcond-truncated one (the recorded one did not).
    rank_deficient = np.array([[1.0, 2, 3], [2, 4, 6], [1, 1, 1], [0, 1, -1], [1, 0, 0]])
    ill_conditioned = np.random.default_rng(0).standard_normal((5, 3)) * [1.0, 1.0, 0.1]
    right = np.arange(10.0).reshape(5, 2)
    weight = np.array([[1.0, -2.0]])
    for matrix in (rank_deficient, ill_conditioned):
        results = []
        for lib in (torch, gradienti):
            a = lib.tensor(matrix, requires_grad=True)
            b = lib.tensor(right, requires_grad=True)
            fit = lib.linalg.lstsq(a, b, rcond=rcond, driver=driver)
            loss = (fit.solution * lib.tensor(weight)).sum() + fit.residuals.sum()
            grads = lib.autograd.grad(loss, (a, b), create_graph=create_graph)
            results.append([grad.detach().numpy() for grad in grads])
        for actual, expected in zip(results[1], results[0]):
            np.testing.assert_allclose(actual, expected, rtol=1e-8, atol=1e-10)


# ------------------------------------------------------------- vector_norm's ord
ORDS = {
    "True": lambda lib: True,
    "False": lambda lib: False,
    "0-d float tensor": lambda lib: lib.tensor(2.0),
    "0-d integer tensor": lambda lib: lib.tensor(3),
    "1-d tensor": lambda lib: lib.tensor([2.0]),
    "0-d tensor requiring grad": lambda lib: lib.tensor(2.0, requires_grad=True),
    "str": lambda lib: "fro",
    "None": lambda lib: None,
}


@pytest.mark.parametrize("name", ORDS)
def test_vector_norm_takes_ord_as_pytorchs_parser_takes_a_number(name):
    # A bool and a 0-d tensor without grad are Numbers to PyTorch (they raised TypeError).
    outcomes = []
    for lib in (torch, gradienti):
        x = lib.tensor([1.0, -2.0, 0.0, 3.0])
        try:
            outcomes.append(lib.linalg.vector_norm(x, ORDS[name](lib)).item())
        except TypeError as error:
            outcomes.append(str(error))
    if isinstance(outcomes[0], float):
        assert outcomes[1] == pytest.approx(outcomes[0], rel=1e-6)
    else:
        assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize("dtype", [None, "float64"])
def test_forward_tangent_of_the_zero_norm_is_pytorchs_zeros(dtype):
    # ord 0 counts the nonzero elements: PyTorch's tangent is zeros (it was None here).
    rows = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, -3.0]], dtype=np.float32)
    tangents = np.array([[1.0, -1.0, 2.0], [0.5, 0.5, 1.0]], dtype=np.float32)
    outcomes = []
    for lib in (torch, gradienti):
        with lib.autograd.forward_ad.dual_level():
            dual = lib.autograd.forward_ad.make_dual(lib.tensor(rows), lib.tensor(tangents))
            options = {} if dtype is None else {"dtype": getattr(lib, dtype)}
            norm = lib.linalg.vector_norm(dual, 0, dim=1, **options)
            tangent = lib.autograd.forward_ad.unpack_dual(norm).tangent
            outcomes.append((str(tangent.dtype), tuple(tangent.shape), tangent.tolist()))
    assert outcomes[1] == outcomes[0]


PINV_CALLS = {
    "rcond with atol": lambda lib: lib.linalg.pinv(lib.ones(2, 2), 0.1, atol=0.1),
    "rcond with rtol": lambda lib: lib.linalg.pinv(lib.ones(2, 2), 0.1, rtol=lib.tensor(0.5)),
    "tensor rcond with atol": lambda lib: lib.linalg.pinv(lib.ones(2, 2), lib.tensor(0.1), atol=1),
}


@pytest.mark.parametrize("name", PINV_CALLS)
def test_pinv_refuses_rcond_with_a_tolerance_as_pytorchs_parser(name):
    # rcond overrode rtol (and atol was used beside it) where PyTorch has no such signature.
    messages = []
    for lib in (torch, gradienti):
        with pytest.raises(TypeError) as caught:
            PINV_CALLS[name](lib)
        messages.append(str(caught.value))
    assert messages[1] == messages[0]
