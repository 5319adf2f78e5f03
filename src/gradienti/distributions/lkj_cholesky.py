"""``LKJCholesky(dim, concentration=1.0)``: the LKJ distribution over Cholesky factors of
dim x dim correlation matrices, density proportional to det(L L^T)^(concentration - 1);
sampled with the onion method (one Beta draw per row, then a point of the row's sphere)."""

from __future__ import annotations

import math

from ..size import Size
from . import constraints
from ._ops import ops
from .beta import Beta
from .distribution import Distribution
from .utils import EMPTY_SIZE, broadcast_all

__all__ = ["LKJCholesky"]


def _mvlgamma(x, p: int):
    """The multivariate log-gamma: p(p-1)/4 log(pi) + sum_{j<p} lgamma(x - j/2)."""
    offsets = ops.arange(p, dtype=x.dtype) / 2
    return ops.lgamma(x.unsqueeze(-1) - offsets).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)


class LKJCholesky(Distribution):
    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args=None):
        if dim < 2:
            raise ValueError(
                f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}."
            )
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.size()
        event_shape = Size((dim, dim))
        # the onion method's Beta(i/2, concentration + (dim - 2 - i)/2) for row i, and a
        # dummy first row
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = ops.arange(self.dim - 1, dtype=self.concentration.dtype)
        offset = ops.cat([offset.new_zeros((1,)), offset])
        beta_conc1 = offset + 0.5
        beta_conc0 = marginal_conc.unsqueeze(-1) - 0.5 * offset
        self._beta = Beta(beta_conc1, beta_conc0)
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(batch_shape)
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        super(LKJCholesky, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=EMPTY_SIZE):
        # row i: sqrt(y_i) times a uniform direction in the first i coordinates, and the
        # diagonal what keeps the row's norm 1
        y = self._beta.sample(sample_shape).unsqueeze(-1)
        u_normal = ops.randn(self._extended_shape(sample_shape), dtype=y.dtype).tril(-1)
        u_hypersphere = u_normal / u_normal.norm(dim=-1, keepdim=True)
        u_hypersphere[..., 0, :].fill_(0.0)  # the first row's 0/0
        w = ops.sqrt(y) * u_hypersphere
        eps = ops.finfo(w.dtype).tiny
        diag_elems = ops.clamp(1 - ops.sum(w**2, dim=-1), min=eps).sqrt()
        return w + ops.diag_embed(diag_elems)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = ops.arange(2, self.dim + 1)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = ops.sum(order * diag_elems.log(), dim=-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = ops.lgamma(alpha) * dm1
        numerator = _mvlgamma(alpha - 0.5, dm1)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        normalize_term = pi_constant + numerator - denominator
        return unnormalized_log_pdf - normalize_term
