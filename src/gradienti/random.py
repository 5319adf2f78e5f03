"""Random numbers: one generator for the library, seeded by ``manual_seed``."""

from __future__ import annotations

from .backend import int64, to_numpy_dtype, xp
from .creation import _finish, _float_or, _size_arguments


class Generator:
    """A source of random numbers (PyTorch's ``torch.Generator``), backed by NumPy's PCG64."""

    def __init__(self, device="cpu") -> None:
        self._seed = 67280421310721
        self._bits = xp.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self._bits = xp.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        return self._seed

    def seed(self) -> int:
        fresh = int(xp.random.SeedSequence().entropy % (2**63))
        self.manual_seed(fresh)
        return fresh


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator, so that later random tensors repeat."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def _source(generator):
    return (generator or default_generator)._bits


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> object:
    """Uniform values in [0, 1)."""
    np_dtype = _float_or(dtype)
    values = _source(generator).random(_size_arguments(size)).astype(np_dtype)
    return _finish(values, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> object:
    """Standard normal values."""
    np_dtype = _float_or(dtype)
    values = _source(generator).standard_normal(_size_arguments(size)).astype(np_dtype)
    return _finish(values, requires_grad)


def randint(
    low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False
) -> object:
    """Integers in [low, high); ``randint(high, size)`` starts at 0."""
    if size is None:
        if high is None or not isinstance(high, (tuple, list)):
            raise TypeError("randint() missing required argument 'size'")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    np_dtype = int64.np if dtype is None else to_numpy_dtype(dtype)
    values = _source(generator).integers(low, high, size=_size_arguments((size,)))
    return _finish(values.astype(np_dtype), requires_grad)


def uniform_values(shape, low, high, np_dtype, generator=None):
    """Uniform values in [low, high) for ``Tensor.uniform_``."""
    return (_source(generator).random(shape) * (high - low) + low).astype(np_dtype)


def normal_values(shape, mean, std, np_dtype, generator=None):
    """Normal values for ``Tensor.normal_``."""
    return (_source(generator).standard_normal(shape) * std + mean).astype(np_dtype)
