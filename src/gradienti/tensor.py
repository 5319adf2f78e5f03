"""Tensor: an array, where it came from in the graph, and its gradient.

``_data`` is a NumPy array or a NumPy scalar: a 0-d result of an op is kept as the scalar
NumPy returns, because arithmetic on NumPy scalars is several times cheaper than on 0-d arrays
and scalar graphs (the lesson's) are where Python overhead decides the speed. Anything that
needs an array (``numpy()``, in-place ops) converts it once with ``_as_array``.

``_edge`` is where its gradient goes: the op node that made this tensor (``(node, output_nr)``
for a later output of a multi-output op), an AccumulateGrad for a leaf that requires grad, or
``None``. So ``requires_grad`` is ``_edge is not None``, and an op copies its inputs' edges
into its node as they are.

``_tangent`` is set only on a dual tensor of forward-mode AD (see graph/dual.py); the plain path
never touches it.
"""

from __future__ import annotations

import warnings
import weakref

from ._printing import format_tensor
from .backend import (
    CPP_TYPE_NAMES,
    CPU,
    SCALAR_TYPE_NAMES,
    bool_,
    default_float,
    device,
    float16,
    float32,
    float64,
    from_numpy_dtype,
    int32,
    int64,
    xp,
)
from .backend import dtype as DType
from .batching import NO_STORAGE_ERROR, BatchedArray, depth_of
from .beginner_hints import NON_LEAF_GRAD_HINT, integer_requires_grad_hint, with_hint
from .devices import as_device, check_available
from .graph import dual, versions
from .graph.compile_hook import HOOK as TRACE_HOOK
from .graph.grad_mode import grad_state, is_inference_tensor
from .graph.node import NO_EDGE, AccumulateGrad, NodeHooks, RemovableHandle, edge_parts
from .python_types import type_name
from .size import Size, normalize_dim

_ndarray = xp.ndarray
_new_object = object.__new__

# PyTorch's text, then a hint: retain_grad() before backward, or the leaf's .grad.
NON_LEAF_GRAD_WARNING = with_hint(
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. If "
    "you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor instead. "
    "See github.com/pytorch/pytorch/pull/30531 for more information.",
    NON_LEAF_GRAD_HINT,
)
FLOAT_ONLY_MESSAGE = "only Tensors of floating point dtype can require gradients"
FLOAT_OR_COMPLEX_ONLY_MESSAGE = (
    "only Tensors of floating point and complex dtype can require gradients"
)
NON_LEAF_REQUIRES_GRAD_MESSAGE = (
    "you can only change requires_grad flags of leaf variables. If you want to use a computed "
    "variable in a subgraph that doesn't require differentiation use var_no_grad = var.detach()."
)


def wrap(data, edge) -> Tensor:
    """A new Tensor around ``data`` with graph edge ``edge``: the ops' fast constructor."""
    t = _new_object(Tensor)
    t._data = data
    t._edge = edge
    t._grad = None
    return t


class Tensor:
    __slots__ = ("_data", "_edge", "_grad", "_tangent", "__weakref__")

    # Let NumPy hand mixed expressions (ndarray * Tensor) to Tensor, see __array_ufunc__.
    __array_priority__ = 1000

    # ``Tensor(2, 3)``, ``Tensor([1, 2])``: PyTorch's legacy constructor, attached by
    # gradienti/__init__.py from legacy_tensors.py (it reads data as the layers above do).

    # ------------------------------------------------------------------ metadata
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        shape = self._data.shape
        if dim is None:
            return Size(shape)
        if not shape:  # (normalize_dim lets a reduction take dim 0 or -1 of a 0-d tensor)
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return shape[normalize_dim(dim, len(shape))]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    @property
    def dtype(self) -> DType:
        return from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> device:
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def element_size(self) -> int:
        return self._data.dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.size * self._data.dtype.itemsize

    def stride(self, dim: int | None = None):
        """Elements to step in memory per index of each dim (NumPy's byte strides / itemsize)."""
        data = self._data
        steps = tuple(step // data.dtype.itemsize for step in xp.asarray(data).strides)
        if data.size == 0 and not any(steps):
            # NumPy zeroes every stride of a new empty array; PyTorch's are contiguous ones,
            # with a dim of size 0 stepping as one of size 1.
            steps, step = [], 1
            for size in reversed(data.shape):
                steps.insert(0, step)
                step *= max(size, 1)
            steps = tuple(steps)
        if dim is None:
            return steps
        return steps[normalize_dim(dim, len(steps))]

    # ------------------------------------------------------------------ autograd state
    @property
    def requires_grad(self) -> bool:
        return self._edge is not None

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        if flag is not True and flag is not False:
            raise RuntimeError("requires_grad must be a bool")
        node = edge_parts(self._edge)[0]
        if node is not None and type(node) is not AccumulateGrad:
            # Even for True (unlike requires_grad_), with the short text, as PyTorch.
            message = NON_LEAF_REQUIRES_GRAD_MESSAGE
            raise RuntimeError(message[: message.index(".") + 1] if flag else message)
        self._set_requires_grad(flag, FLOAT_OR_COMPLEX_ONLY_MESSAGE)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad is not True and requires_grad is not False:
            raise TypeError(
                "requires_grad_(): argument 'requires_grad' (position 1) must be bool, not "
                f"{type_name(requires_grad)}"
            )
        self._set_requires_grad(requires_grad, FLOAT_ONLY_MESSAGE)
        return self

    def _set_requires_grad(self, flag: bool, dtype_message: str) -> None:
        node = edge_parts(self._edge)[0]
        if node is not None and type(node) is not AccumulateGrad:
            if flag:
                return
            raise RuntimeError(NON_LEAF_REQUIRES_GRAD_MESSAGE)
        if flag and self._data.dtype.kind != "f":
            hint = integer_requires_grad_hint(self._data.dtype)
            raise RuntimeError(with_hint(dtype_message, hint))
        if flag and not grad_state.inference and is_inference_tensor(self):
            raise RuntimeError(
                "Setting requires_grad=True on inference tensor outside InferenceMode is not "
                "allowed."
            )
        if flag and node is None:
            self._edge = AccumulateGrad(self)
        elif not flag:
            self._edge = NO_EDGE

    @property
    def is_leaf(self) -> bool:
        node = edge_parts(self._edge)[0]
        return node is None or type(node) is AccumulateGrad

    @property
    def grad_fn(self):
        node = edge_parts(self._edge)[0]
        return None if type(node) is AccumulateGrad else node

    @property
    def output_nr(self) -> int:
        return edge_parts(self._edge)[1]

    @property
    def grad(self) -> Tensor | None:
        if TRACE_HOOK.active:  # another tensor (or None) after each backward: a graph break
            TRACE_HOOK.on_read("Tensor.grad")
        if self._grad is None and not self.is_leaf and not self.retains_grad:
            warnings.warn(NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        _check_grad_assignment(self, value)
        self._grad = value

    @grad.deleter
    def grad(self) -> None:
        self._grad = None

    @property
    def retains_grad(self) -> bool:
        node = edge_parts(self._edge)[0]
        if node is None or type(node) is AccumulateGrad or node._hooks is None:
            return False
        return edge_parts(self._edge)[1] in node._hooks.retained

    def retain_grad(self) -> None:
        node = edge_parts(self._edge)[0]
        if node is None:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if type(node) is AccumulateGrad:
            return
        node._node_hooks().retained[edge_parts(self._edge)[1]] = weakref.ref(self)

    def register_hook(self, hook) -> RemovableHandle:
        """``hook(grad)`` runs when this tensor's gradient is computed; a Tensor it returns
        replaces the gradient."""
        node, output_nr = edge_parts(self._edge)
        if node is None:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        hooks = node._node_hooks().tensor_hooks.setdefault(output_nr, {})
        key = NodeHooks.new_key()
        hooks[key] = hook
        return RemovableHandle(hooks, key)

    def register_post_accumulate_grad_hook(self, hook) -> RemovableHandle:
        """``hook(tensor)`` runs once a backward pass has accumulated this leaf's ``.grad``
        (after its tensor hooks); it must return None."""
        node = self._edge
        if node is None:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if type(node) is not AccumulateGrad:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        hooks = node.post_accumulate_hooks()
        key = NodeHooks.new_key()
        hooks[key] = hook
        return RemovableHandle(hooks, key)

    def detach(self) -> Tensor:
        # An array, not a NumPy scalar, so that in-place changes through either are shared.
        return wrap(self._as_array(), NO_EDGE)

    def detach_(self) -> Tensor:
        self._edge = NO_EDGE
        self._tangent = None  # (forward AD's tangent goes too, as in PyTorch)
        return self

    @property
    def data(self) -> Tensor:
        """The same values, detached from the graph: shares the memory but, unlike detach(),
        not the version counter (as in PyTorch, writing through it is not tracked)."""
        return wrap(versions.untracked_alias(self._as_array()), NO_EDGE)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type_name(value)}")
        self._data = versions.unaliased(value._data)

    # ------------------------------------------------------------------ conversion
    def item(self):
        if TRACE_HOOK.active:  # a value read into Python: a graph break in a compiled fn
            TRACE_HOOK.on_read("Tensor.item()")
        data = self._data
        if data.size != 1:
            if type(data) is BatchedArray:
                data.item()  # (vmap's error comes first, as in PyTorch)
            raise RuntimeError(f"a Tensor with {data.size} elements cannot be converted to Scalar")
        return data.item() if data.ndim == 0 else data.reshape(()).item()

    def tolist(self):
        if TRACE_HOOK.active:  # a value read into Python: a graph break in a compiled fn
            TRACE_HOOK.on_read("Tensor.tolist()")
        return self._data.tolist()

    def numpy(self, *, force: bool = False):
        if TRACE_HOOK.active:  # a value read into Python: a graph break in a compiled fn
            TRACE_HOOK.on_read("Tensor.numpy()")
        # As PyTorch: refused only while grad mode is on (a custom Function's forward may
        # hand its inputs to NumPy)
        if self._edge is not None and not force and grad_state.enabled:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        array = self._as_array()
        if type(array) is BatchedArray:  # one sample of a vmap: no array of its own
            raise RuntimeError(NO_STORAGE_ERROR)
        return array

    def _as_array(self):
        """The data as an ndarray (a 0-d NumPy scalar becomes a 0-d array, once)."""
        data = self._data
        if type(data) is not _ndarray:
            data = self._data = xp.asarray(data)
        return data

    def __array__(self, dtype=None, copy=None):
        array = self.numpy()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def float(self) -> Tensor:
        return self.to(float32)

    def double(self) -> Tensor:
        return self.to(float64)

    def half(self) -> Tensor:
        return self.to(float16)

    def long(self) -> Tensor:
        return self.to(int64)

    def int(self) -> Tensor:
        return self.to(int32)

    def bool(self) -> Tensor:
        return self.to(bool_)

    def cpu(self, memory_format=None) -> Tensor:
        return self

    def cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
        """Raises what a CPU-only PyTorch raises (there is no CUDA device to copy to)."""
        where = as_device("cuda" if device is None else device)
        if where.type != "cuda":
            raise RuntimeError("Invalid device, must be cuda device")
        check_available(where)
        return self  # not reached: check_available raises for every CUDA device

    def get_device(self) -> int:
        return -1  # PyTorch's answer for a CPU tensor

    def contiguous(self, memory_format=None) -> Tensor:
        data = self._data
        if type(data) is not _ndarray or data.flags.c_contiguous:
            return self
        return self.clone()

    def is_contiguous(self, memory_format=None) -> bool:
        data = self._data
        return type(data) is not _ndarray or bool(data.flags.c_contiguous)

    def __float__(self) -> float:
        if TRACE_HOOK.active:  # a value read into Python: a graph break in a compiled fn
            TRACE_HOOK.on_read("float(tensor)")
        if self._edge is not None and grad_state.enabled:
            _say_once_scalar_of_requires_grad()
        return float(self._scalar_for_conversion())

    def __complex__(self) -> complex:
        if TRACE_HOOK.active:  # a value read into Python: a graph break in a compiled fn
            TRACE_HOOK.on_read("complex(tensor)")
        if self._edge is not None and grad_state.enabled:
            _say_once_scalar_of_requires_grad()
        return complex(self._scalar_for_conversion())

    def __int__(self) -> int:
        if TRACE_HOOK.active:  # a value read into Python: a graph break in a compiled fn
            TRACE_HOOK.on_read("int(tensor)")
        return int(self._scalar_for_conversion())

    def __index__(self) -> int:
        if TRACE_HOOK.active:  # a value read into Python: a graph break in a compiled fn
            TRACE_HOOK.on_read("Tensor.__index__()")
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()).item())

    def __bool__(self) -> bool:
        if TRACE_HOOK.active:  # a value read into Python: a graph break in a compiled fn
            TRACE_HOOK.on_read("bool(tensor)")
        if self._data.size != 1:
            if type(self._data) is BatchedArray:
                bool(self._data)  # (vmap's error comes first, as in PyTorch)
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return bool(self._data.reshape(()))  # (under vmap: data-dependent control flow)

    def _scalar_for_conversion(self):
        data = self._data
        if data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data.reshape(()).item()

    def __len__(self) -> int:
        shape = self._data.shape
        if not shape:
            raise TypeError("len() of a 0-d tensor")
        return shape[0]

    def __iter__(self):
        shape = self._data.shape
        if not shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(shape[0]))

    def __hash__(self) -> int:
        return id(self)

    # ------------------------------------------------------------------ in place
    @property
    def _version(self) -> int:
        """How often this tensor's memory was modified in place (PyTorch's ``x._version``)."""
        return versions.version(self._data)

    # ------------------------------------------------------------------ printing
    def __repr__(self, *, tensor_contents=None) -> str:
        if TRACE_HOOK.active:  # a value read into Python: a graph break in a compiled fn
            TRACE_HOOK.on_read("printing a tensor (repr/str)")
        data = self._data
        dtype = from_numpy_dtype(data.dtype)
        node = edge_parts(self._edge)[0]
        suffixes = []
        if node is not None:
            if type(node) is AccumulateGrad:
                suffixes.append("requires_grad=True")
            else:
                suffixes.append(f"grad_fn=<{type(node).__name__}>")
        tangent = dual.tangent_of(self)
        if tangent is not None:
            suffixes.append(f"tangent={tangent}")  # (a 0-d tangent formats as its number)
        show_dtype = dtype not in (default_float.value, int64, bool_)
        return _format(data, repr(dtype), show_dtype, suffixes)

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        if TRACE_HOOK.active:  # a value read into Python: a graph break in a compiled fn
            TRACE_HOOK.on_read("format(tensor)")
        if self._data.ndim == 0:
            return self.item().__format__(format_spec)
        if format_spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return repr(self)


def _format(data, dtype_name: str, show_dtype: bool, suffixes: list) -> str:
    """The printed tensor; under vmap, PyTorch's BatchedTensor around the samples' values (the
    batch first: gradienti moves a mapped dimension there)."""
    if type(data) is not BatchedArray:
        return format_tensor(data, dtype_name=dtype_name, show_dtype=show_dtype, suffixes=suffixes)
    inner = _format(data.physical, dtype_name, show_dtype, suffixes).replace("\n", "\n    ")
    return f"BatchedTensor(lvl={depth_of(data.level)}, bdim=0, value=\n    {inner}\n)"


def _check_grad_assignment(tensor: Tensor, value) -> None:
    """``tensor.grad = value``: a Tensor of the same shape and dtype, or None."""
    if value is None:
        return
    if not isinstance(value, Tensor):
        raise TypeError(
            f"assigned grad expected to be a Tensor or None but got grad of type {type_name(value)}"
        )
    if value._data.shape != tensor._data.shape:
        raise RuntimeError(
            f"attempting to assign a gradient of size '{list(value._data.shape)}' to a "
            f"tensor of size '{list(tensor._data.shape)}'. Please ensure that the gradient "
            "and the tensor are the same size"
        )
    if value._data.dtype != tensor._data.dtype:
        given = CPP_TYPE_NAMES[value.dtype.name]
        expected = SCALAR_TYPE_NAMES[tensor.dtype.name]
        raise RuntimeError(
            f"attempting to assign a gradient with dtype '{given}' to a tensor with "
            f"grad_dtype '{expected}'. The gradient must match the tensor's grad_dtype "
            "(defaults to the tensor's dtype). You can set the tensor's grad_dtype "
            "attribute with a specific dtype, or None to allow any dtype. Set grad_dtype "
            "with caution. Diverging the dtypes of a tensor and its gradient may break "
            "downstream systems that assume they match."
        )


_SCALAR_WARNING_SAID = []


def _say_once_scalar_of_requires_grad() -> None:
    """PyTorch's once-per-process warning for ``float(t)`` of a tensor that requires grad
    (``'%.2f' % loss`` in a training loop); ``item()`` and ``int()`` do not warn there."""
    if not _SCALAR_WARNING_SAID:
        _SCALAR_WARNING_SAID.append(True)
        warnings.warn(
            "Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
            "behavior.\nConsider using tensor.detach() first.",
            UserWarning,
            stacklevel=3,
        )
