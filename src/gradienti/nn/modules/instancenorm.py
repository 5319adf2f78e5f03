"""``torch.nn.modules.instancenorm``: the instance norms (they live in
nn/normalization_more.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..normalization_more import (
    InstanceNorm1d,
    InstanceNorm2d,
    InstanceNorm3d,
)

# Every name imported above (a new layer is one more name in the import).
__all__ = sorted(name for name in dir() if not name.startswith("_"))
