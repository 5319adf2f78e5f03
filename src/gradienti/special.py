"""``torch.special``: the special functions under PyTorch's names there, for code that calls
``torch.special.xlogy`` or ``torch.special.expit``. Each is the op of ``gradienti`` itself
(``special.gammaln`` is ``lgamma``, ``special.psi`` and ``special.digamma`` are ``digamma``,
``special.expit`` is ``sigmoid``), so it records the same node as PyTorch's.
"""

from __future__ import annotations

from .ops.api import FUNCTIONS as _FUNCTIONS

digamma = psi = _FUNCTIONS["digamma"]
gammaln = _FUNCTIONS["lgamma"]
gammainc = _FUNCTIONS["igamma"]
gammaincc = _FUNCTIONS["igammac"]
polygamma = _FUNCTIONS["polygamma"]
erf = _FUNCTIONS["erf"]
erfc = _FUNCTIONS["erfc"]
erfinv = _FUNCTIONS["erfinv"]
xlogy = _FUNCTIONS["xlogy"]
exp2 = _FUNCTIONS["exp2"]
expm1 = _FUNCTIONS["expm1"]
log1p = _FUNCTIONS["log1p"]
expit = _FUNCTIONS["sigmoid"]
logsumexp = _FUNCTIONS["logsumexp"]

__all__ = [
    "digamma", "erf", "erfc", "erfinv", "exp2", "expit", "expm1", "gammainc", "gammaincc",
    "gammaln", "log1p", "logsumexp", "polygamma", "psi", "xlogy",
]  # fmt: skip
