"""Linear algebra: matmul and outer. The products matmul decomposes into (mm, addmm, bmm, mv,
dot), with their nodes, VJPs and declarations, are in ops/products.py; einsum in ops/einsum.py;
diag, diagonal, trace, tril and triu in ops/diagonal.py.

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py); the
products declare theirs in ops/products.py.

``matmul`` is PyTorch's decomposition (ATen's ``_matmul_impl``), step for step, so that its
graph is PyTorch's: ``M@M`` is one MmBackward0, a batch of matrices times a matrix folds the
batch into rows (ViewBackward0 -> MmBackward0 -> UnsafeViewBackward0), broadcast batches are
expanded and flattened for one BmmBackward0. Its choices depend on ``requires_grad`` and on
the strides, as PyTorch's do. Without a graph to record it is a single ``xp.matmul``.
"""

from __future__ import annotations

from ..backend import xp
from ..beginner_hints import matmul_hint, pytorch_text, with_hint
from ..graph.grad_mode import MODES, grad_state
from ..graph.node import NO_EDGE
from ..tensor import Tensor, wrap
from .apply import tensor_argument, unary
from .declare import declare, explain_nodes
from .elementwise import CloneBackward0
from .explain_rule import reshape_rule
from .products import AddmmBackward0 as AddmmBackward0  # the nodes stay importable from here
from .products import BmmBackward0 as BmmBackward0
from .products import DotBackward0 as DotBackward0
from .products import MmBackward0 as MmBackward0
from .products import MvBackward0 as MvBackward0
from .products import addmm as addmm  # F.linear calls it from here
from .products import bmm, dot, mm, mv, tensor_method, transpose_last
from .rearrange import TBackward0
from .shape import (
    ExpandBackward0,
    SqueezeBackward1,
    UnsafeViewBackward0,
    UnsqueezeBackward0,
    ViewBackward0,
)

_ndarray = xp.ndarray


# ------------------------------------------------ views of matmul's decomposition (PyTorch's)
class ReshapeAliasBackward0(ViewBackward0):
    """``reshape`` of a non-contiguous tensor whose strides allow a view."""

    __slots__ = ()


class SqueezeBackward4(ViewBackward0):
    """``squeeze_(dim)``, in place on a fresh result."""

    __slots__ = ()
    is_view = False  # (an in-place op's result is not a view, as in PyTorch)


def _recorded(node_class, x: Tensor, shape) -> Tensor:
    node = node_class()
    node.shape = tuple(shape)
    return unary(node, x)


def _reshape(x: Tensor, shape: tuple) -> Tensor:
    """PyTorch's ``reshape``: a view where the strides allow one, else a contiguous copy."""
    data = x._data
    if data.flags.c_contiguous:
        return _recorded(ViewBackward0, x, shape)
    if _viewable(data.shape, data.strides, shape):
        return _recorded(ReshapeAliasBackward0, x, shape)
    return _recorded(UnsafeViewBackward0, unary(CloneBackward0(), x), shape)


def _viewable(shape: tuple, strides: tuple, new_shape: tuple) -> bool:
    """Whether ``reshape`` can be a view: ATen's ``computeStride``, on NumPy's byte strides."""
    numel = 1
    for size in shape:
        numel *= size
    if not shape or numel == 0:
        return True
    view_d = len(new_shape) - 1
    chunk_base_stride = strides[-1]
    tensor_numel = view_numel = 1
    for tensor_d in range(len(shape) - 1, -1, -1):
        tensor_numel *= shape[tensor_d]
        if tensor_d == 0 or (
            shape[tensor_d - 1] != 1 and strides[tensor_d - 1] != tensor_numel * chunk_base_stride
        ):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return False
            if tensor_d > 0:
                chunk_base_stride = strides[tensor_d - 1]
                tensor_numel = view_numel = 1
    return view_d == -1


def _should_fold(a: Tensor, b: Tensor) -> bool:
    """ATen's ``should_fold``: multiply a batch by a matrix/vector as one mm/mv."""
    a_data, b_data = a._data, b._data
    a_larger = a_data.ndim >= b_data.ndim
    if a_larger:
        shape, strides, small_dim, small = a_data.shape, a_data.strides, b_data.ndim, b
    else:  # the larger one is b, transposed
        shape = b_data.shape[:-2] + (b_data.shape[-1], b_data.shape[-2])
        strides = b_data.strides[:-2] + (b_data.strides[-1], b_data.strides[-2])
        small_dim, small = a_data.ndim, a
    if len(shape) < 3 or small_dim > 2:
        return False
    if small._edge is not None:
        return True  # folding spares the backward a gradient of the expanded small operand
    if a_data.ndim == 2:
        return False
    if 0 in shape:
        return True
    return all(strides[i] == strides[i + 1] * shape[i + 1] for i in range(len(shape) - 2))


def _broadcast_batch(a: tuple, b: tuple) -> tuple:
    """The broadcast of two batch shapes, with PyTorch's error (``infer_size``)."""
    ndim = max(len(a), len(b))
    out = []
    for i in range(ndim):
        offset = ndim - 1 - i
        size_a = a[len(a) - 1 - offset] if len(a) - 1 - offset >= 0 else 1
        size_b = b[len(b) - 1 - offset] if len(b) - 1 - offset >= 0 else 1
        if size_a != size_b and size_a != 1 and size_b != 1:
            raise RuntimeError(
                f"The size of tensor a ({size_a}) must match the size of tensor b ({size_b}) "
                f"at non-singleton dimension {i}"
            )
        out.append(size_b if size_a == 1 else size_a)
    return tuple(out)


def _prod(sizes) -> int:
    count = 1
    for size in sizes:
        count *= size
    return count


# ------------------------------------------------------------------------------ matmul
def _matmul(a: Tensor, b: Tensor) -> Tensor:
    a_data, b_data = a._data, b._data
    if ((a._edge is None and b._edge is None) or not grad_state.enabled) and not MODES.special:
        out = _matmul_array(a_data, b_data)
        if out is not None:
            return wrap(out, NO_EDGE)
    d1, d2 = a_data.ndim, b_data.ndim
    if d1 == 0 or d2 == 0:
        raise RuntimeError(
            f"both arguments to matmul need to be at least 1D, but they are {d1}D and {d2}D"
        )
    if d1 == 1 and d2 == 1:
        return dot(a, b)
    if d1 == 2 and d2 == 1:
        return mv(a, b)
    if d1 == 2 and d2 == 2:
        return mm(a, b)
    try:
        if d1 == 1 and d2 == 2:
            row = _recorded(UnsqueezeBackward0, a, (1,) + a_data.shape)
            return _recorded(SqueezeBackward4, mm(row, b), b_data.shape[1:])
        if _should_fold(a, b):
            return _matmul_folded(a, b, d1, d2)
        return _matmul_batched(a, b, d1, d2)
    except RuntimeError as error:
        _refuse_inner_sizes(error, a_data.shape, b_data.shape)
        raise


# PyTorch's texts for matrices whose inner sizes differ, from mm, mv and bmm.
_INNER_SIZE_TEXTS = (
    "mat1 and mat2 shapes cannot be multiplied",
    "size mismatch, got input",
    "Expected size for first two dimensions of batch2 tensor",
)


def _refuse_inner_sizes(error: RuntimeError, shape_a: tuple, shape_b: tuple) -> None:
    """Raises ``error``'s PyTorch text again with the hint in terms of the user's ``a @ b``
    (mm's, mv's or bmm's would name the folded or transposed matrices); else returns."""
    text = pytorch_text(str(error))
    if text.startswith(_INNER_SIZE_TEXTS):
        raise RuntimeError(with_hint(text, matmul_hint(tuple(shape_a), tuple(shape_b)))) from None


def _matmul_array(a, b):
    """The product without a graph, or None where PyTorch's path must give the error."""
    if a.dtype != b.dtype or a.dtype == bool or a.ndim == 0 or b.ndim == 0:
        return None
    try:
        return xp.matmul(a, b)
    except ValueError:
        return None


def _matmul_folded(a: Tensor, b: Tensor, d1: int, d2: int) -> Tensor:
    """A batch of matrices (the larger operand) folded into the rows of one matrix."""
    transpose = d2 > d1
    t1 = unary(transpose_last(d2), b) if transpose else a
    t2 = (unary(TBackward0(), a) if d1 == 2 else a) if transpose else b
    sizes = t1._data.shape
    output_shape = sizes[:-1]
    t2_is_matrix = t2._data.ndim == 2
    if t2_is_matrix:
        output_shape += (t2._data.shape[1],)
    folded = _reshape(t1, (_prod(sizes[:-1]), sizes[-1]))
    if not t2_is_matrix:
        return _recorded(UnsafeViewBackward0, mv(folded, t2), output_shape)
    output = _recorded(UnsafeViewBackward0, mm(folded, t2), output_shape)
    if not transpose:
        return output
    output = unary(transpose_last(output._data.ndim), output)
    return output if output._data.flags.c_contiguous else unary(CloneBackward0(), output)


def _matmul_batched(a: Tensor, b: Tensor, d1: int, d2: int) -> Tensor:
    """Broadcast the batch dimensions, flatten them, one bmm."""
    a_shape, b_shape = a._data.shape, b._data.shape
    n = a_shape[-2] if d1 > 1 else 1
    m1 = a_shape[-1]
    batch1 = a_shape[: max(d1 - 2, 0)]
    m2 = b_shape[-2] if d2 > 1 else b_shape[0]
    p = b_shape[-1] if d2 > 1 else 1
    batch2 = b_shape[: max(d2 - 2, 0)]
    if d1 == 3 and d2 == 3 and batch1[0] != batch2[0]:
        # A batch of one that requires grad: multiply by its one matrix (folded) instead.
        if batch1[0] == 1 and a._edge is not None:
            return _matmul(_recorded(SqueezeBackward1, a, a_shape[1:]), b)
        if batch2[0] == 1 and b._edge is not None:
            return _matmul(a, _recorded(SqueezeBackward1, b, b_shape[1:]))
    batch = _broadcast_batch(batch1, batch2)
    count = _prod(batch)
    a_expanded = _reshape(_recorded(ExpandBackward0, a, batch + (n, m1)), (count, n, m1))
    if d2 == 1:
        b_expanded = _reshape(_recorded(ExpandBackward0, b, batch + (m2,)), (count, m2))
        b_expanded = _recorded(UnsqueezeBackward0, b_expanded, (count, m2, 1))
    else:
        b_expanded = _reshape(_recorded(ExpandBackward0, b, batch + (m2, p)), (count, m2, p))
    output_shape = batch + ((n,) if d1 > 1 else ()) + ((p,) if d2 > 1 else ())
    result = bmm(a_expanded, b_expanded)
    if d2 == 1:
        result = _recorded(SqueezeBackward1, result, (count, n))
    return _recorded(UnsafeViewBackward0, result, output_shape)


def matmul(input, other):
    tensor_argument(input, "matmul", "input", 1)
    tensor_argument(other, "matmul", "other", 2)
    return _matmul(input, other)


def _matmul_method(self, other):
    tensor_argument(other, "matmul", "other", 1)
    return _matmul(self, other)


def _matmul_operator(self, other):
    if type(other) is not Tensor:
        return NotImplemented
    return _matmul(self, other)


def _rmatmul_operator(self, other):
    if type(other) is not Tensor:
        return NotImplemented
    return _matmul(other, self)


def _matmul_ufunc(a, b):
    """``xp.matmul`` on Tensors (a recorded VJP). An array does not mix with a Tensor:
    ``array @ tensor`` fails as in PyTorch."""
    if type(a) is not Tensor or type(b) is not Tensor:
        names = ["numpy.ndarray" if type(x) is _ndarray else type(x).__name__ for x in (a, b)]
        raise TypeError(f"unsupported operand type(s) for @: '{names[0]}' and '{names[1]}'")
    return _matmul(a, b)


def outer(input, vec2):
    """``input[:, None] * vec2`` (PyTorch's composition: ViewBackward0, MulBackward0)."""
    tensor_argument(input, "outer", "input", 1)
    tensor_argument(vec2, "outer", "vec2", 2)
    for name, value in (("self", input), ("vec2", vec2)):
        if value._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {value._data.ndim}-D")
    return _reshape(input, (input._data.shape[0], 1)) * vec2


def ger(input, vec2):
    """The old name of ``outer``."""
    tensor_argument(input, "ger", "input", 1)
    tensor_argument(vec2, "ger", "vec2", 2)
    return outer(input, vec2)


# ------------------------------------------------------------------------ declarations
DECLARATIONS = (
    declare("matmul", matmul, method=_matmul_method, ufunc=xp.matmul, ufunc_call=_matmul_ufunc),
    declare("__matmul__", None, method=_matmul_operator),
    declare("__rmatmul__", None, method=_rmatmul_operator),
    declare("outer", outer, method=tensor_method(outer, "outer", "vec2")),
    declare("ger", ger, method=tensor_method(ger, "ger", "vec2")),
    # The views of matmul's decomposition (the others are shape.py's).
    explain_nodes(
        {ReshapeAliasBackward0: reshape_rule("reshape"), SqueezeBackward4: reshape_rule("squeeze")}
    ),
)
