"""How much ``gradienti grad`` may compute: the cost of an expression, estimated from its tree.

The length of an expression and the size of each vector are capped on their own, but the work is
their product: every operation runs on whole vectors, ``--order 2`` runs one more backward pass
per element of the variables, ``--mode forward`` one forward pass per element, and ``--explain``
keeps the values of every step (with ``--mode forward``, tells each operation once in the pass of
every variable it depends on). ``check_budget``
refuses what is too large before anything is computed, from the parsed tree and the sizes alone.

The estimate is exact in shape: the language has scalars and vectors only, its operations are
elementwise (a scalar broadcasts against a vector) or reduce a vector to a scalar, so the number
of elements of every intermediate result follows from the variables' sizes. Each operation that
involves a tensor is one node of the autograd graph (numbers alone are combined as Python floats).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

from .expression import Expression, ExpressionError, fold

# One pass over a graph (forward and backward) costs about OPERATION_OVERHEAD + n element-steps
# per operation on n elements: the Python around a NumPy call weighs as much as ~8,000 elements
# of float32 arithmetic (measured: 1,200 operations on 1,000 elements, 1,001 passes, ~13 s).
OPERATION_OVERHEAD = 8_000
MAX_WORK = 1_000_000_000  # element-steps: a second or two
# A pass of --mode forward (values and tangents, by the ops' forward-mode rules) costs about two
# passes of --order 2 (measured: 400 operations on 200 elements, 200 passes: 1.3 s against 0.74 s).
FORWARD_PASS_WEIGHT = 2
MAX_HELD_ELEMENTS = 50_000_000  # what the graph saves: 200 MB of float32, 400 of float64
MAX_EXPLAINED_STEPS = 1_000  # --explain prints a few lines per step: a few hundred KB of text
MAX_EXPLAINED_ELEMENTS = 5_000_000  # --explain keeps several arrays per step (~20 bytes each)

# Functions whose result is a scalar whatever their arguments; max and min only with one argument
# (max(x, y) is elementwise).
REDUCTIONS = frozenset({"sum", "mean", "prod", "norm", "dot"})
ONE_ARGUMENT_REDUCTIONS = frozenset({"max", "min"})


class BudgetError(ExpressionError):
    """The expression is well formed but would take too much time or memory."""


@dataclass(frozen=True)
class Cost:
    """What one evaluation of an expression computes."""

    operations: int  # tensor operations: about one autograd node each
    elements: int  # their elements summed, each at its largest operand or result
    leaves: int  # the variables it uses: one leaf of the graph each
    size: int  # the elements of the result

    def work(self, passes: int) -> int:
        """Element-steps of ``passes`` passes over the graph."""
        return passes * (self.elements + self.operations * OPERATION_OVERHEAD)


def estimate(expression: Expression, sizes: Mapping[str, int]) -> Cost:
    """The cost of ``expression.evaluate`` with variables of ``sizes`` elements (1: a scalar).

    The walk is iterative (post-order), like the evaluation, so that deep nesting is no problem.
    """
    operations = elements = 0

    def count(node, args: list[tuple[bool, int]]) -> tuple[bool, int]:
        """(is a tensor, number of elements) of the subtree at ``node``; counts its work."""
        nonlocal operations, elements
        is_tensor, size = _result(node, args, sizes)
        if isinstance(node, ast.Call) or (is_tensor and _is_operator(node)):
            operations += 1
            elements += max([size, *(operand for _, operand in args)])
        return is_tensor, size

    _, size = fold(expression.tree.body, count)
    leaves = sum(1 for name in expression.variables if name in sizes)
    return Cost(operations=operations, elements=elements, leaves=leaves, size=size)


def forward_explained_steps(expression: Expression, sizes: Mapping[str, int]) -> int:
    """The steps ``--explain --mode forward`` tells: one forward pass per variable, each telling
    the operations that depend on that variable (and the sum of a vector f, which the command
    explains): the number of variables each operation depends on, summed."""
    steps = 0

    def count(node, args: list[tuple[bool, int, frozenset]]) -> tuple[bool, int, frozenset]:
        """(is a tensor, number of elements, variables it depends on) of the subtree at
        ``node``; counts its steps."""
        nonlocal steps
        is_tensor, size = _result(node, [(t, n) for t, n, _ in args], sizes)
        if isinstance(node, ast.Name):
            return is_tensor, size, frozenset([node.id] if node.id in sizes else [])
        depends_on = frozenset().union(*(names for _, _, names in args))
        if isinstance(node, ast.Call) or (is_tensor and _is_operator(node)):
            steps += len(depends_on)
        return is_tensor, size, depends_on

    _, size, depends_on = fold(expression.tree.body, count)
    return steps + (len(depends_on) if size > 1 else 0)


def _is_operator(node) -> bool:
    """A binary operator or a unary minus (a unary plus is the operand itself)."""
    return isinstance(node, ast.BinOp) or (
        isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
    )


def _result(node, args: list[tuple[bool, int]], sizes: Mapping[str, int]) -> tuple[bool, int]:
    """Whether ``node`` gives a tensor, and its number of elements."""
    if isinstance(node, ast.Name):
        return (True, sizes[node.id]) if node.id in sizes else (False, 1)
    if isinstance(node, ast.Call):  # every function makes a tensor of its arguments
        name = node.func.id
        if name in REDUCTIONS or (name in ONE_ARGUMENT_REDUCTIONS and len(args) == 1):
            return True, 1
        return True, max(size for _, size in args)
    if args:  # an operator: a tensor if an operand is one, broadcast to the larger size
        return any(is_tensor for is_tensor, _ in args), max(size for _, size in args)
    return False, 1  # a number


def check_budget(
    cost: Cost,
    *,
    order: int,
    hessian_rows: int,
    explain: bool,
    forward_passes: int = 0,
    forward_steps: int = 0,
) -> None:
    """Raise a one-line ``BudgetError`` if the run would be too large.

    ``order`` 2 keeps the graph of the gradient as well (twice the values) and runs
    ``hessian_rows`` more backward passes; ``explain``: ``--explain`` is asked for;
    ``forward_passes``: the forward passes of ``--mode forward`` besides (one per element of the
    variables), ``forward_steps`` the steps its explanation tells (``forward_explained_steps``).
    """
    size = f"{cost.operations:,} operations on {cost.elements:,} elements in all"
    advice = "use a shorter expression or fewer elements"
    passes = 1 + (hessian_rows if order == 2 else 0) + FORWARD_PASS_WEIGHT * forward_passes
    work = cost.work(passes)
    if work > MAX_WORK:
        how = f" in {passes:,} passes (--order 2: one per element)" if passes > 1 else ""
        if forward_passes:
            how = f" in {forward_passes:,} forward passes (--mode forward: one per element)"
        raise BudgetError(
            f"too much work: {size}{how}, about {work:.1e} element-steps; "
            f"the limit is {MAX_WORK:.0e} ({advice})"
        )
    held = cost.elements * order
    if held > MAX_HELD_ELEMENTS:
        how = ", kept twice for --order 2" if order == 2 else ""
        raise BudgetError(
            f"too much memory: {size}{how}; the limit is {MAX_HELD_ELEMENTS:,} elements ({advice})"
        )
    if not explain:
        return
    if forward_steps > MAX_EXPLAINED_STEPS:
        raise BudgetError(
            f"--explain --mode forward would print about {forward_steps:,} steps (one per "
            "operation in the pass of each variable it depends on); the limit is "
            f"{MAX_EXPLAINED_STEPS:,} (explain a shorter expression or one of fewer variables)"
        )
    steps = cost.operations + cost.leaves
    if steps > MAX_EXPLAINED_STEPS:
        raise BudgetError(
            f"--explain would print about {steps:,} steps (one per operation and variable); "
            f"the limit is {MAX_EXPLAINED_STEPS:,} (explain a shorter expression)"
        )
    if cost.elements > MAX_EXPLAINED_ELEMENTS:
        raise BudgetError(
            f"--explain keeps the values of every step: {size}; "
            f"the limit is {MAX_EXPLAINED_ELEMENTS:,} ({advice})"
        )
