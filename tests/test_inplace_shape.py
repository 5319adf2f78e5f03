"""In-place shape changes (ops/inplace_shape.py: squeeze_, unsqueeze_, transpose_, swapaxes_,
swapdims_, t_) against PyTorch: shape, values, version counter, the node and its gradient,
views taken before, and the errors (a leaf first, then the arguments)."""

import numpy as np
import pytest
from same_outcome import pytorch_text

import gradienti

torch = pytest.importorskip("torch")

CALLS = [
    ("squeeze_", ()),
    ("squeeze_", (1,)),
    ("squeeze_", (-3,)),
    ("squeeze_", ((0, 1),)),
    ("unsqueeze_", (0,)),
    ("unsqueeze_", (-1,)),
    ("transpose_", (0, 2)),
    ("swapaxes_", (2, 1)),
    ("swapdims_", (0, -1)),
]


@pytest.mark.parametrize(("name", "args"), CALLS, ids=str)
def test_on_a_non_leaf_like_torch(name, args):
    results = []
    for lib in (gradienti, torch):
        x = lib.arange(6.0, dtype=lib.float64).reshape(2, 1, 3).requires_grad_()
        y = x * 1.5
        assert getattr(y, name)(*args) is y
        assert y._version == 1
        node = type(y.grad_fn).__name__
        y.mul_(2)  # still not a view: further in-place ops work
        y.backward(lib.linspace(-1.0, 2.0, y.numel(), dtype=lib.float64).reshape(y.shape))
        results.append((tuple(y.shape), y.detach().numpy(), node, x.grad.numpy()))
    (shape, values, node, grad), theirs = results
    assert (shape, node) == (theirs[0], theirs[2])
    np.testing.assert_array_equal(values, theirs[1])
    np.testing.assert_allclose(grad, theirs[3], rtol=1e-15)


def test_t_in_place_like_torch():
    results = []
    for lib in (gradienti, torch):
        x = lib.arange(6.0).reshape(2, 3).requires_grad_()
        y = x + 1
        assert y.t_() is y
        y.backward(lib.arange(6.0).reshape(3, 2))
        results.append((tuple(y.shape), type(y.grad_fn).__name__, x.grad.tolist()))
    assert results[0] == results[1]


@pytest.mark.parametrize(("name", "args"), [*CALLS, ("t_", ())], ids=str)
def test_without_grad_keeps_the_memory_like_torch(name, args):
    results = []
    for lib in (gradienti, torch):
        x = lib.arange(6.0).reshape(2, 1, 3) if name != "t_" else lib.arange(6.0).reshape(2, 3)
        earlier = x[0]
        getattr(x, name)(*args)
        x.fill_(7.0)  # written through the new shape: the earlier view sees it
        results.append((tuple(x.shape), x._version, earlier.tolist(), earlier._version))
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "expression",
    [
        "x.t_()",
        "x.unsqueeze_(5)",
        "x.squeeze_(3)",
        "x.transpose_(0, 3)",
        "y.t_()",
        "y.unsqueeze_(5)",
        "y.transpose_(0, 3)",
    ],
)
def test_errors_like_torch(expression):
    caught = []
    for lib in (gradienti, torch):
        x = lib.ones(2, 1, 3, requires_grad=True)
        y = lib.ones(2, 1, 3)
        with pytest.raises((RuntimeError, IndexError)) as error:
            eval(expression, {"x": x, "y": y})
        caught.append((type(error.value), pytorch_text(str(error.value))))
        assert tuple(x.shape) == tuple(y.shape) == (2, 1, 3)
    assert caught[0] == caught[1]


@pytest.mark.parametrize(("name", "args"), [*CALLS, ("t_", ())], ids=str)
def test_under_no_grad_a_leaf_keeps_requiring_grad_like_torch(name, args):
    """The shape change is not recorded, but the leaf stays a leaf that requires grad, and its
    gradient takes the new shape."""
    results = []
    for lib in (gradienti, torch):
        shape = (2, 1, 3) if name != "t_" else (2, 3)
        x = lib.arange(6.0, dtype=lib.float64).reshape(shape).requires_grad_()
        with lib.no_grad():
            getattr(x, name)(*args)
        kept = (x.requires_grad, x.is_leaf, x.grad_fn is None)
        (x * (lib.arange(6.0, dtype=lib.float64) - 2).reshape(x.shape)).sum().backward()
        results.append((kept, tuple(x.shape), x.grad.tolist()))
    assert results[0] == results[1]


def test_under_no_grad_a_non_leaf_keeps_its_node_like_torch():
    results = []
    for lib in (gradienti, torch):
        y = lib.ones(2, requires_grad=True) * 2
        with lib.no_grad():
            y.unsqueeze_(0)
        results.append((tuple(y.shape), y.requires_grad, type(y.grad_fn).__name__))
    assert results[0] == results[1]


@pytest.mark.parametrize(("name", "args"), [*CALLS, ("t_", ())], ids=str)
@pytest.mark.parametrize("requires_grad", [False, True])
def test_forward_mode_tangent_takes_the_new_shape_like_torch(name, args, requires_grad):
    """A 3x3 (or 3x1x3) tangent, so a tangent left untransposed would still broadcast."""
    results = []
    for lib in (gradienti, torch):
        forward_ad = lib.autograd.forward_ad
        shape = (3, 3) if name == "t_" else (3, 1, 3)
        primal = lib.arange(9.0, dtype=lib.float64).reshape(shape)
        with forward_ad.dual_level():
            x = forward_ad.make_dual(primal, (primal - 4) ** 2)
            if requires_grad:
                x = x.requires_grad_() * 1
            getattr(x, name)(*args)
            tangent = forward_ad.unpack_dual(x.sin()).tangent
            results.append((tuple(x.shape), tuple(tangent.shape), tangent.tolist()))
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "expression",
    [
        "y.unsqueeze_(True)",
        "x.unsqueeze_(1.0)",
        "y.transpose_(True, 0)",
        "y.swapdims_(0, 1.0)",
        "x.swapaxes_(False, 1)",
        "y.squeeze_(True)",
        "x.squeeze_(1.0)",
        "y.squeeze_('a')",
    ],
)
def test_argument_types_like_torch(expression):
    """A bool is not a dim (``unsqueeze_(True)`` made dim 1); the parser's TypeError comes
    before the leaf check."""
    caught = []
    for lib in (gradienti, torch):
        x = lib.ones(2, 1, 3, requires_grad=True)
        y = lib.ones(2, 1, 3)
        with pytest.raises(TypeError) as error:
            eval(expression, {"x": x, "y": y})
        caught.append(str(error.value))
        assert tuple(x.shape) == tuple(y.shape) == (2, 1, 3)
    assert caught[0] == caught[1]


@pytest.mark.parametrize(
    "expression",
    [
        "x.swapaxes_(axis0=0, axis1=2)",
        "x.swapdims_(dim0=0, dim1=2)",
        "x.transpose_(0, dim1=2)",
        "x.unsqueeze_(dim=1)",
        "x.squeeze_(dim=1)",
    ],
)
def test_arguments_by_keyword_like_torch(expression):
    shapes = []
    for lib in (gradienti, torch):
        x = lib.ones(2, 1, 3)
        eval(expression, {"x": x})
        shapes.append(tuple(x.shape))
    assert shapes[0] == shapes[1]
