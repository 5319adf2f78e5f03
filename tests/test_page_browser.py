"""The interactive backward page in a real headless Chromium: real clicks and key presses.

Each test builds its page through the public API (``gradienti.viz.show(y).save(path)``,
``make_dot(y).to_html(path)``, ``_repr_html_()``) into ``tmp_path`` and checks what the page
shows against the step model it carries (and the lesson's numbers, known independently).
Skipped with the reason when chromium or Playwright is missing (see tests/browser_helpers.py).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser_helpers import (
    expected_state,
    launch_chromium,
    node_label,
    open_page,
    png_size,
    read_model,
    read_state,
    view_roots,
)

import gradienti as torch
from gradienti.viz import make_dot, show

DOCS = Path(__file__).resolve().parent.parent / "docs"
LESSON_STEPS = 9
# explain(y)'s steps for the lesson: the operation each step runs, and the gradients it sends on
# (step 1 shows the start, dy/dy = 1, leaving the output's box, and sends 1 to the sum before
# "+ 8"; ...; step 8 sends 5 × 12 = 60 to x).
LESSON_OPS = [
    "AddBackward0",
    "AddBackward0",
    "MulBackward0",
    "AddBackward0",
    "MulBackward0",
    "PowBackward0",
    "MulBackward0",
    "PowBackward0",
    "AccumulateGrad",
]
LESSON_SENDS = [["1", "1"], ["1", "1"], ["4"], ["1", "1"], ["2"], ["8"], ["5"], ["60"]]


@pytest.fixture(scope="module")
def browser():
    driver, chromium = launch_chromium()
    yield chromium
    chromium.close()
    driver.stop()


def lesson():
    x = torch.tensor(2.0, requires_grad=True)
    y = 5 * x**3 + 2 * x**2 + 4 * x + 8
    return x, y


@pytest.fixture
def lesson_page(tmp_path):
    x, y = lesson()
    path = tmp_path / "lesson.html"
    show(y, params={"x": x}).save(path)
    return path


def the_view(page):
    roots = view_roots(page)
    assert roots.count() == 1
    return roots.first


def press_next(root):
    root.locator(".gd-next").click()


def assert_state_matches_model(state, model, k):
    expected = expected_state(model, k)
    assert state["counter"] == expected["counter"]
    assert state["current"] == expected["current"], f"step {k}: highlighted node"
    assert state["anyCurrent"] == len(expected["current"]), f"step {k}: one highlight only"
    assert state["done"] == expected["done"], f"step {k}: nodes already run"
    assert state["flowed"] == expected["flowed"], f"step {k}: edges a gradient went along"
    assert state["grads"] == expected["grads"], f"step {k}: gradient labels on the edges"


def test_lesson_page_steps_through_the_backward_pass_with_real_clicks(browser, lesson_page):
    page, log = open_page(browser, lesson_page)
    root = the_view(page)
    model = read_model(root)
    assert model["mode"] == "backward"
    assert len(model["steps"]) == LESSON_STEPS
    state = read_state(root)
    assert state["counter"] == "step 0 of 9"
    assert state["anyCurrent"] == 0 and state["grads"] == [] and state["totals"] == []
    assert "64" in state["explain"]  # step 0: the forward values (y = 64)

    accumulate = None
    for k in range(1, LESSON_STEPS + 1):
        press_next(root)
        state = read_state(root)
        assert_state_matches_model(state, model, k)
        step = model["steps"][k - 1]
        (current,) = state["current"]
        # The highlighted box is the operation explain's step k runs (or x's leaf box).
        label = node_label(root, current)
        if LESSON_OPS[k - 1] == "AccumulateGrad":
            assert "AccumulateGrad" in label or label.startswith("x")
        else:
            assert LESSON_OPS[k - 1] in label, (k, label)
        assert LESSON_OPS[k - 1] in step["title"]
        # The labels new at this step carry explain's numbers.
        before = expected_state(model, k - 1)["grads"]
        new = [text for text in state["grads"] if text not in before]
        if k <= len(LESSON_SENDS):
            assert sorted(grad for _, grad in new) == sorted(LESSON_SENDS[k - 1]), k
        if k == 1:  # the start, 1, is on the edge that ends at the output's box
            (output_box,) = [n for n, node in model["nodes"].items() if node["kind"] == "output"]
            assert [g for e, g in state["grads"] if e.split("->")[1] == output_box] == ["1"]
        if LESSON_OPS[k - 1] == "AccumulateGrad":
            accumulate = current
        # The panel shows this step's explanation.
        assert f"Step {k} of 9" in state["explain"]

    # 60, 8 and 4 arrive at x: the labels on the three edges from x's AccumulateGrad box to the
    # operations that used x (the drawing's arrows point forward; the gradients flow back).
    (accumulate_box,) = [
        node for node in model["nodes"] if node_label(root, node).strip() == "AccumulateGrad"
    ]
    into_x = [grad for edge, grad in state["grads"] if edge.split("->")[0] == accumulate_box]
    assert sorted(into_x, key=float) == ["4", "8", "60"]
    assert accumulate is not None
    assert "60 + 8 + 4 = 72" in state["explain"]
    assert any("72" in text for _, text in state["totals"]), state["totals"]
    assert state["counter"] == "step 9 of 9"
    # Next at the last step stays there (the button may be disabled: the key is always there).
    page.keyboard.press("ArrowRight")
    assert read_state(root)["counter"] == "step 9 of 9"
    assert log.problems == []


def test_keyboard_steps_and_going_back_restores_the_state_exactly(browser, lesson_page):
    page, log = open_page(browser, lesson_page)
    root = the_view(page)
    # The only view on the page has the focus, so keys step it without a click first.
    assert root.evaluate("(root) => document.activeElement === root")
    states = [read_state(root)]
    for _ in range(LESSON_STEPS):
        page.keyboard.press("ArrowRight")
        states.append(read_state(root))
    assert [s["counter"] for s in states] == [f"step {k} of 9" for k in range(10)]
    for k in range(LESSON_STEPS, 0, -1):
        page.keyboard.press("ArrowLeft")
        assert read_state(root) == states[k - 1], f"back from step {k}"
    page.keyboard.press("ArrowLeft")  # already at step 0
    assert read_state(root) == states[0]
    page.keyboard.press("End")
    assert read_state(root) == states[9]
    page.keyboard.press("Home")
    assert read_state(root) == states[0]
    # The buttons land on the same states as the keys.
    root.locator(".gd-last").click()
    assert read_state(root) == states[9]
    root.locator(".gd-prev").click()
    assert read_state(root) == states[8]
    root.locator(".gd-first").click()
    assert read_state(root) == states[0]
    assert log.problems == []


def test_play_runs_to_the_end_and_space_toggles_it(browser, lesson_page):
    page, log = open_page(browser, lesson_page, fake_clock=True)
    root = the_view(page)
    play = root.locator(".gd-play")
    assert play.text_content().strip() == "Play"
    play.click()
    assert play.text_content().strip() == "Pause"
    # Time passes only as the test says: the counter climbs one step at a time, then stops.
    seen = []
    for _ in range(30):
        page.clock.run_for(500)
        counter = read_state(root)["counter"]
        if not seen or seen[-1] != counter:
            seen.append(counter)
    assert seen == [f"step {k} of 9" for k in range(len(seen))] or seen == [
        f"step {k} of 9" for k in range(1, len(seen) + 1)
    ]
    assert seen[-1] == "step 9 of 9"
    final = read_state(root)
    assert final["play"] == "Play"  # it stopped at the end
    assert "60 + 8 + 4 = 72" in final["explain"]
    # Space plays from the start (Home first); Space again pauses, and a paused view stays.
    page.keyboard.press("Home")
    page.keyboard.press("Space")
    assert play.text_content().strip() == "Pause"
    page.clock.run_for(3_000)
    page.keyboard.press("Space")
    assert play.text_content().strip() == "Play"
    paused_at = read_state(root)["counter"]
    assert paused_at not in ("step 0 of 9", "step 9 of 9")
    page.clock.run_for(10_000)
    assert read_state(root)["counter"] == paused_at, "a paused view went on stepping"
    assert log.problems == []


def test_screenshots_of_the_first_and_last_step(browser, lesson_page, tmp_path):
    page, log = open_page(browser, lesson_page)
    root = the_view(page)
    first = tmp_path / "step0.png"
    last = tmp_path / "step9.png"
    page.screenshot(path=str(first), full_page=True)
    root.locator(".gd-last").click()
    page.screenshot(path=str(last), full_page=True)
    first_bytes, last_bytes = first.read_bytes(), last.read_bytes()
    for data in (first_bytes, last_bytes):
        width, height = png_size(data)
        assert width >= 1280 and height >= 900
        # A blank page of that size compresses to a few kilobytes; the drawing, text and
        # colours make tens of them.
        assert len(data) > 20_000
    assert first_bytes != last_bytes  # the last step looks different (highlight, labels, 72)
    assert log.problems == []


def test_make_dot_to_html_writes_the_same_interactive_page(browser, tmp_path):
    x, y = lesson()
    path = tmp_path / "dot.html"
    make_dot(y, params={"x": x}).to_html(path)
    page, log = open_page(browser, path)
    root = the_view(page)
    assert read_state(root)["counter"] == "step 0 of 9"
    root.locator(".gd-last").click()
    assert "60 + 8 + 4 = 72" in read_state(root)["explain"]
    assert log.problems == []


@pytest.mark.parametrize(
    "command",
    [["demo"], ["grad", "5*x**3 + 2*x**2 + 4*x + 8", "x=2"]],
    ids=["demo", "grad"],
)
def test_the_command_line_writes_the_lessons_page(browser, tmp_path, command):
    path = tmp_path / "cli.html"
    done = subprocess.run(
        [sys.executable, "-m", "gradienti.cli", *command, "--html", str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    page, log = open_page(browser, path)
    root = the_view(page)
    model = read_model(root)
    assert read_state(root)["counter"] == "step 0 of 9"
    for k in range(1, LESSON_STEPS + 1):
        press_next(root)
        assert_state_matches_model(read_state(root), model, k)
    assert "60 + 8 + 4 = 72" in read_state(root)["explain"]
    assert log.problems == []


def chain_graph(length=150):
    """A vector through ``length`` pairs of ops: about 2·length + 3 boxes."""
    x = torch.linspace(-1.0, 1.0, 8, requires_grad=True)
    h = x
    for _ in range(length):
        h = torch.sin(h) * 1.01
    return x, h.sum()


def test_a_300_node_graph_loads_and_answers_in_under_two_seconds(browser, tmp_path):
    x, y = chain_graph()
    path = tmp_path / "big.html"
    show(y, params={"x": x}).save(path)
    context = browser.new_context()
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
    )
    started = time.perf_counter()
    page.goto(path.resolve().as_uri())
    page.wait_for_function(
        """() => {
             const c = document.querySelector('.gradienti-view .gd-counter');
             return (window.gradientiViews || []).length === 1 && c && /^step 0 of \\d+$/.test(
               c.textContent.trim());
           }"""
    )
    loaded = time.perf_counter() - started
    root = page.locator(".gradienti-view")
    root.locator(".gd-next").click()
    page.wait_for_function(
        "() => /^step 1 of/.test(document.querySelector('.gd-counter').textContent.trim())"
    )
    answered = time.perf_counter() - started
    model = read_model(root)
    assert len(model["nodes"]) >= 300
    assert root.locator("g.node").count() >= 300
    assert read_state(root)["current"] == [model["steps"][0]["node"]]
    # Generous for a loaded 2-core machine, yet far below what an O(n²) page would take.
    print(f"300-node page: counter after {loaded:.3f} s, first click answered at {answered:.3f} s")
    assert loaded < 2.0, f"the page took {loaded:.2f} s to load"
    assert answered < 2.0, f"the page took {answered:.2f} s to answer its first click"
    root.locator(".gd-last").click()
    assert read_state(root)["counter"] == f"step {len(model['steps'])} of {len(model['steps'])}"
    # The zoom buttons work on the big graph: zooming in shows less of it (a narrower viewBox).
    svg = root.locator(".gd-graph svg").first
    fitted = svg.get_attribute("viewBox")
    root.locator(".gd-zoom-in").click()
    page.wait_for_function(
        "([svg, before]) => svg.getAttribute('viewBox') !== before",
        arg=[svg.element_handle(), fitted],
        timeout=2_000,
    )
    zoomed = svg.get_attribute("viewBox")
    assert float(zoomed.split()[2]) < float(fitted.split()[2])
    assert problems == []


def test_two_views_on_one_page_step_independently(browser, tmp_path):
    x, y = lesson()
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    z = (a * a).sum()
    # As Jupyter shows two outputs: the two views' HTML one after the other in one document.
    path = tmp_path / "two.html"
    first_html = show(y, params={"x": x})._repr_html_()
    second_html = show(z, params={"a": a})._repr_html_()
    path.write_text(
        f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
        f"<div class='output'>{first_html}</div><div class='output'>{second_html}</div>"
        f"</body></html>",
        encoding="utf-8",
    )
    page, log = open_page(browser, path)
    page.wait_for_function("() => window.gradientiViews.length === 2")
    roots = view_roots(page)
    assert roots.count() == 2
    one, two = roots.nth(0), roots.nth(1)
    assert one.get_attribute("id") != two.get_attribute("id")
    model_two = read_model(two)
    steps_two = len(model_two["steps"])
    one.locator(".gd-next").click()
    one.locator(".gd-next").click()
    assert read_state(one)["counter"] == "step 2 of 9"
    assert read_state(two)["counter"] == f"step 0 of {steps_two}"
    assert read_state(two)["anyCurrent"] == 0
    two.locator(".gd-last").click()
    assert_state_matches_model(read_state(two), model_two, steps_two)
    assert_state_matches_model(read_state(one), read_model(one), 2)
    # Keys go to the view that has the focus.
    two.focus()
    page.keyboard.press("Home")
    assert read_state(two)["counter"] == f"step 0 of {steps_two}"
    assert read_state(one)["counter"] == "step 2 of 9"
    assert log.problems == []


# What JupyterLab (and classic Notebook) do with trusted HTML output, after the document has
# loaded: set innerHTML (whose scripts never run) and then replace each <script> with a fresh
# copy, which runs.
INSERT_AS_JUPYTER_JS = """
(html) => {
  const output = document.createElement('div');
  output.className = 'jp-OutputArea-output';
  document.body.appendChild(output);
  output.innerHTML = html;
  for (const old of Array.from(output.querySelectorAll('script'))) {
    const fresh = document.createElement('script');
    for (const attribute of Array.from(old.attributes)) {
      fresh.setAttribute(attribute.name, attribute.value);
    }
    fresh.textContent = old.textContent;
    old.parentNode.replaceChild(fresh, old);
  }
}
"""


def test_views_inserted_as_jupyter_does_after_load_work(browser, tmp_path):
    x, y = lesson()
    notebook = tmp_path / "notebook.html"
    notebook.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body></body></html>",
        encoding="utf-8",
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(5_000)
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None
    )
    page.goto(notebook.resolve().as_uri())
    # Two cells' outputs, the second displayed after the first has been stepped.
    page.evaluate(INSERT_AS_JUPYTER_JS, show(y, params={"x": x})._repr_html_())
    page.wait_for_function("() => (window.gradientiViews || []).length === 1")
    first = view_roots(page).nth(0)
    first.locator(".gd-next").click()
    page.evaluate(INSERT_AS_JUPYTER_JS, show(y, params={"x": x})._repr_html_())
    page.wait_for_function("() => window.gradientiViews.length === 2")
    second = view_roots(page).nth(1)
    assert read_state(first)["counter"] == "step 1 of 9"
    assert read_state(second)["counter"] == "step 0 of 9"
    second.locator(".gd-last").click()
    assert "60 + 8 + 4 = 72" in read_state(second)["explain"]
    assert_state_matches_model(read_state(first), read_model(first), 1)
    assert problems == []


def test_forward_mode_page_steps_through_the_tangents(browser, tmp_path):
    x, y = lesson()
    path = tmp_path / "forward.html"
    show(y, params={"x": x}, mode="forward").save(path)
    page, log = open_page(browser, path)
    root = the_view(page)
    assert root.get_attribute("data-mode") == "forward"
    model = read_model(root)
    assert model["mode"] == "forward"
    steps = len(model["steps"])
    assert steps >= 8  # one per operation: **3, **2, three products, three sums
    assert read_state(root)["counter"] == f"step 0 of {steps}"
    for k in range(1, steps + 1):
        press_next(root)
        assert_state_matches_model(read_state(root), model, k)
    final = read_state(root)
    assert "72" in final["explain"]  # the output's tangent is dy/dx = 72
    assert log.problems == []


def test_vector_and_matrix_graph_page(browser, tmp_path):
    gen = torch.Generator().manual_seed(0)
    weight = torch.randn(3, 4, generator=gen, requires_grad=True)
    inputs = torch.randn(4, generator=gen, requires_grad=True)
    loss = torch.relu(weight @ inputs).pow(2).mean()
    path = tmp_path / "matrix.html"
    show(loss, params={"W": weight, "v": inputs}).save(path)
    page, log = open_page(browser, path)
    root = the_view(page)
    model = read_model(root)
    steps = len(model["steps"])
    for k in range(1, steps + 1):
        press_next(root)
        assert_state_matches_model(read_state(root), model, k)
    state = read_state(root)
    # The gradient reaching W is a (3, 4) matrix: its label is a summary, not 12 numbers.
    assert any("(3, 4)" in text or "3×4" in text or "3x4" in text for _, text in state["grads"]), (
        state["grads"]
    )
    assert len(state["totals"]) == 2  # W and v each got their total
    assert log.problems == []


def test_labels_with_markup_render_as_text(browser, tmp_path):
    x = torch.tensor(2.0, requires_grad=True)
    y = x * 3
    name = "</script><b>x</b>"
    path = tmp_path / "markup.html"
    show(y, params={name: x}).save(path)
    page, log = open_page(browser, path)
    root = the_view(page)
    assert root.locator("b").count() == 0  # no element made from the name
    assert name in root.locator(".gd-graph").text_content()
    root.locator(".gd-last").click()
    state = read_state(root)
    assert state["counter"] == "step 2 of 2"
    assert name in state["explain"]
    assert page.locator("b").count() == 0
    assert log.problems == []


def test_a_missing_browser_skips_with_the_reason_or_fails_where_required(monkeypatch):
    monkeypatch.setenv("GRADIENTI_CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("GRADIENTI_BROWSER_TESTS", raising=False)
    reason = "no chromium to drive|Playwright is not installed"
    with pytest.raises(pytest.skip.Exception, match=reason):
        launch_chromium()
    monkeypatch.setenv("GRADIENTI_BROWSER_TESTS", "required")  # as CI sets it
    with pytest.raises(
        pytest.fail.Exception, match=f"GRADIENTI_BROWSER_TESTS=required, but ({reason})"
    ):
        launch_chromium()


def test_the_docs_show_screenshots_of_the_page():
    # docs/build_screenshots.py writes them from real runs in headless Chromium.
    for step in (0, 5, 9):
        picture = DOCS / f"backward_page_step{step}.png"
        width, height = png_size(picture.read_bytes())
        assert width >= 800 and height >= 400
        assert f"]({picture.name})" in (DOCS / "lesson.md").read_text(encoding="utf-8")
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    assert "](docs/backward_page_step5.png)" in readme


# The rendered lines of the panel's <pre> (a line folded by the browser gives two rects' rows).
RENDERED_LINES_JS = """
(root) => {
  const pre = root.querySelector('.gd-explain pre');
  const tops = new Set();
  const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    const range = document.createRange();
    range.selectNodeContents(text);
    for (const rect of range.getClientRects()) {
      if (rect.width > 0) tops.add(Math.round(rect.top));
    }
  }
  return {rows: tops.size, lines: pre.textContent.split('\\n').length,
          whiteSpace: getComputedStyle(pre).whiteSpace};
}
"""


@pytest.mark.parametrize("width", [1280, 420])
def test_the_panel_shows_explains_lines_as_they_are(browser, lesson_page, width):
    """explain's text is already folded to its width: the panel never folds it a second time
    (it scrolls sideways where it is narrower), at step 0 and at every step."""
    page, log = open_page(browser, lesson_page)
    page.set_viewport_size({"width": width, "height": 900})
    root = the_view(page)
    model = read_model(root)
    graph_widths = set()
    for k in range(len(model["steps"]) + 1):
        root.evaluate("(root, k) => window.gradientiViews[0].go(k)", k)
        shown = root.evaluate(RENDERED_LINES_JS)
        assert shown["whiteSpace"] == "pre"
        assert shown["rows"] == shown["lines"], f"step {k}: a line folded again"
        graph_widths.add(root.evaluate("(root) => root.querySelector('.gd-graph').clientWidth"))
    assert len(graph_widths) == 1, f"the graph's width changes with the text: {graph_widths}"
    root.evaluate("() => window.gradientiViews[0].go(0)")
    assert root.locator(".gd-explain pre").text_content() == model["header"]
    assert "where y = 64" in model["header"]
    assert log.problems == []


def test_in_a_narrow_view_the_leaf_total_is_clear_of_the_zoom_buttons(browser, lesson_page):
    page, log = open_page(browser, lesson_page)
    page.set_viewport_size({"width": 420, "height": 900})
    root = the_view(page)
    root.locator(".gd-zoom-fit").click()
    root.locator(".gd-last").click()
    page.wait_for_timeout(100)  # the viewBox is set on the next animation frame
    clash = root.evaluate(
        """(root) => {
             const pill = root.querySelector('rect.gd-total-pill').getBoundingClientRect();
             const graph = root.querySelector('.gd-graph').getBoundingClientRect();
             const zoom = root.querySelector('.gd-zoom').getBoundingClientRect();
             const inside = pill.left >= graph.left && pill.right <= graph.right;
             const overZoom = pill.left < zoom.right && zoom.left < pill.right
               && pill.top < zoom.bottom && zoom.top < pill.bottom;
             return {inside, overZoom};
           }"""
    )
    assert clash == {"inside": True, "overZoom": False}
    assert log.problems == []


def test_a_forward_pass_title_is_shown_once_in_the_panel(browser, tmp_path):
    """A forward pass's title ("Pass 1 of 2 (d/da) · Step 1 of 2 · a·b = 6") ends with the
    step's first line: the panel shows that line once, not twice."""
    a = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(3.0, requires_grad=True)
    path = tmp_path / "forward.html"
    show(a * b + a, params={"a": a, "b": b}, mode="forward").save(path)
    page, log = open_page(browser, path)
    root = the_view(page)
    press_next(root)
    panel = root.locator(".gd-explain pre").text_content()
    assert panel.startswith("Pass 1 of 2 (d/da) · Step 1 of 2 · a·b = 6\n")
    assert panel.count("Step 1 of 2 · a·b = 6") == 1
    root.locator(".gd-last").click()
    panel = root.locator(".gd-explain pre").text_content()
    assert panel.count("Step 2 of 2 · y = a·b + a = 8") == 1 and "∂y/∂b = 2" in panel
    assert log.problems == []


# The view's layout and the drawing's fitted scale (CSS pixels per SVG unit).
LAYOUT_JS = """
(root) => {
  const graph = root.querySelector('.gd-graph');
  const box = root.querySelector('.gd-graph svg').viewBox.baseVal;
  const side = root.querySelector('.gd-side').getBoundingClientRect();
  const stage = root.querySelector('.gd-stage').getBoundingClientRect();
  return {stacked: side.top >= stage.bottom, scale: graph.clientWidth / box.width,
          sideHeight: side.height,
          sideContent: root.querySelector('.gd-controls').offsetHeight
            + root.querySelector('.gd-explain').offsetHeight
            + root.querySelector('.gd-help').offsetHeight};
}
"""


def test_a_wide_drawing_gets_the_whole_width_and_stays_readable(browser, tmp_path):
    """rankdir="LR" beside the panel was fitted at about a third of its size (unreadable
    text): it gets the view's width, the panel under it (no taller than its content); the
    lesson's tall drawing stays beside the panel."""
    x, y = lesson()
    wide, tall = tmp_path / "wide.html", tmp_path / "tall.html"
    show(y, params={"x": x}, rankdir="LR").save(wide)
    show(y, params={"x": x}).save(tall)
    for path, stacked in ((wide, True), (tall, False)):
        page, log = open_page(browser, path)
        page.wait_for_timeout(100)  # the viewBox is set on the next animation frame
        layout = the_view(page).evaluate(LAYOUT_JS)
        assert layout["stacked"] is stacked, (path.name, layout)
        assert layout["scale"] > 0.75, (path.name, layout)
        assert layout["sideHeight"] < layout["sideContent"] + 40, (path.name, layout)
        assert log.problems == []
