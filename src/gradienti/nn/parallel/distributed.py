"""``nn.parallel.DistributedDataParallel``: it needs a process group, which gradienti (one
process, no distributed backend) never has, so constructing it raises the ValueError PyTorch
raises when ``init_process_group`` was not called. The name imports, so scripts that import it
at the top and use it only in their multi-process branch run."""

from __future__ import annotations

from ...distributed import get_world_size
from ..module import Module


class DistributedDataParallel(Module):
    """Cannot be built in gradienti: see the module's docstring."""

    def __init__(
        self,
        module,
        device_ids=None,
        output_device=None,
        dim=0,
        broadcast_buffers=None,
        init_sync=True,
        process_group=None,
        bucket_cap_mb=None,
        find_unused_parameters=False,
        check_reduction=False,
        gradient_as_bucket_view=False,
        static_graph=False,
        delay_all_reduce_named_params=None,
        param_to_hook_all_reduce=None,
        mixed_precision=None,
        device_mesh=None,
        skip_all_reduce_unused_params=False,
        bucket_cap_mb_list=None,
        batched_grad_copy=False,
        forward_sync_buffers=None,
    ) -> None:
        # Asking for the default process group raises PyTorch's "not been initialized".
        get_world_size(process_group)
