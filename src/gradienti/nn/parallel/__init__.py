"""``torch.nn.parallel`` on one CPU: ``DataParallel`` runs its module as it is (PyTorch's
behaviour without GPUs) and ``DistributedDataParallel`` raises for the missing process group."""

from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]
