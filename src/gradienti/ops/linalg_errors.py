"""``torch.linalg.LinAlgError``: the error of a linear-algebra op whose input has no result
(a singular matrix to invert or solve with, a matrix that is not positive-definite for
Cholesky). PyTorch raises it from LAPACK's ``info`` codes; so does gradienti, with the same
texts. It is a ``RuntimeError``, as PyTorch's, so ``except RuntimeError`` catches it.
"""

from __future__ import annotations


class LinAlgError(RuntimeError):
    """PyTorch's ``torch.linalg.LinAlgError`` (``torch._C._LinAlgError``)."""


# PyTorch's class is named ``_LinAlgError`` (``torch.linalg.LinAlgError`` is an alias): code that
# prints ``type(error).__name__`` shows that name.
LinAlgError.__name__ = LinAlgError.__qualname__ = "_LinAlgError"
_LinAlgError = LinAlgError  # (where pickle looks the class up by that name)


def batch_prefix(batch_index: int | None) -> str:
    """PyTorch's ``(Batch element i): `` before a message about one matrix of a batch."""
    return "" if batch_index is None else f"(Batch element {batch_index}): "
