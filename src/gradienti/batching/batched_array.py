"""BatchedArray: the value of a tensor inside ``vmap``, one sample's worth as the code sees it.

A gradienti op computes on ``tensor._data`` with NumPy functions, forward and backward. Inside
``vmap`` that ``_data`` is a BatchedArray: it holds the *physical* array, every sample's value
stacked along axis 0, and presents the *logical* array, one sample's: ``shape``, ``ndim``,
``size``, ``dtype``, indexing and the ndarray methods ops call are the logical array's. NumPy
hands every ufunc and array function called on it to its ``__array_ufunc__`` (NEP 13) and
``__array_function__`` (NEP 18), whose batching rules (ufunc_rules.py, function_rules.py,
indexing.py) compute the op once on the physical array, the logical axes shifted by one. An
op without a rule runs once per sample (fallback.py), with PyTorch's performance warning.

Nested vmap: the physical array of a level-``n`` BatchedArray is itself a BatchedArray of a
smaller (outer) level, or a plain array; levels.py numbers them. A rule works on the largest
level among its arguments and treats every other value (a plain array, a number, a
BatchedArray of an outer level) as the same for every sample of that level; what it calls on
the physical arrays dispatches again for the outer levels.

Values leave the batched world only through ``vmap``'s outputs: ``item()``, ``float()``,
``bool()`` (data-dependent control flow), ``tolist()`` and conversion to a NumPy array raise
PyTorch's errors, so that no code silently reads one sample for all.
"""

from __future__ import annotations

from numpy.lib.mixins import NDArrayOperatorsMixin

from ..backend import xp
from .levels import depth_of, under_transform

ITEM_ERROR = (
    "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over "
    "calling .item() on a Tensor, please try to rewrite what you're doing with other "
    "operations. If error is occurring somewhere inside PyTorch internals, please file a bug "
    "report."
)
CONTROL_FLOW_ERROR = (
    "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. "
    "We don't support that yet, please file an issue at https://github.com/pytorch/pytorch/issues ."
)
# The message for either, when the value is read inside a transform (grad, vjp...) inside vmap.
TRANSFORMED_LEAVING_ERROR = (
    "vmap: It looks like you're either (1) calling .item() on a Tensor or (2) attempting to use a "
    "Tensor in some data-dependent control flow or (3) encountering this error in PyTorch "
    "internals. For (1): we don't support vmap over calling .item() on a Tensor, please try to "
    "rewrite what you're doing with other operations. For (2): we don't support data-dependent "
    "control flow in vmap yet, please file an issue at https://github.com/pytorch/pytorch/issues "
    ". For (3): please file an issue."
)
NO_STORAGE_ERROR = "Cannot access data pointer of Tensor that doesn't have storage"
IN_PLACE_ERROR = (
    "vmap: {op}(self, *extra_args) is not possible because there exists a Tensor `other` in "
    "extra_args that has more elements than `self`. This happened due to `other` being vmapped "
    "over but `self` not being vmapped over in a vmap. Please try to use out-of-place operators "
    "instead of {op}. If said operator is being called inside the PyTorch framework, please "
    "file a bug report instead."
)


class BatchedArray(NDArrayOperatorsMixin):
    """One sample of ``physical`` (axis 0 is the batch of vmap level ``level``)."""

    __slots__ = ("physical", "level", "__weakref__")

    # Above Tensor's 1000: a mixed ndarray/BatchedArray expression comes here.
    __array_priority__ = 2000

    def __init__(self, physical, level: int) -> None:
        self.physical = physical
        self.level = level

    # ------------------------------------------------------------------ the logical array
    @property
    def shape(self) -> tuple:
        return self.physical.shape[1:]

    @property
    def ndim(self) -> int:
        return self.physical.ndim - 1

    @property
    def size(self) -> int:
        count = 1
        for length in self.physical.shape[1:]:
            count *= length
        return count

    @property
    def dtype(self):
        return self.physical.dtype

    @property
    def itemsize(self) -> int:
        return self.physical.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.size * self.physical.dtype.itemsize

    @property
    def batch_size(self) -> int:
        return self.physical.shape[0]

    @property
    def strides(self) -> tuple:
        return self.physical.strides[1:]

    @property
    def flags(self):
        """The physical array's (contiguous per sample when it is contiguous)."""
        return self.physical.flags

    # It owns its memory as far as version counters see (graph/versions.py).
    base = None

    @property
    def T(self):  # noqa: N802 - ndarray's name
        return xp.transpose(self)

    @property
    def mT(self):  # noqa: N802 - ndarray's name
        return xp.swapaxes(self, -1, -2)

    def __len__(self) -> int:
        shape = self.physical.shape
        if len(shape) < 2:
            raise TypeError("len() of unsized object")
        return shape[1]

    def __iter__(self):
        return (self[index] for index in range(len(self)))

    # ------------------------------------------------------------------ leaving vmap: refused
    def item(self, *args):
        raise transformed_leaving(ITEM_ERROR)

    def __float__(self):
        raise transformed_leaving(ITEM_ERROR)

    def __int__(self):
        raise transformed_leaving(ITEM_ERROR)

    def __index__(self):
        raise transformed_leaving(ITEM_ERROR)

    def __complex__(self):
        raise transformed_leaving(ITEM_ERROR)

    def __bool__(self):
        raise transformed_leaving(CONTROL_FLOW_ERROR)

    def tolist(self):
        raise RuntimeError(NO_STORAGE_ERROR)

    def tobytes(self, *args, **kwargs):
        raise RuntimeError(NO_STORAGE_ERROR)

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError(NO_STORAGE_ERROR)

    # ------------------------------------------------------------------ ndarray's methods
    # Each is the NumPy function of the same name, so that its batching rule applies.
    def astype(self, dtype, order="K", casting="unsafe", subok=True, copy=True):
        return BatchedArray(self.physical.astype(dtype, casting=casting, copy=copy), self.level)

    def copy(self, order="C"):
        return BatchedArray(self.physical.copy(), self.level)

    def view(self, *args, **kwargs):
        return BatchedArray(self.physical.view(*args, **kwargs), self.level)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return xp.reshape(self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], int)):
            axes = axes[0]
        return xp.transpose(self, axes or None)

    def swapaxes(self, axis1, axis2):
        return xp.swapaxes(self, axis1, axis2)

    def squeeze(self, axis=None):
        return xp.squeeze(self, axis)

    def ravel(self, order="C"):
        return xp.ravel(self)

    def flatten(self, order="C"):
        return xp.ravel(self).copy()

    def sum(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        return xp.sum(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)

    def mean(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        return xp.mean(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)

    def prod(self, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        return xp.prod(self, axis=axis, dtype=dtype, out=out, keepdims=keepdims, **kwargs)

    def max(self, axis=None, out=None, keepdims=False, **kwargs):
        return xp.max(self, axis=axis, out=out, keepdims=keepdims, **kwargs)

    def min(self, axis=None, out=None, keepdims=False, **kwargs):
        return xp.min(self, axis=axis, out=out, keepdims=keepdims, **kwargs)

    def all(self, axis=None, out=None, keepdims=False, **kwargs):
        return xp.all(self, axis=axis, out=out, keepdims=keepdims, **kwargs)

    def any(self, axis=None, out=None, keepdims=False, **kwargs):
        return xp.any(self, axis=axis, out=out, keepdims=keepdims, **kwargs)

    def std(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
        return xp.std(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs)

    def var(self, axis=None, dtype=None, out=None, ddof=0, keepdims=False, **kwargs):
        return xp.var(self, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims, **kwargs)

    def argmax(self, axis=None, out=None, keepdims=False):
        return xp.argmax(self, axis=axis, out=out, keepdims=keepdims)

    def argmin(self, axis=None, out=None, keepdims=False):
        return xp.argmin(self, axis=axis, out=out, keepdims=keepdims)

    def cumsum(self, axis=None, dtype=None, out=None):
        return xp.cumsum(self, axis=axis, dtype=dtype, out=out)

    def cumprod(self, axis=None, dtype=None, out=None):
        return xp.cumprod(self, axis=axis, dtype=dtype, out=out)

    def clip(self, min=None, max=None, out=None, **kwargs):  # noqa: A002 - ndarray's names
        return xp.clip(self, min, max, out=out, **kwargs)

    def round(self, decimals=0, out=None):
        return xp.round(self, decimals, out=out)

    def repeat(self, repeats, axis=None):
        return xp.repeat(self, repeats, axis)

    def take(self, indices, axis=None, out=None, mode="raise"):
        return xp.take(self, indices, axis=axis, out=out, mode=mode)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return xp.diagonal(self, offset, axis1, axis2)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        return xp.trace(self, offset, axis1, axis2, dtype=dtype, out=out)

    def dot(self, other):
        return xp.dot(self, other)

    def nonzero(self):
        return xp.nonzero(self)

    def sort(self, axis=-1, kind=None, order=None):
        # In place: into this array's memory, which its views share.
        self.physical[...] = xp.sort(self, axis=axis, kind=kind).physical

    def argsort(self, axis=-1, kind=None, order=None):
        return xp.argsort(self, axis=axis, kind=kind)

    def fill(self, value) -> None:
        xp.copyto(self, value)

    # ------------------------------------------------------------------ printing
    def __repr__(self) -> str:
        inner = repr(self.physical).replace("\n", "\n    ")
        return f"BatchedArray(lvl={depth_of(self.level)}, bdim=0, value=\n    {inner}\n)"


def transformed_leaving(message: str) -> RuntimeError:
    """The error for a batched value read as a number or a condition: ``message``, or, inside a
    function transform inside the innermost vmap, PyTorch's message for a transformed tensor."""
    return RuntimeError(TRANSFORMED_LEAVING_ERROR if under_transform() else message)


# ---------------------------------------------------------------------- levels of values
def level_of(value) -> int:
    """The vmap level of a value: 0 for anything that is not a BatchedArray."""
    return value.level if type(value) is BatchedArray else 0


def top_level(values) -> int:
    """The largest vmap level among ``values`` (0: none is batched)."""
    level = 0
    for value in values:
        if type(value) is BatchedArray and value.level > level:
            level = value.level
    return level


def logical_ndim(value) -> int:
    return value.ndim if type(value) is BatchedArray else xp.ndim(value)


def physical_at(value, level: int):
    """``value``'s physical array if it is batched at ``level``, else ``value`` itself."""
    if type(value) is BatchedArray and value.level == level:
        return value.physical
    return value


def batch_size_at(values, level: int) -> int:
    for value in values:
        if type(value) is BatchedArray and value.level == level:
            return value.physical.shape[0]
    raise AssertionError("no value is batched at this level")


def wrap_at(physical, level: int):
    return BatchedArray(physical, level)


def with_batch_rank(physical, rank: int):
    """A physical array (batch first) whose logical rank is raised to ``rank`` by size-1 axes
    after the batch axis: how a batched operand lines up with others under broadcasting."""
    missing = rank - (physical.ndim - 1)
    if missing <= 0:
        return physical
    shape = physical.shape
    return physical.reshape(shape[:1] + (1,) * missing + shape[1:])


def normalize_axis(axis: int, ndim: int) -> int:
    """A logical axis in ``range(ndim)`` (NumPy's AxisError otherwise)."""
    if not -ndim <= axis < ndim:
        raise xp.exceptions.AxisError(axis, ndim)
    return axis % ndim


def shift_axes(axis, ndim: int):
    """Logical axis (an int or a tuple of them) -> the physical one (batch axis first)."""
    if isinstance(axis, (tuple, list)):
        return tuple(normalize_axis(int(a), ndim) + 1 for a in axis)
    return normalize_axis(int(axis), ndim) + 1


def all_axes(ndim: int) -> tuple:
    """Every logical axis, as physical axes."""
    return tuple(range(1, ndim + 1))


def broadcast_batch(value, size: int):
    """``value`` (not batched at the level in question) as a physical array of that level: the
    same for every sample (a read-only broadcast, no copy)."""
    return xp.broadcast_to(value, (size,) + tuple(xp.shape(value)))


def lift_copy(value, level: int, size: int) -> BatchedArray:
    """``value`` (not batched at ``level``) as a writable BatchedArray of ``level``: a copy per
    sample, so that a write of per-sample values into it can follow."""
    return BatchedArray(xp.copy(broadcast_batch(value, size)), level)


def flat_values(values):
    """Every value in ``values``, tuples, lists and dicts (an index key, an array function's
    arguments) searched."""
    for value in values:
        if type(value) in (tuple, list):
            yield from flat_values(value)
        elif type(value) is dict:
            yield from flat_values(value.values())
        else:
            yield value


def copy_for_writing(array, *sources) -> object:
    """A copy of ``array`` that ``sources`` (the values and index arrays about to be written
    into it; tuples of them searched) can be written into: batched at their largest level if
    ``array`` is not."""
    sources = tuple(flat_values(sources))
    level = top_level(sources)
    if level > level_of(array):
        return lift_copy(array, level, batch_size_at(sources, level))
    return array.copy() if type(array) is BatchedArray else xp.array(array, copy=True)


def writable_for(array, *values):
    """``array``, a fresh result that an op is about to update in place with ``values``; or,
    when a value is batched at a level the array is not, a batched copy of it to update
    instead (an in-place update cannot put per-sample values into one array). Tuples among
    ``values`` (an index key) are searched."""
    values = tuple(flat_values(values))
    level = top_level(values)
    if level <= level_of(array):
        return array
    return lift_copy(array, level, batch_size_at(values, level))


def write(target, value, op_name: str, top: bool = True):
    """``target[...] = value`` (cast unsafely, as ``np.copyto``), for ``out=`` arguments and
    in-place writes; returns the array that now holds the result: ``target`` itself, or, for
    a physical array that must hold values of an outer level it was the same for, a batched
    copy that the caller puts in its place. At the top (the user's tensor), a target that is
    the same for every sample cannot take per-sample values: PyTorch's in-place error."""
    level = top_level((target, value))
    if not level:
        xp.copyto(target, value, casting="unsafe")
        return target
    if type(target) is BatchedArray and target.level == level:
        if type(value) is BatchedArray and value.level == level:
            value = with_batch_rank(value.physical, target.ndim)
        target.physical = write(target.physical, value, op_name, top=False)
        return target
    if top:
        raise RuntimeError(IN_PLACE_ERROR.format(op=op_name))
    lifted = lift_copy(target, level, batch_size_at((value,), level))
    return write(lifted, value, op_name, top=False)


def add_batch_dim(array, dim: int, level: int, size: int | None = None):
    """``array``'s axis ``dim`` made the batch axis of ``level`` (a new level: larger than
    every level in ``array``, or an older one when a graph made under it runs backward
    later: then the batch goes under the newer levels, keeping levels decreasing inwards).
    ``dim`` None: the array is the same for every sample (broadcast to ``size``)."""
    if type(array) is BatchedArray and array.level > level:
        inner_dim = None if dim is None else dim + 1
        return BatchedArray(add_batch_dim(array.physical, inner_dim, level, size), array.level)
    if dim is None:
        return BatchedArray(broadcast_batch(array, size), level)
    return BatchedArray(xp.moveaxis(array, dim, 0) if dim else array, level)


def remove_batch_dim(array, level: int, size: int, out_dim: int):
    """The physical array of ``level`` with its batch axis at ``out_dim`` (an array not
    batched at ``level`` is broadcast along a new axis there: the same for every sample)."""
    if type(array) is BatchedArray:
        if array.level == level:
            physical = array.physical
            return xp.moveaxis(physical, 0, out_dim) if out_dim else physical
        if array.level > level:
            inner = remove_batch_dim(array.physical, level, size, out_dim + 1)
            return BatchedArray(inner, array.level)
    expanded = xp.expand_dims(array, out_dim)
    shape = list(xp.shape(expanded))
    shape[out_dim] = size
    return xp.broadcast_to(expanded, tuple(shape))


def sum_batch_dim(array, level: int):
    """The sum over the samples of ``level`` (an array not batched at it is returned as is):
    the gradient of a value that was the same for every sample."""
    if type(array) is BatchedArray:
        if array.level == level:
            return array.physical.sum(axis=0)
        if array.level > level:
            return BatchedArray(sum_batch_dim(array.physical, level), array.level)
    return array


def levels_in(array) -> set:
    """Every vmap level ``array`` is batched at (the empty set for a plain array)."""
    levels = set()
    while type(array) is BatchedArray:
        levels.add(array.level)
        array = array.physical
    return levels


def check_in_place(target, value, op_name: str) -> None:
    """PyTorch's in-place error when ``value``, about to be written into the user's tensor
    whose array is ``target``, is batched at a vmap level that ``target`` is not (it holds one
    value there, and per-sample values do not fit in it), at any nesting depth."""
    if not levels_in(value) <= levels_in(target):
        raise RuntimeError(IN_PLACE_ERROR.format(op=op_name))


def is_batched_at(array, level: int) -> bool:
    while type(array) is BatchedArray:
        if array.level == level:
            return True
        if array.level < level:
            return False
        array = array.physical
    return False
