"""``torch.backends.cudnn``: not built here; its flags keep what they are set to (they change
nothing on the CPU, as in a CPU-only PyTorch)."""

from __future__ import annotations

enabled = True
benchmark = False
benchmark_limit = 10
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    return False


def version() -> None:
    return None


def is_acceptable(tensor) -> bool:
    return False
