"""A view of a 0-d tensor shares its memory, as in PyTorch. A 0-d tensor may hold a NumPy
scalar (immutable), so its views once wrapped a copy: ``y.view(1).add_(1)`` and a DLPack
export of ``y.view(())`` left ``y`` unchanged."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

VIEWS = {
    "view(())": lambda y: y.view(()),
    "view(1)": lambda y: y.view(1),
    "reshape(1, 1)": lambda y: y.reshape(1, 1),
    "unsqueeze(0)": lambda y: y.unsqueeze(0),
    "squeeze()": lambda y: y.squeeze(),
    "flatten()": lambda y: y.flatten(),
    "t()": lambda y: y.t(),
    "permute(())": lambda y: y.permute(()),
    "view_as": lambda y: y.view_as(y),
    "[...]": lambda y: y[...],
    "[None]": lambda y: y[None],
}


def zero_dim_tensors(module):
    """A created 0-d tensor and a 0-d op result (each holds a NumPy scalar in gradienti)."""
    return [module.tensor(3.0), module.ones(3).sum(), module.tensor(2) * 2]


@pytest.mark.parametrize("make_view", VIEWS.values(), ids=VIEWS.keys())
def test_an_in_place_write_into_a_view_reaches_the_zero_dim_base(make_view):
    for ours, theirs in zip(zero_dim_tensors(gradienti), zero_dim_tensors(torch)):
        make_view(ours).add_(5)
        make_view(theirs).add_(5)
        assert ours.item() == theirs.item()


@pytest.mark.parametrize("make_view", VIEWS.values(), ids=VIEWS.keys())
def test_a_dlpack_export_of_a_view_shares_the_zero_dim_base(make_view):
    y = gradienti.tensor(3.0)
    exported = torch.from_dlpack(make_view(y))
    exported.fill_(9.0)
    assert y.item() == 9.0
    np.from_dlpack(make_view(y))[...] = -1.0
    assert y.item() == -1.0
