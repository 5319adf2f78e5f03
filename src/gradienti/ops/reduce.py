"""Reductions over all elements or over dimensions: sum, mean, prod, var, std, norm,
count_nonzero, and the helpers that every reducing VJP shares.

Public operations are declared in TENSOR_METHODS / FUNCTIONS / UFUNCS (see ops/api.py).
max/min/amax/amin/argmax/argmin live in ops/extrema.py; softmax, log_softmax, logsumexp,
cumsum and cumprod in ops/softmax.py.

A reducing VJP first gives the gradient back the reduced dimensions (size 1, ``keep_dims``),
then lets broadcasting spread it over the input. The helpers below take raw arrays (the fast
backward) or Tensors (a recorded backward, ``create_graph=True``) and return the same kind.
"""

from __future__ import annotations

import warnings

from ..autograd.function import SAVE_BOTH, SAVE_INPUTS, SAVE_NOTHING, Op
from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, sum_dtype, xp
from ..size import normalize_dim
from ..tensor import Tensor, wrap
from .apply import unary
from .elementwise import where
from .shape import cast, expand, reshape

_INF = float("inf")


# ---------------------------------------------------------------------- shared helpers
def reduction_dims(dim, ndim: int) -> tuple:
    """``dim`` (None, an int or a sequence; None or empty: all) as sorted non-negative axes.

    PyTorch's errors for a dimension out of range or named twice. A 0-d tensor accepts dim
    0 or -1 but has no axis to reduce: the result is ``()``.
    """
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    normalized: list = []
    for d in dims:
        d = normalize_dim(d, ndim)
        if d in normalized:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        normalized.append(d)
    if not normalized or not ndim:
        return tuple(range(ndim))
    return tuple(sorted(normalized))


def one_dim(name: str, dim, ndim: int):
    """A single ``dim`` argument (softmax, cumsum, prod): normalised; None for a 0-d input."""
    if not isinstance(dim, int):
        raise TypeError(
            f"{name}(): argument 'dim' (position 1) must be int, not {type(dim).__name__}"
        )
    dim = normalize_dim(dim, ndim)
    return dim if ndim else None


def keep_dims(g, dims, keepdim, input_shape):
    """Reshape a reduced gradient so it broadcasts against the input (size 1 where reduced)."""
    if keepdim:
        return g
    kept = tuple(1 if i in dims else size for i, size in enumerate(input_shape))
    return reshape(g, kept)


def raw(value):
    """The array of a Tensor (a saved value during a recorded backward), else the value."""
    return value._data if type(value) is Tensor else value


def sum_keep(g, dims):
    """``g`` summed over ``dims`` (normalised axes), keeping them: arrays or Tensors."""
    if type(g) is Tensor:
        node = SumBackward1()
        node.dims = dims
        node.keepdim = True
        node.dtype = None
        return unary(node, g)
    return g.sum(axis=dims, keepdims=True)


def _mean_keep(x, dims):
    if type(x) is Tensor:
        node = MeanBackward1()
        node.dims = dims
        node.keepdim = True
        node.dtype = None
        return unary(node, x)
    return x.mean(axis=dims, keepdims=True)


def _count(shape, dims) -> int:
    count = 1
    for i, size in enumerate(shape):
        if dims is None or i in dims:
            count *= size
    return count


def _slice(array, axis: int, start, stop):
    index = [slice(None)] * array.ndim
    index[axis] = slice(start, stop)
    return array[tuple(index)]


def _ones_along(shape, axis: int, dtype):
    return xp.ones(shape[:axis] + (1,) + shape[axis + 1 :], dtype=dtype)


def without_diagonal(x, axis: int):
    """A copy of ``x`` with a new axis before ``axis`` (k); entry [k, i] is x_i, or 1 if i == k.

    Reducing (prod, cumprod) over the old axis then gives, for each k, the products that leave
    x_k out: the derivative of a product, without a division (so zeros are no problem), as a
    differentiable Tensor expression (used when the backward itself is recorded).
    """
    shape = tuple(x.shape)
    n = shape[axis]
    widened = shape[:axis] + (1,) + shape[axis:]
    eye = xp.eye(n, dtype=bool).reshape((n, n) + (1,) * (len(shape) - axis - 1))
    return where(eye, 1.0, expand(reshape(x, widened), shape[:axis] + (n,) + shape[axis:]))


def as_dtype(g, np_dtype):
    """The gradient in the input's dtype, where the op computed in another (``dtype=``)."""
    g_dtype = g._data.dtype if type(g) is Tensor else xp.asarray(g).dtype
    return g if g_dtype == np_dtype else cast(g, np_dtype)


# ---------------------------------------------------------------------- sum and mean
class SumBackward0(Op):
    """Sum of all elements."""

    __slots__ = ("input_shape", "input_dtype", "dtype")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        ctx.input_dtype = x.dtype
        return x.sum(dtype=ctx.dtype)

    @staticmethod
    def backward(ctx, g):
        if ctx.dtype is not None:
            g = as_dtype(g, ctx.input_dtype)
        return expand(g, ctx.input_shape)


class SumBackward1(Op):
    """Sum over the dimensions ``dims`` (normalised, non-negative)."""

    __slots__ = ("dims", "keepdim", "input_shape", "input_dtype", "dtype")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        ctx.input_dtype = x.dtype
        return xp.asarray(x.sum(axis=ctx.dims, keepdims=ctx.keepdim, dtype=ctx.dtype))

    @staticmethod
    def backward(ctx, g):
        g = keep_dims(g, ctx.dims, ctx.keepdim, ctx.input_shape)
        if ctx.dtype is not None:
            g = as_dtype(g, ctx.input_dtype)
        return expand(g, ctx.input_shape)


class MeanBackward0(Op):
    __slots__ = ("input_shape", "input_dtype", "dtype")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        ctx.input_dtype = x.dtype
        if not x.size:
            dtype = x.dtype if ctx.dtype is None else ctx.dtype
            return dtype.type("nan")  # NumPy would warn about an empty mean
        return x.mean(dtype=ctx.dtype)

    @staticmethod
    def backward(ctx, g):
        g = g / _count(ctx.input_shape, None)
        if ctx.dtype is not None:
            g = as_dtype(g, ctx.input_dtype)
        return expand(g, ctx.input_shape)


class MeanBackward1(Op):
    __slots__ = ("dims", "keepdim", "input_shape", "input_dtype", "dtype")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        ctx.input_dtype = x.dtype
        dims, dtype = ctx.dims, ctx.dtype
        if not x.size:
            total = x.sum(axis=dims, keepdims=ctx.keepdim, dtype=dtype)
            return xp.asarray(total / total.dtype.type(_count(x.shape, dims)))
        return xp.asarray(x.mean(axis=dims, keepdims=ctx.keepdim, dtype=dtype))

    @staticmethod
    def backward(ctx, g):
        g = keep_dims(g, ctx.dims, ctx.keepdim, ctx.input_shape) / _count(ctx.input_shape, ctx.dims)
        if ctx.dtype is not None:
            g = as_dtype(g, ctx.input_dtype)
        return expand(g, ctx.input_shape)


def sum(input, dim=None, keepdim: bool = False, *, dtype=None):  # noqa: A001 - PyTorch's name
    reduce_dtype = sum_dtype(input._data.dtype, dtype)
    if dim is None:
        node = SumBackward0()
        node.dtype = reduce_dtype
        return unary(node, input)
    node = SumBackward1()
    node.dims = reduction_dims(dim, input._data.ndim)
    node.keepdim = keepdim
    node.dtype = reduce_dtype
    return unary(node, input)


def mean(input, dim=None, keepdim: bool = False, *, dtype=None):
    source_dtype = input._data.dtype
    result_dtype = source_dtype if dtype is None else dtype.np
    if result_dtype.kind != "f":
        which = "Input" if dtype is None else "Optional"
        name = SCALAR_TYPE_NAMES[from_numpy_dtype(result_dtype).name]
        raise RuntimeError(
            f"mean(): could not infer output dtype. {which} dtype must be either a floating "
            f"point or complex dtype. Got: {name}"
        )
    node = MeanBackward0() if dim is None else MeanBackward1()
    node.dtype = None if result_dtype == source_dtype else result_dtype
    if dim is not None:
        node.dims = reduction_dims(dim, input._data.ndim)
        node.keepdim = keepdim
    return unary(node, input)


# ---------------------------------------------------------------------- prod
class ProdBackward0(Op):
    """Product of all elements."""

    __slots__ = ("dtype", "input_dtype")
    save = SAVE_BOTH

    @staticmethod
    def forward(ctx, x):
        ctx.input_dtype = x.dtype
        return x.prod(dtype=ctx.dtype)

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        shape = tuple(x.shape)
        if not (raw(x) == 0).any():
            grad = g * (out / x)
        elif _count(shape, None) == 1:
            grad = expand(g, shape)  # the product of no other elements: 1
        else:
            grad = g * reshape(_prod_others(reshape(x, (-1,)), 0), shape)
        return grad if ctx.dtype is None else as_dtype(grad, ctx.input_dtype)


class ProdBackward1(Op):
    """Product along one dimension (``dim`` None for a 0-d input: nothing to reduce)."""

    __slots__ = ("dim", "keepdim", "dtype", "input_dtype", "input_shape")
    save = SAVE_BOTH

    @staticmethod
    def forward(ctx, x):
        ctx.input_dtype = x.dtype
        ctx.input_shape = x.shape
        axis = () if ctx.dim is None else ctx.dim
        return xp.asarray(x.prod(axis=axis, keepdims=ctx.keepdim, dtype=ctx.dtype))

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        dim = ctx.dim
        if dim is None:
            grad = g  # a 0-d input: nothing was multiplied
        elif not (raw(x) == 0).any():
            g = keep_dims(g, (dim,), ctx.keepdim, ctx.input_shape)
            grad = g * (keep_dims(out, (dim,), ctx.keepdim, ctx.input_shape) / x)
        else:
            grad = keep_dims(g, (dim,), ctx.keepdim, ctx.input_shape) * _prod_others(x, dim)
        return grad if ctx.dtype is None else as_dtype(grad, ctx.input_dtype)


def _prod_others(x, axis: int):
    """For each element, the product of the others along ``axis`` (zeros allowed)."""
    if type(x) is Tensor:
        return prod(without_diagonal(x, axis), axis + 1)
    n = x.shape[axis]
    one = _ones_along(x.shape, axis, x.dtype)
    before = xp.concatenate([one, _slice(xp.cumprod(x, axis=axis), axis, 0, n - 1)], axis)
    after = xp.flip(xp.cumprod(xp.flip(x, axis), axis=axis), axis)
    return before * xp.concatenate([_slice(after, axis, 1, n), one], axis)


def prod(input, dim=None, keepdim: bool = False, *, dtype=None):
    reduce_dtype = sum_dtype(input._data.dtype, dtype)
    if dim is None:
        if keepdim:
            raise TypeError("prod(): keepdim=True needs a dim (prod reduces one dimension)")
        node = ProdBackward0()
        node.dtype = reduce_dtype
        return unary(node, input)
    node = ProdBackward1()
    node.dim = one_dim("prod", dim, input._data.ndim)
    node.keepdim = keepdim
    node.dtype = reduce_dtype
    return unary(node, input)


# ---------------------------------------------------------------------- var and std
DOF_WARNING = (
    "{}(): degrees of freedom is <= 0. Correction should be strictly less than the reduction "
    "factor (input numel divided by output numel)."
)


class VarBackward0(Op):
    """Variance over ``dims`` with ``correction`` (``full``: no dim was given)."""

    __slots__ = ("dims", "keepdim", "correction", "full", "input_shape")
    save = SAVE_INPUTS

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return _variance(x, ctx.dims, ctx.keepdim, ctx.correction)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        g = keep_dims(g, ctx.dims, ctx.keepdim, ctx.input_shape)
        return _var_vjp(ctx, g, x)


class StdBackward0(Op):
    __slots__ = ("dims", "keepdim", "correction", "full", "input_shape")
    save = SAVE_BOTH

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return xp.sqrt(_variance(x, ctx.dims, ctx.keepdim, ctx.correction))

    @staticmethod
    def backward(ctx, g):
        # d std = d var / (2 std); zero where std is zero, as in PyTorch.
        x, out = ctx.saved_tensors
        g = keep_dims(g, ctx.dims, ctx.keepdim, ctx.input_shape)
        out = keep_dims(out, ctx.dims, ctx.keepdim, ctx.input_shape)
        return _var_vjp(ctx, where(raw(out) == 0, 0.0, g / (out + out)), x)


def _variance(x, dims, keepdim, correction):
    centred = x - x.mean(axis=dims, keepdims=True) if x.size else x
    squares = (centred * centred).sum(axis=dims, keepdims=keepdim)
    divisor = _count(x.shape, dims) - correction
    return xp.asarray(squares / x.dtype.type(divisor if divisor > 0 else 0))


def _var_vjp(ctx, g, x):
    dof = _count(ctx.input_shape, ctx.dims) - ctx.correction
    centred = x - _mean_keep(x, ctx.dims)
    if dof <= 0 and ctx.full:
        # 2 / dof is infinite: PyTorch gives inf, or nan where x equals the mean (inf * 0).
        factor = xp.where(raw(centred) == 0, float("nan"), _INF).astype(raw(x).dtype)
        return g * factor
    return (2.0 / dof if dof else _INF) * g * centred


def _var_arguments(name, input, dim, unbiased, keepdim, correction):
    if input._data.dtype.kind != "f":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if isinstance(dim, bool) and unbiased is None:
        dim, unbiased = None, dim  # var(True): the unbiased flag given positionally
    if unbiased is not None and correction is not None:
        raise TypeError(
            f"{name}() received an invalid combination of arguments - got both 'unbiased' and "
            "'correction'; give one of them"
        )
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    ndim = input._data.ndim
    dims = reduction_dims(dim, ndim)
    shape = input._data.shape
    kept = _count([size for i, size in enumerate(shape) if i not in dims], None)
    if _count(shape, None) // max(kept, 1) - correction <= 0:  # PyTorch's reduction factor
        warnings.warn(DOF_WARNING.format(name), UserWarning, stacklevel=3)
    return dims, keepdim, correction, dim is None or ndim == 0


def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    node = VarBackward0()
    node.dims, node.keepdim, node.correction, node.full = _var_arguments(
        "var", input, dim, unbiased, keepdim, correction
    )
    return unary(node, input)


def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    node = StdBackward0()
    node.dims, node.keepdim, node.correction, node.full = _var_arguments(
        "std", input, dim, unbiased, keepdim, correction
    )
    return unary(node, input)


# ---------------------------------------------------------------------- norm
class LinalgVectorNormBackward0(Op):
    """The vector ``ord``-norm over ``dims`` (``torch.norm`` and ``Tensor.norm``)."""

    __slots__ = ("ord", "dims", "keepdim", "dtype", "input_dtype", "input_shape")
    save = SAVE_BOTH

    @staticmethod
    def forward(ctx, x):
        ctx.input_dtype = x.dtype
        ctx.input_shape = x.shape
        if ctx.dtype is not None:
            x = x.astype(ctx.dtype)
        dims, keepdim, p = ctx.dims, ctx.keepdim, ctx.ord
        if p == 2:
            out = xp.sqrt((x * x).sum(axis=dims, keepdims=keepdim))
        elif p == 1:
            out = xp.abs(x).sum(axis=dims, keepdims=keepdim)
        elif p == _INF:
            out = xp.abs(x).max(axis=dims, keepdims=keepdim)
        elif p == -_INF:
            out = xp.abs(x).min(axis=dims, keepdims=keepdim)
        elif p == 0:
            out = (x != 0).sum(axis=dims, keepdims=keepdim, dtype=x.dtype)
        else:
            out = (xp.abs(x) ** p).sum(axis=dims, keepdims=keepdim) ** (1.0 / p)
        return xp.asarray(out)

    @staticmethod
    def backward(ctx, g):
        x, norm = ctx.saved_tensors
        p, dims = ctx.ord, ctx.dims
        if p == 0:
            return None
        if ctx.dtype is not None:
            x = as_dtype(x, ctx.dtype)
        g = keep_dims(g, dims, ctx.keepdim, ctx.input_shape)
        norm = keep_dims(norm, dims, ctx.keepdim, ctx.input_shape)
        x_raw, norm_raw = raw(x), raw(norm)
        sign = xp.nan_to_num(xp.sign(x_raw), nan=0.0)  # PyTorch's sign of NaN is 0
        if p == 1:
            grad = g * sign
        elif p == 2:
            grad = g * where(norm_raw == 0, 0.0, x / norm)
        elif p in (_INF, -_INF):
            # The gradient is shared equally by the elements that reach the norm.
            at_norm = (xp.abs(x_raw) == norm_raw) | xp.isnan(x_raw)
            count = at_norm.sum(axis=dims, keepdims=True, dtype=x_raw.dtype)
            grad = (g / count) * (sign * at_norm)
        elif p < 1:
            scaled = where(x_raw == 0, 0.0, xp.abs(x) ** (p - 1)) * sign
            grad = scaled * g * norm ** (1 - p)
        else:
            scaled = xp.abs(x) ** (p - 1) * sign if p < 2 else x * xp.abs(x) ** (p - 2)
            grad = scaled * where(norm_raw == 0, 0.0, g / norm ** (p - 1))
        return as_dtype(grad, ctx.input_dtype)


def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None):
    """``torch.norm``: a vector norm over ``dim`` (all dimensions when None)."""
    ndim = input._data.ndim
    if isinstance(p, str):
        count = 1 if dim is None or isinstance(dim, int) else len(dim)
        if p == "fro" and (dim is None or count <= 2):
            p = 2
        elif p == "fro":
            dims = " ".join(str(d) for d in dim)
            raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {dims}")
        else:
            raise NotImplementedError(f"norm(p={p!r}) (a matrix norm) is not implemented")
    p = 2.0 if p is None else float(p)
    source_dtype = input._data.dtype
    if source_dtype.kind != "f":
        name = SCALAR_TYPE_NAMES[from_numpy_dtype(source_dtype).name]
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got {name}"
        )
    if dtype is not None and xp.promote_types(source_dtype, dtype.np) != dtype.np:
        raise RuntimeError(
            "linalg.vector_norm: the dtype of the input "
            f"({SCALAR_TYPE_NAMES[from_numpy_dtype(source_dtype).name]}) should be convertible "
            f"without narrowing to the specified dtype ({SCALAR_TYPE_NAMES[dtype.name]})"
        )
    dims = reduction_dims(dim, ndim)
    if abs(p) == _INF:
        _check_identity_free(input._data.shape, dims, dim, p)
    node = LinalgVectorNormBackward0()
    node.ord = p
    node.dims = dims
    node.keepdim = keepdim
    node.dtype = None if dtype is None or dtype.np == source_dtype else dtype.np
    return unary(node, input)


def _check_identity_free(shape, dims, dim, p):
    """The inf-norms (max and min) of nothing are undefined: PyTorch's errors."""
    name = "inf" if p > 0 else "-inf"
    if dim is None or not dims:
        if not _count(shape, None):
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {name} norm on an empty tensor because "
                "the operation does not have an identity"
            )
        return
    for d in dims:
        if shape[d] == 0:
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {name} norm on the dimension {d}"
                "because this dimension is empty and the operation does not have an identity"
            )


# ---------------------------------------------------------------------- count_nonzero
def count_nonzero(input, dim=None):
    data = input._data
    dims = reduction_dims(dim, data.ndim)
    return wrap(xp.asarray((data != 0).sum(axis=dims), dtype=xp.int64), None)


TENSOR_METHODS = {
    "sum": sum,
    "mean": mean,
    "prod": prod,
    "var": var,
    "std": std,
    "norm": norm,
    "count_nonzero": count_nonzero,
}
FUNCTIONS = dict(TENSOR_METHODS)
UFUNCS: dict = {}
