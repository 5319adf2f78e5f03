"""What the nn tests share: torch tensors copied into gradienti, closeness, weights copied over."""

import numpy as np

import gradienti


def to_g(t, requires_grad=False):
    """A gradienti copy of a torch tensor: a leaf that requires grad if asked."""
    g = gradienti.tensor(t.detach().numpy().copy())
    return g.requires_grad_() if requires_grad else g


def assert_close(g, t, tol: float) -> None:
    np.testing.assert_allclose(
        np.asarray(g.detach().numpy()), t.detach().numpy(), rtol=tol, atol=tol
    )


def copy_weights(gmodule, tmodule):
    """Load a torch module's state dict into the gradienti module with the same layout."""
    return gmodule.load_state_dict({k: to_g(v) for k, v in tmodule.state_dict().items()})
