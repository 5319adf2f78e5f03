"""``torch.nn.utils.rnn``: batches of sequences of different lengths, padded or packed.

* ``pad_sequence``/``unpad_sequence``: sequences padded into one tensor and back (a batch of
  names or sentences for a character-level or word-level model). Made of differentiable ops
  (each sequence joined to its padding, then stacked), so gradients reach every sequence as
  PyTorch's do (its graph is a chain of ``CopySlices`` nodes instead).
* ``PackedSequence``, ``pack_padded_sequence``/``pad_packed_sequence``, ``pack_sequence``/
  ``unpack_sequence``: the valid steps only, time-major, with the batch size at each step (what
  the recurrent layers run on). Packing and padding are one indexing op each
  (``ops/packed_sequence.py``), recorded as PyTorch's ``PackPaddedSequenceBackward0`` and
  ``CopySlices``; unsorted batches are sorted by ``index_select`` as PyTorch's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from ...backend import float16, float32, float64, int8, int16, int32, int64, uint8, xp
from ...creation import arange, as_tensor, empty_like, full, tensor
from ...ops.join import cat, stack
from ...ops.packed_sequence import pack, pad
from ...tensor import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]

_UNSORTED_MESSAGE = (
    "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can "
    "pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this "
    "requirement if you do not need ONNX exportability."
)


class PackedSequence_(NamedTuple):  # noqa: N801 - PyTorch's name for the tuple's fields
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


def _bind(optional, function):
    return None if optional is None else function(optional)


class PackedSequence(PackedSequence_):
    """The data and batch sizes of a packed batch of sequences (PyTorch's namedtuple subclass).

    ``data`` holds the valid steps time-major: for data ``abc`` and ``x`` it is ``axbc`` with
    ``batch_sizes=[2, 1, 1]``. ``sorted_indices`` is how the batch was sorted by decreasing
    length (None when it was given sorted), ``unsorted_indices`` its inverse. Made by
    ``pack_padded_sequence`` and ``pack_sequence``, not by hand.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        return super().__new__(
            cls, *_packed_sequence_init_args(data, batch_sizes, sorted_indices, unsorted_indices)
        )

    def pin_memory(self):
        # PyTorch's CPU-only build raises the same: gradienti has no accelerator to pin for
        raise RuntimeError("Cannot access accelerator device when none is available.")

    def to(self, *args, **kwargs):
        """``data`` converted as ``Tensor.to``; the indices follow its device, ``batch_sizes``
        stays as it is. ``self`` when ``data`` needs no conversion."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        sorted_indices = _bind(self.sorted_indices, lambda t: t.to(data.device))
        unsorted_indices = _bind(self.unsorted_indices, lambda t: t.to(data.device))
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cuda(self, *args, **kwargs):
        probe = tensor((), dtype=self.data.dtype, device=self.data.device).to(*args, **kwargs)
        if probe.is_cuda:
            return self.to(*args, **kwargs)
        kwargs["device"] = "cuda"
        return self.to(*args, **kwargs)

    def cpu(self, *args, **kwargs):
        probe = tensor((), dtype=self.data.dtype, device=self.data.device).to(*args, **kwargs)
        if probe.device.type == "cpu":
            return self.to(*args, **kwargs)
        kwargs["device"] = "cpu"
        return self.to(*args, **kwargs)

    def double(self):
        return self.to(dtype=float64)

    def float(self):
        return self.to(dtype=float32)

    def half(self):
        return self.to(dtype=float16)

    def long(self):
        return self.to(dtype=int64)

    def int(self):
        return self.to(dtype=int32)

    def short(self):
        return self.to(dtype=int16)

    def char(self):
        return self.to(dtype=int8)

    def byte(self):
        return self.to(dtype=uint8)

    @property
    def is_cuda(self) -> bool:
        """Whether ``data`` is on a GPU (never, in gradienti)."""
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        """Whether ``data`` is in pinned memory: gradienti never pins (PyTorch's CPU tensors
        answer False too)."""
        return False


def _packed_sequence_init_args(data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
    if unsorted_indices is None:
        unsorted_indices = invert_permutation(sorted_indices)
    if batch_sizes is not None:
        if batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should never "
                "be created manually. They should be instantiated by functions like "
                "pack_sequence and pack_padded_sequences in nn.utils.rnn. "
                "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence"
            )
        return data, batch_sizes, sorted_indices, unsorted_indices
    if not (isinstance(data, (list, tuple)) and len(data) == 2):
        raise AssertionError("Expected data to be a list or tuple of length 2")
    return data[0], data[1], sorted_indices, unsorted_indices


def invert_permutation(permutation):
    """The inverse of the 1-D index tensor ``permutation`` (None for None): ``out[p[i]] = i``,
    written with ``scatter_`` as PyTorch's."""
    if permutation is None:
        return None
    output = empty_like(permutation)
    output.scatter_(0, permutation, arange(0, permutation.numel()))
    return output


def pack_padded_sequence(
    input: Tensor, lengths, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack the padded batch ``input`` (``T x B x *``, or ``B x T x *`` with ``batch_first``)
    of sequences of ``lengths`` (a list or a CPU tensor). With ``enforce_sorted`` the lengths
    must decrease; otherwise the batch is sorted first and the PackedSequence keeps the
    permutation."""
    if not isinstance(lengths, Tensor):
        lengths = as_tensor(lengths, dtype=int64, device="cpu")
    else:
        lengths = lengths.to(dtype=int64)
    if enforce_sorted:
        sorted_indices = None
    else:
        lengths, sorted_indices = lengths.sort(descending=True)
        sorted_indices = sorted_indices.to(input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    data, batch_sizes = _pack_padded_sequence(input, lengths, batch_first)
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def _pack_padded_sequence(input: Tensor, lengths: Tensor, batch_first: bool):
    """PyTorch's ``_pack_padded_sequence``: the packed data and the batch size of each step, with
    its checks in its order."""
    _check_long_vector(lengths)
    if input.dim() == 0 and not batch_first:  # PyTorch reads input.size(1) first
        raise IndexError("Dimension specified as 1 but tensor has no dimensions")
    if input.dim() < 2:  # PyTorch transposes dims 0 and 1 (a 0-d tensor counts as 1-d there)
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got 1)")
    lengths_array = xp.asarray(lengths._data)
    steps, batch_size = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    if input.numel() == 0:
        raise RuntimeError("Cannot pack empty tensors.")
    if len(lengths_array) != batch_size:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(lengths_array)} "
            f"(batch_size={batch_size})"
        )
    if lengths_array[-1] <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    if (lengths_array[1:] > lengths_array[:-1]).any():
        raise RuntimeError(_UNSORTED_MESSAGE)
    # step t holds the sequences longer than t (a prefix of the batch: the lengths decrease);
    # a length beyond the padded steps counts in batch_sizes but has no rows, as PyTorch's
    batch_sizes = (lengths_array[None, :] > xp.arange(lengths_array[0])[:, None]).sum(1)
    valid = xp.arange(steps)[:, None] < lengths_array[None, :]
    step_index, batch_index = xp.nonzero(valid)
    key = (batch_index, step_index) if batch_first else (step_index, batch_index)
    batch_sizes = batch_sizes.astype(xp.int64)
    return pack(input, key, batch_sizes, batch_first), tensor(batch_sizes, dtype=int64)


def _check_long_vector(values: Tensor) -> None:
    """ATen's check of ``lengths`` and ``batch_sizes`` (its text names ``lengths`` for both)."""
    if values.dim() != 1 or values.dtype != int64:
        type_name = _TYPE_NAMES.get(str(values.dtype), str(values.dtype))
        raise RuntimeError(
            f"'lengths' argument should be a 1D CPU int64 tensor, but got {values.dim()}D cpu "
            f"{type_name} tensor"
        )


# c10's names of the CPU tensor types, as the check above prints them
_TYPE_NAMES = {
    "torch.int64": "Long",
    "torch.int32": "Int",
    "torch.int16": "Short",
    "torch.int8": "Char",
    "torch.uint8": "Byte",
    "torch.bool": "Bool",
    "torch.float64": "Double",
    "torch.float32": "Float",
    "torch.float16": "Half",
    "torch.bfloat16": "BFloat16",
}


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple:
    """The padded batch of a PackedSequence (``T x B x *``, or ``B x T x *`` with
    ``batch_first``; ``T`` the longest length, or ``total_length``) and the int64 lengths, in
    the order the batch was packed from."""
    max_seq_length = sequence.batch_sizes.size(0)
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{max_seq_length}"
            )
        max_seq_length = total_length
    padded_output, lengths = _pad_packed_sequence(
        sequence.data, sequence.batch_sizes, batch_first, padding_value, max_seq_length
    )
    unsorted_indices = sequence.unsorted_indices
    if unsorted_indices is not None:
        batch_dim = 0 if batch_first else 1
        return padded_output.index_select(batch_dim, unsorted_indices), lengths[unsorted_indices]
    return padded_output, lengths


def _pad_packed_sequence(data: Tensor, batch_sizes: Tensor, batch_first, padding_value, total):
    """PyTorch's ``_pad_packed_sequence``: the packed rows written into a time-major tensor of
    ``padding_value`` (transposed for ``batch_first``), and each sequence's length."""
    _check_long_vector(batch_sizes)
    sizes = xp.asarray(batch_sizes._data)
    widest = int(sizes[0])
    # sequence b runs for as many steps as have more than b sequences
    lengths = (sizes[None, :] > xp.arange(widest)[:, None]).sum(1).astype(xp.int64)
    step_index, batch_index = xp.nonzero(xp.arange(widest)[None, :] < sizes[:, None])
    shape = (max(total, len(sizes)), widest, *data.shape[1:])
    output = pad(data, (step_index, batch_index), shape, padding_value)
    if batch_first:
        output = output.transpose(0, 1)
    return output, tensor(lengths, dtype=int64)


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (``L_i x *``): ``pad_sequence`` then ``pack_padded_sequence``."""
    lengths = as_tensor([v.size(0) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences a PackedSequence holds, in the order they were packed from."""
    padded_sequences, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded_sequences, lengths, batch_first=True)


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
    if not isinstance(sequences, Iterable):
        raise RuntimeError(
            "pad_sequence: Expected iterable for input sequences, but got arg of type: "
            f"{type(sequences)}"
        )
    sequences = list(sequences.unbind(0) if isinstance(sequences, Tensor) else sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    first = sequences[0]
    if first.dim() == 0:  # ATen slices the first sequence's sizes after the time dimension
        raise RuntimeError("ArrayRef: invalid slice, N = 1; size = 0")
    trailing = tuple(first.shape[1:])
    if any(sequence.dim() == 0 for sequence in sequences):  # ATen reads each one's size(0)
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
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
    steps = arange(padded_sequences.shape[1], device=lengths.device)
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
