"""In-place arithmetic: the optimizer-step patterns, and what a recorded in-place op keeps valid."""

import numpy as np
import pytest
from same_outcome import pytorch_text

import gradienti


def test_data_update_outside_no_grad_changes_the_parameter():
    w = gradienti.tensor([1.0, 2.0], requires_grad=True)
    w.data -= 0.5 * gradienti.tensor([2.0, 2.0])
    assert w.tolist() == [0.0, 1.0]
    assert w.requires_grad and w.is_leaf


def test_update_under_no_grad_keeps_the_leaf_and_shared_memory():
    array = np.array([1.0, 2.0], dtype=np.float32)
    w = gradienti.from_numpy(array).requires_grad_()
    with gradienti.no_grad():
        w -= 1.0
        w *= 2.0
    assert w.tolist() == [0.0, 2.0]
    assert array.tolist() == [0.0, 2.0]  # the same memory
    assert w.requires_grad and w.is_leaf and w.grad_fn is None


def test_leaf_that_requires_grad_refuses_in_place_with_grad_on():
    w = gradienti.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        w += 1
    assert pytorch_text(str(info.value)) == (
        "a leaf Variable that requires grad is being used in an in-place operation."
    )
    assert w.tolist() == [1.0, 2.0]


def test_recorded_in_place_op_becomes_the_output_and_keeps_saved_values():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y += 1  # y is not saved by anything: PyTorch allows this too
        z = (y * y).sum()
        z.backward()
        results.append((type(y.grad_fn).__name__, y.tolist(), x.grad.tolist()))
    assert results[0] == results[1]


def test_in_place_on_saved_tensor_raises_at_backward_like_torch():
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (gradienti, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        a = x * 2
        b = a * a  # saves a
        a.add_(1)
        with pytest.raises(RuntimeError) as info:
            b.sum().backward()
        messages.append(str(info.value))
        assert x.grad is None  # nothing was accumulated
    assert messages[0] == messages[1]


def test_modified_saved_output_raises_like_torch():
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (gradienti, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x.sigmoid()  # saves its output
        y.mul_(2)
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_leaf_modified_under_no_grad_after_being_saved_raises_like_torch():
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (gradienti, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * x
        with lib.no_grad():
            x.mul_(1)
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
        messages.append(str(info.value))
        assert x._version == 1
    assert messages[0] == messages[1]


def test_leaf_modified_when_not_saved_is_fine_like_torch():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (gradienti, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2  # keeps only the number 2
        z = x.exp()  # keeps its output
        with lib.no_grad():
            x.add_(1)
        (y + z).sum().backward()
        grads.append([round(v, 4) for v in x.grad.tolist()])
    assert grads[0] == grads[1]


def test_view_of_leaf_refuses_in_place_like_torch():
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (gradienti, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            x[0].add_(1)
        messages.append(str(info.value))
    assert pytorch_text(messages[0]) == messages[1]
    assert messages[1] == (
        "a view of a leaf Variable that requires grad is being used in an in-place operation."
    )


def test_version_counter_counts_in_place_ops():
    x = gradienti.tensor([1.0, 2.0])
    assert x._version == 0
    x.add_(1)
    x.mul_(2)
    assert x._version == 2
    y = gradienti.tensor([1.0, 2.0], requires_grad=True) * 1
    y.add_(1)
    assert y._version == 1


def test_integer_tensor_refuses_a_float_result_in_place():
    torch = pytest.importorskip("torch")
    for lib in (gradienti, torch):
        a = lib.tensor([1, 2])
        with pytest.raises(RuntimeError) as info:
            a += 1.5
        assert str(info.value) == "result type Float can't be cast to the desired output type Long"
        assert a.tolist() == [1, 2]


def test_zero_and_fill():
    t = gradienti.tensor([1.0, 2.0])
    assert t.fill_(3.0).tolist() == [3.0, 3.0]
    assert t.zero_().tolist() == [0.0, 0.0]


@pytest.mark.parametrize(
    "apply",
    [
        lambda t: t.pow_(2),
        lambda t: t.exp_(),
        lambda t: t.relu_(),
        lambda t: t.mul_(2.5),
        lambda t: t.div_(2.0),
        lambda t: t.sub_(1.5, alpha=2),
    ],
    ids=["pow_", "exp_", "relu_", "mul_", "div_", "sub_alpha"],
)
def test_in_place_ops_on_non_leaf_match_torch(apply):
    torch = pytest.importorskip("torch")
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 1.5
        same = apply(y)
        assert same is y
        (y * lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64)).sum().backward()
        results.append((y.tolist(), x.grad.tolist(), type(y.grad_fn).__name__, y._version))
    assert results[0] == results[1]


def test_copy_is_differentiable_in_the_source_like_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (gradienti, torch):
        src = lib.tensor([1.0, 2.0], requires_grad=True)
        dst = lib.zeros(3, 2, dtype=lib.float64)
        dst.copy_(src)
        (dst * lib.arange(6, dtype=lib.float64).reshape(3, 2)).sum().backward()
        results.append((dst.tolist(), src.grad.tolist(), type(dst.grad_fn).__name__))
    assert results[0] == results[1]


def test_random_fills_in_place():
    gradienti.manual_seed(0)
    t = gradienti.empty(1000)
    assert t.uniform_(-2.0, 3.0) is t
    values = t.numpy()
    assert values.min() >= -2.0 and values.max() < 3.0 and values.std() > 1.0
    t.normal_(10.0, 0.5)
    assert abs(t.numpy().mean() - 10.0) < 0.1
    leaf = gradienti.zeros(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        leaf.normal_()
    with gradienti.no_grad():
        leaf.uniform_()
    assert leaf.requires_grad and leaf.is_leaf


def test_in_place_op_that_modifies_its_own_saved_operand_raises_like_torch():
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (gradienti, torch):
        x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x * 1.5
        y.mul_(y.detach())  # the detached operand shares y's memory, then y overwrites it
        with pytest.raises(RuntimeError) as info:
            y.sum().backward()
        messages.append(str(info.value))
    assert messages[0] == messages[1]
