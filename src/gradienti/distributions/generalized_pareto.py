"""``GeneralizedPareto(loc, scale, concentration)``: the survival function
(1 + xi z)^(-1/xi) with z = (x - loc) / scale (exp(-z) at xi = 0); for xi < 0 it is bounded
above by loc - scale / xi."""

from __future__ import annotations

import math
from numbers import Number, Real

from ..size import Size
from . import constraints
from ._ops import ops
from .distribution import Distribution
from .utils import EMPTY_SIZE, broadcast_all

__all__ = ["GeneralizedPareto"]


class GeneralizedPareto(Distribution):
    arg_constraints = {
        "loc": constraints.real,
        "scale": constraints.positive,
        "concentration": constraints.real,
    }
    has_rsample = True

    def __init__(self, loc, scale, concentration, validate_args=None):
        self.loc, self.scale, self.concentration = broadcast_all(loc, scale, concentration)
        if all(isinstance(v, Number) for v in (loc, scale, concentration)):
            batch_shape = Size()
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(GeneralizedPareto, _instance)
        batch_shape = Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        new.concentration = self.concentration.expand(batch_shape)
        super(GeneralizedPareto, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def rsample(self, sample_shape=EMPTY_SIZE):
        shape = self._extended_shape(sample_shape)
        u = ops.rand(shape, dtype=self.loc.dtype)
        return self.icdf(u)

    def _safe_concentration(self):
        """(xi == 0, xi with the zeros replaced by 1): the closed forms divide by xi, and
        their discarded branch must stay finite for the gradient."""
        eq_zero = ops.isclose(self.concentration, ops.tensor(0.0))
        return eq_zero, ops.where(eq_zero, ops.ones_like(self.concentration), self.concentration)

    def log_prob(self, value):
        # -log scale - (1/xi + 1) log(1 + xi z), or -log scale - z at xi = 0
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        y = 1 / safe_conc + ops.ones_like(z)
        where_nonzero = ops.where(y == 0, y, y * ops.log1p(safe_conc * z))
        log_scale = math.log(self.scale) if isinstance(self.scale, Real) else self.scale.log()
        return -log_scale - ops.where(eq_zero, z, where_nonzero)

    def log_survival_function(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self._z(value)
        eq_zero, safe_conc = self._safe_concentration()
        where_nonzero = -ops.log1p(safe_conc * z) / safe_conc
        return ops.where(eq_zero, -z, where_nonzero)

    def log_cdf(self, value):
        return ops.log1p(-ops.exp(self.log_survival_function(value)))

    def cdf(self, value):
        return ops.exp(self.log_cdf(value))

    def icdf(self, value):
        loc = self.loc
        scale = self.scale
        concentration = self.concentration
        eq_zero = ops.isclose(concentration, ops.zeros_like(concentration))
        safe_conc = ops.where(eq_zero, ops.ones_like(concentration), concentration)
        logu = ops.log1p(-value)
        where_nonzero = loc + scale / safe_conc * ops.expm1(-safe_conc * logu)
        where_zero = loc - scale * logu
        return ops.where(eq_zero, where_zero, where_nonzero)

    def _z(self, x):
        return (x - self.loc) / self.scale

    @property
    def mean(self):
        # loc + scale / (1 - xi), for xi < 1
        concentration = self.concentration
        valid = concentration < 1
        safe_conc = ops.where(valid, concentration, 0.5)
        result = self.loc + self.scale / (1 - safe_conc)
        return ops.where(valid, result, math.nan)

    @property
    def variance(self):
        # scale^2 / ((1 - xi)^2 (1 - 2 xi)), for xi < 1/2
        concentration = self.concentration
        valid = concentration < 0.5
        safe_conc = ops.where(valid, concentration, 0.25)
        result = self.scale**2 / ((1 - safe_conc) ** 2 * (1 - 2 * safe_conc))
        return ops.where(valid, result, math.nan)

    def entropy(self):
        ans = ops.log(self.scale) + self.concentration + 1
        return ops.broadcast_to(ans, self._batch_shape)

    @property
    def mode(self):
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        lower = self.loc
        upper = ops.where(self.concentration < 0, lower - self.scale / self.concentration, math.inf)
        return constraints.interval(lower, upper)
