"""Elementwise math beyond the basics: log1p, expm1, trigonometric and hyperbolic
functions, rounding, clamp, maximum/minimum, and the logical and floating-point tests.

Public operations are declared in TENSOR_METHODS / FUNCTIONS / UFUNCS (see ops/api.py).
"""

from __future__ import annotations

TENSOR_METHODS: dict = {}
FUNCTIONS: dict = {}
UFUNCS: dict = {}
