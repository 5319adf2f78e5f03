"""einsum: one node, whose VJP for each operand is another einsum.

The gradient of operand k contracts the upstream gradient with the other operands, down to
k's own subscripts; subscripts that only k has (summed in the forward) are broadcast back,
and a subscript repeated in k (a diagonal, a trace) puts the gradient on that diagonal. On
Tensors (``create_graph=True``) those steps are the einsum op itself and differentiable
helpers, so derivatives of any order are einsums too. einsum is linear in each operand, so
its forward derivative is the same equation once per operand with a tangent, that operand
replaced by its tangent, summed.

PyTorch decomposes einsum into permutes, diagonals and a bmm per pair of operands, so its
graph has many nodes; here it is a single ``EinsumBackward`` node (not a PyTorch name).
The equation is checked, with PyTorch's messages, before NumPy sees it.

Public operations are declared in ``DECLARATIONS`` at the bottom (see ops/declare.py).
"""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, result_type, xp
from ..graph.node import NO_EDGE, SAVE_INPUTS, SAVE_NOTHING, Op
from ..tensor import Tensor, wrap
from .apply import nary, unary
from .declare import declare, explain_nodes
from .explain_rule import Rule, slot_names
from .jvp_rules import linear
from .products import sum_of_shares
from .shape import expand, reshape, sum_to

# NumPy's einsum picks a contraction order and BLAS calls only when asked (``optimize``),
# which costs tens of microseconds; a product of all subscript sizes above this is worth it.
_OPTIMIZE_ABOVE = 4096
# PyTorch orders the implicit output's subscripts A-Z, then a-z.
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ELLIPSIS = "..."


class EinsumBackward(Op):
    """``einsum(subscripts, *operands)``: ``terms`` (one string of letters per operand) and
    ``output`` spell the equation with every ellipsis replaced by letters."""

    __slots__ = ("terms", "output", "subscripts", "optimize")
    save = SAVE_INPUTS

    @staticmethod
    def forward(ctx, *arrays):
        out = xp.einsum(ctx.subscripts, *arrays, optimize=ctx.optimize)
        if len(arrays) == 1 and type(out) is xp.ndarray and xp.may_share_memory(out, arrays[0]):
            out = out.copy()  # NumPy returns a view for a transpose or a diagonal
        return out

    @staticmethod
    def backward(ctx, g):
        operands = ctx.saved_tensors
        return tuple(
            None if edge is None else _operand_grad(g, operands, ctx.terms, ctx.output, k)
            for k, edge in enumerate(ctx._next)
        )

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        # The product rule: one share per operand k with a tangent, k replaced by it.
        return sum_of_shares(
            None
            if tangent is None
            else _apply(ctx.subscripts, primals[:k] + (tangent,) + primals[k + 1 :])
            for k, tangent in enumerate(tangents)
        )


class EinsumDiagonalScatterBackward(Op):
    """Values placed on the diagonal of zeros that a repeated subscript names (``ii``): the
    VJP of taking that diagonal, itself differentiable (by taking it again)."""

    __slots__ = ("term", "unique", "shape")
    save = SAVE_NOTHING

    @staticmethod
    def forward(ctx, x):
        return _scatter_array(x, ctx.term, ctx.unique, ctx.shape)

    @staticmethod
    def backward(ctx, g):
        return _contract(f"{ctx.term}->{ctx.unique}", [g])

    jvp = staticmethod(linear)  # the tangent placed on the same diagonal


def _scatter_array(values, term: str, unique: str, shape: tuple):
    out = xp.zeros(shape, dtype=values.dtype)
    xp.einsum(f"{term}->{unique}", out)[...] = values  # einsum's diagonal is a writable view
    return out


def _grad_plan(terms, output: str, k: int) -> tuple:
    """For operand k: its distinct subscripts, the other operands, and the subscripts of k
    that the gradient and the others have (the contraction's output)."""
    unique = "".join(dict.fromkeys(terms[k]))
    others = [j for j in range(len(terms)) if j != k]
    available = set(output).union(*(terms[j] for j in others))
    return unique, others, "".join(c for c in unique if c in available)


def _operand_grad(g, operands, terms, output: str, k: int):
    term = terms[k]
    unique, others, present = _grad_plan(terms, output, k)
    if not others and present == output:
        grad = g
    else:
        subscripts = ",".join([output] + [terms[j] for j in others]) + "->" + present
        grad = _contract(subscripts, [g] + [operands[j] for j in others])
    shape = tuple(operands[k].shape)
    sizes = dict(zip(term, shape))
    target = tuple(sizes[c] for c in unique)
    if len(present) != len(unique):  # subscripts only k has: broadcast along them
        present_sizes = dict(zip(present, tuple(grad.shape)))
        grad = reshape(grad, tuple(present_sizes.get(c, 1) for c in unique))
    grad_shape = tuple(grad.shape)
    kept = tuple(1 if size == 1 else grad_size for grad_size, size in zip(grad_shape, target))
    if kept != grad_shape:  # a size-1 subscript of k that the others broadcast
        grad = sum_to(grad, kept)
    if kept != target:
        grad = expand(grad, target)
    if len(unique) != len(term):
        if type(grad) is not Tensor:
            return _scatter_array(grad, term, unique, shape)
        node = EinsumDiagonalScatterBackward()
        node.term, node.unique, node.shape = term, unique, shape
        return unary(node, grad)
    return grad


def _contract(subscripts: str, operands: list):
    """An einsum of raw arrays, or of Tensors (recorded, when any operand is one)."""
    if any(type(operand) is Tensor for operand in operands):
        # No dtype check: a saved operand comes back in its own dtype, the gradient in the
        # promoted one; the product promotes (the engine casts each gradient back).
        tensors = [op if type(op) is Tensor else wrap(xp.asarray(op), NO_EDGE) for op in operands]
        return _apply(subscripts, tensors)
    inputs, _ = subscripts.split("->")
    terms = inputs.split(",")
    optimize = _worth_optimizing(terms, [xp.shape(operand) for operand in operands])
    return xp.einsum(subscripts, *operands, optimize=optimize)


def _worth_optimizing(terms, shapes) -> bool:
    if len(terms) < 2:
        return False
    sizes: dict = {}
    for term, shape in zip(terms, shapes):
        for letter, size in zip(term, shape):
            sizes[letter] = max(sizes.get(letter, 1), size)
    cost = 1
    for size in sizes.values():
        cost *= size
    return cost > _OPTIMIZE_ABOVE


# ------------------------------------------------------------------ parsing (PyTorch's checks)
_SPECS: dict = {}


def _spec(equation: str, shapes: tuple) -> tuple:
    """(terms, output, subscripts, optimize) for an equation and the operands' shapes."""
    key = (equation, shapes)
    spec = _SPECS.get(key)
    if spec is None:
        if len(_SPECS) > 512:
            _SPECS.clear()
        spec = _SPECS[key] = _parse(equation, shapes)
    return spec


def _parse(equation: str, shapes: tuple) -> tuple:
    arrow = equation.find("->")
    lhs = equation if arrow < 0 else equation[:arrow]
    labels = _parse_inputs(lhs, len(shapes))
    counts: dict = {}
    ellipsis_dims = 0
    for i, (term, shape) in enumerate(zip(labels, shapes)):
        letters = [c for c in term if c != _ELLIPSIS]
        for c in letters:
            counts[c] = counts.get(c, 0) + 1
        has_ellipsis = len(letters) != len(term)
        if has_ellipsis:
            ellipsis_dims = max(ellipsis_dims, len(shape) - len(letters))
        if len(letters) > len(shape) if has_ellipsis else len(letters) != len(shape):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(letters)}) "
                + ("is more than" if has_ellipsis else "does not match")
                + f" the number of dimensions ({len(shape)}) for operand {i}"
                + ("" if has_ellipsis else " and no ellipsis was given")
            )
    spare = [c for c in _LETTERS if c not in counts]
    ellipsis_letters = "".join(spare[len(spare) - ellipsis_dims :]) if ellipsis_dims else ""
    if arrow < 0:
        output = ellipsis_letters + "".join(c for c in _LETTERS if counts.get(c) == 1)
    else:
        output = _parse_output(equation[arrow + 2 :], len(lhs), counts, ellipsis_letters)
    terms = []
    for term, shape in zip(labels, shapes):
        covered = len(shape) - (len(term) - 1)
        letters = (
            ellipsis_letters[ellipsis_dims - covered :] if c == _ELLIPSIS else c for c in term
        )
        terms.append("".join(letters))
    _check_sizes(terms, shapes, ellipsis_letters)
    subscripts = ",".join(terms) + "->" + output
    return tuple(terms), output, subscripts, _worth_optimizing(terms, shapes)


def _parse_inputs(lhs: str, count: int) -> list:
    labels: list = [[] for _ in range(count)]
    current = 0
    seen_ellipsis = False
    i = 0
    while i < len(lhs):
        c = lhs[i]
        if c == ".":
            if seen_ellipsis:
                raise RuntimeError(
                    f"einsum(): found '.' for operand {current} for which an ellipsis was "
                    "already found"
                )
            if not lhs.startswith("...", i):
                raise RuntimeError(
                    f"einsum(): found '.' for operand {current} that is not part of any ellipsis"
                )
            labels[current].append(_ELLIPSIS)
            seen_ellipsis = True
            i += 2
        elif c == ",":
            current += 1
            if current >= count:
                raise RuntimeError(
                    "einsum(): fewer operands were provided than specified in the equation"
                )
            seen_ellipsis = False
        elif c != " ":
            if c not in _LETTERS:
                raise RuntimeError(
                    f"einsum(): invalid subscript given at index {i} in the equation string, "
                    "subscripts must be in [a-zA-Z]"
                )
            labels[current].append(c)
        i += 1
    if current != count - 1:
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    return labels


def _parse_output(rhs: str, lhs_length: int, counts: dict, ellipsis_letters: str) -> str:
    output = []
    seen_ellipsis = False
    i = 0
    while i < len(rhs):
        c = rhs[i]
        if c == ".":
            if seen_ellipsis:
                raise RuntimeError(
                    "einsum(): found '.' for output but an ellipsis (...) was already found"
                )
            if not rhs.startswith("...", i):
                raise RuntimeError(
                    "einsum(): found '.' for output that is not part of any ellipsis (...)"
                )
            output.append(ellipsis_letters)
            seen_ellipsis = True
            i += 2
        elif c != " ":
            if c not in _LETTERS:
                raise RuntimeError(
                    f"einsum(): invalid subscript given at index {lhs_length + 2 + i} in the "
                    "equation string, subscripts must be in [a-zA-Z]"
                )
            if c in output:
                raise RuntimeError(
                    f"einsum(): output subscript {c} appears more than once in the output"
                )
            if c not in counts:
                raise RuntimeError(
                    f"einsum(): output subscript {c} does not appear in the equation for any "
                    "input operand"
                )
            output.append(c)
        i += 1
    return "".join(output)


def _check_sizes(terms: list, shapes: tuple, ellipsis_letters: str) -> None:
    """Sizes of a subscript agree across operands or are 1 (broadcast); a repeated one agrees."""
    seen: dict = {}
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        first_dim: dict = {}
        for dim, (c, size) in enumerate(zip(term, shape)):
            if c in first_dim:
                previous = shape[first_dim[c]]
                if size != previous:
                    raise RuntimeError(
                        f"einsum(): subscript {c} is repeated for operand {i} but the sizes "
                        f"don't match, {size} != {previous}"
                    )
                continue
            first_dim[c] = dim
            if size == 1:
                continue
            previous = seen.get(c, 1)
            if previous != 1 and previous != size:
                if c in ellipsis_letters:
                    raise RuntimeError(
                        f"einsum(): dimension {dim} covered by ellipsis in operand {i}has size "
                        f"{size} which does not broadcast with previously seen ellipsis with "
                        f"size {previous} for the respective dimension"
                    )
                raise RuntimeError(
                    f"einsum(): subscript {c} has size {size} for operand {i} which does not "
                    f"broadcast with previously seen size {previous}"
                )
            seen[c] = size


def _check_dtypes(arrays: list, terms: tuple, output: str) -> None:
    """PyTorch contracts operands pairwise, left to right: a pair that sums a subscript is a
    bmm, which refuses two dtypes; a pair that sums none is a product, which promotes."""
    counts: dict = {}
    nontrivial = []
    for term, array in zip(terms, arrays):
        letters = {c for c, size in zip(term, array.shape) if size != 1}
        nontrivial.append(letters)
        for c in letters - set(output):
            counts[c] = counts.get(c, 0) + 1
    left, left_dtype = nontrivial[0], arrays[0].dtype
    for right, array in zip(nontrivial[1:], arrays[1:]):
        summed = False
        for c in list(counts):
            if c in left and c in right:
                counts[c] -= 1
                if counts[c] == 1:
                    summed = True
                    counts[c] = 0
                    left = left - {c}
            elif counts[c] == 1 and (c in left or c in right):
                counts[c] = 0
                left, right = left - {c}, right - {c}
        if summed and left_dtype != array.dtype:
            raise RuntimeError(
                f"expected scalar type {SCALAR_TYPE_NAMES[str(left_dtype)]} but found "
                f"{SCALAR_TYPE_NAMES[str(array.dtype)]}"
            )
        left = left | right
        left_dtype = result_type(left_dtype, array.dtype, 1, 1)


# ------------------------------------------------------------------ the public function
def _subscript_letter(n) -> str:
    if n is Ellipsis:
        return _ELLIPSIS
    if isinstance(n, int) and 0 <= n < 52:
        return _LETTERS[n]
    raise ValueError("einsum(): subscript in subscript list is not within the valid range [0, 52)")


def _from_sublists(args: tuple) -> tuple:
    """``einsum(x, [0, 1], y, [1, 2], [0, 2])``: PyTorch's sublist format as an equation."""
    operands = args[0::2][: len(args) // 2]
    terms = ["".join(_subscript_letter(n) for n in sublist) for sublist in args[1::2]]
    equation = ",".join(terms[: len(operands)])
    if len(args) % 2:
        equation += "->" + "".join(_subscript_letter(n) for n in args[-1])
    return equation, operands


def einsum(*args):
    if len(args) < 2:
        raise ValueError(
            "einsum(): must specify the equation string and at least one operand, or at least "
            "one operand and its subscripts list"
        )
    if isinstance(args[0], str):
        equation, operands = args[0], args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:
        equation, operands = _from_sublists(args)
    for i, operand in enumerate(operands):
        if type(operand) is not Tensor:
            kind = type(operand)
            name = kind.__name__ if kind.__module__ == "builtins" else kind.__module__
            name = name if kind.__module__ == "builtins" else f"{name}.{kind.__name__}"
            raise TypeError(f"expected Tensor as element {i} in argument 1, but got {name}")
    if not operands:
        raise RuntimeError("einsum(): must provide at least one operand")
    arrays = [operand._data for operand in operands]
    if any(a.dtype != arrays[0].dtype for a in arrays):
        terms, output, _, _ = _spec(equation, tuple(a.shape for a in arrays))
        _check_dtypes(arrays, terms, output)
    return _apply(equation, operands)


def _apply(equation: str, operands) -> Tensor:
    terms, output, subscripts, optimize = _spec(equation, tuple(op._data.shape for op in operands))
    node = EinsumBackward()
    node.terms, node.output, node.subscripts, node.optimize = terms, output, subscripts, optimize
    return nary(node, *operands)


# ---------------------------------------------------------------------- explain rules
def _einsum_rule(node) -> Rule:
    terms, output = node.terms, node.output
    slots = slot_names(len(terms))
    operands = ", ".join(f"{{{slot}:0}}" for slot in slots)
    return Rule(
        "Einstein summation",
        f"einsum('{','.join(terms)}->{output}', {operands})",
        passes=tuple(_operand_pass(terms, output, k, slots) for k in range(len(terms))),
    )


def _operand_pass(terms, output: str, k: int, slots) -> str:
    """What ``_operand_grad`` computes for operand k, in words."""
    term = terms[k]
    unique, others, present = _grad_plan(terms, output, k)
    if not others and present == output:
        text = "the gradient"
    else:
        subscripts = ",".join([output] + [terms[j] for j in others]) + "->" + present
        arguments = ", ".join(["gradient"] + [slots[j] for j in others])
        text = f"einsum('{subscripts}', {arguments})"
    if len(present) != len(unique):
        text += f", copied along {''.join(c for c in unique if c not in present)}"
    if len(unique) != len(term):
        text += f", put on the diagonal {term}"
    return text


def _diagonal_scatter_rule(node) -> Rule:
    return Rule(
        f"values put on the diagonal {node.term} of zeros (the VJP of taking that diagonal)",
        f"diagonal_scatter({{x:0}}, '{node.term}')",
        passes=(f"the diagonal {node.term} of the gradient",),
    )


DECLARATIONS = (
    declare("einsum", einsum, method=None, explain={EinsumBackward: _einsum_rule}),
    explain_nodes({EinsumDiagonalScatterBackward: _diagonal_scatter_rule}),
)
