"""Reductions over all elements or over dimensions: sum, mean, prod, var, std,
count_nonzero, and the helpers that every reducing VJP shares.

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).
norm lives in ops/norm.py; max/min/amax/amin/argmax/argmin in ops/extrema.py; softmax,
log_softmax, logsumexp, cumsum and cumprod in ops/softmax.py.

A reducing VJP first gives the gradient back the reduced dimensions (size 1, ``keep_dims``),
then lets broadcasting spread it over the input. The helpers below take raw arrays (the fast
backward) or Tensors (a recorded backward, ``create_graph=True``) and return the same kind.
"""

from __future__ import annotations

import warnings

from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, sum_dtype, xp
from ..batching import any_sample
from ..graph.node import SAVE_BOTH, SAVE_INPUTS, SAVE_NOTHING, Op
from ..size import normalize_dim
from ..tensor import Tensor, wrap
from .apply import unary
from .declare import Cli, declare
from .elementwise import where
from .explain_rule import Rule, num
from .jvp_rules import linear
from .saved_names import SavedNames, numel_of, value
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
    saved_names = SavedNames(self_sym_sizes=value("input_shape"))
    jvp = staticmethod(linear)

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
    saved_names = SavedNames(
        dim=value("dims"),
        keepdim=value("keepdim"),
        self_sym_sizes=value("input_shape"),
    )
    jvp = staticmethod(linear)

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
    saved_names = SavedNames(
        self_sym_numel=numel_of("input_shape"),
        self_sym_sizes=value("input_shape"),
    )
    jvp = staticmethod(linear)

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
    saved_names = SavedNames(
        dim=value("dims"),
        keepdim=value("keepdim"),
        self_sym_numel=numel_of("input_shape"),
        self_sym_sizes=value("input_shape"),
    )
    jvp = staticmethod(linear)

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
        if not any_sample(raw(x) == 0):  # (under vmap: in any sample)
            grad = g * (out / x)
        elif _count(shape, None) == 1:
            grad = expand(g, shape)  # the product of no other elements: 1
        else:
            grad = g * reshape(_prod_others(reshape(x, (-1,)), 0), shape)
        return grad if ctx.dtype is None else as_dtype(grad, ctx.input_dtype)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # d prod(x) = sum_i t_i · prod_{j != i} x_j (in the result's dtype, as PyTorch)
        x, t = _in_result_dtype(ctx, primals[0], tangents[0])
        shape = tuple(x.shape)
        if not any_sample(raw(x) == 0):  # (under vmap: in any sample)
            return sum(t * (out / x))
        if _count(shape, None) == 1:
            return sum(t)
        return sum(t * reshape(_prod_others(reshape(x, (-1,)), 0), shape))


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
        elif not any_sample(raw(x) == 0):  # (under vmap: in any sample)
            g = keep_dims(g, (dim,), ctx.keepdim, ctx.input_shape)
            grad = g * (keep_dims(out, (dim,), ctx.keepdim, ctx.input_shape) / x)
        else:
            grad = keep_dims(g, (dim,), ctx.keepdim, ctx.input_shape) * _prod_others(x, dim)
        return grad if ctx.dtype is None else as_dtype(grad, ctx.input_dtype)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # d prod(x, dim) = sum over dim of t_i · (the product of the others along dim)
        x, t = _in_result_dtype(ctx, primals[0], tangents[0])
        dim = ctx.dim
        if dim is None:
            return t  # a 0-d input: the product of one element
        if not any_sample(raw(x) == 0):  # (under vmap: in any sample)
            others = keep_dims(out, (dim,), ctx.keepdim, ctx.input_shape) / x
        else:
            others = _prod_others(x, dim)
        return sum(t * others, dim, ctx.keepdim)


def _in_result_dtype(ctx, x, t):
    """The input and its tangent in the dtype the product was computed in (``dtype=``)."""
    if ctx.dtype is None:
        return x, t
    return cast(x, ctx.dtype), cast(t, ctx.dtype)


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

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return _var_jvp(ctx, primals[0], tangents[0])


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

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # d std = d var / (2 std), 0 where std is 0 (as the VJP, and PyTorch)
        return where(raw(out) == 0, 0.0, _var_jvp(ctx, primals[0], tangents[0]) / (2.0 * out))


def _variance(x, dims, keepdim, correction):
    centred = x - x.mean(axis=dims, keepdims=True) if x.size else x
    squares = (centred * centred).sum(axis=dims, keepdims=keepdim)
    divisor = _count(x.shape, dims) - correction
    return xp.asarray(squares / x.dtype.type(divisor if divisor > 0 else 0))


def _var_jvp(ctx, x, t):
    """d var = sum over dims of t · (the VJP of var with gradient 1): 2/(n - correction) ·
    sum((x - mean)·t), and over all elements with n <= correction, the VJP's inf (NaN where x
    equals the mean) times t, summed: PyTorch's values at those edges."""
    return sum(_var_vjp(ctx, t, x), ctx.dims, ctx.keepdim)


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


# ---------------------------------------------------------------------- count_nonzero
def count_nonzero(input, dim=None):
    data = input._data
    dims = reduction_dims(dim, data.ndim)
    return wrap(xp.asarray((data != 0).sum(axis=dims), dtype=xp.int64), None)


# ---------------------------------------------------------------------- explain rules
def _sum_rule(node) -> Rule:
    dims = getattr(node, "dims", None)
    if dims is None:
        return Rule(
            "sum of all elements", "sum({x:0})", passes=("the gradient, copied to every element",)
        )
    dims = tuple(int(dim) for dim in dims)
    return Rule(
        f"sum over dim {dims}",
        f"sum({{x:0}}, dim={dims})",
        passes=(f"the gradient, copied along dim {dims}",),
    )


def _mean_rule(node) -> Rule:
    shape = tuple(node.input_shape)
    dims = getattr(node, "dims", None)
    if dims is None:
        count = int(xp.prod(shape)) if shape else 1
        return Rule(
            "mean of all elements",
            "mean({x:0})",
            passes=(f"the gradient divided by n = {count}, copied to every element",),
        )
    dims = tuple(int(dim) for dim in dims)
    count = 1
    for dim in dims:
        count *= shape[dim]
    return Rule(
        f"mean over dim {dims}",
        f"mean({{x:0}}, dim={dims})",
        passes=(f"the gradient divided by n = {count}, copied along dim {dims}",),
    )


def _prod_rule(node) -> Rule:
    dim = getattr(node, "dim", None)
    if dim is None:  # all elements (ProdBackward0), or a 0-d input
        return Rule(
            "product of all elements",
            "prod({x:0})",
            passes=("the gradient times the product of all the other elements",),
        )
    return Rule(
        f"product along dim {dim}",
        f"prod({{x:0}}, dim={dim})",
        passes=(f"the gradient times the product of the other elements along dim {dim}",),
    )


def _spread_rule(name: str, words: str, derivative: str):
    """var and std: d var/dx = 2·(x - mean)/(n - correction), d std = d var/(2·std)."""

    def rule(node) -> Rule:
        dims, correction = node.dims, node.correction
        n = _count(node.input_shape, dims)
        over = "of all elements" if node.full else f"over dim {dims}"
        arguments = "" if node.full else f", dim={dims}"
        if correction != 1:
            arguments += f", correction={num(correction)}"
        divisor = "n" if correction == 0 else f"(n - {num(correction)})"
        return Rule(
            f"{words} {over}",
            f"{name}({{x:0}}{arguments})",
            passes=(f"the gradient times {derivative.format(divisor)}, n = {n}",),
        )

    return rule


DECLARATIONS = (
    declare(
        "sum",
        sum,
        explain={SumBackward0: _sum_rule, SumBackward1: _sum_rule},
        cli=Cli("sum of the elements"),
    ),
    declare(
        "mean",
        mean,
        explain={MeanBackward0: _mean_rule, MeanBackward1: _mean_rule},
        cli=Cli("mean of the elements"),
    ),
    declare(
        "prod",
        prod,
        explain={ProdBackward0: _prod_rule, ProdBackward1: _prod_rule},
        cli=Cli("product of the elements"),
    ),
    declare(
        "var",
        var,
        explain={VarBackward0: _spread_rule("var", "variance", "2·(x - mean)/{}")},
    ),
    declare(
        "std",
        std,
        explain={StdBackward0: _spread_rule("std", "standard deviation", "(x - mean)/({}·std)")},
    ),
    declare("count_nonzero", count_nonzero),  # an integer result: not differentiable
)
