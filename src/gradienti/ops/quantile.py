"""``quantile`` and ``nanquantile``: PyTorch's composition (ATen's ``quantile_impl``), op for
op, so the values, the recorded nodes and the gradients are PyTorch's.

The input is sorted along the reduced dimension (moved last), ``q`` (a number or a 1-D
tensor) becomes a fractional rank ``q·(n - 1)`` (n: the row's length, or its count of
non-NaN values for nanquantile; a row with NaN gets the last rank under quantile, so its
quantile is NaN), adjusted for the ``interpolation`` mode, and the result is
``lerp(sorted[floor(rank)], sorted[ceil(rank)], weight)`` with ``weight = rank - floor(rank)``
(0.5 for ``midpoint``; ``lower``, ``higher`` and ``nearest`` gather one value). The gradient
goes to the (one or two) input elements the quantile was read from, and to ``q`` through the
weight, as in PyTorch. The last steps are PyTorch's in-place ``squeeze_``, ``unsqueeze_`` and
``transpose_``, whose nodes (``SqueezeBackward4``, ``UnsqueezeBackward1``,
``TransposeBackward1``) are recorded here by name.
"""

from __future__ import annotations

from ..arguments import is_index, is_number
from ..backend import int64
from ..batching import all_samples
from ..creation import full_like, tensor
from ..python_types import type_name
from ..size import normalize_dim
from ..tensor import Tensor
from .apply import unary
from .broadcasting import broadcast_tensors
from .composite_nodes import mul_scalar
from .declare import declare, explain_nodes
from .explain_rule import reshape_rule
from .lerp import lerp
from .linalg import SqueezeBackward4
from .rearrange import TransposeBackward0
from .saved_names import SavedNames, value
from .scatter import gather, masked_fill
from .shape import ViewBackward0
from .sorting import sort

MODES = ("linear", "lower", "higher", "midpoint", "nearest")


class UnsqueezeBackward1(ViewBackward0):
    """``unsqueeze_(dim)``, in place on a fresh result."""

    __slots__ = ("given_dim",)
    saved_names = SavedNames(dim=value("given_dim"))
    is_view = False  # (an in-place op's result is not a view)


class TransposeBackward1(TransposeBackward0):
    """``transpose_(dim0, dim1)``, in place on a fresh result."""

    __slots__ = ()
    is_view = False


def _view(node_class, x: Tensor, shape: tuple) -> Tensor:
    node = node_class()
    node.shape = shape
    return unary(node, x)


def _transposed_in_place(x: Tensor, dim0: int, dim1: int) -> Tensor:
    node = TransposeBackward1()
    node.dim0, node.dim1 = dim0, dim1
    return unary(node, x)


def _invalid_arguments(name: str, q, dim, keepdim, interpolation, method: bool) -> TypeError:
    """PyTorch's argument parser's error for a q that is neither a Tensor nor a number, a dim
    that is not an int, a keepdim that is not a bool or an interpolation that is not a str (the
    arguments listed as given positionally, defaults left out)."""
    got = [] if method else ["Tensor"]
    got.append(type_name(q))
    if dim is not None:
        got.append(type_name(dim))
    if keepdim is not False:
        got.append(type_name(keepdim))
    if interpolation != "linear":
        got.append(f"interpolation={type_name(interpolation)}")
    head, out = ("", "") if method else ("Tensor input, ", ", Tensor out = None")
    forms = "".join(
        f" * ({head}{kind} q, int dim = None, bool keepdim = False, *, "
        f'str interpolation = "linear"{out})\n'
        for kind in ("Tensor", "float")
    )
    return TypeError(
        f"{name}() received an invalid combination of arguments - got ({', '.join(got)}), but "
        f"expected one of:\n{forms}"
    )


def _as_q_tensor(q, input: Tensor) -> Tensor:
    if isinstance(q, Tensor):
        return q
    if not q >= 0 or not q <= 1:  # (NaN is out of range too)
        raise RuntimeError(f"quantile() q must be in the range [0, 1] but got {q:g}")
    return tensor(q, dtype=input.dtype if input._data.dtype.kind == "f" else None)


def _check(input: Tensor, q: Tensor, interpolation: str) -> None:
    """PyTorch's checks, in its order."""
    if not input._data.size:
        raise RuntimeError("quantile() input tensor must be non-empty")
    if q._data.ndim > 1:
        raise RuntimeError("quantile() q must be a scalar or 1D tensor")
    if input._data.dtype.kind != "f" or input._data.dtype.itemsize < 4:
        raise RuntimeError("quantile() input tensor must be either float or double dtype")
    if q._data.dtype != input._data.dtype:
        raise RuntimeError("quantile() q tensor must be same dtype as the input tensor")
    if interpolation not in MODES:
        raise RuntimeError(
            "quantile() interpolation must be one of linear, lower, higher, midpoint or "
            f"nearest, but got {interpolation}"
        )


def _quantile(input, q, dim, keepdim, interpolation, ignore_nan, method=False):
    if (
        not (isinstance(q, Tensor) or is_number(q))
        or not isinstance(interpolation, str)
        or not (dim is None or is_index(dim))  # (dim=True was read as dim 1)
        or not isinstance(keepdim, bool)
    ):
        name = "nanquantile" if ignore_nan else "quantile"
        raise _invalid_arguments(name, q, dim, keepdim, interpolation, method)
    q = _as_q_tensor(q, input)
    _check(input, q, interpolation)
    shape = tuple(input._data.shape)
    ndim = len(shape)
    if dim is not None:
        wrapped = normalize_dim(dim, max(ndim, 1))
    q_data = q._data
    every_q = all_samples(q_data)  # (under vmap: every sample's q)
    if not ((every_q >= 0) & (every_q <= 1)).all():
        raise RuntimeError("quantile() q values must be in the range [0, 1]")

    # The output's shape: the reduced shape, after q's length when q is 1-D.
    if dim is not None and ndim > 0:
        out_shape = list(shape)
        if keepdim:
            out_shape[wrapped] = 1
        else:
            del out_shape[wrapped]
    else:
        out_shape = [1] * ndim if keepdim else []
    out_shape.insert(0, q_data.size if q_data.ndim else 1)

    # Sorted rows, the reduced dimension last, viewed as out_shape[1:] + (n,).
    if dim is None:
        sorted_rows = sort(input.flatten()).values
    elif wrapped == ndim - 1:
        sorted_rows = sort(input).values
    else:
        sorted_rows = sort(input.unsqueeze(-1).transpose(wrapped, -1)).values
    length = sorted_rows._data.shape[-1]
    sorted_rows = _view(ViewBackward0, sorted_rows, (*out_shape[1:], length))

    # Fractional ranks in [0, n - 1], in q's dtype.
    if ignore_nan:
        present = sorted_rows.isnan().logical_not().sum(-1, keepdim=True)
        ranks = q * (present - 1)
        ranks = masked_fill(ranks, ranks < 0, 0)
    else:
        last = length - 1
        scaled, has_nan = broadcast_tensors(
            mul_scalar(q, last), sorted_rows.isnan().any(-1, keepdim=True)
        )
        ranks = masked_fill(scaled, has_nan, last)
    if interpolation == "lower":
        ranks = ranks.floor()
    elif interpolation == "higher":
        ranks = ranks.ceil()
    elif interpolation == "nearest":
        ranks = ranks.round()

    ranks_below = ranks.to(int64)
    values = gather(sorted_rows, -1, ranks_below)
    if interpolation in ("linear", "midpoint"):
        midpoint = interpolation == "midpoint"
        weights = full_like(ranks, 0.5) if midpoint else ranks - ranks_below
        ranks_above = ranks.ceil().to(int64)
        values = lerp(values, gather(sorted_rows, -1, ranks_above), weights)

    if not q_data.ndim:
        return _view(SqueezeBackward4, values, tuple(out_shape[1:]))
    unsqueeze = UnsqueezeBackward1()
    unsqueeze.shape, unsqueeze.given_dim = (1, *values._data.shape), 0
    widened = unary(unsqueeze, values)
    moved = _transposed_in_place(widened, 0, widened._data.ndim - 1)
    return _view(SqueezeBackward4, moved, tuple(out_shape))


def quantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(input, q, dim=None, keepdim: bool = False, *, interpolation: str = "linear"):
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=True)


def quantile_method(input, q, dim=None, keepdim: bool = False, *, interpolation="linear"):
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=False, method=True)


def nanquantile_method(input, q, dim=None, keepdim: bool = False, *, interpolation="linear"):
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=True, method=True)


quantile_method.__name__ = quantile_method.__qualname__ = "quantile"
nanquantile_method.__name__ = nanquantile_method.__qualname__ = "nanquantile"

DECLARATIONS = (
    declare("quantile", quantile, method=quantile_method),
    declare("nanquantile", nanquantile, method=nanquantile_method),
    explain_nodes(
        {
            UnsqueezeBackward1: reshape_rule("unsqueeze_"),
            TransposeBackward1: reshape_rule("transpose_"),
        }
    ),
)
