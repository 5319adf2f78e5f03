"""``torch.linalg.householder_product(A, tau)`` (``torch.orgqr``, ``Tensor.orgqr``): the first
n columns of ``H_0 H_1 ... H_(k-1)``, ``H_i = I - tau_i v_i v_i^T``, where ``v_i`` is A's column
i below the diagonal with a 1 on it (LAPACK's orgqr: Q from geqrf's reflectors).

One node, ``LinalgHouseholderProductBackward0``. With ``L_i = H_0 ... H_(i-1)`` and
``P_i = H_i ... H_(k-1) E`` (E the first n columns of I), ``Q = L_i H_i P_(i+1)``, so

- VJP: ``M_i = L_i^T G P_(i+1)^T`` is the gradient of H_i; with ``a = L_i v`` and
  ``b = P_(i+1)^T v``: ``grad tau_i = -a^T G b`` and
  ``grad v_i = -tau_i (L_i^T G b + P_(i+1) G^T a)``, of which A's column i takes the rows
  below the diagonal;
- JVP: ``dQ = sum_i L_i dH_i P_(i+1)``, ``dH_i = -(dtau_i v v^T + tau_i (dv v^T + v dv^T))``.

Both are written with operators, so they run on arrays and, under ``create_graph=True``, on
Tensors (differentiable again). The loop over the reflectors is the product's own order.
"""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, xp
from ..graph.node import SAVE_INPUTS, Op
from ..tensor import Tensor
from .apply import tensor_argument
from .declare import declare
from .explain_rule import Rule
from .join import stack
from .linalg_common import beside, mT, record
from .linalg_matrix import out_form

_NAME = "torch.linalg.householder_product"


def _any_tensor(*values) -> bool:
    return any(type(value) is Tensor for value in values)


def _dtype(x):
    """The NumPy dtype of an array or a Tensor."""
    return x._data.dtype if type(x) is Tensor else x.dtype


def _stacked(parts: list, like):
    return stack(parts, -1) if type(like) is Tensor else xp.stack(parts, -1)


def _reflector(a, i: int, like):
    """v_i: column i of a below the diagonal, 1 on it, 0 above (a (..., m, n))."""
    m = a.shape[-2]
    below = (xp.arange(m) > i).astype(_dtype(a))
    unit = (xp.arange(m) == i).astype(_dtype(a))
    return a[..., :, i] * beside(below, like) + beside(unit, like)


def _matvec(matrix, vector):
    return (matrix @ vector[..., None])[..., 0]


def _outer(left, right):
    return left[..., :, None] * right[..., None, :]


def _reflect_left(v, tau_i, x):
    """``H x = x - tau v (v^T x)`` for a matrix x (..., m, c)."""
    return x - tau_i[..., None, None] * _outer(v, (v[..., :, None] * x).sum(-2))


def _reflect_right(x, v, tau_i):
    """``x H = x - tau (x v) v^T`` for a matrix x (..., r, m)."""
    return x - tau_i[..., None, None] * _outer(_matvec(x, v), v)


def _identity(m: int, dtype, like):
    return beside(xp.eye(m, dtype=dtype), like)


def _left_products(a, tau, like) -> list:
    """``L_0 = I, L_(i+1) = L_i H_i``, for i < k (then L_k)."""
    m = a.shape[-2]
    products = [_identity(m, _dtype(a), like)]
    for i in range(tau.shape[-1]):
        products.append(_reflect_right(products[-1], _reflector(a, i, like), tau[..., i]))
    return products


def _first_columns(m: int, n: int, dtype, like):
    return beside(xp.eye(m, n, dtype=dtype), like)


def product_array(a, tau):
    """The forward on arrays: ``H_0 (H_1 (... (H_(k-1) E)))``."""
    m, n = a.shape[-2:]
    result = xp.broadcast_to(xp.eye(m, n, dtype=a.dtype), a.shape).copy()
    for i in range(tau.shape[-1] - 1, -1, -1):
        result = _reflect_left(_reflector(a, i, a), tau[..., i], result)
    return result


def _vjp(a, tau, g):
    like = g if _any_tensor(a, tau, g) else None
    if like is not None:
        a, tau = beside(a, g), beside(tau, g)
    m, n = a.shape[-2:]
    k = tau.shape[-1]
    lefts = _left_products(a, tau, like)
    right = _first_columns(m, n, _dtype(a), like)  # P_k
    grad_columns, grad_taus = [None] * n, [None] * k
    for i in range(k - 1, -1, -1):
        v, tau_i = _reflector(a, i, like), tau[..., i]
        left_v = _matvec(lefts[i], v)  # a = L_i v
        right_v = _matvec(mT(right), v)  # b = P_(i+1)^T v
        g_b = _matvec(g, right_v)
        grad_taus[i] = -(left_v * g_b).sum(-1)
        grad_v = _matvec(mT(lefts[i]), g_b) + _matvec(right, _matvec(mT(g), left_v))
        grad_columns[i] = -tau_i[..., None] * grad_v
        right = _reflect_left(v, tau_i, right)  # P_i
    zero = beside(xp.zeros(a.shape[:-1], _dtype(a)), like)
    grad_columns = [zero if column is None else column for column in grad_columns]
    below = xp.tril(xp.ones((m, n), _dtype(a)), -1)  # A's reflectors are below the diagonal
    grad_a = _stacked(grad_columns, like) * beside(below, like)
    grad_tau = _stacked(grad_taus, like) if k else beside(xp.zeros(tau.shape, _dtype(a)), like)
    return grad_a, grad_tau


def _jvp(a, tau, da, dtau):
    like = next((x for x in (a, tau, da, dtau) if type(x) is Tensor), None)
    a, tau = beside(a, like), beside(tau, like)
    m, n = a.shape[-2:]
    lefts = _left_products(a, tau, like)
    right = _first_columns(m, n, _dtype(a), like)
    below = beside(xp.tril(xp.ones((m, n), _dtype(a)), -1), like)
    if da is not None:
        da = da * below
    result = None
    for i in range(tau.shape[-1] - 1, -1, -1):
        v, tau_i = _reflector(a, i, like), tau[..., i]
        left_v = _matvec(lefts[i], v)  # L_i v
        v_right = _matvec(mT(right), v)  # P_(i+1)^T v
        shares = []
        if dtau is not None:
            shares.append(dtau[..., i, None, None] * _outer(left_v, v_right))
        if da is not None:
            dv = da[..., :, i]
            both = _outer(_matvec(lefts[i], dv), v_right) + _outer(left_v, _matvec(mT(right), dv))
            shares.append(tau_i[..., None, None] * both)
        for share in shares:
            result = -share if result is None else result - share
        right = _reflect_left(v, tau_i, right)
    if result is None:
        return beside(xp.zeros(a.shape, _dtype(a)), like)
    return result


class LinalgHouseholderProductBackward0(Op):
    """The first n columns of a product of Householder reflections."""

    __slots__ = ()
    save = SAVE_INPUTS

    @staticmethod
    def backward(ctx, g):
        a, tau = ctx.saved_tensors
        return _vjp(a, tau, g)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        return _jvp(*primals, *tangents)


def _check(A, tau) -> None:  # noqa: N803
    tensor_argument(A, "linalg_householder_product", "input", 1)
    tensor_argument(tau, "linalg_householder_product", "tau", 2)
    a, t = A._data, tau._data
    if a.ndim < 2:
        raise RuntimeError(f"{_NAME}: input must have at least 2 dimensions.")
    if a.shape[-2] < a.shape[-1]:
        raise RuntimeError(
            f"{_NAME}: input.shape[-2] must be greater than or equal to input.shape[-1]"
        )
    if t.ndim and a.shape[-1] < t.shape[-1]:
        raise RuntimeError(
            f"{_NAME}: input.shape[-1] must be greater than or equal to tau.shape[-1]"
        )
    if a.ndim - t.ndim != 1:
        raise RuntimeError(
            f"{_NAME}: Expected tau to have one dimension less than input, but got tau.ndim "
            f"equal to {t.ndim} and input.ndim is equal to {a.ndim}"
        )
    if t.shape[:-1] != a.shape[:-2]:
        raise RuntimeError(
            f"{_NAME}: Expected batch dimensions of tau to be equal to input.shape[:-2], but "
            f"got {list(t.shape[:-1])}"
        )
    if t.dtype != a.dtype:
        raise RuntimeError(
            f"{_NAME}: tau dtype {SCALAR_TYPE_NAMES[str(t.dtype)]} does not match input dtype "
            f"{SCALAR_TYPE_NAMES[str(a.dtype)]}"
        )
    if a.dtype not in (xp.float32, xp.float64):
        raise NotImplementedError(
            f"\"orgqr_cpu\" not implemented for '{SCALAR_TYPE_NAMES[str(a.dtype)]}'"
        )


def _castable(name, result, out, inputs) -> None:
    """out may be of any floating dtype (the result cast into it)."""
    if out.kind != "f":
        raise RuntimeError(
            f"{_NAME}: Expected result to be safely castable from "
            f"{SCALAR_TYPE_NAMES[str(result)]} dtype, but got result with dtype "
            f"{SCALAR_TYPE_NAMES[str(out)]}"
        )


@out_form("linalg_householder_product", _castable)
def householder_product(A, tau):  # noqa: N803 - PyTorch's name
    """``torch.linalg.householder_product(A, tau)`` (``torch.orgqr``): the first n columns of
    the product of the reflectors ``I - tau_i v_i v_i^T`` stored in A's columns."""
    _check(A, tau)
    a, t = A._data, tau._data
    node = LinalgHouseholderProductBackward0()
    return record(node, (A, tau), (a, t), product_array(a, t), (a, t))


def orgqr(input, tau):  # noqa: A002 - PyTorch's name
    """``torch.orgqr(input, tau)`` and ``Tensor.orgqr``: ``linalg.householder_product``."""
    return householder_product(input, tau)


DECLARATIONS = [
    declare(
        "linalg_householder_product",
        householder_product,
        method=None,
        public=False,
        explain={
            LinalgHouseholderProductBackward0: Rule(
                "the product of Householder reflections",
                "householder_product({a:0}, {b:0})",
                passes=(
                    "-tau_i (L_i^T g b + P g^T a) below the diagonal",
                    "-a^T g b, a = L_i v_i, b = P^T v_i",
                ),
            )
        },
    ),
    declare("orgqr", orgqr),
]
