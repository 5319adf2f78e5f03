"""``Tensor.new(...)`` (the legacy constructor in the tensor's dtype) and
``Tensor.is_inference()`` against PyTorch."""

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")


def _made_by(lib, dtype, expression):
    t = lib.tensor([1.5, -2.0], dtype=getattr(lib, dtype), requires_grad=dtype == "float64")
    return eval(expression, {"t": t, "torch": lib, "np": np})


@pytest.mark.parametrize("dtype", ["float64", "int64", "float32", "bool"])
@pytest.mark.parametrize(
    "expression",
    [
        "t.new()",
        "t.new(2, 3)",
        "t.new((2, 3)).shape",
        "t.new(size=(4,)).shape",
        "t.new(torch.Size([3, 1])).shape",
        "t.new(np.int64(2)).shape",
        "t.new([1, 0])",
        "t.new([[1.7, 2.0]])",
        "t.new(0, 2)",
    ],
)
def test_new_like_torch(dtype, expression):
    ours = _made_by(gradienti, dtype, expression)
    theirs = _made_by(torch, dtype, expression)
    if isinstance(theirs, torch.Size):
        assert tuple(ours) == tuple(theirs)
        return
    assert str(ours.dtype) == str(theirs.dtype)
    assert ours.shape == theirs.shape
    assert ours.requires_grad is theirs.requires_grad is False
    if theirs.numel() and "new(2, 3)" not in expression:  # uninitialised otherwise
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_new_of_a_tensor_shares_its_memory_like_torch():
    for lib in (gradienti, torch):
        t = lib.tensor([1, 2])
        shared = t.new(t)
        shared[0] = 7
        assert t.tolist() == [7, 2]


@pytest.mark.parametrize("construct", ["t.new(source)", "torch.Tensor(source)"])
def test_of_a_tensor_that_requires_grad_records_an_alias_like_torch(construct):
    """PyTorch's legacy constructor returns an alias of a Tensor argument, recorded as
    AliasBackward0: the gradient reaches the source."""
    results = []
    for lib in (gradienti, torch):
        t = lib.zeros(1)
        source = lib.tensor([1.0, 2.0], requires_grad=True)
        made = eval(construct, {"t": t, "source": source, "torch": lib})
        node = type(made.grad_fn).__name__
        (made * lib.tensor([3.0, -1.0])).sum().backward()
        results.append((made.requires_grad, made.is_leaf, node, source.grad.tolist()))
    assert results[0] == results[1]


@pytest.mark.parametrize(
    "expression",
    ["t.new(torch.tensor([1.0]))", "t.new(2.5)", "t.new(None)"],
)
def test_new_errors_like_torch(expression):
    caught = []
    for lib in (gradienti, torch):
        with pytest.raises(TypeError) as error:
            _made_by(lib, "int64", expression)
        caught.append(str(error.value))
    assert caught[0] == caught[1]


def test_is_inference_like_torch():
    for lib in (gradienti, torch):
        x = lib.ones(2, requires_grad=True)
        assert x.is_inference() is False
        assert (x * 2).is_inference() is False
        with lib.no_grad():
            assert lib.ones(2).is_inference() is False
