"""One recurrent layer over a whole sequence, in one direction, as one fused node (backward
through time in one VJP, not a node per step): the op under ``nn.RNN``, ``nn.LSTM`` and
``nn.GRU`` (nn/rnn.py runs it per layer and direction).

Inputs: ``x`` (rows in packed order, see ops/recurrent_steps.py), ``h0``, for LSTM ``c0``, then
the layer's weights as PyTorch orders them (``w_ih, w_hh[, b_ih, b_hh][, w_hr]``). Outputs:
``y`` (every step's hidden state, rows in x's order), ``h_n``, and for LSTM ``c_n``.

The forward runs on arrays and keeps each step's gates for the VJP (saved after the inputs,
so they are released with them). A recorded backward (``create_graph=True``, or a backward
pass inside a forward-AD level) recomputes the forward from the saved inputs as Tensors and
runs the same VJP code on them, so the layer is differentiable any number of times. The
forward derivative runs the forward on (value, tangent) pairs (``Dual``).

PyTorch's CPU LSTM records ``MkldnnRnnLayerBackward0``, whose name the LSTM node takes;
PyTorch's RNN and GRU on CPU record their cells step by step, a graph without an equivalent
fused node, so theirs are named after the layer (``RnnTanhLayerBackward0``, ...).
"""

from __future__ import annotations

from ..graph.grad_mode import MODES, grad_state
from ..graph.node import NO_EDGE, SAVE_INPUTS, Op
from ..tensor import Tensor, wrap
from .apply import record_node, record_special
from .declare import explain_nodes
from .explain_rule import Rule
from .recurrent_steps import Dual, run_backward, run_forward


class _RecurrentLayer(Op):
    """The fused node of one layer and direction; the subclasses name the mode."""

    __slots__ = ("hidden_size", "steps", "reverse", "has_bias", "has_proj", "cache")
    __slots__ += ("num_outputs", "output_meta")
    save = SAVE_INPUTS
    mode = ""

    def split_inputs(self, values) -> tuple:
        """(x, h0, c0, (w_ih, w_hh, b_ih, b_hh, w_hr)) from the inputs' flat order."""
        values = list(values)
        x, h0 = values[0], values[1]
        c0 = values[2] if self.mode == "LSTM" else None
        rest = values[3:] if self.mode == "LSTM" else values[2:]
        w_ih, w_hh = rest[0], rest[1]
        b_ih, b_hh = (rest[2], rest[3]) if self.has_bias else (None, None)
        w_hr = rest[-1] if self.has_proj else None
        return x, h0, c0, (w_ih, w_hh, b_ih, b_hh, w_hr)

    @staticmethod
    def forward(ctx, *arrays):
        x, h0, c0, weights = ctx.split_inputs(arrays)
        y, h_n, c_n, cache = run_forward(ctx, x, h0, c0, weights, ctx.cache is not None)
        if cache is not None:
            ctx.cache = cache
        return (y, h_n) if c_n is None else (y, h_n, c_n)

    @staticmethod
    def backward(ctx, g_y, g_h, g_c=None):
        saved = ctx.saved_tensors
        x, h0, c0, weights = ctx.split_inputs(saved[:-1])
        cache = saved[-1]
        if type(x) is Tensor or type(g_y) is Tensor:
            # recorded: the gates again, as Tensors of the saved inputs (double backward);
            # an unused output's gradient comes as an array of zeros: a Tensor too, as the
            # steps' products and joins take Tensors only
            g_y, g_h, g_c = (
                g if g is None or type(g) is Tensor else wrap(g, NO_EDGE) for g in (g_y, g_h, g_c)
            )
            _, _, _, cache = run_forward(ctx, x, h0, c0, weights, True)
        need_input = ctx._next[0] is not None
        grads = run_backward(ctx, x, h0, c0, weights, cache, (g_y, g_h, g_c), need_input)
        if ctx.mode != "LSTM":
            del grads[2]  # (no c0)
        return tuple(grads)

    @staticmethod
    def jvp(ctx, primals, out, tangents):
        duals = [Dual(primal, tangent) for primal, tangent in zip(primals, tangents)]
        x, h0, c0, weights = ctx.split_inputs(duals)
        y, h_n, c_n, _ = run_forward(ctx, x, h0, c0, weights, False)
        results = (y.tangent, h_n.tangent)
        return results if c_n is None else results + (c_n.tangent,)


class MkldnnRnnLayerBackward0(_RecurrentLayer):
    __slots__ = ()
    mode = "LSTM"


class GruLayerBackward0(_RecurrentLayer):
    __slots__ = ()
    mode = "GRU"


class RnnTanhLayerBackward0(_RecurrentLayer):
    __slots__ = ()
    mode = "RNN_TANH"


class RnnReluLayerBackward0(_RecurrentLayer):
    __slots__ = ()
    mode = "RNN_RELU"


NODE_CLASSES = {
    "LSTM": MkldnnRnnLayerBackward0,
    "GRU": GruLayerBackward0,
    "RNN_TANH": RnnTanhLayerBackward0,
    "RNN_RELU": RnnReluLayerBackward0,
}


def recurrent_layer(
    mode: str,
    x,
    h0,
    c0,
    weights: tuple,
    hidden_size: int,
    batch_sizes,
    reverse: bool,
    has_bias: bool,
    has_proj: bool,
) -> tuple:
    """One layer in one direction: ``(y, h_n, c_n)`` (``c_n`` None but for LSTM).

    ``x``: (N, input) rows in packed order, ``batch_sizes``: the sizes of its steps (a padded
    batch: ``[batch] * length``). ``weights``: the layer's parameters in PyTorch's order
    (``w_ih, w_hh[, b_ih, b_hh][, w_hr]``)."""
    node = NODE_CLASSES[mode]()
    node.hidden_size = hidden_size
    node.reverse = reverse
    node.has_bias, node.has_proj = has_bias, has_proj
    steps, offset = [], 0
    for size in batch_sizes:
        steps.append((offset, size))
        offset += size
    if reverse:
        steps.reverse()
    node.steps = steps
    inputs = (x, h0) + ((c0,) if mode == "LSTM" else ()) + tuple(weights)
    arrays = tuple(value._data for value in inputs)
    edges = tuple(value._edge for value in inputs)
    recording = grad_state.enabled and any(edge is not None for edge in edges)
    node.cache = () if recording else None  # (a forward that keeps its gates for the VJP)
    outputs = node.forward(node, *arrays)
    # What the VJP reads: the inputs, then the steps' gates (an entry that neither the version
    # check nor saved-tensor hooks look into, released with the rest after the pass).
    saved = arrays + (node.cache,)
    node.cache = None
    if MODES.special:
        results = record_special(node, inputs, arrays, outputs, saved if recording else None)
    elif not recording:
        results = tuple(wrap(out, NO_EDGE) for out in outputs)
    else:
        record_node(node, edges, saved)
        node.num_outputs = len(outputs)
        node.output_meta = tuple((out.shape, out.dtype) for out in outputs)
        results = tuple(wrap(out, (node, index)) for index, out in enumerate(outputs))
    return results if mode == "LSTM" else results + (None,)


# ---------------------------------------------------------------------- explain rules
_WORDS = {
    "LSTM": "an LSTM layer over the whole sequence (gates i, f, g, o; cell state c)",
    "GRU": "a GRU layer over the whole sequence (gates r, z, n)",
    "RNN_TANH": "an Elman RNN layer over the whole sequence (h' = tanh(W_ih x + W_hh h + b))",
    "RNN_RELU": "an Elman RNN layer over the whole sequence (h' = relu(W_ih x + W_hh h + b))",
}


def _layer_rule(node) -> Rule:
    count = 3 if node.mode == "LSTM" else 2
    count += 2 + (2 if node.has_bias else 0) + (1 if node.has_proj else 0)
    slots = ", ".join(f"{{{slot}:0}}" for slot in "abcdefgh"[:count])
    direction = ", reverse" if node.reverse else ""
    return Rule(
        _WORDS[node.mode] + (" backwards in time" if node.reverse else ""),
        f"{node.mode.lower()}_layer({slots}{direction})",
        passes=("the gradients of every step's output and of the final state, carried back "
                "through time (backpropagation through time)",) * count,
    )  # fmt: skip


DECLARATIONS = (explain_nodes({cls: _layer_rule for cls in NODE_CLASSES.values()}),)
