"""``torch.nn.modules.loss``: the loss modules (they live in nn/loss.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
    _Loss,  # the base of custom losses (``class MyLoss(nn.modules.loss._Loss)``)
    _WeightedLoss,
)

# Every name imported above (a new layer is one more name in the import).
__all__ = sorted(name for name in dir() if not name.startswith("_"))
