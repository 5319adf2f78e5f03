"""Op cases: nn.functional.scaled_dot_product_attention (ops/attention.py), one fused node.

PyTorch records its math path's composite graph (``fused=True``: names not compared). Masks
that are not differentiable (bool, ``is_causal``) are built inside the case from fixed
arrays; a float mask is an input of its own, so its gradient is checked too. Dropout is
random and ``enable_gqa`` runs PyTorch's CPU flash kernel (no double backward, no forward AD
there): both are tested in test_attention.py.
"""

import numpy as np
from op_cases import Case


def _sdpa(**kwargs):
    return lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs)


def _sdpa_bool_mask(mask):
    def call(lib, q, k, v):
        attn_mask = lib.tensor(np.array(mask))
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)

    return call


def _sdpa_float_mask(lib, q, k, v, mask):
    return lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)


# (L, S) = (3, 4): each row keeps at least one position; the second case masks a row fully.
_MASK = [[True, False, True, True], [False, True, False, False], [True, True, True, False]]
_MASK_EMPTY_ROW = [[True, False, True, True], [False, False, False, False], [True] * 4]

CASES = [
    Case("sdpa (2,2,3,4)", _sdpa(), ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3)), fused=True),
    Case("sdpa unbatched (L,E)", _sdpa(), ((3, 4), (5, 4), (5, 2)), fused=True),
    Case("sdpa broadcast batch", _sdpa(), ((2, 3, 2, 4), (1, 3, 5, 4), (3, 5, 2)), fused=True),
    Case("sdpa is_causal", _sdpa(is_causal=True), ((2, 4, 3), (2, 4, 3), (2, 4, 3)), fused=True),
    Case(
        "sdpa is_causal L<S", _sdpa(is_causal=True), ((1, 3, 2), (1, 5, 2), (1, 5, 4)), fused=True
    ),
    Case("sdpa scale=0.7", _sdpa(scale=0.7), ((2, 3, 4), (2, 4, 4), (2, 4, 2)), fused=True),
    Case("sdpa bool mask", _sdpa_bool_mask(_MASK), ((2, 3, 2), (2, 4, 2), (2, 4, 3)), fused=True),
    Case(
        "sdpa fully masked row",
        _sdpa_bool_mask(_MASK_EMPTY_ROW),
        ((3, 2), (4, 2), (4, 3)),
        fused=True,
    ),
    Case(
        "sdpa float mask broadcast",
        _sdpa_float_mask,
        ((2, 2, 3, 2), (2, 2, 4, 2), (2, 2, 4, 3), (2, 1, 3, 4)),
        fused=True,
    ),
]
