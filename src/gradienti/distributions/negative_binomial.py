"""``NegativeBinomial(total_count, probs=None, logits=None)``: the number of successes before
``total_count`` failures in Bernoulli(probs) trials; sampled as a Poisson of a Gamma rate."""

from __future__ import annotations

from ..nn.functional import logsigmoid
from ..size import Size
from . import constraints
from ._ops import ops
from .binomial import expand_trials_parameters, set_trials_parameters
from .distribution import Distribution
from .gamma import Gamma
from .utils import EMPTY_SIZE, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["NegativeBinomial"]


class NegativeBinomial(Distribution):
    arg_constraints = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        set_trials_parameters(self, total_count, probs, logits)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return expand_trials_parameters(self, NegativeBinomial, batch_shape, _instance)

    def _new(self, *args, **kwargs):
        return self._param.new(*args, **kwargs)

    @property
    def mean(self):
        return self.total_count * ops.exp(self.logits)

    @property
    def mode(self):
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self):
        return self.mean / ops.sigmoid(-self.logits)

    @lazy_property
    def logits(self):
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self):
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    @lazy_property
    def _gamma(self):
        # the Poisson rate's distribution: Gamma(total_count, exp(-logits))
        return Gamma(
            concentration=self.total_count, rate=ops.exp(-self.logits), validate_args=False
        )

    def sample(self, sample_shape=EMPTY_SIZE):
        with ops.no_grad():
            rate = self._gamma.sample(sample_shape=sample_shape)
            return ops.poisson(rate)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized_prob = self.total_count * logsigmoid(-self.logits) + value * logsigmoid(
            self.logits
        )
        log_normalization = (
            -ops.lgamma(self.total_count + value)
            + ops.lgamma(1.0 + value)
            + ops.lgamma(self.total_count)
        )
        # the pmf is 1 at value = 0 when total_count = 0
        log_normalization = log_normalization.masked_fill(self.total_count + value == 0.0, 0.0)
        return log_unnormalized_prob - log_normalization
