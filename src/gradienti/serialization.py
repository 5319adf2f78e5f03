"""``save`` and ``load`` in the safetensors format, read and written here (no pickle).

A file is an 8-byte little-endian header length ``N``, ``N`` bytes of JSON (padded with spaces
to a multiple of 8), then the tensors' raw little-endian bytes, back to back::

    {"weight": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
     "__metadata__": {"format": "pt", "gradienti": "<JSON describing the saved structure>"}}

Files are interchangeable with the ``safetensors`` package (``safetensors.numpy.load_file``,
``safetensors.torch.load_file`` and ``save_file``). A flat ``{name: tensor}`` state dict is
stored under its own names; nested dicts, lists and tuples (an optimizer's ``state_dict``) are
flattened into dotted tensor names, and the ``"gradienti"`` metadata entry records the
structure, plain numbers, strings and ``None`` so that ``load`` returns an equal object. A
single tensor is stored under the reserved name ``"__tensor__"``. A file written by another
program (no ``"gradienti"`` entry) loads as a flat ``{name: tensor}`` dict, names sorted.

``load`` never runs code from the file: the header is JSON and every field is checked before
any tensor is built. A truncated or malformed file raises ``RuntimeError`` (as ``torch.load``
does for a corrupt archive) naming what is wrong, and nothing is returned.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import struct

import numpy as np

from .backend import device
from .creation import from_numpy
from .tensor import Tensor

__all__ = ["save", "load"]

SINGLE_TENSOR_KEY = "__tensor__"
METADATA_KEY = "__metadata__"
STRUCTURE_KEY = "gradienti"
FORMAT_VERSION = 1
MAX_HEADER_BYTES = 100_000_000
MAX_DIMS = 64  # NumPy's limit

# safetensors dtype name -> little-endian NumPy dtype (the nine dtypes gradienti has).
_DTYPES = {
    "F64": np.dtype("<f8"),
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
    "I32": np.dtype("<i4"),
    "I16": np.dtype("<i2"),
    "I8": np.dtype("i1"),
    "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_NAMES = {d.newbyteorder("=") if d.itemsize > 1 else d: name for name, d in _DTYPES.items()}
# Valid safetensors dtypes that gradienti has no tensor type for.
_UNSUPPORTED = {
    "BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2",
    "U16", "U32", "U64", "C64", "C128",
}  # fmt: skip


class _Corrupt(Exception):
    """Internal: what is wrong with the file; ``load`` turns it into a RuntimeError."""


# ---------------------------------------------------------------------------------- save
def save(obj, f) -> None:
    """Save a tensor or a (nested) state dict to ``f`` (a path or a binary file object).

    Values may be tensors, dicts (str or int keys), lists and tuples of them, and plain
    ``int``/``float``/``bool``/``str``/``None``. Tensors are saved as data: ``requires_grad``
    and sharing between entries are not kept (each entry gets its own copy). Writing to a path
    is atomic: the bytes go to a temporary file in the same directory that then replaces
    ``f``, so a failed save leaves any existing file as it was.
    """
    if hasattr(obj, "state_dict") and not isinstance(obj, (Tensor, dict, list, tuple)):
        raise TypeError(
            f"gradienti.save cannot save a {type(obj).__name__} object: gradienti saves tensors "
            "and state dicts in the safetensors format and never pickles objects. "
            "Save its parameters instead: gradienti.save(model.state_dict(), path), and restore "
            "them with model.load_state_dict(gradienti.load(path))."
        )
    chunks = _serialize(obj)  # everything is checked and encoded before anything is written
    if _is_path(f):
        _atomic_write(os.fspath(f), chunks)
    elif hasattr(f, "write"):
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


def _serialize(obj) -> list:
    arrays: dict[str, np.ndarray] = {}
    if isinstance(obj, Tensor):
        arrays[SINGLE_TENSOR_KEY] = _array_of(obj)
        structure = {"t": SINGLE_TENSOR_KEY}
    else:
        structure = _flatten(obj, [], arrays, "object")

    # Largest element size first: with the header padded to 8 bytes, every tensor's data
    # starts at a multiple of its element size (as the safetensors package lays them out).
    order = sorted(arrays, key=lambda name: -arrays[name].dtype.itemsize)
    header: dict = {}
    offset = 0
    for name in order:
        array = arrays[name]
        size = array.size * array.dtype.itemsize
        header[name] = {
            "dtype": _NAMES[array.dtype],
            "shape": [int(n) for n in array.shape],
            "data_offsets": [offset, offset + size],
        }
        offset += size
    header[METADATA_KEY] = {
        "format": "pt",
        STRUCTURE_KEY: json.dumps(
            {"version": FORMAT_VERSION, "root": structure},
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        ),
    }
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    encoded = text.encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    chunks = [struct.pack("<Q", len(encoded)), encoded]
    for name in order:
        array = arrays[name]
        little = array.astype(_DTYPES[_NAMES[array.dtype]], copy=False)
        chunks.append(np.ascontiguousarray(little).tobytes())
    return chunks


def _array_of(t: Tensor) -> np.ndarray:
    array = np.asarray(t._data)
    dt = array.dtype.newbyteorder("=") if array.dtype.itemsize > 1 else array.dtype
    if dt not in _NAMES:
        raise TypeError(f"gradienti.save: cannot save a tensor of dtype {array.dtype}")
    return array.astype(dt, copy=False)


def _flatten(value, path: list, arrays: dict, where: str):
    """Record ``value``'s structure as JSON; its tensors go to ``arrays`` under dotted names."""
    if isinstance(value, Tensor):
        base = ".".join(str(p) for p in path) or SINGLE_TENSOR_KEY
        name, n = base, 1
        while name in arrays or name == METADATA_KEY:
            name, n = f"{base}#{n}", n + 1
        arrays[name] = _array_of(value)
        return {"t": name}
    if value is None or isinstance(value, (bool, str)):
        return {"v": value}
    if isinstance(value, int):
        return {"v": int(value)}
    if isinstance(value, float):
        if math.isfinite(value):
            return {"v": value}
        return {"f": repr(float(value))}  # nan, inf, -inf: not JSON numbers
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if isinstance(key, bool) or not isinstance(key, (str, int)):
                raise TypeError(
                    f"gradienti.save: dict keys must be str or int, got {key!r} "
                    f"({type(key).__name__}) in {where}"
                )
            kind = "s" if isinstance(key, str) else "i"
            node = _flatten(item, [*path, key], arrays, f"{where}[{key!r}]")
            items.append([kind, key if kind == "s" else int(key), node])
        return {"d": items}
    if isinstance(value, (list, tuple)):
        kind = "l" if isinstance(value, list) else "u"
        return {
            kind: [
                _flatten(item, [*path, i], arrays, f"{where}[{i}]") for i, item in enumerate(value)
            ]
        }
    hint = ""
    if isinstance(value, np.ndarray):
        hint = " (wrap NumPy arrays with gradienti.from_numpy)"
    elif hasattr(value, "state_dict"):
        hint = " (save its state_dict() instead)"
    raise TypeError(
        f"gradienti.save: cannot save {type(value).__name__} at {where}{hint}; "
        "supported are tensors, dicts, lists, tuples, int, float, bool, str and None"
    )


def _atomic_write(path: str, chunks: list) -> None:
    path = os.path.realpath(path)  # through a symlink, replace the file it points to
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    mode = 0o666
    with contextlib.suppress(OSError):
        mode = os.stat(path).st_mode & 0o7777  # keep an existing file's permissions
    for _ in range(100):
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
            fd = os.open(tmp, flags, mode)  # the umask applies, as for open(path, "wb")
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - a hundred random names all taken
        raise FileExistsError(f"gradienti.save: could not create a temporary file in {directory}")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------------------- load
def load(f, map_location=None, weights_only=True):
    """Load what ``save`` wrote (or any safetensors file) from a path or binary file object.

    Returns the saved tensor or structure; tensors are new leaves that do not require grad.
    A file from another program loads as ``{name: tensor}``. ``map_location`` may be ``None``
    or the CPU (gradienti has no other device). ``weights_only`` is accepted for PyTorch's
    signature: nothing but tensors and plain JSON values can ever be loaded, so it changes
    nothing. Raises ``RuntimeError`` naming the problem for a truncated or malformed file.
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
        return _deserialize(memoryview(data).cast("B"))
    except _Corrupt as error:
        raise RuntimeError(f"gradienti.load: invalid safetensors file {name!s}: {error}") from None


def _check_map_location(map_location) -> None:
    if map_location is None:
        return
    if isinstance(map_location, dict):
        for where in map_location.values():
            device(where)
        return
    if callable(map_location):
        raise TypeError("gradienti.load: a callable map_location is not supported (CPU only)")
    device(map_location)  # RuntimeError for anything but the CPU


def _strict_object(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise _Corrupt(f"header has the key {key!r} twice")
        result[key] = value
    return result


def _reject_constant(token):
    raise _Corrupt(f"header JSON contains {token}, which is not valid JSON")


def _parse_json(text: str, what: str):
    try:
        return json.loads(text, object_pairs_hook=_strict_object, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise _Corrupt(f"{what} is not valid JSON ({error})") from None
    except RecursionError:
        raise _Corrupt(f"{what} is nested too deeply") from None


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _deserialize(buffer: memoryview):
    total = len(buffer)
    if total < 8:
        raise _Corrupt(f"it is {total} bytes long, too short for the 8-byte header length")
    (header_len,) = struct.unpack("<Q", buffer[:8])
    if header_len > MAX_HEADER_BYTES:
        raise _Corrupt(
            f"header length {header_len} is larger than the limit of {MAX_HEADER_BYTES} bytes"
        )
    if header_len > total - 8:
        raise _Corrupt(
            f"header length {header_len} runs past the end of the file ({total - 8} bytes "
            "after the length): the file is truncated or not a safetensors file"
        )
    try:
        text = bytes(buffer[8 : 8 + header_len]).decode("utf-8")
    except UnicodeDecodeError as error:
        raise _Corrupt(f"header is not valid UTF-8 ({error})") from None
    header = _parse_json(text, "header")
    if not isinstance(header, dict):
        raise _Corrupt(f"header must be a JSON object, not {type(header).__name__}")

    metadata = header.pop(METADATA_KEY, None)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        raise _Corrupt("__metadata__ must be an object mapping strings to strings")

    data_start = 8 + header_len
    data_len = total - data_start
    entries = []
    for name, info in header.items():
        entries.append((name, *_check_entry(name, info)))
    entries.sort(key=lambda e: (e[3][0], e[3][1]))
    position = 0
    for name, _dtype, _shape, (begin, end) in entries:
        if begin > position:
            raise _Corrupt(
                f"tensor {name!r} starts at byte {begin} but the previous data ends at "
                f"{position}: there is a gap in the data"
            )
        if begin < position:
            raise _Corrupt(
                f"tensor {name!r} (bytes {begin}..{end}) overlaps the data before it, which "
                f"ends at {position}"
            )
        if end > data_len:
            raise _Corrupt(
                f"tensor {name!r} ends at byte {end} but the data section has only "
                f"{data_len} bytes: the file is truncated"
            )
        position = end
    if position != data_len:
        raise _Corrupt(
            f"the tensors cover {position} bytes but the data section has {data_len}: "
            "trailing bytes after the last tensor"
        )

    arrays = {}
    for name, dtype, shape, (begin, end) in entries:
        raw = buffer[data_start + begin : data_start + end]
        if dtype.kind == "b":
            as_bytes = np.frombuffer(raw, dtype=np.uint8)
            if as_bytes.size and as_bytes.max() > 1:
                raise _Corrupt(f"tensor {name!r} has dtype BOOL but holds bytes other than 0 and 1")
        try:
            array = np.frombuffer(raw, dtype=dtype).reshape(shape)
        except ValueError as error:  # an empty tensor with absurd extents
            raise _Corrupt(
                f"tensor {name!r} of shape {list(shape)} cannot be built ({error})"
            ) from None
        arrays[name] = array.astype(dtype.newbyteorder("="), copy=True)  # own, writable memory

    structure = (metadata or {}).get(STRUCTURE_KEY)
    if structure is None:  # a file from another program: a flat state dict
        return {name: from_numpy(arrays[name]) for name in sorted(arrays)}
    description = _parse_json(structure, "the gradienti structure metadata")
    if (
        not isinstance(description, dict)
        or description.get("version") != FORMAT_VERSION
        or "root" not in description
    ):
        raise _Corrupt(
            "the gradienti structure metadata is not a version "
            f"{FORMAT_VERSION} description (written by a newer gradienti?)"
        )
    used: set = set()
    try:
        result = _rebuild(description["root"], arrays, used)
    except RecursionError:
        raise _Corrupt("the gradienti structure metadata is nested too deeply") from None
    missing = sorted(set(arrays) - used)
    if missing:
        raise _Corrupt(f"the structure metadata does not mention the tensors {missing}")
    return result


def _check_entry(name, info):
    if not isinstance(info, dict):
        raise _Corrupt(f"entry for tensor {name!r} must be an object, not {type(info).__name__}")
    extra = set(info) - {"dtype", "shape", "data_offsets"}
    missing = {"dtype", "shape", "data_offsets"} - set(info)
    if missing or extra:
        raise _Corrupt(
            f"entry for tensor {name!r} must have exactly the fields dtype, shape and "
            f"data_offsets (missing {sorted(missing)}, unknown {sorted(extra)})"
        )
    code = info["dtype"]
    if code not in _DTYPES:
        if isinstance(code, str) and code in _UNSUPPORTED:
            raise _Corrupt(f"tensor {name!r} has dtype {code}, which gradienti does not support")
        raise _Corrupt(f"tensor {name!r} has unknown dtype {code!r}")
    dtype = _DTYPES[code]
    shape = info["shape"]
    if not isinstance(shape, list) or not all(_is_count(n) for n in shape):
        raise _Corrupt(f"tensor {name!r} has shape {shape!r}; want a list of non-negative ints")
    if len(shape) > MAX_DIMS:
        raise _Corrupt(f"tensor {name!r} has {len(shape)} dimensions; at most {MAX_DIMS} allowed")
    offsets = info["data_offsets"]
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_is_count(n) for n in offsets)
        or offsets[0] > offsets[1]
    ):
        raise _Corrupt(
            f"tensor {name!r} has data_offsets {offsets!r}; want [begin, end] with "
            "0 <= begin <= end"
        )
    numel = math.prod(shape)
    want = numel * dtype.itemsize
    if offsets[1] - offsets[0] != want:
        raise _Corrupt(
            f"tensor {name!r} of dtype {code} and shape {shape} needs {want} bytes but its "
            f"data_offsets {offsets} span {offsets[1] - offsets[0]}"
        )
    return dtype, tuple(shape), (offsets[0], offsets[1])


def _rebuild(node, arrays: dict, used: set):
    if not isinstance(node, dict) or len(node) != 1:
        raise _Corrupt(f"bad node {node!r} in the structure metadata")
    ((kind, value),) = node.items()
    if kind == "t":
        if not isinstance(value, str) or value not in arrays:
            raise _Corrupt(f"structure metadata names tensor {value!r}, which the file lacks")
        if value in used:
            raise _Corrupt(f"structure metadata names tensor {value!r} twice")
        used.add(value)
        return from_numpy(arrays[value])
    if kind == "v":
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
    elif kind == "f":
        if value in ("nan", "inf", "-inf"):
            return float(value)
    elif kind in ("l", "u") and isinstance(value, list):
        items = [_rebuild(item, arrays, used) for item in value]
        return items if kind == "l" else tuple(items)
    elif kind == "d" and isinstance(value, list):
        result = {}
        for item in value:
            if (
                not isinstance(item, list)
                or len(item) != 3
                or not (
                    (item[0] == "s" and isinstance(item[1], str))
                    or (
                        item[0] == "i"
                        and isinstance(item[1], int)
                        and not isinstance(item[1], bool)
                    )
                )
            ):
                raise _Corrupt(f"bad dict item {item!r} in the structure metadata")
            if item[1] in result:
                raise _Corrupt(f"dict key {item[1]!r} appears twice in the structure metadata")
            result[item[1]] = _rebuild(item[2], arrays, used)
        return result
    raise _Corrupt(f"bad node {node!r} in the structure metadata")
