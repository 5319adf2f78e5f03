"""What the checkpoint round-trip tests share: moving an object between gradienti and real
PyTorch through each one's save and load, deterministic inputs, and comparisons."""

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")


# --- moving objects between the libraries ------------------------------------------------------


def gradienti_to_torch(obj, tmp_path):
    """Write ``obj`` with gradienti.save, read it back with PyTorch's safe loader."""
    path = tmp_path / "from_gradienti.pt"
    gradienti.save(obj, path)
    return torch.load(path, weights_only=True)


def torch_to_gradienti(obj, tmp_path):
    """Write ``obj`` with torch.save, read it back with gradienti.load."""
    path = tmp_path / "from_torch.pt"
    torch.save(obj, path)
    return gradienti.load(path)


def to_numpy(value):
    """A gradienti or torch tensor's values as a NumPy array."""
    return np.asarray(value.detach().numpy())


def flat_outputs(output):
    """A module's output as a list of arrays (RNNs and attention return nested tuples)."""
    if isinstance(output, (tuple, list)):
        return [array for item in output for array in flat_outputs(item)]
    if output is None:
        return []
    return [to_numpy(output)]


def assert_same_arrays(actual, expected, rtol=1e-5, atol=1e-6):
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected):
        assert got.dtype == want.dtype
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# --- inputs -------------------------------------------------------------------------------------


def floats(*shape):
    """Deterministic, non-uniform inputs (a fresh generator per call site keeps cases apart)."""
    return np.random.default_rng(sum(shape) + len(shape)).standard_normal(shape).astype(np.float32)


def indices(high, *shape):
    return np.random.default_rng(high).integers(0, high, size=shape, dtype=np.int64)


def probabilities(*shape):
    return 1.0 / (1.0 + np.exp(-floats(*shape)))


def weights(n):
    return np.linspace(0.5, 2.0, n, dtype=np.float32)
