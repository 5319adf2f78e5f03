"""Sampling functions with PyTorch's streams: ``normal`` (its four forms), ``bernoulli``,
``poisson``, ``multinomial``, ``rand_like``, ``randn_like``, ``randint_like``.

The values come from random_sampling.py (PyTorch's CPU algorithms on gradienti's generator), so
after the same seed they are PyTorch's bit for bit. The differentiable forms record PyTorch's
nodes, whose gradient is zero (``NormalBackward1/2/3``, ``BernoulliBackward0``,
``PoissonBackward0``: PyTorch does not reparameterise); ``bernoulli(x, p)`` of an ``x`` that
requires grad records ``NotImplemented`` (ops/integer_division.py's), whose backward raises, as
PyTorch's does. A call that
fails leaves the generator as it was.

Under vmap, the factories and ``normal(mean, std, size)`` draw as ``rand`` does
(``batching.batched_draw``); the samplers of tensor parameters draw as PyTorch's batching rules
do under one vmap of randomness "different" (on the batch, a shared parameter expanded to it),
once under "same" when no parameter is batched, and raise PyTorch's error when one is
(``random_sampling.vmap_operands``).
"""

from __future__ import annotations

import numpy as np

from ..arguments import check_tensor, is_index, is_number, size_argument
from ..backend import SCALAR_TYPE_NAMES, default_float, result_type, xp
from ..batching import batched_draw
from ..creation import _finish, _like_options, _non_negative, _options
from ..graph.grad_mode import MODES, grad_state, no_grad
from ..graph.node import NO_EDGE, SAVE_NOTHING, Op
from ..python_types import type_name
from ..random import normal_values
from ..random_integers import random_range, random_values
from ..random_sampling import (
    batched,
    bernoulli_scalar,
    bernoulli_tensor,
    draw_like,
    drawing_from,
    memory_order,
    poisson_counts,
    refuse_same_on_batched,
    to_dtype,
    vmap_operands,
)
from ..tensor import Tensor, wrap
from .apply import input_meta, raise_if_not_broadcastable, record_node, record_special
from .declare import declare
from .explain_rule import ATOM, NOT_DIFFERENTIABLE, Rule
from .integer_division import NotImplementedNode
from .out_arguments import check_out, resize_out

_FLOATS = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


# ---------------------------------------------------------------- nodes: zero gradients
class _ZeroGradient(Op):
    """PyTorch's derivative is zero for every input: a sample (no reparameterisation), or a
    fill with a number (ops/inplace.py)."""

    __slots__ = ()
    save = SAVE_NOTHING

    @staticmethod
    def backward(ctx, g):
        zero = wrap(xp.zeros(g._data.shape, g._data.dtype), NO_EDGE) if type(g) is Tensor else None
        zeros = tuple(
            None if edge is None else (zero if zero is not None else xp.zeros_like(g))
            for edge in ctx._next
        )
        return zeros if len(zeros) > 1 else zeros[0]

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return wrap(xp.zeros(out._data.shape, out._data.dtype), NO_EDGE)


class NormalBackward1(_ZeroGradient):  # normal(mean: Tensor, std: float)
    __slots__ = ()


class NormalBackward2(_ZeroGradient):  # normal(mean: float, std: Tensor)
    __slots__ = ()


class NormalBackward3(_ZeroGradient):  # normal(mean: Tensor, std: Tensor)
    __slots__ = ()


class BernoulliBackward0(_ZeroGradient):  # bernoulli(p: Tensor)
    __slots__ = ()


class PoissonBackward0(_ZeroGradient):
    __slots__ = ()


def sampled(node, inputs: tuple, out) -> Tensor:
    """The sampled array ``out`` as a Tensor, recorded with ``node`` (a zero-gradient node of
    the Tensors among ``inputs``) when one of them requires grad."""
    if MODES.special:
        arrays = tuple(value._data for value in inputs)
        return record_special(node, inputs, arrays, out)
    edges = tuple(value._edge for value in inputs)
    if not grad_state.enabled or all(edge is None for edge in edges):
        return wrap(out, NO_EDGE)
    return wrap(out, record_node(node, edges, (), input_meta(inputs, out)))


def not_implemented(kernel: str, np_dtype) -> NotImplementedError:
    return NotImplementedError(
        f"\"{kernel}\" not implemented for '{SCALAR_TYPE_NAMES[np.dtype(np_dtype).name]}'"
    )


# ---------------------------------------------------------------- normal
_NORMAL_SIGNATURES = (
    " * (Tensor mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (Tensor mean, float std = 1, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, Tensor std, *, torch.Generator generator = None, Tensor out = None)\n"
    " * (float mean, float std, tuple of ints size, *, torch.Generator generator = None, "
    "Tensor out = None, torch.dtype dtype = None, torch.layout layout = None, torch.device "
    "device = None, bool pin_memory = False, bool requires_grad = False)\n"
)


def normal(
    mean,
    std=1.0,
    size=None,
    *,
    generator=None,
    out=None,
    dtype=None,
    layout=None,
    device=None,
    pin_memory=False,
    requires_grad=False,
):
    """Normal samples: ``normal(mean, std)`` with either or both Tensors (broadcast), or
    ``normal(mean, std, size)`` of numbers. PyTorch draws standard values into the output and
    scales them (``z * std + mean``, one op at a time), or fills it with ``normal_(mean, std)``
    (the last form); the gradient is zero. ``out=`` is drawn into (its dtype and layout)."""
    mean_tensor, std_tensor = isinstance(mean, Tensor), isinstance(std, Tensor)
    form = None
    if size is None and mean_tensor and (std_tensor or _is_float(std)):
        form = "both" if std_tensor else "mean"
    elif size is None and std_tensor and _is_float(mean):
        form, mean = "std", float(mean)
    elif size is not None and not isinstance(size, int):
        # PyTorch's parser takes a 0-d tensor that does not require grad for a float here
        mean_number, std_number = _number_of(mean), _number_of(std)
        if _is_float(mean_number) and _is_float(std_number):
            form, mean, std = "numbers", float(mean_number), float(std_number)
    if form is None or (out is not None and not isinstance(out, Tensor)):
        given = [mean, std] if size is None else [mean, std, size]
        got = ", ".join(_signature_type(value) for value in given)
        got += "" if out is None else f", out={_signature_type(out)}"
        raise TypeError(
            f"normal() received an invalid combination of arguments - got ({got}), but "
            f"expected one of:\n{_NORMAL_SIGNATURES}"
        )
    if out is not None:
        return _normal_into(form, mean, std, size, out, generator, dtype)
    if form == "mean":
        return _normal_tensor_mean(mean, std, generator)
    if form == "both":
        return _normal_both(mean, std, generator)
    if form == "std":
        return _normal_tensor_std(mean, std, generator)
    return _normal_numbers(mean, std, size, generator, dtype, device, requires_grad)


def _normal_into(form: str, mean, std, size, out: Tensor, generator, dtype) -> Tensor:
    """PyTorch's ``normal_out``: ``out`` resized, then ``out.normal_(mean, std)`` (numbers), or
    ``out.normal_(0, std).add_(mean)`` (a tensor mean), or
    ``out.normal_(0, 1).mul_(std).add_(mean)`` (a tensor std)."""
    check_out("normal", out, (mean, std))
    if form == "numbers":
        shape = _non_negative(size_argument((size,), "normal", position=3, varargs=False))
        if dtype is not None and dtype != out.dtype:
            raise RuntimeError(
                f"dtype {SCALAR_TYPE_NAMES[dtype.name]} does not match dtype of out parameter "
                f"({SCALAR_TYPE_NAMES[out.dtype.name]})"
            )
        _check_std(std)
        resize_out(out, shape)
        with no_grad():
            return out.normal_(mean, std, generator=generator)
    if form == "mean":  # (PyTorch broadcasts the mean with a tensor of out's shape)
        std = float(std)
        _check_std(std)
        shape = _broadcast_shape(mean._data, out._data)
    else:
        _check_std_tensor(std._data)
        shape = std._data.shape if form == "std" else _broadcast_shape(mean._data, std._data)
    resize_out(out, shape)
    with drawing_from(generator) as source, no_grad():
        out.normal_(0.0, std if form == "mean" else 1.0, generator=source)
        if form != "mean":
            out.mul_(std)
        out.add_(mean)
    return out


def _broadcast_shape(a: np.ndarray, b: np.ndarray) -> tuple:
    try:
        return np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise_if_not_broadcastable(a, b)
        raise


def _number_of(value):
    """A 0-d Tensor that does not require grad as its number (else ``value`` itself)."""
    if isinstance(value, Tensor) and value._data.ndim == 0 and value._edge is None:
        number = value.item()
        return float(number) if isinstance(number, bool) else number  # (a bool tensor too)
    return value


def _is_float(value) -> bool:
    return is_number(value) and not isinstance(value, (complex, bool))


def _signature_type(value) -> str:
    return "Tensor" if isinstance(value, Tensor) else type_name(value)


def _check_std(std: float) -> None:
    if not std >= 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")


def _check_std_tensor(std: np.ndarray) -> None:
    if std.size and not bool(np.all(std >= 0)):
        raise RuntimeError("normal expects all elements of std >= 0.0")


def _standard_draws(source, shape, np_dtype, scale: float = 1.0):
    """``normal_(0, scale)`` on a fresh contiguous tensor of ``shape``."""
    if np.dtype(np_dtype) not in _FLOATS:
        raise not_implemented("normal_kernel_cpu", np_dtype)
    return source._normal(_non_negative(shape), 0.0, scale, np_dtype)


def _normal_tensor_mean(mean: Tensor, std, generator) -> Tensor:
    std = float(std)
    _check_std(std)
    level, (data,) = vmap_operands("normal", (mean._data,))
    with drawing_from(generator) as source:
        values = _standard_draws(source, data.shape, data.dtype, std)
    out = (values + data).astype(data.dtype)
    return sampled(NormalBackward1(), (mean,), batched(out, level))


def _normal_tensor_std(mean: float, std: Tensor, generator) -> Tensor:
    level, (data,) = vmap_operands("normal", (std._data,))
    _check_std_tensor(data)
    with drawing_from(generator) as source:
        values = _standard_draws(source, data.shape, data.dtype)
    scaled = _in_place_product(values, data)
    out = (scaled + data.dtype.type(mean)).astype(data.dtype)
    return sampled(NormalBackward2(), (std,), batched(out, level))


def _normal_both(mean: Tensor, std: Tensor, generator) -> Tensor:
    ndim = len(_broadcast_shape(mean._data, std._data))
    level, (mean_data, std_data) = vmap_operands("normal", (mean._data, std._data))
    if level is not None:  # physical arrays: batch first, then the logical dims aligned
        mean_data, std_data = _aligned(mean_data, ndim), _aligned(std_data, ndim)
    _check_std_tensor(std_data)
    shape = np.broadcast_shapes(mean_data.shape, std_data.shape)
    np_dtype = mean_data.dtype
    with drawing_from(generator) as source:
        values = _standard_draws(source, shape, np_dtype)
    scaled = _in_place_product(values, std_data)
    common = result_type(scaled.dtype, np_dtype, scaled.ndim, mean._data.ndim)
    shifted = (scaled.astype(common) + mean_data.astype(common)).astype(np_dtype)
    return sampled(NormalBackward3(), (mean, std), batched(shifted, level))


def _aligned(physical: np.ndarray, ndim: int) -> np.ndarray:
    """A physical array (batch first) with its logical dims padded on the left to ``ndim``."""
    logical = physical.shape[1:]
    return physical.reshape(physical.shape[:1] + (1,) * (ndim - len(logical)) + logical)


def _in_place_product(values, factor):
    """``values.mul_(factor)``: computed in the promoted dtype, kept in ``values``'s."""
    common = result_type(values.dtype, factor.dtype, values.ndim, factor.ndim)
    return (values.astype(common) * factor.astype(common)).astype(values.dtype)


def _normal_numbers(mean, std, size, generator, dtype, device, requires_grad) -> Tensor:
    shape = size_argument((size,), "normal", position=3, varargs=False)
    np_dtype, requires_grad = _options("normal", dtype, device, requires_grad)
    np_dtype = default_float.value.np if np_dtype is None else np_dtype
    _check_std(std)
    if np.dtype(np_dtype) not in _FLOATS:
        raise not_implemented("normal_kernel_cpu", np_dtype)
    values = normal_values(_non_negative(shape), mean, std, np_dtype, generator)
    return _finish(xp.asarray(values), requires_grad)


# ---------------------------------------------------------------- bernoulli, poisson
_P_RANGE_MESSAGE = (
    "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be "
    "improved?  If so, please report an enhancement request to PyTorch.)"
)


def check_probabilities(p: np.ndarray) -> None:
    """``bernoulli_distribution``'s check of each probability (NaN fails it)."""
    if p.dtype not in _FLOATS:
        raise not_implemented("bernoulli_tensor_cpu_p_", p.dtype)
    if p.size and not bool(np.all((p >= 0) & (p <= 1))):
        raise RuntimeError(_P_RANGE_MESSAGE)


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 samples: ``bernoulli(probabilities)`` draws each element with its probability,
    ``bernoulli(input, p)`` with ``p`` for every element (of ``input``'s shape and dtype).
    ``out=`` (first form only) is resized and filled with ``out.bernoulli_(probabilities)``."""
    check_tensor(input, "bernoulli")
    if out is not None:
        if p is not None or not isinstance(out, Tensor):
            given = ["Tensor"] + ([] if p is None else [type_name(p)])
            raise TypeError(
                "bernoulli() received an invalid combination of arguments - got "
                f"({', '.join(given)}, out={_signature_type(out)}), but expected one of:\n"
                " * (Tensor input, *, torch.Generator generator = None, Tensor out = None)\n"
                " * (Tensor input, float p, *, torch.Generator generator = None)\n"
            )
        check_out("bernoulli", out, (input,))
        resize_out(out, input._data.shape, warn=False)  # (bernoulli_out's plain resize_)
        with no_grad():
            return out.bernoulli_(input, generator=generator)
    data = input._data
    if p is not None:
        p = _probability(p, "bernoulli")
        refuse_same_on_batched(data)
        with drawing_from(generator) as source:
            values = batched_draw(
                tuple(data.shape), lambda shape: bernoulli_scalar(source, shape, p, data.dtype)
            )
        node = NotImplementedNode()  # PyTorch has no derivative for bernoulli(input, p)
        node.aten_name = "bernoulli"
        return sampled(node, (input,), values)
    level, (probabilities,) = vmap_operands("bernoulli", (data,))
    check_probabilities(probabilities)
    with drawing_from(generator) as source:
        values = bernoulli_tensor(source, probabilities, probabilities.dtype)
    return sampled(BernoulliBackward0(), (input,), batched(values, level))


def _probability(p, function: str) -> float:
    if isinstance(p, Tensor) and p._data.ndim == 0:
        p = p.item()
    if not _is_float(p):
        raise TypeError(f"{function}(): argument 'p' must be float, not {type_name(p)}")
    p = float(p)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    return p


def poisson(input, generator=None):
    """Poisson counts with the rates of ``input`` (same dtype)."""
    check_tensor(input, "poisson")
    if input._data.dtype not in _FLOATS:
        raise not_implemented("poisson_cpu", input._data.dtype)
    level, (rates,) = vmap_operands("poisson", (input._data,))
    if rates.size and not bool(np.all(rates >= 0)):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    with drawing_from(generator) as source:
        values = poisson_counts(source, rates)
    return sampled(PoissonBackward0(), (input,), batched(values, level))


# ---------------------------------------------------------------- *_like
def rand_like(
    input,
    *,
    generator=None,
    memory_format=None,
    dtype=None,
    layout=None,
    device=None,
    pin_memory=False,
    requires_grad=False,
):
    """Uniform values in [0, 1) of ``input``'s shape and dtype, drawn in its memory order."""
    _, np_dtype, requires_grad = _like_options("rand_like", input, dtype, device, requires_grad)
    if np.dtype(np_dtype) not in _FLOATS:
        raise not_implemented("check_uniform_bounds", np_dtype)
    with drawing_from(generator) as source:
        values = draw_like(
            input._data, lambda full: source._uniform(int(np.prod(full)), np_dtype).reshape(full)
        )
    return _finish(xp.asarray(values), requires_grad)


def randn_like(
    input,
    *,
    generator=None,
    memory_format=None,
    dtype=None,
    layout=None,
    device=None,
    pin_memory=False,
    requires_grad=False,
):
    """Standard normal values of ``input``'s shape and dtype. PyTorch fills a contiguous result
    as ``randn`` does, a transposed one element by element (its other kernel)."""
    shape, np_dtype, requires_grad = _like_options(
        "randn_like", input, dtype, device, requires_grad
    )
    if np.dtype(np_dtype) not in _FLOATS:
        raise not_implemented("normal_kernel_cpu", np_dtype)
    order = memory_order(input._data) if type(input._data) is np.ndarray else None
    with drawing_from(generator) as source:
        if order is None:
            values = normal_values(shape, 0.0, 1.0, np_dtype, source)
        else:
            values = draw_like(
                input._data,
                lambda full: to_dtype(source._normal_doubles(int(np.prod(full))), np_dtype).reshape(
                    full
                ),
            )
    return _finish(xp.asarray(values), requires_grad)


def randint_like(
    input,
    low=None,
    high=None,
    *,
    generator=None,
    memory_format=None,
    dtype=None,
    layout=None,
    device=None,
    pin_memory=False,
    requires_grad=False,
):
    """Integers in [low, high) (``randint_like(input, high)``: from 0), of ``input``'s shape and
    dtype, as ``random_(low, high)`` fills them."""
    check_tensor(input, "randint_like")
    given = (input, low, high)
    if high is None:
        low, high = 0, low
        if isinstance(high, Tensor) and high._data.ndim:  # randint_like(input, Tensor high)
            raise RuntimeError("high must be a scalar tensor and on CPU")
    if high is None:
        raise TypeError("randint_like() missing required argument 'high'")
    for value in (low, high):
        if not is_index(value) or isinstance(value, bool):
            raise _randint_like_error(given)
    low, high = int(low), int(high)
    shape, np_dtype, requires_grad = _like_options(
        "randint_like", input, dtype, device, requires_grad
    )
    bounds = random_range(low, high, np_dtype)
    with drawing_from(generator) as source:
        values = draw_like(input._data, lambda full: random_values(source, full, bounds, np_dtype))
    return _finish(xp.asarray(values), requires_grad)


def _randint_like_error(arguments: tuple) -> TypeError:
    given = ", ".join(_signature_type(value) for value in arguments if value is not None)
    forms = []
    for head in (
        "Tensor input, int low, int high",
        "Tensor input, Tensor high",
        "Tensor input, int high",
    ):
        tail = (
            "torch.memory_format memory_format = None, torch.dtype dtype = None, torch.layout "
            "layout = None, torch.device device = None, bool pin_memory = False, bool "
            "requires_grad = False)"
        )
        forms.append(f" * ({head}, *, torch.Generator generator, {tail}\n")
        forms.append(f" * ({head}, *, {tail}\n")
    return TypeError(
        f"randint_like() received an invalid combination of arguments - got ({given}), but "
        f"expected one of:\n{''.join(forms)}"
    )


_POISSON_RULE = Rule("a Poisson sample with rate x", "poisson({x:0})", ATOM, NOT_DIFFERENTIABLE)

DECLARATIONS = (
    declare(
        "normal",
        normal,
        method=None,
        explain={
            NormalBackward1: Rule(
                "a normal sample around a", "normal({x:0}, std)", ATOM, NOT_DIFFERENTIABLE
            ),
            NormalBackward2: Rule(
                "a normal sample of spread b", "normal(mean, {x:0})", ATOM, NOT_DIFFERENTIABLE
            ),
            NormalBackward3: Rule(
                "a normal sample", "normal({a:0}, {b:0})", ATOM, NOT_DIFFERENTIABLE * 2
            ),
        },
    ),
    declare(
        "bernoulli",
        bernoulli,
        explain={
            BernoulliBackward0: Rule(
                "a 0/1 sample with probability x", "bernoulli({x:0})", ATOM, NOT_DIFFERENTIABLE
            ),
        },
    ),
    declare("poisson", poisson, method=None, explain={PoissonBackward0: _POISSON_RULE}),
    declare("rand_like", rand_like, method=None),
    declare("randn_like", randn_like, method=None),
    declare("randint_like", randint_like, method=None),
)
