"""``torch.nn.modules.pooling``: the pooling layers (they live in nn/pooling.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..pooling import (
    AdaptiveAvgPool1d,
    AdaptiveAvgPool2d,
    AvgPool1d,
    AvgPool2d,
    MaxPool1d,
    MaxPool2d,
)

# Every name imported above (a new layer is one more name in the import).
__all__ = sorted(name for name in dir() if not name.startswith("_"))
