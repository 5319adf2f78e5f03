"""Embedding's op: a lookup of rows of a weight matrix by integer index (``F.embedding``; the
module ``nn.Embedding`` is in nn/sparse.py), under PyTorch's names.

The lookup ``out[..., :] = weight[indices[...], :]`` is ``EmbeddingBackward0``. Its VJP adds
each row of the upstream gradient into the row of ``weight`` it was read from (repeated
indices add up), skipping ``padding_idx`` and, with ``scale_grad_by_freq``, dividing each by
how often its index occurs in the batch. That VJP is linear in the upstream gradient; as an op
of its own (``EmbeddingDenseBackwardBackward0``, the name of PyTorch's node for it) its VJP is
again a lookup, with the same rows zeroed and scaled, so any derivative order works. Both are
linear, so their forward derivatives (JVPs) are themselves applied to the tangent.

This module declares no public op (``F.embedding`` is nn/functional.py's), only its nodes'
explain rules (``DECLARATIONS`` at the bottom).
"""

from __future__ import annotations

from ..backend import LEGACY_TYPE_NAMES, xp
from ..batching import BatchedArray, all_samples, getitem, writable_for
from ..graph.grad_mode import no_grad
from ..graph.node import SAVE_NOTHING, Op
from ..tensor import Tensor, wrap
from .apply import unary
from .declare import explain_nodes
from .explain_rule import Rule
from .jvp_rules import linear
from .saved_names import SavedNames, held, value


class _Lookup:
    """What both embedding ops need about one call: the indices and how rows are weighted.
    ``given``: the indices as the caller gave them (int32 stays), which PyTorch saves."""

    __slots__ = ("indices", "given", "num_weights", "padding_idx", "scale_grad_by_freq")
    __slots__ += ("row_factor",)

    def __init__(self, indices, num_weights: int, padding_idx: int, scale_grad_by_freq: bool):
        self.indices = self.given = indices
        self.num_weights = num_weights
        self.padding_idx, self.scale_grad_by_freq = padding_idx, scale_grad_by_freq
        # Per looked-up row, the factor its gradient gets: 0 at padding_idx, 1 / (times the
        # index occurs) with scale_grad_by_freq; None when every factor is 1.
        factor = None
        if scale_grad_by_freq:
            flat = indices.reshape(-1)
            counts = xp.bincount(flat, minlength=num_weights)
            factor = 1.0 / counts[flat]
        if padding_idx >= 0:
            kept = indices.reshape(-1) != padding_idx
            factor = kept * 1.0 if factor is None else factor * kept
        if factor is not None:
            factor = factor.reshape(indices.shape + (1,))
        self.row_factor = factor

    def rows(self, weight):
        """``weight[indices]``: raw arrays, or recorded (an EmbeddingBackward0) on a Tensor."""
        if type(weight) is Tensor:
            node = EmbeddingBackward0()
            node.lookup = self
            return unary(node, weight)
        if type(self.indices) is BatchedArray and type(weight) is not BatchedArray:
            return getitem(weight, self.indices)  # (vmap: per-sample indices, shared rows)
        return xp.take(weight, self.indices, axis=0)

    def scatter(self, g):
        """The rows of ``g`` added into a zero weight-shaped gradient, each row weighted."""
        if type(g) is Tensor:
            node = EmbeddingDenseBackwardBackward0()
            node.lookup = self
            return unary(node, g)
        rows = g if self.row_factor is None else g * self.row_factor.astype(g.dtype)
        dim = g.shape[-1]
        grad = xp.zeros((self.num_weights, dim), dtype=g.dtype)
        grad = writable_for(grad, rows, self.indices)  # (vmap: per-sample rows or indices)
        xp.add.at(grad, self.indices.reshape(-1), rows.reshape(-1, dim))
        return grad


class EmbeddingBackward0(Op):
    __slots__ = ("lookup",)
    save = SAVE_NOTHING
    # PyTorch saves the indices; the VJP reads them from ``lookup`` (as int64).
    saved_names = SavedNames(
        indices=held("indices"),
        padding_idx=value(lambda node: node.lookup.padding_idx % 2**64),  # -1 as uint64
        scale_grad_by_freq=value(lambda node: node.lookup.scale_grad_by_freq),
        sparse=value(lambda node: False),
        weight_sym_argsize_0=value(lambda node: node.lookup.num_weights),
    )

    @property
    def indices(self):
        return self.lookup.given

    @staticmethod
    def forward(ctx, weight):
        return ctx.lookup.rows(weight)

    @staticmethod
    def backward(ctx, g):
        return ctx.lookup.scatter(g)

    jvp = staticmethod(linear)  # the tangent's rows at the indices


class EmbeddingDenseBackwardBackward0(Op):
    __slots__ = ("lookup",)
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, g):
        return ctx.lookup.scatter(g)

    @staticmethod
    def backward(ctx, gg):
        lookup = ctx.lookup
        rows = lookup.rows(gg)
        if lookup.row_factor is None:
            return rows
        dtype = gg._data.dtype if type(gg) is Tensor else gg.dtype
        return rows * lookup.row_factor.astype(dtype)

    jvp = staticmethod(linear)  # the tangent's rows added into a zero weight


def normalize_padding_idx(padding_idx, num_embeddings: int) -> int | None:
    """PyTorch's check and its wrap of a negative padding_idx."""
    if padding_idx is None:
        return None
    if padding_idx > 0:
        if padding_idx >= num_embeddings:
            raise AssertionError("Padding_idx must be within num_embeddings")
    elif padding_idx < 0:
        if padding_idx < -num_embeddings:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = num_embeddings + padding_idx
    return padding_idx


def _check_indices(input, weight) -> None:
    dtype = input._data.dtype
    if dtype not in (xp.int64, xp.int32):
        # PyTorch names a bool tensor by its backend type, the others by their legacy class.
        name = "CPUBoolType" if dtype == xp.bool_ else f"torch.{LEGACY_TYPE_NAMES[dtype.name]}"
        raise RuntimeError(
            "Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {name} instead (while checking arguments for embedding)"
        )
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    indices = all_samples(input._data)  # (under vmap: every sample's indices)
    if indices.size and (indices.min() < 0 or indices.max() >= weight.shape[0]):
        raise IndexError("index out of range in self")


def _renorm_rows(weight, indices, max_norm: float, norm_type: float) -> None:
    """``embedding_renorm_``: each looked-up row whose norm exceeds ``max_norm`` is scaled in
    place by ``max_norm / (norm + 1e-7)``, without recording (as PyTorch, under no_grad)."""
    rows = xp.unique(indices)
    values = weight._data[rows]
    norms = xp.linalg.norm(values.astype(xp.float64), ord=norm_type, axis=1)
    over = norms > max_norm
    if not over.any():
        return
    scale = (max_norm / (norms[over] + 1e-7)).astype(values.dtype)
    updated = weight._data.copy()
    updated[rows[over]] = values[over] * scale[:, None]
    with no_grad():
        weight._assign_in_place(wrap(updated, None))


def embedding(
    input,
    weight,
    padding_idx=None,
    max_norm=None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
):
    """The rows of ``weight`` at ``input``'s indices: shape ``input.shape + (dim,)``."""
    padding_idx = normalize_padding_idx(padding_idx, weight.size(0))
    _check_indices(input, weight)
    if sparse:
        raise NotImplementedError("gradienti has no sparse gradients: use sparse=False")
    indices = xp.asarray(input._data, dtype=xp.int64)
    if max_norm is not None:
        _renorm_rows(weight, indices, max_norm, norm_type)
    lookup = _Lookup(
        indices, weight.shape[0], -1 if padding_idx is None else padding_idx, scale_grad_by_freq
    )
    lookup.given = input._data
    node = EmbeddingBackward0()
    node.lookup = lookup
    return unary(node, weight)


# ---------------------------------------------------------------------- explain rules
def _factor_text(node) -> str:
    if node.lookup.row_factor is None:
        return ""
    return ", each row times its factor (0 at padding_idx, 1/count with scale_grad_by_freq)"


def _lookup_rule(node) -> Rule:
    return Rule(
        "embedding lookup (rows of the weight, by index)",
        "embedding(indices, {x:0})",
        passes=(
            "each row of the gradient, added into the weight row it was read from (repeated "
            f"indices add up, rows never read get 0){_factor_text(node)}",
        ),
    )


def _lookup_backward_rule(node) -> Rule:
    return Rule(
        "embedding's backward (rows added into the weight's rows), recorded for a second "
        "derivative",
        "embedding_backward({x:0}, indices)",
        passes=(f"the gradient's rows at the looked-up indices (a lookup){_factor_text(node)}",),
    )


DECLARATIONS = (
    explain_nodes(
        {EmbeddingBackward0: _lookup_rule, EmbeddingDenseBackwardBackward0: _lookup_backward_rule}
    ),
)
