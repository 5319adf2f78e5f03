"""Build docs/backward_page_step{0,5,9}.png: the lesson's interactive page in headless Chromium.

The pictures are screenshots of the real page (``gradienti.viz.show(y).save(path)``), stepped
with real clicks on its Next button: step 0 (the forward values), step 5 (the middle of the
backward pass, shown in the README) and step 9 (``x.grad = 60 + 8 + 4 = 72``). Needs Debian's
``chromium`` (``apt-get install chromium``) and Playwright (the ``dev`` extra); run
``python docs/build_screenshots.py``. Prints each file written and the page's size in bytes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

import gradienti as torch
from gradienti.viz import show

HERE = Path(__file__).resolve().parent
STEPS = (0, 5, 9)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Wide enough for the graph beside the explanation panel; the picture is the view itself.
VIEWPORT = {"width": 1200, "height": 760}


def lesson_page(directory: Path) -> Path:
    """The lesson's page, written through the public API."""
    x = torch.tensor(2.0, requires_grad=True)
    y = 5 * x**3 + 2 * x**2 + 4 * x + 8
    path = directory / "lesson.html"
    show(y, params={"x": x}).save(path)
    return path


def screenshots(page_path: Path, directory: Path, chromium: str) -> list[Path]:
    """One PNG of the view per step in STEPS, reached by clicking Next."""
    written = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
        problems = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "console",
            lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        page.goto(page_path.resolve().as_uri())
        page.wait_for_function("() => (window.gradientiViews || []).length === 1")
        view = page.locator(".gradienti-view")
        step = 0
        for target in STEPS:
            while step < target:
                view.locator(".gd-next").click()
                step += 1
            counter = view.locator(".gd-counter").text_content().strip()
            if not counter.startswith(f"step {target} of "):
                raise RuntimeError(f"the page reads {counter!r} after {target} clicks")
            path = directory / f"backward_page_step{target}.png"
            view.screenshot(path=str(path))
            written.append(path)
        browser.close()
    if problems:
        raise RuntimeError(f"the page logged problems: {problems}")
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE, help="folder for the PNGs (docs/)")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("no chromium: apt-get install chromium", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as scratch:
        page_path = lesson_page(Path(scratch))
        print(f"the lesson's page: {page_path.stat().st_size} bytes")
        for path in screenshots(page_path, args.out, chromium):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
