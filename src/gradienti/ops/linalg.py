"""Linear algebra: matmul and its special cases, einsum, diag, trace, tril/triu.

Public operations are declared in TENSOR_METHODS / FUNCTIONS / UFUNCS (see ops/api.py).
"""

from __future__ import annotations

TENSOR_METHODS: dict = {}
FUNCTIONS: dict = {}
UFUNCS: dict = {}
