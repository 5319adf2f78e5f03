"""Draw the lesson's graph as a png with each renderer, for comparing them: docs/lesson_graph_*.png.

``python docs/build_lesson_pngs.py`` draws ``make_dot(y, params={"x": x}, show_values=True)``
for y = 5*x**3 + 2*x**2 + 4*x + 8 at x = 2 with graphviz-pure and Graphviz's ``dot`` (each at
gradienti's png resolution, when installed) and, since the built-in layout writes svg only, takes
a screenshot of its svg in headless Chromium at twice the svg's size (when /usr/bin/chromium or
``chromium`` on PATH is there). A renderer that is missing is reported and skipped.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import gradienti
from gradienti.viz import make_dot
from gradienti.viz import render as render_module

HERE = Path(__file__).resolve().parent
SCALE = 2  # device pixels per CSS pixel of the built-in svg's screenshot
PT_TO_PX = 96 / 72  # CSS pixels per point


def lesson_dot():
    x = gradienti.tensor(2.0, requires_grad=True)
    y = 5 * x**3 + 2 * x**2 + 4 * x + 8
    return make_dot(y, params={"x": x}, show_values=True)


def png_size(data: bytes) -> tuple[int, int]:
    return struct.unpack(">II", data[16:24])


def screenshot_builtin(svg: str, chromium: str, target: Path) -> None:
    """The svg in a page of exactly its size, photographed at ``SCALE`` device pixels."""
    root_tag = svg[svg.index("<svg") : svg.index(">", svg.index("<svg"))]
    width_pt = float(root_tag.split('width="')[1].split("pt")[0])
    height_pt = float(root_tag.split('height="')[1].split("pt")[0])
    width, height = round(width_pt * PT_TO_PX), round(height_pt * PT_TO_PX)
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "lesson.html"
        page.write_text(
            "<!DOCTYPE html><html><body style='margin:0'>" + svg[svg.index("<svg") :],
            encoding="utf-8",
        )
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={folder}/profile",
                f"--force-device-scale-factor={SCALE}",
                f"--window-size={width},{height}",
                f"--screenshot={target}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )


def main() -> int:
    dot = lesson_dot()
    for name in ("graphviz-pure", "dot"):
        finder = (
            render_module.find_graphviz_pure if name == "graphviz-pure" else render_module.find_dot
        )
        if finder() is None:
            print(f"{name}: not installed, skipped")
            continue
        target = HERE / f"lesson_graph_{name.replace('-', '_')}.png"
        data = dot.pipe("png", renderer=name)
        target.write_bytes(data)
        print(f"{name}: {target.name} {png_size(data)[0]}x{png_size(data)[1]}")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("builtin: no chromium to photograph its svg, skipped")
        return 0
    target = HERE / "lesson_graph_builtin.png"
    screenshot_builtin(dot.pipe("svg", renderer="builtin").decode("utf-8"), chromium, target)
    width, height = png_size(target.read_bytes())
    print(f"builtin: {target.name} {width}x{height}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
