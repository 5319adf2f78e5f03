"""``torch.linalg``: linear algebra under PyTorch's names there (``linalg.inv``, ``linalg.svd``,
...). The ops themselves (nodes, VJPs, JVPs, declarations) live in ``ops/``; this module gives
them their ``torch.linalg`` names, as ``special.py`` does for ``torch.special``.
"""

from __future__ import annotations

from .ops.api import FUNCTIONS as _FUNCTIONS  # the ops' public names
from .ops.linalg_cholesky import cholesky, cholesky_ex
from .ops.linalg_composite import linalg_cond as cond
from .ops.linalg_composite import linalg_diagonal as diagonal
from .ops.linalg_composite import linalg_matrix_rank as matrix_rank
from .ops.linalg_composite import linalg_tensorinv as tensorinv
from .ops.linalg_composite import linalg_tensorsolve as tensorsolve
from .ops.linalg_composite import linalg_vander as vander
from .ops.linalg_composite import linalg_vecdot as vecdot
from .ops.linalg_det import linalg_det as det
from .ops.linalg_det import slogdet
from .ops.linalg_errors import LinAlgError
from .ops.linalg_functions import linalg_cross as cross
from .ops.linalg_functions import matrix_exp, matrix_power, multi_dot
from .ops.linalg_householder import householder_product
from .ops.linalg_ldl import ldl_factor, ldl_factor_ex, ldl_solve
from .ops.linalg_lu import lu, lu_factor, lu_factor_ex, lu_solve
from .ops.linalg_norms import linalg_norm as norm
from .ops.linalg_norms import matrix_norm, vector_norm
from .ops.linalg_pinv import linalg_lstsq as lstsq
from .ops.linalg_pinv import linalg_pinv as pinv
from .ops.linalg_qr import linalg_qr as qr
from .ops.linalg_solve import inv, inv_ex, solve, solve_ex
from .ops.linalg_spectral import linalg_eigh as eigh
from .ops.linalg_spectral import linalg_eigvalsh as eigvalsh
from .ops.linalg_spectral import linalg_svd as svd
from .ops.linalg_spectral import linalg_svdvals as svdvals
from .ops.linalg_triangular import solve_triangular

matmul = _FUNCTIONS["matmul"]  # torch.linalg.matmul is torch.matmul

__all__: list[str] = [
    "LinAlgError",
    "eigh",
    "eigvalsh",
    "lstsq",
    "matrix_norm",
    "norm",
    "pinv",
    "qr",
    "svd",
    "svdvals",
    "vector_norm",
    "cholesky",
    "cholesky_ex",
    "solve_triangular",
    "det",
    "inv",
    "inv_ex",
    "lu",
    "lu_factor",
    "lu_factor_ex",
    "lu_solve",
    "slogdet",
    "solve",
    "solve_ex",
    "cross",
    "matrix_exp",
    "matrix_power",
    "multi_dot",
    "cond",
    "diagonal",
    "matmul",
    "matrix_rank",
    "tensorinv",
    "tensorsolve",
    "vander",
    "vecdot",
    "householder_product",
    "ldl_factor",
    "ldl_factor_ex",
    "ldl_solve",
]
