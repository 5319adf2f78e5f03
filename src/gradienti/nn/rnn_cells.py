"""The recurrent cells: ``RNNCell`` (tanh or relu), ``LSTMCell``, ``GRUCell``: one step of a
recurrent layer, for a loop the learner writes over time.

Each step is composed of ordinary ops in the order of PyTorch's cells (ATen's ``SimpleCell``,
``LSTMCell``, ``GRUCell``), so it records PyTorch's nodes (``TanhBackward0``; ``MulBackward0`` and
``AddBackward0`` for LSTM's ``h`` and ``c``; ``AddBackward0`` for GRU's ``h``), and every
derivative order, forward mode and vmap come from those ops. The parameters are PyTorch's:
``weight_ih`` ``(chunks * hidden, input)``, ``weight_hh`` ``(chunks * hidden, hidden)``,
``bias_ih``, ``bias_hh``, the gates stacked in PyTorch's order (LSTM: i, f, g, o; GRU: r, z, n),
drawn from uniform(-1/sqrt(hidden), 1/sqrt(hidden)) in ``parameters()`` order as PyTorch's.
"""

from __future__ import annotations

import math

from ..creation import empty, zeros
from ..tensor import Tensor
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


class RNNCellBase(Module):
    """The parameters, initialisation and repr shared by the three cells."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool,
        num_chunks: int,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        options = {"device": device, "dtype": dtype}
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), **options))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), **options))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, **options))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, **options))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        text = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            text += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            text += ", nonlinearity={nonlinearity}"
        return text.format(**self.__dict__)

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _batched(self, name: str, input, states, state_names: tuple):
        """``input`` and the states as 2-D batches (an unbatched call gets a batch of one;
        ``states`` None: zeros, one per name), with PyTorch's dimension checks (each given
        state's ``dim()`` is read: a None among them raises AttributeError as PyTorch's); and
        whether it was batched."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        names = state_names if states is None else state_names[: len(states)]
        for state, state_name in zip(() if states is None else states, names):
            if state.dim() not in (1, 2):
                raise ValueError(
                    f"{name}: Expected {state_name} to be 1D or 2D, got {state.dim()}D instead"
                )
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if states is None:
            state_zeros = zeros(
                input.size(0), self.hidden_size, dtype=input.dtype, device=input.device
            )
            states = (state_zeros,) * len(state_names)
        elif not is_batched:
            states = tuple(state.unsqueeze(0) for state in states)
        return input, states, is_batched

    def _check_sizes(self, input, states: tuple) -> None:
        """ATen's cell checks: the input's features, then each state's batch and features."""
        expected_input = self.weight_ih.size(1)
        if input.size(1) != expected_input:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.size(1)} expected {expected_input}"
            )
        expected_hidden = self.weight_hh.size(1)
        for index, state in enumerate(states):
            if input.size(0) != state.size(0):
                raise RuntimeError(
                    f"Input batch size {input.size(0)} doesn't match hidden{index} batch size "
                    f"{state.size(0)}"
                )
            if state.size(1) != expected_hidden:
                raise RuntimeError(
                    f"hidden{index} has inconsistent hidden_size: got {state.size(1)}, expected "
                    f"{expected_hidden}"
                )


class RNNCell(RNNCellBase):
    """h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) (or relu)."""

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        states = None if hx is None else (hx,)
        input, (hx,), is_batched = self._batched("RNNCell", input, states, ("hidden",))
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        self._check_sizes(input, (hx,))
        pre_activation = F.linear(hx, self.weight_hh, self.bias_hh) + F.linear(
            input, self.weight_ih, self.bias_ih
        )
        hy = pre_activation.tanh() if self.nonlinearity == "tanh" else pre_activation.relu()
        return hy if is_batched else hy.squeeze(0)


class LSTMCell(RNNCellBase):
    """Gates i, f, g, o = σ, σ, tanh, σ of (x W_ihᵀ + b_ih + h W_hhᵀ + b_hh) in four chunks;
    c' = f c + i g, h' = o tanh(c'). Returns (h', c')."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        states = None if hx is None else tuple(hx)
        count = 2 if states is None else len(states)
        input, states, is_batched = self._batched(
            "LSTMCell", input, states, tuple(f"hx[{index}]" for index in range(count))
        )
        if is_batched and isinstance(hx, Tensor):  # unbatched, PyTorch indexes hx[0], hx[1]
            raise TypeError(
                "lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not Tensor"
            )
        if not is_batched:
            states = states[:2]  # PyTorch's unbatched path unsqueezes hx[0] and hx[1] only
            if len(states) < 2:
                raise IndexError("tuple index out of range")
        if len(states) != 2:
            raise RuntimeError("lstm_cell expects two hidden states")
        self._check_sizes(input, states)
        h, c = states
        gates = F.linear(h, self.weight_hh, self.bias_hh) + F.linear(
            input, self.weight_ih, self.bias_ih
        )
        in_gate, forget_gate, cell_gate, out_gate = gates.chunk(4, 1)
        cy = forget_gate.sigmoid() * c + in_gate.sigmoid() * cell_gate.tanh()
        hy = out_gate.sigmoid() * cy.tanh()
        if not is_batched:
            return hy.squeeze(0), cy.squeeze(0)
        return hy, cy


class GRUCell(RNNCellBase):
    """r = σ(x W_irᵀ + b_ir + h W_hrᵀ + b_hr), z likewise,
    n = tanh(x W_inᵀ + b_in + r (h W_hnᵀ + b_hn)), h' = (h - n) z + n = (1 - z) n + z h."""

    def __init__(
        self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None
    ) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        states = None if hx is None else (hx,)
        input, (hx,), is_batched = self._batched("GRUCell", input, states, ("hidden",))
        self._check_sizes(input, (hx,))
        input_reset, input_update, input_new = F.linear(input, self.weight_ih, self.bias_ih).chunk(
            3, 1
        )
        hidden_reset, hidden_update, hidden_new = F.linear(hx, self.weight_hh, self.bias_hh).chunk(
            3, 1
        )
        reset_gate = (hidden_reset + input_reset).sigmoid()
        update_gate = (hidden_update + input_update).sigmoid()
        new_gate = (input_new + hidden_new * reset_gate).tanh()
        hy = (hx - new_gate) * update_gate + new_gate
        return hy if is_batched else hy.squeeze(0)
