"""An in-place op whose result requires grad, on a view of a tensor that does not: PyTorch
writes through the view and records CopySlices on the base (``out[:2].copy_(a * 2)`` leaves
``out`` requiring grad). gradienti cannot yet, and refuses before changing anything rather
than leave the base without the values (it silently did)."""

import numpy as np
import pytest

import gradienti


def _inputs():
    return gradienti.zeros(3), gradienti.tensor([1.0, 2.0], requires_grad=True)


@pytest.mark.parametrize(
    "write",
    [
        lambda out, a: out[:2].copy_(a * 2),
        lambda out, a: out[:2].add_(a),
        lambda out, a: out.view(3)[1:].mul_(a),
        lambda out, a: out.unsqueeze(0)[0, :2].sub_(a),
    ],
)
def test_a_recorded_write_into_a_view_is_refused_and_changes_nothing(write):
    out, a = _inputs()
    with pytest.raises(NotImplementedError, match="into a view of another tensor"):
        write(out, a)
    np.testing.assert_array_equal(out.numpy(), [0.0, 0.0, 0.0])
    assert out._version == 0 and a.grad is None


def test_writes_that_stay_correct_are_allowed():
    out, a = _inputs()
    out[:2] = a * 2  # index assignment records on out itself, as PyTorch
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2.0, 2.0])
    with gradienti.no_grad():  # unrecorded: written through, the base sees it
        base = gradienti.zeros(3)
        base[:2].add_(a)
    np.testing.assert_array_equal(base.numpy(), [1.0, 2.0, 0.0])
    fresh = gradienti.arange(6.0).reshape(2, 3)  # a view whose base no one else holds
    fresh.mul_(gradienti.ones(3, requires_grad=True))
    assert fresh.requires_grad
