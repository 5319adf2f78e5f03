"""``torch.distributions``: probability distributions with PyTorch's parameters, sampling
(``sample``, reparameterised ``rsample``), ``log_prob``, ``entropy``, moments and
``kl_divergence``, built on gradienti's ops so that every result is differentiable.
"""

from . import constraints
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .kl import kl_divergence, register_kl

__all__ = [
    "Distribution",
    "ExponentialFamily",
    "constraints",
    "kl_divergence",
    "register_kl",
]
