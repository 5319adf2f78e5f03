"""``torch.nn.modules.distance``: the distance modules (they live in nn/distance.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..distance import CosineSimilarity, PairwiseDistance

# Every name imported above (a new layer is one more name in the import).
__all__ = sorted(name for name in dir() if not name.startswith("_"))
