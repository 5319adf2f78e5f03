"""``gradienti.autograd.grad_mode``, PyTorch's path of the grad-mode switches (defined in
gradienti/graph/grad_mode.py, below Tensor, since every op reads the mode)."""

from ..graph.grad_mode import (  # noqa: F401 - the public path of these names
    MODES,
    enable_grad,
    grad_state,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
