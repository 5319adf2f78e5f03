"""Upsampling: the ops of ``nn.functional.interpolate`` (modes nearest, nearest-exact, linear,
bilinear, bicubic, trilinear), with ATen's CPU index arithmetic, so that the same positions and
weights (computed in the input's float type, as ATen's ``opmath``) give the same values.

Each spatial axis maps on its own (ops/axis_maps.py): output position ``i`` of an axis of input
size ``n`` and output size ``m`` reads, with ``scale`` ``1/scale_factor`` when a scale factor is
given and ``n/m`` else (``(n-1)/(m-1)`` for align_corners):

* nearest: ``min(floor(i·scale), n-1)`` (its backward, and the 2-d forward, read otherwise:
  _nearest_backward_taps);
* nearest-exact: ``min(floor((i + ½)·scale), n-1)``;
* linear: source ``s = scale·(i + ½) - ½`` clamped at 0 (``scale·i`` for align_corners), then
  ``x[floor s]·(1-λ) + x[floor s + 1]·λ`` with ``λ = s - floor s`` (one element at the end);
  an axis with m == n is copied, whatever the scale factor (ATen's
  compute_source_index_and_lambda);
* cubic: the same source unclamped, four taps ``floor s - 1 .. floor s + 2`` (held at the edges)
  with Keys' cubic convolution weights, ``A = -0.75``.

No op saves a tensor (PyTorch's upsampling nodes keep only sizes and scales).
"""

from __future__ import annotations

import math

from ..backend import SCALAR_TYPE_NAMES, from_numpy_dtype, xp
from ..tensor import Tensor
from .apply import unary
from .axis_maps import axis_map_nodes
from .declare import explain_nodes
from .explain_rule import Rule
from .pooling import adaptive_avg_pool2d
from .pooling_1d import adaptive_avg_pool1d

_CUBIC_A = -0.75

NODES = {}
for _mode, _names in (
    ("nearest", ("UpsampleNearest1D", "UpsampleNearest2D", "UpsampleNearest3D")),
    (
        "nearest-exact",
        ("UpsampleNearestExact1D", "UpsampleNearestExact2D", "UpsampleNearestExact3D"),
    ),
    ("linear", ("UpsampleLinear1D", None, None)),
    ("bilinear", (None, "UpsampleBilinear2D", None)),
    ("bicubic", (None, "UpsampleBicubic2D", None)),
    ("trilinear", (None, None, "UpsampleTrilinear3D")),
):
    for _count, _name in enumerate(_names, start=1):
        if _name is not None:
            NODES[_mode, _count] = axis_map_nodes(_name)[0]


def _float_type(dtype):
    """The type ATen computes positions and weights in: the input's, float32 for half."""
    return xp.float64 if dtype == xp.float64 else xp.float32


def _scale_value(scale, in_size: int, out_size: int, ftype):
    """ATen's compute_scales_value: 1/scale_factor when one is given, else in/out."""
    if scale is not None and scale > 0:
        return ftype(1.0 / scale)
    return ftype(in_size) / ftype(out_size)


def _nearest_taps(in_size: int, out_size: int, scale, exact: bool, ftype) -> tuple:
    """The forward kernel's indices (compute_indices_weights_nearest*): the position in the
    input's float type, floored as a float (floorf); nearest-exact reads ``s + ½`` of the
    half-pixel source ``s = scale·(i + ½) - ½`` clamped at 0."""
    factor = _scale_value(scale, in_size, out_size, ftype)
    position = xp.arange(out_size).astype(ftype)
    if exact:
        source = xp.maximum(factor * (position + ftype(0.5)) - ftype(0.5), ftype(0)) + ftype(0.5)
    else:
        source = factor * position
    index = xp.floor(source.astype(xp.float32)).astype(xp.int64)
    return ((xp.minimum(index, in_size - 1), None),)


def _nearest_backward_taps(in_size: int, out_size: int, scale, exact: bool) -> tuple:
    """The backward kernel's indices (nearest_idx, nearest_neighbor_exact_compute_source_index),
    which PyTorch computes otherwise than its forward: in float whatever the input's type, and
    for nearest i itself when m == n and ``i >> 1`` when m == 2n. With a scale factor whose
    output size is n or 2n (1.2 of 3 elements) they read other elements than the forward did;
    PyTorch's gradient is so, and so is this one."""
    position = xp.arange(out_size)
    if out_size == in_size and not exact:
        return ((position, None),)
    if out_size == 2 * in_size and not exact:
        return ((position >> 1, None),)
    factor = _scale_value(scale, in_size, out_size, xp.float32)
    if exact:  # floorf((i + 0.5) * scale): the product in double, rounded to float
        source = ((position + 0.5) * float(factor)).astype(xp.float32)
    else:  # floorf(i * scale) in float
        source = position.astype(xp.float32) * factor
    return ((xp.minimum(xp.floor(source).astype(xp.int64), in_size - 1), None),)


def _linear_scale(in_size: int, out_size: int, align_corners: bool, scale, ftype):
    """ATen's area_pixel_compute_scale."""
    if align_corners:
        return ftype(in_size - 1) / ftype(out_size - 1) if out_size > 1 else ftype(0)
    return _scale_value(scale, in_size, out_size, ftype)


def _source_positions(out_size: int, factor, align_corners: bool, cubic: bool, ftype):
    """ATen's area_pixel_compute_source_index for every output position."""
    position = xp.arange(out_size).astype(ftype)
    if align_corners:
        return factor * position
    source = factor * (position + ftype(0.5)) - ftype(0.5)
    return source if cubic else xp.maximum(source, ftype(0))


def _linear_taps(in_size, out_size, scale, align_corners, ftype) -> tuple:
    if out_size == in_size:  # ATen copies such an axis, even where a scale factor is given
        return ((xp.arange(out_size), None),)
    factor = _linear_scale(in_size, out_size, align_corners, scale, ftype)
    source = _source_positions(out_size, factor, align_corners, False, ftype)
    index0 = xp.minimum(xp.floor(source).astype(xp.int64), in_size - 1)
    lambda1 = xp.minimum(xp.maximum(source - index0.astype(ftype), ftype(0)), ftype(1))
    index1 = index0 + (index0 < in_size - 1)
    return ((index0, (ftype(1) - lambda1).astype(ftype)), (index1, lambda1.astype(ftype)))


def _cubic_taps(in_size, out_size, scale, align_corners, ftype) -> tuple:
    factor = _linear_scale(in_size, out_size, align_corners, scale, ftype)
    source = _source_positions(out_size, factor, align_corners, True, ftype)
    floor = xp.floor(source)
    t = (source - floor).astype(ftype)
    a, one = ftype(_CUBIC_A), ftype(1)

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + one

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weights = (far(t + one), near(t), near(one - t), far((one - t) + one))
    start = floor.astype(xp.int64) - 1
    return tuple(
        (xp.clip(start + offset, 0, in_size - 1), weight.astype(ftype))
        for offset, weight in enumerate(weights)
    )


def output_sizes(shape: tuple, size, scale_factors) -> list:
    """ATen's upsample compute_output_size: the given sizes, or int(size·scale) (truncated)."""
    spatial = shape[2:]
    if size is not None:
        return [int(value) for value in size]
    return [int(extent * factor) for extent, factor in zip(spatial, scale_factors)]


def _is_integer(value) -> bool:
    """F.interpolate's _is_integer: an int, a NumPy integer, or a Tensor not of a float type."""
    if isinstance(value, Tensor):
        return not value.is_floating_point()
    return isinstance(value, int | xp.integer) and not isinstance(value, bool)


_MODES_TEXT = "nearest | linear | bilinear | bicubic | trilinear | lanczos | area | nearest-exact"
_SPATIAL = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def interpolate(
    input,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners=None,
    recompute_scale_factor=None,
    antialias: bool = False,
):
    """``torch.nn.functional.interpolate``: its argument handling, then the mode's op ('area'
    is adaptive average pooling, as in PyTorch)."""
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError(
                "align_corners option can only be set with the interpolating modes: "
                "linear | bilinear | bicubic | trilinear"
            )
    elif align_corners is None:
        align_corners = False
    dim = input.dim() - 2
    spatial = list(input.shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        scale_factors = None
        if isinstance(size, list | tuple):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got "
                    f"input with spatial dimensions of {spatial} and output size of {size}. "
                    "Please provide input tensor in (N, C, d1, d2, ...,dK) format and output "
                    "size in (o1, o2, ...,oK) format."
                )
            if not all(_is_integer(value) for value in size):
                raise TypeError(
                    "expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                    "Tuple[int, int, int], but got size with types "
                    f"{[type(value) for value in size]}"
                )
            output_size = list(size)
        else:
            output_size = [size for _ in range(dim)]
    elif scale_factor is not None:
        output_size = None
        if isinstance(scale_factor, list | tuple):
            if len(scale_factor) != dim:
                raise ValueError(
                    "Input and scale_factor must have the same number of spatial dimensions, but "
                    f"got input with spatial dimensions of {spatial} and scale_factor of shape "
                    f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) "
                    "format and scale_factor in (s1, s2, ...,sK) format."
                )
            scale_factors = list(scale_factor)
        else:
            scale_factors = [scale_factor for _ in range(dim)]
    else:
        raise ValueError("either size or scale_factor should be defined")
    if recompute_scale_factor and size is not None:
        raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
    if mode == "area" and output_size is None:
        recompute_scale_factor = True
    if recompute_scale_factor:
        output_size = [math.floor(spatial[i] * scale_factors[i]) for i in range(dim)]
        scale_factors = None
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.dim() == 4):
        raise ValueError(
            "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and "
            "requires a 4-D tensor as input"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by gradienti")
    if mode == "area" and dim == 3:
        raise NotImplementedError(
            "interpolate: mode 'area' of a 5-D input (adaptive_avg_pool3d) is not supported by "
            "gradienti"
        )
    if mode == "area" and 1 <= dim <= 2:
        pool = adaptive_avg_pool1d if dim == 1 else adaptive_avg_pool2d
        return pool(input, output_size if dim == 2 else output_size[0])
    fits = mode in ("nearest", "nearest-exact") and 1 <= dim <= 3 or _SPATIAL.get(mode) == dim
    if fits:
        sizes = output_sizes(tuple(input.shape), output_size, scale_factors)
        scales = scale_factors if scale_factors is not None else [None] * dim
        return upsample(input, mode, sizes, scales, bool(align_corners))
    if mode in _SPATIAL and 3 <= input.dim() <= 5:
        needed = _SPATIAL[mode] + 2
        raise NotImplementedError(
            f"Got {input.dim()}D input, but {mode} mode needs {needed}D input"
        )
    raise NotImplementedError(
        f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.dim()}D) for the "
        f"modes: {_MODES_TEXT} (got {mode})"
    )


def _check_dtype(input, mode: str) -> None:
    """Floating input, or uint8 for nearest (an image's bytes); PyTorch's message otherwise.
    PyTorch's uint8 bilinear/bicubic is a fixed-point kernel of its own: not reproduced."""
    dtype = input._data.dtype
    if dtype.kind == "f":
        return
    nearest = mode in ("nearest", "nearest-exact")
    if dtype == xp.uint8 and nearest:
        return
    if dtype == xp.uint8 and mode in ("bilinear", "bicubic"):
        raise NotImplementedError(
            f"interpolate: gradienti has no uint8 '{mode}' mode (PyTorch's rounds in fixed "
            "point); convert the input to float first"
        )
    kind = "nearest" if nearest else "cubic" if mode == "bicubic" else "linear"
    name = SCALAR_TYPE_NAMES[from_numpy_dtype(dtype).name]
    raise NotImplementedError(f"\"compute_indices_weights_{kind}\" not implemented for '{name}'")


def _axis_taps(mode: str, spatial: tuple, sizes: list, scales: list, align_corners, ftype):
    """The taps of every spatial axis for the forward (gathers) and for the backward
    (scatters): the same, except where ATen's backward kernel reads otherwise."""
    if mode in ("nearest", "nearest-exact"):
        exact = mode == "nearest-exact"
        scatter_maps = [
            _nearest_backward_taps(extent, out, scale, exact)
            for extent, out, scale in zip(spatial, sizes, scales)
        ]
        if len(spatial) == 2:  # ATen's 2-d nearest forward reads as its backward does
            return scatter_maps, scatter_maps
        maps = [
            _nearest_taps(extent, out, scale, exact, ftype)
            for extent, out, scale in zip(spatial, sizes, scales)
        ]
        return maps, scatter_maps
    taps = _cubic_taps if mode == "bicubic" else _linear_taps
    maps = [
        taps(extent, out, scale, align_corners, ftype)
        for extent, out, scale in zip(spatial, sizes, scales)
    ]
    if mode == "bicubic" and tuple(sizes) == spatial:
        # ATen's bicubic backward copies the gradient when no size changes (its forward
        # still interpolates, with a scale factor other than 1)
        return maps, [((xp.arange(extent), None),) for extent in spatial]
    return maps, maps


def upsample(input, mode: str, sizes: list, scales: list, align_corners: bool):
    """One upsampling op over the spatial axes (input (N, C, *spatial); checked by
    interpolate): ``sizes`` the output's spatial sizes, ``scales`` the scale factor per axis
    or None (then in/out)."""
    spatial = tuple(input.shape[2:])
    for extent, out in zip(spatial, sizes):
        if extent <= 0 or out <= 0:
            letters = ("D", "H", "W")[3 - len(spatial) :]
            given = ", ".join(f"{letter}: {value}" for letter, value in zip(letters, spatial))
            made = ", ".join(f"{letter}: {value}" for letter, value in zip(letters, sizes))
            joint = " and" if len(spatial) == 1 else ""  # (ATen's 1-d text differs so)
            raise RuntimeError(
                f"Input and output sizes should be greater than 0, but got input ({given}){joint} "
                f"output ({made})"
            )
    shape = tuple(input.shape)
    if input.numel() == 0 and math.prod(shape[1:]) == 0:  # (an empty batch is allowed)
        raise RuntimeError(
            f"Non-empty {len(shape)}D data tensor expected but got a tensor with sizes "
            f"{list(shape)}"
        )
    _check_dtype(input, mode)
    ftype = _float_type(input._data.dtype)
    node = NODES[mode, len(spatial)]()
    maps, scatter_maps = _axis_taps(mode, spatial, sizes, scales, align_corners, ftype)
    node.maps = tuple(maps)
    node.scatter_maps = tuple(scatter_maps)
    node.sizes = spatial
    return unary(node, input)


# ---------------------------------------------------------------------- explain rules
_WORDS = {
    "nearest": "nearest-neighbour",
    "nearest-exact": "nearest-neighbour (exact)",
    "linear": "linear",
    "bilinear": "bilinear",
    "bicubic": "bicubic",
    "trilinear": "trilinear",
}


def _upsample_rule(words: str, backward: bool):
    def rule(node) -> Rule:
        sizes = "×".join(str(int(extent)) for extent in node.sizes)
        out = "×".join(str(len(taps[0][0])) for taps in node.maps)
        if backward:
            return Rule(
                f"{words} upsampling's backward, {out} back to {sizes} (recorded by a backward "
                "pass)",
                "upsample_backward({x:0})",
                passes=(f"the gradient read as the upsampling reads: {words} upsampling",),
            )
        return Rule(
            f"{words} upsampling from {sizes} to {out}",
            "interpolate({x:0})",
            passes=(
                "the gradient of each output element, added (weighted as in the forward) into "
                "the input elements it was read from",
            ),
        )

    return rule


_RULES = {}
for (_mode, _count), _node_class in NODES.items():
    _RULES[_node_class] = _upsample_rule(_WORDS[_mode], backward=False)
    _RULES[_node_class.partner] = _upsample_rule(_WORDS[_mode], backward=True)

DECLARATIONS = (explain_nodes(_RULES),)
