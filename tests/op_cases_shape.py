"""Op cases: shape and indexing ops (ops/shape.py, ops/indexing.py). Run by test_ops.py."""

from op_cases import ANY, NONZERO, POS, S3, SMALL_INT, Case, S  # noqa: F401

CASES: list[Case] = []
