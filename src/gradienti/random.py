"""Random numbers that repeat PyTorch's CPU generator bit for bit.

PyTorch's CPU generator (``CPUGeneratorImpl``) is a 32-bit Mersenne Twister (mt19937) seeded
with ``init_genrand(seed & 0xffffffff)``; ``random()`` is one 32-bit output and ``random64()``
joins two (the first as the high word). NumPy's ``MT19937`` bit generator has the same
twist and tempering, so its ``random_raw`` gives the same stream once its key is set by the
same ``init_genrand``; this module turns that stream into values as ATen does:

* uniform (``rand``, ``uniform_``): float32 and float16 ``(random() & (2**24 - 1)) * 2**-24``,
  float64 ``(random64() & (2**53 - 1)) * 2**-53``, then ``fma(x, to - from, from)`` (the
  wheel contracts ``x * (to - from) + from``), in float for float16; a value that rounds up
  to ``to`` becomes ``from``;
* normal (``randn``, ``normal_``): a contiguous tensor of 16 or more elements is filled with
  uniform values, then Box-Muller in blocks of 16 (first 8 radius, next 8 angle), the tail
  block redrawn at the end (``normal_fill``). For float32 that is ``normal_fill_16_AVX2``
  with avx_mathfun's ``log256_ps``/``sincos256_ps`` polynomials, fused multiply-adds where
  the wheel has them; float64 uses the C library's log/cos/sin (through ``math``); float16
  draws uniforms for the whole blocks only, then the float32 kernel. Smaller tensors use
  ``normal_distribution<double>``, which draws two 53-bit uniforms per pair and caches the
  second value (the cache is cleared by ``manual_seed``);
* ``randint``: ``random_(low, high)`` (random_integers.py): ``random() % range + low`` for a
  range below 2**28, else ``random64()`` (the bound of PyTorch 2.13, which keeps the skew of
  ``%`` small);
* ``randperm``: Fisher-Yates, ``i`` from 0, swapping with ``i + random() % (n - i)`` (PyTorch
  does that for ``n < 2**32 / 20``; above, its other algorithm is not repeated here).

All checked value for value against torch 2.13 on an x86 CPU (capability AVX512 or AVX2).
``ATEN_CPU_CAPABILITY=default`` makes PyTorch itself give other last bits for float
``randn``/``normal_``/``uniform_``. ``get_rng_state`` has PyTorch's 5056-byte layout.
"""

from __future__ import annotations

import math as _math

import numpy as _np

from .arguments import check_int, positional_or_keyword_size, size_argument
from .backend import SCALAR_TYPE_NAMES, default_float, from_numpy_dtype, int64, uint8, xp
from .batching import batched_draw
from .creation import _finish, _non_negative, _options, tensor
from .random_integers import random_from_to, random_range

_DEFAULT_SEED = 67280421310721
_MASK32 = 0xFFFFFFFF
_STATE_BYTES = 5056  # sizeof(CPUGeneratorImplState)


def _init_genrand(seed: int) -> _np.ndarray:
    """mt19937's ``init_genrand``: the 624-word key for a 32-bit seed."""
    key = [0] * 624
    key[0] = seed & _MASK32
    for i in range(1, 624):
        prev = key[i - 1]
        key[i] = (1812433253 * (prev ^ (prev >> 30)) + i) & _MASK32
    return _np.array(key, dtype=_np.uint32)


class Generator:
    """A source of random numbers (PyTorch's ``torch.Generator`` on CPU): mt19937."""

    def __init__(self, device="cpu") -> None:
        self._bits = _np.random.MT19937(0)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        if seed < 0:  # PyTorch reads a negative seed as its unsigned 64-bit value
            seed += 2**64
        self._seed = seed
        self._bits.state = {
            "bit_generator": "MT19937",
            "state": {"key": _init_genrand(seed), "pos": 624},
        }
        self._next_double_normal = None
        return self

    def initial_seed(self) -> int:
        return self._seed

    def seed(self) -> int:
        fresh = int(_np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(fresh)
        return fresh

    def get_state(self):
        """The state as PyTorch's CPU generator lays it out (5056 bytes, uint8), so that a
        state moves between ``torch.get_rng_state`` and this module either way."""
        state = self._bits.state["state"]
        pos = int(state["pos"])
        normal = self._next_double_normal
        packed = _np.zeros(_STATE_BYTES, _np.uint8)
        packed[0:8] = _np.array([self._seed], _np.uint64).view(_np.uint8)
        # mt19937's ``left`` and ``next``: ``next`` is 0 until the first twist
        fresh = pos == 624 and _np.array_equal(state["key"], _init_genrand(self._seed))
        packed[8:16] = _np.array([625 - pos, 1], _np.int32).view(_np.uint8)
        packed[16:24] = _np.array([0 if fresh else pos], _np.uint64).view(_np.uint8)
        packed[24:5016] = state["key"].astype(_np.uint64).view(_np.uint8)
        if normal is not None:  # normal_x, normal_y, normal_rho, normal_is_valid
            packed[5024:5032] = _np.array([normal], _np.float64).view(_np.uint8)
            packed[5040:5044] = _np.array([1], _np.int32).view(_np.uint8)
        return tensor(packed, dtype=uint8)

    def set_state(self, new_state) -> Generator:
        data = _np.asarray(new_state.numpy() if hasattr(new_state, "numpy") else new_state)
        data = _np.ascontiguousarray(data, dtype=_np.uint8).reshape(-1)
        if data.size != _STATE_BYTES:
            raise RuntimeError(
                f"Expected either a THGeneratorState of size 5048 or a CPUGeneratorImplState"
                f" of size {_STATE_BYTES} but found the input RNG state size to be {data.size}"
            )
        left = int(data[8:12].view(_np.int32)[0])
        self._bits.state = {
            "bit_generator": "MT19937",
            "state": {"key": data[24:5016].view(_np.uint64).astype(_np.uint32), "pos": 625 - left},
        }
        self._seed = int(data[0:8].view(_np.uint64)[0])
        valid = int(data[5040:5044].view(_np.int32)[0])
        self._next_double_normal = float(data[5024:5032].view(_np.float64)[0]) if valid else None
        return self

    # The stream, as ATen's CPUGeneratorImpl hands it out.
    def _random(self, count: int) -> _np.ndarray:
        """``count`` outputs of ``random()``, as uint64."""
        if count == 0:
            return _np.zeros(0, _np.uint64)
        return self._bits.random_raw(count).astype(_np.uint64)

    def _random64(self, count: int) -> _np.ndarray:
        pairs = self._random(2 * count).reshape(count, 2)
        return (pairs[:, 0] << _np.uint64(32)) | pairs[:, 1]

    def _uniform(self, count: int, np_dtype, low=0.0, high=1.0) -> _np.ndarray:
        """``uniform_real_distribution<T>(low, high)`` drawn ``count`` times."""
        np_dtype = _np.dtype(np_dtype)
        if np_dtype == _np.float64:
            x = (self._random64(count) & _np.uint64(2**53 - 1)).astype(_np.float64) * 2.0**-53
            values = _fma64(x, _np.float64(high) - _np.float64(low), _np.float64(low))
        else:
            # half too: 24 random bits and float math (checked against PyTorch)
            x = (self._random(count) & _np.uint64(2**24 - 1)).astype(_F) * _F(2.0**-24)
            # fma(x, to - from, from) on float bounds, as the wheel compiles it
            values = _fma3(x, _F(high) - _F(low), _F(low)).astype(np_dtype)
        # a value that rounds up to ``to`` becomes ``from``, keeping [from, to)
        return _np.where(values == np_dtype.type(high), np_dtype.type(low), values)

    def _normal_doubles(self, count: int) -> _np.ndarray:
        """``normal_distribution<double>``'s standard values, one call at a time."""
        out = _np.empty(count, _np.float64)
        i = 0
        while i < count:
            if self._next_double_normal is not None:
                out[i] = self._next_double_normal
                self._next_double_normal = None
                i += 1
                continue
            u1, u2 = self._uniform(2, _np.float64)
            r = _math.sqrt(-2.0 * _math.log1p(-float(u2)))
            theta = 2.0 * _math.pi * float(u1)
            self._next_double_normal = r * _math.sin(theta)
            out[i] = r * _math.cos(theta)
            i += 1
        return out

    def _normal(self, shape, mean, std, np_dtype) -> _np.ndarray:
        """ATen's CPU ``normal_kernel`` on a fresh contiguous tensor of ``shape``."""
        np_dtype = _np.dtype(np_dtype)
        size = int(_np.prod(shape, dtype=_np.int64))
        if size >= 16:
            return self._normal_fill(size, mean, std, np_dtype).reshape(shape)
        values = _fma64(self._normal_doubles(size), float(std), float(mean))
        if np_dtype == _np.float16:  # c10::Half is made from a float: double -> float -> half
            values = values.astype(_np.float32)
        return values.astype(np_dtype).reshape(shape)

    def _normal_fill(self, size, mean, std, np_dtype) -> _np.ndarray:
        work = _np.float64 if np_dtype == _np.float64 else _np.float32
        whole = size - size % 16
        # float and double draw a uniform for every element first; half draws only the
        # whole blocks' (each dtype's consumption checked against PyTorch)
        data = self._uniform(size if np_dtype in (_np.float32, _np.float64) else whole, work)
        if data.size < size:
            data = _np.concatenate([data, _np.zeros(size - data.size, work)])
        out = data.copy()
        out[:whole] = _box_muller_16(data[:whole].reshape(-1, 16), mean, std, work).reshape(-1)
        if size % 16:  # normal_fill redraws the last 16 values and transforms them again
            tail = self._uniform(16, work).reshape(1, 16)
            out[size - 16 :] = _box_muller_16(tail, mean, std, work).reshape(-1)
        return out.astype(np_dtype)


_F = _np.float32


def _fma64(a, b, c):
    """float64 ``fma(a, b, c)`` from error-free transformations (Dekker, Knuth)."""
    a = _np.asarray(a, _np.float64)
    b = _np.float64(b)
    c = _np.float64(c)
    p = a * b
    split = 134217729.0  # 2**27 + 1
    ta = split * a
    a_hi = ta - (ta - a)
    a_lo = a - a_hi
    tb = split * b
    b_hi = tb - (tb - b)
    b_lo = b - b_hi
    err = ((a_hi * b_hi - p) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    s = p + c
    bb = s - p
    t = (p - (s - bb)) + (c - bb)
    with _np.errstate(invalid="ignore", over="ignore"):
        fused = s + (t + err)
    # an infinite term makes the corrections NaN; fma gives the plain sum's inf (or NaN) there
    return _np.where(_np.isfinite(fused), fused, s)


def _log256_ps(x):
    """avx_mathfun's ``log256_ps`` as PyTorch's wheel compiles it (fma contracted)."""
    x = _np.maximum(x.astype(_F), _np.array(0x00800000, _np.uint32).view(_F))
    bits = x.view(_np.uint32)
    e = ((bits >> 23).astype(_np.int32) - 0x7F).astype(_F) + _F(1.0)
    x = ((bits & _np.uint32(~0x7F800000 & 0xFFFFFFFF)) | _np.uint32(0x3F000000)).view(_F)
    mask = x < _F(0.707106781186547524)
    tmp = _np.where(mask, x, _F(0.0))
    x = x - _F(1.0)
    e = _np.where(mask, e - _F(1.0), e)
    x = x + tmp
    z = x * x
    y = _np.full_like(x, _F(7.0376836292e-2))
    for coefficient in (
        -1.1514610310e-1,
        1.1676998740e-1,
        -1.2420140846e-1,
        1.4249322787e-1,
        -1.6668057665e-1,
        2.0000714765e-1,
        -2.4999993993e-1,
        3.3333331174e-1,
    ):
        y = _fma3(y, x, _F(coefficient))
    y = y * x
    y = _fma3(y, z, e * _F(-2.12194440e-4))
    y = _fma3(z, _F(-0.5), y)
    x = x + y
    return _fma3(e, _F(0.693359375), x)


def _fma3(a, b, c):
    """Elementwise float32 fma for arrays ``a`` with ``b`` and ``c`` arrays or scalars."""
    return (
        a.astype(_np.float64) * _np.asarray(b, _np.float64) + _np.asarray(c, _np.float64)
    ).astype(_F)


def _sincos256_ps(theta):
    """avx_mathfun's ``sincos256_ps`` as PyTorch's wheel compiles it (fma contracted)."""
    bits = theta.astype(_F).view(_np.uint32)
    sign_sin = bits & _np.uint32(0x80000000)
    x = (bits & _np.uint32(0x7FFFFFFF)).view(_F)
    y0 = x * _F(1.27323954473516)
    imm2 = y0.astype(_np.int32)
    imm2 = (imm2 + 1) & ~1
    yq = imm2.astype(_F)
    swap_sign = ((imm2 & 4).astype(_np.uint32)) << _np.uint32(29)
    poly = (imm2 & 2) == 0
    sign_sin = sign_sin ^ swap_sign
    sign_cos = ((~(imm2 - 2)) & 4).astype(_np.uint32) << _np.uint32(29)
    x = _fma3(yq, _F(-0.78515625), x)
    x = _fma3(yq, _F(-2.4187564849853515625e-4), x)
    x = _fma3(yq, _F(-3.77489497744594108e-8), x)
    z = x * x
    yc = _fma3(_np.full_like(z, _F(2.443315711809948e-5)), z, _F(-1.388731625493765e-3))
    yc = _fma3(yc, z, _F(4.166664568298827e-2))
    yc = yc * z
    yc = _fma3(yc, z, -(z * _F(0.5)))
    yc = yc + _F(1.0)
    ys = _fma3(_np.full_like(z, _F(-1.9515295891e-4)), z, _F(8.3321608736e-3))
    ys = _fma3(ys, z, _F(-1.6666654611e-1))
    ys = ys * z
    ys = _fma3(ys, x, x)
    sin_v = _np.where(poly, ys, yc)
    cos_v = _np.where(poly, yc, ys)
    return (
        (sin_v.view(_np.uint32) ^ sign_sin).view(_F),
        (cos_v.view(_np.uint32) ^ sign_cos).view(_F),
    )


def _libm(function, values):
    """``function`` (from ``math``, so the C library's, as ATen calls it) on each value;
    NumPy's own float64 log/sin/cos can differ from the C library's in the last bit."""
    flat = values.reshape(-1).tolist()
    return _np.fromiter(map(function, flat), _np.float64, len(flat)).reshape(values.shape)


def _box_muller_16(block, mean, std, work):
    """``normal_fill_16`` on each row of 16 uniforms (the AVX2 kernel for float32)."""
    if work == _np.float32:
        u1 = _F(1.0) - block[:, :8]
        u2 = block[:, 8:]
        radius = _np.sqrt(_F(-2.0) * _log256_ps(u1))
        theta = _F(2.0 * _np.pi) * u2
        sin, cos = _sincos256_ps(theta)
        first = _fma3(radius * cos, _F(std), _F(mean))
        second = _fma3(radius * sin, _F(std), _F(mean))
    else:
        u1 = 1.0 - block[:, :8]
        u2 = block[:, 8:]
        radius = _np.sqrt(-2.0 * _libm(_math.log, u1))
        theta = 2.0 * _np.pi * u2
        first = _fma64(radius * _libm(_math.cos, theta), std, mean)
        second = _fma64(radius * _libm(_math.sin, theta), std, mean)
    return _np.concatenate([first, second], axis=1).astype(work)


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator, so that later random tensors repeat."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(new_state) -> None:
    default_generator.set_state(new_state)


def _source(generator) -> Generator:
    return generator or default_generator


def _float_options(function: str, kernel: str, dtype, where, requires_grad):
    """The NumPy float dtype of ``rand``/``randn`` (PyTorch has no integer kernel for them)."""
    np_dtype, requires_grad = _options(function, dtype, where, requires_grad)
    if np_dtype is None:
        return default_float.value.np, requires_grad
    if np_dtype.kind != "f":
        name = SCALAR_TYPE_NAMES[from_numpy_dtype(np_dtype).name]
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")
    return np_dtype, requires_grad


def rand(*sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False) -> object:
    """Uniform values in [0, 1)."""
    shape = size_argument(positional_or_keyword_size(sizes, size, "rand"), "rand")
    np_dtype, requires_grad = _float_options(
        "rand", "check_uniform_bounds", dtype, device, requires_grad
    )
    values = uniform_values(_non_negative(shape), 0.0, 1.0, np_dtype, generator)
    return _finish(xp.asarray(values), requires_grad)


def randn(
    *sizes, size=None, generator=None, dtype=None, device=None, requires_grad=False
) -> object:
    """Standard normal values."""
    shape = size_argument(positional_or_keyword_size(sizes, size, "randn"), "randn")
    np_dtype, requires_grad = _float_options(
        "randn", "normal_kernel_cpu", dtype, device, requires_grad
    )
    values = normal_values(_non_negative(shape), 0.0, 1.0, np_dtype, generator)
    return _finish(xp.asarray(values), requires_grad)


def randint(
    low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False
) -> object:
    """Integers in [low, high); ``randint(high, size)`` starts at 0."""
    if size is None or high is None:  # randint(high, size)
        if size is None and high is None:
            raise TypeError("randint() missing required argument 'size'")
        size = high if size is None else size
        low, high = 0, check_int(low, "randint", "high", 1)
        shape = size_argument((size,), "randint", position=2, varargs=False)
    else:
        low, high = check_int(low, "randint", "low", 1), check_int(high, "randint", "high", 2)
        shape = size_argument((size,), "randint", position=3, varargs=False)
    np_dtype, requires_grad = _options("randint", dtype, device, requires_grad)
    np_dtype = int64.np if np_dtype is None else np_dtype
    _non_negative(shape)
    # PyTorch fills the new tensor with random_(low, high): its checks of the dtype's range
    span, base = random_range(low, high, np_dtype)
    source = _source(generator)

    def draw(shape):
        return random_from_to(source, shape, span, base, np_dtype)

    return _finish(xp.asarray(batched_draw(shape, draw)), requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> object:
    """A random permutation of ``0 .. n-1``, shuffled as PyTorch's CPU ``randperm``."""
    n = check_int(n, "randperm", "n", 1)
    np_dtype, requires_grad = _options("randperm", dtype, device, requires_grad)
    _non_negative((n,))  # PyTorch makes the result before it checks n
    np_dtype = int64.np if np_dtype is None else np_dtype
    source = _source(generator)

    def draw(shape):  # (under vmap, one permutation per sample, one after the other)
        count = int(_np.prod(shape[:-1], dtype=_np.int64))
        perms = [_permutation(n, source) for _ in range(count)]
        return _np.array(perms, dtype=np_dtype).reshape(shape)

    return _finish(xp.asarray(batched_draw((n,), draw)), requires_grad)


def _permutation(n: int, source: Generator) -> list:
    perm = list(range(n))
    if n > 1:
        raw = source._random(n - 1).tolist()
        for i, r in enumerate(raw):
            z = i + r % (n - i)
            perm[i], perm[z] = perm[z], perm[i]
    return perm


def uniform_values(shape, low, high, np_dtype, generator=None):
    """Uniform values in [low, high) (``rand``, ``Tensor.uniform_``, dropout); under vmap, as
    its ``randomness`` asks (gradienti/batching's ``batched_draw``)."""
    source = _source(generator)

    def draw(shape):
        count = int(_np.prod(shape, dtype=_np.int64))
        return source._uniform(count, np_dtype, low, high).reshape(shape)

    return batched_draw(tuple(shape), draw)


def normal_values(shape, mean, std, np_dtype, generator=None):
    """Normal values (``randn``, ``Tensor.normal_``); under vmap, as for ``uniform_values``."""
    source = _source(generator)
    return batched_draw(tuple(shape), lambda shape: source._normal(shape, mean, std, np_dtype))
