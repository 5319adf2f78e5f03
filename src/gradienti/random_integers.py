"""``random_(from, to)`` as ATen does it, shared by ``Tensor.random_`` (ops/random_fill.py),
``randint_like`` (ops/sampling.py) and ``randint`` (random.py): the range checks of
``random_from_to_impl`` (the dtype's bounds, ``update_from``/``update_to`` for floats, the
precision warning) and ``uniform_int_from_to_distribution``'s draws. ``source`` is a
``random.Generator``.
"""

from __future__ import annotations

import warnings

import numpy as np

from .backend import CPP_TYPE_NAMES

_UINT64 = np.uint64


def _count(shape) -> int:
    return int(np.prod(shape, dtype=np.int64))


# ---------------------------------------------------------------- random_
def random_from_to(source, shape, span: int, low: int, np_dtype) -> np.ndarray:
    """``uniform_int_from_to_distribution``: ``random() % span + low``, ``random64()`` for a
    span of 2**28 or more (PyTorch 2.13's bound, for every dtype: it keeps the skew of ``%``
    small), wrapping as uint64 arithmetic does, then ``static_cast`` through int64."""
    np_dtype = np.dtype(np_dtype)
    count = _count(shape)
    wide = span >= 2**28
    raw = source._random64(count) if wide else source._random(count)
    values = (raw % _UINT64(span % 2**64) + _UINT64(low % 2**64)).view(np.int64)
    return _int64_to(values, np_dtype).reshape(shape)


_F64 = np.dtype(np.float64)


def random_full_range(source, shape, np_dtype) -> np.ndarray:
    """``random_(-2**63)`` with no ``to``: every int64, ``random64()`` as it is."""
    values = source._random64(_count(shape)).view(np.int64)
    return _int64_to(values, np_dtype).reshape(shape)


def random_default(source, shape, np_dtype) -> np.ndarray:
    """``random_()``: ``uniform_int_distribution``, [0, max] for integers (bool: the low bit),
    [0, 2**digits] for floats; 64 bits for int64 and double, 32 for the rest."""
    np_dtype = np.dtype(np_dtype)
    count = _count(shape)
    wide = np_dtype in (np.dtype(np.int64), _F64)
    raw = source._random64(count) if wide else source._random(count)
    if np_dtype.kind == "b":
        return (raw & _UINT64(1)).astype(bool).reshape(shape)
    if np_dtype.kind == "f":
        modulus = 2 ** FLOAT_DIGITS[np_dtype] + 1
    else:
        modulus = int(np.iinfo(np_dtype).max) + 1
    return _int64_to((raw % _UINT64(modulus)).view(np.int64), np_dtype).reshape(shape)


FLOAT_DIGITS = {np.dtype(np.float16): 11, np.dtype(np.float32): 24, _F64: 53}


def _int64_to(values: np.ndarray, np_dtype) -> np.ndarray:
    if np_dtype == np.float16:  # c10::Half from an integer goes through float
        return values.astype(np.float32).astype(np.float16)
    return values.astype(np_dtype)


# ---------------------------------------------------------------- random_'s range
INT64_MIN = -(2**63)


def random_range(low: int, high: int | None, np_dtype) -> tuple | None:
    """``random_from_to_impl``'s checks of ``random_(low, high)`` (``high`` None: up to the
    dtype's largest value) for a tensor of ``np_dtype``: ``(span, base)`` to draw
    ``random() % span + base``, or None for ``random_(-2**63, None)``'s full 64 bits."""
    np_dtype = np.dtype(np_dtype)
    floating = np_dtype.kind == "f"
    if high is not None:
        if not low < high:
            raise RuntimeError(
                f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
            )
        if floating:
            low, high = _update_from(low, np_dtype), _update_to(high, np_dtype)
            if not low < high:
                raise RuntimeError(
                    "random_ expects 'from' casted to dtype to be less than 'to' casted to "
                    f"dtype, but got from={low} >= to={high}"
                )
        _check_in_range(low, high - 1, np_dtype)
        return high - low, low
    if low != INT64_MIN:
        if floating:
            to_inc = 2 ** FLOAT_DIGITS[np_dtype]
            low = _update_from(low, np_dtype)
            if not low < to_inc:
                raise RuntimeError(
                    "random_ expects 'from' casted to dtype to be less than or equal to 'to_inc' "
                    f"casted to dtype, but got from={low} > to_inc={to_inc}"
                )
        else:
            to_inc = 1 if np_dtype.kind == "b" else int(np.iinfo(np_dtype).max)
        _check_in_range(low, to_inc, np_dtype)
        return to_inc - low + 1, low
    if np_dtype in (np.dtype(np.float16), np.dtype(np.bool_)):
        name = {"float16": "Half", "bool": "Bool"}[np_dtype.name]
        raise NotImplementedError(
            f"\"random_full_64_bits_range_kernel_cpu\" not implemented for '{name}'"
        )
    if np_dtype not in (np.dtype(np.int64), np.dtype(np.float32), _F64):
        raise RuntimeError(
            "random_full_64_bits_range_kernel_cpu handles only int64, double, float and bfloat16"
        )
    return None


def random_values(source, shape, bounds: tuple | None, np_dtype) -> np.ndarray:
    """The values of ``random_`` over ``bounds`` (``random_range``'s result)."""
    if bounds is None:
        return random_full_range(source, shape, np_dtype)
    span, base = bounds
    return random_from_to(source, shape, span, base, np_dtype)


def _as_dtype_and_back(value: int, np_dtype) -> int:
    """``static_cast<int64_t>(static_cast<scalar_t>(value))`` (x86: INT64_MIN when out of
    range)."""
    rounded = float(np_dtype.type(float(value)))
    if not -(2.0**63) <= rounded < 2.0**63:
        return INT64_MIN
    return int(rounded)


def _update_from(low: int, np_dtype) -> int:
    """Moves ``from`` right until it survives the cast to the dtype inside [from, to)."""
    from_plus_1 = _as_dtype_and_back(low + 1, np_dtype)
    if from_plus_1 < low:
        n = max(abs(low + 1).bit_length() - 1, 0)
        low = from_plus_1 + (1 << (n - FLOAT_DIGITS[np_dtype] + 1))
    return low


def _update_to(high: int, np_dtype) -> int:
    to_minus_1 = _as_dtype_and_back(high - 1, np_dtype)
    if to_minus_1 >= high:
        n = max(abs(high - 1).bit_length() - 1, 0)
        high = to_minus_1 - (1 << (n - FLOAT_DIGITS[np_dtype] + 1))
    return high


def _check_in_range(low: int, to_inc: int, np_dtype) -> None:
    meta = CPP_TYPE_NAMES[np_dtype.name]
    if np_dtype.kind == "f":
        info = np.finfo(np_dtype)
        smallest, largest = float(info.min), float(info.max)
    elif np_dtype.kind == "b":
        smallest, largest = 0, 1
    else:
        info = np.iinfo(np_dtype)
        smallest, largest = int(info.min), int(info.max)
    for value, name in ((low, "from"), (to_inc, "to - 1")):
        if not smallest <= value <= largest:
            raise RuntimeError(f"{name} is out of bounds for {meta}")
    if np_dtype.kind == "f":
        digits = FLOAT_DIGITS[np_dtype]
        for value, name in ((low, "from"), (to_inc, "to - 1")):
            if value < -(2**digits) or value > 2**digits:
                warnings.warn(
                    f"{name} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision "
                    f"limitations {meta} can support discrete uniform distribution only within "
                    "this range. This warning will become an error in version 1.7 release, "
                    "please fix the code in advance",
                    UserWarning,
                    stacklevel=4,
                )
