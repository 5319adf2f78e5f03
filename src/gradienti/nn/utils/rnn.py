"""``torch.nn.utils.rnn``: ``pad_sequence``, padding sequences of different lengths into one
tensor (a batch of names or sentences for a character-level or word-level model), and
``unpad_sequence``, its inverse.

Made of differentiable ops (each sequence joined to its padding, then stacked), so gradients
reach every sequence as PyTorch's do (its graph is a chain of ``CopySlices`` nodes instead).
The packed-sequence functions come with the recurrent layers.
"""

from __future__ import annotations

from ...backend import xp
from ...creation import arange, full
from ...ops.join import cat, stack
from ...tensor import Tensor

__all__ = ["pad_sequence", "unpad_sequence"]


def pad_sequence(
    sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"
) -> Tensor:
    """Pad ``sequences`` (tensors of shape ``(L_i, *)``) with ``padding_value`` to the longest
    length: ``(max L, batch, *)``, or ``(batch, max L, *)`` with ``batch_first``. The result
    has the first sequence's dtype and trailing shape; the others are cast and broadcast to
    them, as PyTorch copies them in."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    sequences = list(sequences.unbind(0) if isinstance(sequences, Tensor) else sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    first = sequences[0]
    trailing = tuple(first.shape[1:])
    longest = max(len(sequence) for sequence in sequences)
    padded = []
    for sequence in sequences:
        length = len(sequence)
        sequence = _as_slice(sequence.to(first.dtype), (length, *trailing))
        if length == longest:
            padded.append(sequence)
            continue
        filler = full((longest - length, *trailing), padding_value, dtype=first.dtype)
        parts = [sequence, filler] if padding_side == "right" else [filler, sequence]
        padded.append(cat(parts, 0))
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The sequences ``pad_sequence`` padded: for each one ``b``, its first ``lengths[b]``
    steps (selected with a mask, as PyTorch's, so each records ``IndexBackward0``).

    As PyTorch's, it transposes ``padded_sequences`` itself in place when not ``batch_first``
    (the caller's tensor is batch-first afterwards)."""
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    steps = arange(padded_sequences.shape[1])
    return [
        sequence[steps < length] for sequence, length in zip(padded_sequences, lengths, strict=True)
    ]


def _as_slice(sequence: Tensor, shape: tuple) -> Tensor:
    """``sequence`` broadcast to its slice of the output, or PyTorch's copy_ error."""
    if tuple(sequence.shape) == shape:
        return sequence
    source = tuple(sequence.shape)
    width = max(len(shape), len(source))
    target_padded = (1,) * (width - len(shape)) + shape
    source_padded = (1,) * (width - len(source)) + source
    # PyTorch's broadcast reports the last incompatible dimension first
    for dim in reversed(range(width)):
        a, b = target_padded[dim], source_padded[dim]
        if a != b and a != 1 and b != 1:
            raise RuntimeError(
                f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                f"non-singleton dimension {dim}"
            )
    if xp.broadcast_shapes(shape, source) != shape:
        raise RuntimeError(
            f"output with shape {list(shape)} doesn't match the broadcast shape "
            f"{list(xp.broadcast_shapes(shape, source))}"
        )
    return sequence.expand(*shape)
