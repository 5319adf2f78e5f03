"""``torch.nn.modules.loss``: the loss modules (they live in nn/loss.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiLabelSoftMarginLoss,
    NLLLoss,
    PoissonNLLLoss,
    SmoothL1Loss,
    SoftMarginLoss,
    TripletMarginLoss,
    _Loss,  # the base of custom losses (``class MyLoss(nn.modules.loss._Loss)``)
    _WeightedLoss,
)

# Every name imported above (a new layer is one more name in the import).
__all__ = sorted(name for name in dir() if not name.startswith("_"))
