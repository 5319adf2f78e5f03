"""The in-place forms of existing ops (ops/inplace_math.py) against PyTorch: values, dtype,
the node a non-leaf records, the gradient through it, the version counter, the leaf error,
and the top-level ``torch.<name>_`` functions."""

import numpy as np
import pytest
from same_outcome import pytorch_text

import gradienti
from gradienti.ops.inplace_math import ONE_INPUT

torch = pytest.importorskip("torch")

VALUES = [0.3, -0.7, 0.55, 0.9]
POSITIVE = [0.3, 1.7, 0.55, 2.9]
NEEDS_POSITIVE = {"log", "log10", "log2", "sqrt", "rsqrt", "log1p", "reciprocal"}

CALLS = [(name + "_", (), {}) for name in ONE_INPUT] + [
    ("clamp_min_", (0.1,), {}),
    ("clamp_max_", (0.4,), {}),
    ("round_", (), {}),
    ("round_", (), {"decimals": 1}),
    ("cumsum_", (0,), {}),
    ("cumprod_", (0,), {}),
    ("nan_to_num_", (), {"nan": 1.0}),
    ("multiply_", (3.0,), {}),
    ("subtract_", (2.0,), {"alpha": 2}),
]


def _values(name):
    return POSITIVE if name[:-1] in NEEDS_POSITIVE else VALUES


@pytest.mark.parametrize(("name", "args", "kwargs"), CALLS, ids=lambda c: str(c))
def test_in_place_on_a_non_leaf_records_the_op_like_torch(name, args, kwargs):
    upstream = [1.0, -2.0, 0.5, 3.0]
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(_values(name), dtype=lib.float64, requires_grad=True)
        y = x * 1.5
        version = y._version
        returned = getattr(y, name)(*args, **kwargs)
        assert returned is y
        assert y._version == version + 1
        y.backward(lib.tensor(upstream, dtype=lib.float64))
        results.append((y.detach().numpy(), type(y.grad_fn).__name__, x.grad.numpy()))
    (ours, our_node, our_grad), (theirs, their_node, their_grad) = results
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert our_node == their_node
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-12)


@pytest.mark.parametrize(("name", "args", "kwargs"), CALLS, ids=lambda c: str(c))
def test_in_place_without_grad_writes_the_same_memory_like_torch(name, args, kwargs):
    ours = gradienti.tensor(_values(name))
    theirs = torch.tensor(_values(name))
    view = ours[1:]
    getattr(ours, name)(*args, **kwargs)
    getattr(theirs, name)(*args, **kwargs)
    assert ours.dtype == gradienti.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    np.testing.assert_array_equal(view.numpy(), ours.numpy()[1:])  # written in place
    assert ours._version == theirs._version == 1


@pytest.mark.parametrize("name", ["sigmoid_", "tanh_", "abs_", "clamp_min_", "floor_"])
def test_leaf_that_requires_grad_is_refused_like_torch(name):
    args = (0.0,) if name == "clamp_min_" else ()
    messages = []
    for lib in (gradienti, torch):
        x = lib.tensor(VALUES, requires_grad=True)
        with pytest.raises(RuntimeError) as error:
            getattr(x, name)(*args)
        messages.append(pytorch_text(str(error.value)))
        np.testing.assert_array_equal(x.detach().numpy(), np.float32(VALUES))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("name", ["atan2_", "arctan2_"])
def test_atan2_in_place_records_atan2_like_torch(name):
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(VALUES, dtype=lib.float64, requires_grad=True)
        other = lib.tensor(POSITIVE, dtype=lib.float64, requires_grad=True)
        y = x * 2
        assert getattr(y, name)(other) is y
        y.backward(lib.tensor([1.0, -2.0, 0.5, 3.0], dtype=lib.float64))
        results.append((y.detach().numpy(), y.grad_fn.name(), x.grad.numpy(), other.grad.numpy()))
    for ours, theirs in zip(*results):
        if isinstance(ours, str):
            assert ours == theirs
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("weight", [0.25, "tensor"])
def test_lerp_in_place_records_lerp_like_torch(weight):
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(VALUES, dtype=lib.float64, requires_grad=True)
        end = lib.tensor(POSITIVE, dtype=lib.float64, requires_grad=True)
        w = lib.tensor(VALUES, dtype=lib.float64) if weight == "tensor" else weight
        y = x * 2
        assert y.lerp_(end, w) is y
        y.backward(lib.tensor([1.0, -2.0, 0.5, 3.0], dtype=lib.float64))
        results.append((y.detach().numpy(), y.grad_fn.name(), x.grad.numpy(), end.grad.numpy()))
    for ours, theirs in zip(*results):
        if isinstance(ours, str):
            assert ours == theirs
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def _index_arguments(lib, name):
    f64 = lib.float64
    return {
        "addmm_": (lib.ones(2, 4, dtype=f64), lib.linspace(0.0, 1.0, 12, dtype=f64).reshape(4, 3)),
        "scatter_": (
            1,
            lib.tensor([[0, 1], [2, 0]]),
            lib.tensor([[9.0, 8.0], [7.0, 6.0]], dtype=f64),
        ),
        "scatter_add_": (
            1,
            lib.tensor([[0, 1], [2, 0]]),
            lib.tensor([[9.0, 8.0], [7.0, 6.0]], dtype=f64),
        ),
        "index_add_": (0, lib.tensor([1, 0]), lib.ones(2, 3, dtype=f64)),
        "index_put_": ((lib.tensor([0, 1]), lib.tensor([2, 0])), lib.tensor(5.0, dtype=f64)),
    }[name]


@pytest.mark.parametrize("name", ["addmm_", "scatter_", "scatter_add_", "index_add_", "index_put_"])
def test_indexing_and_matmul_in_place_like_torch(name):
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=lib.float64, requires_grad=True)
        y = x * 1.5
        version = y._version
        assert getattr(y, name)(*_index_arguments(lib, name)) is y
        assert y._version == version + 1
        y.backward(lib.tensor([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]], dtype=lib.float64))
        results.append((y.detach().numpy(), y.grad_fn.name(), x.grad.numpy()))
    for ours, theirs in zip(*results):
        if isinstance(ours, str):
            assert ours == theirs
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("name", ["eq_", "ne_", "lt_", "le_", "gt_", "ge_"])
@pytest.mark.parametrize("other", ["number", "tensor"])
def test_comparison_in_place_like_torch(name, other):
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(VALUES, dtype=lib.float64, requires_grad=True)
        right = lib.tensor([0.3, 0.0, 0.2, 2.0], requires_grad=True) if other == "tensor" else 0.55
        y = x * 2
        assert getattr(y, name)(right) is y
        assert y._version == 1
        graph = [y.grad_fn.name()] + [
            None if f is None else f.name() for f, _ in y.grad_fn.next_functions
        ]
        y.backward(lib.tensor([1.0, -2.0, 0.5, 3.0], dtype=lib.float64))
        integral = getattr(lib.tensor([1, 2, 3]), name)(2)
        flags = getattr(lib.tensor([True, False, True]), name)(lib.tensor([True, True, False]))
        results.append((y.detach().numpy(), graph, x.grad.numpy(), integral, flags))
    (ours, our_graph, our_grad, our_int, our_bool), theirs = results
    np.testing.assert_array_equal(ours, theirs[0])
    assert our_graph == theirs[1]
    np.testing.assert_array_equal(our_grad, theirs[2])
    for mine, other_result in ((our_int, theirs[3]), (our_bool, theirs[4])):
        assert str(mine.dtype) == str(other_result.dtype)
        np.testing.assert_array_equal(mine.numpy(), other_result.numpy())


@pytest.mark.parametrize("name", ["logical_and_", "logical_or_", "logical_xor_"])
def test_logical_in_place_like_torch(name):
    # PyTorch records nothing for these: the tensor keeps its node (and the gradient passes
    # through it as before the write)
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(VALUES, requires_grad=True)
        y = x * 2
        assert getattr(y, name)(lib.tensor([1.0, 0.0, 0.0, 1.0])) is y
        y.backward(lib.tensor([1.0, -2.0, 0.5, 3.0]))
        flags = getattr(lib.tensor([True, False]), name)(lib.tensor([True, True]))
        results.append((y.detach().numpy(), y.grad_fn.name(), x.grad.numpy(), flags.tolist()))
    for ours, theirs in zip(*results):
        if isinstance(ours, np.ndarray):
            np.testing.assert_array_equal(ours, theirs)
        else:
            assert ours == theirs


def test_comparison_in_place_refuses_a_larger_broadcast_like_torch():
    caught = []
    for lib in (gradienti, torch):
        x = lib.tensor([1.0, 2.0])
        with pytest.raises(RuntimeError) as error:
            x.lt_(lib.ones(3, 2))
        caught.append(str(error.value))
        assert x.tolist() == [1.0, 2.0]
    assert caught[0] == caught[1]


def test_integer_tensor_refuses_a_float_result_like_torch():
    messages = []
    for lib in (gradienti, torch):
        x = lib.tensor([1, 4, 9])
        with pytest.raises(RuntimeError) as error:
            x.sqrt_()
        messages.append(str(error.value))
        np.testing.assert_array_equal(x.numpy(), [1, 4, 9])
    assert messages[0] == messages[1]


def test_integer_tensor_keeps_its_dtype_like_torch():
    for name in ("abs_", "neg_", "clamp_min_"):
        args = (0,) if name == "clamp_min_" else ()
        ours = getattr(gradienti.tensor([-3, 2]), name)(*args)
        theirs = getattr(torch.tensor([-3, 2]), name)(*args)
        assert str(ours.dtype) == str(theirs.dtype)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("name", ["sigmoid_", "sqrt_", "clamp_min_", "floor_", "neg_"])
def test_top_level_in_place_functions_like_torch(name):
    args = (0.5,) if name == "clamp_min_" else ()
    ours = gradienti.tensor(POSITIVE)
    theirs = torch.tensor(POSITIVE)
    assert getattr(gradienti, name)(ours, *args) is ours
    getattr(torch, name)(theirs, *args)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_every_in_place_method_of_an_existing_elementwise_op_is_there():
    have = {n[:-1] for n in dir(torch.Tensor) if n.endswith("_") and not n.startswith("_")}
    missing = [n + "_" for n in ONE_INPUT if n not in have]
    assert missing == []


@pytest.mark.parametrize("name", ["cumsum_", "cumprod_"])
@pytest.mark.parametrize(("own", "asked"), [("float32", "float64"), ("int32", "int64")])
def test_cumulative_in_place_refuses_another_dtype_like_torch(name, own, asked):
    """The result in ``asked`` cannot be the tensor's value; its own dtype is accepted."""
    caught = []
    for lib in (gradienti, torch):
        x = lib.tensor([1, 2, 3], dtype=getattr(lib, own))
        with pytest.raises(RuntimeError) as error:
            getattr(x, name)(0, dtype=getattr(lib, asked))
        caught.append(str(error.value))
        assert x.tolist() == [1, 2, 3]
        expected = [1, 3, 6] if name == "cumsum_" else [1, 2, 6]
        assert getattr(x, name)(0, dtype=getattr(lib, own)).tolist() == expected
    assert caught[0] == caught[1]


@pytest.mark.parametrize("expression", ["x.cumsum_(True)", "x.cumprod_(1.0)"])
def test_cumulative_in_place_dim_type_like_torch(expression):
    """A bool is not a dim (``cumsum_(True)`` summed along dim 1)."""
    caught = []
    for lib in (gradienti, torch):
        x = lib.ones(2, 2)
        with pytest.raises(TypeError) as error:
            eval(expression, {"x": x})
        caught.append(str(error.value))
        assert x.tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert caught[0] == caught[1]


@pytest.mark.parametrize(("shape", "mat2_rows"), [((1, 2), 3), ((2, 3), 3), ((2,), 3), ((1, 2), 4)])
def test_addmm_in_place_checks_the_product_shape_like_torch(shape, mat2_rows):
    """PyTorch's 'Bad in-place call' (before broadcasting), after the mat1/mat2 check."""
    caught = []
    for lib in (gradienti, torch):
        x = lib.zeros(shape)
        with pytest.raises(RuntimeError) as error:
            x.addmm_(lib.ones(2, 3), lib.ones(mat2_rows, 2))
        caught.append(pytorch_text(str(error.value)))
        assert x.tolist() == lib.zeros(shape).tolist()
    assert caught[0] == caught[1]


@pytest.mark.parametrize(
    "expression",
    [
        "lib.tensor([1, 2]).clamp_min_(1.5)",
        "lib.tensor([1, 2], dtype=lib.uint8).clamp_max_(1.5)",
        "lib.tensor([True]).clamp_max_(1)",
        "lib.tensor([1, 2]).clamp_max_(max=0.5)",
        "lib.tensor([1, 2]).clamp_min_(lib.tensor([1.5]))",
    ],
)
def test_clamp_bound_in_place_cast_back_error_like_torch(expression):
    """A number bound: PyTorch names the C++ type (long int); a Tensor bound: the ScalarType."""
    caught = []
    for lib in (gradienti, torch):
        with pytest.raises(RuntimeError) as error:
            eval(expression, {"lib": lib})
        caught.append(str(error.value))
    assert caught[0] == caught[1]


def test_clamp_bound_in_place_by_keyword_like_torch():
    for lib in (gradienti, torch):
        x = lib.tensor([1.0, 2.0, 3.0])
        assert x.clamp_min_(min=1.5).clamp_max_(max=2.5).tolist() == [1.5, 2.0, 2.5]
