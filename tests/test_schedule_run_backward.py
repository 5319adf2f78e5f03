"""The reference loop (autograd/schedule.run_backward) called with only the arguments its
signature requires: ``create_graph=True`` alone records the VJPs (on Tensors), so a second
derivative through the captured gradient is right (against the closed form)."""

import numpy as np

import gradienti
from gradienti.autograd.schedule import run_backward


def test_create_graph_alone_records_the_vjps_on_tensors():
    x = gradienti.tensor([1.0, 2.0, 3.0], dtype=gradienti.float64, requires_grad=True)
    y = (x * x * x).sum()
    root = gradienti.ones((), dtype=gradienti.float64)
    (first,) = run_backward([(y._edge, root)], True, True, [x._edge], accumulate=False)
    assert first.grad_fn is not None  # 3 x^2, recorded
    (second,) = gradienti.autograd.grad(first.sum(), x)
    np.testing.assert_allclose(second.numpy(), 6 * x.detach().numpy())
