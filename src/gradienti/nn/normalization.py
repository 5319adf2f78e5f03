"""Normalisation layers: ``BatchNorm1d``, ``BatchNorm2d`` and ``LayerNorm``, as PyTorch's."""

from __future__ import annotations

from numbers import Integral

from ..backend import int64
from ..creation import empty, ones, tensor, zeros
from ..ops.normalization import batch_norm, layer_norm
from . import init
from .module import Module
from .parameter import Parameter


class _BatchNorm(Module):
    """The shared part of the batch norms; subclasses say which input ranks they accept.

    ``running_mean``, ``running_var`` and ``num_batches_tracked`` are buffers (so they are in
    ``state_dict`` under PyTorch's keys); with ``track_running_stats=False`` they are None and
    the batch statistics normalise in eval mode too.
    """

    _version = 2

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = Parameter(empty(num_features, device=device, dtype=dtype))
            if bias:
                self.bias = Parameter(empty(num_features, device=device, dtype=dtype))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, device=device, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, device=device, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input_dim(self, input) -> None:
        raise NotImplementedError

    def forward(self, input):
        self._check_input_dim(input)
        momentum = 0.0 if self.momentum is None else self.momentum
        counting = (
            self.training and self.track_running_stats and self.num_batches_tracked is not None
        )
        if counting and self.momentum is None:
            # A cumulative average: this step's weight is 1 / (steps including this one).
            momentum = 1.0 / (float(self.num_batches_tracked) + 1)
        # Batch statistics in training, and in eval mode when there are no running ones.
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        pass_running = not self.training or self.track_running_stats
        out = batch_norm(
            input,
            self.running_mean if pass_running else None,
            self.running_var if pass_running else None,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum,
            self.eps,
        )
        if counting:  # counted once the step succeeded, so a failed call changes nothing
            self.num_batches_tracked.add_(1)
        return out

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )

    def _load_from_state_dict(
        self, state_dict, prefix, strict, missing_keys, unexpected_keys, error_msgs
    ):
        # A state dict without metadata is read as PyTorch reads one from before version 2:
        # a missing step counter keeps the current one instead of being a missing key.
        key = prefix + "num_batches_tracked"
        if self.track_running_stats and key not in state_dict:
            state_dict[key] = (
                self.num_batches_tracked
                if self.num_batches_tracked is not None
                else tensor(0, dtype=int64)
            )
        super()._load_from_state_dict(
            state_dict, prefix, strict, missing_keys, unexpected_keys, error_msgs
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of ``(N, C)`` or ``(N, C, L)`` input, per channel C."""

    def _check_input_dim(self, input) -> None:
        if input.dim() != 2 and input.dim() != 3:
            raise ValueError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of ``(N, C, H, W)`` input, per channel C."""

    def _check_input_dim(self, input) -> None:
        if input.dim() != 4:
            raise ValueError(f"expected 4D input (got {input.dim()}D input)")


def add_affine_parameters(module, shape, affine: bool, bias: bool | None, device, dtype) -> None:
    """A normalisation's elementwise affine map, as PyTorch registers it: ``weight`` of
    ``shape`` (and ``bias``, if ``bias``) when ``affine``, else both registered as None;
    ``bias=None``: the layer has no bias at all (RMSNorm)."""
    weight = Parameter(empty(shape, device=device, dtype=dtype)) if affine else None
    module.register_parameter("weight", weight)
    if bias is not None:
        shift = Parameter(empty(shape, device=device, dtype=dtype)) if affine and bias else None
        module.register_parameter("bias", shift)


def reset_affine_parameters(module) -> None:
    """The identity map: weight ones, bias zeros (those that exist)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if getattr(module, "bias", None) is not None:
        init.zeros_(module.bias)


class LayerNorm(Module):
    """Normalisation of each sample over its trailing ``normalized_shape`` dimensions."""

    def __init__(
        self,
        normalized_shape,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        add_affine_parameters(self, self.normalized_shape, elementwise_affine, bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        reset_affine_parameters(self)

    def forward(self, input):
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )
