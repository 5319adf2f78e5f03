"""Hints appended to PyTorch's error texts: why a beginner's mistake failed.

The message of an error that carries a hint is PyTorch's text unchanged, a blank line, then one
or more lines that start with ``gradienti: ``. So the first line still equals what PyTorch says
(tests compare it with torch's), and the exception class stays PyTorch's. Hints are only built
at raise time: nothing here runs on the plain path of an op or of a backward pass.
"""

from __future__ import annotations

HINT_PREFIX = "gradienti: "


def with_hint(message: str, hint_lines) -> str:
    """PyTorch's ``message``, a blank line, then each of ``hint_lines`` as a ``gradienti:`` line.

    A line that already starts with ``gradienti: `` keeps its prefix once; without any hint line
    the message comes back unchanged.
    """
    lines = [line if line.startswith(HINT_PREFIX) else HINT_PREFIX + line for line in hint_lines]
    if not lines:
        return message
    return message + "\n\n" + "\n".join(lines)
