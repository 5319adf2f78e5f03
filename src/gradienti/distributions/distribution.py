"""``Distribution``: the base of every distribution, with PyTorch's shapes, argument
validation, sample validation and repr."""

from __future__ import annotations

import warnings

from ..batching import all_samples
from ..size import Size
from ..tensor import Tensor
from . import constraints
from ._ops import ops
from .utils import EMPTY_SIZE, lazy_property

__all__ = ["Distribution"]


def _is_all_true(valid) -> bool:
    """Whether every element of the bool Tensor ``valid`` is true, in every sample under vmap
    (PyTorch's ``torch._is_all_true``, which vmap lets through: a check of the arguments
    holds for the batch when it holds for all its values)."""
    return bool(all_samples(valid._data).all())


class Distribution:
    """A probability distribution over events of ``event_shape``, with parameters batched over
    ``batch_shape``. A sample of ``sample_shape`` has shape
    ``sample_shape + batch_shape + event_shape``."""

    has_rsample = False
    has_enumerate_support = False
    # on unless Python runs optimised (``python -O``), as ``assert`` is
    _validate_args = __debug__

    @staticmethod
    def set_default_validate_args(value: bool) -> None:
        """Turns argument and sample validation on or off for distributions made without an
        explicit ``validate_args``."""
        if value not in [True, False]:
            raise ValueError
        Distribution._validate_args = value

    def __init__(self, batch_shape=EMPTY_SIZE, event_shape=EMPTY_SIZE, validate_args=None):
        self._batch_shape = batch_shape
        self._event_shape = event_shape
        if validate_args is not None:
            self._validate_args = validate_args
        if self._validate_args:
            self._check_arguments()
        super().__init__()

    def _check_arguments(self) -> None:
        """Raises PyTorch's ValueError for the first parameter outside its constraint."""
        try:
            arg_constraints = self.arg_constraints
        except NotImplementedError:
            arg_constraints = {}
            warnings.warn(
                f"{self.__class__} does not define `arg_constraints`. "
                + "Please set `arg_constraints = {}` or initialize the distribution "
                + "with `validate_args=False` to turn off validation.",
                stacklevel=3,
            )
        for param, constraint in arg_constraints.items():
            if constraints.is_dependent(constraint):
                continue  # a set that depends on other parameters cannot be checked alone
            if param not in self.__dict__ and isinstance(getattr(type(self), param), lazy_property):
                continue  # a parameter derived from another, not computed yet
            value = getattr(self, param)
            if not _is_all_true(constraint.check(value)):
                raise ValueError(
                    f"Expected parameter {param} "
                    f"({type(value).__name__} of shape {tuple(value.shape)}) "
                    f"of distribution {self!r} "
                    f"to satisfy the constraint {constraint!r}, "
                    f"but found invalid values:\n{value}"
                )

    def expand(self, batch_shape, _instance=None):
        """A distribution with the parameters expanded (views, no copy) to ``batch_shape``;
        arguments are not validated again."""
        raise NotImplementedError

    @property
    def batch_shape(self) -> Size:
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        return self._event_shape

    @property
    def arg_constraints(self) -> dict:
        """The constraint each Tensor parameter must satisfy, by parameter name."""
        raise NotImplementedError

    @property
    def support(self):
        """The constraint every sample satisfies."""
        raise NotImplementedError

    @property
    def mean(self):
        raise NotImplementedError

    @property
    def mode(self):
        raise NotImplementedError(f"{self.__class__} does not implement mode")

    @property
    def variance(self):
        raise NotImplementedError

    @property
    def stddev(self):
        return self.variance.sqrt()

    def sample(self, sample_shape=EMPTY_SIZE):
        """A sample of shape ``sample_shape + batch_shape + event_shape``, not differentiable."""
        with ops.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=EMPTY_SIZE):
        """A reparameterised sample: a differentiable function of the parameters."""
        raise NotImplementedError

    def sample_n(self, n: int):
        warnings.warn(
            "`sample_n(n)` will be deprecated. Use `sample((n,))` instead.",
            FutureWarning,
            stacklevel=2,
        )
        return self.sample(Size((n,)))

    def log_prob(self, value):
        raise NotImplementedError

    def cdf(self, value):
        raise NotImplementedError

    def icdf(self, value):
        raise NotImplementedError

    def enumerate_support(self, expand: bool = True):
        """Every value of a discrete distribution's support along dimension 0, in lock-step
        over the batch: shape ``(cardinality,) + batch_shape + event_shape``, or with the batch
        dimensions of size 1 when ``expand`` is False."""
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    def perplexity(self):
        return ops.exp(self.entropy())

    def _extended_shape(self, sample_shape=EMPTY_SIZE) -> Size:
        """The shape of a sample of ``sample_shape``: ``sample_shape + batch + event``."""
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def _validate_sample(self, value) -> None:
        """Raises PyTorch's ValueError for a ``value`` that does not broadcast with the batch
        and event shapes or lies outside the support."""
        if not isinstance(value, Tensor):
            raise ValueError("The value argument to log_prob must be a Tensor")
        event_dim_start = len(value.size()) - len(self._event_shape)
        if tuple(value.size()[event_dim_start:]) != tuple(self._event_shape):
            raise ValueError(
                f"The right-most size of value must match event_shape: {value.size()} vs "
                f"{Size(self._event_shape)}."
            )
        actual_shape = value.size()
        expected_shape = Size(tuple(self._batch_shape) + tuple(self._event_shape))
        for i, j in zip(reversed(actual_shape), reversed(expected_shape)):
            if i != 1 and j != 1 and i != j:
                raise ValueError(
                    "Value is not broadcastable with batch_shape+event_shape: "
                    f"{actual_shape} vs {expected_shape}."
                )
        try:
            support = self.support
        except NotImplementedError:
            warnings.warn(
                f"{self.__class__} does not define `support` to enable "
                + "sample validation. Please initialize the distribution with "
                + "`validate_args=False` to turn off validation.",
                stacklevel=3,
            )
            return
        if support is None:
            raise AssertionError("support is unexpectedly None")
        if not _is_all_true(support.check(value)):
            raise ValueError(
                "Expected value argument "
                f"({type(value).__name__} of shape {tuple(value.shape)}) "
                f"to be within the support ({support!r}) "
                f"of the distribution {self!r}, "
                f"but found invalid values:\n{value}"
            )

    def _get_checked_instance(self, cls, _instance=None):
        """The instance ``expand`` fills: ``_instance`` from a subclass's own ``expand``, else a
        bare instance of this class, which only works when the subclass keeps ``cls``'s
        ``__init__``."""
        if _instance is None and type(self).__init__ != cls.__init__:
            raise NotImplementedError(
                f"Subclass {self.__class__.__name__} of {cls.__name__} that defines a custom "
                "__init__ method must also define a custom .expand() method."
            )
        return self.__new__(type(self)) if _instance is None else _instance

    def __repr__(self) -> str:
        # parameters as given (or computed already): a one-element one by its value, any
        # other by its size
        names = [name for name in self.arg_constraints if name in self.__dict__]
        shown = []
        for name in names:
            value = self.__dict__[name]
            shown.append(f"{name}: {value if value.numel() == 1 else value.size()}")
        return self.__class__.__name__ + "(" + ", ".join(shown) + ")"
