"""Utilities, as ``torch.utils``: ``gradienti.utils.data`` (datasets, samplers, loaders) and
``gradienti.utils.checkpoint`` (recompute a segment in backward instead of keeping its values)
and ``gradienti.utils.dlpack`` (share tensors' memory with PyTorch and NumPy)."""

from . import checkpoint, data, dlpack

__all__ = ["checkpoint", "data", "dlpack"]
