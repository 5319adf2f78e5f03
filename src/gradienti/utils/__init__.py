"""Utilities, as ``torch.utils``: ``gradienti.utils.data`` (datasets, samplers, loaders) and
``gradienti.utils.checkpoint`` (recompute a segment in backward instead of keeping its values)."""

from . import checkpoint, data

__all__ = ["checkpoint", "data"]
