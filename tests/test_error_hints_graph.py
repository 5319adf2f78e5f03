"""The "does not require grad" error says why: the hint after PyTorch's exact text."""

from __future__ import annotations

from gradienti.autograd.error_hints import with_hint


def test_with_hint_appends_prefixed_lines_after_a_blank_line():
    message = with_hint("PyTorch's text", ["why it failed", "gradienti: how to fix it"])
    assert message == "PyTorch's text\n\ngradienti: why it failed\ngradienti: how to fix it"


def test_with_hint_without_lines_is_the_message_itself():
    assert with_hint("PyTorch's text", []) == "PyTorch's text"
