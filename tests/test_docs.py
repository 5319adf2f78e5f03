"""The lesson page in docs/ is generated from real runs and must not be stale."""

import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_lesson_page_and_picture_are_up_to_date():
    done = subprocess.run(
        [sys.executable, str(DOCS / "build_lesson.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr + "\nrun: python docs/build_lesson.py"


def test_lesson_page_shows_the_lessons_numbers():
    page = (DOCS / "lesson.md").read_text(encoding="utf-8")
    for text in (
        "tensor(2., requires_grad=True)",
        "Function output: 64.0",
        "Gradient of x: 72.0",
        "60 + 8 + 4 = 72",
        "![The lesson's graph](lesson_graph.svg)",
    ):
        assert text in page
    assert (DOCS / "lesson_graph.svg").read_text(encoding="utf-8").lstrip().startswith("<")
