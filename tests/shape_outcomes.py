"""Shared by the shape and index tests (test_shape_misc.py, test_index_builders.py,
test_in_place_fills.py, test_cdist.py, test_shape_index_edges.py): results turned into
comparable data, the check that an action gives PyTorch's outcome, sample inputs, and the
warnings each library gives."""

import subprocess
import sys
import warnings

import numpy as np
from same_outcome import pytorch_text, same_outcome


def describe(result):
    """A result as comparable data: per tensor its shape, dtype name and values."""
    if isinstance(result, tuple | list):
        return type(result).__name__, [describe(item) for item in result]
    if hasattr(result, "detach"):
        values = result.detach().numpy()
        return tuple(result.shape), str(result.dtype), values.round(6).tolist()
    return result


def same(action):
    """``action(lib)`` gives the same values, dtypes and shapes (or error) in both libraries."""
    return same_outcome(lambda lib: describe(action(lib)))


def _t(lib, values, dtype=None):
    return lib.tensor(values, dtype=None if dtype is None else getattr(lib, dtype))


RNG = np.random.default_rng(0)
A = RNG.standard_normal((3, 4, 5))
V = RNG.standard_normal(6)


def _a(lib, array=A):
    return lib.tensor(array)


def _torch_warnings(code: str) -> list:
    """The warnings a fresh PyTorch process gives for ``code`` (PyTorch warns some once)."""
    script = (
        "import warnings, torch\nwarnings.simplefilter('always')\n"
        f"with warnings.catch_warnings(record=True) as caught:\n    {code}\n"
        "print(repr([str(w.message).split(' (Triggered internally')[0] for w in caught]))"
    )
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    return eval(output.stdout)  # noqa: S307 - our own script's repr of a list of strings


def _our_warnings(action) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    return [pytorch_text(str(w.message)) for w in caught]
