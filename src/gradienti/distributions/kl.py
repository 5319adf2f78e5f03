"""``kl_divergence(p, q)`` and ``register_kl``: KL(p || q) by the pair of types, dispatched as
PyTorch's: among the registered pairs that match (p's type a subclass of the first, q's of the
second), the most specific one; a tie broken the other way round warns of ambiguity.

The pairs registered below are those PyTorch registers among this package's distributions.
"""

from __future__ import annotations

import warnings
from functools import total_ordering

from ._ops import ops
from .distribution import Distribution

__all__ = ["register_kl", "kl_divergence"]

# the registered (type_p, type_q) pairs, the source of truth
_KL_REGISTRY: dict = {}
# every (type(p), type(q)) looked up so far, with the function dispatch chose
_KL_MEMOIZE: dict = {}


def register_kl(type_p, type_q):
    """A decorator registering a function of (p, q) as KL(p || q) for p of ``type_p`` and q
    of ``type_q`` (or of subclasses of them)::

        @register_kl(Normal, Normal)
        def kl_normal_normal(p, q): ...
    """
    # PyTorch's test, kept as it is: a non-class makes issubclass raise its TypeError, and
    # any class is accepted
    if not isinstance(type_p, type) and issubclass(type_p, Distribution):
        raise TypeError(f"Expected type_p to be a Distribution subclass but got {type_p}")
    if not isinstance(type_q, type) and issubclass(type_q, Distribution):
        raise TypeError(f"Expected type_q to be a Distribution subclass but got {type_q}")

    def decorator(fun):
        _KL_REGISTRY[type_p, type_q] = fun
        _KL_MEMOIZE.clear()  # a new pair can change what dispatch chooses
        return fun

    return decorator


@total_ordering
class _Match:
    """A pair of types ordered lexicographically by specificity: a <= b when a's first type is
    a subclass of b's, and, when the first types are the same, so is the second."""

    __slots__ = ["types"]

    def __init__(self, *types):
        self.types = types

    def __eq__(self, other):
        return self.types == other.types

    def __le__(self, other):
        for x, y in zip(self.types, other.types):
            if not issubclass(x, y):
                return False
            if x is not y:
                break
        return True


def _dispatch_kl(type_p, type_q):
    """The registered function for (type_p, type_q): the most specific matching pair, judged
    first by p's type, then by q's; warns when judging by q first would choose another."""
    matches = [
        (super_p, super_q)
        for super_p, super_q in _KL_REGISTRY
        if issubclass(type_p, super_p) and issubclass(type_q, super_q)
    ]
    if not matches:
        return NotImplemented
    left_p, left_q = min(_Match(*m) for m in matches).types
    right_q, right_p = min(_Match(*reversed(m)) for m in matches).types
    left_fun = _KL_REGISTRY[left_p, left_q]
    right_fun = _KL_REGISTRY[right_p, right_q]
    if left_fun is not right_fun:
        warnings.warn(
            f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}). "
            f"Please register_kl({left_p.__name__}, {right_q.__name__})",
            RuntimeWarning,
            stacklevel=2,
        )
    return left_fun


def kl_divergence(p, q):
    """KL(p || q) = E_p[log p(x) - log q(x)], batched over the batch shape, by the function
    registered for the pair of types; NotImplementedError when none is."""
    try:
        fun = _KL_MEMOIZE[type(p), type(q)]
    except KeyError:
        fun = _dispatch_kl(type(p), type(q))
        _KL_MEMOIZE[type(p), type(q)] = fun
    if fun is NotImplemented:
        raise NotImplementedError(
            f"No KL(p || q) is implemented for p type {p.__class__.__name__} and q type "
            f"{q.__class__.__name__}"
        )
    return fun(p, q)


def _infinite_like(tensor):
    return ops.full_like(tensor, float("inf"))


def _x_log_x(tensor):
    """x log x, 0 at x = 0."""
    return ops.xlogy(tensor, tensor)


def _batch_trace_XXT(bmat):  # noqa: N802 - the matrix's name
    """trace(X X^T) of each matrix X of ``bmat``: the sum of its squared entries."""
    n = bmat.size(-1)
    m = bmat.size(-2)
    flat_trace = bmat.reshape(-1, m * n).pow(2).sum(-1)
    return flat_trace.reshape(tuple(bmat.shape[:-2]))
