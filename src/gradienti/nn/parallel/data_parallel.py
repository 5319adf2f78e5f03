"""``nn.DataParallel`` of a machine without GPUs: PyTorch then keeps the module, an empty
``device_ids`` and calls the module directly, which is all gradienti (one CPU) can do."""

from __future__ import annotations

from ..module import Module


class DataParallel(Module):
    """Wraps ``module`` (reached as ``.module``; its parameters get the ``module.`` prefix in
    ``state_dict()``) and runs it as it is: with no GPU there is nothing to split the batch
    over, so ``device_ids``, ``output_device`` and ``dim`` are unused, as in PyTorch."""

    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.device_ids: list = []

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0, module_kwargs=None):
    """PyTorch's functional DataParallel needs a GPU type to run on and raises without one."""
    raise RuntimeError("device type could not be determined")
