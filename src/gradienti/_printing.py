"""Tensor text in exactly the form PyTorch 2.13 gives ``repr()`` of a CPU tensor.

The rules follow ``torch/_tensor_str.py``; this is an independent re-implementation on NumPy.
Only plain strided CPU tensors of float16/32/64, int8/16/32/64, uint8 and bool are handled.

Three things decide the output:

* the *print options* (precision, threshold, edgeitems, linewidth, sci_mode), global to the
  module just as they are global to torch;
* one *element format* per tensor, chosen by looking at every value (or, when the tensor
  is summarised, only at the values that will be shown); every element is then padded to
  one common width so that columns line up;
* the *layout*: nested brackets, one indent step per dimension, blank lines between blocks
  of 3-D and up, ``...`` for summarised parts, and wrapping of long rows at ``linewidth``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["format_tensor", "get_printoptions", "set_printoptions"]

_PREFIX = "tensor("
# Continuation lines and wrapped suffixes line up under the first "[" after the prefix.
_INDENT = len(_PREFIX)


@dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


_OPTS = _PrintOptions()

_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set the print options, with the semantics of ``torch.set_printoptions``.

    A ``profile`` ("default", "short" or "full") is applied first and the other arguments
    override it. As in torch, an unknown profile name is ignored, and ``sci_mode`` is
    always assigned, so leaving it out switches back to automatic choice.
    """
    if profile is not None:
        for name, value in _PROFILES.get(profile, {}).items():
            setattr(_OPTS, name, value)
    if precision is not None:
        _OPTS.precision = precision
    if threshold is not None:
        _OPTS.threshold = threshold
    if edgeitems is not None:
        _OPTS.edgeitems = edgeitems
    if linewidth is not None:
        _OPTS.linewidth = linewidth
    _OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Current print options as a dict that can be passed back to ``set_printoptions``."""
    return asdict(_OPTS)


# --------------------------------------------------------------------------- element format

_Formatter = Callable[[Any], str]


def _integer_formatter(candidates: Sequence[Any]) -> tuple[_Formatter, int]:
    """Ints and bools print with ``str``; the width is that of the longest text."""
    width = max([1, *(len(str(value)) for value in candidates)])
    return (lambda value: str(value).rjust(width)), width


def _float_formatter(
    stats: tuple[float, float, bool, list[float]] | None,
) -> tuple[_Formatter, int]:
    """Pick fixed, integer-style or scientific notation and the common width.

    ``stats`` describes the nonzero finite values that torch looks at: the smallest and
    largest magnitude, whether all of them are whole numbers, and the few values whose
    text is the longest (see ``_float_stats``). ``None`` means there are none.
    """
    precision = _OPTS.precision
    if stats is None:
        # Only zeros, nan and inf: torch stops before choosing a mode, so it keeps the
        # integer style with width 1 and ignores a forced sci_mode.
        return _whole_number_formatter(1), 1
    smallest, largest, all_whole, candidates = stats
    sci = _OPTS.sci_mode
    if sci is None:
        sci = largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
    if sci:
        spec = f".{precision}e"
        width = max([1, *(len(format(value, spec)) for value in candidates)])
        padded = f"{width}{spec}"
        return (lambda value: format(value, padded)), width
    if all_whole:
        # The trailing "." that marks a float is counted in the width.
        width = max([1, *(len(format(value, ".0f")) + 1 for value in candidates)])
        return _whole_number_formatter(width), width
    spec = f".{precision}f"
    width = max([1, *(len(format(value, spec)) for value in candidates)])
    return (lambda value: format(value, spec).rjust(width)), width


def _whole_number_formatter(width: int) -> _Formatter:
    def format_whole(value: float) -> str:
        text = format(value, ".0f")
        if math.isfinite(value):
            text += "."  # "2." shows the tensor is floating; "nan"/"inf" need no marker
        return text.rjust(width)

    return format_whole


def _float_stats(values: np.ndarray) -> tuple[float, float, bool, list[float]] | None:
    """Summary of the nonzero finite entries of a float array, vectorised.

    For a fixed notation the text length only grows with the magnitude (per sign), and in
    scientific notation it depends on the sign and the exponent's digit count, which is
    largest at one end of the magnitude range. So the longest text is always among the
    smallest and largest value of each sign; formatting just those four is exact and
    avoids formatting every element as torch does.
    """
    keep = np.isfinite(values) & (values != 0)
    picked = values[keep]
    if picked.size == 0:
        return None
    # Magnitudes are compared in float64 (torch converts to double), so float32 1e-4,
    # which is slightly below 1e-4, triggers scientific notation.
    magnitudes = np.abs(picked).astype(np.float64)
    all_whole = bool(np.all(picked == np.ceil(picked)))
    candidates: list[float] = []
    for part in (picked[picked > 0], picked[picked < 0]):
        if part.size:
            candidates += [float(part.min()), float(part.max())]
    return float(magnitudes.min()), float(magnitudes.max()), all_whole, candidates


def _scalar_formatter(value: Any, is_float: bool) -> tuple[_Formatter, int]:
    """_Formatter for one Python number, with no NumPy work (0-d tensors are common)."""
    if not is_float:
        return _integer_formatter([value])
    if value == 0 or not math.isfinite(value):
        return _float_formatter(None)
    magnitude = abs(value)
    return _float_formatter((magnitude, magnitude, value == math.ceil(value), [value]))


def _array_formatter(sample: np.ndarray) -> tuple[_Formatter, int]:
    if sample.dtype.kind == "f":
        return _float_formatter(_float_stats(sample))
    if sample.size == 0:
        return _integer_formatter([])
    # str() length grows with magnitude per sign, so the extremes give the width.
    return _integer_formatter([sample.min().item(), sample.max().item()])


def _summary_sample(array: np.ndarray, edge: int) -> np.ndarray:
    """The values torch inspects to choose the format of a summarised tensor.

    Along every axis longer than ``2 * edge`` only the first and last ``edge`` entries
    are kept, so a huge value hidden in the elided middle does not change the format.
    With ``edge == 0`` nothing but "..." is shown, so no value matters. (torch still
    inspects a whole 1-D tensor then, but its format is never used.)
    """
    if edge == 0:
        return np.empty(0, array.dtype)
    picks = []
    for length in array.shape:
        if length > 2 * edge:
            picks.append(np.r_[0:edge, length - edge : length])
        else:
            picks.append(np.arange(length))
    return array[np.ix_(*picks)]


# --------------------------------------------------------------------------------- layout


def _render(array: np.ndarray, indent: int, summarize: bool, fmt: _Formatter, width: int) -> str:
    """Bracketed text of a non-empty array whose "[" sits at column ``indent``."""
    if array.ndim == 0:
        return fmt(array.item())
    edge = _OPTS.edgeitems
    length = array.shape[0]
    elide = summarize and length > 2 * edge
    if array.ndim == 1:
        return _render_row(array, indent, summarize, elide, fmt, width)
    # None marks the elided middle.
    rows = [*range(edge), None, *range(length - edge, length)] if elide else range(length)
    parts = [
        "..." if row is None else _render(array[row], indent + 1, summarize, fmt, width)
        for row in rows
    ]
    # Blocks of the same rank are separated by (ndim - 1) line breaks: one for rows of a
    # matrix, one blank line between matrices, two between 3-D blocks, and so on.
    separator = "," + "\n" * (array.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(parts) + "]"


def _render_row(
    row: np.ndarray, indent: int, summarize: bool, elide: bool, fmt: _Formatter, width: int
) -> str:
    edge = _OPTS.edgeitems
    if summarize and not edge:
        cells = ["..."]
    elif elide:
        cells = [fmt(value) for value in row[:edge].tolist()]
        cells.append(" ...")  # the leading space is torch's; it counts as one cell below
        cells += [fmt(value) for value in row[-edge:].tolist()]
    else:
        cells = [fmt(value) for value in row.tolist()]
    # Each cell is budgeted its width plus ", "; at least one cell per line.
    per_line = max(1, math.floor((_OPTS.linewidth - indent) / (width + 2)))
    lines = [", ".join(cells[start : start + per_line]) for start in range(0, len(cells), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _add_suffixes(text: str, suffixes: Sequence[str]) -> str:
    """Append ``, suffix`` items and the closing ")", moving a suffix to its own line
    (indented under the "[") when it would pass ``linewidth``.

    The running line length reproduces torch's estimate exactly, including its slack:
    ``len - rfind("\\n") + 1`` is two more than the true length of the last line.
    """
    line_length = len(text) - text.rfind("\n") + 1
    pieces = [text]
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > _OPTS.linewidth:
            pieces.append(",\n" + " " * _INDENT + suffix)
            line_length = _INDENT + len(suffix)
        else:
            pieces.append(", " + suffix)
            line_length += len(suffix) + 2
    pieces.append(")")
    return "".join(pieces)


# ------------------------------------------------------------------------------ public API

_ALWAYS_NAMED_WHEN_EMPTY = ("torch.int64", "torch.bool")


def format_tensor(
    array: Any, *, dtype_name: str, show_dtype: bool, suffixes: Sequence[str] = ()
) -> str:
    """Return what ``repr()`` prints for a CPU tensor holding ``array``.

    ``array`` is a NumPy array or scalar; its dtype (float, signed/unsigned int, bool)
    decides how values are written. ``dtype_name`` is the torch dtype text, e.g.
    ``"torch.float64"``, and ``show_dtype`` says whether ``dtype=...`` is wanted (torch
    omits it for the default float dtype, int64 and bool). ``suffixes`` are further
    ready-made items such as ``"requires_grad=True"``, appended after the dtype.

    For an empty tensor torch names every dtype but the default float dtype, because
    nothing else shows it; int64 and bool are then named even when ``show_dtype`` is
    False (the caller passes False for exactly the default float, int64 and bool).
    """
    data = np.asarray(array)
    kind = data.dtype.kind
    if kind not in "fiub":
        raise TypeError(f"cannot format a tensor with NumPy dtype {data.dtype}")
    extra: list[str] = []
    if data.size == 0:
        # The shape cannot be read off "[]" unless it is (0,), so it is spelled out.
        if data.ndim != 1:
            extra.append(f"size={tuple(data.shape)}")
        if show_dtype or dtype_name in _ALWAYS_NAMED_WHEN_EMPTY:
            extra.append(f"dtype={dtype_name}")
        body = "[]"
    else:
        if not _OPTS.edgeitems:
            # With edgeitems=0 a summary shows no values, so torch always adds the size.
            extra.append(f"size={tuple(data.shape)}")
        if show_dtype:
            extra.append(f"dtype={dtype_name}")
        if data.ndim == 0:
            value = data.item()
            body = _scalar_formatter(value, kind == "f")[0](value)
        else:
            summarize = data.size > _OPTS.threshold
            sample = _summary_sample(data, _OPTS.edgeitems) if summarize else data
            fmt, width = _array_formatter(sample)
            body = _render(data, _INDENT, summarize, fmt, width)
    return _add_suffixes(_PREFIX + body, [*extra, *suffixes])
