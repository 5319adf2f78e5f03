"""The recurrent layers ``nn.RNN`` (tanh or relu), ``nn.LSTM`` (with ``proj_size``) and
``nn.GRU``, as PyTorch's ``RNNBase``: its constructor arguments and checks, parameter names,
shapes, order and same-seed initialisation, its input checks and error texts, initial states,
unbatched inputs, ``batch_first``, ``bidirectional``, dropout between layers and packed input.

Each layer and direction is one fused node over the whole sequence (ops/recurrent.py); the
layers' outputs are joined and, in training, passed through dropout (PyTorch's mask stream:
``F.dropout`` of each layer's output but the last), and the final states are stacked.
"""

from __future__ import annotations

import math
import numbers
import warnings

from ..backend import SCALAR_TYPE_NAMES
from ..creation import empty, zeros
from ..ops.join import cat, stack
from ..ops.recurrent import recurrent_layer
from . import init
from .dropout import dropout as apply_dropout
from .module import Module
from .parameter import Parameter
from .utils.rnn import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


class RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters, checks, the run over layers and directions."""

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        _check_arguments(
            mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size
        )
        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = [
                    (f"weight_ih_l{layer}{suffix}", (gate_size, layer_input_size)),
                    (f"weight_hh_l{layer}{suffix}", (gate_size, real_hidden_size)),
                ]
                if bias:
                    shapes += [
                        (f"bias_ih_l{layer}{suffix}", (gate_size,)),
                        (f"bias_hh_l{layer}{suffix}", (gate_size,)),
                    ]
                if proj_size > 0:
                    shapes.append((f"weight_hr_l{layer}{suffix}", (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name, Parameter(empty(shape, device=device, dtype=dtype)))
                names = [name for name, _ in shapes]
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self) -> list:
        """The parameters in PyTorch's flat order (read anew, so a replaced one is seen)."""
        return [getattr(self, name, None) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self) -> None:
        """PyTorch's cuDNN weight packing: nothing to do on the CPU."""

    def reset_parameters(self) -> None:
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # ------------------------------------------------------------------ checks
    def check_input(self, input, batch_sizes) -> None:
        weight_dtype = self._flat_weights[0].dtype
        if input.dtype != weight_dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                f"Convert input: input.to({weight_dtype}), or convert model: "
                f"model.to({input.dtype})"
            )
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(
                f"input must have {expected_input_dim} dimensions, got {input.dim()}"
            )
        if self.input_size != input.size(-1):
            raise RuntimeError(
                "input.size(-1) must be equal to input_size. Expected "
                f"{self.input_size}, got {input.size(-1)}"
            )

    def get_expected_hidden_size(self, input, batch_sizes) -> tuple:
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self._num_states(), self._mini_batch(input, batch_sizes), size)

    def check_hidden_size(
        self, hx, expected_hidden_size: tuple, msg: str = "Expected hidden size {}, got {}"
    ) -> None:
        if tuple(hx.size()) != expected_hidden_size:
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return hx.index_select(1, permutation)

    def _num_states(self) -> int:
        return self.num_layers * (2 if self.bidirectional else 1)

    def _mini_batch(self, input, batch_sizes) -> int:
        if batch_sizes is not None:
            return int(batch_sizes[0])
        return input.size(0) if self.batch_first else input.size(1)

    # ------------------------------------------------------------------ the run
    def _run(self, input, batch_sizes, hx, cx):
        """Every layer and direction: (output, h_n, c_n). ``input`` is time-major (T, B, I)
        when ``batch_sizes`` is None, else a packed sequence's data (N, I)."""
        # (PyTorch's CPU LSTM without projections runs float32 through oneDNN)
        onednn = self.mode == "LSTM" and batch_sizes is None and self.proj_size == 0
        onednn = onednn and input._data.dtype.name == "float32"
        cx = _check_states(input, hx, cx, self._flat_weights[0], onednn, self.proj_size > 0)
        _check_weight_dtypes(
            self._flat_weights,
            len(self._flat_weights_names) // self._num_states(),
            self.bias,
            self.proj_size > 0,
            input._data.dtype,
            onednn,
        )
        if batch_sizes is None:
            steps, batch = input.shape[0], input.shape[1]
            layer_input = input.reshape(steps * batch, input.shape[2])
            sizes = [batch] * steps
        else:
            layer_input = input
            sizes = [int(size) for size in batch_sizes.tolist()]
        directions = 2 if self.bidirectional else 1
        per_layer = len(self._flat_weights_names) // self._num_states()
        flat = self._flat_weights
        h_finals, c_finals = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                index = layer * directions + direction
                weights = tuple(flat[index * per_layer : (index + 1) * per_layer])
                y, h_n, c_n = recurrent_layer(
                    self.mode,
                    layer_input,
                    hx[index],
                    None if cx is None else cx[index],
                    weights,
                    self.hidden_size,
                    sizes,
                    direction == 1,
                    self.bias,
                    self.proj_size > 0,
                )
                outputs.append(y)
                h_finals.append(h_n)
                c_finals.append(c_n)
            layer_input = outputs[0] if directions == 1 else cat(outputs, 1)
            if self.dropout != 0 and self.training and layer < self.num_layers - 1:
                layer_input = apply_dropout(layer_input, self.dropout, True)
        output = layer_input
        if batch_sizes is None:
            output = output.reshape(input.shape[0], input.shape[1], output.shape[-1])
        c_n = stack(c_finals, 0) if cx is not None else None
        return output, stack(h_finals, 0), c_n

    def _zeros_state(self, batch: int, size: int, like):
        return zeros((self._num_states(), batch, size), dtype=like.dtype)


def _check_states(input, hx, cx, weight, onednn=False, has_proj=False):
    """PyTorch's errors (from its C++ loop) for an empty sequence and for a state whose
    dtype is not the weights' (its first step's product ``h @ W_hh^T`` refuses it; oneDNN
    refuses any). Returns ``cx``: one of a narrower dtype (or integral) becomes the weights'
    dtype, as PyTorch's loop promotes ``f * c`` to it; a wider one fails at the next product
    its dtype reaches (``h @ W_hr^T`` with projections, else ``h @ W_hh^T``)."""
    if input.shape[0] == 0:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    dtype = weight._data.dtype
    if onednn:
        odd = {s._data.dtype.name for s in (hx, cx) if s is not None and s._data.dtype != dtype}
        if odd:
            message = _ONEDNN_PRIMITIVE_ERROR if odd == {"float16"} else _ONEDNN_DTYPE_ERROR
            raise RuntimeError(message)
    for state in (hx, cx):
        if state is None or state._data.dtype == dtype:
            continue
        wider = state._data.dtype.kind == "f" and state._data.dtype.itemsize > dtype.itemsize
        if state is cx and not wider:
            return cx.to(weight.dtype)
        if state is cx and has_proj:
            names = [_CPP_TYPE_NAMES.get(t.name, t.name) for t in (state._data.dtype, dtype)]
            raise RuntimeError(
                f"expected m1 and m2 to have the same dtype, but got: {names[0]} != {names[1]}"
            )
        raise RuntimeError(
            "mat1 and mat2 must have the same dtype, but got "
            f"{SCALAR_TYPE_NAMES[state._data.dtype.name]} and {SCALAR_TYPE_NAMES[dtype.name]}"
        )
    return cx


_ONEDNN_PRIMITIVE_ERROR = (
    "could not create a primitive descriptor for the LSTM forward propagation primitive. Run "
    "workload with environment variable ONEDNN_VERBOSE=all to get additional diagnostic "
    "information."
)
_ONEDNN_DTYPE_ERROR = "get_mkldnn_dtype: unsupported data type"
# the C++ names of dtypes in ATen's "expected m1 and m2" message
_CPP_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half"}


def _check_weight_dtypes(weights, per_layer, bias, has_proj, dtype, onednn) -> None:
    """PyTorch's kernels refuse a weight of another dtype than the input's (a replaced
    parameter; NumPy would promote it silently): the error of the first product that takes
    it, ``b + x @ w^T`` (addmm's "self and mat2") or, without a bias, ``x @ w^T``."""
    for start in range(0, len(weights), per_layer):
        layer = weights[start : start + per_layer]
        products = [(layer[0], layer[2] if bias else None), (layer[1], layer[3] if bias else None)]
        if has_proj:
            products.append((layer[-1], None))
        for weight, offset in products:
            if weight._data.dtype == dtype and (offset is None or offset._data.dtype == dtype):
                continue
            if onednn:  # (oneDNN takes a float16 bias, not a float16 weight)
                odd = [t._data.dtype.name for t in (weight, offset) if t is not None]
                odd = [name for name in odd if name != dtype.name]
                if odd == ["float16"] and weight._data.dtype == dtype:
                    continue
                if "float16" in odd:
                    raise RuntimeError(_ONEDNN_PRIMITIVE_ERROR)
                raise RuntimeError(_ONEDNN_DTYPE_ERROR)
            if offset is None:
                names = [_CPP_TYPE_NAMES.get(t.name, t.name) for t in (dtype, weight._data.dtype)]
                raise RuntimeError(
                    f"expected m1 and m2 to have the same dtype, but got: {names[0]} != {names[1]}"
                )
            raise RuntimeError(
                "self and mat2 must have the same dtype, but got "
                f"{SCALAR_TYPE_NAMES[offset._data.dtype.name]} and "
                f"{SCALAR_TYPE_NAMES[weight._data.dtype.name]}"
            )


def _check_arguments(
    mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size
) -> None:
    """PyTorch's checks, in its order (the first failing one is the error raised)."""
    if (
        not isinstance(dropout, numbers.Number)
        or not 0 <= dropout <= 1
        or isinstance(dropout, bool)
    ):
        raise ValueError(
            "dropout should be a number in range [0, 1] representing the probability of an "
            "element being zeroed"
        )
    if dropout > 0 and num_layers == 1:
        warnings.warn(
            "dropout option adds dropout after all but last recurrent layer, so non-zero "
            "dropout expects num_layers greater than 1, but got "
            f"dropout={dropout} and num_layers={num_layers}",
            stacklevel=3,  # (the line of RNN/LSTM/GRU.__init__, as PyTorch's)
        )
    if not isinstance(bias, bool):
        raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
    if not isinstance(batch_first, bool):
        raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
    if not isinstance(input_size, int):
        raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
    if input_size <= 0:
        raise ValueError("input_size must be greater than zero")
    if not isinstance(hidden_size, int):
        raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
    if hidden_size <= 0:
        raise ValueError("hidden_size must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")
    if mode not in _GATES:
        raise ValueError("Unrecognized RNN mode: " + mode)


def _no_proj_size(kwargs) -> None:
    if "proj_size" in kwargs:
        raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")


class _SingleStateRNN(RNNBase):
    """RNN and GRU: one state tensor ``h``."""

    def forward(self, input, hx=None):
        orig_input = input
        is_batched = True
        sorted_indices = unsorted_indices = None
        if isinstance(orig_input, PackedSequence):
            input, batch_sizes, sorted_indices, unsorted_indices = orig_input
            max_batch_size = int(batch_sizes[0])
        else:
            batch_sizes = None
            if input.dim() not in (2, 3):
                raise ValueError(
                    f"{self._label()}: Expected input to be 2D or 3D, got {input.dim()}D"
                    f"{self._dim_suffix()}"
                )
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not is_batched:
                input = input.unsqueeze(batch_dim)
                if hx is not None:
                    if hx.dim() != 2:
                        raise RuntimeError(
                            "For unbatched 2-D input, hx should also be 2-D but got "
                            f"{hx.dim()}-D tensor"
                        )
                    hx = hx.unsqueeze(1)
            elif hx is not None and hx.dim() != 3:
                raise RuntimeError(
                    f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor"
                )
            max_batch_size = input.size(0) if self.batch_first else input.size(1)
        if hx is None:
            hx = self._zeros_state(max_batch_size, self.hidden_size, input)
        else:
            hx = self.permute_hidden(hx, sorted_indices)
        self.check_forward_args(input, hx, batch_sizes)
        time_major = input.transpose(0, 1) if self.batch_first and batch_sizes is None else input
        output, hidden, _ = self._run(time_major, batch_sizes, hx, None)
        if batch_sizes is not None:
            packed = PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices)
            return packed, self.permute_hidden(hidden, unsorted_indices)
        if self.batch_first:
            output = output.transpose(0, 1)
        if not is_batched:
            output = output.squeeze(0 if self.batch_first else 1)
            hidden = hidden.squeeze(1)
        return output, hidden


class RNN(_SingleStateRNN):
    """An Elman RNN: ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu)."""

    def __init__(self, *args, **kwargs) -> None:
        _no_proj_size(kwargs)
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(
                f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(mode, *args, **kwargs)

    def _label(self) -> str:
        return "RNN"

    def _dim_suffix(self) -> str:
        return " tensor instead"


class GRU(_SingleStateRNN):
    """Gated recurrent units: reset gate r, update gate z, new gate n (PyTorch's equations)."""

    def __init__(self, *args, **kwargs) -> None:
        _no_proj_size(kwargs)
        super().__init__("GRU", *args, **kwargs)

    def _label(self) -> str:
        return "GRU"

    def _dim_suffix(self) -> str:
        return " instead"


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o and a cell state ``c``; with ``proj_size`` the
    hidden state is projected by ``weight_hr``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes) -> tuple:
        return (self._num_states(), self._mini_batch(input, batch_sizes), self.hidden_size)

    def check_forward_args(self, input, hidden, batch_sizes) -> None:
        self.check_input(input, batch_sizes)
        self.check_hidden_size(
            hidden[0],
            self.get_expected_hidden_size(input, batch_sizes),
            "Expected hidden[0] size {}, got {}",
        )
        self.check_hidden_size(
            hidden[1],
            self.get_expected_cell_size(input, batch_sizes),
            "Expected hidden[1] size {}, got {}",
        )

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        return hx[0].index_select(1, permutation), hx[1].index_select(1, permutation)

    def _check_packed_args(self, input, hx, batch_sizes) -> None:
        """PyTorch's LSTM skips ``check_forward_args`` for a packed input: its errors are its
        C++ kernel's, in their order. What that kernel leaves unchecked (it may run on, or
        crash on, mismatched states) gets ``check_forward_args``' errors."""
        if len(hx) != 2:
            raise RuntimeError("lstm expects two hidden states")
        weights = self._flat_weights
        # the kernel infers projections from the states (a 2-D state: size's IndexError)
        has_projections = hx[0].size(2) != hx[1].size(2)
        if len(weights) % ((4 if self.bias else 2) + (1 if has_projections else 0)):
            raise RuntimeError("got an incorrect number of RNN parameters")
        layers = hx[0].size(0)
        if self.bidirectional:
            if layers % 2:
                raise RuntimeError("Odd number of params or hiddens given to a bidirectional RNN")
            layers //= 2
        if layers != self.num_layers:
            raise RuntimeError("Expected more hidden states in stacked_rnn")
        weight = weights[0]
        if input.dtype != weight.dtype:  # (the first product, input @ weight_ih_l0^T)
            raise RuntimeError(
                "mat1 and mat2 must have the same dtype, but got "
                f"{SCALAR_TYPE_NAMES[input._data.dtype.name]} and "
                f"{SCALAR_TYPE_NAMES[weight._data.dtype.name]}"
            )
        if input.size(1) != weight.size(1):
            raise RuntimeError(
                f"mat1 and mat2 shapes cannot be multiplied ({input.size(0)}x{input.size(1)} "
                f"and {weight.size(1)}x{weight.size(0)})"
            )
        _check_states(input, hx[0], hx[1], weight, False, self.proj_size > 0)
        batch = int(batch_sizes[0])
        if hx[0].size(1) == 1 != batch:  # (the first step adds h's gates in place to x's)
            gates = 4 * self.hidden_size
            raise RuntimeError(
                f"output with shape [1, {gates}] doesn't match the broadcast shape "
                f"[{batch}, {gates}]"
            )
        # the first step's sums (a c of batch 1 broadcasts there: left to the check below)
        for a, b in ((hx[0].size(1), batch), (batch, hx[1].size(1))):
            if a != b and 1 not in (a, b):
                raise RuntimeError(
                    f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                    "non-singleton dimension 0"
                )
        self.check_forward_args(input, hx, batch_sizes)

    def forward(self, input, hx=None):
        orig_input = input
        is_batched = True
        sorted_indices = unsorted_indices = None
        real_hidden_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        if isinstance(orig_input, PackedSequence):
            input, batch_sizes, sorted_indices, unsorted_indices = orig_input
            max_batch_size = int(batch_sizes[0])
            if hx is None:
                hx = (
                    self._zeros_state(max_batch_size, real_hidden_size, input),
                    self._zeros_state(max_batch_size, self.hidden_size, input),
                )
            else:
                hx = self.permute_hidden(hx, sorted_indices)
        else:
            batch_sizes = None
            if input.dim() not in (2, 3):
                raise ValueError(f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D instead")
            is_batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not is_batched:
                input = input.unsqueeze(batch_dim)
            max_batch_size = input.size(0) if self.batch_first else input.size(1)
            if hx is None:
                hx = (
                    self._zeros_state(max_batch_size, real_hidden_size, input),
                    self._zeros_state(max_batch_size, self.hidden_size, input),
                )
                self.check_forward_args(input, hx, batch_sizes)
            else:
                _check_state_dims(hx, is_batched)
                if not is_batched:
                    hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
                self.check_forward_args(input, hx, batch_sizes)
        if batch_sizes is not None:
            self._check_packed_args(input, hx, batch_sizes)
        elif len(hx) != 2:  # (after the checks of hx[0] and hx[1], as PyTorch's kernel)
            raise RuntimeError("lstm expects two hidden states")
        time_major = input.transpose(0, 1) if self.batch_first and batch_sizes is None else input
        output, h_n, c_n = self._run(time_major, batch_sizes, hx[0], hx[1])
        hidden = (h_n, c_n)
        if batch_sizes is not None:
            packed = PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices)
            return packed, self.permute_hidden(hidden, unsorted_indices)
        if self.batch_first:
            output = output.transpose(0, 1)
        if not is_batched:
            output = output.squeeze(0 if self.batch_first else 1)
            hidden = (h_n.squeeze(1), c_n.squeeze(1))
        return output, hidden


def _check_state_dims(hx, is_batched: bool) -> None:
    dims = (hx[0].dim(), hx[1].dim())
    if is_batched and dims != (3, 3):
        raise RuntimeError(
            "For batched 3-D input, hx and cx should also be 3-D but got "
            f"({dims[0]}-D, {dims[1]}-D) tensors"
        )
    if not is_batched and dims != (2, 2):
        raise RuntimeError(
            "For unbatched 2-D input, hx and cx should also be 2-D but got "
            f"({dims[0]}-D, {dims[1]}-D) tensors"
        )
