"""In-place forms of existing ops that tutorials call (``x.sigmoid_()``, ``x.clamp_min_(0)``,
``x.floor_()``, ``x.scatter_(1, index, src)``): each computes the out-of-place op and hands
the result to ``assign_in_place`` (ops/inplace.py), so the tensor records the out-of-place op's node
(``SigmoidBackward0`` after ``y.sigmoid_()``), counts a version, and a leaf that requires
grad is refused with PyTorch's error.

Only ops whose result has the input's shape are here: a shape-changing in-place op
(``squeeze_``, ``t_``) rewrites metadata, not values.
"""

from __future__ import annotations

from ..arguments import check_int
from ..backend import CPP_TYPE_NAMES, SCALAR_TYPE_NAMES, from_numpy_dtype
from ..tensor import Tensor
from .declare import declare
from .inplace import check_cast_back

# Tensor methods taking only the tensor: ``x.<name>_()`` is ``x`` assigned ``x.<name>()``.
ONE_INPUT = (
    "abs",
    "absolute",
    "acos",
    "arccos",
    "arcsin",
    "arctan",
    "asin",
    "atan",
    "ceil",
    "cos",
    "cosh",
    "erf",
    "erfc",
    "exp2",
    "expm1",
    "fix",
    "floor",
    "frac",
    "log",
    "log10",
    "log1p",
    "log2",
    "logical_not",
    "neg",
    "negative",
    "reciprocal",
    "rsqrt",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "sqrt",
    "square",
    "tan",
    "tanh",
    "trunc",
)

# Tensor methods with further arguments, passed through as given.
WITH_ARGUMENTS = (
    "arctan2",
    "atan2",
    "index_add",
    "index_put",
    "lerp",
    "logical_and",
    "logical_or",
    "logical_xor",
    "multiply",
    "nan_to_num",
    "round",
    "scatter",
    "scatter_add",
    "subtract",
)


def _in_place(name: str, takes_arguments: bool):
    """``Tensor.<name>_``: the out-of-place method ``name`` assigned in place."""
    if takes_arguments:

        def method(input, *args, **kwargs):
            return input._assign_in_place(getattr(input, name)(*args, **kwargs))

    else:

        def method(input):
            return input._assign_in_place(getattr(input, name)())

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place version of :meth:`Tensor.{name}`."
    return method


def _cumulative_in_place(name: str):
    """``cumsum_``/``cumprod_``: a ``dtype`` other than the tensor's is refused, as PyTorch
    refuses it (the result would be cast back, silently losing what ``dtype`` asked for)."""

    def method(input, dim, *, dtype=None):
        dim = check_int(dim, name + "_", "dim", 1)  # (cumsum_(True) was dim 1)
        result = getattr(input, name)(dim, dtype=dtype)  # (checks the other arguments)
        asked, own = result._data.dtype, input._data.dtype
        if dtype is not None and asked != own:
            raise RuntimeError(
                f"Bad in-place call: input tensor dtype {CPP_TYPE_NAMES[own.name]} and output "
                f"tensor dtype {CPP_TYPE_NAMES[asked.name]} should match"
            )
        return input._assign_in_place(result)

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place version of :meth:`Tensor.{name}`."
    return method


def _clamp_in_place(name: str):
    """``clamp_min_``/``clamp_max_``: with a number bound PyTorch's cast-back error names the
    tensor's C++ type (``long int``), not its ScalarType (``Long``) as other ops do."""

    def method(input, *args, **kwargs):  # (``min=``/``max=`` by keyword too)
        bound = (*args, *kwargs.values())[0] if args or kwargs else None
        result = getattr(input, name)(*args, **kwargs)
        if isinstance(bound, Tensor) or result._data.dtype == input._data.dtype:
            return input._assign_in_place(result)
        try:
            check_cast_back(result._data.dtype, input._data.dtype)
        except RuntimeError:
            own = CPP_TYPE_NAMES[input._data.dtype.name]
            given = SCALAR_TYPE_NAMES[from_numpy_dtype(result._data.dtype).name]
            raise RuntimeError(
                f"result type {given} can't be cast to the desired output type {own}"
            ) from None
        return input._assign_in_place(result)

    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"In-place version of :meth:`Tensor.{name}`."
    return method


def addmm_(input, mat1, mat2, *, beta=1, alpha=1):
    """PyTorch checks the product's shape against the tensor before broadcasting (an input of
    shape [1, 2] is refused, where out-of-place addmm broadcasts it)."""
    shapes = [tuple(m.shape) if isinstance(m, Tensor) else () for m in (mat1, mat2)]
    if all(len(shape) == 2 for shape in shapes) and shapes[0][1] == shapes[1][0]:
        product = [shapes[0][0], shapes[1][1]]
        if list(input.shape) != product:
            raise RuntimeError(
                f"Bad in-place call: input tensor size {list(input.shape)} and output tensor "
                f"size {product} should match"
            )
    return input._assign_in_place(input.addmm(mat1, mat2, beta=beta, alpha=alpha))


DECLARATIONS = (
    tuple(declare(name + "_", None, method=_in_place(name, False)) for name in ONE_INPUT)
    + tuple(declare(name + "_", None, method=_in_place(name, True)) for name in WITH_ARGUMENTS)
    + tuple(
        declare(name + "_", None, method=_cumulative_in_place(name))
        for name in ("cumsum", "cumprod")
    )
    + (declare("addmm_", None, method=addmm_),)
    + tuple(
        declare(name + "_", None, method=_clamp_in_place(name))
        for name in ("clamp_min", "clamp_max")
    )
)
