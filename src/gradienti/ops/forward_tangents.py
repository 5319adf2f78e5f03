"""How an op's forward-mode derivative is called: ``forward_tangents`` runs the op's JVP rule
(``Op.jvp``, see graph/node.py; the shared rules are in ops/jvp_rules.py) for
``apply.record_special`` once the op has run under a dual level with a tangent among its
inputs, and gives the output(s) their tangent in the output's shape, dtype and memory.
"""

from __future__ import annotations

from .. import creation
from ..backend import from_numpy_dtype, xp
from ..graph.dual import set_tangent, suspended
from ..tensor import Tensor

_ndarray = xp.ndarray


def forward_tangents(node, inputs: tuple, arrays: tuple, results, tangents: tuple) -> None:
    """Give the op's output(s) their tangent: ``node.jvp(node, primals, results, tangents)``.

    An op without a rule (``Op.jvp`` None) raises PyTorch's NotImplementedError. The rule sees
    the inputs as Tensors of the dtype the op computed in (an input that was
    promoted is cast, recorded, so that reverse mode through the tangent still reaches it),
    each tangent in its primal's dtype or None (zero), and the output Tensor(s); it returns the
    output's tangent (a tuple, None for none, for a multi-output op), computed with ordinary
    ops while the level is suspended, so that the tangent is itself differentiable (reverse
    over forward). A tangent that broadcasting left smaller is expanded to the output's shape.
    """
    if node.jvp is None:
        raise NotImplementedError(
            f"Trying to use forward AD with {_forward_name(node)} that does not support it "
            "because it has not been implemented yet."
        )
    with suspended():
        primals = tuple(_rule_primal(value, array) for value, array in zip(inputs, arrays))
        tangents = tuple(
            tangent
            if tangent is None or tangent._data.dtype == primal._data.dtype
            else tangent.to(primal.dtype)
            for tangent, primal in zip(tangents, primals)
        )
        computed = node.jvp(node, primals, results, tangents)
        if type(results) is tuple:
            computed = tuple(
                None if tangent is None else _conform_tangent(tangent, result)
                for result, tangent in zip(results, computed)
            )
        elif computed is not None:
            computed = _conform_tangent(computed, results)
            if not node.is_view:
                computed = _own_memory(computed, tangents)
    # (set once the level is back: a tangent carries the level's token)
    if type(results) is tuple:
        for result, tangent in zip(results, computed):
            set_tangent(result, tangent)
    else:
        set_tangent(results, computed)


def _forward_name(node) -> str:
    """The op's name in PyTorch's forward-AD error (``MulBackward0`` -> ``mul``)."""
    name = node.name()
    return name[: name.index("Backward")].lower() if "Backward" in name else name


def _rule_primal(value, array):
    """An input as a JVP rule sees it: the Tensor itself, or cast to the dtype the op used."""
    if not isinstance(value, Tensor) or value._data is array:
        return value
    if value._data.dtype == array.dtype:
        return value
    return value.to(from_numpy_dtype(array.dtype))


def _own_memory(tangent, input_tangents: tuple):
    """The tangent of a non-view op's output in memory of its own, as PyTorch's: an in-place
    op on the output writes into its tangent (ops/inplace.py), which must not change an input's
    tangent. A rule may return an input's tangent itself (``x + 1``) or a broadcast of it."""
    data = tangent._data
    if type(data) is not _ndarray:
        return tangent  # a NumPy scalar: immutable
    if data.flags.writeable and not any(
        other is not None and xp.may_share_memory(data, other._data) for other in input_tangents
    ):
        return tangent
    return tangent.clone()


def _conform_tangent(tangent, result):
    """A rule's tangent in the output's shape and dtype (broadcast, cast)."""
    if not isinstance(tangent, Tensor):
        tangent = creation.tensor(tangent, dtype=result.dtype)
    if tangent._data.shape != result._data.shape:
        tangent = tangent.expand(result.shape)
    if tangent._data.dtype != result._data.dtype:
        tangent = tangent.to(result.dtype)
    return tangent
