"""``gradienti.autograd.function``, PyTorch's path for custom Functions (``Function``,
``FunctionCtx``, defined in custom_function.py; ``once_differentiable``) and the graph's
nodes (``Node``; defined in gradienti/graph/node.py, below Tensor)."""

from ..graph.node import (  # noqa: F401 - the public path of these names
    CONFORM_ONLY,
    NO_EDGE,
    SAVE_BOTH,
    SAVE_INPUTS,
    SAVE_NOTHING,
    SAVE_OUTPUT,
    SAVED_RELEASED_MESSAGE,
    AccumulateGrad,
    Node,
    NodeHooks,
    Op,
    RemovableHandle,
    edge_parts,
    next_sequence_number,
)
from .custom_function import Function, FunctionCtx  # noqa: F401
from .once_differentiable import once_differentiable  # noqa: F401
