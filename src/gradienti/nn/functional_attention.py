"""``nn.functional.multi_head_attention_forward``: PyTorch's steps, in its order.

Sequence-first inputs (L, N, E) (or unbatched (L, E)) are projected to q, k, v, split into
heads ((N * heads, L, head_dim)), optionally extended by ``bias_k``/``bias_v`` and a zero
position (``add_zero_attn``), and attended. With ``need_weights`` the weights are computed
with ordinary ops (softmax, dropout, matmul: the same values, NaN for a fully masked row, and
dropout's stream as PyTorch's); without, the fused ``scaled_dot_product_attention`` runs
(a fully masked row gives 0, as PyTorch's). Masks are PyTorch's: a bool ``True`` masks a
position out, a float mask is added to the scores.
"""

from __future__ import annotations

import math
import warnings

from ..backend import xp
from ..ops import linalg as _linalg
from ..ops.attention import scaled_dot_product_attention
from ..ops.join import cat
from ..ops.padding import pad
from ..tensor import wrap
from .dropout import dropout


def _linear(x, weight, bias):
    """``x @ weightᵀ + bias`` as one matrix product over all rows (at::linear's folding: one
    GEMM, where a 3-D matmul would run one per batch entry)."""
    shape = tuple(x.shape)
    rows = x.reshape(-1, shape[-1]) if len(shape) != 2 else x
    out = rows.matmul(weight.t()) if bias is None else _linalg.addmm(bias, rows, weight.t())
    return out if len(shape) == 2 else out.view(*shape[:-1], out.shape[-1])


def _is_float(tensor) -> bool:
    return tensor._data.dtype.kind == "f"


def shape_check(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """Whether the inputs are batched; PyTorch's AssertionError for shapes it refuses."""
    if query.dim() == 3:
        kind, expected, padding_dim = "batched (3-D)", 3, 2
    elif query.dim() == 2:
        kind, expected, padding_dim = "unbatched (2-D)", 2, 1
    else:
        raise AssertionError(
            "query should be unbatched 2D or batched 3D tensor but received "
            f"{query.dim()}-D query tensor"
        )
    if key.dim() != expected or value.dim() != expected:
        raise AssertionError(
            f"For {kind} `query`, expected `key` and `value` to be {expected}-D but found "
            f"{key.dim()}-D and {value.dim()}-D tensors respectively"
        )
    if key_padding_mask is not None and key_padding_mask.dim() != padding_dim:
        raise AssertionError(
            f"For {kind} `query`, expected `key_padding_mask` to be `None` or {padding_dim}-D "
            f"but found {key_padding_mask.dim()}-D tensor instead"
        )
    if attn_mask is not None:
        if attn_mask.dim() not in (2, 3):
            raise AssertionError(
                f"For {kind} `query`, expected `attn_mask` to be `None`, 2-D or 3-D but found "
                f"{attn_mask.dim()}-D tensor instead"
            )
        if expected == 2 and attn_mask.dim() == 3:
            expected_shape = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.shape != expected_shape:
                raise AssertionError(
                    f"Expected `attn_mask` shape to be {expected_shape} but got {attn_mask.shape}"
                )
    return expected == 3


def canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask as a float one (-inf where True), in ``target_type``; a float mask as is."""
    if mask is None:
        return None
    is_float = _is_float(mask)
    if mask._data.dtype != xp.bool_ and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(
            f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same "
            "type for both instead.",
            stacklevel=3,
        )
    if is_float:
        return mask
    np_dtype = target_type.np
    return wrap(xp.where(mask._data, np_dtype.type(-xp.inf), np_dtype.type(0)), None)


def _in_projection(query, key, value, weights, biases):
    """q, k, v: each input through its own share of the projection."""
    return tuple(
        _linear(x, weight, bias) for x, weight, bias in zip((query, key, value), weights, biases)
    )


def _check_projections(query, key, value, weights, biases) -> None:
    """PyTorch's AssertionErrors (its ``_in_projection``) for separate projection weights or
    biases that do not fit the inputs' feature sizes."""
    features = query.shape[-1]
    names = ("query", "key", "value")
    for name, x, weight in zip(names, (query, key, value), weights):
        expected = (features, x.shape[-1])
        if weight.shape != expected:
            raise AssertionError(
                f"expecting {name} weights shape of {expected}, but got {weight.shape}"
            )
    for name, bias in zip(names, biases):
        if bias is not None and bias.shape != (features,):
            raise AssertionError(
                f"expecting {name} bias shape of {(features,)}, but got {bias.shape}"
            )


def _in_projection_packed(query, key, value, weight, bias):
    """q, k, v of a packed (3E, E) projection; self-attention (one input for all three) as
    one product, split afterwards, as PyTorch's."""
    if query is key and key is value:
        return _linear(query, weight, bias).chunk(3, dim=-1)
    biases = (None,) * 3 if bias is None else bias.chunk(3)
    return _in_projection(query, key, value, weight.chunk(3), biases)


def multi_head_attention_forward(
    query,
    key,
    value,
    embed_dim_to_check,
    num_heads,
    in_proj_weight,
    in_proj_bias,
    bias_k,
    bias_v,
    add_zero_attn,
    dropout_p,
    out_proj_weight,
    out_proj_bias,
    training=True,
    key_padding_mask=None,
    need_weights=True,
    attn_mask=None,
    use_separate_proj_weight=False,
    q_proj_weight=None,
    k_proj_weight=None,
    v_proj_weight=None,
    static_k=None,
    static_v=None,
    average_attn_weights=True,
    is_causal=False,
):
    """Multi-head attention of sequence-first inputs: (output, weights or None)."""
    is_batched = shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = canonical_mask(
        key_padding_mask,
        "key_padding_mask",
        None if attn_mask is None else attn_mask.dtype,
        "attn_mask",
        query.dtype,
    )
    if is_causal and attn_mask is None:
        raise RuntimeError(
            "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
            "module method `generate_square_subsequent_mask` to create this mask."
        )
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the fused op builds the causal mask itself
    else:
        attn_mask = canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(
            f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}"
        )
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise AssertionError(
                f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                f"{value.shape[:2]}"
            )
    elif key.shape != value.shape:
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)
    else:
        for name, weight in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if weight is None:
                raise AssertionError(
                    f"use_separate_proj_weight is True but {name}_proj_weight is None"
                )
        weights = (q_proj_weight, k_proj_weight, v_proj_weight)
        biases = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        _check_projections(query, key, value, weights, biases)
        q, k, v = _in_projection(query, key, value, weights, biases)
    src_len = key.shape[0]
    if attn_mask is not None:
        attn_mask = _three_dimensional(attn_mask, bsz * num_heads, tgt_len, src_len)
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask, key_padding_mask = _one_more_position(attn_mask, key_padding_mask)
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = _heads(k, static_k, "static_k", bsz * num_heads, head_dim)
    v = _heads(v, static_v, "static_v", bsz * num_heads, head_dim)
    if add_zero_attn:  # one more position whose key and value are 0
        zero = wrap(xp.zeros((bsz * num_heads, 1, head_dim), k._data.dtype), None)
        k = cat([k, zero], dim=1)
        v = cat([v, zero.to(v.dtype)], dim=1)
        attn_mask, key_padding_mask = _one_more_position(attn_mask, key_padding_mask)
    src_len = k.shape[1]
    if key_padding_mask is not None:
        _check_key_padding_mask(key_padding_mask, src_len, bsz)
        key_padding_mask = (
            key_padding_mask.view(bsz, 1, 1, src_len)
            .expand(-1, num_heads, -1, -1)
            .reshape(bsz * num_heads, 1, src_len)
        )
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0
    if need_weights:
        output, weights = _attention_with_weights(q, k, v, attn_mask, dropout_p, is_causal)
        output = output.transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        output = _project_out(output, out_proj_weight, out_proj_bias, tgt_len, bsz)
        weights = weights.view(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not is_batched:
            output, weights = output.squeeze(1), weights.squeeze(0)
        return output, weights
    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.dim() == 3:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.view(bsz, num_heads, -1, src_len)
    q = q.view(bsz, num_heads, tgt_len, head_dim)
    k = k.view(bsz, num_heads, src_len, head_dim)
    v = v.view(bsz, num_heads, src_len, head_dim)
    output = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    output = output.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
    output = _project_out(output, out_proj_weight, out_proj_bias, tgt_len, bsz)
    if not is_batched:
        output = output.squeeze(1)
    return output, None


def _project_out(output, weight, bias, tgt_len: int, bsz: int):
    """The output projection of the (L * N, E) rows, viewed as (L, N, E) with E named (a view
    with -1 is ambiguous for an empty batch or target sequence)."""
    projected = _linear(output, weight, bias)
    return projected.view(tgt_len, bsz, projected.shape[-1])


def _three_dimensional(attn_mask, batch_heads: int, tgt_len: int, src_len: int):
    """The attention mask as (1 or N * heads, L, S), after PyTorch's shape checks."""
    if attn_mask.dim() == 2:
        if attn_mask.shape != (tgt_len, src_len):
            raise RuntimeError(
                f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                f"{(tgt_len, src_len)}."
            )
        return attn_mask.unsqueeze(0)
    if attn_mask.dim() == 3:
        if attn_mask.shape != (batch_heads, tgt_len, src_len):
            raise RuntimeError(
                f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                f"{(batch_heads, tgt_len, src_len)}."
            )
        return attn_mask
    raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")


def _one_more_position(attn_mask, key_padding_mask):
    """The masks with a position appended (0: it takes part), for bias_k or add_zero_attn."""
    if attn_mask is not None:
        attn_mask = pad(attn_mask, (0, 1))
    if key_padding_mask is not None:
        key_padding_mask = pad(key_padding_mask, (0, 1))
    return attn_mask, key_padding_mask


def _heads(x, static, name: str, batch_heads: int, head_dim: int):
    """(S, N, E) as (N * heads, S, head_dim); or the given ``static_k``/``static_v``."""
    if static is None:
        return x.reshape(x.shape[0], batch_heads, head_dim).transpose(0, 1)
    if static.shape[0] != batch_heads:
        raise AssertionError(
            f"expecting {name}.size(0) of {batch_heads}, but got {static.shape[0]}"
        )
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static


def _check_key_padding_mask(key_padding_mask, src_len: int, bsz: int) -> None:
    if key_padding_mask.shape[0] != bsz:
        raise AssertionError(
            f"Expected key_padded_mask.shape[0] to be {bsz}, but got {key_padding_mask.shape[0]}"
        )
    if key_padding_mask.shape[1] != src_len:
        raise AssertionError(
            f"Expected key_padded_mask.shape[1] to be {src_len}, but got "
            f"{key_padding_mask.shape[1]}"
        )


def _attention_with_weights(q, k, v, attn_mask, dropout_p, is_causal):
    """PyTorch's need_weights path: (N * heads, L, head_dim) output and the weights."""
    if is_causal and attn_mask is None:
        raise AssertionError("FIXME: is_causal not implemented for need_weights")
    scaled = q * math.sqrt(1.0 / float(q.shape[-1]))
    scores = scaled @ k.transpose(-2, -1)
    if attn_mask is not None:
        scores = attn_mask + scores  # baddbmm(attn_mask, q, kᵀ)
    weights = scores.softmax(-1)
    if dropout_p > 0.0:
        weights = dropout(weights, p=dropout_p)
    return weights @ v, weights
