"""The safetensors format: what ``gradienti.save`` writes to a ``.safetensors`` path, and what
``gradienti.load`` reads from any file that is not a zip archive (files of gradienti before it
wrote PyTorch's format included).

A file is an 8-byte little-endian header length ``N``, ``N`` bytes of JSON (padded with spaces
to a multiple of 8), then the tensors' raw little-endian bytes, back to back. Files are
interchangeable with the ``safetensors`` package. Nested dicts, lists and tuples (an
optimizer's ``state_dict``) are flattened into dotted tensor names, and the ``"gradienti"``
metadata entry records the structure and the other values as JSON, so that ``load`` returns
an equal object of the same types; a file written by another program loads as a flat
``{name: tensor}`` dict, names sorted.

``encode`` turns a tensor or a nested structure into the file's bytes; ``decode`` checks a
file's bytes field by field and rebuilds what was saved, raising ``Corrupt`` (which ``load``
turns into a ``RuntimeError``) for anything malformed. A header longer than the limit ``load``
passes (8 MiB) is refused before it is parsed, since parsing JSON takes many times its size in
memory; ``encode`` refuses to write one.
"""

from __future__ import annotations

import base64
import collections
import json
import math
import reprlib
import struct

import numpy as np

from .backend import _dtype_by_name as dtype_by_name
from .backend import dtype as DType
from .creation import from_numpy
from .devices import device
from .size import Size
from .tensor import Tensor

__all__ = ["Corrupt", "encode", "decode", "MAX_DEPTH"]

SINGLE_TENSOR_KEY = "__tensor__"
METADATA_KEY = "__metadata__"
STRUCTURE_KEY = "gradienti"
FORMAT_VERSION = 1
MAX_DIMS = 64  # NumPy's limit
# Containers inside containers that save writes and load reads; a state dict needs a handful.
# At 3 JSON levels per dict this keeps the structure JSON well inside Python's recursion limit.
MAX_DEPTH = 100
# A value quoted in an error message is cut short: strings to about 80 characters, ints to
# about 24 digits, containers to their first few items and three levels.
_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = 80
_SHORT_REPR.maxlong = 24
_SHORT_REPR.maxlist = _SHORT_REPR.maxtuple = 8
_SHORT_REPR.maxdict = 4
_SHORT_REPR.maxlevel = 3
_MESSAGE_INT_BITS = 256

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


class Corrupt(Exception):
    """What is wrong with a file; ``load`` turns it into a RuntimeError."""


def _brief(value) -> str:
    """``repr(value)``, cut short: a hostile file's names and values can be megabytes long."""
    if isinstance(value, int) and value.bit_length() > _MESSAGE_INT_BITS:
        # A size computed from a hostile shape: repr() refuses ints of over 4300 digits.
        return f"<an int of {math.floor(value.bit_length() * math.log10(2)) + 1} digits or so>"
    return _SHORT_REPR.repr(value)


# -------------------------------------------------------------------------------- encoding
def encode(obj, max_header_bytes: int) -> list:
    """The file's bytes as a list of chunks; every value is checked before any is encoded."""
    arrays: dict[str, np.ndarray] = {}
    if isinstance(obj, Tensor):
        arrays[SINGLE_TENSOR_KEY] = _array_of(obj)
        structure = {"t": SINGLE_TENSOR_KEY}
    else:
        structure = _flatten(obj, [], arrays, "object", set())

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
        STRUCTURE_KEY: _dumps({"version": FORMAT_VERSION, "root": structure}),
    }
    encoded = _dumps(header).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    if len(encoded) > max_header_bytes:
        raise ValueError(
            f"gradienti.save: the header would be {len(encoded)} bytes, more than the "
            f"{max_header_bytes} that gradienti.load accepts: too many tensors or entries"
        )
    chunks = [struct.pack("<Q", len(encoded)), encoded]
    for name in order:
        array = arrays[name]
        little = array.astype(_DTYPES[_NAMES[array.dtype]], copy=False)
        chunks.append(np.ascontiguousarray(little).tobytes())
    return chunks


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _array_of(t: Tensor) -> np.ndarray:
    array = np.asarray(t._data)
    dt = array.dtype.newbyteorder("=") if array.dtype.itemsize > 1 else array.dtype
    if dt not in _NAMES:
        raise TypeError(f"gradienti.save: cannot save a tensor of dtype {array.dtype}")
    return array.astype(dt, copy=False)


def _flatten(value, path: list, arrays: dict, where: str, enclosing: set):
    """Record ``value``'s structure as JSON; its tensors go to ``arrays`` under dotted names.

    ``enclosing`` holds the ids of the containers that ``value`` sits inside, which finds
    reference cycles and bounds the depth.
    """
    if isinstance(value, Tensor):
        return {"t": _add_array(path, arrays, _array_of(value))}
    if isinstance(value, (np.ndarray, np.generic)):
        # NumPy data goes with the tensors, and comes back as NumPy ("ns": a NumPy scalar)
        kind = "n" if isinstance(value, np.ndarray) else "ns"
        return {kind: _add_array(path, arrays, _numpy_array(value, where))}
    plain = _plain_node(value)
    if plain is not None:
        return plain
    if value is None or isinstance(value, (bool, str)):
        return {"v": value}
    if isinstance(value, int):
        _check_int_digits(value, where)
        return {"v": int(value)}
    if isinstance(value, float):
        if math.isfinite(value):
            return {"v": value}
        return {"f": repr(float(value))}  # nan, inf, -inf: not JSON numbers
    if isinstance(value, (dict, list, tuple, set)):
        if id(value) in enclosing:
            raise ValueError(
                f"gradienti.save: {where} is a {type(value).__name__} that contains itself "
                "(a reference cycle); only tree-shaped structures can be saved"
            )
        if len(enclosing) >= MAX_DEPTH:
            raise ValueError(
                f"gradienti.save: {where} is nested more than {MAX_DEPTH} containers deep; "
                "a structure that deep cannot be saved"
            )
        enclosing.add(id(value))
        try:
            return _flatten_container(value, path, arrays, where, enclosing)
        finally:
            enclosing.discard(id(value))
    hint = " (save its state_dict() instead)" if hasattr(value, "state_dict") else ""
    raise TypeError(
        f"gradienti.save: cannot save {type(value).__name__} at {where}{hint}; "
        f"supported are {SUPPORTED}"
    )


SUPPORTED = (
    "tensors, NumPy arrays and scalars, dicts (OrderedDict too), lists, tuples, sets, int, "
    "float, complex, bool, str, bytes, bytearray, None, Size, dtype and device"
)


def _add_array(path: list, arrays: dict, array: np.ndarray) -> str:
    """``array`` stored under the dotted ``path`` (made unique); its name."""
    base = ".".join(str(p) for p in path) or SINGLE_TENSOR_KEY
    name, n = base, 1
    while name in arrays or name == METADATA_KEY:
        name, n = f"{base}#{n}", n + 1
    arrays[name] = array
    return name


def _numpy_array(value, where: str) -> np.ndarray:
    array = np.asarray(value)
    dt = array.dtype.newbyteorder("=") if array.dtype.itemsize > 1 else array.dtype
    if dt not in _NAMES:
        raise TypeError(
            f"gradienti.save: cannot save the NumPy {type(value).__name__} of dtype "
            f"{array.dtype} at {where}; its dtype must be one a tensor can have"
        )
    return array.astype(dt, copy=False)


def _plain_node(value):
    """The node of a value that holds no tensor and is no container of nodes (bytes, complex,
    Size, dtype, device), or None for any other value."""
    if isinstance(value, Size):  # (a tuple: tested before tuples)
        return {"z": [int(n) for n in value]}
    if isinstance(value, (bytes, bytearray)):
        kind = "b" if isinstance(value, bytes) else "B"
        return {kind: base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, complex):
        return {"c": [repr(value.real), repr(value.imag)]}
    if isinstance(value, DType):
        return {"dt": value.name}
    if isinstance(value, device):
        return {"dv": str(value)}
    return None


def _flatten_container(value, path: list, arrays: dict, where: str, enclosing: set):
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            if isinstance(key, str):
                entry = ["s", key]
            elif isinstance(key, int) and not isinstance(key, bool):
                _check_int_digits(key, f"a key of {where}")
                entry = ["i", int(key)]
            else:  # None, a float, a tuple...: the key as a node of its own
                entry = ["k", _key_node(key, where)]
            node = _flatten(item, [*path, key], arrays, f"{where}[{key!r}]", enclosing)
            items.append([*entry, node])
        return {"o" if isinstance(value, collections.OrderedDict) else "d": items}
    if isinstance(value, set):
        return {"S": [_key_node(item, where) for item in value]}
    kind = "l" if isinstance(value, list) else "u"
    return {
        kind: [
            _flatten(item, [*path, i], arrays, f"{where}[{i}]", enclosing)
            for i, item in enumerate(value)
        ]
    }


def _key_node(key, where: str):
    """A dict key or set element that is not a str or int: a value without tensors, arrays or
    mutable containers, so that it can be hashed again when loaded."""
    if isinstance(key, (Tensor, np.ndarray, np.generic, list, dict, set, bytearray)):
        raise TypeError(
            f"gradienti.save: cannot save {type(key).__name__} as a dict key or set element in "
            f"{where}"
        )
    if isinstance(key, tuple) and not isinstance(key, Size):
        return {"u": [_key_node(item, where) for item in key]}
    return _flatten(key, [], {}, f"a key of {where}", set())


def _check_int_digits(value: int, where: str) -> None:
    # JSON holds ints as decimal text, which Python refuses past sys.get_int_max_str_digits()
    # (4300 by default) digits; 2000 bits is ~600 digits, under the lowest limit allowed (640).
    if value.bit_length() > 2000:
        try:
            str(value)
        except ValueError as error:
            raise ValueError(
                f"gradienti.save: the int at {where} cannot be saved: {error}"
            ) from None


# -------------------------------------------------------------------------------- decoding
def decode(buffer: memoryview, max_header_bytes: int):
    """What ``encode`` wrote (or any safetensors file's tensors), checked field by field."""
    total = len(buffer)
    if total < 8:
        raise Corrupt(f"it is {total} bytes long, too short for the 8-byte header length")
    (header_len,) = struct.unpack("<Q", buffer[:8])
    if header_len > max_header_bytes:
        raise Corrupt(
            f"header length {header_len} is larger than the limit of {max_header_bytes} bytes"
        )
    if header_len > total - 8:
        raise Corrupt(
            f"header length {header_len} runs past the end of the file ({total - 8} bytes "
            "after the length): the file is truncated or not a safetensors file"
        )
    try:
        text = bytes(buffer[8 : 8 + header_len]).decode("utf-8")
    except UnicodeDecodeError as error:
        raise Corrupt(f"header is not valid UTF-8 ({error})") from None
    header = _parse_json(text, "header", _strict_object)
    if not isinstance(header, dict):
        raise Corrupt(f"header must be a JSON object, not {type(header).__name__}")

    metadata = header.pop(METADATA_KEY, None)
    if metadata is not None and not (
        isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values())
    ):
        raise Corrupt("__metadata__ must be an object mapping strings to strings")

    data_start = 8 + header_len
    entries = [(name, *_check_entry(name, info)) for name, info in header.items()]
    _check_layout(entries, total - data_start)

    arrays = {}
    for name, dtype, shape, (begin, end) in entries:
        raw = buffer[data_start + begin : data_start + end]
        if dtype.kind == "b":
            as_bytes = np.frombuffer(raw, dtype=np.uint8)
            if as_bytes.size and as_bytes.max() > 1:
                raise Corrupt(
                    f"tensor {_brief(name)} has dtype BOOL but holds bytes other than 0 and 1"
                )
        try:
            array = np.frombuffer(raw, dtype=dtype).reshape(shape)
        except ValueError as error:  # an empty tensor with absurd extents
            raise Corrupt(
                f"tensor {_brief(name)} of shape {_brief(list(shape))} cannot be built ({error})"
            ) from None
        arrays[name] = array.astype(dtype.newbyteorder("="), copy=True)  # own, writable memory

    structure = (metadata or {}).get(STRUCTURE_KEY)
    if structure is None:  # a file from another program: a flat state dict
        return {name: from_numpy(arrays[name]) for name in sorted(arrays)}
    return _rebuild_structure(structure, arrays)


def _strict_object(pairs: list):
    result = dict(pairs)
    if len(result) != len(pairs):
        seen = set()
        for key, _ in pairs:
            if key in seen:
                raise Corrupt(f"header has the key {_brief(key)} twice")
            seen.add(key)
    return result


def _structure_object(pairs: list):
    # A node {kind: value} becomes the pair (kind, value): a tuple is a fraction of a dict's
    # size, and no JSON value parses to a tuple, so a tuple here is always a one-key object.
    if len(pairs) == 1:
        return pairs[0]
    return _strict_object(pairs)


def _reject_constant(token):
    raise Corrupt(f"header JSON contains {token}, which is not valid JSON")


def _parse_json(text: str, what: str, object_hook):
    try:
        return json.loads(text, object_pairs_hook=object_hook, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise Corrupt(f"{what} is not valid JSON ({error})") from None
    except ValueError as error:  # an int longer than sys.get_int_max_str_digits() allows
        raise Corrupt(f"{what} has a number that cannot be read ({error})") from None
    except RecursionError:
        raise Corrupt(f"{what} is nested too deeply") from None


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_entry(name: str, info):
    if not isinstance(info, dict):
        raise Corrupt(
            f"entry for tensor {_brief(name)} must be an object, not {type(info).__name__}"
        )
    extra = set(info) - {"dtype", "shape", "data_offsets"}
    missing = {"dtype", "shape", "data_offsets"} - set(info)
    if missing or extra:
        raise Corrupt(
            f"entry for tensor {_brief(name)} must have exactly the fields dtype, shape and "
            f"data_offsets (missing {sorted(missing)}, unknown {_brief(sorted(extra))})"
        )
    code = info["dtype"]
    if not isinstance(code, str) or code not in _DTYPES:
        if isinstance(code, str) and code in _UNSUPPORTED:
            raise Corrupt(
                f"tensor {_brief(name)} has dtype {code}, which gradienti does not support"
            )
        raise Corrupt(f"tensor {_brief(name)} has unknown dtype {_brief(code)}")
    dtype = _DTYPES[code]
    shape = info["shape"]
    if not isinstance(shape, list) or not all(_is_count(n) for n in shape):
        raise Corrupt(
            f"tensor {_brief(name)} has shape {_brief(shape)}; want a list of non-negative ints"
        )
    if len(shape) > MAX_DIMS:
        raise Corrupt(
            f"tensor {_brief(name)} has {len(shape)} dimensions; at most {MAX_DIMS} allowed"
        )
    offsets = info["data_offsets"]
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(_is_count(n) for n in offsets)
        or offsets[0] > offsets[1]
    ):
        raise Corrupt(
            f"tensor {_brief(name)} has data_offsets {_brief(offsets)}; want [begin, end] with "
            "0 <= begin <= end"
        )
    want = math.prod(shape) * dtype.itemsize
    span = offsets[1] - offsets[0]
    if span != want:
        raise Corrupt(
            f"tensor {_brief(name)} of dtype {code} and shape {_brief(shape)} needs "
            f"{_brief(want)} bytes but its data_offsets {_brief(offsets)} span {_brief(span)}"
        )
    return dtype, tuple(shape), (offsets[0], offsets[1])


def _check_layout(entries: list, data_len: int) -> None:
    """The tensors' byte ranges must tile the data section: no gap, no overlap, no excess."""
    entries.sort(key=lambda entry: entry[3])
    position = 0
    for name, _dtype, _shape, (begin, end) in entries:
        if begin > position:
            raise Corrupt(
                f"tensor {_brief(name)} starts at byte {_brief(begin)} but the previous data "
                f"ends at {position}: there is a gap in the data"
            )
        if begin < position:
            raise Corrupt(
                f"tensor {_brief(name)} (bytes {begin}..{_brief(end)}) overlaps the data "
                f"before it, which ends at {position}"
            )
        if end > data_len:
            raise Corrupt(
                f"tensor {_brief(name)} ends at byte {_brief(end)} but the data section has "
                f"only {data_len} bytes: the file is truncated"
            )
        position = end
    if position != data_len:
        raise Corrupt(
            f"the tensors cover {position} bytes but the data section has {data_len}: "
            "trailing bytes after the last tensor"
        )


def _rebuild_structure(structure: str, arrays: dict):
    what = "the gradienti structure metadata"
    description = _parse_json(structure, what, _structure_object)
    if (
        not isinstance(description, dict)
        or description.get("version") != FORMAT_VERSION
        or "root" not in description
    ):
        raise Corrupt(
            f"{what} is not a version {FORMAT_VERSION} description (written by a newer gradienti?)"
        )
    used: set = set()
    result = _rebuild(description["root"], arrays, used, 0)
    missing = sorted(set(arrays) - used)
    if missing:
        raise Corrupt(f"the structure metadata does not mention the tensors {_brief(missing)}")
    return result


def _bad_node(node) -> Corrupt:
    shown = {node[0]: node[1]} if isinstance(node, tuple) else node  # a node as it was in JSON
    return Corrupt(f"bad node {_brief(shown)} in the structure metadata")


def _rebuild(node, arrays: dict, used: set, depth: int):
    """``node`` is a parsed structure node: ``(kind, value)`` (see ``_structure_object``)."""
    if not isinstance(node, tuple):
        raise _bad_node(node)
    kind, value = node
    if kind == "t":
        return from_numpy(_take_array(value, arrays, used))
    if kind in ("n", "ns"):
        array = _take_array(value, arrays, used)
        if kind == "n":
            return array
        if array.shape != ():
            raise Corrupt(f"structure metadata has a NumPy scalar of shape {list(array.shape)}")
        return array[()]
    if kind == "v":
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
    elif kind == "f":
        if value in ("nan", "inf", "-inf"):
            return float(value)
    elif kind in ("l", "u", "d", "o", "S") and isinstance(value, list):
        if depth >= MAX_DEPTH:
            raise Corrupt(
                f"the gradienti structure metadata is nested too deeply (more than {MAX_DEPTH} "
                "containers inside each other)"
            )
        if kind in ("d", "o"):
            items = _rebuild_dict(value, arrays, used, depth + 1)
            return collections.OrderedDict(items) if kind == "o" else items
        items = [_rebuild(item, arrays, used, depth + 1) for item in value]
        if kind == "S":
            return _hashed(set, items, node)
        return items if kind == "l" else tuple(items)
    else:
        plain = _rebuild_plain(kind, value)
        if plain is not _NOT_PLAIN:
            return plain
    raise _bad_node(node)


_NOT_PLAIN = object()


def _rebuild_plain(kind: str, value):
    """The value of a bytes, complex, Size, dtype or device node (``_NOT_PLAIN`` if it is
    none of them or malformed)."""
    if kind in ("b", "B") and isinstance(value, str):
        try:
            data = base64.b64decode(value.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            return _NOT_PLAIN
        return data if kind == "b" else bytearray(data)
    if kind == "c" and isinstance(value, list) and len(value) == 2:
        try:
            return complex(float(value[0]), float(value[1]))
        except (TypeError, ValueError):
            return _NOT_PLAIN
    if kind == "z" and isinstance(value, list) and all(_is_count(n) for n in value):
        return Size(value)
    if kind == "dt" and isinstance(value, str):
        try:
            return dtype_by_name(value)
        except KeyError:
            return _NOT_PLAIN
    if kind == "dv" and isinstance(value, str):
        try:
            return device(value)
        except (RuntimeError, TypeError):
            return _NOT_PLAIN
    return _NOT_PLAIN


def _take_array(name, arrays: dict, used: set) -> np.ndarray:
    if not isinstance(name, str) or name not in arrays:
        raise Corrupt(f"structure metadata names tensor {_brief(name)}, which the file lacks")
    if name in used:
        raise Corrupt(f"structure metadata names tensor {_brief(name)} twice")
    used.add(name)
    return arrays[name]


def _hashed(make, items, node):
    try:
        return make(items)
    except TypeError:  # an element that cannot be hashed (a list in a key)
        raise _bad_node(node) from None


def _rebuild_dict(items: list, arrays: dict, used: set, depth: int) -> dict:
    result = {}
    for item in items:
        if (
            not isinstance(item, list)
            or len(item) != 3
            or not (
                (item[0] == "s" and isinstance(item[1], str))
                or (item[0] == "i" and isinstance(item[1], int) and not isinstance(item[1], bool))
                or item[0] == "k"
            )
        ):
            raise Corrupt(f"bad dict item {_brief(item)} in the structure metadata")
        key = item[1]
        if item[0] == "k":  # a key of another type: a node holding no tensor
            key = _rebuild(key, {}, set(), depth)
            try:
                hash(key)
            except TypeError:
                raise Corrupt(f"bad dict key {_brief(key)} in the structure metadata") from None
        if key in result:
            raise Corrupt(f"dict key {_brief(key)} appears twice in the structure metadata")
        result[key] = _rebuild(item[2], arrays, used, depth)
    return result
