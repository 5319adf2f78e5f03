"""In-place random fills with PyTorch's streams: ``uniform_``, ``normal_``, ``random_`` (``()``,
``(to)``, ``(from, to)``), ``exponential_``, ``geometric_``, ``bernoulli_`` (a float or a tensor
``p``), ``cauchy_``, ``log_normal_``.

Each checks its arguments as ATen's ``*_impl_`` does (the same texts, before anything is
drawn), fills the tensor in its memory order with random_sampling.py's values, and, on a tensor
that requires grad, records PyTorch's node (``UniformBackward0``, ``NormalBackward0``,
``RandomBackward0/1/2``, ``ExponentialBackward0``, ...), whose gradient is zero. Under vmap
the values are drawn as the vmaps' ``randomness`` asks, except ``bernoulli_`` with a tensor
``p``.
"""

from __future__ import annotations

import numpy as np

from ..arguments import is_index, is_number, wrong_type
from ..backend import CPP_TYPE_NAMES, SCALAR_TYPE_NAMES
from ..batching import check_in_place_draw
from ..python_types import type_name
from ..random import _fma64
from ..random_integers import random_default, random_range, random_values
from ..random_sampling import (
    bernoulli_scalar,
    bernoulli_tensor,
    cauchy,
    draw_like,
    drawing_from,
    exponential,
    geometric,
    laid_out,
    log_normal,
    memory_order,
    refuse_under_vmap,
    to_dtype,
)
from ..tensor import Tensor
from .declare import declare
from .explain_rule import ATOM, NOT_DIFFERENTIABLE, Rule
from .inplace import zero_tangent
from .sampling import (
    _FLOATS,
    _probability,
    _ZeroGradient,
    check_probabilities,
    not_implemented,
    sampled,
)


class UniformBackward0(_ZeroGradient):
    __slots__ = ()


class NormalBackward0(_ZeroGradient):  # normal_(mean, std)
    __slots__ = ()


class RandomBackward0(_ZeroGradient):  # random_(from, to)
    __slots__ = ()


class RandomBackward1(_ZeroGradient):  # random_(to)
    __slots__ = ()


class RandomBackward2(_ZeroGradient):  # random_()
    __slots__ = ()


class ExponentialBackward0(_ZeroGradient):
    __slots__ = ()


class GeometricBackward0(_ZeroGradient):
    __slots__ = ()


class CauchyBackward0(_ZeroGradient):
    __slots__ = ()


class LogNormalBackward0(_ZeroGradient):
    __slots__ = ()


class BernoulliBackward1(_ZeroGradient):  # bernoulli_(p: Tensor)
    __slots__ = ()


class BernoulliBackward2(_ZeroGradient):  # bernoulli_(p: float)
    __slots__ = ()


def _fill(input, node, sample, generator):
    """Write ``sample(source, shape)``'s values into ``input`` (drawn in its memory order),
    recording ``node`` when ``input`` requires grad."""
    check_in_place_draw(input._data)
    with drawing_from(generator) as source:
        values = draw_like(input._data, lambda shape: sample(source, shape))
        input._assign_in_place(sampled(node, (input,), values))
    zero_tangent(input)
    return input


def _float_argument(value, function: str, name: str, position: int) -> float:
    """A real number, or a 0-d Tensor that does not require grad (PyTorch's ``double``)."""
    if isinstance(value, Tensor) and value._data.ndim == 0 and value._edge is None:
        value = value.item()
    if isinstance(value, complex) or not is_number(value):
        raise wrong_type(function, name, "float", value, position)
    return float(value)


def _continuous_error(distribution: str, dtype_name: str) -> RuntimeError:
    return RuntimeError(
        f"{distribution} distribution is a continuous probability distribution. dtype must be a "
        f"floating point but you specified {dtype_name}"
    )


# ---------------------------------------------------------------- uniform_, normal_
def uniform_(input, a: float = 0.0, b: float = 1.0, *, generator=None):
    """Values in [a, b), drawn in the tensor's memory order (``TensorIterator``'s)."""
    a = _float_argument(a, "uniform_", "from", 1)
    b = _float_argument(b, "uniform_", "to", 2)
    np_dtype = input._data.dtype
    _check_uniform_bounds(a, b, np_dtype)
    largest = float(np.finfo(np_dtype).max)
    # PyTorch clamps the bounds into the dtype's range after checking them
    a, b = min(max(a, -largest), largest), max(min(b, largest), -largest)
    return _fill(
        input,
        UniformBackward0(),
        lambda source, shape: source._uniform(int(np.prod(shape)), np_dtype, a, b).reshape(shape),
        generator,
    )


def _check_uniform_bounds(a: float, b: float, np_dtype) -> None:
    """``uniform_impl_``'s checks, in its order (for every dtype it dispatches on, even for an
    empty tensor; NaN bounds fail the first)."""
    if np_dtype not in _FLOATS:
        raise not_implemented("check_uniform_bounds", np_dtype)
    largest = float(np.finfo(np_dtype).max)
    meta = CPP_TYPE_NAMES[np_dtype.name]
    for value, name in ((a, "from"), (b, "to")):
        if not -largest <= value <= largest:
            raise RuntimeError(f"{name} is out of bounds for {meta}")
    if a > b:
        raise RuntimeError(
            f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}"
        )
    if b - a > largest:
        raise RuntimeError(
            f"uniform_ expects to-from <= std::numeric_limits<{SCALAR_TYPE_NAMES[np_dtype.name]}"
            f">::max(), but found to={b:g} and from={a:g} which result in to-from to exceed the "
            "limit"
        )


def normal_(input, mean: float = 0.0, std: float = 1.0, *, generator=None):
    """Normal values. ATen's ``normal_kernel`` fills a contiguous tensor of 16 or more elements
    in blocks (``randn``'s kernel); any other it fills element by element in memory order, each
    value ``normal_distribution<double>``'s, cast to the dtype."""
    mean = _float_argument(mean, "normal_", "mean", 1)
    std = _float_argument(std, "normal_", "std", 2)
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    data = input._data
    np_dtype = data.dtype
    if data.size and np_dtype not in _FLOATS:
        raise not_implemented("normal_kernel_cpu", np_dtype)
    # (a BatchedArray's physical array is drawn as one fresh contiguous tensor, as randn's)
    blocks = type(data) is not np.ndarray or data.flags.c_contiguous

    def sample(source, shape):
        if blocks:
            return source._normal(shape, mean, std, np_dtype)
        values = _fma64(source._normal_doubles(int(np.prod(shape))), std, mean)
        return to_dtype(values, np_dtype).reshape(shape)

    return _fill(input, NormalBackward0(), sample, generator)


# ---------------------------------------------------------------- random_
_RANDOM_SIGNATURES = (
    " * (*, torch.Generator generator = None)\n"
    " * (int from, int to, *, torch.Generator generator = None)\n"
    " * (int to, *, torch.Generator generator = None)\n"
)


def random_(input, *args, generator=None, **kwargs):
    """Integers: ``random_()`` over the dtype's range ([0, 2**mantissa] for floats),
    ``random_(to)`` in [0, to), ``random_(from, to)`` in [from, to) (``to=None``: up to the
    dtype's largest value)."""
    parsed = _random_arguments(args, kwargs)
    np_dtype = input._data.dtype
    if parsed is None:
        return _fill(
            input,
            RandomBackward2(),
            lambda source, shape: random_default(source, shape, np_dtype),
            generator,
        )
    low, high, node = parsed
    bounds = random_range(low, high, np_dtype)
    return _fill(
        input, node, lambda source, shape: random_values(source, shape, bounds, np_dtype), generator
    )


def _random_arguments(args: tuple, kwargs: dict):
    """None for ``random_()``, else ``(from, to, node)``; PyTorch's TypeError otherwise."""
    count = len(args) + len(kwargs)
    if set(kwargs) - {"from", "to"} or count > 2 or ("from" in kwargs and args):
        raise _random_type_error(args, kwargs)
    if count == 0:
        return None
    if count == 1:
        if "from" in kwargs:
            raise _random_type_error(args, kwargs)
        high = args[0] if args else kwargs["to"]
        if not _is_int(high):
            raise _random_type_error(args, kwargs)
        return 0, int(high), RandomBackward1()
    low = args[0] if args else kwargs["from"]
    high = args[1] if len(args) == 2 else kwargs["to"]
    if not _is_int(low) or not (high is None or _is_int(high)):
        raise _random_type_error(args, kwargs)
    return int(low), (None if high is None else int(high)), RandomBackward0()


def _is_int(value) -> bool:
    return is_index(value) and not isinstance(value, bool)


def _random_type_error(args: tuple, kwargs: dict) -> TypeError:
    parts = [type_name(value) for value in args]
    parts += [f"{key}={type_name(value)}" for key, value in kwargs.items()]
    got = ", ".join(parts) + (", " if kwargs and not args else "")
    # PyTorch's parser counts ``(*, torch.Generator generator = None)`` as taking two
    # arguments, so two of them get a "didn't match" line under that form
    hint = ""
    if len(args) == 2 and not kwargs:
        marked = ", ".join(f"!{type_name(value)}!" for value in args)
        hint = f"      didn't match because some of the arguments have invalid types: ({marked})\n"
    elif len(args) == 1 and kwargs:
        hint = (
            f"      didn't match because some of the keywords were incorrect: {', '.join(kwargs)}\n"
        )
    first, rest = _RANDOM_SIGNATURES.split("\n", 1)
    return TypeError(
        f"random_() received an invalid combination of arguments - got ({got}), but expected "
        f"one of:\n{first}\n{hint}{rest}"
    )


# ---------------------------------------------------------------- continuous fills
def exponential_(input, lambd: float = 1.0, *, generator=None):
    lambd = _float_argument(lambd, "exponential_", "lambd", 1)
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    np_dtype = input._data.dtype
    if input._data.size and np_dtype not in _FLOATS:
        raise _continuous_error("Exponential", SCALAR_TYPE_NAMES[np_dtype.name])
    return _fill(
        input,
        ExponentialBackward0(),
        lambda source, shape: exponential(source, shape, lambd, np_dtype),
        generator,
    )


def geometric_(input, p: float, *, generator=None):
    p = _float_argument(p, "geometric_", "p", 1)
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    np_dtype = input._data.dtype
    if input._data.size and np_dtype.kind == "b":
        raise not_implemented("geometric_cpu", np_dtype)
    return _fill(
        input,
        GeometricBackward0(),
        lambda source, shape: geometric(source, shape, p, np_dtype),
        generator,
    )


def cauchy_(input, median: float = 0.0, sigma: float = 1.0, *, generator=None):
    median = _float_argument(median, "cauchy_", "median", 1)
    sigma = _float_argument(sigma, "cauchy_", "sigma", 2)
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    np_dtype = input._data.dtype
    if np_dtype not in _FLOATS:
        raise _continuous_error("Cauchy", CPP_TYPE_NAMES[np_dtype.name])
    return _fill(
        input,
        CauchyBackward0(),
        lambda source, shape: cauchy(source, shape, median, sigma, np_dtype),
        generator,
    )


def log_normal_(input, mean: float = 1.0, std: float = 2.0, *, generator=None):
    mean = _float_argument(mean, "log_normal_", "mean", 1)
    std = _float_argument(std, "log_normal_", "std", 2)
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    np_dtype = input._data.dtype
    if input._data.size and np_dtype not in _FLOATS:
        raise not_implemented("log_normal_cpu", np_dtype)
    return _fill(
        input,
        LogNormalBackward0(),
        lambda source, shape: log_normal(source, shape, mean, std, np_dtype),
        generator,
    )


# ---------------------------------------------------------------- bernoulli_
def bernoulli_(input, p=0.5, *, generator=None):
    """0/1 values: each element is 1 with probability ``p`` (a number, or a Tensor that
    broadcasts to this tensor's shape)."""
    np_dtype = input._data.dtype
    if isinstance(p, Tensor):
        return _bernoulli_tensor_(input, p, generator)
    if not is_number(p) or isinstance(p, complex):
        raise TypeError(
            f"bernoulli_() received an invalid combination of arguments - got ({type_name(p)}), "
            "but expected one of:\n * (Tensor p, *, torch.Generator generator = None)\n"
            " * (float p = 0.5, *, torch.Generator generator = None)\n"
        )
    p = _probability(p, "bernoulli_")
    return _fill(
        input,
        BernoulliBackward2(),
        lambda source, shape: bernoulli_scalar(source, shape, p, np_dtype),
        generator,
    )


def _bernoulli_tensor_(input, p: Tensor, generator):
    refuse_under_vmap("bernoulli_")
    shape = input._data.shape
    if not input._data.size:
        return input
    try:
        probabilities = np.broadcast_to(np.asarray(p._data), shape)
    except ValueError:
        target, given, dim = _first_mismatch(shape, p._data.shape)
        raise RuntimeError(
            f"The expanded size of the tensor ({target}) must match the existing size ({given}) "
            f"at non-singleton dimension {dim}.  Target sizes: {list(shape)}.  Tensor sizes: "
            f"{list(p._data.shape)}"
        ) from None
    check_probabilities(probabilities)
    np_dtype = input._data.dtype
    check_in_place_draw(input._data)
    # TensorIterator visits the elements in the output's memory order (the output's strides
    # decide the order before the probabilities')
    order = memory_order(input._data)
    ordered = probabilities if order is None else np.transpose(probabilities, order)
    with drawing_from(generator) as source:
        values = laid_out(lambda _: bernoulli_tensor(source, ordered, np_dtype), shape, order)
        input._assign_in_place(sampled(BernoulliBackward1(), (input, p), values))
    zero_tangent(input)
    return input


def _first_mismatch(target: tuple, given: tuple) -> tuple:
    """(target size, given size, dimension) of the first dimension that does not expand."""
    offset = len(target) - len(given)
    for dim in range(len(given) - 1, -1, -1):
        if given[dim] != 1 and given[dim] != target[offset + dim]:
            return target[offset + dim], given[dim], offset + dim
    return target[0] if target else 0, given[0] if given else 0, 0


_FILL_RULE = Rule("filled in place with random values", "random({x:0})", ATOM, NOT_DIFFERENTIABLE)

DECLARATIONS = (
    declare("uniform_", None, method=uniform_, explain={UniformBackward0: _FILL_RULE}),
    declare("normal_", None, method=normal_, explain={NormalBackward0: _FILL_RULE}),
    declare(
        "random_",
        None,
        method=random_,
        explain={
            RandomBackward0: _FILL_RULE,
            RandomBackward1: _FILL_RULE,
            RandomBackward2: _FILL_RULE,
        },
    ),
    declare("exponential_", None, method=exponential_, explain={ExponentialBackward0: _FILL_RULE}),
    declare("geometric_", None, method=geometric_, explain={GeometricBackward0: _FILL_RULE}),
    declare("cauchy_", None, method=cauchy_, explain={CauchyBackward0: _FILL_RULE}),
    declare("log_normal_", None, method=log_normal_, explain={LogNormalBackward0: _FILL_RULE}),
    declare(
        "bernoulli_",
        None,
        method=bernoulli_,
        explain={
            BernoulliBackward1: Rule(
                "filled in place with 0/1 samples",
                "bernoulli({a:0}, {b:0})",
                ATOM,
                NOT_DIFFERENTIABLE * 2,
            ),
            BernoulliBackward2: _FILL_RULE,
        },
    ),
)
