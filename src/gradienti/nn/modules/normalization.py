"""``torch.nn.modules.normalization``: LayerNorm (it lives in nn/normalization.py), GroupNorm
and RMSNorm (nn/normalization_more.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..normalization import (
    LayerNorm,
)
from ..normalization_more import (
    GroupNorm,
    RMSNorm,
)

# Every name imported above (a new layer is one more name in the import).
__all__ = sorted(name for name in dir() if not name.startswith("_"))
