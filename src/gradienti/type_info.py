"""``torch.finfo`` and ``torch.iinfo``: the numerical limits of a dtype, as PyTorch reports
them (Python numbers; ``dtype`` as a name; the repr's numbers printed with ``%g``)."""

from __future__ import annotations

import math

from . import backend

# bfloat16 has float32's exponent and 8 significant bits; NumPy cannot tell its limits.
_BFLOAT16_LIMITS = {
    "bits": 16,
    "eps": 2.0**-7,
    "max": (2.0 - 2.0**-7) * 2.0**127,
    "tiny": 2.0**-126,
}


def _check_dtype(value, function: str):
    if value is None:
        return backend.get_default_dtype()
    if not isinstance(value, backend.dtype):
        raise TypeError(
            f"{function}(): argument 'type' (position 1) must be torch.dtype, "
            f"not {type(value).__name__}"
        )
    return value


class finfo:  # noqa: N801 - PyTorch's public name
    """Limits of a floating dtype (the default dtype when none is given)."""

    def __init__(self, type=None) -> None:  # noqa: A002 - PyTorch's argument name
        dtype = _check_dtype(type, "finfo")
        if not dtype.is_floating_point:
            raise TypeError(
                "torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                "'torch.finfo'"
            )
        if dtype is backend.bfloat16:
            limits = _BFLOAT16_LIMITS
        else:
            info = backend.xp.finfo(dtype.np)
            limits = {
                "bits": int(info.bits),
                "eps": float(info.eps),
                "max": float(info.max),
                "tiny": float(info.smallest_normal),
            }
        self.bits: int = limits["bits"]
        self.eps: float = limits["eps"]
        self.max: float = limits["max"]
        self.min: float = -limits["max"]
        self.tiny: float = limits["tiny"]
        self.smallest_normal: float = limits["tiny"]
        # 10 ** -(the decimal digits the type holds), as NumPy's and PyTorch's resolution
        self.resolution: float = 10.0 ** -math.floor(-math.log10(self.eps))
        self.dtype: str = dtype.name

    def __eq__(self, other) -> bool:
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(("finfo", self.dtype))

    def __repr__(self) -> str:
        return (
            f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, "
            f"eps={self.eps:g}, smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, "
            f"dtype={self.dtype})"
        )


class iinfo:  # noqa: N801 - PyTorch's public name
    """Limits of an integer dtype."""

    def __init__(self, type) -> None:  # noqa: A002 - PyTorch's argument name
        dtype = _check_dtype(type, "iinfo")
        if dtype is backend.bool_:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if dtype.is_floating_point:
            raise TypeError(
                "torch.iinfo() requires an integer input type. Use torch.finfo to handle "
                "'torch.iinfo'"
            )
        info = backend.xp.iinfo(dtype.np)
        self.bits: int = int(info.bits)
        self.min: int = int(info.min)
        self.max: int = int(info.max)
        self.dtype: str = dtype.name

    def __eq__(self, other) -> bool:
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __hash__(self) -> int:
        return hash(("iinfo", self.dtype))

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
