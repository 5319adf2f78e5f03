"""``_standard_gamma``, ``_sample_dirichlet`` and ``binomial``: PyTorch's CPU samplers
(ops/gamma_streams.py), the same values after the same seed.

``_standard_gamma`` is reparameterised: its node ``StandardGammaBackward0`` passes
``g * _standard_gamma_grad(alpha, sample)`` (ops/gamma_gradients.py), whose own derivative
PyTorch does not implement, so a second derivative raises its NotImplementedError.
``_sample_dirichlet`` and ``binomial`` record PyTorch's ``NotImplemented`` node (Dirichlet's
reparameterised gradient is the distribution's ``_Dirichlet`` Function, as in PyTorch).
A call that fails leaves the generator as it was.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..arguments import check_tensor
from ..backend import SCALAR_TYPE_NAMES
from ..graph.grad_mode import MODES, grad_state
from ..graph.node import NO_EDGE, SAVE_BOTH, Op
from ..random_sampling import batched, drawing_from, vmap_operands
from ..tensor import Tensor, wrap
from .apply import raise_if_not_broadcastable, record_node, record_special
from .call_forms import RESIZE_WARNING
from .declare import declare
from .explain_rule import ATOM, Rule
from .gamma_gradients import _standard_gamma_grad, standard_gamma_grad_array
from .gamma_streams import binomial_values, dirichlet_values, standard_gamma_values
from .integer_division import NotImplementedNode
from .sampling import not_implemented, sampled

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _gamma_grad(alpha, sample):
    """dx/dalpha on arrays, or recorded on Tensors (a backward pass with create_graph)."""
    if type(alpha) is Tensor:
        return _standard_gamma_grad(alpha, sample)
    return standard_gamma_grad_array(alpha, sample)


class StandardGammaBackward0(Op):
    """``x = _standard_gamma(alpha)``: dx/dalpha by implicit differentiation of the CDF."""

    __slots__ = ()
    save = SAVE_BOTH

    @staticmethod
    def backward(ctx, g):
        alpha, sample = ctx._saved
        return g * _gamma_grad(alpha, sample)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        raise NotImplementedError(  # PyTorch's derivatives.yaml has no forward formula for it
            "Trying to use forward AD with _standard_gamma that does not support it because it "
            "has not been implemented yet.\nPlease file an issue to PyTorch at "
            "https://github.com/pytorch/pytorch/issues/new?template=feature-request.yml so that "
            "we can prioritize its implementation or submit a PR adding the implementation to "
            "derivatives.yaml"
        )


def _float_parameter(value, function: str, kernel: str) -> np.ndarray:
    check_tensor(value, function)
    if value._data.dtype not in _FLOATS:
        raise not_implemented(kernel, value._data.dtype)
    return value._data


def _standard_gamma(input, generator=None) -> Tensor:
    """Samples of Gamma(input, 1), reparameterised."""
    data = _float_parameter(input, "_standard_gamma", "gamma_cpu")
    level, (alpha,) = vmap_operands("_standard_gamma", (data,))
    with drawing_from(generator) as source:
        values = batched(standard_gamma_values(source, alpha), level)
    node = StandardGammaBackward0()
    if MODES.special:
        return record_special(node, (input,), (data,), values)
    if not grad_state.enabled or input._edge is None:
        return wrap(values, NO_EDGE)
    return wrap(values, record_node(node, (input._edge,), (data, values)))


def _sample_dirichlet(input, generator=None) -> Tensor:
    """Samples of Dirichlet(input) along the last dimension (not differentiable here)."""
    data = _float_parameter(input, "_sample_dirichlet", "dirichlet")
    level, (alpha,) = vmap_operands("_sample_dirichlet", (data,))
    with drawing_from(generator) as source:
        values = batched(dirichlet_values(source, alpha), level)
    node = NotImplementedNode()
    node.aten_name = "_sample_dirichlet"
    return sampled(node, (input,), values)


def binomial(count, prob, generator=None) -> Tensor:
    """Binomial counts of successes in ``count`` trials of probability ``prob``."""
    check_tensor(count, "binomial")
    check_tensor(prob, "binomial")
    for name, value in (("count", count), ("prob", prob)):
        if value._data.dtype not in _FLOATS and value._data.dtype != np.float16:
            raise ValueError(
                f"binomial only supports floating-point dtypes for {name}, got: "
                f"{SCALAR_TYPE_NAMES[value._data.dtype.name]}"
            )
    raise_if_not_broadcastable(count._data, prob._data)
    if prob._data.dtype != count._data.dtype:
        raise RuntimeError(
            f"Found dtype {SCALAR_TYPE_NAMES[prob._data.dtype.name]} but expected "
            f"{SCALAR_TYPE_NAMES[count._data.dtype.name]}"
        )
    if count._data.dtype not in _FLOATS:
        raise not_implemented("binomial_cpu", count._data.dtype)
    level, (counts, probs) = vmap_operands("binomial", (count._data, prob._data))
    shape = np.broadcast_shapes(counts.shape, probs.shape)
    if shape != counts.shape and counts.size:  # ATen's output, made in count's shape, resized
        warnings.warn(
            RESIZE_WARNING.format(old=list(counts.shape), new=list(shape)), UserWarning, 2
        )
    counts, probs = np.broadcast_arrays(counts, probs)
    with drawing_from(generator) as source:
        values = batched(binomial_values(source, counts, probs), level)
    node = NotImplementedNode()
    node.aten_name = "binomial"
    return sampled(node, (count, prob), values)


DECLARATIONS = (
    declare(
        "_standard_gamma",
        _standard_gamma,
        method=None,
        explain={
            StandardGammaBackward0: Rule(
                "a Gamma(x, 1) sample, reparameterised",
                "gamma({x:0})",
                ATOM,
                ("_standard_gamma_grad({x:0}, out)",),
            )
        },
    ),
    declare("_sample_dirichlet", _sample_dirichlet, method=None),
    declare("binomial", binomial, method=None),
)
