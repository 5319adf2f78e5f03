"""Pictures of the graph (make_dot, torchviz-compatible, no system install needed) and the
step-by-step explanation of the backward pass."""

from .dot import Dot, make_dot, to_dot
from .explain import Explanation, explain
from .graph import Graph, VizEdge, VizNode
from .trace import make_dot_from_trace

__all__ = [
    "Dot",
    "Explanation",
    "Graph",
    "VizEdge",
    "VizNode",
    "explain",
    "make_dot",
    "make_dot_from_trace",
    "to_dot",
]
