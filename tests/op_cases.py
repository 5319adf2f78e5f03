"""The op-case table's machinery: input domains and the ``Case`` record.

The table itself is ``CASES`` in ``test_ops.py`` plus the ``CASES`` lists of the
``op_cases_*.py`` modules beside it (one per area of ops), all run by the same tests.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

# ---------------------------------------------------------------------------- input domains
# Kinks (abs, relu), poles (division, reciprocal) and log/sqrt's domain are kept well away
# from, so that finite differences with eps=1e-6 are valid.
ANY = "any"  # uniform in [-2, 2]
POS = "pos"  # uniform in [0.5, 2]
NONZERO = "nonzero"  # +-[0.5, 2]
SMALL_INT = "small_int"  # integers in [-2, 2] as floats: ties for comparisons
UNIT = "unit"  # uniform in [-0.9, 0.9]: inside asin/acos/atanh's domain, away from tan's poles


def _sample(rng, domain, shape):
    if domain == ANY:
        return rng.uniform(-2.0, 2.0, shape)
    if domain == POS:
        return rng.uniform(0.5, 2.0, shape)
    if domain == NONZERO:
        return rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape)
    if domain == SMALL_INT:
        return rng.integers(-2, 3, shape).astype(np.float64)
    if domain == UNIT:
        return rng.uniform(-0.9, 0.9, shape)
    raise ValueError(domain)


@dataclass(frozen=True)
class Case:
    name: str
    fn: object  # (lib, *tensors) -> tensor
    shapes: tuple  # one shape per input
    domains: tuple | str = ANY  # one domain for all inputs, or one per input
    differentiable: bool = True  # False: forward-only (comparisons)
    # True: one fused node where PyTorch records a composite graph (attention): the grad_fn's
    # name and graph are not compared, only values.
    fused: bool = False

    def arrays(self, dtype=np.float64):
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        domains = (
            self.domains if isinstance(self.domains, tuple) else (self.domains,) * len(self.shapes)
        )
        return [_sample(rng, d, s).astype(dtype) for d, s in zip(domains, self.shapes)]


S = (2, 3)
S3 = (2, 3, 4)
