"""Writing PyTorch's zip checkpoint format: what ``torch.save`` writes by default.

A checkpoint is an uncompressed zip archive whose records all sit in one folder, the
*archive name* (``torch.save`` uses the file's stem, ``"archive"`` for a file object)::

    model/data.pkl                 the object, pickled with protocol 2; tensors refer to storages
    model/.format_version          b"1"
    model/.storage_alignment       b"64": every record's bytes start at a multiple of 64
    model/byteorder                b"little"
    model/data/0, model/data/1...  each storage's raw little-endian bytes
    model/version                  b"3\\n"
    model/.data/serialization_id   40 decimal digits (torch: random; here: from a content hash)

A tensor is pickled as ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, OrderedDict())`` where ``storage`` is the persistent id
``("storage", torch.<Type>Storage, "<key>", "cpu", <numel>)``. Tensors that view the same NumPy
memory (tied weights, slices) share one storage, saved once, as ``torch.save`` does. The
pickle is written here opcode by opcode: gradienti never pickles Python objects, so what the
file names is exactly what PyTorch's weights-only loader accepts, and nothing else.
"""

from __future__ import annotations

import collections
import hashlib
import io
import struct
import zipfile

import numpy as np

from .backend import dtype as DType
from .devices import device
from .nn.parameter import Parameter
from .size import Size
from .tensor import Tensor

__all__ = ["encode", "MAX_DEPTH", "STORAGE_TYPES"]

ALIGNMENT = 64
# Containers inside containers: a state dict needs a handful; the writer recurses once a level.
MAX_DEPTH = 100
# NumPy dtype -> the legacy storage class that torch.save names for it.
STORAGE_TYPES = {
    np.dtype("float64"): "DoubleStorage",
    np.dtype("float32"): "FloatStorage",
    np.dtype("float16"): "HalfStorage",
    np.dtype("int64"): "LongStorage",
    np.dtype("int32"): "IntStorage",
    np.dtype("int16"): "ShortStorage",
    np.dtype("int8"): "CharStorage",
    np.dtype("uint8"): "ByteStorage",
    np.dtype("bool"): "BoolStorage",
}
SUPPORTED = (
    "tensors, dicts (OrderedDict too), lists, tuples, sets, int, float, complex, bool, str, "
    "bytes, bytearray, None, Size, dtype and device"
)

# Pickle opcodes (protocol 2), as pickle.py names them.
_PROTO = b"\x80\x02"
_STOP, _MARK, _NONE, _TRUE, _FALSE = b".", b"(", b"N", b"\x88", b"\x89"
_EMPTY_TUPLE, _TUPLE, _TUPLE1, _TUPLE2, _TUPLE3 = b")", b"t", b"\x85", b"\x86", b"\x87"
_EMPTY_LIST, _APPENDS, _EMPTY_DICT, _SETITEMS = b"]", b"e", b"}", b"u"
_REDUCE, _BUILD, _BINPERSID = b"R", b"b", b"Q"
_BATCH = 1000  # items per APPENDS/SETITEMS, as pickle writes them


def encode(obj, archive_name: str) -> bytes:
    """The checkpoint's bytes; raises TypeError/ValueError for a value it cannot hold."""
    pickler = _Pickler()
    pickler.save(obj, "object", 0)
    data_pkl = _PROTO + bytes(pickler.out) + _STOP
    records = [
        ("data.pkl", data_pkl),
        (".format_version", b"1"),
        (".storage_alignment", str(ALIGNMENT).encode()),
        ("byteorder", b"little"),
    ]
    for key, array in enumerate(pickler.storages):
        little = np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<"), copy=False))
        records.append((f"data/{key}", memoryview(little.reshape(-1)).cast("B")))
    # torch.save writes a random id; one derived from the content makes equal saves equal bytes
    digest = hashlib.sha256(data_pkl)
    for _, data in records[4:]:
        digest.update(data)
    serialization_id = str(int.from_bytes(digest.digest(), "big"))[:40].zfill(40)
    records += [("version", b"3\n"), (".data/serialization_id", serialization_id.encode())]
    return _zip(archive_name, records)


def _zip(archive_name: str, records: list) -> bytes:
    """An uncompressed zip of ``records`` whose data all start at multiples of ALIGNMENT.

    The padding goes into each local header's extra field (id ``b"FB"``, as PyTorch pads), so
    that ``torch.load(mmap=True)`` can map every storage in place.
    """
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, data in records:
            info = zipfile.ZipInfo(f"{archive_name}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            size = len(data)
            # zipfile adds a 20-byte zip64 field to the local header under this condition
            zip64_field = 20 if size * 1.05 > zipfile.ZIP64_LIMIT else 0
            header = 30 + len(info.filename.encode("utf-8")) + zip64_field
            padding = -(out.tell() + header + 4) % ALIGNMENT
            info.extra = b"FB" + struct.pack("<H", padding) + b"Z" * padding
            archive.writestr(info, data)
    return out.getvalue()


class _Pickler:
    """Protocol-2 pickle opcodes for the values that weights-only loading accepts."""

    def __init__(self) -> None:
        self.out = bytearray()
        self.storages: list[np.ndarray] = []
        self._storage_keys: dict[int, int] = {}  # id(root array) -> storage key
        self._enclosing: set[int] = set()
        self._memo: dict[int, int] = {}  # id(tensor) -> memo index
        self._memo_keep: list[Tensor] = []  # (keeps those ids unique while pickling)

    def save(self, value, where: str, depth: int) -> None:
        if isinstance(value, Tensor):
            self._save_tensor(value, where)
        elif isinstance(value, (np.ndarray, np.generic)):
            raise TypeError(
                f"gradienti.save: cannot save the NumPy {type(value).__name__} at {where} in "
                "PyTorch's format (torch.load(weights_only=True) refuses NumPy objects): "
                "convert it with gradienti.from_numpy, or save to a '.safetensors' path"
            )
        elif value is None:
            self.out += _NONE
        elif isinstance(value, bool):
            self.out += _TRUE if value else _FALSE
        elif isinstance(value, Size):  # (a tuple: tested before tuples)
            self._global("torch", "Size")
            self._tuple([int(n) for n in value], where, depth)
            self.out += _TUPLE1 + _REDUCE
        elif isinstance(value, int):
            self._int(int(value))
        elif isinstance(value, float):
            self.out += b"G" + struct.pack(">d", value)
        elif isinstance(value, str):
            encoded = value.encode("utf-8", "surrogatepass")
            self.out += b"X" + struct.pack("<I", len(encoded)) + encoded
        else:
            self._save_other(value, where, depth)

    def _save_other(self, value, where: str, depth: int) -> None:
        if isinstance(value, bytes):
            # protocol 2 spells bytes as _codecs.encode(<latin-1 text>, "latin1"), as pickle does
            self._global("_codecs", "encode")
            self.save(value.decode("latin-1"), where, depth)
            self.save("latin1", where, depth)
            self.out += _TUPLE2 + _REDUCE
        elif isinstance(value, bytearray):
            self._global("builtins", "bytearray")
            self.save(bytes(value), where, depth)
            self.out += _TUPLE1 + _REDUCE
        elif isinstance(value, complex):
            self._global("builtins", "complex")
            self.out += b"G" + struct.pack(">d", value.real)
            self.out += b"G" + struct.pack(">d", value.imag)
            self.out += _TUPLE2 + _REDUCE
        elif isinstance(value, DType):
            self._global("torch", value.name)
        elif isinstance(value, device):
            self._global("torch", "device")
            self.save(value.type, where, depth)
            if value.index is None:
                self.out += _TUPLE1 + _REDUCE
            else:
                self._int(int(value.index))
                self.out += _TUPLE2 + _REDUCE
        elif isinstance(value, (dict, list, tuple, set)):
            self._save_container(value, where, depth)
        else:
            hint = " (save its state_dict() instead)" if hasattr(value, "state_dict") else ""
            raise TypeError(
                f"gradienti.save: cannot save {type(value).__name__} at {where}{hint}; "
                f"supported are {SUPPORTED}"
            )

    def _save_container(self, value, where: str, depth: int) -> None:
        if id(value) in self._enclosing:
            raise ValueError(
                f"gradienti.save: {where} is a {type(value).__name__} that contains itself "
                "(a reference cycle); only tree-shaped structures can be saved"
            )
        if depth >= MAX_DEPTH:
            raise ValueError(
                f"gradienti.save: {where} is nested more than {MAX_DEPTH} containers deep; "
                "a structure that deep cannot be saved"
            )
        self._enclosing.add(id(value))
        try:
            if isinstance(value, dict):
                self._dict(value, where, depth + 1)
            elif isinstance(value, set):
                self._global("builtins", "set")
                self._list(list(value), where, depth + 1)
                self.out += _TUPLE1 + _REDUCE
            elif isinstance(value, list):
                self._list(value, where, depth + 1)
            else:
                self._tuple(value, where, depth + 1)
        finally:
            self._enclosing.discard(id(value))

    def _dict(self, value: dict, where: str, depth: int) -> None:
        ordered = isinstance(value, collections.OrderedDict)
        if ordered:
            self._global("collections", "OrderedDict")
            self.out += _EMPTY_TUPLE + _REDUCE
        else:
            self.out += _EMPTY_DICT
        items = list(value.items())
        for start in range(0, len(items), _BATCH):
            self.out += _MARK
            for key, item in items[start : start + _BATCH]:
                self.save(key, f"a key of {where}", depth)
                self.save(item, f"{where}[{key!r}]", depth)
            self.out += _SETITEMS
        attributes = getattr(value, "__dict__", None) if ordered else None
        if attributes:  # a module state dict's _metadata, restored by BUILD as torch does
            self._dict(dict(attributes), f"{where}.__dict__", depth)
            self.out += _BUILD

    def _list(self, value: list, where: str, depth: int) -> None:
        self.out += _EMPTY_LIST
        for start in range(0, len(value), _BATCH):
            self.out += _MARK
            for i, item in enumerate(value[start : start + _BATCH], start):
                self.save(item, f"{where}[{i}]", depth)
            self.out += _APPENDS

    def _tuple(self, value, where: str, depth: int) -> None:
        if not value:
            self.out += _EMPTY_TUPLE
            return
        if len(value) > 3:
            self.out += _MARK
        for i, item in enumerate(value):
            self.save(item, f"{where}[{i}]", depth)
        self.out += {1: _TUPLE1, 2: _TUPLE2, 3: _TUPLE3}.get(len(value), _TUPLE)

    def _int(self, value: int) -> None:
        if 0 <= value < 256:
            self.out += b"K" + bytes([value])
        elif 0 <= value < 65536:
            self.out += b"M" + struct.pack("<H", value)
        elif -(2**31) <= value < 2**31:
            self.out += b"J" + struct.pack("<i", value)
        else:  # LONG1/LONG4: little-endian two's complement of the fewest bytes
            encoded = value.to_bytes(value.bit_length() // 8 + 1, "little", signed=True)
            if len(encoded) < 256:
                self.out += b"\x8a" + bytes([len(encoded)]) + encoded
            else:
                self.out += b"\x8b" + struct.pack("<i", len(encoded)) + encoded

    def _global(self, module: str, name: str) -> None:
        self.out += b"c" + module.encode("ascii") + b"\n" + name.encode("ascii") + b"\n"

    def _save_tensor(self, t: Tensor, where: str) -> None:
        # The same tensor object twice is pickled once and fetched from the memo, so that
        # torch.load gives one object back for both places, as for torch.save's files.
        memo = self._memo.get(id(t))
        if memo is not None:
            self.out += b"h" + bytes([memo]) if memo < 256 else b"j" + struct.pack("<I", memo)
            return
        self._save_new_tensor(t, where)
        memo = len(self._memo)
        self._memo[id(t)] = memo
        self._memo_keep.append(t)
        self.out += b"q" + bytes([memo]) if memo < 256 else b"r" + struct.pack("<I", memo)

    def _save_new_tensor(self, t: Tensor, where: str) -> None:
        array = np.asarray(t._data)
        native = array.dtype.newbyteorder("=")
        if native not in STORAGE_TYPES:
            raise TypeError(f"gradienti.save: cannot save a tensor of dtype {array.dtype}")
        key, offset, strides = self._storage_of(array)
        parameter = isinstance(t, Parameter)
        if parameter:
            self._global("torch._utils", "_rebuild_parameter")
            self.out += _MARK
        self._global("torch._utils", "_rebuild_tensor_v2")
        self.out += _MARK
        self.out += _MARK  # the persistent id of the storage
        self.save("storage", where, 0)
        self._global("torch", STORAGE_TYPES[native])
        self.save(str(key), where, 0)
        self.save("cpu", where, 0)
        self._int(self.storages[key].size)
        self.out += _TUPLE + _BINPERSID
        self._int(offset)
        self._tuple([int(n) for n in array.shape], where, 0)
        self._tuple(strides, where, 0)
        # A Parameter's own requires_grad goes to _rebuild_parameter; its data does not need it.
        self.save(bool(t.requires_grad) and not parameter, where, 0)
        self._global("collections", "OrderedDict")  # backward hooks: none
        self.out += _EMPTY_TUPLE + _REDUCE
        self.out += _TUPLE + _REDUCE
        if parameter:
            self.save(bool(t.requires_grad), where, 0)
            self._global("collections", "OrderedDict")
            self.out += _EMPTY_TUPLE + _REDUCE
            self.out += _TUPLE + _REDUCE

    def _storage_of(self, array: np.ndarray) -> tuple[int, int, list[int]]:
        """(storage key, element offset, element strides) of ``array``: a view of an array
        already saved shares its storage; anything else gets a contiguous copy of its own."""
        root = _root_of(array)
        itemsize = array.dtype.itemsize
        shares = (
            root.dtype == array.dtype
            and root.flags.c_contiguous
            and array.dtype.isnative
            and all(s >= 0 and s % itemsize == 0 for s in array.strides)
        )
        if shares and root.size:
            start = array.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            last = start + sum((n - 1) * s for n, s in zip(array.shape, array.strides))
            shares = start >= 0 and start % itemsize == 0 and last < root.nbytes
        if not shares or not root.size:
            root, start = np.ascontiguousarray(array).reshape(-1), 0
            strides = _contiguous_strides(array.shape)
        else:
            strides = [s // itemsize for s in array.strides]
        key = self._storage_keys.get(id(root))
        if key is None:
            key = len(self.storages)
            self._storage_keys[id(root)] = key
            self.storages.append(root)  # (kept alive: its id stays unique until encode ends)
        return key, start // itemsize, strides


def _root_of(array: np.ndarray) -> np.ndarray:
    """The array whose memory ``array`` views. NumPy's as_strided and sliding_window_view
    (behind unfold) put a stand-in object with a ``base`` between a view and its array."""
    root = array
    while True:
        base = root.base
        if not isinstance(base, np.ndarray):
            base = getattr(base, "base", None)
        if not isinstance(base, np.ndarray):
            return root
        root = base


def _contiguous_strides(shape) -> list[int]:
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(int(n), 1)
    return strides[::-1]
