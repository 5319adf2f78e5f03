"""In-place changes of shape (``x.unsqueeze_(0)``, ``x.squeeze_()``, ``x.t_()``,
``x.transpose_(0, 1)``, ``swapaxes_``, ``swapdims_``): the tensor takes the view's shape over the
same memory (a view taken before still sees the values), counts a version, and on a tensor
that requires grad records PyTorch's in-place node (``UnsqueezeBackward1``,
``SqueezeBackward3/4/5``, ``TBackward1``, ``TransposeBackward1``). The result of an in-place op
is not a view, so these nodes are not views either.
"""

from __future__ import annotations

from ..arguments import check_int, is_index, type_name
from ..backend import xp
from ..graph import versions
from ..graph.dual import FORWARD, set_tangent, tangent_of
from ..graph.grad_mode import MODES, grad_state, no_grad
from ..graph.node import edge_parts
from .apply import unary
from .declare import declare, explain_nodes
from .explain_rule import reshape_rule
from .inplace import _refuse_in_place_on_leaf_or_view
from .linalg import SqueezeBackward4
from .quantile import TransposeBackward1, UnsqueezeBackward1
from .rearrange import TBackward0
from .saved_names import SavedNames, value
from .shape import ViewBackward0

_ndarray = xp.ndarray


class SqueezeBackward3(ViewBackward0):
    """``squeeze_()``."""

    __slots__ = ()
    is_view = False


class SqueezeBackward5(ViewBackward0):
    """``squeeze_(dims)``."""

    __slots__ = ("given_dim",)
    saved_names = SavedNames(dim=value("given_dim"), self_sym_sizes=value("input_shape"))
    is_view = False


class TBackward1(TBackward0):
    """``t_()``."""

    __slots__ = ()
    is_view = False


def _refuse_leaf(tensor) -> None:
    """PyTorch refuses a leaf that requires grad before it looks at the arguments."""
    node, output_nr = edge_parts(tensor._edge)
    if grad_state.enabled and node is not None:
        _refuse_in_place_on_leaf_or_view(node, output_nr)


def _take_shape(tensor, result):
    """``tensor`` becomes ``result`` (a view of its memory, recorded with the in-place node)."""
    tensor._data = result._data
    if result._edge is not None:
        # Not recorded (no_grad, or nothing requires grad): a leaf stays a leaf that requires
        # grad and a non-leaf keeps its node, as in PyTorch.
        tensor._edge = result._edge
    if MODES.special and FORWARD.token is not None:
        # The tangent takes the same shape (the op's jvp computed it), as PyTorch's view of it.
        new_tangent = tangent_of(result)
        if new_tangent is not None:
            set_tangent(tensor, new_tangent)
    if type(tensor._data) is _ndarray:
        versions.bump(tensor._data)
    return tensor


def _view_node(node_class, shape, **parameters):
    node = node_class()
    node.shape = tuple(shape)
    for name, setting in parameters.items():
        setattr(node, name, setting)
    return node


def _squeeze_invalid_dim(dim) -> TypeError:
    """PyTorch's parser's error for a dim that is neither an int nor a sequence (a bool is not
    an int: ``squeeze_(False)`` would squeeze dim 0)."""
    given = type_name(dim)
    why = f"      didn't match because some of the arguments have invalid types: (!{given}!)\n"
    forms = "".join(f" * {form}\n{why}" for form in ("()", "(int dim)", "(tuple of ints dim)"))
    return TypeError(
        f"squeeze_() received an invalid combination of arguments - got ({given}), but "
        f"expected one of:\n{forms}"
    )


def squeeze_(input, dim=None):
    if dim is not None and not isinstance(dim, (tuple, list)) and not is_index(dim):
        raise _squeeze_invalid_dim(dim)
    _refuse_leaf(input)
    with no_grad():  # (the out-of-place op checks the arguments and gives the shape)
        shape = input.squeeze(dim)._data.shape if dim is not None else input.squeeze()._data.shape
    if dim is None:
        node = _view_node(SqueezeBackward3, shape)
    elif isinstance(dim, int):
        node = _view_node(SqueezeBackward4, shape)
    else:
        node = _view_node(SqueezeBackward5, shape, given_dim=tuple(dim))
    return _take_shape(input, unary(node, input))


def unsqueeze_(input, dim):
    dim = check_int(dim, "unsqueeze_", "dim", 1)  # (PyTorch's parser: before the leaf check)
    _refuse_leaf(input)
    with no_grad():
        shape = input.unsqueeze(dim)._data.shape
    return _take_shape(input, unary(_view_node(UnsqueezeBackward1, shape, given_dim=dim), input))


def _transpose_in_place(name: str, first: str, second: str):
    """``transpose_`` and its aliases, whose arguments PyTorch names differently."""

    def method(input, *args, **kwargs):
        given = dict(zip((first, second), args, strict=False)) | kwargs
        if set(given) != {first, second} or len(args) + len(kwargs) != 2:
            raise TypeError(f"{name}() takes the arguments ({first}, {second})")
        dim0 = check_int(given[first], name, first, 1)
        dim1 = check_int(given[second], name, second, 2)
        return transpose_(input, dim0, dim1)

    method.__name__ = method.__qualname__ = name
    return method


def transpose_(input, dim0, dim1):
    _refuse_leaf(input)
    with no_grad():
        input.transpose(dim0, dim1)  # (PyTorch's errors for a dim out of range)
    node = TransposeBackward1()
    node.dim0, node.dim1 = dim0, dim1
    return _take_shape(input, unary(node, input))


def t_(input):
    _refuse_leaf(input)
    ndim = input._data.ndim
    if ndim > 2:
        raise RuntimeError(f"t_() expects a tensor with <= 2 dimensions, but self is {ndim}D")
    return _take_shape(input, unary(TBackward1(), input))


DECLARATIONS = (
    declare("squeeze_", None, method=squeeze_),
    declare("unsqueeze_", None, method=unsqueeze_),
    declare("transpose_", None, method=_transpose_in_place("transpose_", "dim0", "dim1")),
    declare("swapdims_", None, method=_transpose_in_place("swapdims_", "dim0", "dim1")),
    declare("swapaxes_", None, method=_transpose_in_place("swapaxes_", "axis0", "axis1")),
    declare("t_", None, method=t_),
    explain_nodes(
        {
            SqueezeBackward3: reshape_rule("squeeze_"),
            SqueezeBackward5: reshape_rule("squeeze_"),
            TBackward1: reshape_rule("t_"),
        }
    ),
)
