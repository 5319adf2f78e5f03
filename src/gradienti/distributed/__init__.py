"""``torch.distributed`` for a library that runs in one process.

gradienti has no distributed backend (no process groups, no collectives): ``is_available()``
is False, so code that asks first takes its single-process path. Code that starts a process
group gets a RuntimeError saying so; the collectives and the rank/world-size questions, asked
without a process group, raise PyTorch's "Default process group has not been initialized"
ValueError (the same as a PyTorch that was never given one), so a script's single-process
branch runs unchanged. ``ReduceOp`` has PyTorch's members for code that names them.
"""

from __future__ import annotations

import enum

__all__ = [
    "ReduceOp",
    "all_gather",
    "all_reduce",
    "barrier",
    "broadcast",
    "destroy_process_group",
    "get_backend",
    "get_rank",
    "get_world_size",
    "init_process_group",
    "is_available",
    "is_initialized",
    "reduce",
]

_NOT_INITIALIZED = (
    "Default process group has not been initialized, please make sure to call init_process_group."
)


class ReduceOp:
    """How a collective combines the processes' tensors (``ReduceOp.SUM``, ...)."""


class RedOpType(ReduceOp, enum.Enum):
    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8

    def __int__(self) -> int:
        return self.value


ReduceOp.RedOpType = RedOpType
for _member in RedOpType:
    setattr(ReduceOp, _member.name, _member)
del _member


def is_available() -> bool:
    """False: gradienti runs in one process and has no distributed backend."""
    return False


def is_initialized() -> bool:
    """False: no process group can exist."""
    return False


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout=None,
    world_size: int = -1,
    rank: int = -1,
    store=None,
    group_name: str = "",
    pg_options=None,
    device_id=None,
) -> None:
    raise RuntimeError(
        "gradienti has no distributed backend: it runs in one process, so "
        "init_process_group cannot start a process group (torch.distributed.is_available() "
        "is False)"
    )


def destroy_process_group(group=None) -> None:
    # PyTorch's message when there is no process group to destroy.
    raise AssertionError("Process group cannot be None")


def get_rank(group=None) -> int:
    raise ValueError(_NOT_INITIALIZED)


def get_world_size(group=None) -> int:
    raise ValueError(_NOT_INITIALIZED)


def get_backend(group=None) -> str:
    raise ValueError(_NOT_INITIALIZED)


def barrier(group=None, async_op: bool = False, device_ids=None, timeout=None):
    raise ValueError(_NOT_INITIALIZED)


def all_reduce(tensor, op=ReduceOp.SUM, group=None, async_op: bool = False):
    raise ValueError(_NOT_INITIALIZED)


def reduce(tensor, dst=None, op=ReduceOp.SUM, group=None, async_op: bool = False, group_dst=None):
    raise ValueError(_NOT_INITIALIZED)


def broadcast(tensor, src=None, group=None, async_op: bool = False, group_src=None):
    raise ValueError(_NOT_INITIALIZED)


def all_gather(tensor_list, tensor, group=None, async_op: bool = False):
    raise ValueError(_NOT_INITIALIZED)
