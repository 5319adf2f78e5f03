"""``torch.amp.custom_fwd`` / ``custom_bwd``: decorators for a custom ``autograd.Function``'s
``forward`` and ``backward`` under autocast, as PyTorch's. ``custom_fwd(cast_inputs=dtype)``
casts the floating inputs (not float64 ones) to ``dtype`` inside an enabled autocast region and
runs ``forward`` with autocast off; ``custom_bwd`` runs ``backward`` in the autocast state that
``forward`` saw."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping

import numpy

from .. import backend
from ..tensor import Tensor
from .autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled


def _check_device_type(device_type) -> None:
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")


def _cast(value, device_type: str, dtype: backend.dtype):
    """``value`` with every eligible tensor in it (floating, not float64, on ``device_type``)
    cast to ``dtype``; containers are rebuilt as PyTorch's ``_cast`` rebuilds them."""
    if isinstance(value, Tensor):
        eligible = (
            value.is_floating_point()
            and value.device.type == device_type
            and value.dtype is not backend.float64
        )
        return value.to(dtype) if eligible else value
    if isinstance(value, (str, bytes, numpy.ndarray)):
        return value
    if isinstance(value, Mapping):
        return {
            _cast(key, device_type, dtype): _cast(item, device_type, dtype)
            for key, item in value.items()
        }
    if isinstance(value, Iterable):
        items = (_cast(item, device_type, dtype) for item in value)
        if isinstance(value, (list, tuple)):
            return type(value)(items)
        return items
    return value


def custom_fwd(fwd=None, *, device_type: str, cast_inputs: backend.dtype | None = None):
    """Decorates ``forward(ctx, ...)``: records on ``ctx`` the autocast state for
    :func:`custom_bwd`, and with ``cast_inputs`` casts the inputs as the module says."""
    _check_device_type(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        inside_autocast = is_autocast_enabled(device_type)
        args[0]._fwd_used_autocast = False
        if inside_autocast:
            with autocast(device_type=device_type, enabled=False):
                return fwd(
                    *_cast(args, device_type, cast_inputs),
                    **_cast(kwargs, device_type, cast_inputs),
                )
        return fwd(*args, **kwargs)

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorates ``backward(ctx, ...)``: it runs in the autocast state ``forward`` ran in."""
    _check_device_type(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(
            device_type=device_type, enabled=args[0]._fwd_used_autocast, dtype=args[0]._dtype
        ):
            return bwd(*args, **kwargs)

    return decorate_bwd
