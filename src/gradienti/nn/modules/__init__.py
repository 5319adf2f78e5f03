"""``torch.nn.modules``' path, for ``nn.modules.module`` (Module and the global module hooks)."""

from . import module

__all__ = ["module"]
