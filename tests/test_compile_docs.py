"""docs/performance.md's compiled-path example runs and prints what the page shows."""

import re
import subprocess
import sys
from pathlib import Path

PAGE = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def compiled_section() -> str:
    text = PAGE.read_text(encoding="utf-8")
    return text.split("## The compiled path", 1)[1].split("\n## ", 1)[0]


def test_the_compiled_path_example_prints_what_the_page_shows(tmp_path):
    section = compiled_section()
    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    (shown,) = re.findall(r"```text\n(.*?)```", section, re.S)
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-W", "error", str(script)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr  # and no warning: no graph break, no eager note
    assert done.stdout == shown


def test_the_page_names_the_compiled_workloads_and_the_stats_fields():
    section = compiled_section()
    assert "benchmarks/run.py --only seed_compiled chain_compiled mlp_compiled" in section
    for field in ("traces", "recompiles", "compiled_calls", "eager_calls", "graph_break", "ops"):
        assert f"`{field}`" in section, field
