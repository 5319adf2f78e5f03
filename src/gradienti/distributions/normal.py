"""``Normal(loc, scale)``: the Gaussian with mean ``loc`` and standard deviation ``scale``."""

from __future__ import annotations

import math
from numbers import Number

from ..size import Size
from . import constraints
from ._ops import ops
from .exp_family import ExponentialFamily
from .utils import EMPTY_SIZE, _standard_normal, broadcast_all

__all__ = ["Normal"]


class Normal(ExponentialFamily):
    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True
    _mean_carrier_measure = 0

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = broadcast_all(loc, scale)
        if isinstance(loc, Number) and isinstance(scale, Number):
            batch_shape = Size()
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Normal, _instance)
        batch_shape = Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        super(Normal, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def sample(self, sample_shape=EMPTY_SIZE):
        # PyTorch draws a sample with torch.normal (one stream call), an rsample with
        # empty().normal_(): the two give different values after the same seed
        shape = self._extended_shape(sample_shape)
        with ops.no_grad():
            return ops.normal(self.loc.expand(shape), self.scale.expand(shape))

    def rsample(self, sample_shape=EMPTY_SIZE):
        # x = loc + eps * scale with eps ~ N(0, 1): differentiable in loc and scale
        shape = self._extended_shape(sample_shape)
        eps = _standard_normal(shape, dtype=self.loc.dtype)
        return self.loc + eps * self.scale

    def log_prob(self, value):
        # log N(x; mu, sigma) = -(x - mu)^2 / (2 sigma^2) - log sigma - log sqrt(2 pi)
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale**2
        log_scale = math.log(self.scale) if isinstance(self.scale, Number) else self.scale.log()
        return -((value - self.loc) ** 2) / (2 * var) - log_scale - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value):
        # Phi((x - mu) / sigma) = (1 + erf((x - mu) / (sigma sqrt 2))) / 2
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + ops.erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value):
        return self.loc + self.scale * ops.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        # H = 1/2 + log(2 pi) / 2 + log sigma
        return 0.5 + 0.5 * math.log(2 * math.pi) + ops.log(self.scale)

    @property
    def _natural_params(self):
        # theta = (mu / sigma^2, -1 / (2 sigma^2))
        return (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal())

    def _log_normalizer(self, x, y):
        # F(theta) = -theta_1^2 / (4 theta_2) + log(-pi / theta_2) / 2
        return -0.25 * x.pow(2) / y + 0.5 * ops.log(-math.pi / y)
