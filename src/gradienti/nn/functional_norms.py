"""``nn.functional``'s group, instance and RMS normalisation (re-exported by nn/functional.py):
PyTorch's Python-level checks, the work in ops/group_norm.py."""

from __future__ import annotations

from ..ops import group_norm as _ops
from ..size import Size

__all__ = ["group_norm", "instance_norm", "rms_norm"]


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Group normalisation: see :class:`~gradienti.nn.GroupNorm`."""
    if input.dim() < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {input.dim()}"
        )
    shape = list(input.shape)
    # PyTorch's _verify_batch_size on (N*C/G, G, *): one value per group cannot be normalised.
    sizes = [shape[0] * shape[1] // num_groups, num_groups] + shape[2:]
    values = sizes[0]
    for size in sizes[2:]:
        values *= size
    if values == 1:
        raise ValueError(
            f"Expected more than 1 value per channel when training, got input size {sizes}"
        )
    return _ops.group_norm(input, num_groups, weight, bias, eps)


def instance_norm(
    input,
    running_mean=None,
    running_var=None,
    weight=None,
    bias=None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
):
    """Instance normalisation: see :class:`~gradienti.nn.InstanceNorm1d`."""
    if use_input_stats:
        shape = list(input.shape)
        spatial = 1
        for size in shape[2:]:
            spatial *= size
        if spatial == 1:
            raise ValueError(
                f"Expected more than 1 spatial element when training, got input size {Size(shape)}"
            )
    return _ops.instance_norm(
        input, weight, bias, running_mean, running_var, use_input_stats, momentum, eps
    )


def rms_norm(input, normalized_shape, weight=None, eps: float | None = None):
    """Root-mean-square normalisation: see :class:`~gradienti.nn.RMSNorm`."""
    return _ops.rms_norm(input, normalized_shape, weight, eps)
