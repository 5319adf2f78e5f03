"""Checks of what is handed to ``Tensor.backward(...)`` and ``Tensor.to(...)``,
with PyTorch's exception classes and texts, made before anything is changed."""

from __future__ import annotations

from collections.abc import Mapping

from .arguments import check_dtype, check_flag
from .backend import bool_, float64, int64
from .backend import dtype as DType
from .devices import check_available
from .tensor import Tensor

# The Python types PyTorch takes for a dtype.
PYTHON_DTYPES = {float: float64, int: int64, bool: bool_}


def to_arguments(args: tuple, kwargs: dict) -> tuple:
    """``Tensor.to``'s target dtype (None: keep it) and ``copy`` flag; a device must be the
    CPU. Python's float, int and bool stand for float64, int64 and bool, as in PyTorch."""
    target = check_dtype(kwargs.pop("dtype", None), "to")
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    if kwargs.get("device") is not None:
        # PyTorch copies to a device with an index ('cpu:0'), even to the same memory.
        copy = check_available(kwargs.pop("device")).index is not None or copy
    kwargs.pop("device", None)
    if kwargs:
        raise TypeError(f"to() got an unexpected keyword argument '{next(iter(kwargs))}'")
    flags = []  # to(dtype, non_blocking, copy) and to(device, dtype, non_blocking, copy)
    for arg in args:
        if arg is True or arg is False:
            flags.append(arg)
        elif isinstance(arg, DType) or (isinstance(arg, type) and arg in PYTHON_DTYPES):
            target = arg
        elif isinstance(arg, Tensor):
            target = arg.dtype
        elif arg is not None:
            copy = check_available(arg).index is not None or copy
    if len(flags) > 1:
        copy = flags[1]
    return PYTHON_DTYPES.get(target, target), copy


def backward_arguments(gradient, retain_graph, create_graph, inputs) -> tuple:
    """``Tensor.backward``'s arguments as ``torch.autograd.backward`` reads them, in its order:
    ``inputs`` a Tensor, or a sequence or dict of Tensors, not empty; of a sequence of
    gradients only the first is read (the engine checks it); the flags ints or bools."""
    if inputs is not None and not isinstance(inputs, Tensor):
        inputs = _input_tuple(inputs)
    if gradient is not None and not isinstance(gradient, Tensor):
        gradient = tuple(gradient)[:1]  # "'float' object is not iterable"
    if retain_graph is not None:
        check_flag(retain_graph)
    check_flag(create_graph)
    for item in () if isinstance(inputs, Tensor) or inputs is None else inputs:
        if not isinstance(item, Tensor):
            raise RuntimeError(
                f"all inputs have to be Tensors or GradientEdges, but got {type(item).__name__}"
            )
    return gradient, inputs


def grad_outputs_tuple(grad_outputs, count: int) -> tuple:
    """``autograd.grad``'s/``backward``'s gradients as a tuple: None (one None per output), a
    Tensor (one), or a sequence."""
    if grad_outputs is None:
        return (None,) * count
    if isinstance(grad_outputs, Tensor):
        return (grad_outputs,)
    return tuple(grad_outputs)


def _input_tuple(inputs) -> tuple:
    if type(inputs) is dict:
        inputs = tuple(inputs.values())
    elif isinstance(inputs, Mapping):
        raise TypeError(
            f"`inputs` argument to `backward()` must be a dict, not {type(inputs).__name__}. "
            "Other Mapping types are not supported."
        )
    else:
        inputs = tuple(inputs)
    if not inputs:
        raise RuntimeError("`inputs` argument to `backward()` cannot be empty.")
    return inputs
