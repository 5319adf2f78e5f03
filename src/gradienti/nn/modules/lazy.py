"""``torch.nn.modules.lazy``: LazyModuleMixin (nn/lazy.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..lazy import LazyModuleMixin

__all__ = ["LazyModuleMixin"]
