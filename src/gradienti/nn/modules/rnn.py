"""``torch.nn.modules.rnn``: the recurrent layers (they live in nn/rnn.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..rnn import GRU, LSTM, RNN, RNNBase
from ..rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase

# Every name imported above (a new layer is one more name in the import).
__all__ = sorted(name for name in dir() if not name.startswith("_"))
