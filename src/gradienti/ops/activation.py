"""Activation functions: softplus, gelu, silu, leaky_relu, elu, logsigmoid, hardtanh.

Public operations are declared in TENSOR_METHODS / FUNCTIONS / UFUNCS (see ops/api.py).
"""

from __future__ import annotations

TENSOR_METHODS: dict = {}
FUNCTIONS: dict = {}
UFUNCS: dict = {}
