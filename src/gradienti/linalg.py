"""``torch.linalg``: linear algebra under PyTorch's names there (``linalg.inv``, ``linalg.svd``,
...). The ops themselves (nodes, VJPs, JVPs, declarations) live in ``ops/``; this module gives
them their ``torch.linalg`` names, as ``special.py`` does for ``torch.special``.
"""

from __future__ import annotations

from .ops.api import FUNCTIONS as _FUNCTIONS  # noqa: F401 - the ops' public names
from .ops.linalg_cholesky import cholesky, cholesky_ex
from .ops.linalg_errors import LinAlgError
from .ops.linalg_triangular import solve_triangular

__all__: list[str] = [
    "LinAlgError",
    "cholesky",
    "cholesky_ex",
    "solve_triangular",
]
