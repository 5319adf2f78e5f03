"""The two ops under ``nn.utils.rnn``'s packing: ``pack`` (PyTorch's ``_pack_padded_sequence``)
and ``pad`` (its ``_pad_packed_sequence``).

A packed sequence is the valid steps of a padded batch ``(T, B, *)`` laid out time-major: step 0
of every sequence, then step 1 of those still running, ... (the sequences sorted by decreasing
length, so those running at step ``t`` are a prefix of the batch). Both ops are one advanced
index: ``(t_index, b_index)``, the valid positions in that order (``nn/utils/rnn.py`` builds
it from the lengths).

* packing reads ``input[key]``: ``PackPaddedSequenceBackward0``, an ``IndexBackward0`` under
  PyTorch's name, whose VJP puts the gradient back at ``key`` in zeros;
* padding writes the packed rows at ``key`` into a tensor filled with the padding value:
  ``CopySlices``, the node PyTorch's composite padding ends with (its chain of slice copies is
  one write here).

Each one's VJP is the other kind of indexing op, so every derivative order works.
"""

from __future__ import annotations

from ..backend import xp
from ..graph.node import NO_EDGE
from ..tensor import wrap
from .apply import unary
from .declare import explain_nodes
from .explain_rule import INDEXED, Rule
from .indexing import CopySlices, IndexBackward0, put
from .saved_names import SavedNames, held, value


class PackPaddedSequenceBackward0(IndexBackward0):
    """``input[key]``: the valid steps of a padded batch, time-major (see the module)."""

    __slots__ = ("batch_first", "batch_sizes")
    saved_names = SavedNames(
        batch_first=value("batch_first"),
        input_sym_sizes=value("input_shape"),
        result1=held("batch_sizes"),
    )


def pack(input, key: tuple, batch_sizes, batch_first: bool):
    """The packed data of the padded ``input`` at the valid positions ``key``."""
    node = PackPaddedSequenceBackward0()
    node.key = key
    node.batch_first = batch_first
    node.batch_sizes = batch_sizes
    return unary(node, input)


def pad(data, key: tuple, shape: tuple, padding_value):
    """A tensor of ``shape`` (time-major) filled with ``padding_value``, with the packed rows of
    ``data`` written at ``key``."""
    node = CopySlices()
    node.steps = ()
    node.key = key
    node.accumulate = False
    filled = xp.full(shape, padding_value, dtype=data._data.dtype)
    return put(node, wrap(filled, NO_EDGE), data)


DECLARATIONS = (
    explain_nodes(
        {
            PackPaddedSequenceBackward0: Rule(
                "packing the valid steps of padded sequences",
                "pack_padded_sequence({x:9}, …)",
                passes=INDEXED,
            )
        }
    ),
)
