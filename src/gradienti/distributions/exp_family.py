"""``ExponentialFamily``: distributions whose density is
p(x; theta) = exp(<t(x), theta> - F(theta) + k(x)), with natural parameters theta, sufficient
statistic t, log normalizer F and carrier measure k. Their entropy follows from F alone, and the
KL divergence between two of the same family is F's Bregman divergence (kl.py)."""

from __future__ import annotations

from ..autograd.engine import grad
from .distribution import Distribution

__all__ = ["ExponentialFamily"]


class ExponentialFamily(Distribution):
    @property
    def _natural_params(self) -> tuple:
        """The natural parameters theta, as Tensors."""
        raise NotImplementedError

    def _log_normalizer(self, *natural_params):
        """F(theta), the log normalizer of the natural parameters."""
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self):
        """E[k(x)], the expected carrier measure."""
        raise NotImplementedError

    def entropy(self):
        """H = F(theta) - <theta, grad F(theta)> - E[k(x)] (grad F(theta) is E[t(x)]), with
        grad F taken by autograd (and recorded, so the entropy stays differentiable)."""
        result = -self._mean_carrier_measure
        natural_params = [p.detach().requires_grad_() for p in self._natural_params]
        log_normalizer = self._log_normalizer(*natural_params)
        gradients = grad(log_normalizer.sum(), natural_params, create_graph=True)
        result += log_normalizer
        for param, gradient in zip(natural_params, gradients):
            result -= (param * gradient).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
