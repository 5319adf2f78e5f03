"""What the torch.func tests share: the same inputs for gradienti and torch, and one comparison
of nested results (values, shapes, dtypes, requires_grad, structure)."""

from __future__ import annotations

import numpy as np
from same_outcome import pytorch_text

import gradienti


def arrays(*shapes, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def tensors(lib, *shapes, seed: int = 0) -> list:
    """float64 tensors of ``lib`` (gradienti or torch) with the same values for both."""
    return [lib.tensor(a) for a in arrays(*shapes, seed=seed)]


def assert_same(ours, theirs, torch, tol: float = 1e-10, path: str = "result") -> None:
    """Same structure (tuple, list, dict), and for each tensor the same shape, dtype,
    requires_grad and values (to ``tol``; signed zeros and NaNs as NumPy compares them)."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, gradienti.Tensor), f"{path}: {type(ours)} is not a Tensor"
        assert tuple(ours.shape) == tuple(theirs.shape), f"{path}: shape"
        assert str(ours.dtype) == str(theirs.dtype), f"{path}: dtype"
        assert ours.requires_grad == theirs.requires_grad, f"{path}: requires_grad"
        np.testing.assert_allclose(
            np.asarray(ours.detach().numpy()),
            theirs.detach().numpy(),
            rtol=tol,
            atol=tol,
            err_msg=path,
        )
    elif isinstance(theirs, (tuple, list)):
        assert type(ours) is type(theirs), f"{path}: {type(ours)} is not {type(theirs)}"
        assert len(ours) == len(theirs), f"{path}: length"
        for index, (a, b) in enumerate(zip(ours, theirs)):
            assert_same(a, b, torch, tol, f"{path}[{index}]")
    elif isinstance(theirs, dict):
        assert type(ours) is type(theirs) and list(ours) == list(theirs), f"{path}: keys"
        for key in theirs:
            assert_same(ours[key], theirs[key], torch, tol, f"{path}[{key!r}]")
    else:
        assert ours == theirs, f"{path}: {ours!r} != {theirs!r}"


def assert_same_error(call, torch) -> None:
    """``call(lib)`` raises the same exception class and text with both libraries (gradienti's
    text without its hint)."""
    try:
        call(torch)
    except Exception as error:  # noqa: BLE001 - whatever PyTorch raises is the reference
        theirs = error
    else:
        raise AssertionError("torch raised nothing")
    try:
        call(gradienti)
    except Exception as error:  # noqa: BLE001
        ours = error
    else:
        raise AssertionError(f"gradienti raised nothing; torch raised {theirs!r}")
    assert type(ours) is type(theirs), f"{type(ours).__name__}: {ours}\nvs {theirs!r}"
    assert pytorch_text(str(ours)) == str(theirs)
