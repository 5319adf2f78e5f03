"""The text inside make_dot's boxes: shapes as torchviz writes them, values as PyTorch prints
them (or summarised), an operation's expression and value, and torchviz's attribute tables."""

from __future__ import annotations

import numpy as np

from .._printing import format_tensor
from .dot_values import scalar_text

__all__ = [
    "attribute_text",
    "expression_text",
    "shape_text",
    "value_text",
    "with_attributes",
]

# Tensors with more elements than this are summarised as shape, mean, min and max.
SUMMARY_THRESHOLD = 8
# A value shorter than this many characters goes on its expression's line (``x³ = 8``).
ONE_LINE_VALUE = 40
# What a tensor box says of a value that cannot be shown.
UNSHOWN = "?"


def shape_text(shape) -> str:
    """torchviz's ``size_to_str``: ``(2, 3)``, ``(5)`` for one dimension, ``()`` for none."""
    return "(" + ", ".join(str(int(size)) for size in shape) + ")"


def value_text(array) -> str:
    """A tensor's value as PyTorch prints it (``64.``), or a summary for a large tensor."""
    try:
        data = np.asarray(array)
        if data.size > SUMMARY_THRESHOLD:
            return summary_text(data)
        return printed(data)
    except Exception:  # a value that cannot be shown must not stop the picture
        return UNSHOWN


def printed(data: np.ndarray) -> str:
    try:
        text = format_tensor(data, dtype_name=f"torch.{data.dtype.name}", show_dtype=False)
    except TypeError:  # a dtype PyTorch's printing does not cover
        return " ".join(np.array2string(data).split())
    prefix = "tensor("
    body = text[len(prefix) : -1] if text.startswith(prefix) and text.endswith(")") else text
    # Continuation lines are indented to sit under "tensor("; drop that indent.
    lines = body.split("\n")
    return "\n".join([lines[0], *(line[len(prefix) :] for line in lines[1:])])


def summary_text(data: np.ndarray) -> str:
    numbers = data.astype(np.float64) if data.dtype.kind == "b" else data
    mean = float(np.mean(numbers, dtype=np.float64))
    if data.dtype.kind in "iub":
        low, high = str(int(np.min(numbers))), str(int(np.max(numbers)))
    else:
        low, high = f"{float(np.min(numbers)):.4g}", f"{float(np.max(numbers)):.4g}"
    return f"{shape_text(data.shape)} mean {mean:.4g} min {low} max {high}"


def expression_text(expression: str, value) -> str:
    """``x³ = 8``: an op's expression and its forward value (a scalar as ``explain`` writes
    numbers, a tensor as the tensor boxes show values); the expression alone if the value is
    unknown or cannot be shown (vmap's batched values). A long or several-line value goes on
    lines of its own, after ``= ``."""
    if value is None:
        return expression
    number = scalar_text(value)
    if number is not None:
        return f"{expression} = {number}"
    text = value_text(value)
    if text == UNSHOWN:
        return expression
    if "\n" not in text and len(expression) + len(text) + 3 <= ONE_LINE_VALUE:
        return f"{expression} = {text}"
    first, *rest = text.split("\n")
    return "\n".join([expression, "= " + first, *("  " + line for line in rest)])


def attribute_text(value) -> str | None:
    """A node attribute as ``show_attrs`` writes it: arrays as torchviz writes saved tensors
    (``[saved tensor]``, ``[saved tensors]`` for a tuple holding some), values on one line;
    None for an object with no text of its own (its ``<... object at 0x...>`` would change the
    DOT from run to run and say nothing)."""
    if isinstance(value, np.ndarray) and value.ndim or _is_tensor(value):
        return "[saved tensor]"
    if isinstance(value, (tuple, list)) and any(
        isinstance(item, np.ndarray) and item.ndim or _is_tensor(item) for item in value
    ):
        return "[saved tensors]"
    kind = type(value)
    if kind.__repr__ is object.__repr__ and kind.__str__ is object.__str__:
        return None
    return " ".join(str(value).split())


def _is_tensor(value) -> bool:
    return hasattr(value, "_data") and hasattr(value, "grad_fn")


def with_attributes(name: str, attributes: dict, max_attr_chars: int) -> str:
    """torchviz's ``get_fn_name`` layout: the name, a rule, then ``key: value`` rows."""
    if not attributes:
        return name
    max_attr_chars = max(max_attr_chars, 3)
    key_width = max(len(key) for key in attributes)
    value_width = min(max(len(value) for value in attributes.values()), max_attr_chars)
    rule = "-" * max(key_width + value_width + 2, len(name))

    def cut(text: str) -> str:
        return text[: value_width - 3] + "..." if len(text) > value_width else text

    rows = [f"{key:<{key_width}}: {cut(value):>{value_width}}" for key, value in attributes.items()]
    return "\n".join([name, rule, *rows])
