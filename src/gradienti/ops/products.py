"""The matrix products mm, addmm, bmm, mv and dot: their checks (PyTorch's errors), their
nodes and VJPs, and their declarations (``DECLARATIONS`` at the bottom, gathered through
ops/linalg.py, whose ``matmul`` decomposes into these products).

The VJPs of the products are products with a transposed operand (``g @ B^T``, ``A^T @ g``):
transposes are views, and the gradient of an input that needs none is not computed. Recording
a graph (a double backward), the VJPs call the checked products themselves.

Each product is linear in each operand, so its forward derivative (JVP) is the product rule:
``d(a @ b) = da @ b + a @ db``, each share computed only where that operand has a tangent.
"""

from __future__ import annotations

from ..backend import CPP_TYPE_NAMES, SCALAR_TYPE_NAMES, xp
from ..batching import BatchedArray, writable_for
from ..beginner_hints import (
    batched_product_hint,
    dot_hint,
    matrix_product_hint,
    matrix_vector_hint,
    with_hint,
)
from ..graph.grad_mode import MODES, grad_state
from ..graph.node import NO_EDGE, SAVE_INPUTS, Op
from ..tensor import Tensor, wrap
from .apply import binary, record_node, record_special, tensor_argument, unary
from .declare import Cli, declare
from .explain_rule import ADD, MUL, Rule
from .rearrange import TransposeBackward0
from .saved_names import SavedNames, needed, shape_at, strides_at, value
from .shape import UnsafeViewBackward0, expanded_shape, reshape, view_op


# ------------------------------------------------------------------ products and their VJPs
class MmBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    saved_names = SavedNames(
        mat2=needed(1, by=0),
        self=needed(0, by=1),
        mat2_sym_sizes=shape_at(1),
        mat2_sym_strides=strides_at(1),
        self_sym_sizes=shape_at(0),
        self_sym_strides=strides_at(0),
    )

    function = xp.matmul  # the forward: a @ b, both matrices

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a_edge, b_edge = ctx._next
        raw = type(g) is not Tensor  # (recording a graph, the saved values are Tensors)
        grad_a = _mm_grad_left(g, b, raw and _column_major(a)) if a_edge is not None else None
        grad_b = _mm_grad_right(g, a, raw and _column_major(b)) if b_edge is not None else None
        return grad_a, grad_b

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return product_rule(mm, primals, tangents)


class AddmmBackward0(Op):
    """``beta * input + alpha * (mat1 @ mat2)``: ``F.linear`` of a batch of rows, as in PyTorch.

    One product and one in-place add of the (broadcast) ``input``; the engine sums the
    gradient of ``input`` back to its shape. Only the operands a gradient needs are kept.
    """

    __slots__ = ("beta", "alpha", "column_major")
    save = SAVE_INPUTS
    saved_names = SavedNames(
        mat1=1,
        mat2=2,
        alpha=value("alpha"),
        beta=value("beta"),
        mat1_sym_sizes=shape_at(1),
        mat1_sym_strides=strides_at(1),
        mat2_sym_sizes=shape_at(2),
        mat2_sym_strides=strides_at(2),
    )

    @staticmethod
    def forward(ctx, input, mat1, mat2):
        # The operands' layouts, which decide the gradients' (mat1 or mat2 may not be kept).
        ctx.column_major = (_column_major(mat1), _column_major(mat2))
        out = xp.matmul(mat1, mat2)
        if type(input) is BatchedArray:  # vmap: per-sample values added in place below
            out = writable_for(out, input)
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
            grad_input = g if beta == 1 else g * beta  # (the engine sums it to input's shape)
        mat1_column_major, mat2_column_major = ctx.column_major
        grad_mat1 = _mm_grad_left(g, mat2, mat1_column_major) if mat1_edge is not None else None
        grad_mat2 = _mm_grad_right(g, mat1, mat2_column_major) if mat2_edge is not None else None
        if alpha != 1:
            grad_mat1 = None if grad_mat1 is None else grad_mat1 * alpha
            grad_mat2 = None if grad_mat2 is None else grad_mat2 * alpha
        return grad_input, grad_mat1, grad_mat2

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # beta * d(input) + alpha * (d(mat1) @ mat2 + mat1 @ d(mat2)); beta 0 drops input.
        beta, alpha = ctx.beta, ctx.alpha
        tangent_input = tangents[0]
        share_input = None
        if tangent_input is not None and beta != 0:
            share_input = tangent_input if beta == 1 else tangent_input * beta
        share_product = product_rule(mm, primals[1:], tangents[1:])
        if share_product is not None and alpha != 1:
            share_product = share_product * alpha
        return sum_of_shares((share_input, share_product))


class BmmBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    saved_names = SavedNames(mat2=needed(1, by=0), self=needed(0, by=1))

    function = xp.matmul  # the forward: a batch of matrix products

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a_edge, b_edge = ctx._next
        grad_a = _bmm(g, _mT(b)) if a_edge is not None else None
        grad_b = _bmm(_mT(a), g) if b_edge is not None else None
        return grad_a, grad_b

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return product_rule(bmm, primals, tangents)


class MvBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    saved_names = SavedNames(self=needed(0, by=1), vec=needed(1, by=0))

    function = xp.matmul  # the forward: matrix @ vector

    @staticmethod
    def backward(ctx, g):
        m, v = ctx.saved_tensors
        m_edge, v_edge = ctx._next
        grad_m = reshape(g, (g.shape[0], 1)) * v if m_edge is not None else None
        grad_v = _mv(_mT(m), g) if v_edge is not None else None
        return grad_m, grad_v

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return product_rule(mv, primals, tangents)


class DotBackward0(Op):
    __slots__ = ()
    save = SAVE_INPUTS
    saved_names = SavedNames(self=needed(0, by=1), tensor=needed(1, by=0))

    function = staticmethod(xp.dot)  # the forward: vector . vector (a plain function)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        a_edge, b_edge = ctx._next
        return (g * b if a_edge is not None else None), (g * a if b_edge is not None else None)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return product_rule(dot, primals, tangents)


def product_rule(product, primals, tangents):
    """The tangent of ``product(a, b)``, linear in each operand: ``product(da, b) +
    product(a, db)``, a share only where that operand has a tangent (None: neither has)."""
    (a, b), (tangent_a, tangent_b) = primals, tangents
    return sum_of_shares(
        (
            None if tangent_a is None else product(tangent_a, b),
            None if tangent_b is None else product(a, tangent_b),
        )
    )


def sum_of_shares(shares):
    """The sum of the tangent shares that are not None (None when all are: a zero tangent)."""
    total = None
    for share in shares:
        if share is not None:
            total = share if total is None else total + share
    return total


def _mT(x):
    """The last two dimensions swapped: a view of an array, or a recorded transpose."""
    if type(x) is Tensor:
        return unary(transpose_last(x._data.ndim), x)
    return x.swapaxes(-1, -2)


def transpose_last(ndim: int, node_class=None) -> TransposeBackward0:
    """A node swapping the last two of ``ndim`` dimensions (matmul's decomposition uses it too)."""
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


# ------------------------------------------------------------------- mm, bmm, mv, dot
def _dtype_names(names: dict, *arrays) -> list:
    return [names[str(array.dtype)] for array in arrays]


def _refuse_product_shapes(shape_1: tuple, shape_2: tuple):
    """PyTorch's error for matrices that cannot be multiplied, then which is which (a hint)."""
    message = (
        f"mat1 and mat2 shapes cannot be multiplied ({shape_1[0]}x{shape_1[1]} and "
        f"{shape_2[0]}x{shape_2[1]})"
    )
    raise RuntimeError(with_hint(message, matrix_product_hint(shape_1, shape_2)))


def mm(input, mat2):
    tensor_argument(input, "mm", "input", 1)
    tensor_argument(mat2, "mm", "mat2", 2)
    a, b = input._data, mat2._data
    if a.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if b.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    if a.shape[1] != b.shape[0]:
        _refuse_product_shapes(a.shape, b.shape)
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
    return addmm_tensors(input, mat1, mat2, beta, alpha)


def addmm_tensors(input, mat1, mat2, beta=1, alpha=1):
    """``addmm`` once its three arguments are known to be Tensors (F.linear checks them under
    its own name)."""
    bias, a, b = input._data, mat1._data, mat2._data
    if a.ndim != 2 or b.ndim != 2:  # (F.linear's every call: the checks pass in one test)
        for name, array in (("mat1", a), ("mat2", b)):
            if array.ndim != 2:
                raise RuntimeError(f"{name} must be a matrix, got {array.ndim}-D tensor")
    if a.shape[1] != b.shape[0]:
        _refuse_product_shapes(a.shape, b.shape)
    dtype = b.dtype
    if bias.dtype != dtype or a.dtype != dtype:
        for name, array in (("self", bias), ("mat1", a)):
            if array.dtype != dtype:
                first, second = _dtype_names(SCALAR_TYPE_NAMES, array, b)
                raise RuntimeError(
                    f"{name} and mat2 must have the same dtype, but got {first} and {second}"
                )
    out_shape = (a.shape[0], b.shape[1])
    if bias.shape != out_shape[1:] and bias.shape != out_shape:
        expanded_shape(input, out_shape)  # PyTorch's error for an input that does not expand
    node = AddmmBackward0()
    if dtype.kind != "f":  # the scalars are converted to the integral type, as in PyTorch
        if dtype.kind == "b":  # (refused after the expand check, as in PyTorch)
            _refuse_bool()
        beta, alpha = int(beta), int(alpha)
    node.beta, node.alpha = beta, alpha
    out = node.forward(node, bias, a, b)  # (the dtypes are one, the shapes checked above)
    input_edge, mat1_edge, mat2_edge = input._edge, mat1._edge, mat2._edge
    # Keep what the VJP reads: mat1 for mat2's gradient, mat2 for mat1's; never input.
    saved = (None, a if mat2_edge is not None else None, b if mat1_edge is not None else None)
    if MODES.count:  # grad mode off in some thread, or a special mode (graph/grad_mode.py)
        if MODES.special:
            return record_special(node, (input, mat1, mat2), (bias, a, b), out, saved)
        if not grad_state._enabled:
            return wrap(out, NO_EDGE)
    if input_edge is None and mat1_edge is None and mat2_edge is None:
        return wrap(out, NO_EDGE)
    edges = (input_edge, mat1_edge, mat2_edge)
    # Only the input can need a broadcast sum (the products' gradients have their shapes).
    meta = None if bias.shape == out_shape else ((bias.shape, b.dtype), None, None)
    return wrap(out, record_node(node, edges, saved, meta))


def _refuse_bool():
    raise NotImplementedError("\"addmm_impl_cpu_\" not implemented for 'Bool'")


def bmm(input, mat2):
    tensor_argument(input, "bmm", "input", 1)
    tensor_argument(mat2, "bmm", "mat2", 2)
    a, b = input._data, mat2._data
    if a.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if b.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if b.shape[0] != a.shape[0] or b.shape[1] != a.shape[2]:
        message = (
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{a.shape[0]}, {a.shape[2]}] but got: [{b.shape[0]}, {b.shape[1]}]."
        )
        raise RuntimeError(with_hint(message, batched_product_hint(a.shape, b.shape)))
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
        message = (
            f"size mismatch, got input ({m.shape[0]}), mat ({m.shape[0]}x{m.shape[1]}), "
            f"vec ({v.shape[0]})"
        )
        raise RuntimeError(with_hint(message, matrix_vector_hint(m.shape, v.shape[0])))
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
        message = (
            f"inconsistent tensor size, expected tensor [{a.shape[0]}] and src [{b.shape[0]}] "
            "to have the same number of elements, but got "
            f"{a.shape[0]} and {b.shape[0]} elements respectively"
        )
        raise RuntimeError(with_hint(message, dot_hint(a.shape[0], b.shape[0])))
    if a.dtype == bool:
        raise NotImplementedError("\"dot\" not implemented for 'Bool'")
    return binary(DotBackward0(), input, tensor)


# ------------------------------------------------------------------ Tensor methods
def tensor_method(function, name: str, argument: str):
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


def kron(input, other):
    """The Kronecker product, as PyTorch composes it: each input viewed with its dims
    interleaved with 1s (a: (a0, 1, a1, 1, ...), b: (1, b0, 1, b1, ...)), multiplied
    (broadcasting gives every a_i·b_j block) and viewed as (a0·b0, a1·b1, ...). (PyTorch 2.13
    raises its view error for some non-contiguous inputs, where its product keeps their
    layout; gradienti gives the product.)"""
    ndim = max(input._data.ndim, other._data.ndim)
    a_shape = (1,) * (ndim - input._data.ndim) + input._data.shape
    b_shape = (1,) * (ndim - other._data.ndim) + other._data.shape
    a_view = tuple(size for a in a_shape for size in (a, 1))
    b_view = tuple(size for b in b_shape for size in (1, b))
    product = view_op(UnsafeViewBackward0, input, a_view) * view_op(
        UnsafeViewBackward0, other, b_view
    )
    return view_op(UnsafeViewBackward0, product, tuple(a * b for a, b in zip(a_shape, b_shape)))


_PRODUCT_PASSES = ("gradient @ bᵀ", "aᵀ @ gradient")

DECLARATIONS = (
    declare(
        "mm",
        mm,
        method=tensor_method(mm, "mm", "mat2"),
        explain={MmBackward0: Rule("matrix product", "{a:6} @ {b:8}", MUL, passes=_PRODUCT_PASSES)},
    ),
    declare(
        "addmm",
        addmm,
        method=_addmm_method,
        explain={
            AddmmBackward0: Rule(  # F.linear: bias + input @ weightᵀ
                "matrix product plus a bias",
                "{a:5} + {b:6} @ {c:8}",
                ADD,
                passes=("the gradient", "gradient @ cᵀ", "bᵀ @ gradient"),
            )
        },
    ),
    declare(
        "bmm",
        bmm,
        method=tensor_method(bmm, "bmm", "mat2"),
        explain={
            BmmBackward0: Rule(
                "batched matrix product", "{a:6} @ {b:8}", MUL, passes=_PRODUCT_PASSES
            )
        },
    ),
    declare(
        "mv",
        mv,
        method=tensor_method(mv, "mv", "vec"),
        explain={
            MvBackward0: Rule(
                "matrix-vector product",
                "{a:6} @ {b:8}",
                MUL,
                passes=("outer(gradient, b)", "aᵀ @ gradient"),
            )
        },
    ),
    declare(
        "dot",
        dot,
        method=tensor_method(dot, "dot", "tensor"),
        explain={
            DotBackward0: Rule(
                "dot product", "dot({a:0}, {b:0})", passes=("gradient·b", "gradient·a")
            )
        },
        cli=Cli("dot product of two vectors", ("x", "y")),
    ),
    declare("kron", kron),  # records UnsafeViewBackward0 and MulBackward0
)
