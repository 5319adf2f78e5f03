"""max/min along a dim save their returned indices for the backward, as PyTorch does: indices
changed in place afterwards must fail backward with PyTorch's error, not silently move the
gradient (the node reads the same memory)."""

import pytest

import gradienti

torch = pytest.importorskip("torch")


def _backward_error(lib, function, keepdim, modify):
    x = lib.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]], requires_grad=True)
    values, indices = getattr(x, function)(1, keepdim=keepdim)
    modify(indices)
    upstream = lib.tensor([[1.0], [2.0]]) if keepdim else lib.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError) as caught:
        values.backward(upstream)
    return str(caught.value)


@pytest.mark.parametrize("function", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize(
    "modify", [lambda i: i.zero_(), lambda i: i.add_(1)], ids=["zero_", "add_"]
)
def test_indices_modified_in_place_fail_backward_as_torch(function, keepdim, modify):
    expected = _backward_error(torch, function, keepdim, modify)
    assert _backward_error(gradienti, function, keepdim, modify) == expected


def test_zero_dim_indices_modified_in_place_fail_backward_as_torch():
    def error(lib):
        x = lib.tensor(3.0, requires_grad=True)
        values, indices = x.max(0)
        indices.fill_(0)
        with pytest.raises(RuntimeError) as caught:
            values.backward()
        return str(caught.value)

    assert error(gradienti) == error(torch)


def test_unmodified_indices_keep_the_gradient():
    grads = []
    for lib in (torch, gradienti):
        x = lib.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]], requires_grad=True)
        values, indices = x.min(1)
        indices.clone().zero_()  # a copy changed: the saved indices are untouched
        values.backward(lib.tensor([1.0, 2.0]))
        grads.append(x.grad.tolist())
    assert grads[0] == grads[1]
