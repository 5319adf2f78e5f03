"""The names PyTorch's messages give Python types: CPython's ``tp_name``."""

from __future__ import annotations

_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class defined in Python


def type_name(value) -> str:
    """The name CPython prints for ``type(value)`` (its ``tp_name``): ``str``, ``Tensor``, and
    a C extension's type with its module, ``numpy.float64``."""
    kind = type(value)
    module = kind.__module__
    if module == "builtins" or kind.__flags__ & _HEAP_TYPE:
        return kind.__name__
    return f"{module}.{kind.__name__}"
