"""cdist against PyTorch: values, gradients (non-uniform upstream), the nodes recorded (its
matrix-product path for p = 2 and more than 25 rows included), errors; double backward and
the forward-mode tangent against finite differences, where PyTorch's direct path has none to
compare; vmap against a loop and torch.func.vmap. (Not in the op table, which compares double
backward with PyTorch's.)"""

import numpy as np
import pytest
from gradcheck_helpers import gradcheck, gradgradcheck
from op_cases import ANY, Case
from shape_outcomes import RNG, A, _a, same
from test_forward_ad_ops import check_tangent_against_finite_differences
from test_vmap_ops import _compare, _layouts, _loop, _samples, _vmapped

import gradienti
from gradienti.batching import FALLBACKS

torch = pytest.importorskip("torch")


P_VALUES = (0.0, 0.5, 1.0, 2.0, 3.0, float("inf"))
CDIST_SHAPES = (((4, 3), (5, 3)), ((2, 4, 3), (5, 3)), ((2, 1, 4, 3), (3, 5, 3)), ((1, 3), (1, 3)))


def _cdist_outputs(lib, p, shapes, dtype):
    x1, x2 = (
        lib.tensor(np.random.default_rng(1).standard_normal(shape), dtype=getattr(lib, dtype))
        for shape in shapes
    )
    x1.requires_grad_()
    x2.requires_grad_()
    out = lib.cdist(x1, x2, p=p)
    upstream = lib.tensor(
        np.random.default_rng(2).uniform(0.5, 1.5, tuple(out.shape)), dtype=out.dtype
    )
    grads = lib.autograd.grad(out, (x1, x2), upstream)
    return out, grads


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", CDIST_SHAPES, ids=str)
@pytest.mark.parametrize("p", P_VALUES)
def test_cdist_values_and_gradients_are_pytorchs(p, shapes, dtype):
    (ours, our_grads), (theirs, their_grads) = (
        _cdist_outputs(lib, p, shapes, dtype) for lib in (gradienti, torch)
    )
    assert str(ours.dtype) == str(theirs.dtype)
    assert type(ours.grad_fn).__name__ == theirs.grad_fn.name() == "CdistBackward0"
    tol = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-12}
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), **tol)
    for mine, expected in zip(our_grads, their_grads):
        assert mine.shape == expected.shape and str(mine.dtype) == str(expected.dtype)
        np.testing.assert_allclose(mine.numpy(), expected.numpy(), **tol)


@pytest.mark.parametrize("p", P_VALUES)
def test_cdist_gradient_at_equal_rows_is_pytorchs(p):
    def grads(lib):
        x1 = lib.tensor([[0.0, 1.0], [2.0, 2.0]], requires_grad=True)
        x2 = lib.tensor([[0.0, 1.0], [1.0, 1.0], [2.0, -1.0]], requires_grad=True)
        return lib.autograd.grad(lib.cdist(x1, x2, p=p).sum(), (x1, x2))

    for mine, expected in zip(grads(gradienti), grads(torch)):
        np.testing.assert_allclose(mine.numpy(), expected.numpy(), rtol=1e-6, atol=1e-7)


# p = 0 counts nonzero differences (zero gradient); p = 1 and ∞ have kinks, kept away from by
# the random inputs (no equal components, one largest component).
@pytest.mark.parametrize("p", (0.5, 1.0, 2.0, 3.0, float("inf")))
def test_cdist_against_finite_differences_twice(p):
    arrays = [RNG.standard_normal((2, 4, 3)), RNG.standard_normal((5, 3))]

    def fn(x1, x2):
        return gradienti.cdist(x1, x2, p=p)

    gradcheck(fn, arrays)
    gradgradcheck(fn, arrays)


CDIST_CASES = [
    Case(f"cdist p={p}", lambda lib, x, y, p=p: lib.cdist(x, y, p=p), ((2, 4, 3), (5, 3)), ANY)
    for p in (1.0, 2.0, 3.0, float("inf"))
]


@pytest.mark.parametrize("case", CDIST_CASES, ids=lambda case: case.name)
def test_cdist_tangent_against_finite_differences(case):
    check_tangent_against_finite_differences(case)


@pytest.mark.parametrize("case", CDIST_CASES, ids=lambda case: case.name)
def test_cdist_under_vmap_matches_a_loop_and_torch_without_fallback(case):
    stacked = _samples(case)
    for name, in_dims in _layouts(case):
        before = sum(FALLBACKS.values())
        ours = _vmapped(gradienti, gradienti.vmap, case, stacked, in_dims)
        assert sum(FALLBACKS.values()) == before, f"fell back ({name})"
        _compare(f"vmap ({name}) vs loop", case, ours, _loop(case, stacked, in_dims))
        theirs = _vmapped(torch, torch.func.vmap, case, stacked, in_dims)
        _compare(f"vmap ({name}) vs torch", case, ours, theirs)


# p = 2 with more than 25 rows (or when asked): PyTorch's matrix-product path and its nodes.
EUCLIDEAN_SHAPES = (
    ((30, 3), (5, 3), None),
    ((2, 30, 3), (1, 5, 3), None),
    ((1, 30, 3), (5, 3), None),
    ((3, 2, 4, 3), (2, 26, 3), None),
    ((4, 3), (5, 3), "use_mm_for_euclid_dist"),
    ((2, 4, 3), (2, 5, 3), "use_mm_for_euclid_dist"),
)


def _graph(node, name_of):
    if node is None:
        return None
    return (name_of(node), [_graph(child, name_of) for child, _ in node.next_functions])


def _euclidean_outcome(lib, shape1, shape2, mode):
    rng = np.random.default_rng(4)
    x1 = lib.tensor(rng.standard_normal(shape1), requires_grad=True)
    x2 = lib.tensor(rng.standard_normal(shape2), requires_grad=True)
    out = lib.cdist(x1, x2, **({} if mode is None else {"compute_mode": mode}))
    upstream = lib.tensor(rng.uniform(0.5, 1.5, tuple(out.shape)))
    first = lib.autograd.grad(out, (x1, x2), upstream, create_graph=True)
    second = lib.autograd.grad((first[0] * first[0]).sum() + (first[1] ** 3).sum(), (x1, x2))
    name_of = (lambda n: type(n).__name__) if lib is gradienti else (lambda n: n.name())
    graph = _graph(out.grad_fn, lambda n: name_of(n).split("::")[-1])
    return graph, [t.detach().numpy() for t in (out, *first, *second)]


@pytest.mark.parametrize("shape1, shape2, mode", EUCLIDEAN_SHAPES, ids=str)
def test_cdist_matrix_product_path_records_pytorchs_nodes_and_values(shape1, shape2, mode):
    our_graph, ours = _euclidean_outcome(gradienti, shape1, shape2, mode)
    their_graph, theirs = _euclidean_outcome(torch, shape1, shape2, mode)
    assert our_graph == their_graph
    assert "EuclideanDistBackward0" in str(our_graph)
    for mine, expected in zip(ours, theirs):
        np.testing.assert_allclose(mine, expected, rtol=1e-9, atol=1e-10)


def test_cdist_matrix_product_path_against_finite_differences_twice():
    arrays = [RNG.standard_normal((2, 27, 3)), RNG.standard_normal((4, 3))]
    gradcheck(gradienti.cdist, arrays)
    gradgradcheck(gradienti.cdist, arrays)
    check_tangent_against_finite_differences(EUCLIDEAN_CASE)


EUCLIDEAN_CASE = Case("cdist 27 rows", lambda lib, x, y: lib.cdist(x, y), ((27, 3), (4, 3)), ANY)


def test_cdist_matrix_product_path_under_vmap_matches_a_loop_and_torch():
    test_cdist_under_vmap_matches_a_loop_and_torch_without_fallback(EUCLIDEAN_CASE)


CDIST_ERRORS = {
    "1-d x1": lambda lib: lib.cdist(lib.ones(3), lib.ones(2, 3)),
    "1-d x2": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(3)),
    "columns": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 4)),
    "integer": lambda lib: lib.cdist(lib.ones(2, 3, dtype=lib.int64), lib.ones(2, 3)),
    "mixed float": lambda lib: lib.cdist(lib.ones(2, 3, dtype=lib.float64), lib.ones(2, 3)),
    "mixed float 2": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 3, dtype=lib.float64)),
    "negative p": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 3), p=-1.0),
    "nan p": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 3), p=float("nan")),
    "compute_mode": lambda lib: lib.cdist(lib.ones(2, 3), lib.ones(2, 3), compute_mode="fast"),
    "batch": lambda lib: lib.cdist(lib.ones(2, 2, 3), lib.ones(3, 2, 3)),
}


@pytest.mark.parametrize("name", CDIST_ERRORS)
def test_cdist_bad_input_raises_pytorchs_error(name):
    assert same(CDIST_ERRORS[name])[0] != "ok"


@pytest.mark.parametrize(
    "mode", ["use_mm_for_euclid_dist_if_necessary", "donot_use_mm_for_euclid_dist", None]
)
def test_cdist_compute_modes_and_empty_inputs(mode):
    same(lambda lib: lib.cdist(_a(lib, A[0]), _a(lib, A[1]), compute_mode=mode))
    same(lambda lib: lib.cdist(lib.zeros(0, 3), lib.ones(2, 3)))
    same(lambda lib: lib.cdist(lib.zeros(4, 0), lib.ones(2, 0)))
