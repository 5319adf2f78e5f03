"""Linear algebra beyond the op-case table: einsum's cases (checked like the table's, except
for the graph), matmul's graph for every requires_grad and memory layout, error texts and
dtypes as PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck_helpers import gradcheck, gradgradcheck
from op_cases_linalg import EINSUM_CASES
from same_outcome import pytorch_text

import gradienti
from gradienti.ops.linalg import MmBackward0


def _params(cases):
    return [pytest.param(c, id=c.name) for c in cases]


def _np(t):
    t = t.detach()
    return t.numpy(force=True) if type(t).__module__.startswith("torch") else t.numpy()


def _name(node):
    return node.name().split("::")[-1]


def _graph(node):
    if node is None:
        return None
    return (_name(node), [_graph(child) for child, _ in node.next_functions])


# ------------------------------------------------------------------------------ einsum
@pytest.mark.parametrize("case", _params(EINSUM_CASES))
def test_einsum_gradcheck(case):
    gradcheck(lambda *xs: case.fn(gradienti, *xs), case.arrays())


@pytest.mark.parametrize("case", _params(EINSUM_CASES))
def test_einsum_gradgradcheck(case):
    gradgradcheck(lambda *xs: case.fn(gradienti, *xs), case.arrays())


def _einsum_run(lib, case):
    """Forward, first derivatives (non-uniform v) and second derivatives (weights w)."""
    xs = [lib.tensor(a, requires_grad=True) for a in case.arrays(np.float32)]
    out = case.fn(lib, *xs)
    rng = np.random.default_rng(1)
    v = lib.tensor(rng.uniform(0.5, 1.5, tuple(out.shape)).astype(np.float32))
    ws = [lib.tensor(rng.uniform(0.5, 1.5, tuple(x.shape)).astype(np.float32)) for x in xs]
    firsts = lib.autograd.grad(out, xs, grad_outputs=v, create_graph=True)
    terms = [(g * w).sum() for g, w in zip(firsts, ws) if g.requires_grad]
    seconds = [np.zeros(tuple(x.shape), np.float32) for x in xs]
    if terms:
        total = terms[0]
        for term in terms[1:]:
            total = total + term
        grads = lib.autograd.grad(total, xs, allow_unused=True)
        seconds = [s if g is None else _np(g) for s, g in zip(seconds, grads)]
    return out, [_np(g) for g in firsts], seconds


@pytest.mark.parametrize("case", _params(EINSUM_CASES))
def test_einsum_against_torch(case):
    torch = pytest.importorskip("torch")
    ours, our_firsts, our_seconds = _einsum_run(gradienti, case)
    theirs, their_firsts, their_seconds = _einsum_run(torch, case)
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-5, atol=1e-6)
    for kind, mine, reference in (
        ("gradient", our_firsts, their_firsts),
        ("double backward", our_seconds, their_seconds),
    ):
        for i, (a, b) in enumerate(zip(mine, reference)):
            assert a.dtype == b.dtype and a.shape == b.shape, f"{kind} of input {i}"
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5, err_msg=f"{kind} of input {i}")


def test_einsum_is_one_node():
    x = gradienti.randn(2, 3, requires_grad=True)
    y = gradienti.randn(3, 4, requires_grad=True)
    out = gradienti.einsum("ij,jk->ik", x, y)
    assert _graph(out.grad_fn) == (
        "EinsumBackward",
        [("AccumulateGrad", []), ("AccumulateGrad", [])],
    )


def test_einsum_of_a_constant_has_no_node_and_copies():
    base = gradienti.tensor([[1.0, 2.0], [3.0, 4.0]])
    transposed = gradienti.einsum("ij->ji", base)
    assert transposed.grad_fn is None and not transposed.requires_grad
    transposed.numpy()[0, 0] = 100.0  # a copy, not NumPy's view of ``base``
    assert base.numpy()[0, 0] == 1.0


def test_einsum_mixed_dtypes_promote_only_without_a_contraction():
    x32 = gradienti.ones(3)
    x64 = gradienti.ones(4, dtype=gradienti.float64)
    assert gradienti.einsum("i,j->ij", x32, x64).dtype == gradienti.float64
    with pytest.raises(RuntimeError, match="^expected scalar type Float but found Double$"):
        gradienti.einsum("i,i->", x32, gradienti.ones(3, dtype=gradienti.float64))


def test_einsum_mixed_dtypes_derivatives_against_torch():
    """The recorded VJP contracts a float64 gradient with a float32 operand: it promotes."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = lib.tensor([1.5, 0.25], dtype=lib.float64, requires_grad=True)
        out = lib.einsum("i,j->ij", x * x, y * y)
        gx, gy = lib.autograd.grad(out, (x, y), lib.ones_like(out), create_graph=True)
        second = lib.autograd.grad((gx * gx).sum() + gy.sum(), (x, y))
        results.append([(str(t.dtype), _np(t)) for t in (gx, gy, *second)])
    for (our_dtype, ours), (their_dtype, theirs) in zip(*results):
        assert our_dtype == their_dtype
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)


def test_einsum_int_operands():
    a = gradienti.tensor([[1, 2], [3, 4]])
    out = gradienti.einsum("ij,jk->ik", a, a)
    assert out.dtype == gradienti.int64
    assert out.tolist() == [[7, 10], [15, 22]]


# ------------------------------------------------------------------------------ matmul graph
_PAIRS = [
    ((3, 4), (4, 5)),
    ((4,), (4, 5)),
    ((2, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (4, 5)),
    ((3, 4), (2, 4, 5)),
    ((2, 1, 3, 4), (5, 4, 6)),
    ((2, 3, 4), (4,)),
    ((4,), (2, 4, 5)),
    ((1, 3, 4), (2, 4, 5)),
    ((2, 3, 4), (1, 4, 5)),
    ((2, 3, 4), (2, 1, 4, 5)),
    ((4,), (3, 2, 4, 5)),
    ((1, 3, 4), (1, 4, 5)),
    ((2, 3, 1), (1, 5)),
    ((1, 4), (2, 4, 1)),
    ((2, 0, 4), (4, 3)),
    ((1, 1, 3, 4), (4, 2)),
]
# (shape a, shape b, axes order of a's memory, of b's): non-contiguous inputs
_LAYOUTS = [
    ((2, 3, 4), (4, 5), (0, 2, 1), None),
    ((2, 3, 4), (4,), (1, 0, 2), None),
    ((4, 5), (2, 5, 3), None, (0, 2, 1)),
    ((4,), (2, 4, 3), None, (1, 0, 2)),
    ((2, 3, 4), (2, 4, 5), (1, 0, 2), (0, 2, 1)),
]
_GRADS = [(True, True), (True, False), (False, True)]


def _laid_out(lib, array, axes, requires_grad):
    """``array`` as a tensor whose memory is in ``axes`` order (a strided view)."""
    if axes is not None:
        array = np.ascontiguousarray(array.transpose(np.argsort(axes))).transpose(axes)
    t = lib.from_numpy(array)
    return t.requires_grad_() if requires_grad else t


def _matmul_run(lib, a, b, a_axes, b_axes, grads):
    rng = np.random.default_rng(0)
    x = _laid_out(lib, rng.uniform(-2, 2, a), a_axes, grads[0])
    y = _laid_out(lib, rng.uniform(-2, 2, b), b_axes, grads[1])
    out = x @ y
    v = lib.tensor(np.random.default_rng(1).uniform(0.5, 1.5, tuple(out.shape)))
    wrt = [t for t in (x, y) if t.requires_grad]
    return out, [_np(g) for g in lib.autograd.grad(out, wrt, grad_outputs=v)]


@pytest.mark.parametrize("grads", _GRADS, ids=["both", "a only", "b only"])
@pytest.mark.parametrize(
    ("a", "b", "a_axes", "b_axes"),
    [(a, b, None, None) for a, b in _PAIRS] + _LAYOUTS,
    ids=[f"{a}@{b}" for a, b in _PAIRS] + [f"{a}@{b} strided" for a, b, _, _ in _LAYOUTS],
)
def test_matmul_graph_and_gradients_against_torch(a, b, a_axes, b_axes, grads):
    """PyTorch's choice of path depends on requires_grad and strides; so does ours."""
    torch = pytest.importorskip("torch")
    ours, our_grads = _matmul_run(gradienti, a, b, a_axes, b_axes, grads)
    theirs, their_grads = _matmul_run(torch, a, b, a_axes, b_axes, grads)
    assert _graph(ours.grad_fn) == _graph(theirs.grad_fn)
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-12, atol=1e-12)
    for mine, reference in zip(our_grads, their_grads):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)


def test_matmul_graphs_by_name():
    """The final nodes, without PyTorch at hand."""
    x = gradienti.randn(2, 3, 4, requires_grad=True)
    assert _graph((x @ gradienti.randn(2, 4, 5, requires_grad=True)).grad_fn)[0] == (
        "UnsafeViewBackward0"
    )
    assert (x @ gradienti.randn(4, 5)).grad_fn.name() == "UnsafeViewBackward0"
    m = gradienti.randn(3, 4, requires_grad=True)
    v = gradienti.randn(4, requires_grad=True)
    assert m.mm(gradienti.randn(4, 4)).matmul(v).grad_fn.name() == "MvBackward0"
    assert (v @ v).grad_fn.name() == "DotBackward0"
    assert (v @ gradienti.randn(4, 2)).grad_fn.name() == "SqueezeBackward4"


def test_broadcast_batch_gradient_is_summed():
    a = gradienti.ones(2, 1, 3, 4, requires_grad=True)
    b = gradienti.ones(5, 4, 6, requires_grad=True)
    (a @ b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 1, 3, 4), 5 * 6.0))
    np.testing.assert_array_equal(b.grad.numpy(), np.full((5, 4, 6), 2 * 3.0))


def test_matmul_without_graph_is_one_product():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 1, 3, 4)), rng.standard_normal((5, 4, 6))
    with gradienti.no_grad():
        out = gradienti.tensor(a, requires_grad=True) @ gradienti.tensor(b)
    assert out.grad_fn is None and not out.requires_grad
    np.testing.assert_allclose(out.numpy(), a @ b, rtol=1e-12)
    assert (gradienti.tensor(a) @ gradienti.tensor(b)).grad_fn is None


def test_mm_vjp_skips_an_input_without_gradient():
    a = gradienti.randn(3, 4, requires_grad=True)
    out = a @ gradienti.randn(4, 2)
    node = out.grad_fn
    assert type(node) is MmBackward0
    grad_a, grad_b = node.backward(node, np.ones((3, 2)))
    assert grad_b is None and grad_a.shape == (3, 4)


def test_numpy_matmul_of_tensors_is_recorded():
    a = gradienti.randn(2, 3, requires_grad=True)
    b = gradienti.randn(3, 2, requires_grad=True)
    assert np.matmul(a, b).grad_fn.name() == "MmBackward0"


# ------------------------------------------------------------------------------ errors
def _t(lib, *shape, dtype=None, requires_grad=False):
    values = np.arange(int(np.prod(shape))).reshape(shape) % 5 - 2
    dtype = getattr(lib, dtype or "float32")
    return lib.tensor(values, dtype=dtype, requires_grad=requires_grad)


ERRORS = [
    ("mm shapes", lambda l: _t(l, 2, 3) @ _t(l, 4, 5), RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)"),
    ("mv shapes", lambda l: _t(l, 2, 3) @ _t(l, 4), RuntimeError,
     "size mismatch, got input (2), mat (2x3), vec (4)"),
    ("vector@matrix shapes", lambda l: _t(l, 3) @ _t(l, 4, 5), RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied (1x3 and 4x5)"),
    ("dot shapes", lambda l: _t(l, 3) @ _t(l, 4), RuntimeError,
     "inconsistent tensor size, expected tensor [3] and src [4] to have the same number of "
     "elements, but got 3 and 4 elements respectively"),
    ("batched shapes", lambda l: _t(l, 2, 2, 3) @ _t(l, 2, 4, 5), RuntimeError,
     "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4]."),
    ("batches", lambda l: _t(l, 2, 2, 3) @ _t(l, 3, 3, 5), RuntimeError,
     "The size of tensor a (2) must match the size of tensor b (3) at non-singleton dimension 0"),
    ("folded shapes", lambda l: _t(l, 2, 2, 3) @ _t(l, 4, 5), RuntimeError,
     "mat1 and mat2 shapes cannot be multiplied (4x3 and 4x5)"),
    ("2-d@3-d shapes", lambda l: _t(l, 2, 3) @ _t(l, 2, 4, 5), RuntimeError,
     "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [2, 4]."),
    ("2-d@3-d shapes, grad", lambda l: _t(l, 2, 3, requires_grad=True) @ _t(l, 2, 4, 5),
     RuntimeError, "mat1 and mat2 shapes cannot be multiplied (10x4 and 3x2)"),
    ("3-d@1-d shapes", lambda l: _t(l, 2, 2, 3) @ _t(l, 4), RuntimeError,
     "size mismatch, got input (4), mat (4x3), vec (4)"),
    ("0-d", lambda l: _t(l) @ _t(l, 3), RuntimeError,
     "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
    ("float32@float64", lambda l: _t(l, 2, 3) @ _t(l, 3, 4, dtype="float64"), RuntimeError,
     "expected m1 and m2 to have the same dtype, but got: float != double"),
    ("int64@float32", lambda l: _t(l, 2, 3, dtype="int64") @ _t(l, 3, 4), RuntimeError,
     "expected m1 and m2 to have the same dtype, but got: long int != float"),
    ("dot dtypes", lambda l: _t(l, 3, dtype="float64") @ _t(l, 3), RuntimeError,
     "dot : expected both vectors to have same dtype, but found Double and Float"),
    ("mv dtypes", lambda l: _t(l, 2, 3) @ _t(l, 3, dtype="float64"), RuntimeError,
     "addmv input tensors must have the same dtype, but got Double, Float, and Double"),
    ("bmm dtypes", lambda l: _t(l, 2, 2, 3) @ _t(l, 2, 3, 4, dtype="float64"), RuntimeError,
     "expected scalar type Float but found Double"),
    ("bool", lambda l: _t(l, 2, 3, dtype="bool") @ _t(l, 3, 4, dtype="bool"),
     NotImplementedError, "\"addmm_impl_cpu_\" not implemented for 'Bool'"),
    ("bool dot", lambda l: l.dot(_t(l, 3, dtype="bool"), _t(l, 3, dtype="bool")),
     NotImplementedError, "\"dot\" not implemented for 'Bool'"),
    ("tensor@list", lambda l: _t(l, 3) @ [1.0, 2.0, 3.0], TypeError,
     "unsupported operand type(s) for @: 'Tensor' and 'list'"),
    ("array@tensor", lambda l: np.ones(3) @ _t(l, 3), TypeError,
     "unsupported operand type(s) for @: 'numpy.ndarray' and 'Tensor'"),
    ("matmul(t, list)", lambda l: l.matmul(_t(l, 3), [1.0]), TypeError,
     "matmul(): argument 'other' (position 2) must be Tensor, not list"),
    ("t.mm(list)", lambda l: _t(l, 2, 3).mm([1.0]), TypeError,
     "mm(): argument 'mat2' (position 1) must be Tensor, not list"),
    ("ger(t, list)", lambda l: l.ger(_t(l, 2), [1.0]), TypeError,
     "ger(): argument 'vec2' (position 2) must be Tensor, not list"),
    ("mm 1-d", lambda l: l.mm(_t(l, 3), _t(l, 3, 4)), RuntimeError, "self must be a matrix"),
    ("mm 3-d", lambda l: l.mm(_t(l, 2, 3), _t(l, 2, 3, 4)), RuntimeError,
     "mat2 must be a matrix"),
    ("bmm 2-d", lambda l: l.bmm(_t(l, 2, 3), _t(l, 3, 4)), RuntimeError,
     "batch1 must be a 3D tensor"),
    ("bmm batches", lambda l: l.bmm(_t(l, 2, 2, 3), _t(l, 3, 3, 5)), RuntimeError,
     "Expected size for first two dimensions of batch2 tensor to be: [2, 3] but got: [3, 3]."),
    ("mv 2-d vector", lambda l: l.mv(_t(l, 2, 3), _t(l, 3, 1)), RuntimeError,
     "vector + matrix @ vector expected, got 1, 2, 2"),
    ("dot 2-d", lambda l: l.dot(_t(l, 2, 3), _t(l, 3)), RuntimeError,
     "1D tensors expected, but got 2D and 1D tensors"),
    ("outer 2-d", lambda l: l.outer(_t(l, 3), _t(l, 4, 1)), RuntimeError,
     "outer: Expected 1-D argument vec2, but got 2-D"),
    ("trace 3-d", lambda l: l.trace(_t(l, 2, 3, 4)), RuntimeError,
     "trace: expected a matrix, but got tensor with dim 3"),
    ("trace bool", lambda l: l.trace(_t(l, 2, 2, dtype="bool")), NotImplementedError,
     "\"trace\" not implemented for 'Bool'"),
    ("diag 3-d", lambda l: l.diag(_t(l, 2, 3, 4)), RuntimeError,
     "diag(): Supports 1D or 2D tensors. Got 3D"),
    ("tril 1-d", lambda l: l.tril(_t(l, 3)), RuntimeError,
     "tril: input tensor must have at least 2 dimensions"),
    ("triu 0-d", lambda l: l.triu(_t(l)), RuntimeError,
     "triu: input tensor must have at least 2 dimensions"),
    ("diagonal dim", lambda l: l.diagonal(_t(l, 2, 3, 4), 0, 0, 5), IndexError,
     "Dimension out of range (expected to be in range of [-3, 2], but got 5)"),
    ("diagonal same dims", lambda l: l.diagonal(_t(l, 2, 3, 4), 0, -2, 1), RuntimeError,
     "diagonal dimensions cannot be identical -2, 1"),
    ("einsum sizes", lambda l: l.einsum("ij,jk->ik", _t(l, 2, 3), _t(l, 4, 4)), RuntimeError,
     "einsum(): subscript j has size 4 for operand 1 which does not broadcast with previously "
     "seen size 3"),
    ("einsum dims", lambda l: l.einsum("ij,jk->ik", _t(l, 2, 3, 1), _t(l, 3, 4)), RuntimeError,
     "einsum(): the number of subscripts in the equation (2) does not match the number of "
     "dimensions (3) for operand 0 and no ellipsis was given"),
    ("einsum ellipsis dims", lambda l: l.einsum("ijk...->", _t(l, 2, 3)), RuntimeError,
     "einsum(): the number of subscripts in the equation (3) is more than the number of "
     "dimensions (2) for operand 0"),
    ("einsum operands", lambda l: l.einsum("ij,jk->ik", _t(l, 2, 3)), RuntimeError,
     "einsum(): fewer operands were provided than specified in the equation"),
    ("einsum more operands", lambda l: l.einsum("ij->i", _t(l, 2, 3), _t(l, 2)), RuntimeError,
     "einsum(): more operands were provided than specified in the equation"),
    ("einsum output", lambda l: l.einsum("ij->k", _t(l, 2, 3)), RuntimeError,
     "einsum(): output subscript k does not appear in the equation for any input operand"),
    ("einsum repeated output", lambda l: l.einsum("ij->ii", _t(l, 2, 3)), RuntimeError,
     "einsum(): output subscript i appears more than once in the output"),
    ("einsum diagonal", lambda l: l.einsum("ii->i", _t(l, 2, 3)), RuntimeError,
     "einsum(): subscript i is repeated for operand 0 but the sizes don't match, 3 != 2"),
    ("einsum character", lambda l: l.einsum("i1,1k->ik", _t(l, 2, 3), _t(l, 3, 4)), RuntimeError,
     "einsum(): invalid subscript given at index 1 in the equation string, subscripts must be "
     "in [a-zA-Z]"),
    ("einsum output character", lambda l: l.einsum("ij->i2", _t(l, 2, 3)), RuntimeError,
     "einsum(): invalid subscript given at index 5 in the equation string, subscripts must be "
     "in [a-zA-Z]"),
    ("einsum dot", lambda l: l.einsum("i.j", _t(l, 2, 3)), RuntimeError,
     "einsum(): found '.' for operand 0 that is not part of any ellipsis"),
    ("einsum two ellipses", lambda l: l.einsum("...i...", _t(l, 2, 3)), RuntimeError,
     "einsum(): found '.' for operand 0 for which an ellipsis was already found"),
    ("einsum ellipsis sizes", lambda l: l.einsum("...i,...i", _t(l, 2, 3), _t(l, 4, 3)),
     RuntimeError,
     "einsum(): dimension 0 covered by ellipsis in operand 1has size 4 which does not broadcast "
     "with previously seen ellipsis with size 2 for the respective dimension"),
    ("einsum dtypes", lambda l: l.einsum("ij,jk", _t(l, 2, 3, dtype="int64"), _t(l, 3, 2)),
     RuntimeError, "expected scalar type Long but found Float"),
    ("einsum array", lambda l: l.einsum("i,i", _t(l, 3), np.ones(3)), TypeError,
     "expected Tensor as element 1 in argument 1, but got numpy.ndarray"),
    ("einsum nothing", lambda l: l.einsum("i"), ValueError,
     "einsum(): must specify the equation string and at least one operand, or at least one "
     "operand and its subscripts list"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fn", "kind", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_error(fn, kind, message):
    with pytest.raises(kind) as info:
        fn(gradienti)
    assert pytorch_text(str(info.value)) == message


@pytest.mark.parametrize(
    ("fn", "kind", "message"), [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS]
)
def test_error_is_torch_error(fn, kind, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(kind) as info:
        fn(torch)
    assert str(info.value) == message


# ------------------------------------------------------------------------------ dtypes
DTYPES = [
    ("int64 mm", lambda l: _t(l, 2, 3, dtype="int64") @ _t(l, 3, 4, dtype="int64"), "int64"),
    ("int64 dot", lambda l: _t(l, 3, dtype="int64") @ _t(l, 3, dtype="int64"), "int64"),
    ("int64 mv", lambda l: _t(l, 2, 3, dtype="int64") @ _t(l, 3, dtype="int64"), "int64"),
    ("int32 batched", lambda l: _t(l, 2, 2, 3, dtype="int32") @ _t(l, 3, 2, dtype="int32"),
     "int32"),
    ("uint8 mm", lambda l: _t(l, 2, 3, dtype="uint8") @ _t(l, 3, 4, dtype="uint8"), "uint8"),
    ("float16 mm", lambda l: _t(l, 2, 3, dtype="float16") @ _t(l, 3, 2, dtype="float16"),
     "float16"),
    ("float64 bmm", lambda l: l.bmm(_t(l, 2, 2, 3, dtype="float64"), _t(l, 2, 3, 2,
                                                                         dtype="float64")),
     "float64"),
    ("outer int64 float32", lambda l: l.outer(_t(l, 3, dtype="int64"), _t(l, 2)), "float32"),
    ("outer float32 float64", lambda l: l.outer(_t(l, 3), _t(l, 2, dtype="float64")),
     "float64"),
    ("trace int32", lambda l: l.trace(_t(l, 3, 3, dtype="int32")), "int64"),
    ("trace float16", lambda l: l.trace(_t(l, 3, 3, dtype="float16")), "float16"),
    ("diag int64", lambda l: l.diag(_t(l, 3, dtype="int64")), "int64"),
    ("diag bool", lambda l: l.diag(_t(l, 2, 2, dtype="bool")), "bool"),
    ("tril int64", lambda l: l.tril(_t(l, 3, 3, dtype="int64")), "int64"),
    ("einsum int64", lambda l: l.einsum("ij,jk", _t(l, 2, 3, dtype="int64"),
                                        _t(l, 3, 2, dtype="int64")), "int64"),
    ("einsum product float32 float64",
     lambda l: l.einsum("i,j->ij", _t(l, 3), _t(l, 2, dtype="float64")), "float64"),
]  # fmt: skip


@pytest.mark.parametrize(("fn", "dtype"), [d[1:] for d in DTYPES], ids=[d[0] for d in DTYPES])
def test_result_dtype(fn, dtype):
    assert str(fn(gradienti).dtype) == f"torch.{dtype}"


@pytest.mark.parametrize(("fn", "dtype"), [d[1:] for d in DTYPES], ids=[d[0] for d in DTYPES])
def test_result_against_torch(fn, dtype):
    torch = pytest.importorskip("torch")
    ours, theirs = fn(gradienti), fn(torch)
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(
        _np(ours).astype(np.float64), _np(theirs).astype(np.float64), rtol=1e-3
    )


def test_int_matmul_values():
    a = gradienti.tensor([[1, 2, 3], [4, 5, 6]])
    b = gradienti.tensor([[1, 0], [0, 1], [2, 2]])
    assert (a @ b).tolist() == [[7, 8], [16, 17]]
    assert (a[0] @ a[1]).item() == 32
