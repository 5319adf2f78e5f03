"""``torch.distributions``: probability distributions with PyTorch's parameters, sampling
(``sample``, reparameterised ``rsample``), ``log_prob``, ``entropy``, moments and
``kl_divergence``, built on gradienti's ops so that every result is differentiable.
"""

__all__: list[str] = []
