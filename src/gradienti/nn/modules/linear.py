"""``torch.nn.modules.linear``: the affine layers (they live in nn/layers.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..attention import NonDynamicallyQuantizableLinear
from ..bilinear import Bilinear
from ..layers import (
    Identity,
    Linear,
)
from ..lazy import LazyLinear

# Every name imported above (a new layer is one more name in the import), but
# NonDynamicallyQuantizableLinear: at this path in PyTorch too, outside its ``__all__``.
__all__ = sorted(
    name for name in dir() if not name.startswith("_") and name != "NonDynamicallyQuantizableLinear"
)
