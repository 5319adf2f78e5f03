"""The hot copies of ``record_node`` in ops/apply.py, run as the calls they stand for (tests).

``unary``, ``binary``, ``with_number``, the functions made by ``unary_op`` and the operators of
ops/hot_operators.py write ``record_node`` out, for speed. Each copy is marked in its source::

    # Hot copy of record_node(), written out: <what that saves>
    # <(the sentence may go on)>. As one call:
    #     t._edge = record_node(node, (edge,), saved_values(node.save, (data,), out))
    node._next = (edge,)              <- the copy, from here
    ...
    return t                          <- to the first ``return t`` at the marker's indentation

The commented lines are the call (one or more statements, indented four more spaces). The
*twin* of a hot function is the same function with its copy replaced by that call.
``generic_recording()`` swaps each hot function's code for its twin's: the function objects
stay the same, so every reference to them (Tensor's methods, the ops' tables, the names other
modules imported) runs the twin, and the hot path itself carries no switch.
tests/test_recorder_paths.py runs every op case both ways and compares graphs and gradients.
"""

from __future__ import annotations
import __future__

import inspect
import textwrap
from contextlib import contextmanager

from . import apply, hot_operators

MARKER = "# Hot copy of record_node()"
CALL_PREFIX = "#     "  # a line of the call: the comment sign and four spaces, then the code

_twins: dict = {}  # hot code object -> its twin's code object


def hot_functions() -> list:
    """Every function that holds a hot copy."""
    return [
        apply.unary,
        apply.binary,
        apply.with_number,
        *apply.MADE_BY_UNARY_OP,
        *hot_operators.HOT_OPERATORS,  # Tensor's + - * and x**2, x**3
    ]


@contextmanager
def generic_recording():
    """Within the block, the hot functions record through ``record_node`` (their twins run)."""
    functions = hot_functions()
    originals = [function.__code__ for function in functions]
    twins = [twin_code(code) for code in originals]
    try:
        for function, twin in zip(functions, twins):
            function.__code__ = twin
        yield
    finally:
        for function, code in zip(functions, originals):
            function.__code__ = code


def twin_code(code):
    """The code of ``code``'s twin, compiled once per code object (all of unary_op's functions
    share one). A closure's twin closes over the same variables, so the swap keeps its cells."""
    twin = _twins.get(code)
    if twin is None:
        twin = _twins[code] = _compile_twin(code)
    return twin


def _compile_twin(code):
    source = textwrap.dedent("\n".join(with_call(inspect.getsource(code), code.co_name)))
    # A factory whose parameters are the closure's variables, so that the twin defined inside it
    # closes over the same names (in the same, sorted, order); its own name stays a global, as
    # in the module (binary calls itself).
    factory = (
        f"def _factory({', '.join(code.co_freevars)}):\n"
        f"    global {code.co_name}\n"
        f"{textwrap.indent(source, '    ')}\n"
        f"    return {code.co_name}\n"
    )
    compiled = compile(
        factory,
        f"<twin of {code.co_name}>",
        "exec",
        flags=__future__.annotations.compiler_flag,  # as apply.py: annotations stay strings
        dont_inherit=True,
    )
    namespace: dict = {}
    exec(compiled, dict(vars(apply)), namespace)  # noqa: S102 - apply.py's own source
    twin = namespace["_factory"](*(None,) * len(code.co_freevars)).__code__
    if twin.co_freevars != code.co_freevars:
        raise RuntimeError(
            f"{code.co_name}: the call after '{MARKER}' must use the same closure variables "
            f"as the copy it replaces ({twin.co_freevars} instead of {code.co_freevars})"
        )
    return twin


def with_call(source: str, name: str) -> list[str]:
    """The lines of a hot function's ``source`` with its copy replaced by the marked call."""
    lines = source.splitlines()
    starts = [i for i, line in enumerate(lines) if line.lstrip().startswith(MARKER)]
    if len(starts) != 1:
        raise RuntimeError(f"{name}: expected one '{MARKER}' comment, found {len(starts)}")
    start = starts[0]
    indent = lines[start][: len(lines[start]) - len(lines[start].lstrip())]
    call_prefix = indent + CALL_PREFIX
    call_start = start + 1
    while lines[call_start].startswith(indent + "# ") and not lines[call_start].startswith(
        call_prefix
    ):
        call_start += 1  # the marker's sentence goes on
    call_end = call_start
    while lines[call_end].startswith(call_prefix):
        call_end += 1
    if call_end == call_start:
        raise RuntimeError(f"{name}: no call under '{MARKER}' (lines '{indent}{CALL_PREFIX}...')")
    call = [indent + line[len(call_prefix) :] for line in lines[call_start:call_end]]
    try:
        end = lines.index(indent + "return t", call_end)
    except ValueError:
        raise RuntimeError(f"{name}: the copy after '{MARKER}' must end with 'return t'") from None
    return lines[:start] + call + lines[end:]
