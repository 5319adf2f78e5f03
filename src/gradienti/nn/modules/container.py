"""``torch.nn.modules.container``: the containers (they live in nn/container.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..container import (
    ModuleDict,
    ModuleList,
    Sequential,
)

# Every name imported above (a new layer is one more name in the import).
__all__ = sorted(name for name in dir() if not name.startswith("_"))
