"""Two spellings PyTorch's argument parser accepts for every op, added here once for all the
declared ops (ops/api.py wraps the functions and methods it gathers):

* ``keepdims=`` for ``keepdim=`` (NumPy's name): every function and method with a ``keepdim``
  parameter takes it, as PyTorch's native functions do (not ``norm``, a Python function there);
* ``out=``, on the functions of ``OUT_DTYPE_RULES``: the result is written into ``out`` (resized
  if its shape differs, with PyTorch's deprecation warning when it was not empty) and ``out`` is
  returned. As in PyTorch, such a call records no graph: with grad mode on, an input that
  requires grad raises, and ``out`` must take the result's dtype by the op's own rule.

Only the ops that take these arguments are wrapped, and a wrapper passes a call without them
straight through; operators (``x + y``) and the other ops stay unwrapped.
"""

from __future__ import annotations

import inspect
import math
import warnings

from ..backend import CPP_TYPE_NAMES, SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from ..graph.anomaly import PACKAGE_DIR
from ..graph.grad_mode import grad_state, no_grad
from ..python_types import type_name
from ..tensor import Tensor

# Python functions in PyTorch, whose keepdim has no ``keepdims`` spelling.
NO_KEEPDIMS = frozenset({"norm"})


# ---------------------------------------------------------------------- out= dtype rules
# Each takes the op's name, the result's dtype, out's dtype and the call's tensors, and raises
# PyTorch's error when out cannot hold the result (the texts differ from kernel to kernel).
def _can_cast(source, target) -> bool:
    """PyTorch's canCast: no float to integral, no non-bool to bool."""
    if source.kind == "f" and target.kind in "biu":
        return False
    return not (source.kind != "b" and target.kind == "b")


def _scalar_name(np_dtype) -> str:
    return SCALAR_TYPE_NAMES[from_numpy_dtype(np_dtype).name]


def _cpp_name(np_dtype) -> str:
    return CPP_TYPE_NAMES[from_numpy_dtype(np_dtype).name]


def castable(name, result, out, inputs) -> None:
    """TensorIterator's ops (add, exp, mean, ...): the result is cast into out."""
    if not _can_cast(result, out):
        raise RuntimeError(
            f"result type {_scalar_name(result)} can't be cast to the desired output type "
            f"{_scalar_name(out)}"
        )


def exact(name, result, out, inputs) -> None:
    """matmul, mm, bmm, argmax, ...: out must have the result's dtype."""
    if result != out:
        raise RuntimeError(
            f"Expected out tensor to have dtype {_cpp_name(result)}, but got {_cpp_name(out)} "
            "instead"
        )


def found(name, result, out, inputs) -> None:
    """clamp, neg, abs: out must have the result's dtype (checked by the copy back)."""
    if result != out:
        raise RuntimeError(f"Found dtype {_scalar_name(out)} but expected {_scalar_name(result)}")


def joined(name, result, out, inputs) -> None:
    """cat and stack (PyTorch's stack, hstack and vstack run cat: its name is in the text):
    every input must be castable to out's dtype."""
    if not all(_can_cast(t._data.dtype, out) for t in inputs):
        raise TypeError(
            f"torch.cat(): input types can't be cast to the desired output type {_scalar_name(out)}"
        )


def extreme(name, result, out, inputs) -> None:
    """max/min of all elements into one out (with a dim and two outs: ``exact``)."""
    if not _can_cast(result, out):
        raise RuntimeError(
            "Expected canCast( typeMetaToScalarType(self.dtype()), "
            "typeMetaToScalarType(out.dtype())) to be true, but got false.  (Could this error "
            "message be improved?  If so, please report an enhancement request to PyTorch.)"
        )


def floating(name, result, out, inputs) -> None:
    """logsumexp: a floating out, into which the result is cast."""
    if out.kind != "f":
        raise RuntimeError(
            f"{name}(): Expected floating point type for result tensor, but got: "
            f"{_scalar_name(out)}"
        )


def addmv(name, result, out, inputs) -> None:
    """mv: out's dtype is the matrix's and vector's."""
    if result != out:
        matrix, vector = (_scalar_name(t._data.dtype) for t in inputs[:2])
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {_scalar_name(out)}, "
            f"{matrix}, and {vector}"
        )


def in_out_dtype(name, result, out, inputs) -> None:
    """sum, prod, cumsum, cumprod compute in out's dtype (``_call_into`` passes it as
    ``dtype``); the cumulative kernels have no bool version."""
    if name in ("cumsum", "cumprod") and out.kind == "b":
        raise NotImplementedError(f"\"{name}_out_cpu\" not implemented for 'Bool'")
    if result is not None:
        exact(name, result, out, inputs)  # a dtype= given with out: they must agree


def nan_summed(name, result, out, inputs) -> None:
    """nansum, nanmean: computed in out's dtype, as sum (``_call_into`` passes it as
    ``dtype``); the nansum kernel has no integral version."""
    if out.kind in "biu":
        raise NotImplementedError(f"\"nansum_cpu\" not implemented for '{_scalar_name(out)}'")
    if result is not None and result != out:  # a dtype= given with out: they must agree
        raise RuntimeError(
            "nansum: provided dtype must match dtype of result. Got "
            f"{_scalar_name(out)} and {_scalar_name(result)}."
        )


def quantiled(name, result, out, inputs) -> None:
    """quantile, nanquantile: out must have the input's dtype."""
    if result != out:
        raise RuntimeError("quantile() out tensor must be same dtype as the input tensor")


def selected(name, result, out, inputs) -> None:
    """where."""
    if result != out:
        raise RuntimeError(
            f"Expected out type to be {_scalar_name(result)} but got {_scalar_name(out)}"
        )


def same_as_input(name, result, out, inputs) -> None:
    """amax, amin."""
    if result != out:
        raise RuntimeError(
            "Expected the dtype for input and out to match, but got "
            f"{_scalar_name(result)} for input's dtype and {_scalar_name(out)} for out's dtype."
        )


def boolean(name, result, out, inputs) -> None:
    """any, all: a bool result."""
    if out.kind != "b":
        raise RuntimeError(f"{name} only supports bool tensor for result, got: {_scalar_name(out)}")


def dotted(name, result, out, inputs) -> None:
    """dot, vdot."""
    if result != out:
        raise RuntimeError(
            f"result dtype {_scalar_name(out)} does not match input dtype {_scalar_name(result)}"
        )


# The functions that take out=, with the rule their kernel applies to out's dtype. ``sum``
# computes in out's dtype when none is given (PyTorch's sum_out), see ``_call_into``.
OUT_DTYPE_RULES = {
    **dict.fromkeys(
        (
            "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
            "pow", "maximum", "minimum", "atan2", "fmod", "remainder",
            "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
            "sin", "cos", "tan", "tanh", "sinh", "cosh", "asin", "acos", "atan", "sigmoid",
            "erf", "erfc", "reciprocal", "square",
            "eq", "ne", "lt", "le", "gt", "ge",
            "logical_and", "logical_or", "logical_xor", "logical_not",
            "mean", "std", "var", "outer",
            "floor_divide", "xlogy", "logaddexp", "logaddexp2", "lgamma", "digamma",
            "polygamma", "erfinv", "bitwise_and", "bitwise_or", "bitwise_xor",
            "bitwise_left_shift", "bitwise_right_shift",
        ),
        castable,
    ),
    **dict.fromkeys(("sum", "prod", "cumsum", "cumprod"), in_out_dtype),
    **dict.fromkeys(("matmul", "mm", "bmm", "argmax", "argmin"), exact),
    **dict.fromkeys(("max", "min"), extreme),
    **dict.fromkeys(
        ("clamp", "clip", "neg", "negative", "abs", "floor", "ceil", "round", "trunc", "sign",
         "bitwise_not"),
        found,
    ),
    "mv": addmv,
    "logsumexp": floating,
    **dict.fromkeys(("cat", "concat", "concatenate", "stack", "hstack", "vstack"), joined),
    "where": selected,
    "amax": same_as_input,
    "amin": same_as_input,
    "any": boolean,
    "all": boolean,
    "dot": dotted,
    "nansum": nan_summed,
    "nanmean": nan_summed,
    "quantile": quantiled,
    "nanquantile": quantiled,
    "aminmax": exact,
}  # fmt: skip

RESIZE_WARNING = (
    "An output with one or more elements was resized since it had shape {old}, which does "
    "not match the required output shape {new}. This behavior is deprecated, and in a future "
    "PyTorch release outputs will not be resized unless they have zero elements. You can "
    "explicitly reuse an out tensor t by resizing it, inplace, to zero elements with "
    "t.resize_(0)."
)


def _tensors_in(values) -> list:
    """The tensors among the call's arguments (inside lists and tuples too: cat's)."""
    found_tensors = []
    for value in values:
        if isinstance(value, Tensor):
            found_tensors.append(value)
        elif isinstance(value, (list, tuple)):
            found_tensors.extend(_tensors_in(value))
    return found_tensors


# ---------------------------------------------------------------------- memory overlap
# PyTorch's checks (aten/src/ATen/MemoryOverlap.cpp) before a kernel writes into out: out
# whose elements repeat (a zero stride) is refused, and out sharing memory with an input: by
# the elementwise kernels (TensorIterator) and cumsum when partly, by cat when at all.
# Reductions and the matmul family check nothing; here they compute before writing anyway.
_PARTIAL_OVERLAP_REFUSED = frozenset(
    name
    for name, rule in OUT_DTYPE_RULES.items()
    if rule in (castable, found, selected) and name not in ("mean", "std", "var")
) | {"cumsum", "cumprod"}
_ANY_OVERLAP_REFUSED = frozenset(n for n, rule in OUT_DTYPE_RULES.items() if rule is joined)
INTERNAL_OVERLAP_ERROR = (
    "unsupported operation: more than one element of the written-to tensor refers to a single "
    "memory location. Please clone() the tensor before performing the operation."
)
OVERLAP_ERROR = (
    "unsupported operation: some elements of the input tensor and the written-to tensor refer "
    "to a single memory location. Please clone() the tensor before performing the operation."
)


def _is_dense(array) -> bool:
    """PyTorch's is_non_overlapping_and_dense: the elements fill one block without gaps (a
    permutation of a contiguous layout)."""
    expected = array.itemsize
    for size, stride in sorted(zip(array.shape, array.strides), key=lambda pair: pair[1]):
        if size == 1:
            continue
        if stride != expected:
            return False
        expected *= size
    return True


def _overlap(a, b) -> str:
    """PyTorch's get_overlap_status of two arrays: 'full' (the same elements in the same
    layout), 'partial', 'none', or 'too hard' (either has gaps: not decided, not refused)."""
    if a is b:
        return "full"
    if a.size == 0 or b.size == 0:
        return "none"
    if not (_is_dense(a) and _is_dense(b)):
        return "too hard"
    a_begin, b_begin = a.__array_interface__["data"][0], b.__array_interface__["data"][0]
    a_end, b_end = a_begin + a.nbytes, b_begin + b.nbytes
    if a_begin == b_begin and a_end == b_end:
        return "full" if a.strides == b.strides else "partial"
    return "partial" if a_begin < b_end and b_begin < a_end else "none"


def _check_overlap(name, inputs, outs) -> None:
    # max/min with a dim (values and indices) refuse a partial overlap, of all elements not
    partial_only = name in _PARTIAL_OVERLAP_REFUSED or (name in ("max", "min") and len(outs) == 2)
    if not partial_only and name not in _ANY_OVERLAP_REFUSED:
        return
    for target in outs:
        data = target._data
        if not _is_dense(data) and any(
            stride == 0 and size > 1 for size, stride in zip(data.shape, data.strides)
        ):
            raise RuntimeError(INTERNAL_OVERLAP_ERROR)
    for target in outs:
        for source in inputs:
            status = _overlap(target._data, source._data)
            if status == "partial" or (status == "full" and not partial_only):
                raise RuntimeError(OVERLAP_ERROR)


def _call_into(name, function, rule, args, kwargs, out):
    inputs = _tensors_in((*args, *kwargs.values()))
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    for target in outs:
        if not isinstance(target, Tensor):
            raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type_name(out)}")
    if grad_state.enabled and any(t._edge is not None for t in (*inputs, *outs)):
        raise RuntimeError(
            f"{name}(): functions with out=... arguments don't support automatic "
            "differentiation, but one of the arguments requires grad."
        )
    _check_overlap(name, inputs, outs)
    if rule is nan_summed and kwargs.get("dtype") is not None:
        rule(name, kwargs["dtype"].np, outs[0]._data.dtype, inputs)  # (nansum's own text)
    if rule is in_out_dtype or rule is nan_summed:
        rule(name, None, outs[0]._data.dtype, inputs)
        if kwargs.get("dtype") is None:
            kwargs = {**kwargs, "dtype": outs[0].dtype}  # PyTorch's sum_out: in out's dtype
    result = function(*args, **kwargs)
    results = tuple(result) if isinstance(result, tuple) else (result,)
    if len(results) != len(outs):
        raise TypeError(
            f"{name}(): argument 'out' must be tuple of {len(results)} Tensors, not "
            f"{type_name(out)}"
        )
    check = rule if len(outs) == 1 else exact  # (values, indices): each its exact dtype
    if kwargs.get("dtype") is not None:
        check = exact  # mean(..., dtype=d, out=o): o must have dtype d, as PyTorch's mean_out
    for value, target in zip(results, outs):
        check(name, value._data.dtype, target._data.dtype, inputs)
    for value, target in zip(results, outs):
        _write(value, target)
    return out if len(outs) == 1 else _out_result_type(type(result))(*outs)


_OUT_RESULT_TYPES: dict = {}


def _out_result_type(result_type):
    """The named tuple of a call with out=: PyTorch's ``torch.return_types.<name>_out``
    (``max_out``), printed under that name."""
    made = _OUT_RESULT_TYPES.get(result_type)
    if made is None:
        name = f"{result_type.__name__}_out"

        def __repr__(self) -> str:
            inner = ",\n".join(f"{field}={value!r}" for field, value in zip(self._fields, self))
            return f"torch.return_types.{name}(\n{inner})"

        made = type(name, (result_type,), {"__slots__": (), "__repr__": __repr__})
        made.__qualname__ = f"return_types.{name}"
        _OUT_RESULT_TYPES[result_type] = made
    return made


def _write(value: Tensor, target: Tensor) -> None:
    """``value`` copied into ``target``, resized first if its shape differs (PyTorch warns
    unless ``target`` was empty)."""
    shape = value._data.shape
    if target._data.shape != shape:
        if target._data.size:
            warnings.warn(
                RESIZE_WARNING.format(old=list(target._data.shape), new=list(shape)),
                UserWarning,
                stacklevel=4,
            )
        target._data = _resized(target._data, shape)
    with no_grad():
        target.copy_(value)


def _resized(array, shape):
    """PyTorch's resize_ of an out: a contiguous array of ``shape`` in the same memory (so
    that the base of a view, or other views of it, see the result) where the memory from the
    array's start holds it; otherwise new memory (PyTorch grows the storage that all views
    share, which NumPy cannot, so views of the old memory keep the old values). An empty
    array gets new memory too: NumPy does not keep where in its base an empty slice starts."""
    root = array
    while isinstance(root.base, xp.ndarray):
        root = root.base
    needed = math.prod(shape) * array.itemsize
    if (
        type(array) is xp.ndarray
        and array.size
        and root.flags.c_contiguous
        and root.flags.writeable
    ):
        offset = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
        if offset >= 0 and offset + needed <= root.nbytes:
            return xp.ndarray(shape, array.dtype, buffer=root, offset=offset)
    return xp.empty(shape, array.dtype)


def _has_keepdim(name: str, function) -> bool:
    if name in NO_KEEPDIMS:
        return False
    try:
        return "keepdim" in inspect.signature(function).parameters
    except (TypeError, ValueError):  # a builtin without a signature
        return False


# The forms made, by what they wrap: an alias (clip, arcsin) gets its op's, so that
# ``gradienti.arcsin is gradienti.asin`` stays true (messages name the op's first name).
_FUNCTION_WRAPPERS: dict = {}
_METHOD_WRAPPERS: dict = {}


def public_function(name: str, function):
    """``gradienti.<name>``: ``function``, or a wrapper that adds ``keepdims=``/``out=``."""
    if function in _FUNCTION_WRAPPERS:
        return _FUNCTION_WRAPPERS[function]  # an alias: its op's form (arcsin takes out= too)
    rule = OUT_DTYPE_RULES.get(name)
    keepdims = _has_keepdim(name, function)
    made = function
    if rule is not None or keepdims:
        made = _wrapper(name, function, keepdims=keepdims, rule=rule)
    _FUNCTION_WRAPPERS[function] = made
    return made


def tensor_method(name: str, method):
    """``Tensor.<name>``: ``method``, or a wrapper that adds ``keepdims=`` (methods take no
    ``out=``, as in PyTorch)."""
    if not _has_keepdim(name, method):
        return method
    if method not in _METHOD_WRAPPERS:
        _METHOD_WRAPPERS[method] = _wrapper(name, method, keepdims=True, rule=None)
    return _METHOD_WRAPPERS[method]


# ---------------------------------------------------------------------- the wrappers
# A wrapper is compiled with the wrapped function's own parameters (and keepdims/out), so that
# a call without them costs one plain call more: no *args/**kwargs packing on the way through.
_UNSET = object()  # keepdim not given (so that keepdim= and keepdims= together can be refused)
_TEMPLATE = """
def {name}({parameters}):
{keepdims}{out}    return _function({arguments})
"""
_KEEPDIMS_BODY = """    if keepdims is not _UNSET:
        if keepdim is not _UNSET:
            raise TypeError("{name}() got an unexpected keyword argument 'keepdims'")
        keepdim = keepdims
    elif keepdim is _UNSET:
        keepdim = _default_keepdim
"""
_OUT_BODY = """    if out is not None:
        return _call_into("{name}", _function, _rule, (), {{{keywords}}}, out)
"""


def _wrapper(name: str, function, *, keepdims: bool, rule):
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # no signature to copy: the general form
        return _general_wrapper(name, function, keepdims=keepdims, rule=rule)
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        return _general_wrapper(name, function, keepdims=keepdims, rule=rule)
    namespace = {"_function": function, "_rule": rule, "_call_into": _call_into, "_UNSET": _UNSET}
    parameters, arguments, keywords = [], [], []
    keyword_only = False
    for parameter in signature.parameters.values():
        if parameter.name == "out" and rule is not None:
            continue  # (cat's own out=None, which it never read: the wrapper's replaces it)
        text = parameter.name
        if parameter.default is not parameter.empty:
            namespace[f"_default_{parameter.name}"] = parameter.default
            default = "_UNSET" if keepdims and text == "keepdim" else f"_default_{text}"
            text = f"{text}={default}"
        if parameter.kind is parameter.VAR_POSITIONAL:
            parameters.append(f"*{parameter.name}")
            arguments.append(f"*{parameter.name}")
            keyword_only = True
            continue
        if parameter.kind is parameter.KEYWORD_ONLY and not keyword_only:
            parameters.append("*")
            keyword_only = True
        parameters.append(text)
        passed = parameter.name if parameter.kind is not parameter.KEYWORD_ONLY else None
        arguments.append(passed or f"{parameter.name}={parameter.name}")
        keywords.append(f"{parameter.name!r}: {parameter.name}")
    extra = (["keepdims=_UNSET"] if keepdims else []) + (["out=None"] if rule else [])
    if extra and not keyword_only:
        parameters.append("*")
    source = _TEMPLATE.format(
        name=name,
        parameters=", ".join(parameters + extra),
        keepdims=_KEEPDIMS_BODY.format(name=name) if keepdims else "",
        out=_OUT_BODY.format(name=name, keywords=", ".join(keywords)) if rule else "",
        arguments=", ".join(arguments),
    )
    # The file name starts with the package's directory, so that the stacks shown to the user
    # (anomaly mode's forward trace, warnings' stacklevel) leave the wrapper's frame out as
    # they leave out gradienti's own files; no such file exists, so no source line is shown.
    filename = f"{PACKAGE_DIR}<gradienti.{name}: keepdims/out>"
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102 - our own template
    call = namespace[name]
    call.__qualname__ = getattr(function, "__qualname__", name)
    call.__doc__ = function.__doc__
    call.__wrapped__ = function
    return call


def _general_wrapper(name: str, function, *, keepdims: bool, rule):
    """The same wrapper for a function whose parameters cannot be copied (``**kwargs``)."""

    def call(*args, out=None, **kwargs):
        if keepdims and "keepdims" in kwargs:
            if "keepdim" in kwargs:
                raise TypeError(f"{name}() got an unexpected keyword argument 'keepdims'")
            kwargs["keepdim"] = kwargs.pop("keepdims")
        if out is None:
            return function(*args, **kwargs)
        if rule is None:
            raise TypeError(f"{name}() got an unexpected keyword argument 'out'")
        return _call_into(name, function, rule, args, kwargs, out)

    call.__name__ = name
    call.__doc__ = function.__doc__
    call.__wrapped__ = function
    return call
