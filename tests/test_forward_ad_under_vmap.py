"""JVP rules run on per-sample primals: ``vmap(jacfwd(f))`` (each sample's Jacobian by forward
mode) against ``torch.func``, for the rules that branch on the values (a zero in a product, the
count of tied extremes), with a zero and ties in some samples only."""

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

FUNCTIONS = {
    "prod": lambda v: v.prod(),
    "prod_dim": lambda v: v.reshape(5, 1).prod(0),
    "prod_dim_keepdim": lambda v: v.reshape(5, 1).prod(0, keepdim=True),
    "max": lambda v: v.max(),
    "min": lambda v: v.min(),
    "cumprod": lambda v: v.cumprod(0),
}


def samples() -> np.ndarray:
    """Three samples: one plain, one with a zero, one with a tie at the maximum and minimum."""
    values = np.random.default_rng(0).standard_normal((3, 5))
    values[1, 2] = 0.0
    values[2, 3] = values[2].max()
    values[2, 0] = values[2].min()
    values[2, [1, 4]] = values[2].max(), values[2].min()
    return values


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_vmap_of_jacfwd_matches_torch(name):
    function = FUNCTIONS[name]
    values = samples()
    ours = gradienti.func.vmap(gradienti.func.jacfwd(function))(
        gradienti.tensor(values, dtype=gradienti.float64)
    )
    theirs = torch.func.vmap(torch.func.jacfwd(function))(torch.tensor(values))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)
