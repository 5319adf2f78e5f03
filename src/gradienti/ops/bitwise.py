"""Bitwise ops on integral and bool tensors: ``bitwise_and/or/xor/not/left_shift/right_shift``
as functions and methods, the operators ``& | ^ ~ << >>`` (reversed: ``3 & x``; in place:
``x &= y``) and the in-place methods (``x.bitwise_and_(y)``). Declared in ``DECLARATIONS``;
none records a node (their results are integral or bool).

On bool tensors ``& | ^ ~`` are logical, as in PyTorch. A float operand (a float tensor, or a
Python float) is refused with PyTorch's NotImplementedError naming its kernel and the computing
dtype; ``~`` of a float tensor raises PyTorch's TypeError. Shifts follow PyTorch's: a shift by
a negative amount or by the width or more gives 0 (``<<``) or the sign (``>>``), which NumPy's
shifts also give. A Python int takes the tensor's dtype, wrapping as PyTorch's cast does.
"""

from __future__ import annotations

from ..backend import result_type, scalar_result_type, xp
from ..graph.node import NO_EDGE
from ..tensor import Tensor, wrap
from .apply import NUMBER_TYPES, raise_if_not_broadcastable, tensor_argument
from .declare import declare
from .inplace import check_cast_back
from .integer_division import scalar_in_dtype
from .pointwise import not_implemented


def _operand_arrays(a, b) -> tuple:
    """The two operands as arrays in PyTorch's result dtype (one may be a Python number)."""
    if type(b) in NUMBER_TYPES:
        dtype = scalar_result_type(a._data.dtype, b)
        return a._data.astype(dtype, copy=False), scalar_in_dtype(b, dtype), dtype
    if type(a) in NUMBER_TYPES:
        dtype = scalar_result_type(b._data.dtype, a)
        return scalar_in_dtype(a, dtype), b._data.astype(dtype, copy=False), dtype
    a_data, b_data = a._data, b._data
    dtype = result_type(a_data.dtype, b_data.dtype, a_data.ndim, b_data.ndim)
    return a_data.astype(dtype, copy=False), b_data.astype(dtype, copy=False), dtype


def plain_operand(value):
    """A Tensor subclass as a plain Tensor, a NumPy scalar as a Python number."""
    if isinstance(value, Tensor):
        return value if type(value) is Tensor else wrap(value._data, value._edge)
    if type(value).__module__ == "numpy" and xp.ndim(value) == 0:
        return value.item()
    return value


def _takes(value) -> bool:
    return isinstance(value, Tensor) or type(value) in NUMBER_TYPES


def _binary_function(ufunc, name: str, kernel: str, bool_ok: bool):
    """``torch.<name>(input, other)``: a Tensor and a Tensor or number, or a number and a
    Tensor. ``bool_ok``: bool operands compute (logical and/or/xor); shifts refuse them."""
    allowed = "biu" if bool_ok else "iu"

    def apply(a, b) -> Tensor:
        a_data, b_data, dtype = _operand_arrays(a, b)
        if dtype.kind not in allowed:
            raise not_implemented(kernel, wrap(xp.empty(0, dtype), NO_EDGE))
        try:
            return wrap(ufunc(a_data, b_data), NO_EDGE)
        except ValueError:
            raise_if_not_broadcastable(a_data, b_data)
            raise

    def operands(input, other) -> tuple:
        """The operands as ``apply`` takes them, or PyTorch's TypeError."""
        input, other = plain_operand(input), plain_operand(other)
        if not (_takes(input) and _takes(other)) or not (
            isinstance(input, Tensor) or isinstance(other, Tensor)
        ):
            got = ", ".join("Tensor" if isinstance(v, Tensor) else type(v).__name__
                            for v in (input, other))  # fmt: skip
            raise TypeError(
                f"{name}() received an invalid combination of arguments - got ({got}), but "
                "expected one of:\n * (Tensor input, Tensor other, *, Tensor out = None)\n"
                " * (Number self, Tensor other)\n"
                " * (Tensor input, Number other, *, Tensor out = None)\n"
            )
        return input, other

    def function(input, other) -> Tensor:
        return apply(*operands(input, other))

    def method(self, other) -> Tensor:
        return function(self, other)

    def operator(self, other):
        other = plain_operand(other)
        if not _takes(other):
            return NotImplemented  # Python's "unsupported operand type(s)" TypeError
        return apply(self, other)

    def reflected(self, other):
        other = plain_operand(other)
        if not _takes(other):
            return NotImplemented
        return apply(other, self)

    def assign(self, other) -> Tensor:
        # PyTorch checks that the result's dtype can be written back before the kernel runs:
        # int8_tensor &= 2.5 fails the cast, not the kernel's float check.
        check_cast_back(_operand_arrays(self, other)[2], self._data.dtype)
        return self._assign_in_place(apply(self, other))

    def in_place(self, other):
        other = plain_operand(other)
        if not _takes(other):
            return NotImplemented
        return assign(self, other)

    def in_place_method(self, other):
        return assign(*operands(self, other))

    function.__name__ = function.__qualname__ = method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    return function, method, operator, reflected, in_place, in_place_method


(bitwise_and, bitwise_and_method, __and__, __rand__, __iand__, bitwise_and_) = _binary_function(
    xp.bitwise_and, "bitwise_and", "bitwise_and_cpu", True
)
(bitwise_or, bitwise_or_method, __or__, __ror__, __ior__, bitwise_or_) = _binary_function(
    xp.bitwise_or, "bitwise_or", "bitwise_or_cpu", True
)
(bitwise_xor, bitwise_xor_method, __xor__, __rxor__, __ixor__, bitwise_xor_) = _binary_function(
    xp.bitwise_xor, "bitwise_xor", "bitwise_xor_cpu", True
)
(
    bitwise_left_shift,
    bitwise_left_shift_method,
    __lshift__,
    __rlshift__,
    __ilshift__,
    bitwise_left_shift_,
) = _binary_function(xp.left_shift, "bitwise_left_shift", "lshift_cpu", False)
(
    bitwise_right_shift,
    bitwise_right_shift_method,
    __rshift__,
    __rrshift__,
    __irshift__,
    bitwise_right_shift_,
) = _binary_function(xp.right_shift, "bitwise_right_shift", "rshift_cpu", False)


def bitwise_not(input) -> Tensor:
    tensor_argument(input, "bitwise_not", "input", 1)
    if input._data.dtype.kind not in "biu":
        raise not_implemented("bitwise_not_cpu", input)
    return wrap(xp.invert(input._data), NO_EDGE)


def bitwise_not_(input) -> Tensor:
    return input._assign_in_place(bitwise_not(input))


def __invert__(self) -> Tensor:  # noqa: N807 - bound onto Tensor as its operator
    if self._data.dtype.kind not in "biu":
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
        )
    return wrap(xp.invert(self._data), NO_EDGE)


def _ufunc_form(function):
    """The ufunc form: NumPy may pass an array or a number as either operand."""

    def call(a, b):
        if not _takes(plain_operand(a)):
            a = wrap(xp.asarray(a), NO_EDGE)
        if not _takes(plain_operand(b)):
            b = wrap(xp.asarray(b), NO_EDGE)
        return function(a, b)

    return call


def _declare_binary(name, function, method, ufunc, in_place_method, operators):
    operator, reflected, in_place = operators
    short = {"bitwise_left_shift": "lshift", "bitwise_right_shift": "rshift"}.get(
        name, name.removeprefix("bitwise_")
    )
    return (
        declare(name, function, method=method, ufunc=ufunc, ufunc_call=_ufunc_form(function)),
        declare(f"{name}_", None, method=in_place_method),
        declare(f"__{short}__", None, method=operator),
        declare(f"__r{short}__", None, method=reflected),
        declare(f"__i{short}__", None, method=in_place),
    )


DECLARATIONS = (
    *_declare_binary("bitwise_and", bitwise_and, bitwise_and_method, xp.bitwise_and,
                     bitwise_and_, (__and__, __rand__, __iand__)),
    *_declare_binary("bitwise_or", bitwise_or, bitwise_or_method, xp.bitwise_or,
                     bitwise_or_, (__or__, __ror__, __ior__)),
    *_declare_binary("bitwise_xor", bitwise_xor, bitwise_xor_method, xp.bitwise_xor,
                     bitwise_xor_, (__xor__, __rxor__, __ixor__)),
    *_declare_binary("bitwise_left_shift", bitwise_left_shift, bitwise_left_shift_method,
                     xp.left_shift, bitwise_left_shift_, (__lshift__, __rlshift__, __ilshift__)),
    *_declare_binary("bitwise_right_shift", bitwise_right_shift, bitwise_right_shift_method,
                     xp.right_shift, bitwise_right_shift_,
                     (__rshift__, __rrshift__, __irshift__)),
    declare("bitwise_not", bitwise_not, ufunc=xp.invert),
    declare("bitwise_not_", None, method=bitwise_not_),
    declare("__invert__", None, method=__invert__),
)  # fmt: skip
