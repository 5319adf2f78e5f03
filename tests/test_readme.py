"""README.md's Python blocks run, in order, in one namespace, and print what their comments say.

A ``print(...)  # text`` line must print ``text`` (a print that writes several lines must contain
each piece of the comment that follows a colon: ``# step by step: 60 + 8 + 4 = 72``). Compound
statements (``with``) compare the lines their prints wrote with their comments in order.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _python_blocks(text: str) -> list:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def _print_comments(source_lines: list, first: int, last: int) -> list:
    """The comments of the print lines between lines ``first`` and ``last`` (1-based)."""
    comments = []
    for line in source_lines[first - 1 : last]:
        code, _, comment = line.partition("  # ")
        if "print(" in code and comment:
            comments.append(comment.strip())
    return comments


def _matches(printed: str, comment: str) -> bool:
    if "\n" not in printed.strip():
        return printed.strip() == comment
    pieces = comment.split(": ")[1:] or [comment]
    return all(piece in printed for piece in pieces)


def test_every_python_block_prints_what_its_comments_say(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # (a block may write a picture)
    namespace: dict = {}
    blocks = _python_blocks(README.read_text(encoding="utf-8"))
    assert len(blocks) >= 3
    checked = 0
    for number, block in enumerate(blocks):
        lines = block.splitlines()
        for statement in ast.parse(block).body:
            output = io.StringIO()
            code = compile(ast.Module([statement], []), f"README block {number}", "exec")
            with contextlib.redirect_stdout(output):
                exec(code, namespace)  # the README's own example code
            comments = _print_comments(lines, statement.lineno, statement.end_lineno)
            if not comments:
                continue
            printed = output.getvalue()
            if len(comments) == 1:
                assert _matches(printed, comments[0]), (printed, comments[0])
            else:
                assert printed.splitlines() == comments
            checked += len(comments)
    assert checked >= 7
