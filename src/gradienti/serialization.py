"""``save`` and ``load`` in the safetensors format, read and written here (no pickle).

A file is an 8-byte little-endian header length ``N``, ``N`` bytes of JSON (padded with spaces
to a multiple of 8), then the tensors' raw little-endian bytes, back to back::

    {"weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
     "__metadata__": {"format": "pt", "gradienti": "<JSON describing the saved structure>"}}

Files are interchangeable with the ``safetensors`` package (``safetensors.numpy.load_file``,
``safetensors.torch.load_file`` and ``save_file``). A flat ``{name: tensor}`` state dict is
stored under its own names; nested dicts, lists and tuples (an optimizer's ``state_dict``) are
flattened into dotted tensor names (NumPy arrays are stored the same way), and the
``"gradienti"`` metadata entry records the structure and the other values (numbers, strings,
bytes, ``None``, sets, OrderedDicts, keys of any plain type) as JSON, so that ``load`` returns
an equal object of the same types. A
single tensor is stored under the reserved name ``"__tensor__"``. A file written by another
program (no ``"gradienti"`` entry) loads as a flat ``{name: tensor}`` dict, names sorted.

``load`` never runs code from the file: the header is JSON and every field is checked before
any tensor is built. A truncated or malformed file raises ``RuntimeError`` (as ``torch.load``
does for a corrupt archive) naming what is wrong, and nothing is returned. A header longer than
``MAX_HEADER_BYTES`` (8 MiB, room for tens of thousands of tensors) is refused before it is
parsed, since parsing JSON takes many times its size in memory; ``save`` refuses to write one.
"""

from __future__ import annotations

import os

from . import _file_output
from ._safetensors import Corrupt, decode, encode
from .devices import as_device
from .tensor import Tensor

__all__ = ["save", "load"]

MAX_HEADER_BYTES = 8 * 2**20


def save(obj, f) -> None:
    """Save a tensor or a (nested) state dict to ``f`` (a path or a binary file object).

    Values may be what PyTorch's weights-only ``load`` gives back: tensors, dicts (any keys
    without tensors: str, int, float, None, tuples...), OrderedDicts, lists, tuples and sets of
    them, ``int``/``float``/``complex``/``bool``/``str``/``bytes``/``bytearray``/``None``,
    ``Size``, ``dtype`` and ``device``; and NumPy arrays and scalars (of a tensor's dtypes),
    which come back as NumPy. A structure that contains itself or nests more than 100
    containers deep raises ``ValueError``, another value ``TypeError``. Tensors are saved as
    data: ``requires_grad`` and sharing between entries are not kept (each entry gets its own
    copy). Everything is checked and encoded before anything is written, so a save that fails
    on its argument leaves ``f`` untouched.

    A path to a regular file is written atomically: the bytes go to a temporary file in the
    same directory that then replaces ``f``, so a failed save leaves any existing file as it
    was. A replaced file keeps its permission bits and, where allowed, its owner and group. A
    file with more than one hard link is rewritten in place instead, so that every link sees
    the new content (then a failure midway, such as a full disk, can leave it partly written).
    A FIFO or a device (``/dev/null``) is opened and written like any stream, never replaced.
    A path that cannot name a file (``"dir/name/"``), a missing parent directory or a
    destination that cannot be opened raises ``RuntimeError``, as ``torch.save`` does.
    A binary file object (``io.BytesIO``, ``open(path, "wb")``) is written from its position.
    """
    if hasattr(obj, "state_dict") and not isinstance(obj, (Tensor, dict, list, tuple)):
        raise TypeError(
            f"gradienti.save cannot save a {type(obj).__name__} object: gradienti saves tensors "
            "and state dicts in the safetensors format and never pickles objects. "
            "Save its parameters instead: gradienti.save(model.state_dict(), path), and restore "
            "them with model.load_state_dict(gradienti.load(path))."
        )
    if _is_path(f):
        name = os.fspath(f)
        _file_output.check_destination(name)
        _file_output.write_file(name, encode(obj, MAX_HEADER_BYTES))
    elif hasattr(f, "write"):
        chunks = encode(obj, MAX_HEADER_BYTES)
        for chunk in chunks:
            f.write(chunk)
        if hasattr(f, "flush"):
            f.flush()
    else:
        raise TypeError(
            f"gradienti.save: f must be a path (str or os.PathLike) or a binary file object "
            f"with a write method, not {type(f).__name__}"
        )


def _is_path(f) -> bool:
    return isinstance(f, (str, os.PathLike))


def load(f, map_location=None, weights_only=True):
    """Load what ``save`` wrote (or any safetensors file) from a path or binary file object.

    Returns the saved tensor or structure; tensors are new leaves that do not require grad.
    A file from another program loads as ``{name: tensor}``. A file object is read from its
    position to its end. ``map_location`` may be ``None`` or the CPU (gradienti has no other
    device). ``weights_only`` is accepted for PyTorch's signature: nothing but tensors and plain
    JSON values can ever be loaded, so it changes nothing. Raises ``RuntimeError`` naming the
    problem for a truncated or malformed file.
    """
    _check_map_location(map_location)
    if _is_path(f):
        name = os.fspath(f)
        with open(name, "rb") as file:
            data = file.read()
    elif hasattr(f, "read"):
        name = getattr(f, "name", None) or type(f).__name__
        data = f.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("gradienti.load: the file object must be opened in binary mode ('rb')")
    else:
        raise TypeError(
            f"gradienti.load: f must be a path (str or os.PathLike) or a binary file object "
            f"with a read method, not {type(f).__name__}"
        )
    try:
        return decode(memoryview(data).cast("B"), MAX_HEADER_BYTES)
    except Corrupt as error:
        raise RuntimeError(f"gradienti.load: invalid safetensors file {name!s}: {error}") from None


_CUDA_MAP_LOCATION = (
    "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
    "If you are running on a CPU-only machine, please use torch.load with "
    "map_location=torch.device('cpu') to map your storages to the CPU."
)


def _check_map_location(map_location) -> None:
    if map_location is None:
        return
    if isinstance(map_location, dict):
        for where in map_location.values():
            _check_target(where)
        return
    if callable(map_location):
        raise TypeError("gradienti.load: a callable map_location is not supported (CPU only)")
    _check_target(map_location)


def _check_target(where) -> None:
    """A map_location must be the CPU; CUDA gets a CPU-only PyTorch's message."""
    kind = as_device(where).type
    if kind == "cuda":
        raise RuntimeError(_CUDA_MAP_LOCATION)
    if kind != "cpu":
        raise RuntimeError(f"gradienti.load: cannot load onto device '{where}': CPU only")
