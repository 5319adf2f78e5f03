"""Tensors built from shapes and positions: ``meshgrid``, ``cartesian_prod`` and
``combinations`` (grids of the inputs' values, differentiable: views, expansions, selections
and a stack, as PyTorch composes them), ``tril_indices``/``triu_indices`` (the coordinates of
a triangle), ``nonzero``/``argwhere`` (the coordinates of the nonzero elements),
``unravel_index`` (flat positions as coordinates) and ``one_hot`` (``F.one_hot``; PyTorch
2.13 has no ``torch.one_hot``).

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).
"""

from __future__ import annotations

import warnings

from ..arguments import check_int
from ..backend import SCALAR_TYPE_NAMES, xp
from ..graph.node import NO_EDGE
from ..tensor import Tensor, wrap
from .call_forms import INTERNAL_OVERLAP_ERROR, OVERLAP_ERROR
from .call_forms import _overlap as overlap_status
from .call_forms import _write as write_into
from .declare import declare
from .join import stack
from .shape import ViewBackward0, expand_tensor, flatten, view_op

_MESHGRID_WARNING = (
    "torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument."
)


def _tensor_sequence(tensors: tuple) -> list:
    """``f(a, b)`` and ``f([a, b])`` / ``f((a, b))`` alike."""
    if len(tensors) == 1 and isinstance(tensors[0], list | tuple):
        return list(tensors[0])
    return list(tensors)


def meshgrid(*tensors, indexing: str | None = None):
    """Grids of the inputs' values: with ``indexing='ij'`` output i varies along dim i; with
    ``'xy'`` the first two dims are swapped (``x`` along columns). Views of the inputs."""
    tensors = _tensor_sequence(tensors)
    if indexing is None:
        warnings.warn(_MESHGRID_WARNING, UserWarning, stacklevel=2)
        indexing = "ij"
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    for tensor in tensors:
        if tensor._data.ndim > 1:
            raise RuntimeError(
                "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
                f"tensor of shape {list(tensor._data.shape)}"
            )
    if any(tensor._data.dtype != tensors[0]._data.dtype for tensor in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    sizes = [tensor._data.size for tensor in tensors]
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) >= 2:
        axes[0], axes[1] = 1, 0
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for tensor, axis in zip(tensors, axes):
        shape = [1] * len(tensors)
        shape[axis] = tensor._data.size
        grids.append(expand_tensor(view_op(ViewBackward0, tensor, shape), sizes))
    return tuple(grids)


def cartesian_prod(*tensors):
    """Every combination of the inputs' elements, one per row (the first input varies
    slowest); one input is returned as it is."""
    for tensor in tensors:
        if tensor._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(tensor._data.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([flatten(grid) for grid in grids], 1)


def combinations(input, r: int = 2, with_replacement: bool = False):
    """The ``r``-element combinations of a 1-D tensor's elements, one per row, in
    lexicographic order of positions (with_replacement: positions may repeat), as PyTorch
    builds them: a grid of ``r`` copies, the cells with increasing positions selected."""
    r = check_int(r, "combinations", "r", 2)
    if input._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input._data.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return wrap(xp.empty((0,), dtype=input._data.dtype), NO_EDGE)
    positions = xp.indices((input._data.size,) * r)
    increasing = xp.ones(positions.shape[1:], dtype=bool)
    for earlier, later in zip(positions[:-1], positions[1:]):
        increasing &= earlier <= later if with_replacement else earlier < later
    mask = wrap(increasing, NO_EDGE)
    grids = meshgrid(*([input] * r), indexing="ij")
    return stack([grid.masked_select(mask) for grid in grids], 1)


def _triangle_indices(name: str, upper: bool, row: int, col: int, offset: int, dtype):
    row, col = check_int(row, name, "row", 1), check_int(col, name, "col", 2)
    offset = check_int(offset, name, "offset", 3)
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    np_dtype = xp.dtype(xp.int64) if dtype is None else dtype.np
    if np_dtype not in (xp.int64, xp.int32):  # (PyTorch's index types only)
        type_name = SCALAR_TYPE_NAMES.get(np_dtype.name, np_dtype.name)
        raise NotImplementedError(f"\"{name}\" not implemented for '{type_name}'")
    # Row-major order over the triangle: row i, columns j with j - i <= offset (or >= offset).
    rows, cols = xp.indices((row, col)).reshape(2, -1)
    inside = cols - rows >= offset if upper else cols - rows <= offset
    return wrap(xp.stack([rows[inside], cols[inside]]).astype(np_dtype), NO_EDGE)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the lower triangle of a row×col matrix (``offset`` moves the
    diagonal up), in row-major order."""
    return _triangle_indices("tril_indices", False, row, col, offset, dtype)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None, layout=None):
    """The (2, N) coordinates of the upper triangle, in row-major order."""
    return _triangle_indices("triu_indices", True, row, col, offset, dtype)


def nonzero(input, *, out=None, as_tuple: bool = False):
    """The coordinates of the nonzero elements, in row-major order: an (N, ndim) int64 tensor,
    or (``as_tuple``) one 1-D tensor per dim (a 0-d input counts as 1-d)."""
    if out is not None:
        return _nonzero_into(input, out, as_tuple)
    data = input._data
    if as_tuple:
        coordinates = xp.nonzero(xp.reshape(data, (1,)) if data.ndim == 0 else data)
        return tuple(wrap(xp.asarray(c, dtype=xp.int64), NO_EDGE) for c in coordinates)
    if data.ndim == 0:
        return wrap(xp.zeros((int(data != 0), 0), dtype=xp.int64), NO_EDGE)
    return wrap(xp.argwhere(data).astype(xp.int64), NO_EDGE)


def _nonzero_into(input, out, as_tuple: bool):
    """``nonzero(input, out=out)``: PyTorch's checks, then the coordinates written into
    ``out`` (resized as any out is) and ``out`` returned."""
    if as_tuple:
        raise RuntimeError("nonzero does not support the out kwarg when as_tuple is True")
    if not isinstance(out, Tensor):
        raise TypeError(f"nonzero(): argument 'out' must be Tensor, not {type(out).__name__}")
    out_dtype = out._data.dtype
    if out_dtype != xp.int64:
        raise RuntimeError(
            "nonzero: Expected out tensor to have scalar type Long but got scalar type"
            f"{SCALAR_TYPE_NAMES[out_dtype.name]}"
        )
    target = out._data
    if any(stride == 0 and size > 1 for size, stride in zip(target.shape, target.strides)):
        raise RuntimeError(INTERNAL_OVERLAP_ERROR)
    if overlap_status(target, input._data) in ("full", "partial"):
        raise RuntimeError(OVERLAP_ERROR)
    write_into(nonzero(input), out)
    return out


def argwhere(input):
    return nonzero(input)


def unravel_index(indices, shape):
    """The coordinates in ``shape`` of flat positions, one int64 tensor per dim: position
    // (product of the later sizes) % size, so positions outside the shape wrap around (as
    PyTorch's, negative ones included)."""
    if not isinstance(indices, Tensor):
        raise AttributeError(f"'{type(indices).__name__}' object has no attribute 'is_complex'")
    if indices._data.dtype.kind not in "iu":
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    if isinstance(shape, int):
        shape = (shape,)
    elif not isinstance(shape, tuple | list):
        raise TypeError(f"expected 'shape' to be int or sequence of ints, but got {type(shape)}")
    for size in shape:
        if not isinstance(size, int):
            raise TypeError(f"expected 'shape' sequence to only contain ints, but got {type(size)}")
    shape = tuple(shape)
    if any(size < 0 for size in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    positions = xp.asarray(indices._data).astype(xp.int64)
    later = 1
    coordinates = []
    for size in reversed(shape):
        if size == 0 and positions.size:
            raise RuntimeError("ZeroDivisionError")  # (PyTorch's integer % 0)
        coordinates.append((positions // later) % size if size else positions * 0)
        later *= size
    return tuple(wrap(coordinate, NO_EDGE) for coordinate in reversed(coordinates))


def one_hot(tensor, num_classes: int = -1):
    """``F.one_hot``: int64, one more dim of size ``num_classes`` (-1: the largest class + 1)."""
    if not isinstance(tensor, Tensor) or tensor._data.dtype != xp.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    num_classes = check_int(num_classes, "one_hot", "num_classes", 2)
    classes = xp.asarray(tensor._data)
    if classes.size == 0:
        if num_classes == -1:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        return wrap(xp.zeros(classes.shape + (num_classes,), dtype=xp.int64), NO_EDGE)
    if classes.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        num_classes = int(classes.max()) + 1
    elif classes.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return wrap((classes[..., None] == xp.arange(num_classes)).astype(xp.int64), NO_EDGE)


DECLARATIONS = (
    declare("meshgrid", meshgrid, method=None),  # records ViewBackward0, ExpandBackward0
    declare("cartesian_prod", cartesian_prod, method=None),  # and StackBackward0
    declare("combinations", combinations, method=None),  # and MaskedSelectBackward0
    declare("tril_indices", tril_indices, method=None),
    declare("triu_indices", triu_indices, method=None),
    declare("nonzero", nonzero),
    declare("argwhere", argwhere),
    declare("unravel_index", unravel_index, method=None),
)
