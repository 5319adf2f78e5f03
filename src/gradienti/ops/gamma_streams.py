"""PyTorch's CPU gamma, Dirichlet and binomial samplers on gradienti's generator, value for value.

ATen's ``_s_gamma_cpu``, ``_s_dirichlet_cpu`` and ``_s_binomial_cpu`` run a serial kernel over
the elements in C order; each element draws from the generator through
``uniform_real_distribution<double>`` (two 32-bit outputs: ``(hi << 32 | lo) & (2**53 - 1)``
times ``2**-53``) and ``normal_distribution<double>`` (two such uniforms, Box-Muller, the sine
kept for the next call). The rejection loops (Marsaglia and Tsang's gamma, Hörmann's BTRS and
inversion for the binomial, from Distributions.h) consume a data-dependent number of draws, so
they run element by element here too; ``_DoubleStream`` hands out the doubles from a block of
raw outputs so that one draw costs a few Python operations, and puts the generator where
PyTorch's would be afterwards.

Distributions.cpp is not a per-CPU kernel: it is compiled without fused multiply-adds, so plain
float64 arithmetic in ``math`` (the C library's log, pow, sqrt) gives its bits. Float constants
of the C++ source (``0.0331f``, ``1.0f / 3.0f``) keep their float32 values.
"""

from __future__ import annotations

import math
import struct

import numpy as np

_FLOAT_ONE_THIRD = float(np.float32(1.0) / np.float32(3.0))
_FLOAT_0_0331 = float(np.float32(0.0331))
_TWO_PI = 2.0 * math.pi
_BLOCK = 4096  # raw outputs fetched at a time
_FLOAT32 = struct.Struct("f")


class _DoubleStream:
    """The generator's doubles as PyTorch's per-element CPU samplers draw them."""

    def __init__(self, source) -> None:
        self._source = source
        self._bits = source._bits
        self._start = self._bits.state
        self._raw: list = []
        self._position = 0  # in _raw
        self._taken = 0  # raw outputs handed out in all
        self._cached_normal = source._next_double_normal

    def uniform(self) -> float:
        if self._position + 2 > len(self._raw):
            self._raw = self._raw[self._position :] + self._bits.random_raw(_BLOCK).tolist()
            self._position = 0
        high = self._raw[self._position]
        low = self._raw[self._position + 1]
        self._position += 2
        self._taken += 2
        return (((high << 32) | low) & (2**53 - 1)) * 2.0**-53

    def normal(self) -> float:
        cached = self._cached_normal
        if cached is not None:
            self._cached_normal = None
            return cached
        u1 = self.uniform()
        u2 = self.uniform()
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        theta = _TWO_PI * u1
        self._cached_normal = radius * math.sin(theta)
        return radius * math.cos(theta)

    def finish(self) -> None:
        """Leave the generator as PyTorch's: exactly the outputs handed out consumed."""
        self._bits.state = self._start
        if self._taken:
            self._bits.random_raw(self._taken)
        self._source._next_double_normal = self._cached_normal


def _to_float32(value: float) -> float:
    """``static_cast<float>`` (round to nearest even); overflow gives inf, as in C. (struct is
    several times cheaper than a NumPy scalar on this per-draw path.)"""
    try:
        return _FLOAT32.unpack(_FLOAT32.pack(value))[0]
    except OverflowError:  # beyond float32's range (struct refuses what C rounds to inf)
        return math.copysign(math.inf, value)


def _same(value: float) -> float:
    return value


def _gamma_one(alpha: float, stream: _DoubleStream, single: bool) -> float:
    """Distributions.h's ``sample_gamma<scalar_t, double>``; ``single``: scalar_t is float, so
    the steps on ``alpha`` itself round to float32."""
    scale = 1.0
    if alpha < 1.0:  # boost alpha for a higher acceptance probability
        if alpha == 0.0:
            return 0.0
        exponent = _to_float32(1.0 / alpha) if single else 1.0 / alpha
        scale *= math.pow(1.0 - stream.uniform(), exponent)
        alpha = _to_float32(alpha + 1.0) if single else alpha + 1.0
    d = _to_float32(alpha - _FLOAT_ONE_THIRD) if single else alpha - _FLOAT_ONE_THIRD
    c = _reciprocal_sqrt(9.0 * d)
    while True:  # Marsaglia and Tsang (2000)
        while True:
            x = stream.normal()
            y = 1.0 + c * x
            if not y <= 0:
                break
        v = y * y * y
        u = 1.0 - stream.uniform()
        xx = x * x
        if u < 1.0 - _FLOAT_0_0331 * xx * xx:
            return scale * d * v
        if math.log(u) < 0.5 * xx + d * (1.0 - v + math.log(v)):  # v > 0 or NaN here
            return scale * d * v


def _reciprocal_sqrt(x: float) -> float:
    """C's ``1.0 / sqrt(x)``: NaN below zero, inf at zero."""
    if x > 0:
        return 1.0 / math.sqrt(x)
    return math.inf if x == 0 else math.nan


def _clamp_below(value: float, smallest: float) -> float:
    """``std::max(smallest, value)``: NaN gives ``smallest``, as the comparison fails."""
    return value if smallest < value else smallest


def standard_gamma_values(source, alpha: np.ndarray) -> np.ndarray:
    """``_standard_gamma`` of float32 or float64 concentrations ``alpha``."""
    single = alpha.dtype == np.float32
    tiny = float(np.finfo(alpha.dtype).tiny)
    stream = _DoubleStream(source)
    values = []
    try:
        for concentration in alpha.reshape(-1).tolist():
            sample = _gamma_one(concentration, stream, single)
            values.append(_clamp_below(_to_float32(sample) if single else sample, tiny))
    finally:
        stream.finish()
    return np.array(values, dtype=alpha.dtype).reshape(alpha.shape)


def _row_sums(gamma: np.ndarray) -> np.ndarray:
    """ATen's sum over the last (contiguous) axis of float64, in its order up to 16 elements:
    four lanes, lane ``i % 4`` adding element ``i`` of the whole groups of four, the tail summed
    in order and then the lanes added to it one by one. (Longer rows: NumPy's pairwise sum,
    which can differ from ATen's in the last bit.)"""
    size = gamma.shape[-1]
    if size > 16:
        return gamma.sum(-1, keepdims=True)
    whole = size - size % 4
    tail = np.zeros(gamma.shape[:-1], np.float64)
    for index in range(whole, size):
        tail = tail + gamma[..., index]
    if whole:
        lanes = gamma[..., 0:4].copy()
        for start in range(4, whole, 4):
            lanes = lanes + gamma[..., start : start + 4]
        for lane in range(4):
            tail = tail + lanes[..., lane]
    return tail[..., None]


def dirichlet_values(source, alpha: np.ndarray) -> np.ndarray:
    """``_sample_dirichlet``: gammas in double for every element, each row divided by its sum
    and clamped into [tiny, the float just below 1] of ``alpha``'s dtype."""
    tiny64 = float(np.finfo(np.float64).tiny)
    stream = _DoubleStream(source)
    try:
        gammas = [
            _clamp_below(_gamma_one(a, stream, False), tiny64) for a in alpha.reshape(-1).tolist()
        ]
    finally:
        stream.finish()
    gamma = np.array(gammas, dtype=np.float64).reshape(alpha.shape)
    total = _row_sums(gamma) if gamma.ndim else gamma
    ratio = (gamma / total).astype(alpha.dtype)
    below_one = np.nextafter(alpha.dtype.type(1), alpha.dtype.type(0))
    tiny = np.finfo(alpha.dtype).tiny
    return np.minimum(below_one, np.where(ratio > tiny, ratio, tiny)).astype(alpha.dtype)


# Stirling's series' tail log(k!) - [(k + 1/2) log(k + 1) - (k + 1) + log(2 pi)/2], tabulated
# below 10 (TensorFlow's values, as Distributions.h)
_STIRLING_TAIL = (
    0.0810614667953272,
    0.0413406959554092,
    0.0276779256849983,
    0.02079067210376509,
    0.0166446911898211,
    0.0138761288230707,
    0.0118967099458917,
    0.0104112652619720,
    0.00925546218271273,
    0.00833056343336287,
)


def _stirling_tail(k: float) -> float:
    if k < 10:
        return _STIRLING_TAIL[int(k)]
    kp1sq = (k + 1) * (k + 1)
    return (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)


def _binomial_inversion(count: float, prob: float, stream: _DoubleStream, rnd) -> float:
    """The number of geometric waiting times that fit in ``count`` trials. ``rnd`` rounds what
    Distributions.h computes in ``scalar_t`` (float32 for a float tensor)."""
    geom_sum = 0.0
    num_geom = 0.0
    logprob = rnd(math.log1p(-prob))
    while True:
        u = stream.uniform()
        quotient = (math.log(u) if u > 0 else -math.inf) / logprob
        geom_sum += math.ceil(quotient) if math.isfinite(quotient) else quotient
        if geom_sum > count:
            return num_geom
        num_geom = rnd(num_geom + 1)


def _btrs(count: float, prob: float, stream: _DoubleStream, rnd) -> float:
    """Hörmann's transformed rejection with squeeze (BTRS), for count * prob >= 10."""
    stddev = rnd(math.sqrt(rnd(rnd(count * prob) * rnd(1 - prob))))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = rnd(count * prob) + 0.5
    v_r = 0.92 - 4.2 / b
    r = rnd(prob / rnd(1 - prob))
    alpha = (2.83 + 5.1 / b) * stddev
    m = math.floor(rnd(rnd(count + 1) * prob))
    while True:
        u = stream.uniform() - 0.5
        v = stream.uniform()
        us = 0.5 - abs(u)
        k = rnd(float(math.floor((2 * a / us + b) * u + c)))
        if k < 0 or k > count:
            continue
        if us >= 0.07 and v <= v_r:
            return k
        v = math.log(v * alpha / (a / (us * us) + b)) if v > 0 else -math.inf
        rest = rnd(rnd(count - k) + 1)  # count - k + 1, in scalar_t
        upper = (
            (m + 0.5) * math.log((m + 1) / (r * (count - m + 1)))
            + rnd(count + 1) * math.log((count - m + 1) / rest)
            + (k + 0.5) * math.log(r * rest / rnd(k + 1))
            + _stirling_tail(m)
            + _stirling_tail(count - m)
            - _stirling_tail(k)
            - _stirling_tail(rnd(count - k))
        )
        if v <= upper:
            return k


def _binomial_one(count: float, prob: float, stream: _DoubleStream, rnd) -> float:
    """Distributions.h's ``sample_binomial``: BTRS where the mean count of the rarer outcome is
    10 or more, inversion below."""
    if count <= 0.0 or prob <= 0.0:
        return 0.0
    if prob >= 1.0:
        return count
    if prob <= 0.5:
        if rnd(count * prob) >= 10.0:
            return _btrs(count, prob, stream, rnd)
        return _binomial_inversion(count, prob, stream, rnd)
    if prob > 0.5:
        qprob = rnd(1.0 - prob)
        if rnd(count * qprob) >= 10.0:
            return rnd(count - _btrs(count, qprob, stream, rnd))
        return rnd(count - _binomial_inversion(count, qprob, stream, rnd))
    return math.nan


def binomial_values(source, count: np.ndarray, prob: np.ndarray) -> np.ndarray:
    """``binomial`` of broadcast float32 or float64 ``count`` and ``prob`` (same dtype)."""
    rnd = _to_float32 if count.dtype == np.float32 else _same
    stream = _DoubleStream(source)
    try:
        values = [
            _binomial_one(n, p, stream, rnd)
            for n, p in zip(count.reshape(-1).tolist(), prob.reshape(-1).tolist())
        ]
    finally:
        stream.finish()
    return np.array(values, dtype=count.dtype).reshape(count.shape)
