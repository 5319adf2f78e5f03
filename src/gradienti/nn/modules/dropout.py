"""``torch.nn.modules.dropout``: Dropout (it lives in nn/dropout.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..dropout import (
    Dropout,
)

# Every name imported above (a new layer is one more name in the import).
__all__ = sorted(name for name in dir() if not name.startswith("_"))
