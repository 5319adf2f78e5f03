"""The public API of the op modules: which functions become Tensor methods and ``gradienti.*``.

Each op module that adds public operations declares them in up to three tables:

* ``TENSOR_METHODS``: ``{name: function}`` bound onto Tensor (``x.log1p()``); the function
  takes the tensor as its first argument.
* ``FUNCTIONS``: ``{name: function}`` exported as ``gradienti.<name>`` (``torch.log1p(x)``).
* ``UFUNCS``: ``{numpy_ufunc: function}`` so that a VJP calling ``xp.<ufunc>`` on Tensors (a
  recorded backward) runs the differentiable op.

New areas of ops add their module to ``MODULES``; nothing else needs to change.
"""

from __future__ import annotations

from . import (
    activation,
    cast,
    clamp,
    conv,
    diagonal,
    einsum,
    extrema,
    indexing,
    inplace,
    join,
    linalg,
    logical,
    pointwise,
    rearrange,
    reduce,
    scatter,
    shape,
    softmax,
    special,
)

MODULES = (
    inplace,
    cast,
    pointwise,
    clamp,
    special,
    logical,
    activation,
    reduce,
    extrema,
    softmax,
    shape,
    rearrange,
    join,
    indexing,
    scatter,
    linalg,
    diagonal,
    einsum,
    conv,
)


def _merged(table: str) -> dict:
    merged: dict = {}
    for module in MODULES:
        for key, value in getattr(module, table, {}).items():
            if key in merged and merged[key] is not value:
                raise RuntimeError(f"{key!r} is declared twice in the op modules' {table}")
            merged[key] = value
    return merged


TENSOR_METHODS = _merged("TENSOR_METHODS")
FUNCTIONS = _merged("FUNCTIONS")
UFUNCS = _merged("UFUNCS")


def install_tensor_methods(tensor_class) -> None:
    """Bind the declared methods onto Tensor; a method Tensor defines itself is never replaced."""
    for name, function in TENSOR_METHODS.items():
        if name in vars(tensor_class):
            raise RuntimeError(f"Tensor.{name} is defined in tensor.py and in an op module")
        setattr(tensor_class, name, function)
