"""Pictures of the graph (make_dot, torchviz-compatible, no system install needed), the
step-by-step explanation of the backward pass, and the interactive view that replays it
(``show(y)``: a page for the browser, inline in Jupyter)."""

from .dot import Dot, make_dot, to_dot
from .explain import Explanation, explain
from .graph import Graph, VizEdge, VizNode
from .interactive import BackwardView, show
from .trace import make_dot_from_trace

__all__ = [
    "BackwardView",
    "Dot",
    "Explanation",
    "Graph",
    "VizEdge",
    "VizNode",
    "explain",
    "make_dot",
    "make_dot_from_trace",
    "show",
    "to_dot",
]
