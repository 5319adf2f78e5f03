"""NumPy ufuncs applied to Tensors run the differentiable ops.

VJPs call ``xp.cos(x)``, ``xp.where(...)`` and operators on whatever they are given; during a
recorded backward (``create_graph=True``) those are Tensors, and this table sends each ufunc
to the op that records it. A ufunc without an op here is refused rather than silently
computed off the graph.
"""

from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor


def _binary_method(name):
    def call(a, b):
        if not isinstance(a, Tensor):
            return getattr(b, f"__r{name}__")(a)
        return getattr(a, f"__{name}__")(b)

    return call


_UFUNCS = {
    xp.add: _binary_method("add"),
    xp.subtract: _binary_method("sub"),
    xp.multiply: _binary_method("mul"),
    xp.true_divide: _binary_method("truediv"),
    xp.power: _binary_method("pow"),
    xp.negative: lambda x: -x,
    xp.exp: lambda x: x.exp(),
    xp.log: lambda x: x.log(),
    xp.sqrt: lambda x: x.sqrt(),
    xp.sin: lambda x: x.sin(),
    xp.cos: lambda x: x.cos(),
    xp.tanh: lambda x: x.tanh(),
    xp.absolute: lambda x: x.abs(),
    xp.sign: lambda x: x.sign(),
    xp.equal: lambda a, b: _as_tensor(a) == b,
    xp.not_equal: lambda a, b: _as_tensor(a) != b,
    xp.less: lambda a, b: _as_tensor(a) < b,
    xp.less_equal: lambda a, b: _as_tensor(a) <= b,
    xp.greater: lambda a, b: _as_tensor(a) > b,
    xp.greater_equal: lambda a, b: _as_tensor(a) >= b,
    xp.bitwise_and: lambda a, b: _as_tensor(a) & b,
    xp.bitwise_or: lambda a, b: _as_tensor(a) | b,
}


def _as_tensor(value):
    from ..creation import as_tensor

    return value if isinstance(value, Tensor) else as_tensor(xp.asarray(value))


def array_ufunc(ufunc, method: str, inputs: tuple, kwargs: dict):
    handler = _UFUNCS.get(ufunc)
    if handler is None:
        handler = _OP_UFUNCS.get(ufunc)
    if method != "__call__" or kwargs or handler is None:
        return NotImplemented
    return handler(*inputs)


from .api import UFUNCS as _OP_UFUNCS  # noqa: E402  (the op modules' ufunc table)
