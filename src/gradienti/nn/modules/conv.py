"""``torch.nn.modules.conv``: the convolution layers (they live in nn/conv.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..conv import (
    Conv1d,
    Conv2d,
)

# Every name imported above (a new layer is one more name in the import).
__all__ = sorted(name for name in dir() if not name.startswith("_"))
