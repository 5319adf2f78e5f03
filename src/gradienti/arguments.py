"""PyTorch's checks of Python arguments (its ``PythonArgParser``), for the factory functions,
``requires_grad_`` and the module constructors that build their parameters with them.

Each check accepts what PyTorch accepts and otherwise raises PyTorch's TypeError, which names
the function, the argument and the type it was given: ``zeros(): argument 'size' (position 1)
must be tuple of ints, not str``. A keyword-only argument has no position in the text.
"""

from __future__ import annotations

import operator

from .backend import dtype as DType
from .python_types import type_name  # noqa: F401 - re-exported for the argument checks
from .tensor import Tensor

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _argument(function: str, name: str, position: int | None) -> str:
    where = f"{function}(): argument '{name}'"
    return where if position is None else f"{where} (position {position})"


def wrong_type(function: str, name: str, expected: str, value, position=None) -> TypeError:
    return TypeError(
        f"{_argument(function, name, position)} must be {expected}, not {type_name(value)}"
    )


def check_bool(value, function: str, name: str = "requires_grad", position=None, *, none=False):
    """A Python bool (not 1, not ``numpy.bool``); ``none``: None reads as False, as it does for
    the factories' ``requires_grad``."""
    if value is True or value is False:
        return value
    if value is None and none:
        return False
    raise wrong_type(function, name, "bool", value, position)


def check_dtype(value, function: str, name: str = "dtype"):
    """A dtype, None, or one of the Python types PyTorch reads as one (float, int, bool)."""
    if value is None or type(value) is DType or value is float or value is int or value is bool:
        return value
    if isinstance(value, DType):
        _ = value.np  # a dtype NumPy lacks (bfloat16): its own TypeError says so
    raise wrong_type(function, name, "torch.dtype", value)


def check_tensor(value, function: str, name: str = "input", position=1):
    if not isinstance(value, Tensor):
        raise wrong_type(function, name, "Tensor", value, position)
    return value


def check_number(value, function: str, name: str, position=None):
    """A Python or NumPy number, or a 0-d Tensor (PyTorch's ``Scalar``), as a number."""
    if type(value) is float:
        return value
    if isinstance(value, Tensor):
        if value._data.ndim == 0:
            return value.item()
    elif is_number(value):
        if type(value) is int and not -(2**63) <= value < 2**64:
            # PyTorch's Scalar holds an int64 or, above that, a uint64
            raise OverflowError(
                "int too big to convert" if value > 0 else "can't convert negative int to unsigned"
            )
        return value
    raise wrong_type(function, name, "Number", value, position)


def is_number(value) -> bool:
    """A Python number or a NumPy scalar number."""
    if isinstance(value, (int, float, complex)):
        return True
    return type(value).__module__ == "numpy" and getattr(value, "shape", None) == ()


def check_flag(value) -> None:
    """A bool given to PyTorch's C++ (``retain_graph``, ``create_graph``): any int 0..255."""
    number = operator.index(value)  # "'str' object cannot be interpreted as an integer"
    if not -(2**63) <= number < 2**63:
        raise OverflowError("Python int too large to convert to C long")
    if number < 0:
        raise OverflowError("unsigned byte integer is less than minimum")
    if number > 255:
        raise OverflowError("unsigned byte integer is greater than maximum")


def is_index(value) -> bool:
    """What PyTorch takes for one int: not a bool, an int or anything with ``__index__``, or a
    one-element integral Tensor."""
    if value is True or value is False:
        return False
    if type(value) is int:
        return True
    if isinstance(value, Tensor):
        return value._data.size == 1 and value._data.dtype.kind in "biu"
    try:
        operator.index(value)
    except TypeError:
        return False
    return True


def check_int(value, function: str, name: str, position=None) -> int:
    if not is_index(value):
        raise wrong_type(function, name, "int", value, position)
    return _unpack_long(value)


def _unpack_long(value) -> int:
    """``THPUtils_unpackLong``: the int, which must fit in 64 bits."""
    tensor = isinstance(value, Tensor)
    number = int(value.item()) if tensor else operator.index(value)
    if not _INT64_MIN <= number <= _INT64_MAX:
        raise ValueError("Overflow when unpacking long long")
    return int(number)


def size_argument(
    args: tuple, function: str, name: str = "size", position: int = 1, *, varargs: bool = True
) -> tuple:
    """A size given as ``f((2, 3))`` or ``f([2, 3])`` (or ``f(2, 3)`` where ``varargs``), as
    PyTorch parses it.

    Like PyTorch, only the first element decides whether a sequence is a size at all; a later
    element that is no int fails while the sizes are unpacked, with another text.
    """
    if varargs and args and type(args[0]) is int:
        sizes = args  # the positional arguments are the size: zeros(2, 3)
    elif len(args) == 1 and isinstance(args[0], (tuple, list)):
        sizes = args[0]
        if sizes and not is_index(sizes[0]):
            raise TypeError(
                f"{_argument(function, name, position)} must be tuple of ints, but found "
                f"element of type {type_name(sizes[0])} at pos 0"
            )
    elif varargs and args and is_index(args[0]):
        sizes = args  # zeros(numpy.int64(2), 3): as above, tested after the common cases
    elif len(args) == 1:
        raise wrong_type(function, name, "tuple of ints", args[0], position)
    elif not args:
        raise TypeError(f'{function}() missing 1 required positional arguments: "{name}"')
    else:
        raise TypeError(f"{function}() takes 1 positional argument but {len(args)} were given")
    shape = tuple(sizes)
    for item in shape:
        if type(item) is not int or not _INT64_MIN <= item <= _INT64_MAX:  # the rare case
            return tuple(_unpack_size(value, at, function, name) for at, value in enumerate(shape))
    return shape


def positional_or_keyword_size(args: tuple, size, function: str) -> tuple:
    """The size of ``f(2, 3)``, ``f((2, 3))`` or ``f(size=(2, 3))``, as ``size_argument``'s
    ``args`` (PyTorch takes the keyword too; giving both is refused)."""
    if size is None:
        return args
    if args:
        raise TypeError(f"{function}() got multiple values for argument 'size'")
    return (size,)


def _unpack_size(item, index: int, function: str, name: str) -> int:
    if is_index(item) or item is True or item is False:
        try:
            return _unpack_long(item)
        except ValueError as error:
            problem = str(error)
    else:
        problem = f"type must be tuple of ints,but got {type_name(item)}"  # sic: no space
    raise TypeError(
        f"{function}(): argument '{name}' failed to unpack the object at pos {index + 1} with "
        f'error "{problem}"'
    )
