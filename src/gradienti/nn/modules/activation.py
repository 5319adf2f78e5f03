"""``torch.nn.modules.activation``: the activation layers (they live in nn/layers.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..activation_more import (
    CELU,
    GLU,
    SELU,
    Hardshrink,
    Hardsigmoid,
    Hardswish,
    Mish,
    PReLU,
    ReLU6,
    Softmax2d,
    Softmin,
    Softshrink,
    Softsign,
    Tanhshrink,
    Threshold,
)
from ..attention import MultiheadAttention
from ..layers import (
    ELU,
    GELU,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)

# Every name imported above (a new layer is one more name in the import).
__all__ = sorted(name for name in dir() if not name.startswith("_"))
