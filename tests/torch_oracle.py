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


def torch_draws_bernoulli_p_from_mt19937(torch) -> bool:
    """Whether PyTorch's ``bernoulli_(p)`` with a number ``p`` (dropout's masks) draws from its
    mt19937 generator, as gradienti does: on an Intel CPU an MKL build takes MKL's own stream
    (seeded by one draw), whose samples gradienti does not reproduce."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            intel = "GenuineIntel" in cpuinfo.read()
    except OSError:
        return True
    return not (intel and torch.backends.mkl.is_available())


MKL_BERNOULLI = "PyTorch draws bernoulli_(p) (dropout masks) from MKL's stream on this CPU"
