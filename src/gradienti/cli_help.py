"""The help text of ``gradienti grad``: the values, operators and functions it takes, examples,
and its limits (kept apart from cli.py, which wires the commands)."""

from __future__ import annotations

from .expression import CONSTANTS, FUNCTIONS, MAX_LENGTH

__all__ = ["GRAD_EPILOG", "functions_help", "grad_epilog"]


def functions_help() -> str:
    """The expression's functions, wrapped to the terminal's 80 columns, and its constants."""
    lines, line = [], " "
    for function in FUNCTIONS.values():
        entry = " " + function.signature
        if len(line) + len(entry) > 78:
            lines.append(line)
            line = " "
        line += entry
    lines.append(line)
    return "\n".join(lines) + "\nconstants: " + ", ".join(CONSTANTS)


GRAD_EPILOG = """\
values: a number (2, -1.5, 1e-3, inf) or a vector (1,2,3). Variables are float32 tensors
(like torch.tensor(2.0)); --dtype float64 for more digits. Numbers print as PyTorch's
f"{{tensor}}" does: a scalar as its Python float, a vector as tensor([...]). A result that is
not a scalar is summed before differentiating, and the output says so.

operators: + - * / ** and parentheses. functions:
{functions}

examples:
  gradienti grad "5*x**3 + 2*x**2 + 4*x + 8" x=2
  gradienti grad "x*y + sin(x)" x=1 y=2 --order 2
  gradienti grad "5*x**3 + 2*x**2 + 4*x + 8" x=2 --mode forward --explain
  gradienti grad "sum(w*v) + sigmoid(b)" w=1,2,3 v=0.5,-1,2 b=0 --graph graph.svg
  gradienti grad "-x**2" x=3        (an expression may start with '-')

limits: an expression of {max_length:,} characters, vectors of {max_elements:,} elements,
{max_hessian:,} elements in all for --order 2. The work (operations x elements, times one
pass per element for --order 2) and what --explain prints are bounded too: beyond a limit
the command says which, in one line, and computes nothing (exit status 2).
"""


def grad_epilog(max_elements: int, max_hessian: int) -> str:
    """``gradienti grad --help``'s text after the options, with the command's limits."""
    return GRAD_EPILOG.format(
        functions=functions_help(),
        max_length=MAX_LENGTH,
        max_elements=max_elements,
        max_hessian=max_hessian,
    )
