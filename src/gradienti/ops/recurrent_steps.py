"""The math of one recurrent layer over time (``nn.RNN``, ``nn.LSTM``, ``nn.GRU``), forward and
backward, written once for three kinds of values:

- raw arrays: the plain forward and the plain backward pass (the fused node's VJP);
- Tensors: the same code recorded, for ``create_graph=True`` (the VJP is then differentiable,
  so the layer is twice differentiable);
- ``Dual`` pairs (value, tangent) of Tensors: the forward run on them gives the outputs'
  tangents, which is the node's forward-mode derivative (JVP).

The rows of ``x`` are in PyTorch's packed order: step ``t`` owns ``steps[t] = (offset, size)``,
the rows ``offset:offset + size``, the first ``size`` sequences of the batch (sizes never grow
in time, as a PackedSequence's). A padded batch is the packed one whose sizes are all the
batch. The state ``h`` always has every sequence's row; a step updates the first ``size`` rows
and leaves the others (finished sequences, or in the reverse direction ones not started) as
they are, so the final state of each sequence is its state after its own last step.

Gate orders are PyTorch's: LSTM (i, f, g, o), GRU (r, z, n).
"""

from __future__ import annotations

from ..backend import xp
from ..tensor import Tensor
from .elementwise import relu
from .join import cat


class Dual:
    """A value and its tangent (None: zero), Tensors, with the few operations the forward
    recurrence uses; each propagates the tangent by its derivative."""

    __slots__ = ("value", "tangent")

    def __init__(self, value, tangent) -> None:
        self.value, self.tangent = value, tangent

    def __add__(self, other):
        if type(other) is not Dual:
            return Dual(self.value + other, self.tangent)
        return Dual(self.value + other.value, _add(self.tangent, other.tangent))

    __radd__ = __add__

    def __sub__(self, other):
        return self + (-1.0) * other

    def __rsub__(self, number):
        return Dual(number - self.value, None if self.tangent is None else -self.tangent)

    def __mul__(self, other):
        if type(other) is not Dual:
            return Dual(self.value * other, None if self.tangent is None else self.tangent * other)
        return Dual(
            self.value * other.value,
            _add(_times(self.tangent, other.value), _times(other.tangent, self.value)),
        )

    __rmul__ = __mul__

    def __matmul__(self, other):
        return Dual(
            self.value @ other.value,
            _add(
                None if self.tangent is None else self.tangent @ other.value,
                None if other.tangent is None else self.value @ other.tangent,
            ),
        )

    def __getitem__(self, key):
        return Dual(self.value[key], None if self.tangent is None else self.tangent[key])

    @property
    def shape(self):
        return self.value.shape

    @property
    def T(self):  # noqa: N802 - the Tensor property's name
        return Dual(self.value.T, None if self.tangent is None else self.tangent.T)


def _add(a, b):
    if a is None:
        return b
    return a if b is None else a + b


def _times(tangent, factor):
    return None if tangent is None else tangent * factor


def tanh_of(value):
    if type(value) is Dual:
        out = xp.tanh(value.value)
        tangent = value.tangent
        return Dual(out, None if tangent is None else tangent - tangent * out * out)
    return xp.tanh(value)  # (a Tensor: its TanhBackward0 through __array_ufunc__)


def sigmoid_of(value):
    """sigmoid(x) = (1 + tanh(x / 2)) / 2: one ufunc, and no overflow for large -x."""
    return 0.5 * tanh_of(0.5 * value) + 0.5


def relu_of(value):
    if type(value) is Dual:
        out = relu_of(value.value)
        tangent = value.tangent
        return Dual(out, None if tangent is None else tangent * (value.value > 0))
    if type(value) is Tensor:
        return relu(value)
    return xp.maximum(value, 0)


def cat_of(parts: list, axis: int = 0):
    first = parts[0]
    if len(parts) == 1:
        return first
    if type(first) is Dual:
        values = cat_of([part.value for part in parts], axis)
        if all(part.tangent is None for part in parts):
            return Dual(values, None)
        tangents = [part.value * 0.0 if part.tangent is None else part.tangent for part in parts]
        return Dual(values, cat_of(tangents, axis))
    if type(first) is Tensor:
        return cat(parts, axis)
    return xp.concatenate(parts, axis=axis)


def _keep_rest(new, state, size: int):
    """The state after a step that updated its first ``size`` rows to ``new``."""
    return new if size == state.shape[0] else cat_of([new, state[size:]])


def _transposed(weight):
    """``weight.T``; for an array, a contiguous copy: OpenBLAS multiplies by it faster than
    by the transposed view."""
    if type(weight) is xp.ndarray:
        return xp.ascontiguousarray(weight.T)
    return weight.T


def _step_product(state, weight, weight_t, contiguous: bool = False):
    """``state @ weight.T`` for one step (a few rows times a weight). On arrays it is
    computed as ``(weight @ state.T).T``: OpenBLAS takes about half the time for a wide
    weight times a few columns as for a few rows times the wide transposed weight (batch 32,
    hidden 256: 0.4 ms against 0.7 ms a step)."""
    if type(state) is xp.ndarray:
        product = (weight @ state.T).T
        # (a state must be row-major as PyTorch's: its layout is what strides and dropout's
        # mask order see)
        return xp.ascontiguousarray(product) if contiguous else product
    return state @ weight_t


# ---------------------------------------------------------------------- forward
def run_forward(layer, x, h0, c0, weights, keep: bool):
    """One layer and direction over every step. ``layer``: the node (mode, hidden_size, steps
    in the order they run, has_bias, has_proj). ``weights``: (w_ih, w_hh, b_ih, b_hh, w_hr),
    None for the absent ones. Returns (y, h_n, c_n, cache); y's rows in packed order; cache
    the per-step values the backward pass reads (None unless ``keep``)."""
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    mode = layer.mode
    # The input's share of every step at once: one matrix product.
    projected = x @ _transposed(w_ih)
    if b_ih is not None:
        projected = projected + b_ih
        if mode != "GRU":  # (GRU's hidden bias sits inside r * (W_hn h + b_hn))
            projected = projected + b_hh
    w_hh_t = _transposed(w_hh)
    w_hr_t = None if w_hr is None else _transposed(w_hr)
    hidden = layer.hidden_size
    h, c = h0, c0
    outputs, cache = [], []
    for offset, size in layer.steps:
        inputs = projected[offset : offset + size]
        h_prev = h if size == h.shape[0] else h[:size]
        if mode == "LSTM":
            gates = inputs + _step_product(h_prev, w_hh, w_hh_t)
            c_prev = c if size == c.shape[0] else c[:size]
            sig = sigmoid_of(gates)
            i, f, o = sig[:, :hidden], sig[:, hidden : 2 * hidden], sig[:, 3 * hidden :]
            g = tanh_of(gates[:, 2 * hidden : 3 * hidden])
            c_new = f * c_prev + i * g
            tanh_c = tanh_of(c_new)
            h_full = o * tanh_c
            h_new = h_full if w_hr is None else _step_product(h_full, w_hr, w_hr_t, True)
            c = _keep_rest(c_new, c, size)
            step = (i, f, g, o, c_prev, tanh_c, h_prev, h_full)
        elif mode == "GRU":
            from_hidden = _step_product(h_prev, w_hh, w_hh_t)
            if b_hh is not None:
                from_hidden = from_hidden + b_hh
            rz = sigmoid_of(inputs[:, : 2 * hidden] + from_hidden[:, : 2 * hidden])
            r, z = rz[:, :hidden], rz[:, hidden:]
            hidden_n = from_hidden[:, 2 * hidden :]
            n = tanh_of(inputs[:, 2 * hidden :] + r * hidden_n)
            h_new = n + z * (h_prev - n)  # (1 - z) n + z h
            step = (r, z, n, hidden_n, h_prev)
        else:
            total = inputs + _step_product(h_prev, w_hh, w_hh_t)
            h_new = tanh_of(total) if mode == "RNN_TANH" else relu_of(total)
            step = (h_new, h_prev)
        h = _keep_rest(h_new, h, size)
        outputs.append(h_new)
        if keep:
            cache.append(step)
    if layer.reverse:
        outputs.reverse()  # (back to packed order)
    return cat_of(outputs), h, c, (cache if keep else None)


# ---------------------------------------------------------------------- backward
def run_backward(layer, x, h0, c0, weights, cache, output_grads, need_input: bool):
    """The gradients of (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr) (None for the absent, and
    for x unless ``need_input``) from those of (y, h_n, c_n), back over the steps with the
    forward's cache."""
    g_y, g_h, g_c = output_grads
    w_ih, w_hh, b_ih, b_hh, w_hr = weights
    mode = layer.mode
    d_h, d_c = g_h, g_c
    d_inputs, d_hiddens, h_prevs, d_outs, h_fulls = [], [], [], [], []
    for (offset, size), step in zip(reversed(layer.steps), reversed(cache)):
        d_active = g_y[offset : offset + size]
        d_active = d_active + (d_h if size == d_h.shape[0] else d_h[:size])
        if mode == "LSTM":
            i, f, g, o, c_prev, tanh_c, h_prev, h_full = step
            if w_hr is not None:
                d_outs.append(d_active)
                h_fulls.append(h_full)
                d_active = d_active @ w_hr
            d_c_new = d_c if size == d_c.shape[0] else d_c[:size]
            d_c_new = d_c_new + d_active * o * (1 - tanh_c * tanh_c)
            d_gates = cat_of(
                [
                    d_c_new * g * i * (1 - i),
                    d_c_new * c_prev * f * (1 - f),
                    d_c_new * i * (1 - g * g),
                    d_active * tanh_c * o * (1 - o),
                ],
                1,
            )
            d_c = _keep_rest(d_c_new * f, d_c, size)
            d_prev = d_gates @ w_hh
            d_hidden = d_gates
        elif mode == "GRU":
            r, z, n, hidden_n, h_prev = step
            d_n = d_active * (1 - z) * (1 - n * n)
            d_rz = cat_of([d_n * hidden_n * r * (1 - r), d_active * (h_prev - n) * z * (1 - z)], 1)
            d_gates = cat_of([d_rz, d_n], 1)
            d_hidden = cat_of([d_rz, d_n * r], 1)
            d_prev = d_active * z + d_hidden @ w_hh
        else:
            h_new, h_prev = step
            if mode == "RNN_TANH":
                d_gates = d_active * (1 - h_new * h_new)
            else:
                d_gates = d_active * (h_new > 0)
            d_hidden = d_gates
            d_prev = d_gates @ w_hh
        d_h = _keep_rest(d_prev, d_h, size)
        d_inputs.append(d_gates)
        d_hiddens.append(d_hidden)
        h_prevs.append(h_prev)
    # back in packed order: reversed(run order), which for the reverse direction is the
    # run order's own reverse
    if not layer.reverse:
        for rows in (d_inputs, d_hiddens, h_prevs, d_outs, h_fulls):
            rows.reverse()
    d_projected = cat_of(d_inputs)
    d_from_hidden = d_projected if mode != "GRU" else cat_of(d_hiddens)
    all_h_prev = cat_of(h_prevs)
    grads = [
        d_projected @ w_ih if need_input else None,
        d_h,
        d_c if mode == "LSTM" else None,
        d_projected.T @ x,
        d_from_hidden.T @ all_h_prev,
    ]
    if b_ih is not None:
        grads += [d_projected.sum(0), d_from_hidden.sum(0)]
    if w_hr is not None:
        grads.append(cat_of(d_outs).T @ cat_of(h_fulls))
    return grads
