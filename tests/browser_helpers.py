"""Driving the interactive page (gradienti.viz.show / Dot.to_html) in a real headless Chromium.

The browser is Debian's ``chromium`` (``apt-get install chromium``), driven by Playwright for
Python (the ``dev`` extra) through ``executable_path``: ``playwright install`` is never needed,
so nothing is downloaded. Without a browser or the driver the tests skip and say why, except
when ``GRADIENTI_BROWSER_TESTS=required`` (CI sets it after installing chromium): then a missing
browser is a failure, so CI cannot pass with the browser tests silently skipped.

The page's DOM is the contract in the issue: one ``.gradienti-view`` root per view, the
controls ``.gd-first/.gd-prev/.gd-play/.gd-next/.gd-last``, the counter ``.gd-counter``, the
panel ``.gd-explain``, SVG nodes ``g.node[data-node]`` and edges ``g.edge[data-edge]`` with the
state classes ``gd-current``, ``gd-done``, ``gd-flowed`` and the labels ``text.gd-grad`` and
``text.gd-total``; the step model is the JSON in ``script.gd-model``.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}


def chromium_path() -> str | None:
    """Debian's chromium (or the one GRADIENTI_CHROMIUM names), or None."""
    named = os.environ.get("GRADIENTI_CHROMIUM")
    if named:
        return named if Path(named).is_file() else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


def skip_or_fail(reason: str):
    """Skip with ``reason``; fail instead where the browser tests are required (CI)."""
    if os.environ.get("GRADIENTI_BROWSER_TESTS") == "required":
        pytest.fail(f"GRADIENTI_BROWSER_TESTS=required, but {reason}")
    pytest.skip(reason)


def launch_chromium():
    """(playwright, browser) on Debian's chromium; skips when either is missing."""
    try:
        from playwright.sync_api import sync_playwright  # an optional test tool
    except ImportError:
        skip_or_fail("Playwright is not installed (pip install -e '.[dev]')")
    executable = chromium_path()
    if executable is None:
        skip_or_fail("no chromium to drive (apt-get install chromium)")
    driver = sync_playwright().start()
    try:
        browser = driver.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    except Exception as error:  # the driver's own error class; say what went wrong
        driver.stop()
        skip_or_fail(f"chromium at {executable} did not start: {error}")
    return driver, browser


class PageLog:
    """Every console error/warning and uncaught page error of one page, as text."""

    def __init__(self, page):
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"pageerror: {error}"))

    def _console(self, message):
        if message.type in ("error", "warning", "assert"):
            self.problems.append(f"console.{message.type}: {message.text}")


def open_page(browser, path: Path, fake_clock: bool = False):
    """A fresh page (own context) showing ``path``, with its console log attached.

    With ``fake_clock`` the page's timers run only when the test advances them
    (``page.clock.run_for(ms)``), so playing nine steps takes no real seconds.
    """
    context = browser.new_context(viewport=VIEWPORT)
    # A control that never becomes clickable fails the test in seconds, not Playwright's 30.
    context.set_default_timeout(5_000)
    page = context.new_page()
    if fake_clock:
        page.clock.install()
    log = PageLog(page)
    page.goto(path.resolve().as_uri())
    page.wait_for_function("() => (window.gradientiViews || []).length > 0")
    return page, log


# The visible state of one view, read in one round trip. A label hidden by CSS (or inside a
# hidden group) counts as absent, so a page that hides instead of removing reads the same.
READ_STATE_JS = """
(root) => {
  const shown = (element) => {
    for (let e = element; e && e !== root; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.display === 'none' || style.visibility === 'hidden') return false;
    }
    return true;
  };
  const all = (selector) => Array.from(root.querySelectorAll(selector));
  const edgeOf = (label) => {
    if (label.dataset.edge) return label.dataset.edge;
    const group = label.closest('[data-edge]');
    return group ? group.dataset.edge : null;
  };
  const nodeOf = (label) => {
    if (label.dataset.node) return label.dataset.node;
    const group = label.closest('[data-node]');
    return group ? group.dataset.node : null;
  };
  // A long value is shortened on the drawing ("…") with the whole text in the pill's <title>.
  const fullText = (label) => {
    const title = label.parentElement.querySelector(':scope > title');
    return (title ? title.textContent : label.textContent).trim();
  };
  return {
    counter: root.querySelector('.gd-counter').textContent.trim(),
    current: all('g.node.gd-current').map((n) => n.dataset.node).sort(),
    anyCurrent: all('.gd-current').length,
    done: all('g.node.gd-done').map((n) => n.dataset.node).sort(),
    flowed: all('g.edge.gd-flowed').map((e) => e.dataset.edge).sort(),
    grads: all('text.gd-grad').filter(shown)
      .map((t) => [edgeOf(t), fullText(t)]).sort(),
    totals: all('text.gd-total').filter(shown)
      .map((t) => [nodeOf(t), fullText(t)]).sort(),
    explain: root.querySelector('.gd-explain').textContent,
    play: root.querySelector('.gd-play').textContent.trim(),
  };
}
"""


def view_roots(page):
    return page.locator(".gradienti-view")


def read_state(root) -> dict:
    return root.evaluate(READ_STATE_JS)


def read_model(root) -> dict:
    return json.loads(root.locator("script.gd-model").text_content())


def node_label(root, node_id: str) -> str:
    """The text the SVG draws in node ``node_id``'s box (its <title> left out)."""
    return root.evaluate(
        """(root, id) => {
             const node = root.querySelector(`g.node[data-node="${id}"]`);
             return Array.from(node.querySelectorAll('text')).filter((t) =>
               !t.classList.contains('gd-total') && !t.classList.contains('gd-grad'))
               .map((t) => t.textContent).join('\\n');
           }""",
        node_id,
    )


def expected_state(model: dict, k: int) -> dict:
    """What the contract says view state is after ``k`` steps of ``model``."""
    steps = model["steps"][:k]
    grads = sorted([send["edge"], send["grad"]] for step in steps for send in step["sends"])
    return {
        "counter": f"step {k} of {len(model['steps'])}",
        "current": [steps[-1]["node"]] if steps else [],
        "done": sorted(
            {step["node"] for step in steps[:-1]} - ({steps[-1]["node"]} if steps else set())
        ),
        "flowed": sorted({send["edge"] for step in steps for send in step["sends"]}),
        "grads": grads,
    }


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG; fails on anything that is not one."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])
