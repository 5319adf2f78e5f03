"""``torch.cuda.amp`` (deprecated in PyTorch for ``torch.amp``): ``autocast`` and
``GradScaler`` for the CUDA device, which a CPU-only build lacks, so both warn and disable
themselves as PyTorch's do. Reached as ``gradienti.cuda.amp``."""

from __future__ import annotations

import warnings

from .. import amp, backend

__all__ = ["GradScaler", "autocast"]


class autocast(amp.autocast):  # noqa: N801 - PyTorch's public name
    """``torch.amp.autocast("cuda", ...)`` under its old name: disabled without CUDA."""

    def __init__(
        self,
        enabled: bool = True,
        dtype: backend.dtype = backend.float16,
        cache_enabled: bool = True,
    ) -> None:
        warnings.warn(
            "`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
            "`torch.amp.autocast('cuda', args...)` instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__("cuda", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(amp.GradScaler):
    """``torch.amp.GradScaler("cuda", ...)`` under its old name: disabled without CUDA."""

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        warnings.warn(
            "`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
            "`torch.amp.GradScaler('cuda', args...)` instead.",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(
            "cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled
        )
