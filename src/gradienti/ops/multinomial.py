"""``multinomial``: indices drawn from the rows of a weight tensor with PyTorch's CPU streams.

With replacement, random_sampling.py's cumulative kernel; without (and for one sample), the
exponential trick: each row's ``argmax`` or sorted ``topk`` of ``p / q`` for ``q``
exponential(1), ties ordered as PyTorch's CPU topk leaves them (ops/stdlib_order.py). Under
vmap, drawn on the physical batch as PyTorch's batching rule does
(``random_sampling.vmap_operands``).
"""

from __future__ import annotations

import numpy as np

from ..arguments import check_bool, check_int, check_tensor, is_index
from ..backend import SCALAR_TYPE_NAMES
from ..graph.grad_mode import no_grad
from ..graph.node import NO_EDGE
from ..python_types import type_name
from ..random_sampling import (
    batched,
    drawing_from,
    multinomial_keys,
    multinomial_with_replacement,
    vmap_operands,
)
from ..tensor import wrap
from .declare import declare
from .out_arguments import check_out, resize_out
from .sampling import _FLOATS
from .stdlib_order import topk_order


def multinomial(input, num_samples, replacement=False, *, generator=None, out=None):
    """Indices drawn from the rows of ``input`` (weights, not necessarily normalised); with
    ``out=``, written into it (int64, resized as PyTorch's multinomial_out)."""
    check_tensor(input, "multinomial")
    if not is_index(num_samples):
        raise TypeError(
            "multinomial(): argument 'num_samples' (position 2) must be int, not "
            f"{type_name(num_samples)}"
        )
    count = check_int(num_samples, "multinomial", "num_samples", 2)
    replacement = check_bool(replacement, "multinomial", "replacement", 3)
    data = input._data
    if not 1 <= data.ndim <= 2:
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if data.dtype not in _FLOATS:
        name = SCALAR_TYPE_NAMES[data.dtype.name]
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: {name}"
        )
    if out is not None:
        check_out("multinomial", out, ())  # (not differentiable: no grad check of input)
        if out._data.dtype != np.int64:
            name = SCALAR_TYPE_NAMES[out._data.dtype.name]
            raise RuntimeError(f"multinomial expects Long tensor out, got: {name}")
    if count <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    categories = data.shape[-1]
    if not replacement and count > categories:
        raise RuntimeError(
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement"
        )
    if categories > 2**24:
        raise RuntimeError("number of categories cannot exceed 2^24")
    level, (p,) = vmap_operands("multinomial", (data,))
    shape = p.shape[:-1] + (count,)
    if not int(np.prod(shape)):
        return _result(batched(np.zeros(shape, np.int64), level), out)
    if p.ndim > 2:  # under vmap: the samples' rows are rows too
        p = p.reshape(-1, categories)
    # one sample: the exponential trick even with replacement (PyTorch's fast path)
    fast = not replacement or count == 1
    _check_weights(p, fast)
    with drawing_from(generator) as source:
        if fast:
            values = _multinomial_without_replacement(source, p, count)
        else:
            values = multinomial_with_replacement(source, p, count)
    return _result(batched(values.reshape(shape), level), out)


def _result(values, out):
    if out is None:
        return wrap(values, NO_EDGE)
    resize_out(out, values.shape)
    with no_grad():
        return out.copy_(wrap(values, NO_EDGE))


def _multinomial_without_replacement(source, p: np.ndarray, count: int) -> np.ndarray:
    """Each row's ``argmax`` (one sample: the first largest, NaN largest) or sorted ``topk`` of
    ``p / q``, ties in the order PyTorch's CPU topk leaves them."""
    keys = multinomial_keys(source, p)
    rows = keys if keys.ndim == 2 else keys[None]
    if count == 1:
        chosen = np.argmax(rows, axis=-1).reshape(-1, 1)
    else:
        chosen = topk_order(rows, count, True, True)
    return chosen.astype(np.int64).reshape(p.shape[:-1] + (count,))


def _check_weights(p: np.ndarray, fast: bool) -> None:
    """The fast path checks all weights at once (``aminmax``); the cumulative kernel checks
    each row's weights in turn, then the row's sum."""
    rows = p if p.ndim == 2 else p[None]
    if fast:
        if not p.size:
            raise RuntimeError(
                "aminmax(): cannot compute aminmax over an empty dimension as the operation has "
                "no identity."
            )
        if not bool(np.all((p >= 0) & (p < np.inf))):
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if bool(np.any(rows.sum(axis=-1) == 0)):
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        return
    invalid = "invalid multinomial distribution"
    for row in rows:
        negative = ~(row >= 0)  # NaN fails this first
        infinite = ~np.isfinite(row)
        bad = np.flatnonzero(negative | infinite)
        if bad.size:
            if negative[bad[0]]:
                raise RuntimeError(f"{invalid} (encountering probability entry < 0)")
            raise RuntimeError(f"{invalid} (encountering probability entry = infinity or NaN)")
        if not row.sum() > 0:
            raise RuntimeError(f"{invalid} (sum of probabilities <= 0)")


DECLARATIONS = (declare("multinomial", multinomial),)
