"""What an uninitialized parameter (a LazyLinear's before its first call) answers, against
PyTorch: the parameter count a learner prints raises PyTorch's ValueError, ``shape`` its
RuntimeError, ``size()`` and ``ndim`` answer for the empty placeholder (nn/parameter.py)."""

from __future__ import annotations

import pytest

import gradienti

torch = pytest.importorskip("torch")

QUERIES = {
    "parameter count": lambda lib, m: sum(p.numel() for p in m.parameters()),
    "numel": lambda lib, m: m.weight.numel(),
    "nelement": lambda lib, m: m.weight.nelement(),
    "dim": lambda lib, m: m.weight.dim(),
    "ndimension": lambda lib, m: m.weight.ndimension(),
    "shape": lambda lib, m: m.weight.shape,
    "size()": lambda lib, m: tuple(m.weight.size()),
    "size(0)": lambda lib, m: m.weight.size(0),
    "ndim": lambda lib, m: m.weight.ndim,
    "dtype": lambda lib, m: str(m.weight.dtype),
    "requires_grad": lambda lib, m: m.weight.requires_grad,
}


def _answer(lib, query):
    module = lib.nn.LazyLinear(3)
    try:
        return query(lib, module)
    except Exception as error:  # noqa: BLE001 - the class and text are compared
        text = str(error)
        # (the Python object PyTorch names for len() has an address: compared up to it)
        return type(error).__name__, text.split(" in <", 1)[0], text.split(">. ", 1)[-1]


@pytest.mark.parametrize("name", list(QUERIES))
def test_an_uninitialized_parameter_answers_as_torch(name):
    assert _answer(gradienti, QUERIES[name]) == _answer(torch, QUERIES[name])


def test_len_of_an_uninitialized_parameter_raises_torchs_value_error():
    for lib in (gradienti, torch):
        with pytest.raises(ValueError, match="^Attempted to use an uninitialized parameter in"):
            len(lib.nn.LazyLinear(3).weight)
