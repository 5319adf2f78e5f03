"""Shapes and dimension arguments: ``torch.Size`` and PyTorch's checks of ``dim``/``shape``."""

from __future__ import annotations


class Size(tuple):
    """A tensor's shape, printed as PyTorch prints it: ``torch.Size([2, 3])``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"torch.Size({list(self)})"

    # A slice, a concatenation or a repetition of a Size is a Size, as PyTorch's (an item is
    # an int); tuple's own methods would return plain tuples.
    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other):
        if not isinstance(other, tuple):
            raise TypeError(
                f"can only concatenate tuple (not {type(other).__name__}) to torch.Size"
            )
        return Size(tuple.__add__(self, other))

    def __radd__(self, other):
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, count):
        if not hasattr(count, "__index__"):
            raise TypeError(f"can't multiply sequence by non-int of type '{type(count).__name__}'")
        return Size(tuple.__mul__(self, count))

    __rmul__ = __mul__

    def numel(self) -> int:
        count = 1
        for size in self:
            count *= size
        return count


def normalize_dim(dim: int, ndim: int) -> int:
    """A dimension index in [0, ndim), with PyTorch's error for one out of range."""
    low, high = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not low <= dim <= high:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})"
        )
    return dim % ndim if ndim else 0


def normalize_dims(dim, ndim: int) -> tuple:
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    normalized = tuple(sorted({normalize_dim(d, ndim) for d in dims}))
    return normalized if dims else tuple(range(ndim))


def shape_arguments(shape: tuple) -> tuple:
    """``reshape(2, 3)`` and ``reshape((2, 3))`` alike."""
    if len(shape) == 1 and not isinstance(shape[0], int):
        shape = tuple(shape[0])
    return tuple(int(size) for size in shape)


def infer_shape(shape: tuple, numel: int) -> tuple:
    """Fill in one -1 in a requested shape; PyTorch's error when the sizes do not match."""
    known = 1
    for size in shape:
        if size != -1:
            known *= size
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if -1 in shape and known and numel % known == 0:
        shape = tuple(numel // known if size == -1 else size for size in shape)
    if Size(shape).numel() != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape
