"""``torch.backends`` of a CPU-only PyTorch: the flags learner code sets
(``torch.backends.cudnn.deterministic = True``) are plain module attributes with PyTorch's
defaults, and the questions (``mps.is_available()``) answer as a CPU-only build does."""

import warnings

from . import cuda, cudnn, mps

__all__ = ["cuda", "cudnn", "mps"]

# ``torch.set_float32_matmul_precision('high')`` (small-GPT code sets it): remembered and
# reported back; NumPy's float32 matmul has one precision, so it changes no result.
_MATMUL_PRECISIONS = ("highest", "high", "medium")
_matmul_precision = ["highest"]


def set_float32_matmul_precision(precision: str) -> None:
    if precision not in _MATMUL_PRECISIONS:
        warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
            "setFloat32MatmulPrecision call has no effect.",
            UserWarning,
            stacklevel=2,
        )
        return
    _matmul_precision[0] = precision


def get_float32_matmul_precision() -> str:
    return _matmul_precision[0]
