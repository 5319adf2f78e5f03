"""Utilities, as ``torch.utils``: ``gradienti.utils.data`` (datasets, samplers, loaders)."""

from . import data

__all__ = ["data"]
