"""PyTorch's checks of what a backward hook returned (``torch/csrc/autograd/python_hook.cpp``).

A hook may replace a gradient, but not with something of another kind: what it returns must be
a Tensor of the same dtype and shape as the gradient it was shown (else the next node would
receive a gradient that does not fit its input, and a leaf's ``.grad`` would silently change
shape or type), and node hooks return a tuple of the right length. The error texts are
PyTorch's. Used during a pass (autograd/hook_calls.py) and after the leaves' ``.grad`` are
written (autograd/leaves.py: the hooks of an AccumulateGrad).
"""

from __future__ import annotations

from ..backend import LEGACY_TYPE_NAMES
from ..tensor import Tensor


def check_replacements(hook, originals: tuple, replaced) -> None:
    """A node hook's result: a tuple as long as what it was shown, each entry a valid
    replacement of the gradient in its place."""
    if type(replaced) is not tuple:
        raise TypeError(f"expected tuple, but hook returned '{type_name(replaced)}'")
    if len(replaced) != len(originals):
        raise RuntimeError(
            f"hook '{hook_name(hook)}' has returned an incorrect number of values "
            f"(got {len(replaced)}, but expected {len(originals)})"
        )
    for original, value in zip(originals, replaced):
        if value is None:
            continue
        if original is None:
            raise RuntimeError("can't replace a None gradient with a non-None value")
        check_replacement(hook, original, value)


def check_replacement(hook, original: Tensor, replaced) -> None:
    """A tensor hook's result replaces ``original``: a Tensor of the same dtype and shape."""
    if not isinstance(replaced, Tensor):
        raise TypeError(f"expected Variable, but hook returned '{type_name(replaced)}'")
    was, got = original._data.dtype, replaced._data.dtype
    if was != got:
        raise RuntimeError(
            f"hook '{hook_name(hook)}' has changed the type of value (was "
            f"{_legacy_type(was)} got {_legacy_type(got)})"
        )
    if original._data.shape != replaced._data.shape:
        raise RuntimeError(f"hook '{hook_name(hook)}' has changed the size of value")


def hook_name(hook) -> str:
    """The name PyTorch's messages give a hook: its ``__name__``, else ``<unknown>``."""
    name = getattr(hook, "__name__", None)
    return name if isinstance(name, str) else "<unknown>"


_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class written in Python


def type_name(value) -> str:
    """The C ``tp_name`` PyTorch prints: ``int``, ``numpy.ndarray``, a Python class's name."""
    kind = type(value)
    module = kind.__module__
    if kind.__flags__ & _HEAP_TYPE or module == "builtins":
        return kind.__name__
    return f"{module}.{kind.__name__}"


def _legacy_type(dtype) -> str:
    return "torch." + LEGACY_TYPE_NAMES.get(dtype.name, dtype.name)
