"""In-place arithmetic: the optimizer-step patterns, and what a recorded in-place op keeps valid."""

import numpy as np
import pytest

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
    assert str(info.value) == (
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
    assert messages[0] == messages[1]
    assert messages[0] == (
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
