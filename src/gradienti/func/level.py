"""What one reverse-mode transform (``grad``, ``vjp``, ``jacrev``...) of ``gradienti.func`` does
to its inputs and outputs, so that transforms nest as PyTorch's do.

PyTorch's functorch wraps each input in a tensor of a new *level* and unwraps the outputs when
the transform returns. gradienti has one graph, and gets the same results from it:

- Each differentiated input becomes a tensor of its own in that graph (``differentiable``): a
  fresh leaf when the input does not require grad, and otherwise a view of it (an alias), so
  that an enclosing transform still differentiates through it and ``grad`` of ``x * y`` with
  respect to ``y`` is ``x`` even when ``y`` is ``x`` (no perturbation confusion).
- The gradients are computed with ``create_graph=True`` only when the outputs depend on
  something outside the transform that requires grad (an enclosing transform's input, a
  captured parameter, an input that requires grad) and grad mode was on at the call: then
  they stay differentiable with respect to it. Otherwise they are plain tensors, as PyTorch's
  ``grad(f)(x)`` for an ``x`` that does not require grad.
- An output that depends on nothing outside is handed back detached (``unwrap``).

Forward-mode tangents (an enclosing ``jvp``'s dual level) are carried across both: the new
input keeps its input's tangent and a detached output keeps its own.
"""

from __future__ import annotations

from ..graph import dual
from ..graph.grad_mode import is_grad_enabled
from ..graph.node import NO_EDGE, AccumulateGrad
from ..tensor import Tensor, wrap
from ..utils._pytree import tree_flatten, tree_map


class Level:
    """The inputs that one transform made differentiable; see the module docstring."""

    __slots__ = ("_own_leaves", "_aliases", "grad_was_enabled")

    def __init__(self) -> None:
        self._own_leaves: set = set()  # ids of the AccumulateGrad nodes of fresh leaves
        self._aliases: set = set()  # ids of the view nodes of inputs that require grad
        self.grad_was_enabled = is_grad_enabled()

    def differentiable(self, value):
        """The input as this transform differentiates it (PyTorch's error for a non-Tensor)."""
        if not isinstance(value, Tensor):
            raise ValueError(f"Thing passed to transform API must be Tensor, got {type(value)}")
        tangent = dual.tangent_of(value)
        if value._edge is None:
            # The same data (an array, a NumPy scalar or a vmap's BatchedArray), a new leaf.
            inner = wrap(value._data, NO_EDGE).requires_grad_()
            self._own_leaves.add(id(inner._edge))
        else:
            with dual.suspended():  # the alias takes the tangent below, as it is
                inner = value.view_as(value)
            self._aliases.add(id(inner._edge))
        if tangent is not None:
            dual.set_tangent(inner, tangent)
        return inner

    def differentiable_tree(self, tree):
        return tree_map(self.differentiable, tree)

    def needs_graph(self, tensors) -> bool:
        """Whether gradients of ``tensors`` must be recorded: grad mode was on at the call and
        they depend on something outside this transform that requires grad."""
        return self.grad_was_enabled and self.reaches_outside(tensors)

    def reaches_outside(self, tensors) -> bool:
        """Whether the graph below ``tensors`` reaches a tensor that requires grad and is not
        one of this transform's fresh leaves (one of its aliases leads outside at once)."""
        stack = [t._edge for t in tensors if isinstance(t, Tensor) and t._edge is not None]
        seen: set = set()
        own, aliases = self._own_leaves, self._aliases
        while stack:
            edge = stack.pop()
            node = edge[0] if type(edge) is tuple else edge
            key = id(node)
            if key in seen:
                continue
            seen.add(key)
            if key in aliases:
                return True
            if isinstance(node, AccumulateGrad):
                if key not in own:
                    return True
                continue
            stack.extend(e for e in node._next if e is not None)
        return False

    def unwrap(self, value):
        """An output as the caller of the transform sees it: detached unless it depends on
        something outside (then differentiable with respect to that)."""
        if not isinstance(value, Tensor) or value._edge is None:
            return value
        if self.grad_was_enabled and self.reaches_outside((value,)):
            return value
        return detached(value)

    def unwrap_tree(self, tree):
        return tree_map(self.unwrap, tree)


def detached(tensor: Tensor) -> Tensor:
    """``tensor.detach()`` that keeps its forward-AD tangent (the tangent belongs to an
    enclosing ``jvp``, not to the graph being cut)."""
    result = wrap(tensor._data, NO_EDGE)  # (as detach(); a vmap's BatchedArray stays one)
    tangent = dual.tangent_of(tensor)
    if tangent is not None:
        dual.set_tangent(result, tangent)
    return result


def flat_tensors(tree) -> list:
    return [leaf for leaf in tree_flatten(tree)[0] if isinstance(leaf, Tensor)]


# ---------------------------------------------------------------------- argnums
def _validate_and_wrap_argnum(argnum, num_args: int) -> int:
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if 0 <= argnum < num_args:
        return argnum
    if -num_args <= argnum < 0:
        return argnum + num_args
    raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")


def _check_argnums_type(argnums) -> None:
    if not isinstance(argnums, (int, tuple)):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")


def wrap_argnums(argnums, num_args: int):
    """``argnums`` checked and made non-negative, with PyTorch's errors."""
    _check_argnums_type(argnums)
    if isinstance(argnums, int):
        return _validate_and_wrap_argnum(argnums, num_args)
    wrapped = tuple(_validate_and_wrap_argnum(argnum, num_args) for argnum in argnums)
    if len(wrapped) == 0:
        raise RuntimeError("argnums must be non-empty")
    if len(set(wrapped)) != len(wrapped):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return wrapped


def slice_argnums(args: tuple, argnums, as_tuple: bool = True):
    """The arguments that ``argnums`` picks: one (as a 1-tuple when ``as_tuple``) or a tuple."""
    argnums = wrap_argnums(argnums, len(args))
    if isinstance(argnums, int):
        return (args[argnums],) if as_tuple else args[argnums]
    return tuple(args[i] for i in argnums)


def replace_args(args: tuple, new_args: tuple, argnums) -> tuple:
    """``args`` with the ones at ``argnums`` replaced by ``new_args`` (in argnums' order)."""
    argnums = wrap_argnums(argnums, len(args))
    if isinstance(argnums, int):
        return tuple(new_args[0] if i == argnums else arg for i, arg in enumerate(args))
    return tuple(new_args[argnums.index(i)] if i in argnums else arg for i, arg in enumerate(args))
