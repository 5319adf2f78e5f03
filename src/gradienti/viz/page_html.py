"""One self-contained HTML page (or a Jupyter fragment) that replays a backward pass.

The template is ``viz/page/page.html`` with ``page.css`` and the script (``page_geometry.js``
then ``page.js``, joined; package data, read with ``importlib.resources``); its placeholders
``{{TITLE}}``, ``{{CSS}}``, ``{{JS}}``, ``{{SVG}}``, ``{{MODEL_JSON}}`` and ``{{UID}}`` are
filled in one pass (so nothing inserted is filled again):
the built-in renderer's SVG of make_dot's picture (always the built-in one, so the page needs
nothing installed), and the step model of page_model.py as JSON in
``<script type="application/json" class="gd-model">``. Nothing is loaded from the network.

Escaping: the title is HTML-escaped; the JSON spells ``</`` as ``<\\/`` and ``<!--`` as
``\\u003c!--`` (both still JSON), so no label (a name ``</script>``) ends the script early; the
SVG's text is already escaped by svg.py, and its element ids get the view's prefix, so that two
views on one Jupyter page have no id in common.
"""

from __future__ import annotations

import json
import os
import re
from html import escape as html_escape
from importlib import resources

from .._file_output import check_destination, write_file
from ..graph.node import AccumulateGrad
from .explain import explain
from .page_model import backward_model, forward_model
from .render import builtin_svg

__all__ = ["MODES", "Page", "build_page", "load_template", "write_page"]

MODES = ("backward", "forward")
SCRIPT_FILES = ("page_geometry.js", "page.js")  # joined in this order into {{JS}}
TEMPLATE_FILES = ("page.html", "page.css", *SCRIPT_FILES)
PAGE_UID = "page"  # a file holds one view; its ids need no randomness (same graph, same page)

# make_dot's legend box (dot.LEGEND_ID; dot.py imports this module through dotfile.py).
LEGEND_ID = "legend"

_PLACEHOLDER = re.compile(r"\{\{(TITLE|CSS|JS|SVG|MODEL_JSON|UID)\}\}")
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>\s*")
_TAG_ID = re.compile(r'(<[^<>]*?\sid=")([^"]*")')
_VIEW = re.compile(r"<!--gd-view-begin-->(.*?)<!--gd-view-end-->", re.DOTALL)
_ROOT_MODE = re.compile(r'(<div class="gradienti-view"[^>]*?\sdata-mode=")[a-z]*(")')
_ROOT_ARROWS = re.compile(r'(<div class="gradienti-view"[^>]*?\sdata-arrows=")[a-z]*(")')


def load_template() -> tuple:
    """``(html, css, js)`` of the page, from the package's ``viz/page`` folder; ``js`` is
    SCRIPT_FILES joined in their order (page.js uses what page_geometry.js defines)."""
    folder = resources.files("gradienti.viz") / "page"
    html, css = (folder.joinpath(name).read_text(encoding="utf-8") for name in TEMPLATE_FILES[:2])
    js = "\n".join(folder.joinpath(name).read_text(encoding="utf-8") for name in SCRIPT_FILES)
    return html, css, js


def check_mode(mode) -> str:
    if mode not in MODES:
        raise ValueError(f"mode must be 'backward' or 'forward', not {mode!r}")
    return mode


class Page:
    """A graph's page: its title, SVG and model, written out for a given view id."""

    def __init__(self, title: str, svg: str, model: dict) -> None:
        self.title = title
        self.svg = _XML_DECLARATION.sub("", svg)
        self.model = model

    def model_json(self) -> str:
        text = json.dumps(self.model, ensure_ascii=False, separators=(",", ":"))
        return text.replace("</", "<\\/").replace("<!--", "\\u003c!--")

    def document(self, uid: str = PAGE_UID) -> str:
        """The whole page: a standalone HTML document."""
        html, css, js = load_template()
        svg = _TAG_ID.sub(lambda match: f"{match.group(1)}gd-{uid}-{match.group(2)}", self.svg)
        values = {
            "TITLE": html_escape(self.title),
            "CSS": css.replace("</style", "<\\/style"),
            "JS": js.replace("</script", "<\\/script"),
            "SVG": svg,
            "MODEL_JSON": self.model_json(),
            "UID": uid,
        }
        page = _PLACEHOLDER.sub(lambda match: values[match.group(1)], html)
        # The root says which way things flow (the template is written for backward).
        mode = self.model["mode"]
        page = _ROOT_MODE.sub(lambda match: f"{match.group(1)}{mode}{match.group(2)}", page, 1)
        # ... and which way its arrows point (make_dot(gradient_arrows=True) turns them).
        arrows = self.model.get("arrows", "forward")
        return _ROOT_ARROWS.sub(lambda match: f"{match.group(1)}{arrows}{match.group(2)}", page, 1)

    def fragment(self, uid: str) -> str:
        """The view alone, for Jupyter's ``_repr_html_``: what the template marks as the view
        (``<!--gd-view-begin-->`` ... ``<!--gd-view-end-->``: its style, the root with the
        model, the self-starting script)."""
        document = self.document(uid)
        view = _VIEW.search(document)
        if view is None:
            raise RuntimeError("the page template has no <!--gd-view-begin/end--> markers")
        return view.group(1)


def build_page(graph, drawing, *, mode: str = "backward", inputs=None) -> Page:
    """The page of make_dot's ``graph`` (its first output, the names it was given), drawn
    from ``drawing`` (the Dot's statements), telling the pass ``mode`` names."""
    check_mode(mode)
    if not graph.outputs:
        raise ValueError("the page needs the graph of a tensor: make it with make_dot(y)")
    distinct = {id(tensor) for tensor in graph.outputs}
    if len(distinct) > 1:
        # explain tells one tensor's pass: the others' steps would be missing without a word.
        raise ValueError(
            f"the page tells the backward pass of one tensor, and the graph has {len(distinct)} "
            "outputs: show one of them, or their sum (backward((a, b)) adds their gradients "
            "as (a + b).backward() does for scalars)"
        )
    output = graph.outputs[0]
    names = _explain_names(graph, output)
    # The page has its own legend (under the graph, by mode): make_dot's note would be a second.
    drawing.nodes = [node for node in drawing.nodes if node.id != LEGEND_ID]
    svg = builtin_svg(drawing)
    if mode == "backward":
        explanation = explain(output, names=names)
        what = explanation.steps[0].expression if explanation.steps else "the output"
        title = f"{what} (backward pass)"
        model = backward_model(explanation, graph, output, title)
    else:
        explanation = explain(output, inputs=inputs, names=names, mode="forward")
        title = f"{_forward_subject(explanation)} (forward mode)"
        model = forward_model(explanation, graph, output, title, _leaves_by_name(output, names))
    return Page(title, svg, model)


def _explain_names(graph, output) -> dict | None:
    """The names make_dot drew, for explain: those it was given, and the output's box name
    (``y`` by default), so that the panel says ``∂y/∂x`` where the box reads ``y``."""
    names = dict(graph.names)
    box = graph.tensor_ids.get(id(output))
    if box is not None and not any(tensor is output for tensor in names.values()):
        drawn = graph.node(box).label.split("\n", 1)[0]
        if drawn and drawn not in names:
            names[drawn] = output
    return names or None


def _leaves_by_name(output, names) -> dict:
    """``{name: AccumulateGrad node}`` in explain's names (the forward passes name their
    inputs so; leaves not named are x0, x1, ...)."""
    reverse = explain(output, names=names)
    return {
        reverse.names.display[step.node].text: step.node
        for step in reverse.steps
        if type(step.node) is AccumulateGrad
    }


def _forward_subject(explanation) -> str:
    """``y = 5·x³ + ...`` from the first pass's header ("... the derivative of y = ... with
    respect to x")."""
    first = explanation.passes[0].lines[0] if explanation.passes else ""
    match = re.search(r"derivative of (.*) with respect to", first)
    return match.group(1) if match else "the output"


def write_page(text: str, path) -> str:
    """Write the page to exactly ``path`` (atomically; its directory must exist, none is
    created; ``torch.save``'s errors) and return the path."""
    name = os.fsdecode(os.fspath(path))
    check_destination(name)
    write_file(name, [text.encode("utf-8")])
    return name
