"""``torch.nn.modules.flatten``: Flatten (it lives in nn/layers.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..bilinear import Unflatten
from ..layers import (
    Flatten,
)

# Every name imported above (a new layer is one more name in the import).
__all__ = sorted(name for name in dir() if not name.startswith("_"))
