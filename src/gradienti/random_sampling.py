"""Samplers of PyTorch's CPU distributions, drawing from ``random.Generator`` as ATen does.

Each turns the generator's stream into values with ATen's algorithm (DistributionsHelper.h,
TransformationHelper.h, cpu/DistributionTemplates.h, Distributions.cpp, MultinomialKernel.cpp),
so that after the same seed the samples are PyTorch's bit for bit and the stream is left where
PyTorch leaves it:

* ``exponential``: ``-1/lambda * log1p(-u)``, ``geometric``: ``ceil(log(u) / log1p(-p))``,
  ``cauchy``: ``median + sigma * tan(pi * (u - 1/2))`` (one fused multiply-add), all on one
  53-bit uniform ``u`` per element, in double, cast to the tensor's dtype;
* ``log_normal``: ``exp`` of ``normal_distribution<double>`` (Box-Muller with the cached second
  value, as ``randn`` of fewer than 16 elements);
* ``bernoulli``: ``u < p``, ``u`` 53-bit for a double ``p`` (and a float ``p=``), 24-bit
  ``float`` for a float ``p`` tensor;
* ``poisson``: NumPy's old ``sample_poisson`` (Hörmann's transformed rejection for rates of 10
  and more, multiplication of uniforms below), on 53-bit uniforms;
* ``random_``: random_integers.py;
* ``multinomial``: with replacement, a binary search of each 53-bit uniform in the normalised
  cumulative sum; without, ``p / q`` for ``q`` exponential, whose ``topk`` (or ``argmax``)
  ops/sampling.py takes (ops/stdlib_order.py repeats ``topk``'s order of ties).

Elements are drawn in the order ATen's ``TensorIterator`` visits them: memory order, which is
the logical order except for a tensor whose NumPy array is a transposed or permuted view
(``memory_order``). The C library's ``log``/``log1p``/``tan``/``exp``/``lgamma`` are called
through ``math`` (NumPy's own can differ in the last bit).
"""

from __future__ import annotations

import contextlib
import ctypes
import math
import warnings

import numpy as np

from .batching import ACTIVE, RANDOM_ERROR, BatchedArray, batched_draw
from .random import Generator, _fma64, _libm, _source

_C_LGAMMA = []  # the C library's lgamma, found on first use


def _lgamma(x: float) -> float:
    """The C library's ``lgamma`` (ATen's ``std::lgamma``); CPython's ``math.lgamma`` is its
    own approximation and can differ in the last bit."""
    if not _C_LGAMMA:
        try:
            function = ctypes.CDLL(None).lgamma  # the process's C library (Python links libm)
            function.restype = ctypes.c_double
            function.argtypes = (ctypes.c_double,)
        except (OSError, AttributeError):  # pragma: no cover - no C math library to call
            function = math.lgamma
        _C_LGAMMA.append(function)
    return _C_LGAMMA[0](x)


def memory_order(array) -> tuple | None:
    """The axes of ``array`` from the outermost in memory to the innermost (the order in which
    ``TensorIterator`` visits a tensor with these strides), or None for the logical order."""
    if type(array) is BatchedArray or array.ndim < 2 or array.flags.c_contiguous:
        return None
    strides = array.strides
    axes = sorted(range(array.ndim), key=lambda axis: -abs(strides[axis]))
    return None if axes == list(range(array.ndim)) else tuple(axes)


def laid_out(draw, shape: tuple, order: tuple | None):
    """``draw(shape)``'s values, drawn in ``order`` (see ``memory_order``) and returned in the
    logical ``shape``."""
    if order is None:
        return draw(shape)
    values = draw(tuple(shape[axis] for axis in order))
    return np.transpose(values, np.argsort(order))


def draw_like(array, sample):
    """``sample(shape)``'s values for a tensor laid out like ``array`` (drawn in its memory
    order, as PyTorch fills a tensor in place or made by ``empty_like``); under vmap, as the
    vmaps' ``randomness`` asks (``batching.batched_draw``)."""
    shape = tuple(array.shape)
    order = memory_order(array)
    return batched_draw(
        shape, lambda full: laid_out(sample, full, order if full == shape else None)
    )


def refuse_under_vmap(name: str) -> None:
    """A sampler that gradienti does not batch raises under vmap (PyTorch's error in
    randomness "error" mode)."""
    if not ACTIVE.levels:
        return
    if any(level.randomness == "error" for level in ACTIVE.levels):
        raise RuntimeError(RANDOM_ERROR)
    raise NotImplementedError(f"gradienti does not yet batch {name} under vmap")


def vmap_operands(name: str, arrays: tuple) -> tuple:
    """``(level, arrays)`` for a sampler with tensor parameters: outside vmap, or under a vmap
    of randomness "same" with no parameter batched, ``(None, arrays)`` (one draw, as PyTorch);
    under one vmap of randomness "different", that level and the parameters' physical arrays
    (batch first; one that is not batched broadcast to the batch), on which PyTorch's batching
    rules draw. Anything else raises (PyTorch's errors; deeper nesting is not batched yet)."""
    levels = ACTIVE.levels
    if not levels:
        return None, arrays
    if any(level.randomness == "error" for level in levels):
        raise RuntimeError(RANDOM_ERROR)
    batched = [type(array) is BatchedArray for array in arrays]
    if any(level.randomness == "same" for level in levels):
        if any(batched):
            raise RuntimeError(SAME_ON_BATCHED_ERROR)
        if all(level.randomness == "same" for level in levels):
            return None, arrays
    if len(levels) == 1:
        level = levels[0]
        physical = tuple(  # (a parameter the samples share: expanded, then made contiguous)
            array.physical
            if is_batched
            else np.ascontiguousarray(np.broadcast_to(array, (level.size, *np.shape(array))))
            for array, is_batched in zip(arrays, batched)
        )
        if all(type(array) is np.ndarray for array in physical):
            return level, physical
    raise NotImplementedError(f"gradienti does not yet batch {name} under nested vmaps")


def batched(values, level):
    """Values drawn on physical arrays (``vmap_operands``) as the level's batched array."""
    return values if level is None else BatchedArray(values, level.id)


SAME_ON_BATCHED_ERROR = (
    "Vmap does not currently support same randomness with a batched tensor input. Please file "
    "an issue with functorch"
)


def refuse_same_on_batched(array) -> None:
    """PyTorch's error for an out-of-place random op of a batched tensor under a vmap whose
    randomness is "same" (``bernoulli(x, p)``)."""
    if type(array) is BatchedArray and any(level.randomness == "same" for level in ACTIVE.levels):
        raise RuntimeError(SAME_ON_BATCHED_ERROR)


@contextlib.contextmanager
def drawing_from(generator):
    """The generator to draw from (the default one for None), put back as it was if the call
    fails part way, so that a failed call consumes nothing."""
    source = _source(generator)
    state, cached_normal = source._bits.state, source._next_double_normal
    try:
        yield source
    except BaseException:
        source._bits.state = state
        source._next_double_normal = cached_normal
        raise


def _count(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


def to_dtype(values: np.ndarray, np_dtype) -> np.ndarray:
    """``static_cast<scalar_t>(double)``: float types round; integer types truncate through a
    64-bit integer and keep the low bits (what x86 code does where C++ leaves it undefined)."""
    np_dtype = np.dtype(np_dtype)
    if np_dtype == np.float16:  # c10::Half is made from a float: double -> float -> half
        return values.astype(np.float32).astype(np.float16)
    if np_dtype.kind == "f":
        return values.astype(np_dtype)
    if np_dtype.kind == "b":
        return values != 0
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        whole = values.astype(np.int64)  # inf and NaN give INT64_MIN, as cvttsd2si
    return whole.astype(np_dtype)


# ---------------------------------------------------------------- one uniform per element
def exponential(source: Generator, shape, lambd: float, np_dtype) -> np.ndarray:
    u = source._uniform(_count(shape), np.float64)
    values = (-1.0 / lambd) * _libm(math.log1p, -u)
    return to_dtype(values, np_dtype).reshape(shape)


def geometric(source: Generator, shape, p: float, np_dtype) -> np.ndarray:
    u = source._uniform(_count(shape), np.float64)
    with np.errstate(divide="ignore"):
        values = np.ceil(_libm(_log, u) / math.log1p(-p))
    return to_dtype(values, np_dtype).reshape(shape)


def _log(x: float) -> float:
    """C's ``log``: ``log(0)`` is ``-inf`` (``math.log`` raises)."""
    return math.log(x) if x > 0 else -math.inf


def cauchy(source: Generator, shape, median: float, sigma: float, np_dtype) -> np.ndarray:
    u = source._uniform(_count(shape), np.float64)
    values = _fma64(_libm(math.tan, math.pi * (u - 0.5)), sigma, median)
    return to_dtype(values, np_dtype).reshape(shape)


def log_normal(source: Generator, shape, mean: float, std: float, np_dtype) -> np.ndarray:
    normal = _fma64(source._normal_doubles(_count(shape)), std, mean)
    return to_dtype(_libm(_exp, normal), np_dtype).reshape(shape)


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def bernoulli_scalar(source: Generator, shape, p: float, np_dtype) -> np.ndarray:
    u = source._uniform(_count(shape), np.float64)
    return to_dtype((u < p).astype(np.float64), np_dtype).reshape(shape)


def bernoulli_tensor(source: Generator, p: np.ndarray, np_dtype) -> np.ndarray:
    """One draw per element of ``p`` (already of the output's shape): a double ``p`` compares a
    53-bit uniform, any other float dtype a 24-bit ``float`` one."""
    if p.dtype == np.float64:
        u = source._uniform(p.size, np.float64)
    else:
        u = source._uniform(p.size, np.float32)
        p = p.astype(np.float32)
    hits = u < p.reshape(-1)
    return to_dtype(hits.astype(np.float64), np_dtype).reshape(p.shape)


def poisson_counts(source: Generator, rates: np.ndarray) -> np.ndarray:
    """``sample_poisson`` for each rate (in C order), in the rates' dtype."""
    counts = [_poisson_one(source, rate) for rate in rates.reshape(-1).tolist()]
    return np.array(counts, dtype=np.int64).astype(rates.dtype).reshape(rates.shape)


def _poisson_one(source: Generator, rate: float) -> int:
    """One draw of Distributions.cpp's ``sample_poisson`` (compiled without fused
    multiply-adds: that file is not among the per-CPU kernels)."""
    if rate >= 10:
        slam = math.sqrt(rate)
        loglam = math.log(rate)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u, v = source._uniform(2, np.float64).tolist()
            u -= 0.5
            us = 0.5 - abs(u)
            # ``k = (int64_t)floor(x)``: PyTorch's build tests and uses k as the double
            # ``floor(x)`` (the same value whenever the cast is defined); only the returned
            # count is cast, so a rate past 2**63 rejects and accepts as there (checked by
            # the draws it consumes)
            whole = float(np.floor((2 * a / us + b) * u + rate + 0.43))
            if us >= 0.07 and v <= vr:
                return _floor_to_int64(whole)
            if whole < 0 or (us < 0.013 and v > us):
                continue
            accept = -rate + whole * loglam - _lgamma(whole + 1)
            if _log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= accept:
                return _floor_to_int64(whole)
    if rate == 0:
        return 0
    limit = math.exp(-rate)
    count, product = 0, 1.0
    while True:
        product *= float(source._uniform(1, np.float64)[0])
        if product > limit:
            count += 1
        else:
            return count


def _floor_to_int64(x: float) -> int:
    """``(int64_t)std::floor(x)``; inf and NaN give INT64_MIN, as on x86."""
    if math.isfinite(x) and -(2.0**63) <= x < 2.0**63:
        return math.floor(x)
    return -(2**63)


# ---------------------------------------------------------------- multinomial
def multinomial_with_replacement(source: Generator, p: np.ndarray, n: int) -> np.ndarray:
    """MultinomialKernel.cpp: per row, the cumulative sum in the dtype (float for half),
    divided by the sum, its last entry set to 1; each draw is the first entry not below a
    53-bit uniform."""
    rows = p if p.ndim == 2 else p[None]
    work = np.float32 if rows.dtype == np.float16 else rows.dtype
    out = np.empty((rows.shape[0], n), np.int64)
    for i, row in enumerate(rows.astype(work)):
        cumulative = np.cumsum(row, dtype=work)  # sequential, as the kernel's loop
        cumulative = cumulative / cumulative[-1]
        cumulative[-1] = 1
        u = source._uniform(n, np.float64)
        out[i] = np.searchsorted(cumulative.astype(np.float64), u, side="left")
    return out.reshape(p.shape[:-1] + (n,))


def multinomial_keys(source: Generator, p: np.ndarray) -> np.ndarray:
    """Distributions.cpp's sampling without replacement: ``p / q`` for ``q`` exponential(1)
    like ``p`` (drawn in ``p``'s memory order); the samples are each row's ``argmax`` (one) or
    ``topk`` (ops/sampling.py)."""
    q = laid_out(lambda shape: exponential(source, shape, 1.0, p.dtype), p.shape, memory_order(p))
    with np.errstate(divide="ignore", invalid="ignore"):
        return p / q
