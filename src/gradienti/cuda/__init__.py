"""``torch.cuda`` of a CPU-only PyTorch: there is no CUDA device, so the questions tutorials ask
(``is_available()``, ``device_count()``) answer no, the seeding and cache calls do nothing, and
what needs a device raises PyTorch's ``AssertionError``."""

from __future__ import annotations

from . import amp  # noqa: F401 - torch.cuda.amp.GradScaler / autocast

_NOT_COMPILED = "Torch not compiled with CUDA enabled"


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def manual_seed(seed) -> None:
    """Seeds nothing (there is no CUDA generator); the seed is read as PyTorch reads it."""
    int(seed)


def manual_seed_all(seed) -> None:
    int(seed)


def seed() -> None:
    return None


def seed_all() -> None:
    return None


def empty_cache() -> None:
    return None


def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def memory_reserved(device=None) -> int:
    return 0


def max_memory_reserved(device=None) -> int:
    return 0


def _needs_a_device(*args, **kwargs):
    raise AssertionError(_NOT_COMPILED)


current_device = _needs_a_device
get_device_name = _needs_a_device
get_device_capability = _needs_a_device
get_device_properties = _needs_a_device
synchronize = _needs_a_device
set_device = _needs_a_device
get_rng_state = _needs_a_device
set_rng_state = _needs_a_device
mem_get_info = _needs_a_device
