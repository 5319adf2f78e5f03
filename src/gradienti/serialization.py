"""``save`` and ``load``: PyTorch's zip checkpoints, and safetensors; never pickled objects.

``save`` writes what ``torch.save`` writes by default (a zip archive holding ``data.pkl`` and
the tensors' storages, see _torch_zip_writer), so that PyTorch's ``torch.load(path,
weights_only=True)`` reads it: state dicts, optimizer state dicts and plain containers of
tensors. A path ending in ``.safetensors`` gets the safetensors format instead (see
_safetensors, which also holds NumPy arrays).

``load`` tells the two formats apart by their first bytes (a zip archive starts with
``PK\\x03\\x04``). A zip checkpoint (``torch.save``'s or gradienti's) is unpickled by a
restricted unpickler (_restricted_unpickler) that accepts only what PyTorch's weights-only
loader accepts and raises ``pickle.UnpicklingError`` for anything else: no code from a file
ever runs, whatever ``weights_only`` says. A safetensors file is JSON and raw bytes.
"""

from __future__ import annotations

import mmap as mmap_module
import os

from . import _file_output, _torch_zip_reader, _torch_zip_writer
from ._safetensors import Corrupt, decode, encode
from .devices import as_device
from .tensor import Tensor

__all__ = ["save", "load"]

MAX_HEADER_BYTES = 8 * 2**20


def save(obj, f) -> None:
    """Save a tensor or a (nested) state dict to ``f`` (a path or a binary file object).

    The format is PyTorch's zip checkpoint, which ``torch.load(f, weights_only=True)`` reads
    (and ``gradienti.load``); a path ending in ``.safetensors`` gets the safetensors format.
    Values may be what PyTorch's weights-only ``load`` gives back: tensors, dicts (any keys:
    str, int, float, None, tuples...), OrderedDicts, lists, tuples and sets of them,
    ``int``/``float``/``complex``/``bool``/``str``/``bytes``/``bytearray``/``None``, ``Size``,
    ``dtype`` and ``device``. NumPy arrays and scalars only go to ``.safetensors`` (PyTorch's
    weights-only loader refuses them). A structure that contains itself or nests more than 100
    containers deep raises ``ValueError``, another value ``TypeError``. In the zip format a
    tensor keeps ``requires_grad``, and tensors viewing the same memory (tied weights, slices)
    share one storage, as with ``torch.save``; safetensors keeps neither. Everything is checked
    and encoded before anything is written, so a save that fails on its argument leaves ``f``
    untouched.

    A path to a regular file is written atomically: the bytes go to a temporary file in the
    same directory that then replaces ``f``, so a failed save leaves any existing file as it
    was. A replaced file keeps its permission bits and, where allowed, its owner and group. A
    file with more than one hard link is rewritten in place instead, so that every link sees
    the new content (then a failure midway, such as a full disk, can leave it partly written).
    A FIFO or a device (``/dev/null``) is opened and written like any stream, never replaced.
    A path that cannot name a file (``"dir/name/"``), a missing parent directory or a
    destination that cannot be opened raises ``RuntimeError``, as ``torch.save`` does.
    A binary file object (``io.BytesIO``, ``open(path, "wb")``) is written from its position,
    in the zip format (its records under the folder ``archive/``, as ``torch.save`` names them).
    """
    if hasattr(obj, "state_dict") and not isinstance(obj, (Tensor, dict, list, tuple)):
        raise TypeError(
            f"gradienti.save cannot save a {type(obj).__name__} object: gradienti saves tensors "
            "and state dicts (in PyTorch's checkpoint format or safetensors) and never pickles "
            "objects. Save its parameters instead: gradienti.save(model.state_dict(), path), "
            "and restore them with model.load_state_dict(gradienti.load(path))."
        )
    if _is_path(f):
        name = os.fspath(f)
        _file_output.check_destination(name)
        _file_output.write_file(name, _encode(obj, name))
    elif hasattr(f, "write"):
        for chunk in _encode(obj, None):
            f.write(chunk)
        if hasattr(f, "flush"):
            f.flush()
    else:
        raise TypeError(
            f"gradienti.save: f must be a path (str or os.PathLike) or a binary file object "
            f"with a write method, not {type(f).__name__}"
        )


def _encode(obj, path) -> list:
    """The file's bytes as chunks: safetensors for a ``.safetensors`` path, else a zip
    checkpoint whose folder is the file's stem (``archive`` for a file object)."""
    if path is not None and path.endswith(".safetensors"):
        return encode(obj, MAX_HEADER_BYTES)
    stem = os.path.splitext(os.path.basename(path))[0] if path is not None else ""
    return [_torch_zip_writer.encode(obj, stem or "archive")]


def _is_path(f) -> bool:
    return isinstance(f, (str, os.PathLike))


def load(f, map_location=None, weights_only=True, *, mmap=None):
    """Load what ``save`` or ``torch.save`` wrote, or any safetensors file, from a path or a
    binary file object (read from its position to its end).

    The format is told by the content: a zip archive is a PyTorch checkpoint, anything else
    is read as safetensors (old gradienti files included). A checkpoint is unpickled by a
    restricted unpickler that accepts only what ``torch.load(weights_only=True)`` accepts
    (tensors, Parameters, storages, OrderedDict, Size, dtype, device and plain containers)
    and raises ``pickle.UnpicklingError`` naming anything else; no code from the file ever
    runs. ``weights_only`` is accepted for PyTorch's signature and changes nothing:
    ``weights_only=False`` loads no more, since gradienti never executes pickle code.
    Tensors sharing a storage in the checkpoint share memory when loaded, and keep their
    ``requires_grad``; a safetensors file's tensors are new leaves, and a file from another
    program loads as ``{name: tensor}``. Dtypes gradienti lacks (bfloat16, complex) raise
    ``RuntimeError``. ``map_location`` may be ``None``, the CPU (gradienti has no other
    device) or a callable called with each storage and its location, as torch calls it, that
    returns the storage or None (``lambda storage, loc: storage``); a checkpoint saved on CUDA
    needs one of the last two. Raises ``RuntimeError``
    naming the problem for a truncated or malformed file; an empty file raises ``EOFError``
    (``RuntimeError`` with ``mmap=True``), as with ``torch.load``.

    ``mmap=True`` (``f`` must then be a path) maps the file copy-on-write instead of reading
    it, as ``torch.load(mmap=True)`` does: a checkpoint's tensors are views of the mapping,
    read from disk as they are touched, and writing to them never changes the file. A
    safetensors file is read whole either way.
    """
    _check_map_location(map_location)
    if mmap is not None and not isinstance(mmap, bool):
        raise TypeError(f"gradienti.load: mmap must be a bool or None, not {type(mmap).__name__}")
    if mmap and not _is_path(f):
        raise ValueError("f must be a file path in order to use the mmap argument")
    if mmap:
        mapped = _map_file(os.fspath(f))
        if mapped is None:  # an empty file: no format at all, as torch words it
            f_name = f"{f}, " if isinstance(f, str) else ""
            raise RuntimeError(
                "mmap can only be used with files saved with "
                f"`torch.save({f_name}_use_new_zipfile_serialization=True), "
                "please torch.save your checkpoint with this option in order to use mmap."
            )
        if bytes(mapped[:4]) == _torch_zip_reader.ZIP_MAGIC:
            return _torch_zip_reader.decode(
                mapped, map_location is not None, mapped=True, relocate=_relocator(map_location)
            )
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
    if not len(data):  # torch.load's pickle reader finds nothing to read
        raise EOFError()
    if bytes(data[:4]) == _torch_zip_reader.ZIP_MAGIC:
        return _torch_zip_reader.decode(
            bytes(data), to_cpu=map_location is not None, relocate=_relocator(map_location)
        )
    if bytes(data[:3]) == _LEGACY_TORCH_MAGIC:
        raise RuntimeError(
            f"gradienti.load: {name!s} is in PyTorch's legacy (pre-1.6, non-zip) format, which "
            "gradienti does not read; re-save it with torch.save in a current PyTorch"
        )
    try:
        return decode(memoryview(data).cast("B"), MAX_HEADER_BYTES)
    except Corrupt as error:
        raise RuntimeError(f"gradienti.load: invalid safetensors file {name!s}: {error}") from None


def _map_file(name: str):
    """A private (copy-on-write) memory map of the file, or None for an empty file."""
    with open(name, "rb") as file:
        if os.fstat(file.fileno()).st_size == 0:
            return None
        return mmap_module.mmap(file.fileno(), 0, access=mmap_module.ACCESS_COPY)


# A legacy torch.save file starts with a pickled magic number: PROTO 2, LONG1 of 10 bytes.
_LEGACY_TORCH_MAGIC = b"\x80\x02\x8a"


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
    if callable(map_location):  # called with each storage while loading (a zip checkpoint)
        return
    _check_target(map_location)


def _relocator(map_location):
    """A callable map_location (``lambda storage, location: storage``, a common idiom) for
    the reader to call with each storage; None for any other map_location."""
    if callable(map_location) and not isinstance(map_location, (dict, str)):
        return map_location
    return None


def _check_target(where) -> None:
    """A map_location must be the CPU; CUDA gets a CPU-only PyTorch's message."""
    kind = as_device(where).type
    if kind == "cuda":
        raise RuntimeError(_CUDA_MAP_LOCATION)
    if kind != "cpu":
        raise RuntimeError(f"gradienti.load: cannot load onto device '{where}': CPU only")
