"""One action run with gradienti and with torch, compared by what it gives: its result, or its
error's class and text (what the custom Function tests check against PyTorch)."""

import pytest

import gradienti

HINT_SEPARATOR = "\n\ngradienti: "


def pytorch_text(message: str) -> str:
    """The part of gradienti's error or warning ``message`` that must equal PyTorch's: all of
    it, or what comes before a hint (a blank line, then lines that each start with
    ``gradienti: ``, checked here: see gradienti/beginner_hints.py)."""
    text, separator, hint = message.partition(HINT_SEPARATOR)
    if separator:
        lines = ("gradienti: " + hint).split("\n")
        assert all(line.startswith("gradienti: ") for line in lines), message
    return text


def outcome(action) -> list:
    """What ``action(lib)`` returns or raises, with gradienti and with torch. PyTorch's
    internal asserts are compared by their last sentence (gradienti keeps only that), and
    gradienti's messages without their hints."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (gradienti, torch):
        try:
            results.append(("ok", action(lib)))
        except Exception as error:  # noqa: BLE001 - the class and text are what is compared
            text = pytorch_text(str(error)) if lib is gradienti else str(error)
            if "INTERNAL ASSERT FAILED" in text:
                text = text.split("please report a bug to PyTorch. ")[1]
            results.append((type(error).__name__, text))
    return results


def same_outcome(action):
    """gradienti's outcome of ``action``, checked equal to torch's."""
    ours, theirs = outcome(action)
    assert ours == theirs
    return ours
