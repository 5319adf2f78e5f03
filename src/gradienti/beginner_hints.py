"""Hints appended to PyTorch's error texts for the usual beginner mistakes: why it failed.

A hinted message is PyTorch's text unchanged, a blank line, then lines that start with
``gradienti: `` (``with_hint``). The first part still equals what PyTorch says, so code and
tests that compare it with torch's keep working, and the exception class stays PyTorch's.

This module sits in the lowest layer because the errors are raised at every level (a Tensor's
``requires_grad``, an op's shape check, the backward pass). Each hint is built only when its
error is raised: nothing here runs on the plain path of an op or of a backward pass.
"""

from __future__ import annotations

from .backend import from_numpy_dtype

HINT_PREFIX = "gradienti: "
HINT_SEPARATOR = "\n\n" + HINT_PREFIX


def with_hint(message: str, hint_lines) -> str:
    """PyTorch's ``message``, a blank line, then each of ``hint_lines`` as a ``gradienti:`` line.

    A line that already starts with ``gradienti: `` keeps its prefix once; without any hint line
    the message comes back unchanged.
    """
    lines = [line if line.startswith(HINT_PREFIX) else HINT_PREFIX + line for line in hint_lines]
    if not lines:
        return message
    return message + "\n\n" + "\n".join(lines)


def pytorch_text(message: str) -> str:
    """The part of a hinted ``message`` that is PyTorch's text (all of an unhinted one)."""
    return message.split(HINT_SEPARATOR, 1)[0]


# ------------------------------------------------------------------- the backward pass
BACKWARD_TWICE_HINT = (
    "the first backward() freed the intermediate values this graph saved (that keeps memory "
    "flat). retain_graph=True on the earlier backward keeps them, for when you mean to go "
    "through the same graph again: two losses that share part of a graph, each with its own "
    "backward (or call backward once on their sum), or looking at a gradient twice "
    "(autograd.grad of the same output).",
    "if you did not mean to reuse a graph, the usual cause is a tensor from the previous "
    "iteration used in this one's graph, e.g. an RNN's hidden state carried from batch to "
    "batch: cut it at the start of each iteration with h = h.detach() (retain_graph=True would "
    "only hide that bug while the graph grows every step).",
)

NON_LEAF_GRAD_HINT = (
    "only leaf tensors (created with requires_grad=True, like a model's parameters) get a .grad "
    "from backward(); this tensor was computed by an op. To see its gradient, call "
    "t.retain_grad() on it before backward(), or read the leaf's .grad instead (x.grad, not "
    "(x * 2).grad).",
)

LEAF_IN_PLACE_HINT = (
    "changing a leaf that requires grad (a parameter) in place would make the graph that used "
    "it compute wrong gradients, so autograd refuses. For a manual update step, turn recording "
    "off around it: with torch.no_grad(): w -= lr * w.grad (then w.grad.zero_()), or write "
    "through w.data. To compute with a changed value instead, use an out-of-place op "
    "(w2 = w - 1 is a new tensor).",
)


def integer_requires_grad_hint(np_dtype) -> tuple:
    """Why a tensor of ``np_dtype`` (not floating point) cannot require grad, and the fix."""
    return (
        f"this tensor's dtype is {from_numpy_dtype(np_dtype)}: integer and bool values have no "
        "gradient (a derivative needs values that can change by a small amount).",
        "use a float dtype: torch.tensor([1., 2.]) (a decimal point makes floats), "
        "dtype=torch.float32 in the call that creates it, or t.float() for an existing tensor.",
    )


# --------------------------------------------------------------------------- shapes
def _shape_text(shape) -> str:
    return "(" + ", ".join(str(size) for size in shape) + ("," if len(shape) == 1 else "") + ")"


def _broadcasts(shape_a: tuple, shape_b: tuple) -> bool:
    return all(a == b or a == 1 or b == 1 for a, b in zip(reversed(shape_a), reversed(shape_b)))


def broadcast_hint(shape_a: tuple, shape_b: tuple) -> tuple:
    """Which operand is which when ``a op b`` does not broadcast, and a change that would."""
    lines = [
        f"tensor a is the first operand (left of +, -, *, /), shape {_shape_text(shape_a)}; "
        f"tensor b the second, shape {_shape_text(shape_b)}. Two shapes broadcast when, lined "
        "up from their last dimension, each pair of sizes is equal or one of them is 1."
    ]
    # A size-1 dimension added at the end of the operand with fewer dimensions lines a vector
    # up with a matrix's rows (offered only where the result keeps the other's shape).
    if 0 < len(shape_b) < len(shape_a) and _broadcasts(shape_a, (*shape_b, 1)):
        shape = _shape_text((*shape_b, 1))
        lines.append(f"b.unsqueeze(-1) has shape {shape} and broadcasts with a (b[..., None]).")
    elif 0 < len(shape_a) < len(shape_b) and _broadcasts((*shape_a, 1), shape_b):
        shape = _shape_text((*shape_a, 1))
        lines.append(f"a.unsqueeze(-1) has shape {shape} and broadcasts with b (a[..., None]).")
    elif len(shape_b) == 2 and _broadcasts(shape_a, shape_b[::-1]):
        lines.append(f"b.T has shape {_shape_text(shape_b[::-1])} and broadcasts with a.")
    elif len(shape_a) == 2 and _broadcasts(shape_a[::-1], shape_b):
        lines.append(f"a.T has shape {_shape_text(shape_a[::-1])} and broadcasts with b.")
    else:
        lines.append(
            "add size-1 dimensions where the sizes should line up (.unsqueeze(dim), "
            ".view(...), x[:, None]) or swap dimensions (.T, .transpose(0, 1))."
        )
    return tuple(lines)


def matrix_product_hint(shape_1: tuple, shape_2: tuple) -> tuple:
    """Which matrix is which when ``mat1 @ mat2`` does not fit, and a change that would."""
    (rows_1, columns_1), (rows_2, columns_2) = shape_1, shape_2
    rows_word = "row" if rows_1 == 1 else "rows"
    lines = [
        f"mat1 is the left operand, {rows_1}x{columns_1} ({rows_1} {rows_word} of {columns_1}), "
        f"and mat2 the right one, {rows_2}x{columns_2}: mat1 @ mat2 needs mat1's columns "
        f"({columns_1}) to equal mat2's rows ({rows_2}). (An operand with more dimensions has its "
        "leading ones folded into mat1's rows.)"
    ]
    if columns_1 == columns_2:
        lines.append(f"mat2 transposed is {columns_2}x{rows_2} and fits: mat1 @ mat2.T.")
    elif rows_1 == rows_2:
        lines.append(f"mat1 transposed is {columns_1}x{rows_1} and fits: mat1.T @ mat2.")
    else:
        lines.append(
            "check which dimension holds what: transpose (.T, .mT) or reshape (.view, "
            ".reshape) one operand so that the inner sizes agree."
        )
    return tuple(lines)


def linear_input_size_hint(input_shape: tuple, weight_shape: tuple) -> tuple:
    """Why ``nn.Linear``/``F.linear`` refused an input whose last size is not in_features.

    The generic product hint would offer ``mat1 @ mat2.T`` here, which transposes the layer's
    weight: no fix for a layer made for another input size."""
    out_features, in_features = weight_shape
    given = input_shape[-1] if input_shape else 1
    return (
        f"in nn.Linear and F.linear, mat1 is the input (its leading dimensions folded into rows) "
        f"and mat2 the weight transposed: the weight is {out_features}x{in_features} "
        f"(out_features x in_features), so the input's last size, {given}, must equal "
        f"in_features, {in_features}.",
        f"nn.Linear({in_features}, {out_features}) takes inputs of {in_features} features: for "
        f"these inputs make the layer nn.Linear({given}, {out_features}), or check what feeds it "
        "(the previous layer's output size, a missing flatten, a transposed batch).",
    )


def _operand_text(shape: tuple) -> str:
    if len(shape) == 1:
        return f"a vector of {shape[0]}"
    if len(shape) == 2:
        return f"one matrix of {shape[0]}x{shape[1]}"
    count = 1
    for size in shape[:-2]:
        count *= size
    return f"a batch of {count} matrices of {shape[-2]}x{shape[-1]}"


def matmul_hint(shape_a: tuple, shape_b: tuple) -> tuple:
    """``a @ b`` refused where an operand is a vector or a batch: PyTorch's message shows the
    matrices after folding, transposing or batching (its mat1 may be b, folded), so the hint
    speaks of the user's own a and b, and offers only a transpose that fits them."""
    inner_a = shape_a[-1]
    inner_b, inner_b_name = (
        (shape_b[-2], "second-to-last size") if len(shape_b) >= 2 else (shape_b[0], "length")
    )
    lines = [
        f"in a @ b, a has shape {_shape_text(shape_a)} ({_operand_text(shape_a)}) and b shape "
        f"{_shape_text(shape_b)} ({_operand_text(shape_b)}): a's last size ({inner_a}) must "
        f"equal b's {inner_b_name} ({inner_b}). The shapes in the message above are those "
        "matrices after PyTorch folded or batched them."
    ]
    if len(shape_b) >= 2 and inner_a == shape_b[-1]:
        swapped = _shape_text((*shape_b[:-2], shape_b[-1], shape_b[-2]))
        lines.append(
            f"b.mT (its last two dimensions swapped) has shape {swapped} and fits: a @ b.mT."
        )
    elif len(shape_a) >= 2 and shape_a[-2] == inner_b:
        swapped = _shape_text((*shape_a[:-2], shape_a[-1], shape_a[-2]))
        lines.append(
            f"a.mT (its last two dimensions swapped) has shape {swapped} and fits: a.mT @ b."
        )
    else:
        lines.append(
            "check which dimension holds what: transpose (.mT, .transpose) or reshape (.view, "
            ".reshape) one operand so that the inner sizes agree."
        )
    return tuple(lines)


def batched_product_hint(shape_1: tuple, shape_2: tuple) -> tuple:
    """Which batch is which when ``batch1 @ batch2`` (bmm) does not fit."""
    (count_1, rows_1, columns_1), (count_2, rows_2, columns_2) = shape_1, shape_2
    lines = [
        f"batch1 is the left operand, {count_1} matrices of {rows_1}x{columns_1}, and batch2 the "
        f"right one, {count_2} of {rows_2}x{columns_2}: bmm needs as many matrices in each "
        f"({count_1} and {count_2}) and batch1's columns ({columns_1}) to equal batch2's rows "
        f"({rows_2}). (@ of tensors with more dimensions broadcasts their leading dimensions "
        "into these batches.)"
    ]
    if count_1 == count_2 and columns_1 == columns_2:
        lines.append(
            f"batch2 with its last two dimensions swapped is {count_2} of {columns_2}x{rows_2} "
            "and fits: batch1 @ batch2.mT (or batch2.transpose(-2, -1))."
        )
    return tuple(lines)


def matrix_vector_hint(matrix_shape: tuple, vector_length: int) -> tuple:
    """Which operand is which when ``mat @ vec`` does not fit."""
    rows, columns = matrix_shape
    lines = [
        f"mat is the left operand, {rows}x{columns}, and vec the right one, a vector of "
        f"{vector_length}: mat @ vec needs vec's length to equal mat's columns ({columns})."
    ]
    if rows == vector_length:
        lines.append(f"vec @ mat (or mat.T @ vec) fits: it sums over mat's {rows} rows.")
    return tuple(lines)


def dot_hint(length_1: int, length_2: int) -> tuple:
    """Which vector is which when ``a @ b`` of two vectors (a dot product) does not fit."""
    return (
        f"'tensor' is the left vector ({length_1} elements) and 'src' the right one "
        f"({length_2}): a @ b of two 1-D tensors is their dot product, which needs equal lengths.",
        "for every product of an element of a with one of b (an outer product), use "
        "torch.outer(a, b) or a[:, None] * b.",
    )


# ----------------------------------------------------------- nll_loss, cross_entropy
def loss_arguments_hint(input_shape: tuple, target_shape: tuple, target_np_dtype) -> str:
    """Which argument of ``cross_entropy``/``nll_loss`` is which, with what was given."""
    # An input with more dimensions (images, sequences) has a class per position: the (N, C)
    # and (N,) shapes alone would describe it wrongly.
    positions = (
        " For scores per position (images, sequences): input (N, C, d1, ...), target (N, d1, ...)."
        if len(input_shape) > 2
        else ""
    )
    return (
        "cross_entropy(input, target) / nll_loss(input, target): input holds the scores, one row "
        "per sample, shape (N, C) for C classes (nll_loss: log-probabilities); target holds, per "
        "sample, the class index 0..C-1 as int64 (torch.long), shape (N,), or for cross_entropy "
        "the class probabilities as floats, the input's shape (N, C). Given: input "
        f"{_shape_text(input_shape)}, target {_shape_text(target_shape)} of "
        f"{from_numpy_dtype(target_np_dtype)}.{positions}"
    )


def loss_target_dtype_hint(input_shape, target_shape, target_np_dtype) -> tuple:
    return (
        loss_arguments_hint(input_shape, target_shape, target_np_dtype),
        "class indices must be int64: target.long(), or build the target from Python ints "
        "(torch.tensor([0, 2, 1])).",
    )


def loss_batch_size_hint(input_shape, target_shape, target_np_dtype) -> tuple:
    return (
        loss_arguments_hint(input_shape, target_shape, target_np_dtype),
        "the first sizes must agree: one target per row of input. Check that input and target "
        "come from the same batch, and that input has not been flattened or transposed.",
    )


def loss_target_bounds_hint(input_shape, target_shape, target_np_dtype, classes: int) -> tuple:
    return (
        loss_arguments_hint(input_shape, target_shape, target_np_dtype),
        f"input has C = {classes} classes, so a target must be one of 0..{classes - 1} (or "
        "ignore_index). Labels counted from 1 need target - 1; the last layer needs one output "
        "per class.",
    )


def loss_multi_target_hint(input_shape, target_shape, target_np_dtype) -> tuple:
    return (
        loss_arguments_hint(input_shape, target_shape, target_np_dtype),
        "nll_loss takes class indices only; cross_entropy reads a target with a dimension per "
        f"class as class probabilities, floats of the input's shape, {_shape_text(input_shape)}. "
        "One-hot rows become class indices with target.argmax(dim=1).",
    )
