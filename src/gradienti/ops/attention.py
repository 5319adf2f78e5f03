"""``nn.functional.scaled_dot_product_attention`` as one fused op.

With ``c`` the scale (``1/sqrt(E)`` unless given), ``M`` the additive mask (a float mask as
given; a bool mask and ``is_causal`` become 0 where a position takes part and -inf where not)
and ``N`` dropout's noise (kept / (1 - p), or 1)::

    S = c q kᵀ + M,   P = softmax_rows(S),   D = P ⊙ N,   out = D v.

A row whose every position is masked (all -inf) gets P = 0, so its output is 0, as PyTorch's
math path (its ``_safe_softmax``). The VJP, from the softmax kept by the forward::

    dv = Dᵀ g,   dP = (g vᵀ) ⊙ N,   dS = P ⊙ (dP - rowsum(dP ⊙ P)),
    dq = c dS k,   dk = c dSᵀ q,   dM = dS.

Batch dimensions broadcast as matmul's; the engine sums each gradient back to its input's
shape (a mask or key shared by the batch). When the backward is recorded
(``create_graph=True``) P is recomputed from the saved inputs with differentiable ops, so the
same formula on Tensors has second derivatives in q, k, v, M and g (dropout's noise is a
constant). The JVP is written with ordinary ops::

    dS = c (tq kᵀ + q tkᵀ) + tM,   dP = P ⊙ (dS - rowsum(P ⊙ dS)),   dout = (dP ⊙ N) v + D tv.

A float16 query, key and value are computed in float32 and the output rounded once, as
PyTorch's math path (its casts record ToCopyBackward0 nodes around the op).

Dropout draws PyTorch's CPU stream: ``torch.dropout`` of the weights, one double uniform per
element of P in memory order, kept when below 1 - p (see nn/dropout.py).
"""

from __future__ import annotations

import math

from ..backend import CPP_TYPE_NAMES, SCALAR_TYPE_NAMES, float16, float32, xp
from ..batching import any_sample
from ..graph.node import SAVE_INPUTS, Op
from ..random import uniform_values
from ..tensor import Tensor, wrap
from .apply import nary, raise_if_not_broadcastable, tensor_argument
from .declare import declare
from .elementwise import where
from .explain_rule import Rule
from .products import sum_of_shares
from .reduce import sum_keep


def _swap_last(x):
    """The last two dimensions swapped: an array view, or a recorded transpose."""
    return x.swapaxes(-1, -2)


def _last_axis(x) -> tuple:
    """The last axis, normalised (what ``sum_keep`` takes)."""
    return (len(x.shape) - 1,)


def _times_noise(x, noise):
    """``x`` ⊙ dropout's noise (a constant array): on arrays, or recorded on Tensors."""
    return x * wrap(noise, None) if type(x) is Tensor else x * noise


def _fully_masked_rows(scores):
    """The rows of the scores where every position is -inf (a raw bool array, keepdim)."""
    data = scores._data if type(scores) is Tensor else scores
    return xp.isneginf(data).all(axis=-1, keepdims=True)


def _probabilities(q, k, mask, scale):
    """(P, fully masked rows) of the module docstring: arrays, or recorded on Tensors."""
    # q and k each scaled by sqrt(|c|), as PyTorch's math path; a negative c negates q's.
    root = math.sqrt(abs(scale))
    scores = (q * (-root if scale < 0 else root)) @ _swap_last(k * root)
    if mask is not None:
        scores = scores + mask
    empty_rows = _fully_masked_rows(scores)
    if any_sample(empty_rows):
        # 0 in place of the rows' -inf keeps their softmax finite (no NaN in a recorded graph);
        # their probabilities are then set to 0.
        scores = where(empty_rows, 0.0, scores)
        return where(empty_rows, 0.0, _softmax_rows(scores)), empty_rows
    return _softmax_rows(scores), None


def _softmax_rows(scores):
    if type(scores) is Tensor:
        return scores.softmax(-1)
    if not scores.shape[-1]:  # no key positions (S = 0): nothing to normalise
        return scores.copy()
    with xp.errstate(invalid="ignore"):
        out = xp.exp(scores - scores.max(axis=-1, keepdims=True))
        out /= out.sum(axis=-1, keepdims=True)
    return out


class ScaledDotProductAttentionBackward0(Op):
    """Inputs q, k, v and the additive mask (None: no mask). ``scale`` is c; ``noise`` N (None
    without dropout); ``probabilities`` P, kept by the forward for an unrecorded backward."""

    __slots__ = ("scale", "noise", "probabilities")
    save = SAVE_INPUTS

    @staticmethod
    def forward(ctx, q, k, v, mask):
        probabilities, _ = _probabilities(q, k, mask, ctx.scale)
        ctx.probabilities = probabilities
        weights = probabilities if ctx.noise is None else probabilities * ctx.noise
        return weights @ v

    @staticmethod
    def backward(ctx, g):
        q, k, v, mask = ctx.saved_tensors
        if type(g) is Tensor:  # recorded: P as a differentiable function of the inputs
            probabilities, _ = _probabilities(q, k, mask, ctx.scale)
        else:
            probabilities = ctx.probabilities
        noise = ctx.noise
        wanted = ctx._next
        grad_v = None
        if wanted[2] is not None:
            weights = probabilities if noise is None else _times_noise(probabilities, noise)
            grad_v = _swap_last(weights) @ g
        if wanted[0] is None and wanted[1] is None and wanted[3] is None:
            return None, None, grad_v, None
        grad_p = g @ _swap_last(v)
        if noise is not None:
            grad_p = _times_noise(grad_p, noise)
        grad_s = probabilities * (grad_p - sum_keep(grad_p * probabilities, _last_axis(grad_p)))
        scale = ctx.scale
        grad_q = (grad_s @ k) * scale if wanted[0] is not None else None
        grad_k = (_swap_last(grad_s) @ q) * scale if wanted[1] is not None else None
        return grad_q, grad_k, grad_v, grad_s if wanted[3] is not None else None

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        q, k, v, mask = primals
        tangent_q, tangent_k, tangent_v, tangent_mask = tangents
        probabilities, _ = _probabilities(q, k, mask, ctx.scale)
        noise = ctx.noise
        scale = ctx.scale
        tangent_s = sum_of_shares(
            (
                # scaled before the product: c is inf for an empty head dimension (E = 0)
                None if tangent_q is None else (tangent_q * scale) @ _swap_last(k),
                None if tangent_k is None else (q * scale) @ _swap_last(tangent_k),
                tangent_mask,
            )
        )
        share_p = share_v = None
        if tangent_s is not None:
            tangent_p = probabilities * (
                tangent_s - sum_keep(probabilities * tangent_s, _last_axis(tangent_s))
            )
            if noise is not None:
                tangent_p = _times_noise(tangent_p, noise)
            share_p = tangent_p @ v
        if tangent_v is not None:
            weights = probabilities if noise is None else _times_noise(probabilities, noise)
            share_v = weights @ tangent_v
        return sum_of_shares((share_p, share_v))


def _check_inputs(query, key, value, attn_mask, is_causal, enable_gqa) -> None:
    """PyTorch's argument checks, in its order (validate_sdpa_input's, then the math path's
    before its first product)."""
    dtype = query._data.dtype
    if key._data.dtype != dtype or value._data.dtype != dtype:
        names = [CPP_TYPE_NAMES[t._data.dtype.name] for t in (query, key, value)]
        raise RuntimeError(
            "Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{names[0]} key.dtype: {names[1]} and value.dtype: {names[2]} instead."
        )
    if query.dim() < 2 or key.dim() < 2 or value.dim() < 2:
        raise RuntimeError(
            "Expected query, key, and value to all be  at least 2 dimensional, but got "
            f"query.dim: {query.dim()} key.dim: {key.dim()} and value.dim: {value.dim()} "
            "instead."
        )
    if attn_mask is not None:
        mask_dtype = attn_mask._data.dtype
        if mask_dtype != xp.bool_ and mask_dtype != xp.float32 and mask_dtype != dtype:
            raise RuntimeError(
                "Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                f"attn_mask.dtype: {CPP_TYPE_NAMES[mask_dtype.name]} and  query.dtype: "
                f"{CPP_TYPE_NAMES[dtype.name]} instead."
            )
        if is_causal:
            raise RuntimeError(
                "_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                "is_causal=True"
            )
    if enable_gqa:
        if min(query.dim(), key.dim(), value.dim()) < 3:  # PyTorch reads the heads as size(-3)
            raise IndexError(
                "Dimension out of range (expected to be in range of [-2, 1], but got -3)"
            )
        heads = query.shape[-3]
        if heads % key.shape[-3] or heads % value.shape[-3]:
            raise RuntimeError(
                "Number of heads in key and value must divide the number of heads in "
            )


def _check_key_shape(q_shape, k_shape) -> None:
    """PyTorch's errors of q kᵀ for a key that does not fit: mm's for matrices, bmm's
    (batch dims flattened) otherwise."""
    raise_if_not_broadcastable(_shaped(q_shape[:-2]), _shaped(k_shape[:-2]))
    if k_shape[-1] == q_shape[-1]:
        return
    if len(q_shape) == len(k_shape) == 2:
        raise RuntimeError(
            f"mat1 and mat2 shapes cannot be multiplied ({q_shape[0]}x{q_shape[1]} and "
            f"{k_shape[1]}x{k_shape[0]})"
        )
    batch = math.prod(xp.broadcast_shapes(q_shape[:-2], k_shape[:-2]))
    raise RuntimeError(
        "Expected size for first two dimensions of batch2 tensor to be: "
        f"[{batch}, {q_shape[-1]}] but got: [{batch}, {k_shape[-1]}]."
    )


def _check_value(weights_shape, value) -> None:
    """PyTorch's errors of the weights' product with a value that does not fit, then of an
    integer value (the weights are float)."""
    v_shape = tuple(value.shape)
    raise_if_not_broadcastable(_shaped(weights_shape[:-2]), _shaped(v_shape[:-2]))
    matrices = len(weights_shape) == len(v_shape) == 2
    if v_shape[-2] != weights_shape[-1]:
        if matrices:
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({weights_shape[0]}x"
                f"{weights_shape[1]} and {v_shape[0]}x{v_shape[1]})"
            )
        batch = math.prod(weights_shape[:-2])
        raise RuntimeError(
            "Expected size for first two dimensions of batch2 tensor to be: "
            f"[{batch}, {weights_shape[-1]}] but got: [{batch}, {v_shape[-2]}]."
        )
    dtype = value._data.dtype
    if dtype.kind != "f":
        if matrices:
            raise RuntimeError(
                "expected m1 and m2 to have the same dtype, but got: float != "
                f"{CPP_TYPE_NAMES[dtype.name]}"
            )
        raise RuntimeError(f"expected scalar type Float but found {SCALAR_TYPE_NAMES[dtype.name]}")


def _shaped(shape):
    """A zero-strided array of ``shape`` (what the broadcast check reads)."""
    return xp.broadcast_to(xp.zeros((), xp.bool_), shape)


def _additive_mask(attn_mask, is_causal, q_shape, k_shape, dtype, query_dtype):
    """The mask as M of the module docstring: a Tensor (a float mask, as given, gradient
    included) or a constant array; None when there is none. ``dtype`` is the query's array
    dtype, ``query_dtype`` its torch-style dtype."""
    length, source_length = q_shape[-2], k_shape[-2]
    if is_causal:
        allowed = xp.tril(xp.ones((length, source_length), xp.bool_))
    elif attn_mask is None:
        return None
    elif attn_mask._data.dtype != xp.bool_:
        # a float32 mask of a float64 query is added in the query's dtype (its gradient is
        # float32 again); a cast, not the op's promotion, keeps the output in q's dtype
        return attn_mask if attn_mask._data.dtype == dtype else attn_mask.to(query_dtype)
    else:
        allowed = attn_mask._data
    return xp.where(allowed, dtype.type(0), dtype.type(-xp.inf))


def _dropout_noise(shape, dropout_p: float, dtype):
    """N of the module docstring: torch.dropout's CPU mask of the weights, divided by 1 - p."""
    if dropout_p == 1:
        return xp.zeros(shape, dtype)
    keep = uniform_values(shape, 0.0, 1.0, xp.float64) < 1 - dropout_p
    return keep.astype(dtype) / dtype.type(1 - dropout_p)


def scaled_dot_product_attention(
    query,
    key,
    value,
    attn_mask=None,
    dropout_p=0.0,
    is_causal=False,
    *,
    scale=None,
    enable_gqa=False,
):
    """softmax(q kᵀ · scale + mask) v over the last two dimensions, as PyTorch's."""
    for position, (name, value_) in enumerate((("query", query), ("key", key), ("value", value))):
        tensor_argument(value_, "scaled_dot_product_attention", name, position + 1)
    _check_inputs(query, key, value, attn_mask, is_causal, enable_gqa)
    if enable_gqa and query.dim() >= 3:  # each key/value head serves a group of query heads
        heads = query.shape[-3]
        if key.shape[-3] != heads:
            key = key.repeat_interleave(heads // key.shape[-3], -3)
        if value.shape[-3] != heads:
            value = value.repeat_interleave(heads // value.shape[-3], -3)
    q_shape, k_shape = tuple(query.shape), tuple(key.shape)
    _check_key_shape(q_shape, k_shape)
    # PyTorch's math path computes a half query in float32 (the mask added and dropout drawn
    # there too) and rounds the output once
    half = query._data.dtype == xp.float16
    compute_dtype = float32 if half else query.dtype
    dtype = compute_dtype.np
    mask = _additive_mask(attn_mask, is_causal, q_shape, k_shape, dtype, compute_dtype)
    weights_shape = xp.broadcast_shapes(q_shape[:-2], k_shape[:-2]) + (
        q_shape[-2],
        k_shape[-2],
    )
    if mask is not None:
        mask_shape = xp.shape(mask._data if type(mask) is Tensor else mask)
        raise_if_not_broadcastable(_shaped(weights_shape), _shaped(mask_shape))
        widened = xp.broadcast_shapes(weights_shape, mask_shape)
        if widened != weights_shape:  # PyTorch adds the mask in place: the weights cannot grow
            raise RuntimeError(
                f"output with shape {list(weights_shape)} doesn't match the broadcast shape "
                f"{list(widened)}"
            )
    # PyTorch's math path drops out only for p > 0 (a negative p is no dropout), after the
    # softmax: before the product with v; C++ prints p as %g
    if dropout_p > 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p:g}")
    _check_value(weights_shape, value)
    node = ScaledDotProductAttentionBackward0()
    if scale is None:  # 1/sqrt(E); inf for E = 0, as C++'s division
        scale = 1 / math.sqrt(q_shape[-1]) if q_shape[-1] else math.inf
    node.scale = float(scale)
    node.noise = _dropout_noise(weights_shape, dropout_p, dtype) if dropout_p > 0 else None
    if mask is not None and type(mask) is not Tensor:
        mask = wrap(mask, None)
    if not half:
        return nary(node, query, key, value, mask)
    query, key, value = (x.to(float32) for x in (query, key, value))
    return nary(node, query, key, value, mask).to(float16)


DECLARATIONS = (
    declare(
        "scaled_dot_product_attention",
        scaled_dot_product_attention,
        public=False,
        explain={
            ScaledDotProductAttentionBackward0: Rule(
                "attention: each query's softmax-weighted average of the values",
                "softmax({a:0}·{b:0}ᵀ·scale + mask)·{c:0}",
                passes=(
                    "scale · dS·b, dS = P ⊙ (dP − rowsum(dP ⊙ P)), dP = gradient·cᵀ, P the softmax",
                    "scale · dSᵀ·a",
                    "Pᵀ · gradient",
                    "dS, the scores' gradient",
                ),
            )
        },
    ),
)
