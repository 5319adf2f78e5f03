"""``torch.nn.modules.module``: ``Module`` and the hooks registered for every module."""

from ..module import Module
from ..module_hooks import (
    register_module_full_backward_hook,
    register_module_full_backward_pre_hook,
)

__all__ = [
    "Module",
    "register_module_full_backward_hook",
    "register_module_full_backward_pre_hook",
]
