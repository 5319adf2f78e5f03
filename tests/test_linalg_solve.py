"""torch.linalg's inverses, determinants, solves and factorizations (ops/linalg_*.py) beyond
the op table (tests/op_cases_linalg_solve.py): errors, named tuples, info outputs."""

import pytest

import gradienti


def test_linalg_error_is_a_runtime_error_as_pytorch():
    torch = pytest.importorskip("torch")
    assert issubclass(torch.linalg.LinAlgError, RuntimeError)
    assert issubclass(gradienti.linalg.LinAlgError, RuntimeError)
    assert gradienti.linalg.LinAlgError is not RuntimeError
