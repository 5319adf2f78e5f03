"""``torch.accelerator`` of a CPU-only PyTorch: no accelerator is there."""

from __future__ import annotations

from .devices import NO_ACCELERATOR_MESSAGE


def is_available() -> bool:
    return False


def current_accelerator(check_available: bool = False):
    return None


def device_count() -> int:
    return 0


def current_device_index() -> int:
    raise RuntimeError(NO_ACCELERATOR_MESSAGE)


def synchronize(device=None) -> None:
    raise RuntimeError(NO_ACCELERATOR_MESSAGE)
