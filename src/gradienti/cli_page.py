"""``--html PATH`` of the ``gradienti`` command: where the interactive page goes, whether the
expression is small enough to show, and writing it (``gradienti.viz.show(y).save(path)``).

As for the picture: exactly PATH is written (an existing directory only where the command has
a default name for it, as ``demo`` has), and a directory that does not exist is an error before
anything is computed, never created.
"""

from __future__ import annotations

import os

from .cli_budget import MAX_EXPLAINED_ELEMENTS

__all__ = [
    "MAX_PAGE_STEPS",
    "PAGE_PATH_HELP",
    "PageFailure",
    "check_page_size",
    "checked_output_path",
    "page_path",
]

# The page lays the graph out with the built-in layout, whose time grows faster than the graph:
# measured on one core, about 3.5 s for 300 boxes and 5 s for 450.
MAX_PAGE_STEPS = 500

PAGE_PATH_HELP = (
    "the interactive page (HTML, one self-contained file: step through the pass in a "
    "browser), written to exactly PATH; its directory must exist (none is created)"
)


class PageFailure(Exception):
    """Ends the command with one line on stderr and an exit status (as cli.py's failures)."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


def page_path(text: str, default_name: str = "") -> str:
    """The file ``--html`` writes: exactly ``text`` (with a ``default_name``, an existing
    directory gets the page under that name)."""
    return checked_output_path(text, "--html", default_name, "page")


def checked_output_path(text: str, option: str, default_name: str, noun: str) -> str:
    """The file an ``option`` (``--html``, ``--graph``, ``--out``) writes: exactly ``text``, or
    ``default_name`` in ``text`` when it names an existing directory (only where there is a
    default name). A directory that does not exist is a failure naming it, never created."""
    if not text:
        raise PageFailure(f"{option} needs a file name")
    if text.endswith(("/", os.sep)) or os.path.isdir(text):
        if not default_name:
            raise PageFailure(f"{option} {text} names a directory; give the {noun}'s file name")
        if not os.path.isdir(text):
            raise PageFailure(f"{option} {text}: directory {text} does not exist", status=1)
        text = os.path.join(text, default_name)
    parent = os.path.dirname(text)
    if parent and not os.path.isdir(parent):
        raise PageFailure(f"{option} {text}: parent directory {parent} does not exist", status=1)
    return text


def check_page_size(cost, forward_steps: int = 0) -> None:
    """Refuse, before anything is computed, a page too large to lay out or to hold: ``cost``
    is cli_budget's estimate of the expression; ``forward_steps`` the steps that forward mode's
    passes tell (``forward_explained_steps``), 0 for the backward pass."""
    boxes = cost.operations + cost.leaves
    steps = max(boxes, forward_steps)
    if steps > MAX_PAGE_STEPS:
        raise PageFailure(
            f"--html would show about {steps:,} steps (one per operation and variable"
            f"{', in each forward pass' if forward_steps > boxes else ''}); the limit is "
            f"{MAX_PAGE_STEPS:,} (use a shorter expression)"
        )
    if cost.elements > MAX_EXPLAINED_ELEMENTS:
        raise PageFailure(
            f"--html keeps the values of every step: {cost.elements:,} elements in all; the "
            f"limit is {MAX_EXPLAINED_ELEMENTS:,} (use a shorter expression or fewer elements)"
        )


def write_page(show, y, path: str, *, params: dict, names: dict, mode: str) -> None:
    """``show(y, ...)``'s page (``mode``: backward or forward) saved at ``path``."""
    try:
        show(y, params=params, names=names, mode=mode).save(path)
    except (OSError, RuntimeError, ValueError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise PageFailure(f"cannot write the page {path}: {reason}", status=1) from None
    print(f"The interactive page: {path}")
