"""``torch.optim.adamw``'s path: ``from torch.optim.adamw import AdamW`` (the class lives with
Adam, whose update it shares)."""

from __future__ import annotations

from .adam import AdamW

__all__ = ["AdamW"]
