"""The ``torch.*`` function forms of the tensor methods (``torch.exp(x)``, ``torch.sum(x)``)."""

from __future__ import annotations

from .ops.elementwise import where
from .tensor import Tensor

__all__ = ["where"]  # re-exported: the op module defines it


def add(input, other, *, alpha=1):
    return input.add(other, alpha=alpha)


def sub(input, other, *, alpha=1):
    return input.sub(other, alpha=alpha)


def mul(input, other):
    return input * other


def div(input, other):
    return input / other


def pow(input, exponent):  # noqa: A001 - PyTorch's name
    if not isinstance(input, Tensor):
        return exponent.__rpow__(input)
    return input**exponent


def neg(input):
    return -input


def exp(input):
    return input.exp()


def log(input):
    return input.log()


def sqrt(input):
    return input.sqrt()


def sin(input):
    return input.sin()


def cos(input):
    return input.cos()


def tanh(input):
    return input.tanh()


def sigmoid(input):
    return input.sigmoid()


def relu(input):
    return input.relu()


def abs(input):  # noqa: A001
    return input.abs()


def sign(input):
    return input.sign()


def reciprocal(input):
    return input.reciprocal()


def clone(input):
    return input.clone()


def detach(input):
    return input.detach()


def eq(input, other):
    return input == other


def ne(input, other):
    return input != other


def lt(input, other):
    return input < other


def le(input, other):
    return input <= other


def gt(input, other):
    return input > other


def ge(input, other):
    return input >= other


def equal(input, other) -> bool:
    """True when both have the same shape and values."""
    return input.shape == other.shape and bool((input == other)._data.all())
