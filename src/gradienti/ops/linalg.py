"""Linear algebra: matmul and its special cases (mm, bmm, mv, dot), outer. Beside it:
einsum in ops/einsum.py; diag, diagonal, trace, tril and triu in ops/diagonal.py.

Public operations are declared in TENSOR_METHODS / FUNCTIONS / UFUNCS (see ops/api.py).

``matmul`` is PyTorch's decomposition (ATen's ``_matmul_impl``), step for step, so that its
graph is PyTorch's: ``M@M`` is one MmBackward0, a batch of matrices times a matrix folds the
batch into rows (ViewBackward0 -> MmBackward0 -> UnsafeViewBackward0), broadcast batches are
expanded and flattened for one BmmBackward0. Its choices depend on ``requires_grad`` and on
the strides, as PyTorch's do. Without a graph to record it is a single ``xp.matmul``.

The VJPs of the products are products with a transposed operand (``g @ B^T``, ``A^T @ g``):
transposes are views, and the gradient of an input that needs none is not computed.
"""

from __future__ import annotations

from ..autograd.function import CONFORM_ONLY, NO_EDGE, SAVE_INPUTS, Op
from ..autograd.grad_mode import grad_state
from ..autograd.versions import MODIFIED, record
from ..backend import CPP_TYPE_NAMES, SCALAR_TYPE_NAMES, xp
from ..tensor import Tensor, wrap
from .apply import binary, nary, tensor_argument, unary
from .elementwise import CloneBackward0
from .rearrange import TBackward0, TransposeBackward0
from .shape import (
    ExpandBackward0,
    SqueezeBackward1,
    UnsafeViewBackward0,
    UnsqueezeBackward0,
    ViewBackward0,
    expanded_shape,
    reshape,
)

_ndarray = xp.ndarray


# ------------------------------------------------------------------ products and their VJPs
class MmBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS

    function = xp.matmul  # the forward: a @ b, both matrices

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a_edge, b_edge = ctx._next
        raw = type(g) is not Tensor  # (recording a graph, the saved values are Tensors)
        grad_a = _mm_grad_left(g, b, raw and _column_major(a)) if a_edge is not None else None
        grad_b = _mm_grad_right(g, a, raw and _column_major(b)) if b_edge is not None else None
        return grad_a, grad_b


class AddmmBackward0(Op):
    """``beta * input + alpha * (mat1 @ mat2)``: ``F.linear`` of a batch of rows, as in PyTorch.

    One product and one in-place add of the (broadcast) ``input``; the engine sums the
    gradient of ``input`` back to its shape. Only the operands a gradient needs are kept.
    """

    __slots__ = ("beta", "alpha", "column_major")
    save = SAVE_INPUTS

    @staticmethod
    def forward(ctx, input, mat1, mat2):
        # The operands' layouts, which decide the gradients' (mat1 or mat2 may not be kept).
        ctx.column_major = (_column_major(mat1), _column_major(mat2))
        out = xp.matmul(mat1, mat2)
        beta, alpha = ctx.beta, ctx.alpha
        if alpha != 1:
            out *= alpha
        if beta == 1:
            out += input
        elif beta != 0:  # beta 0 ignores input, even its NaNs (PyTorch)
            out += beta * input
        return out

    @staticmethod
    def backward(ctx, g):
        _, mat1, mat2 = ctx.saved_tensors
        input_edge, mat1_edge, mat2_edge = ctx._next
        beta, alpha = ctx.beta, ctx.alpha
        grad_input = None
        if input_edge is not None:
            grad_input = g if beta == 1 else g * beta
        mat1_column_major, mat2_column_major = ctx.column_major
        grad_mat1 = _mm_grad_left(g, mat2, mat1_column_major) if mat1_edge is not None else None
        grad_mat2 = _mm_grad_right(g, mat1, mat2_column_major) if mat2_edge is not None else None
        if alpha != 1:
            grad_mat1 = None if grad_mat1 is None else grad_mat1 * alpha
            grad_mat2 = None if grad_mat2 is None else grad_mat2 * alpha
        return grad_input, grad_mat1, grad_mat2


class BmmBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS

    function = xp.matmul  # the forward: a batch of matrix products

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a_edge, b_edge = ctx._next
        grad_a = _bmm(g, _mT(b)) if a_edge is not None else None
        grad_b = _bmm(_mT(a), g) if b_edge is not None else None
        return grad_a, grad_b


class MvBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS

    function = xp.matmul  # the forward: matrix @ vector

    @staticmethod
    def backward(ctx, g):
        m, v = ctx.saved_tensors
        m_edge, v_edge = ctx._next
        grad_m = reshape(g, (g.shape[0], 1)) * v if m_edge is not None else None
        grad_v = _mv(_mT(m), g) if v_edge is not None else None
        return grad_m, grad_v


class DotBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS

    function = staticmethod(xp.dot)  # the forward: vector . vector (a plain function)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a_edge, b_edge = ctx._next
        return (g * b if a_edge is not None else None), (g * a if b_edge is not None else None)


def _mT(x):
    """The last two dimensions swapped: a view of an array, or a recorded transpose."""
    if type(x) is Tensor:
        return unary(_transpose_last(x._data.ndim), x)
    return x.swapaxes(-1, -2)


def _transpose_last(ndim: int, node_class=None) -> TransposeBackward0:
    node = (node_class or TransposeBackward0)()
    node.dim0, node.dim1 = ndim - 2, ndim - 1
    return node


def _mm(x, y):
    return mm(x, y) if type(x) is Tensor else xp.matmul(x, y)


def _column_major(array) -> bool:
    """A matrix stored column by column (a transposed view, like ``weight.t()``)."""
    flags = array.flags
    return flags.f_contiguous and not flags.c_contiguous


def _mm_grad_left(g, b, a_column_major: bool):
    """d(a @ b)/da: ``g @ b^T``, computed as ``(b @ g^T)^T`` when ``a`` is column-major, so
    the gradient has ``a``'s layout (PyTorch's ``mm_mat1_backward``); the same numbers."""
    if a_column_major and type(g) is not Tensor:
        return xp.matmul(b, g.T).T
    return _mm(g, _mT(b))


def _mm_grad_right(g, a, b_column_major: bool):
    """d(a @ b)/db: ``a^T @ g``, or ``(g^T @ a)^T`` when ``b`` is column-major (a transposed
    weight): its gradient then becomes a contiguous array again through ``TBackward0``."""
    if b_column_major and type(g) is not Tensor:
        return xp.matmul(g.T, a).T
    return _mm(_mT(a), g)


def _bmm(x, y):
    return bmm(x, y) if type(x) is Tensor else xp.matmul(x, y)


def _mv(x, y):
    return mv(x, y) if type(x) is Tensor else xp.matmul(x, y)


# ------------------------------------------------ views of matmul's decomposition (PyTorch's)
class ReshapeAliasBackward0(ViewBackward0):
    """``reshape`` of a non-contiguous tensor whose strides allow a view."""

    __slots__ = ()


class SqueezeBackward4(ViewBackward0):
    """``squeeze_(dim)``, in place on a fresh result."""

    __slots__ = ()


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
    if (a._edge is None and b._edge is None) or not grad_state.enabled:
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
    if d1 == 1 and d2 == 2:
        row = _recorded(UnsqueezeBackward0, a, (1,) + a_data.shape)
        return _recorded(SqueezeBackward4, mm(row, b), b_data.shape[1:])
    if d1 == 2 and d2 == 2:
        return mm(a, b)
    if _should_fold(a, b):
        return _matmul_folded(a, b, d1, d2)
    return _matmul_batched(a, b, d1, d2)


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
    t1 = unary(_transpose_last(d2), b) if transpose else a
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
    output = unary(_transpose_last(output._data.ndim), output)
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


# ------------------------------------------------------------------- mm, bmm, mv, dot
def _dtype_names(names: dict, *arrays) -> list:
    return [names[str(array.dtype)] for array in arrays]


def mm(input, mat2):
    tensor_argument(input, "mm", "input", 1)
    tensor_argument(mat2, "mm", "mat2", 2)
    a, b = input._data, mat2._data
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
            f"{b.shape[0]}x{b.shape[1]})"
        )
    if a.dtype != b.dtype:
        first, second = _dtype_names(CPP_TYPE_NAMES, a, b)
        raise RuntimeError(
            f"expected m1 and m2 to have the same dtype, but got: {first} != {second}"
        )
    if a.dtype == bool:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    return binary(MmBackward0(), input, mat2)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``, ``input`` broadcast to the product's shape."""
    tensor_argument(input, "addmm", "input", 1)
    tensor_argument(mat1, "addmm", "mat1", 2)
    tensor_argument(mat2, "addmm", "mat2", 3)
    bias, a, b = input._data, mat1._data, mat2._data
    for name, array in (("mat1", a), ("mat2", b)):
        if array.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {array.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({a.shape[0]}x{a.shape[1]} and "
            f"{b.shape[0]}x{b.shape[1]})"
        )
    for name, array in (("self", bias), ("mat1", a)):
        if array.dtype != b.dtype:
            first, second = _dtype_names(SCALAR_TYPE_NAMES, array, b)
            raise RuntimeError(
                f"{name} and mat2 must have the same dtype, but got {first} and {second}"
            )
    if b.dtype == bool:
        raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")
    out_shape = (a.shape[0], b.shape[1])
    if bias.shape != out_shape[1:] and bias.shape != out_shape:
        expanded_shape(input, out_shape)  # PyTorch's error for an input that does not expand
    node = AddmmBackward0()
    if b.dtype.kind != "f":  # the scalars are converted to the integral type, as in PyTorch
        beta, alpha = int(beta), int(alpha)
    node.beta, node.alpha = beta, alpha
    out = nary(node, input, mat1, mat2)
    if out._edge is node:
        # Keep what the VJP reads: mat1 for mat2's gradient, mat2 for mat1's; never input.
        _, mat1_edge, mat2_edge = node._next
        keep_mat1 = a if mat2_edge is not None else None
        keep_mat2 = b if mat1_edge is not None else None
        node._saved = (None, keep_mat1, keep_mat2)
        if MODIFIED:
            node._versions = record(node._saved)
        # Only the input can need a broadcast sum (the products' gradients have their shapes).
        if bias.shape == out_shape:
            node._input_meta = node._hooks = None
        else:
            node._input_meta = ((bias.shape, b.dtype), None, None)
            node._hooks = CONFORM_ONLY
    return out


def bmm(input, mat2):
    tensor_argument(input, "bmm", "input", 1)
    tensor_argument(mat2, "bmm", "mat2", 2)
    a, b = input._data, mat2._data
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b.shape[0] != a.shape[0] or b.shape[1] != a.shape[2]:
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}]."
        )
    if a.dtype != b.dtype:
        first, second = _dtype_names(SCALAR_TYPE_NAMES, a, b)
        raise RuntimeError(f"expected scalar type {first} but found {second}")
    if a.dtype == bool:
        raise NotImplementedError("\"bmm\" not implemented for 'Bool'")
    return binary(BmmBackward0(), input, mat2)


def mv(input, vec):
    tensor_argument(input, "mv", "input", 1)
    tensor_argument(vec, "mv", "vec", 2)
    m, v = input._data, vec._data
    if m.ndim != 2 or v.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {m.ndim}, {v.ndim}")
    if m.shape[1] != v.shape[0]:
        raise RuntimeError(
            f"size mismatch, got input ({m.shape[0]}), mat ({m.shape[0]}x{m.shape[1]}), "
            f"vec ({v.shape[0]})"
        )
    if m.dtype != v.dtype:
        mat, vector = _dtype_names(SCALAR_TYPE_NAMES, m, v)
        raise RuntimeError(
            f"addmv input tensors must have the same dtype, but got {vector}, {mat}, and {vector}"
        )
    if m.dtype == bool:
        raise NotImplementedError("\"addmv_impl_cpu\" not implemented for 'Bool'")
    return binary(MvBackward0(), input, vec)


def dot(input, tensor):
    tensor_argument(input, "dot", "input", 1)
    tensor_argument(tensor, "dot", "tensor", 2)
    a, b = input._data, tensor._data
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    if a.dtype != b.dtype:
        first, second = _dtype_names(SCALAR_TYPE_NAMES, a, b)
        raise RuntimeError(
            f"dot : expected both vectors to have same dtype, but found {first} and {second}"
        )
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] "
            "to have the same number of elements, but got "
            f"{a.shape[0]} and {b.shape[0]} elements respectively"
        )
    if a.dtype == bool:
        raise NotImplementedError("\"dot\" not implemented for 'Bool'")
    return binary(DotBackward0(), input, tensor)


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


# ------------------------------------------------------------------ Tensor methods
def _method(function, name: str, argument: str):
    """``x.mm(y)``: PyTorch numbers the argument from 1 in a method's error."""

    def method(self, other):
        tensor_argument(other, name, argument, 1)
        return function(self, other)

    method.__name__ = method.__qualname__ = name
    return method


def _addmm_method(self, mat1, mat2, *, beta=1, alpha=1):
    tensor_argument(mat1, "addmm", "mat1", 1)
    tensor_argument(mat2, "addmm", "mat2", 2)
    return addmm(self, mat1, mat2, beta=beta, alpha=alpha)


TENSOR_METHODS = {
    "matmul": _matmul_method,
    "__matmul__": _matmul_operator,
    "__rmatmul__": _rmatmul_operator,
    "addmm": _addmm_method,
    "mm": _method(mm, "mm", "mat2"),
    "bmm": _method(bmm, "bmm", "mat2"),
    "mv": _method(mv, "mv", "vec"),
    "dot": _method(dot, "dot", "tensor"),
    "outer": _method(outer, "outer", "vec2"),
    "ger": _method(ger, "ger", "vec2"),
}
FUNCTIONS = {
    "matmul": matmul,
    "addmm": addmm,
    "mm": mm,
    "bmm": bmm,
    "mv": mv,
    "dot": dot,
    "outer": outer,
    "ger": ger,
}
UFUNCS: dict = {xp.matmul: _matmul_ufunc}
