"""Reshaping ops (view, reshape, flatten, squeeze, unsqueeze, expand) and single-dimension
views (select, slice, narrow), with the shape helpers that VJPs share.

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).

``expand``, ``sum_to``, ``reshape`` and ``cast`` take a raw array (fast backward) or a Tensor
(recorded backward) and return the same kind, so that a VJP is written once for both. ``run``
does the same for any op: most VJPs of the shape ops are another shape op (the gradient of a
select places the gradient into zeros, whose gradient is a select), run on whatever the engine
hands over.

Forwards return NumPy views where PyTorch returns views (``is_view``: select, slice, expand,
view) and fresh C-contiguous arrays where PyTorch copies, so that ``view`` accepts exactly the
layouts PyTorch accepts. They never write into an input.
"""

from __future__ import annotations

from ..backend import LEGACY_TYPE_NAMES, from_numpy_dtype, xp
from ..batching import writable_for
from ..graph.node import SAVE_NOTHING, Op
from ..size import infer_shape, normalize_dim, normalize_dims, shape_arguments
from ..tensor import Tensor
from .apply import unary
from .declare import declare, explain_nodes
from .explain_rule import INDEXED, Rule, reshape_rule
from .jvp_rules import linear
from .saved_names import SavedNames, dim_as_given, value

_ndarray = xp.ndarray


def run(node, x):
    """Apply op ``node`` (static parameters set) to a Tensor, recorded; or run its forward on a
    raw array: the one way a VJP calls another op. (A Tensor subclass, an nn.Parameter, is a
    Tensor here too.)"""
    if isinstance(x, Tensor):
        return unary(node, x)
    return node.forward(node, x)


# ---------------------------------------------------------------------- reshaping ops
class ViewBackward0(Op):
    """A reshape that needs no copy. Squeeze, unsqueeze and unsafe views are the same op."""

    __slots__ = ("shape", "input_shape")
    save = SAVE_NOTHING
    saved_names = SavedNames(self_sym_sizes=value("input_shape"))
    jvp = staticmethod(linear)
    is_view = True

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return xp.reshape(x, ctx.shape)

    @staticmethod
    def backward(ctx, g):
        return reshape(g, ctx.input_shape)


class UnsafeViewBackward0(ViewBackward0):
    """The view that ``reshape`` takes of its own copy of a tensor that cannot be viewed (not a
    view of the input, as in PyTorch)."""

    __slots__ = ()
    is_view = False


class SqueezeBackward0(ViewBackward0):  # squeeze()
    __slots__ = ()


def _view_dim(node) -> int | tuple:
    """PyTorch's ``dim`` of a squeeze or unsqueeze: as given (``given_dim``); where the view
    was recorded without one (inside matmul), the first axis whose size changed."""
    if getattr(node, "given_dim", None) is not None:
        return dim_as_given(node)
    before, after = node.input_shape, node.shape
    shorter = min(len(before), len(after))
    return next((i for i in range(shorter) if before[i] != after[i]), shorter)


class SqueezeBackward1(ViewBackward0):  # squeeze(dim)
    __slots__ = ("given_dim",)
    saved_names = SavedNames(dim=value(_view_dim), self_sym_sizes=value("input_shape"))


class SqueezeBackward2(ViewBackward0):  # squeeze(dims)
    __slots__ = ("given_dim",)
    saved_names = SavedNames(dim=value(_view_dim), self_sym_sizes=value("input_shape"))


class UnsqueezeBackward0(ViewBackward0):
    __slots__ = ("given_dim",)
    saved_names = SavedNames(dim=value(_view_dim))


class AliasBackward0(Op):
    """``x[...]``: the same values, a new tensor."""

    __slots__ = ()
    save = SAVE_NOTHING
    jvp = staticmethod(linear)
    is_view = True

    @staticmethod
    def forward(ctx, x):
        return x.view() if type(x) is _ndarray else x

    @staticmethod
    def backward(ctx, g):
        return g


class ExpandBackward0(Op):
    __slots__ = ("shape", "input_shape")
    save = SAVE_NOTHING
    saved_names = SavedNames(self_sym_sizes=value("input_shape"))
    jvp = staticmethod(linear)
    is_view = True

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return xp.broadcast_to(x, ctx.shape)

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.input_shape)


class SumToBackward(Op):
    """Sums a broadcast gradient back to an input's shape (the VJP of broadcasting)."""

    __slots__ = ("shape", "input_shape")
    save = SAVE_NOTHING
    jvp = staticmethod(linear)

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return sum_to_array(x, ctx.shape)

    @staticmethod
    def backward(ctx, g):
        return expand(g, ctx.input_shape)


# ---------------------------------------------------------------------- permuting ops
# ---------------------------------------------------------------------- select and slice
class SelectBackward0(Op):
    """``x.select(dim, i)`` / ``x[i]``; ``key`` is the NumPy index ``(:, ..., i, ...)``."""

    __slots__ = ("key", "input_shape")
    save = SAVE_NOTHING
    saved_names = SavedNames(
        dim=value(lambda node: len(node.key) - 2),
        index=value(lambda node: node.key[-2]),
        self_sym_sizes=value("input_shape"),
    )
    jvp = staticmethod(linear)
    is_view = True

    @staticmethod
    def forward(ctx, x):
        ctx.input_shape = x.shape
        return x[ctx.key]

    @staticmethod
    def backward(ctx, g):
        node = SelectBackwardBackward0()
        node.key = ctx.key
        node.shape = ctx.input_shape
        return run(node, g)


class SliceBackward0(SelectBackward0):
    """``x[a:b:c]`` along one dimension, ``narrow``; ``key`` is ``(:, ..., a:b:c)``."""

    __slots__ = ()
    saved_names = SavedNames(
        dim=value(lambda node: len(node.key) - 1),
        start=value(lambda node: node.key[-1].start),
        end=value(lambda node: node.key[-1].stop),
        step=value(lambda node: node.key[-1].step),
        self_sym_sizes=value("input_shape"),
    )

    @staticmethod
    def backward(ctx, g):
        node = SliceBackwardBackward0()
        node.key = ctx.key
        node.shape = ctx.input_shape
        return run(node, g)


class SelectBackwardBackward0(Op):
    """Places a gradient into zeros at ``key``: the VJP of select, itself differentiable."""

    __slots__ = ("key", "shape")
    save = SAVE_NOTHING
    jvp = staticmethod(linear)

    @staticmethod
    def forward(ctx, x):
        out = writable_for(xp.zeros(ctx.shape, dtype=x.dtype), x)  # (vmap: per-sample x)
        out[ctx.key] = x
        return out

    @staticmethod
    def backward(ctx, g):
        node = SelectBackward0()
        node.key = ctx.key
        return run(node, g)


class SliceBackwardBackward0(SelectBackwardBackward0):
    __slots__ = ()

    @staticmethod
    def backward(ctx, g):
        node = SliceBackward0()
        node.key = ctx.key
        return run(node, g)


# ---------------------------------------------------------------------- helpers for VJPs
def reshape(g, shape):
    if type(g) is Tensor:
        if g.shape == shape:
            return g
        node = ViewBackward0()
        node.shape = tuple(shape)
        return unary(node, g)
    return xp.reshape(g, shape)


def expand(g, shape):
    if type(g) is Tensor:
        if g.shape == shape:
            return g
        node = ExpandBackward0()
        node.shape = tuple(shape)
        return unary(node, g)
    return xp.broadcast_to(g, shape)


def sum_to(g, shape):
    """Sum ``g`` over the dimensions that broadcasting added or stretched, down to ``shape``."""
    if type(g) is Tensor:
        if g.shape == shape:
            return g
        node = SumToBackward()
        node.shape = tuple(shape)
        return unary(node, g)
    return sum_to_array(g, shape)


def sum_to_array(g, shape):
    """The array form of ``sum_to``. The result owns its memory (never a view of a temporary),
    so the engine can hand it to a leaf's ``.grad`` without copying it."""
    g_shape = g.shape
    if g_shape == shape:
        return g
    lead = len(g_shape) - len(shape)
    stretched = tuple(
        lead + i for i, size in enumerate(shape) if size == 1 and g_shape[lead + i] != 1
    )
    if not stretched:
        return g.sum(axis=tuple(range(lead))) if lead else g  # (a bias: the rows summed)
    if not lead:
        return g.sum(axis=stretched, keepdims=True)
    if g.dtype.kind != "f" or not shape:
        return g.sum(axis=tuple(range(lead)) + stretched, keepdims=True).reshape(shape)
    # Leading and stretched dimensions at once: reduce straight into the result's memory.
    out = writable_for(xp.empty(shape, dtype=g.dtype), g)  # (vmap: per-sample sums)
    g.sum(axis=tuple(range(lead)) + stretched, keepdims=True, out=out.reshape((1,) * lead + shape))
    return out


def cast(g, np_dtype):
    """Convert a gradient to a NumPy dtype (the VJP of a dtype conversion)."""
    if type(g) is Tensor:
        return g.to(from_numpy_dtype(np_dtype))
    return g.astype(np_dtype)


def select(x, index: int, dim: int = 0):
    """``x.select(dim, index)`` for a valid, non-negative ``dim`` and ``index``; a 0-d result
    stays an array (a view)."""
    node = SelectBackward0()
    node.key = (slice(None),) * dim + (index, Ellipsis)
    return run(node, x)


def slice_dim(x, dim: int, start, stop, step=1):
    """``x`` sliced along a valid, non-negative ``dim``."""
    node = SliceBackward0()
    node.key = (slice(None),) * dim + (slice(start, stop, step),)
    return run(node, x)


def view_op(node_class, input, shape):
    """``input`` reshaped to ``shape`` by an op of ``node_class`` (a ViewBackward0 kind)."""
    node = node_class()
    node.shape = tuple(shape)
    return unary(node, input)


# ---------------------------------------------------------------------- public functions
VIEW_ERROR = (
    "view size is not compatible with input tensor's size and stride (at least one dimension "
    "spans across two contiguous subspaces). Use .reshape(...) instead."
)


def _requested_shape(input, shape: tuple) -> tuple:
    shape = shape_arguments(shape)
    for position, size in enumerate(shape):
        if size < -1:
            raise RuntimeError(
                f"invalid shape dimension {size} at index {position} of shape {list(shape)}"
            )
    numel = input._data.size
    if numel == 0 and -1 in shape and 0 in shape:
        raise RuntimeError(
            f"cannot reshape tensor of 0 elements into shape {list(shape)} because the "
            "unspecified dimension size -1 can be any value and is ambiguous"
        )
    return infer_shape(shape, numel)


def _viewable(data, shape) -> bool:
    if type(data) is not _ndarray or data.flags.c_contiguous:
        return True
    try:
        xp.reshape(data, shape, copy=False)
    except ValueError:
        return False
    return True


def view(input, *shape):
    shape = _requested_shape(input, shape)
    if not _viewable(input._data, shape):
        raise RuntimeError(VIEW_ERROR)
    return view_op(ViewBackward0, input, shape)


def reshape_tensor(input, *shape):
    """``x.reshape(2, 3)`` / ``torch.reshape(x, (2, 3))``: a view, or a view of a copy."""
    shape = _requested_shape(input, shape)
    if _viewable(input._data, shape):
        return view_op(ViewBackward0, input, shape)
    return view_op(UnsafeViewBackward0, input.clone(), shape)


def view_as(input, other):
    return view(input, other._data.shape)


def reshape_as(input, other):
    return reshape_tensor(input, other._data.shape)


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    shape = input._data.shape
    if not shape:
        return reshape_tensor(input, (1,))
    start = normalize_dim(start_dim, len(shape))
    end = normalize_dim(end_dim, len(shape))
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:
        return input
    return reshape_tensor(input, shape[:start] + (-1,) + shape[end + 1 :])


def ravel(input):
    return reshape_tensor(input, (-1,))


def unflatten(input, dim: int, sizes):
    shape = input._data.shape
    dim = normalize_dim(dim, len(shape))
    sizes = shape_arguments((sizes,))
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if sizes.count(-1) > 1:  # (PyTorch's text goes on with its C++ stack)
        raise RuntimeError("unflatten got an unexpected error:\nonly one dimension can be inferred")
    known = 1
    for size in sizes:
        known *= size if size != -1 else 1
    if -1 in sizes and known and shape[dim] % known == 0:
        sizes = tuple(shape[dim] // known if size == -1 else size for size in sizes)
        known = shape[dim]
    if known != shape[dim] or -1 in sizes:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
            f"{dim} ({shape[dim]}) in the input tensor"
        )
    return view_op(ViewBackward0, input, shape[:dim] + sizes + shape[dim + 1 :])


def squeeze(input, dim=None):
    shape = input._data.shape
    if dim is None:
        return view_op(SqueezeBackward0, input, tuple(size for size in shape if size != 1))
    if isinstance(dim, int):
        node_class, dims = SqueezeBackward1, (normalize_dim(dim, len(shape)),)
    else:
        node_class, dims = SqueezeBackward2, normalize_dims(dim, len(shape)) if dim else ()
        dim = tuple(dim)
    kept = tuple(size for i, size in enumerate(shape) if size != 1 or i not in dims)
    return _view_with_dim(node_class, input, kept, dim)


def unsqueeze(input, dim: int):
    shape = input._data.shape
    axis = normalize_dim(dim, len(shape) + 1)
    return _view_with_dim(UnsqueezeBackward0, input, shape[:axis] + (1,) + shape[axis:], dim)


def _view_with_dim(node_class, input, shape: tuple, dim):
    """``view_op`` for a squeeze or unsqueeze, which keeps the dim as given (PyTorch's)."""
    node = node_class()
    node.shape, node.given_dim = shape, dim
    return unary(node, input)


def expanded_shape(input, sizes: tuple) -> tuple:
    """The target of ``input.expand(*sizes)`` (-1 keeps a size), with PyTorch's errors."""
    shape = input._data.shape
    lead = len(sizes) - len(shape)
    if lead < 0:
        type_name = LEGACY_TYPE_NAMES[input.dtype.name]
        raise RuntimeError(
            f"expand(torch.{type_name}{{{list(shape)}}}, size={list(sizes)}): the number of sizes "
            f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in "
            f"the tensor ({len(shape)})"
        )
    target = list(sizes)
    for i in range(len(sizes) - 1, -1, -1):  # PyTorch checks from the last dimension
        size = sizes[i]
        if i < lead:
            if size < 0:
                raise RuntimeError(
                    f"The expanded size of the tensor ({size}) isn't allowed in a leading, "
                    f"non-existing dimension {i}"
                )
            continue
        existing = shape[i - lead]
        if size == -1:
            target[i] = existing
        elif existing != size and existing != 1:
            raise RuntimeError(
                f"The expanded size of the tensor ({size}) must match the existing size "
                f"({existing}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                f"Tensor sizes: {list(shape)}"
            )
    return tuple(target)


def expand_tensor(input, *sizes):
    """``x.expand(2, -1, 3)``: -1 keeps a dimension's size."""
    node = ExpandBackward0()
    node.shape = expanded_shape(input, shape_arguments(sizes))
    return unary(node, input)


def expand_as(input, other):
    return expand_tensor(input, other._data.shape)


def broadcast_to(input, size):
    return expand_tensor(input, size)


def narrow(input, dim: int, start, length: int):
    shape = input._data.shape
    if not shape:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    dim = normalize_dim(dim, len(shape))
    size = shape[dim]
    start = int(start)
    if not -size <= start <= size:
        raise IndexError(
            f"start out of range (expected to be in range of [{-size}, {size}], but got {start})"
        )
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    start %= size if size else 1
    if start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    return slice_dim(input, dim, start, start + length)


def select_tensor(input, dim: int, index):
    shape = input._data.shape
    if not shape:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    dim = normalize_dim(dim, len(shape))
    index = int(index)
    if not -shape[dim] <= index < shape[dim]:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(shape)} at "
            f"dimension {dim}"
        )
    return select(input, index % shape[dim], dim)


# ---------------------------------------------------------------------- explain rules
_VIEW_RULE = reshape_rule("view")
_SQUEEZE_RULE = reshape_rule("squeeze")


def _expand_rule(node) -> Rule:
    shape = tuple(int(size) for size in node.input_shape)
    return Rule(
        "expansion (broadcasting)",
        f"{{x:9}}.expand{tuple(int(size) for size in node.shape)}",
        passes=(f"the gradient, summed back to shape {shape}",),
    )


def _sum_to_rule(node) -> Rule:
    return Rule(
        "sum over the broadcast dimensions (the VJP of broadcasting)",
        f"{{x:9}}.sum_to_size({tuple(node.shape)})",
        passes=(f"the gradient, copied back to shape {tuple(node.input_shape)}",),
    )


DECLARATIONS = (
    declare("view", None, method=view, explain={ViewBackward0: _VIEW_RULE}),
    declare(
        "reshape",
        reshape_tensor,
        # A tensor that cannot be viewed is copied (CloneBackward0), then viewed.
        explain={UnsafeViewBackward0: _VIEW_RULE},
    ),
    declare("view_as", None, method=view_as),
    declare("reshape_as", None, method=reshape_as),
    declare("flatten", flatten),
    declare("ravel", ravel),
    declare("unflatten", unflatten),
    declare(
        "squeeze",
        squeeze,
        explain={
            SqueezeBackward0: _SQUEEZE_RULE,  # squeeze()
            SqueezeBackward1: _SQUEEZE_RULE,  # squeeze(dim)
            SqueezeBackward2: _SQUEEZE_RULE,  # squeeze(dims)
        },
    ),
    declare("unsqueeze", unsqueeze, explain={UnsqueezeBackward0: reshape_rule("unsqueeze")}),
    declare("expand", None, method=expand_tensor, explain={ExpandBackward0: _expand_rule}),
    declare("expand_as", None, method=expand_as),
    declare("broadcast_to", broadcast_to),
    declare(
        "narrow",
        narrow,
        explain={SliceBackward0: Rule("slicing", "{x:9}[…]", passes=INDEXED)},  # and x[a:b]
    ),
    declare(
        "select",
        select_tensor,
        explain={SelectBackward0: Rule("indexing", "{x:9}[…]", passes=INDEXED)},  # and x[i]
    ),
    # Recorded by indexing (x[...]), by the engine (a broadcast gradient summed back, when
    # the backward is recorded) and by the VJPs of select and slice.
    explain_nodes(
        {
            AliasBackward0: Rule("alias", "{x:0}", local=("1",)),
            SumToBackward: _sum_to_rule,
            SelectBackwardBackward0: Rule(
                "the gradient put into zeros at the selected position (the VJP of select)",
                "select_backward({x:0}, …)",
                passes=("the gradient at that position",),
            ),
            SliceBackwardBackward0: Rule(
                "the gradient put into zeros at the sliced positions (the VJP of slicing)",
                "slice_backward({x:0}, …)",
                passes=("the gradient at those positions",),
            ),
        }
    ),
)
