"""Indexing: basic and advanced x[...], index assignment, gather/scatter and friends.

Public operations are declared in TENSOR_METHODS / FUNCTIONS / UFUNCS (see ops/api.py).
"""

from __future__ import annotations

TENSOR_METHODS: dict = {}
FUNCTIONS: dict = {}
UFUNCS: dict = {}
