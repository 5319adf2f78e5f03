"""Watch backward happen: ``gradienti.viz.show(y)``, an interactive view of the backward pass.

The view is make_dot's picture of ``y`` (with the values in the boxes) and ``explain(y)``'s
steps: buttons (first, back, play, next, last), the arrow keys and a counter "step K of N" walk
through the pass; each step lights up the node it runs, labels the edges its gradient leaves
along with the values sent, shows the step's text beside the graph, and at a leaf the sum of
what it received (``x.grad = 60 + 8 + 4 = 72``). ``mode="forward"`` replays forward-mode AD
instead: tangents flowing with the arrows, oldest operation first.

One self-contained HTML file, no network: ``show(y).save("page.html")``,
``make_dot(y).to_html("page.html")``, ``gradienti demo --html PATH``. In Jupyter the object
displays inline (``_repr_html_``), each display with its own id, so that several views on one
notebook page work independently.

The page's contract (DOM classes, the model JSON) is described in page_html.py and
page_model.py; the template (HTML, CSS, JS) is in ``viz/page/``.
"""

from __future__ import annotations

import secrets

from ..tensor import Tensor
from .dot import make_dot
from .page_html import PAGE_UID, build_page, check_mode, write_page

__all__ = ["BackwardView", "show"]


class BackwardView:
    """The interactive view ``show`` returns: ``.html`` (the page), ``.save(path)``,
    ``.model`` (the step model as a dict) and the inline Jupyter display."""

    def __init__(self, page, dot) -> None:
        self._page = page
        self.dot = dot  # the static picture the view draws (make_dot's Dot)
        self._html = None

    @property
    def model(self) -> dict:
        return self._page.model

    @property
    def mode(self) -> str:
        return self._page.model["mode"]

    @property
    def html(self) -> str:
        """The whole page, a standalone HTML document."""
        if self._html is None:
            self._html = self._page.document(PAGE_UID)
        return self._html

    def save(self, path) -> str:
        """Write the page to ``path`` (its directory must exist) and return the path."""
        return write_page(self.html, path)

    def _repr_html_(self) -> str:
        # A new id per display: the same view shown twice gives two independent views.
        return self._page.fragment(secrets.token_hex(6))

    def __repr__(self) -> str:
        steps = len(self._page.model["steps"])
        return f"<gradienti.viz.BackwardView: {self._page.title}, {steps} steps>"


def show(
    y,
    params=None,
    names=None,
    *,
    mode: str = "backward",
    inputs=None,
    max_nodes: int | None = None,
    rankdir: str = "TB",
) -> BackwardView:
    """The interactive view of ``y``'s backward pass (``mode="forward"``: forward-mode AD,
    one pass per tensor of ``inputs``, default every leaf).

    ``params`` and ``names`` name tensors as for ``make_dot`` (``names=locals()``);
    ``max_nodes`` draws only the part of a large graph nearest ``y`` (the steps of the nodes
    left out are still told, without a box to light up).
    """
    check_mode(mode)
    tensors = y if isinstance(y, (tuple, list)) else (y,)
    if not tensors or not all(isinstance(tensor, Tensor) for tensor in tensors):
        raise TypeError(f"show() expects a Tensor, got {type(y).__name__}")
    dot = make_dot(
        y, params=params, names=names, show_values=True, max_nodes=max_nodes, rankdir=rankdir
    )
    page = build_page(dot.graph, dot.drawing(), mode=mode, inputs=inputs)
    return BackwardView(page, dot)
