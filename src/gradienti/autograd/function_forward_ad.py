"""Forward-mode AD through a custom ``Function``: its ``jvp`` staticmethod gives the tangents.

Under a dual level (autograd/forward_ad.py), ``Function.apply`` runs ``forward`` with forward
AD off (its ops compute no tangents, as in PyTorch), then, when some tensor input has a
tangent, calls ``cls.jvp(ctx, *tangents)`` once, before ``apply`` returns, and gives each output
the tangent returned for it. Everything below follows torch/csrc/autograd/custom_function.cpp
(``_process_forward_mode_AD``) and python_function.cpp, with their checks and messages:

- ``jvp`` gets one value per forward argument: the input's tangent, or zeros for a tensor input
  without one (None when ``ctx.set_materialize_grads(False)``, and for an input of a
  non-differentiable dtype), None for a non-tensor. It runs with forward AD off and grad mode as
  at the call, so its result can be backpropagated (reverse over forward); ``ctx.saved_tensors``
  inside it are the tensors given to ``ctx.save_for_forward``.
- It returns one tangent (or None) per output: an output marked non-differentiable, or of an
  integral dtype, must get None. An output that ``forward`` modified in place
  (``ctx.mark_dirty``) keeps its input's tangent object, which ``jvp`` must have modified in
  place and returned as is; an output that is an input or a view of one must get a view of
  that input's tangent. A differentiable output must get a tangent: PyTorch 2.13 fails on None
  there (with an internal assert, whose last sentence is the message here), contrary to its
  docs.
"""

from __future__ import annotations

from ..backend import xp
from ..graph import versions
from ..graph.dual import FORWARD, set_tangent, suspended, tangent_of
from ..graph.node import NO_EDGE
from ..tensor import Tensor, wrap

_FLOATING_KINDS = frozenset("fc")  # NumPy's kinds of floating point and complex dtypes


def compute_output_tangents(ctx, function, args: tuple, items: tuple, dirty: list):
    """The tangent of each output (None where it has none), or None when no input has a
    tangent (then ``jvp`` is not called, as in PyTorch). Checked, not yet set: ``set_tangents``
    gives them to the outputs ``apply`` returns."""
    input_tangents = [tangent_of(arg) if isinstance(arg, Tensor) else None for arg in args]
    if all(tangent is None for tangent in input_tangents):
        return None
    grad_inputs = [
        _jvp_argument(arg, tangent, ctx.materialize_grads)
        for arg, tangent in zip(args, input_tangents)
    ]
    tangent_versions = [
        None if tangent is None else versions.version(tangent._data) for tangent in input_tangents
    ]
    ctx._in_jvp = True
    try:
        with suspended():
            returned = function.jvp(ctx, *grad_inputs)
    finally:
        ctx._in_jvp = False
    if not isinstance(returned, tuple):
        returned = (returned,)
    for position, tangent in enumerate(returned):
        if tangent is not None and not isinstance(tangent, Tensor):
            raise RuntimeError(
                f"expected Variable or None (got {type(tangent).__name__}) for grad output "
                f"{position}."
            )
    if len(returned) != len(items):
        raise RuntimeError(
            "Function's jvp returned an invalid number of forward gradients (expected "
            f"{len(items)} but got {len(returned)})"
        )
    non_differentiable = ctx._non_differentiable
    tangents = []
    for position, (item, tangent) in enumerate(zip(items, returned)):
        if not isinstance(item, Tensor):
            tangents.append(None)  # a non-tensor output: whatever jvp gave is dropped
            continue
        if _is_marked(item, non_differentiable) or item._data.dtype.kind not in _FLOATING_KINDS:
            if tangent is not None:
                raise RuntimeError(
                    f"Function's jvp returned a gradient at position {position}, but  the "
                    "corresponding forward output is not a differentiable Tensor.You should "
                    "return None at that position instead."
                )
            tangents.append(None)
            continue
        if _is_marked(item, dirty):
            tangents.append(_dirty_tangent(item, tangent, args, input_tangents, tangent_versions))
            continue
        _check_view_tangent(item, tangent, args, input_tangents)
        tangents.append(_checked_tangent(item, tangent))
    return tangents


def set_tangents(results, tangents: list) -> None:
    """Give the outputs ``apply`` returns the tangents ``compute_output_tangents`` checked."""
    for result, tangent in zip(results, tangents):
        if isinstance(result, Tensor):
            set_tangent(result, tangent)


def _jvp_argument(arg, tangent, materialize: bool):
    """What ``jvp`` receives for one forward argument (see the module docstring)."""
    if not isinstance(arg, Tensor) or tangent is not None:
        return tangent
    data = arg._data
    if not materialize or data.dtype.kind not in _FLOATING_KINDS:
        return None
    zeros = data.dtype.type(0) if type(data) is not xp.ndarray else xp.zeros_like(data)
    return wrap(zeros, NO_EDGE)


def _is_marked(tensor, marked) -> bool:
    return any(tensor is other for other in marked)


def _dirty_tangent(item, tangent, args: tuple, input_tangents: list, tangent_versions: list):
    """An input modified in place keeps its tangent object, modified in place by ``jvp``."""
    position = next((i for i, arg in enumerate(args) if arg is item), None)
    if position is None:
        raise RuntimeError(
            "Only input Tensors should be given to ctx.mark_dirty(). If a Tensor is not an "
            "input, there is no need to pass it to mark_dirty()."
        )
    before = input_tangents[position]
    if before is None:  # the input had no tangent: it gets the one jvp returned
        return _checked_tangent(item, tangent)
    if tangent is None or versions.version(tangent._data) == tangent_versions[position]:
        raise RuntimeError(
            "An inplace custom Function is not modifying the forward mode gradients inplace. If "
            "the forward is modifying an input inplace, then the jvp function must modify the "
            "corresponding gradient inplace."
        )
    if tangent is not before:
        raise RuntimeError(
            "An inplace custom Function is not returning the forward mode gradients as-is. If "
            "the forward is modifying an input inplace, then the jvp function must modify the "
            "gradient inplace and return it as-is."
        )
    return tangent


def _check_view_tangent(item, tangent, args: tuple, input_tangents: list) -> None:
    """An output that is an input, or a view of one, whose tangent is known: ``jvp`` must
    return a view of that tangent (PyTorch's forward-AD view tracking)."""
    for arg, before in zip(args, input_tangents):
        if before is None or not _same_memory(item._data, arg._data):
            continue
        if tangent is None or tangent is before or not _is_view(tangent._data):
            raise RuntimeError(
                "A custom Function's forward is returning a view (or an input as-is) but the "
                "jvp is not returning a view."
            )
        if not _same_memory(tangent._data, before._data):
            raise RuntimeError(
                "A custom Function is returning a view but the jvp is not returning a view of "
                "the given grad input."
            )
        return


def _same_memory(a, b) -> bool:
    if a is b:
        return True
    # NumPy scalars (0-d results) own their value; arrays that overlap share a base
    return type(a) is xp.ndarray and type(b) is xp.ndarray and xp.may_share_memory(a, b)


def _is_view(data) -> bool:
    return type(data) is xp.ndarray and data.base is not None


def _checked_tangent(item, tangent):
    """PyTorch's checks when a tangent is set on an output (``_set_fw_grad``). None for a
    differentiable output fails there too (an internal assert whose last sentence is kept)."""
    if tangent is not None and tangent_of(tangent) is not None:
        raise RuntimeError(
            "Setting a forward grad that itself has a forward gradient at the same level"
            f"{FORWARD.level} is not supported."
        )
    if tangent is None or tangent._data.dtype.kind not in _FLOATING_KINDS:
        raise RuntimeError(
            "Expected both tensor and its forward grad to be floating point or complex"
        )
    if tangent._data.shape != item._data.shape:
        raise RuntimeError(
            "Trying to set a forward gradient that has a different size than that of the "
            "original Tensor, this is not supported. Tensor is of size "
            f"{list(item._data.shape)} while the given forward gradient is of size "
            f"{list(tangent._data.shape)}."
        )
    return tangent
