"""Comparisons with operands that are not tensors or numbers, as PyTorch 2.13: the operators
return NotImplemented (``x == "a"`` is False, ``x != None`` True, ``x < [1]`` Python's
TypeError) and the functions raise PyTorch's TypeError."""

import operator

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

OTHERS = ["a", None, [1.0, 2.0], (1, 2), object()]
OPERATORS = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]


def _outcome(call):
    try:
        result = call()
    except TypeError as error:
        return "TypeError", str(error)
    return "value", result.tolist() if hasattr(result, "tolist") else result


@pytest.mark.parametrize("other", OTHERS, ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("compare", OPERATORS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("reflected", [False, True])
def test_operator_with_another_operand_as_torch(other, compare, reflected):
    def call(lib):
        x = lib.tensor([1.0, 2.0])
        return (lambda: compare(other, x)) if reflected else (lambda: compare(x, other))

    assert _outcome(call(gradienti)) == _outcome(call(torch))


@pytest.mark.parametrize("other", OTHERS[:4], ids=lambda v: type(v).__name__)
@pytest.mark.parametrize("name", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_function_with_another_operand_raises_torch_type_error(other, name):
    expected = _outcome(lambda: getattr(torch, name)(torch.tensor([1.0, 2.0]), other))
    assert _outcome(lambda: getattr(gradienti, name)(gradienti.tensor([1.0, 2.0]), other)) == (
        expected
    )


@pytest.mark.parametrize("compare", OPERATORS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("other", [1, 2.0, True, np.float64(1.0), np.int64(2)], ids=repr)
def test_numbers_still_compare_elementwise(compare, other):
    def call(lib):
        return lambda: compare(lib.tensor([1.0, 2.0]), other)

    assert _outcome(call(gradienti)) == _outcome(call(torch))
