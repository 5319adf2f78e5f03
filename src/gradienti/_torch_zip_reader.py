"""Reading PyTorch's zip checkpoints (``torch.save``'s default format; see _torch_zip_writer).

``decode`` opens the archive from bytes in memory (nothing is ever extracted to disk, so the
record names do not matter beyond matching), finds the archive folder from its first record
(as PyTorch's reader does), checks the byte order and unpickles ``data.pkl`` with the
restricted unpickler. Each storage record is read once, when the pickle first names it, after
its declared size has been checked against the element count the pickle gives and against the
archive's own size, so a crafted file cannot make gradienti allocate more than the file holds.
Only uncompressed records are read (``torch.save`` compresses nothing), which rules out zip
bombs.
"""

from __future__ import annotations

import io
import pickle
import struct
import zipfile

import numpy as np

from ._restricted_unpickler import RestrictedUnpickler, Storage, weights_only_error

__all__ = ["ZIP_MAGIC", "decode"]

ZIP_MAGIC = b"PK\x03\x04"
# The most bytes data.pkl may have: a state dict of 100,000 tensors takes ~20 MB.
MAX_PICKLE_BYTES = 256 * 2**20
_MAX_DIRECTORY_TRIES = 256
CUDA_MESSAGE = (
    "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
    "If you are running on a CPU-only machine, please use torch.load with "
    "map_location=torch.device('cpu') to map your storages to the CPU."
)


def decode(data, to_cpu: bool, mapped: bool = False, relocate=None):
    """The object a checkpoint holds in ``data`` (bytes, or a copy-on-write ``mmap`` of the
    file when ``mapped``: then each little-endian storage is a view of the mapping, read from
    disk as it is touched, as with ``torch.load(mmap=True)``). ``to_cpu``: storages saved on
    another device (CUDA) are put on the CPU, as a ``map_location`` that names the CPU asks.
    ``relocate``: a callable ``map_location``, called as torch calls it with each storage and
    its location; it may return that storage or None (keep it on the CPU), nothing else."""
    try:
        archive = zipfile.ZipFile(_MappedFile(data) if mapped else io.BytesIO(data))
        if archive.infolist() and min(i.header_offset for i in archive.infolist()) > 0:
            # zipfile found the directory of a later archive (two saves into one stream):
            # read the one that starts at the beginning, as torch.load does
            archive.close()
            data = _first_archive(data)
            archive = zipfile.ZipFile(_MappedFile(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise RuntimeError(
            "PytorchStreamReader failed reading zip archive: failed finding central directory"
        ) from None
    with archive:
        names = archive.namelist()
        if not names:
            raise RuntimeError("PytorchStreamReader failed reading zip archive: empty archive")
        prefix = names[0].split("/", 1)[0]
        reader = _Records(archive, prefix, data)
        byteorder = reader.read("byteorder", optional=True)
        if byteorder not in (None, b"little", b"big"):
            raise RuntimeError(f"gradienti.load: unknown byteorder record {byteorder[:40]!r}")
        big_endian = byteorder == b"big"
        data_pkl = reader.read("data.pkl", limit=MAX_PICKLE_BYTES)
        storages: dict[str, tuple[str, Storage]] = {}

        def load_storage(storage_type, key, location, numel):
            if not location.startswith("cpu") and not to_cpu:
                if location.startswith("cuda"):
                    raise RuntimeError(CUDA_MESSAGE)
                raise RuntimeError(
                    f"gradienti.load: cannot load a storage saved on '{location[:40]}': CPU only "
                    "(pass map_location='cpu')"
                )
            known = storages.get(key)
            if known is not None:
                if known[0] != storage_type.dtype_name:
                    raise RuntimeError(f"gradienti.load: storage {key!r:.40} has two dtypes")
                return known[1]
            if storage_type.dtype_name not in _SUPPORTED:
                raise RuntimeError(
                    f"gradienti.load: the checkpoint holds a tensor of dtype "
                    f"torch.{storage_type.dtype_name}, which gradienti does not support"
                )
            dtype = np.dtype(storage_type.dtype_name).newbyteorder(">" if big_endian else "<")
            if mapped and dtype.isnative:
                array = np.frombuffer(reader.view(f"data/{key}", numel * dtype.itemsize), dtype)
            else:
                raw = reader.read(f"data/{key}", exact=numel * dtype.itemsize)
                array = np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="), copy=True)
            if array.dtype == np.bool_ and array.view(np.uint8).max(initial=0) > 1:
                raise RuntimeError(f"gradienti.load: bool storage {key!r:.40} holds non-0/1 bytes")
            storage = Storage(array)
            if relocate is not None:
                moved = relocate(storage, location)
                if moved is not None and moved is not storage:
                    raise RuntimeError(
                        "gradienti.load: a callable map_location must return the storage it is "
                        f"given or None (gradienti has only the CPU), not {type(moved).__name__}"
                    )
            storages[key] = (storage_type.dtype_name, storage)
            return storage

        unpickler = RestrictedUnpickler(io.BytesIO(data_pkl), load_storage)
        try:
            result = unpickler.load()
            _refuse_bare_storages(result)
            return result
        except RecursionError:  # (a RuntimeError: caught before the clause that passes those)
            raise weights_only_error("data.pkl is nested too deeply") from None
        except RuntimeError:
            raise
        except pickle.UnpicklingError as error:  # pickle's own (a bad opcode) or the allow-list's
            if str(error).startswith("Weights only load failed"):
                raise
            raise weights_only_error(str(error)) from None
        except MemoryError:
            raise weights_only_error("data.pkl describes more than memory holds") from None
        except Exception as error:  # a malformed pickle: a bad opcode, truncated, wrong args
            raise weights_only_error(f"{type(error).__name__}: {error}") from None


# The storage dtypes gradienti has tensors of (others: bfloat16, complex, quantized...).
_SUPPORTED = {"float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"}


def _refuse_bare_storages(result) -> None:
    """A storage saved on its own (torch.save(t.untyped_storage())) would come back as the
    reader's internal object: gradienti has no storage type, so it says so. Walked with a
    stack of its own: data.pkl may nest containers deeper than Python's recursion limit."""
    pending, seen = [result], set()
    while pending:
        value = pending.pop()
        if isinstance(value, Storage):
            raise RuntimeError(
                "gradienti.load: the checkpoint holds a storage outside any tensor "
                "(torch.UntypedStorage or TypedStorage), and gradienti has no storage objects; "
                "save the tensor itself instead"
            )
        if isinstance(value, (dict, list, tuple, set, frozenset)) and id(value) not in seen:
            seen.add(id(value))
            if isinstance(value, dict):
                pending.extend(value.keys())
                pending.extend(value.values())
                pending.extend(getattr(value, "__dict__", {}).values())  # _metadata
            else:
                pending.extend(value)


def _first_archive(data) -> memoryview:
    """The bytes of the zip archive at the start of ``data`` (bytes or an mmap): up to the
    first end-of-directory record after which zipfile reads records that start at byte 0.
    Tensor bytes may hold the record's signature by chance; a file made of little else is
    given up on after a few hundred tries rather than parsed once per signature."""
    position = data.find(b"PK\x05\x06")
    for _ in range(_MAX_DIRECTORY_TRIES):
        if position == -1:
            break
        comment_length = int.from_bytes(data[position + 20 : position + 22], "little")
        candidate = memoryview(data)[: position + 22 + comment_length]
        try:
            with zipfile.ZipFile(_MappedFile(candidate)) as archive:
                if min((i.header_offset for i in archive.infolist()), default=1) == 0:
                    return candidate
        except (zipfile.BadZipFile, ValueError, OSError, EOFError):
            pass
        position = data.find(b"PK\x05\x06", position + 4)
    raise zipfile.BadZipFile("no archive starts at the beginning")


class _MappedFile(io.RawIOBase):
    """A read-only file over a memory map, for zipfile (which reads only the directory and
    the small records through it)."""

    def __init__(self, mapping) -> None:
        super().__init__()
        self.mapping, self.position = mapping, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: len(self.mapping)}
        self.position = max(0, base[whence] + offset)
        return self.position

    def tell(self) -> int:
        return self.position

    def readinto(self, buffer) -> int:
        chunk = self.mapping[self.position : self.position + len(buffer)]
        buffer[: len(chunk)] = chunk
        self.position += len(chunk)
        return len(chunk)


class _Records:
    """The archive's records under ``prefix``, each read after its size is checked."""

    def __init__(self, archive: zipfile.ZipFile, prefix: str, data) -> None:
        self.archive, self.prefix, self.data = archive, prefix, data
        self.archive_bytes = len(data)

    def view(self, name: str, size: int) -> memoryview:
        """The bytes of record ``name`` in place (an uncompressed record's data follows its
        local header: 30 bytes, then the name and the extra field)."""
        try:
            info = self._info(name, size)
        except KeyError:
            raise RuntimeError(
                f"PytorchStreamReader failed locating file {name}: file not found"
            ) from None
        start = info.header_offset + 30
        header = bytes(self.data[info.header_offset : start])
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: bad local header")
        name_length, extra_length = struct.unpack("<HH", header[26:30])
        start += name_length + extra_length
        if start + size > self.archive_bytes:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: truncated")
        return memoryview(self.data)[start : start + size]

    def read(self, name: str, *, optional=False, limit=None, exact=None):
        try:
            info = self._info(name, exact, limit)
        except KeyError:
            if optional:
                return None
            raise RuntimeError(
                f"PytorchStreamReader failed locating file {name}: file not found"
            ) from None
        try:
            return self.archive.read(info)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: {error}") from None

    def _info(self, name: str, exact=None, limit=None) -> zipfile.ZipInfo:
        """The record's entry, its sizes checked; KeyError if there is none."""
        full = f"{self.prefix}/{name}"
        info = self.archive.getinfo(full)
        if info.compress_type != zipfile.ZIP_STORED:
            raise RuntimeError(
                f"gradienti.load: record {full} is compressed; PyTorch checkpoints store their "
                "records uncompressed"
            )
        if info.file_size > self.archive_bytes or (limit is not None and info.file_size > limit):
            raise RuntimeError(
                f"gradienti.load: record {full} declares {info.file_size} bytes, more than the "
                f"file holds ({self.archive_bytes}) or allows"
            )
        if exact is not None and info.file_size != exact:
            raise RuntimeError(
                f"gradienti.load: record {full} has {info.file_size} bytes but its storage "
                f"needs {exact}"
            )
        return info
