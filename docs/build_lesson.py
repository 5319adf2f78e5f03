"""Build docs/lesson.md and docs/lesson_graph.svg: the seed lesson replayed with gradienti.

Every code block on the page is run here and its real output is written under it, so the page
never drifts from what the library prints. ``python docs/build_lesson.py`` rewrites the files;
``python docs/build_lesson.py --check`` exits 1 if the committed files are stale (a test runs
that).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAGE = HERE / "lesson.md"
PICTURE = HERE / "lesson_graph.svg"

# (heading, prose before the code, code) — the code runs in one shared namespace, in order.
SECTIONS = [
    (
        "Enabling gradient tracking",
        "Create a tensor with `requires_grad=True`: from then on every operation on it is "
        "recorded.",
        """
        import gradienti as torch

        # Create a tensor with gradient tracking enabled
        tensor = torch.tensor(2.0, requires_grad=True)
        print(tensor)
        """,
    ),
    (
        "Building a computational graph",
        "gradienti builds a dynamic graph as the operations run. The lesson's function:",
        """
        x = torch.tensor(2.0, requires_grad=True)
        y = 5 * x ** 3 + 2 * x ** 2 + 4 * x + 8
        print(f"Function output: {y}")
        print(y)
        """,
    ),
    (
        "The picture of the graph",
        "PyTorchViz's `make_dot` and graphviz's `render`, called as with torchviz, plus one "
        "argument of gradienti's own: `show_values=True` writes each tensor's value into its "
        "box (torchviz has no such argument; without it the code runs under torchviz "
        "unchanged). `render` writes the DOT source to `lesson_graph` and the "
        "picture to `lesson_graph.svg`, as with torchviz. PyTorchViz needs a system Graphviz; "
        "gradienti draws an SVG with nothing installed, using its own built-in layout (this "
        "page's picture), and uses Graphviz when one is installed (the `[viz]` extra, or a "
        "system `dot`; `GRADIENTI_VIZ_RENDERER=builtin` picks the built-in layout, a setting "
        "of gradienti's own).",
        """
        from gradienti.viz import make_dot

        dot = make_dot(y, params={"x": x}, show_values=True)
        dot.render("lesson_graph", format="svg")
        """,
    ),
    (
        "Computing the gradient",
        "`backward()` computes the derivative of `y` with respect to every leaf; `x.grad` holds "
        "it.",
        """
        y.backward(retain_graph=True)
        grad = x.grad
        print(f"Gradient of x: {grad}")
        """,
    ),
    (
        "Question 1: how does backward() work?",
        "It walks the graph from the output back to the leaves, newest operation first, and "
        "applies the chain rule at each node. `gradienti.explain` shows every step with the "
        "numbers (it changes no `.grad`):",
        """
        print(torch.explain(y, names={"x": x, "y": y}))
        """,
    ),
    (
        "Forward mode: the same 72, the other way round",
        "backward() is *reverse* mode: one pass from the output back to every input. Forward "
        "mode carries a *tangent* (dx/dx = 1 at the start) forward with the values, through "
        "every operation as it runs; the output's tangent is dy/dx. "
        "`gradienti.autograd.forward_ad` is PyTorch's API for it, and `explain` tells it step by "
        "step:",
        """
        import gradienti.autograd.forward_ad as fwAD

        with fwAD.dual_level():
            x_dual = fwAD.make_dual(torch.tensor(2.0), torch.tensor(1.0))  # x = 2, dx/dx = 1
            y_dual = 5 * x_dual ** 3 + 2 * x_dual ** 2 + 4 * x_dual + 8
            print(y_dual)
            print(f"dy/dx by forward mode: {fwAD.unpack_dual(y_dual).tangent}")

        print(torch.explain(y, names={"x": x, "y": y}, mode="forward"))
        """,
    ),
    (
        "Watch backward happen",
        "The same nine steps as a page you click through: `gradienti.viz.show(y)` is the "
        "interactive view (a notebook cell that ends with it shows it inline, nothing to "
        "install) and `.save(path)` writes it as one self-contained HTML file that any browser "
        "opens offline. From the command line, `gradienti demo --html lesson.html` writes the "
        "lesson's page.",
        """
        from gradienti.viz import show

        view = show(y, params={"x": x})  # in Jupyter, a cell ending in `view` shows it inline
        view.save("lesson.html")  # the same page as a file: open it in a browser
        """,
    ),
    (
        "Question 2: what does the gradient mean?",
        "It is dy/dx at x = 2: how fast y changes when x moves. Nudging x by a small step h "
        "changes y by about 72·h:",
        """
        h = 1e-3
        with torch.no_grad():
            change = (5 * (x + h) ** 3 + 2 * (x + h) ** 2 + 4 * (x + h) + 8) - y
        print(f"y(2.001) - y(2) = {change.item():.4f}, and 72 * h = {72 * h:.4f}")
        """,
    ),
    (
        "Question 3: how do I use gradients to optimize?",
        "Gradient descent: step against the gradient. Here it finds the minimum of "
        "f(w) = (w - 3)² + 1, starting from w = 0:",
        """
        w = torch.tensor(0.0, requires_grad=True)
        learning_rate = 0.1
        for step in range(25):
            loss = (w - 3) ** 2 + 1
            loss.backward()
            with torch.no_grad():
                w -= learning_rate * w.grad
            w.grad = None
            if step % 5 == 0 or step == 24:
                print(f"step {step:2d}: w = {w.item():.4f}, loss = {loss.item():.4f}")
        """,
    ),
    (
        "When something goes wrong",
        "gradienti's errors are PyTorch's, word for word (same exception class, same first "
        "line), and then, after a blank line, say why in lines that start with `gradienti:`. "
        "Two of the usual mistakes: calling `backward()` twice through one graph, and a loss "
        "that lost its graph. For the second, `torch.set_explain_errors(True)` (gradienti's "
        "own switch; `torch.autograd.detect_anomaly()` does the same) records where tensors "
        "lose their graph, so the message names the tensor and the line (`lesson.py:N` is line "
        "N of this block). It costs time on every operation while it is on: turn it on to "
        "debug.",
        """
        x = torch.tensor(2.0, requires_grad=True)
        y = 5 * x ** 3 + 2 * x ** 2 + 4 * x + 8
        y.backward()
        try:
            y.backward()  # a second time: the first one freed the graph's saved values
        except RuntimeError as error:
            print(error)

        print()
        with torch.set_explain_errors(True):
            x = torch.tensor(2.0, requires_grad=True)
            y = 5 * x.detach() ** 3 + 8  # detach() cuts y off from x
            try:
                y.backward()
            except RuntimeError as error:
                print(error)
        """,
    ),
]


# Shown under the picture: how to read it.
READING_THE_PICTURE = """
How to read it:

- **Colours.** Light blue: the leaf `x` (named by `params`); grey: the backward functions, one
  per operation; green: the output, named `y`; white: the legend.
- **`()` in a box** is the tensor's shape: `()` is the shape of a 0-dimensional tensor, a single
  number (`torch.tensor(2.0).shape` is `torch.Size([])`). A 3×4 matrix would show `(3, 4)`.
- **Under each operation's name** (with `show_values=True`): the expression its output stands
  for, in the names `explain` uses below, and its value at x = 2: `x³ = 8`, `5·x³ = 40`, ...,
  `5·x³ + 2·x² + 4·x + 8 = 64`, which is `y`.
- **`AccumulateGrad`** is the node for a leaf: it adds the gradient that reaches it into the
  leaf's `.grad` (adds, not replaces: a second `backward()` adds the same amount again, which is
  why training loops zero the gradients). Here the gradients that reach `x` along its three
  arrows (through `x³`, `x²` and `4·x`) are summed, and the sum, 72, is added to `x.grad`.
- **The arrows** point the way the values flowed, the forward direction: from a tensor (or the
  node that made it) to the operation that used it, ending at the output. `backward()` walks
  them in reverse, from the output back to `x`, and the numbers it passes along are the
  gradients (Question 1 below shows each step). The legend says which way the arrows point;
  `make_dot(y, params={"x": x}, gradient_arrows=True)` (gradienti's own) draws them the way the
  gradients flow, from `y` back to `x`.
"""


# Shown under the code of "Watch backward happen": the page itself, at three steps. The PNGs
# are screenshots of the real page in headless Chromium (docs/build_screenshots.py makes them).
WATCHING_THE_PAGE = """
Step 0 is the graph the forward pass built, before backward() starts: every box shows what it
computed (`x³ = 8`, `5·x³ = 40`, ..., the output `y` = 64), and the panel says what is computed
and where:

![The lesson's page at step 0](backward_page_step0.png)

**Next** (or the → key) runs one step: the box it runs lights up, the panel beside the graph
shows that step of `explain`, and each gradient it sends travels back along an arrow, labelled
with its value. Step 5, in the middle of the pass:

![The lesson's page at step 5](backward_page_step5.png)

At step 9 the three gradients that reached `x` (60 through `x³`, 8 through `x²`, 4 through
`4·x`) are summed at the leaf: `60 + 8 + 4 = 72`.

![The lesson's page at step 9](backward_page_step9.png)

The controls: **First**, **Prev**, **Play**/**Pause**, **Next**, **Last**, the keys ←, →,
Home, End and Space; drag to pan the graph and use the wheel (or +, −, fit) to zoom, which is
how a graph of a few hundred boxes stays readable. `show(y, mode="forward")` steps through
forward mode instead: the tangents flow along the arrows.
"""


def build(directory: Path) -> tuple[str, bytes]:
    """Run every section's code with ``directory`` as the working directory."""
    namespace: dict = {}
    parts = [
        "# Gradients in gradienti: the lesson, replayed\n",
        'This page replays the lesson "Gradienti in PyTorch" with `import gradienti as torch`.'
        " Every output below is real: `docs/build_lesson.py` runs the code and writes it here"
        " (a test fails when the page is stale).\n",
    ]
    previous = Path.cwd()
    # The page's picture is always the built-in layout's, so that it does not depend on which
    # Graphviz program (if any) the machine that builds the page has.
    previous_renderer = os.environ.get("GRADIENTI_VIZ_RENDERER")
    os.environ["GRADIENTI_VIZ_RENDERER"] = "builtin"
    try:
        os.chdir(directory)
        for heading, prose, code in SECTIONS:
            code = textwrap.dedent(code).strip("\n")
            output = io.StringIO()
            with contextlib.redirect_stdout(output):
                # (named lesson.py: error hints name the file and line of the code they point at)
                exec(compile(code, "lesson.py", "exec"), namespace)  # our own page's code
            parts.append(f"\n## {heading}\n\n{prose}\n\n```python\n{code}\n```\n")
            if output.getvalue():
                parts.append(f"\nOutput:\n\n```text\n{output.getvalue().rstrip()}\n```\n")
            if heading == "The picture of the graph":
                parts.append("\n![The lesson's graph](lesson_graph.svg)\n")
                parts.append(READING_THE_PICTURE)
            if heading == "Watch backward happen":
                parts.append(WATCHING_THE_PAGE)
        picture = (directory / "lesson_graph.svg").read_bytes()
    finally:
        os.chdir(previous)
        if previous_renderer is None:
            del os.environ["GRADIENTI_VIZ_RENDERER"]
        else:
            os.environ["GRADIENTI_VIZ_RENDERER"] = previous_renderer
    return "".join(parts), picture


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the files are stale")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        page, picture = build(Path(scratch))
    if args.check:
        stale = [
            path.name
            for path, fresh in ((PAGE, page.encode()), (PICTURE, picture))
            if not path.exists() or path.read_bytes() != fresh
        ]
        if stale:
            print(f"stale: {', '.join(stale)} (run python docs/build_lesson.py)", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(page, encoding="utf-8")
    PICTURE.write_bytes(picture)
    print(f"wrote {PAGE} and {PICTURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
