"""The one-frame operators of ops/hot_operators.py (``x + y``, ``x - y``, ``x * y``, ``x ** 2``,
``x ** 3``) against PyTorch, on the operand kinds that take each path: a Tensor of the same dtype
(inline), a Python number (inline), and those that hand over to ``binary`` (promotion, a Tensor
subclass, a NumPy array, a list). The op table checks their gradients and graphs; this checks
what the paths alone decide: values bit for bit, dtypes, graphs, errors, grad mode."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti
from gradienti.ops import hot_operators

torch = pytest.importorskip("torch")

OPERATORS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
}


def _both(array, requires_grad=False):
    return (
        gradienti.tensor(array, requires_grad=requires_grad),
        torch.tensor(array, requires_grad=requires_grad),
    )


def _same(ours, theirs):
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


def _next_names(tensor):
    return [
        None if node is None else type(node).__name__ for node, _ in tensor.grad_fn.next_functions
    ]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(), (16,), (2, 3)])
@pytest.mark.parametrize("exponent", [2, 3])
def test_small_integer_powers_are_bitwise_pytorchs(exponent, shape, dtype):
    # x**2 and x**3 are products on PyTorch's CPU kernel: the same values in the last bit.
    rng = np.random.default_rng(exponent)
    array = (rng.standard_normal(shape) * 3).astype(dtype)
    ours, theirs = _both(array, requires_grad=True)
    out, expected = ours**exponent, theirs**exponent
    _same(out, expected)
    assert out.grad_fn.name() == expected.grad_fn.name() == "PowBackward0"
    assert out.grad_fn._saved_exponent == expected.grad_fn._saved_exponent == exponent
    upstream = rng.standard_normal(shape).astype(dtype)
    out.backward(gradienti.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    _same(ours.grad, theirs.grad)


def _outcome(compute):
    """The result's dtype and values, or the exception's class and text."""
    try:
        result = compute()
    except Exception as error:  # noqa: BLE001 - compared with PyTorch's
        return type(error).__name__, str(error)
    return str(result.dtype), result.detach().numpy().tolist()


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.tensor([1, -2, 3]),  # integers: power_array's integer power
        lambda lib: lib.tensor([1, 2], dtype=lib.uint8),
        lambda lib: lib.tensor([1.5, -2.0], dtype=lib.float16),
        lambda lib: lib.tensor([True, False]),
        lambda lib: lib.tensor(True),
    ],
    ids=["int64", "uint8", "float16", "bool", "bool 0-d"],
)
@pytest.mark.parametrize("exponent", [2, 3, 2.0, 4, 0, -1, -2, True, False])
def test_other_powers_and_dtypes_as_pytorch(make, exponent):
    # bool ** int is int64 and bool ** bool bool; an integer to a negative integer power is
    # PyTorch's RuntimeError
    assert _outcome(lambda: make(gradienti) ** exponent) == _outcome(
        lambda: make(torch) ** exponent
    )


def test_tensor_exponent_and_base_as_pytorch():
    base, torch_base = _both(np.array([1.5, 2.0, 0.5], dtype=np.float32), requires_grad=True)
    exponent, torch_exponent = _both(np.array([2.0, 3.0, -1.0], dtype=np.float32))
    out, expected = base**exponent, torch_base**torch_exponent
    _same(out, expected)
    assert out.grad_fn.name() == expected.grad_fn.name()


@pytest.mark.parametrize("symbol", sorted(OPERATORS))
@pytest.mark.parametrize(
    "other",
    [2, 2.5, True, -3],
    ids=["int", "float", "bool", "negative int"],
)
@pytest.mark.parametrize("dtype", ["float32", "int64", "bool"])
def test_operators_with_python_numbers_as_pytorch(symbol, other, dtype):
    if symbol == "-" and (dtype == "bool" or other is True):
        return  # PyTorch's error (see test_subtraction_with_a_bool_raises_pytorchs_error)
    op = OPERATORS[symbol]
    array = np.array([1, 0, 3], dtype=dtype)
    ours, theirs = _both(array)
    _same(op(ours, other), op(theirs, other))
    if symbol != "-":
        _same(op(other, ours), op(other, theirs))  # __radd__, __rmul__


@pytest.mark.parametrize("symbol", sorted(OPERATORS))
def test_operators_with_numbers_record_pytorchs_graph(symbol):
    op = OPERATORS[symbol]
    ours, theirs = _both(np.array([1.0, -2.0, 3.0], dtype=np.float32), requires_grad=True)
    out, expected = op(ours, 2.5), op(theirs, 2.5)
    assert out.grad_fn.name() == expected.grad_fn.name()
    assert _next_names(out) == _next_names(expected)
    upstream = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    out.backward(gradienti.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    _same(ours.grad, theirs.grad)


@pytest.mark.parametrize("symbol", sorted(OPERATORS))
@pytest.mark.parametrize(
    "shapes",
    [((4,), (4,)), ((3, 1), (1, 4)), ((2, 3), (3,)), ((), (3,))],
    ids=["same", "both broadcast", "one broadcast", "0-d and 1-d"],
)
@pytest.mark.parametrize("grads", ["both", "left", "right"])
def test_operators_between_tensors_as_pytorch(symbol, shapes, grads):
    op = OPERATORS[symbol]
    rng = np.random.default_rng(0)
    a_array, b_array = (rng.standard_normal(shape).astype(np.float32) for shape in shapes)
    a, torch_a = _both(a_array, requires_grad=grads in ("both", "left"))
    b, torch_b = _both(b_array, requires_grad=grads in ("both", "right"))
    out, expected = op(a, b), op(torch_a, torch_b)
    _same(out, expected)
    assert out.grad_fn.name() == expected.grad_fn.name()
    assert _next_names(out) == _next_names(expected)
    upstream = rng.standard_normal(expected.shape).astype(np.float32)
    out.backward(gradienti.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    for ours, theirs in ((a, torch_a), (b, torch_b)):
        if theirs.grad is None:
            assert ours.grad is None
        else:
            _same(ours.grad, theirs.grad)


def test_a_constant_tensor_operand_saves_what_the_gradient_needs():
    # x * c with c constant keeps c only (d(xc)/dx = c), as PyTorch's MulBackward0.
    x, torch_x = _both(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    c, torch_c = _both(np.array([3.0, 4.0], dtype=np.float32))
    out, expected = x * c, torch_x * torch_c
    _same(out.grad_fn._saved_other, expected.grad_fn._saved_other)
    assert _next_names(out) == _next_names(expected) == ["AccumulateGrad", None]
    # recorded compact (graph/node.py): its one edge without an (edge, None) tuple
    assert (x * c).grad_fn._sole is x._edge and (x * 2).grad_fn._sole is x._edge
    assert (x * x).grad_fn._sole is None  # two edges: the tuple


@pytest.mark.parametrize("symbol", sorted(OPERATORS))
@pytest.mark.parametrize(
    "dtypes",
    [("float32", "float64"), ("int64", "float32"), ("int32", "int64"), ("bool", "float32")],
)
def test_promotion_between_tensors_as_pytorch(symbol, dtypes):
    op = OPERATORS[symbol]
    if symbol == "-" and "bool" in dtypes:
        dtypes = (dtypes[1], dtypes[1])  # (bool - x is PyTorch's error)
    a_array = np.array([1, 2, 3]).astype(dtypes[0])
    b_array = np.array([2, 0, 1]).astype(dtypes[1])
    a, torch_a = _both(a_array)
    b, torch_b = _both(b_array)
    _same(op(a, b), op(torch_a, torch_b))
    _same(op(b, a), op(torch_b, torch_a))


@pytest.mark.parametrize("symbol", sorted(OPERATORS))
def test_other_operand_kinds_as_pytorch(symbol):
    op = OPERATORS[symbol]
    x, torch_x = _both(np.array([1.0, 2.0, 3.0], dtype=np.float32), requires_grad=True)
    array = np.array([2.0, -1.0, 0.5], dtype=np.float32)
    _same(op(x, np.float32(2.0)), op(torch_x, np.float32(2.0)))
    _same(op(x, [2.0, -1.0, 0.5]), op(torch_x, torch.tensor([2.0, -1.0, 0.5])))
    # a Tensor subclass (a Parameter) on either side: binary's path, with its gradient
    weight, torch_weight = (
        gradienti.nn.Parameter(gradienti.tensor(array)),
        torch.nn.Parameter(torch.tensor(array)),
    )
    out, expected = op(x, weight), op(torch_x, torch_weight)
    _same(out, expected)
    _same(op(weight, x), op(torch_weight, torch_x))
    out.sum().backward()
    expected.sum().backward()
    _same(weight.grad, torch_weight.grad)
    _same(x.grad, torch_x.grad)


@pytest.mark.parametrize("symbol", sorted(OPERATORS))
def test_shapes_that_do_not_broadcast_raise_pytorchs_error(symbol):
    op = OPERATORS[symbol]
    a = gradienti.ones(2, 3, requires_grad=True)
    b = gradienti.ones(4)
    with pytest.raises(RuntimeError) as ours:
        op(a, b)
    with pytest.raises(RuntimeError) as theirs:
        op(torch.ones(2, 3, requires_grad=True), torch.ones(4))
    assert str(ours.value).startswith(str(theirs.value))
    assert a.grad is None and a.grad_fn is None  # nothing changed


@pytest.mark.parametrize("symbol", sorted(OPERATORS))
def test_no_grad_records_nothing(symbol):
    op = OPERATORS[symbol]
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    with gradienti.no_grad():
        for out in (op(x, x), op(x, 2), x**2, x**3):
            assert out.grad_fn is None and not out.requires_grad
    assert op(x, x).requires_grad and (x**2).requires_grad


def test_the_operators_are_tensors_and_hot_copies():
    from gradienti.ops import hot_copies

    assert gradienti.Tensor.__mul__ is gradienti.Tensor.__rmul__
    assert gradienti.Tensor.__add__ is gradienti.Tensor.__radd__
    for function in hot_operators.HOT_OPERATORS:
        assert function in hot_copies.hot_functions()
    assert {f.__name__ for f in hot_operators.HOT_OPERATORS} == {
        "__add__",
        "__sub__",
        "__mul__",
        "__pow__",
    }


SUBTRACTIONS = {
    "bool - bool": lambda lib, f, b: b - b,
    "float - bool": lambda lib, f, b: f - b,
    "bool - float": lambda lib, f, b: b - f,
    "float - True": lambda lib, f, b: f - True,
    "True - float": lambda lib, f, b: True - f,
    "True - bool": lambda lib, f, b: True - b,
    "sub(float, bool)": lambda lib, f, b: lib.sub(f, b),
    "sub(bool, bool)": lambda lib, f, b: lib.sub(b, b),
    "sub(float, bool, alpha=2)": lambda lib, f, b: lib.sub(f, b, alpha=2),
    "float - bool 0-d": lambda lib, f, b: f - lib.tensor(True),
}


# (A bool tensor with a Python int or float, b - 2 or 3 - b, still computes: PyTorch refuses it;
# the test would cost a dtype read on every x - 2.)


@pytest.mark.parametrize("case", sorted(SUBTRACTIONS))
def test_subtraction_with_a_bool_raises_pytorchs_error(case):
    def run(lib):
        f = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([True, False])
        with pytest.raises(RuntimeError) as raised:
            SUBTRACTIONS[case](lib, f, b)
        assert f.grad is None
        return str(raised.value)

    assert run(gradienti) == run(torch)


def test_subtraction_without_bools_is_unchanged():
    x, torch_x = _both(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    i, torch_i = _both(np.array([3, 4]))
    for ours, theirs in ((x - i, torch_x - torch_i), (i - 1, torch_i - 1), (2 - x, 2 - torch_x)):
        _same(ours, theirs)
    _same(gradienti.sub(x, i, alpha=2), torch.sub(torch_x, torch_i, alpha=2))


@pytest.mark.parametrize("operator", ["mul", "add", "sub"])
def test_broadcasting_inside_vmap_through_a_recorded_backward_as_torch(operator):
    # A recorded backward (create_graph) runs the VJPs' operators on tensors holding vmap's
    # BatchedArrays; where they broadcast, the gradient must be summed back (input metadata),
    # as for NumPy arrays: the hot operators once took any non-ndarray result for a NumPy
    # scalar (both inputs 0-d) and dropped it, giving wrong second derivatives.
    x0 = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
    w0 = np.linspace(0.5, 2.0, 4)
    up = np.linspace(1.0, 3.0, 12).reshape(4, 3)

    def second_derivatives(lib):
        x = lib.tensor(x0, requires_grad=True)
        w = lib.tensor(w0, requires_grad=True)

        def f(a):
            s = (a * w).tanh().sum()
            return {"mul": s * a, "add": s + a, "sub": a - s}[operator] * a

        out = lib.func.vmap(f, out_dims=1)(x)
        loss = (out * lib.tensor(up)).sum()
        gx, gw = lib.autograd.grad(loss, (x, w), create_graph=True)
        second = lib.autograd.grad((gx**2).sum() + gw.sum(), (x, w))
        return [t.detach().numpy() for t in (gx, gw, *second)]

    for ours, theirs in zip(second_derivatives(gradienti), second_derivatives(torch)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
