"""PyTorch's top-level in-place functions (``torch.exp_(x)``): gradienti binds every one whose
Tensor method it has; each modifies and returns its input as PyTorch's does."""

from __future__ import annotations

import numpy as np
import pytest
from same_outcome import pytorch_text

import gradienti
from gradienti.in_place_functions import PYTORCH_TOP_LEVEL_IN_PLACE

torch = pytest.importorskip("torch")

BOUND = sorted(name for name in PYTORCH_TOP_LEVEL_IN_PLACE if hasattr(gradienti, name))
VALUES = [[0.5, -1.25, 2.0], [-0.75, 0.0, 1.5]]
OTHER = [[2.0, 0.5, 3.0], [1.0, 4.0, 0.25]]

# Arguments after the tensor, per function (None: the tensor alone); lib is the library.
ARGUMENTS = {
    "clamp_": lambda lib: ((), {"min": -0.5, "max": 1.0}),
    "clip_": lambda lib: ((-1.0,), {}),
    "fill_": lambda lib: ((2.5,), {}),
    "xlogy_": lambda lib: ((lib.tensor(OTHER),), {}),
    "threshold_": lambda lib: ((0.1, 20.0), {}),
    "clamp_min_": lambda lib: ((0.0,), {}),
    "clamp_max_": lambda lib: ((0.0,), {}),
    "ldexp_": lambda lib: ((lib.tensor([[1.0, 2.0, 3.0]] * 2),), {}),
    "gcd_": None,  # integer ops: not run on this float input
    "lcm_": None,
    "logit_": lambda lib: ((), {"eps": 0.1}),
    "index_put_": lambda lib: (((lib.tensor([0, 1]), lib.tensor([2, 0])), lib.tensor(5.0)), {}),
}


def test_pytorchs_list_of_in_place_functions():
    assert list(PYTORCH_TOP_LEVEL_IN_PLACE) == [
        name for name in dir(torch) if name.endswith("_") and not name.startswith("_")
    ]


def test_every_in_place_method_of_that_list_is_a_function():
    methods = {name for name in PYTORCH_TOP_LEVEL_IN_PLACE if hasattr(gradienti.Tensor, name)}
    assert set(BOUND) == methods
    assert {"exp_", "relu_", "fill_", "zero_", "clamp_"} <= methods


@pytest.mark.parametrize("name", BOUND)
def test_the_function_is_the_method(name):
    assert getattr(gradienti, name) is getattr(gradienti.Tensor, name)


@pytest.mark.parametrize("name", [n for n in BOUND if ARGUMENTS.get(n, 0) is not None])
def test_modifies_and_returns_its_input_as_pytorch(name):
    def run(lib):
        x = lib.tensor(VALUES)
        make = ARGUMENTS.get(name)
        args, kwargs = make(lib) if make else ((), {})
        result = getattr(lib, name)(x, *args, **kwargs)
        assert result is x
        return x.detach().numpy()

    np.testing.assert_allclose(run(gradienti), run(torch), rtol=1e-6, equal_nan=True)


def test_in_place_on_a_leaf_that_requires_grad_raises_as_pytorch():
    def raised(lib):
        with pytest.raises(Exception) as info:
            lib.exp_(lib.ones(2, requires_grad=True))
        return type(info.value), pytorch_text(str(info.value))

    assert raised(gradienti) == raised(torch)


def test_recorded_in_place_gradient_as_pytorch():
    def grad(lib):
        x = lib.tensor(VALUES, requires_grad=True)
        y = x * 2
        lib.exp_(y)
        y.backward(lib.tensor(OTHER))
        return x.grad.numpy()

    np.testing.assert_allclose(grad(gradienti), grad(torch), rtol=1e-6)
