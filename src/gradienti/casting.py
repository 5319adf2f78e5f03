"""Converting an array to another dtype as PyTorch's CPU kernels do (``cast_array``): a pure
array function, below Tensor, used by ``tensor(data, dtype=...)`` (python_data.py) and by
``Tensor.to`` (ops/elementwise.py).

NumPy converts a float to an integer with a C cast, which is undefined behaviour for NaN,
infinities and values out of range (and warns "invalid value encountered in cast"). PyTorch,
built for x86, gets what the processor's truncating conversion gives: the most negative
integer of the 32- or 64-bit conversion it goes through (its "integer indefinite"), whose low
bits are kept by a narrower dtype. Here that result is computed explicitly, the same on
every machine and without a warning:

* int64 and uint8 go through a 64-bit conversion, int32, int16 and int8 through a 32-bit one;
* a value that is NaN, or whose truncation does not fit that conversion, becomes its minimum
  (-2**63 or -2**31), then int16, int8 and uint8 keep the low bits (modular, as C does);
* bool is ``x != 0`` (NaN is True).

Narrowing a float (float64 to float16, ...) rounds an out-of-range value to infinity, as
PyTorch does, without NumPy's overflow warning.
"""

from __future__ import annotations

from .backend import xp
from .batching import elementwise

# The conversion each integer dtype goes through (measured against PyTorch 2.13 on x86).
_THROUGH = {
    xp.dtype(xp.int64): xp.dtype(xp.int64),
    xp.dtype(xp.uint8): xp.dtype(xp.int64),
    xp.dtype(xp.int32): xp.dtype(xp.int32),
    xp.dtype(xp.int16): xp.dtype(xp.int32),
    xp.dtype(xp.int8): xp.dtype(xp.int32),
}


def cast_array(array, np_dtype):
    """``array`` (an array or a NumPy scalar) converted to ``np_dtype`` with PyTorch's values:
    a new array, or a NumPy scalar for a scalar."""
    np_dtype = xp.dtype(np_dtype)
    source = array.dtype
    if source.kind != "f" or np_dtype.kind not in "iuf":
        return array.astype(np_dtype)
    if np_dtype.kind == "f":  # narrowing: out of range is infinite
        with xp.errstate(over="ignore"):
            return array.astype(np_dtype)
    converted = _float_to_integer(xp.asarray(array), np_dtype)
    return converted if type(array) is xp.ndarray else converted[()]


@elementwise  # (under vmap: every sample at once, through its branch)
def _float_to_integer(array, np_dtype):
    through = _THROUGH[np_dtype]
    # |value| < 2**(bits - 1): its truncation fits (the lowest value truncates to the minimum,
    # which is also what an invalid one gives). In float16 the bound is infinity.
    with xp.errstate(over="ignore"):
        bound = array.dtype.type(2.0 ** (8 * through.itemsize - 1))
    fits = (array < bound) & (array > -bound)  # NaN compares false
    if fits.all():
        converted = array.astype(through)
    else:
        converted = xp.where(fits, array, array.dtype.type(0)).astype(through)
        converted[~fits] = xp.iinfo(through).min
    return converted if through == np_dtype else converted.astype(np_dtype)
