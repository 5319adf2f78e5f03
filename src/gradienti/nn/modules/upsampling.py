"""``torch.nn.modules.upsampling``: Upsample and its fixed-mode forms (nn/upsampling.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

# Every name imported above (a new layer is one more name in the import).
__all__ = sorted(name for name in dir() if not name.startswith("_"))
