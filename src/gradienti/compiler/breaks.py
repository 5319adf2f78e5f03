"""Graph breaks: what makes a traced function unusable as a program, and how it is said.

A trace records the ops a function runs; anything it cannot replay from that record breaks
the graph: a tensor's value read into Python (``.item()``, ``bool()``, printing: the Python
code after it may branch on the value), a random draw, an in-place write, a tensor made by a
path the tracer does not see, an op whose forward cannot be run again from its node. The
function then runs eagerly from then on (gradienti does not split a function into several
graphs as PyTorch's dynamo does), and one UserWarning names the user's line; with
``fullgraph=True`` the break raises instead.
"""

from __future__ import annotations

import os
import sys

# The package's own directory: the first frame outside it is the user's line.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


class GraphBreakError(RuntimeError):
    """Raised by a function compiled with ``fullgraph=True`` where it breaks the graph."""


def _in_package(frame) -> bool:
    return os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR)


def user_location() -> str:
    """ "file:line" of the innermost frame outside gradienti (the user's code)."""
    frame = sys._getframe(1)
    while frame is not None and _in_package(frame):
        frame = frame.f_back
    if frame is None:
        return "<unknown>:0"
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"


def user_stacklevel() -> int:
    """The ``stacklevel`` that makes a warning issued by the caller point at the user's line."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and _in_package(frame):
        frame = frame.f_back
        level += 1
    return level


VALUE_READ = "{what} reads a tensor's value into Python"
RANDOM_DRAW = "a random draw (rand, randn, dropout, bernoulli, normal_, ...)"
PYTHON_RANDOM_DRAW = "a number drawn from Python's random or NumPy's global generator"
IN_PLACE = "an in-place write to a tensor"
UNSEEN_TENSOR = (
    "{op} uses a tensor made inside the function by an operation gradienti.compile does not "
    "record (a comparison, detach(), a creation function such as zeros or tensor(...))"
)
UNSUPPORTED_OP = "{op} is not supported by gradienti.compile"
UNSEEN_OUTPUT = (
    "the function returns a tensor made by an operation gradienti.compile does not record "
    "(a comparison, detach(), a creation function such as zeros or tensor(...))"
)
GRAD_READ = "a tensor's .grad is read (another tensor, or None, after each backward)"
REQUIRES_GRAD_CHANGED = "requires_grad_() or detach_() on an argument inside the function"
HOOKED = "a hook registered inside the function (register_hook, retain_grad)"
BACKWARD_INSIDE = "backward() inside the function (it writes .grad)"


def warning_text(function_name: str, reason: str, location: str) -> str:
    """The one-time warning of a function that broke."""
    return (
        f"gradienti.compile: graph break in {function_name} at {location}: {reason}; "
        f"{function_name} runs eagerly from now on"
    )


def fullgraph_text(function_name: str, reason: str, location: str) -> str:
    return (
        f"gradienti.compile(fullgraph=True): graph break in {function_name} at {location}: "
        f"{reason}. Remove the break, or compile without fullgraph=True (the function then "
        "runs eagerly)."
    )
