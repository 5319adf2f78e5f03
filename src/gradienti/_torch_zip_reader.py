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
import zipfile

import numpy as np

from ._restricted_unpickler import RestrictedUnpickler, Storage, weights_only_error

__all__ = ["ZIP_MAGIC", "decode"]

ZIP_MAGIC = b"PK\x03\x04"
# The most bytes data.pkl may have: a state dict of 100,000 tensors takes ~20 MB.
MAX_PICKLE_BYTES = 256 * 2**20
CUDA_MESSAGE = (
    "Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. "
    "If you are running on a CPU-only machine, please use torch.load with "
    "map_location=torch.device('cpu') to map your storages to the CPU."
)


def decode(data: bytes, to_cpu: bool):
    """The object a checkpoint holds; ``to_cpu``: storages saved on another device (CUDA) are
    put on the CPU, as a ``map_location`` that names the CPU asks."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise RuntimeError(
            "PytorchStreamReader failed reading zip archive: failed finding central directory"
        ) from None
    with archive:
        names = archive.namelist()
        if not names:
            raise RuntimeError("PytorchStreamReader failed reading zip archive: empty archive")
        prefix = names[0].split("/", 1)[0]
        reader = _Records(archive, prefix, len(data))
        byteorder = reader.read("byteorder", optional=True)
        if byteorder not in (None, b"little", b"big"):
            raise RuntimeError(f"gradienti.load: unknown byteorder record {byteorder[:40]!r}")
        big_endian = byteorder == b"big"
        data_pkl = reader.read("data.pkl", limit=MAX_PICKLE_BYTES)
        storages: dict[str, tuple[str, Storage]] = {}

        def load_storage(storage_type, key, location, numel):
            if location != "cpu" and not location.startswith("cpu") and not to_cpu:
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
            if storage_type.dtype_name in _MISSING:
                raise RuntimeError(
                    f"gradienti.load: the checkpoint holds a tensor of dtype "
                    f"torch.{storage_type.dtype_name}, which gradienti does not support"
                )
            dtype = np.dtype(storage_type.dtype_name).newbyteorder(">" if big_endian else "<")
            raw = reader.read(f"data/{key}", exact=numel * dtype.itemsize)
            array = np.frombuffer(raw, dtype=dtype).astype(dtype.newbyteorder("="), copy=True)
            if array.dtype == np.bool_ and array.view(np.uint8).max(initial=0) > 1:
                raise RuntimeError(f"gradienti.load: bool storage {key!r:.40} holds non-0/1 bytes")
            storage = Storage(array)
            storages[key] = (storage_type.dtype_name, storage)
            return storage

        unpickler = RestrictedUnpickler(io.BytesIO(data_pkl), load_storage)
        try:
            return unpickler.load()
        except RuntimeError:
            raise
        except pickle.UnpicklingError as error:  # pickle's own (a bad opcode) or the allow-list's
            if str(error).startswith("Weights only load failed"):
                raise
            raise weights_only_error(str(error)) from None
        except RecursionError:
            raise weights_only_error("data.pkl is nested too deeply") from None
        except MemoryError:
            raise weights_only_error("data.pkl describes more than memory holds") from None
        except Exception as error:  # a malformed pickle: a bad opcode, truncated, wrong args
            raise weights_only_error(f"{type(error).__name__}: {error}") from None


# Storage dtypes (see _restricted_unpickler) that gradienti has no tensors of.
_MISSING = {
    "bfloat16",
    "complex64",
    "complex128",
    "quint8",
    "qint8",
    "qint32",
    "quint4x2",
    "quint2x4",
}


class _Records:
    """The archive's records under ``prefix``, each read after its size is checked."""

    def __init__(self, archive: zipfile.ZipFile, prefix: str, archive_bytes: int) -> None:
        self.archive, self.prefix, self.archive_bytes = archive, prefix, archive_bytes

    def read(self, name: str, *, optional=False, limit=None, exact=None):
        full = f"{self.prefix}/{name}"
        try:
            info = self.archive.getinfo(full)
        except KeyError:
            if optional:
                return None
            raise RuntimeError(
                f"PytorchStreamReader failed locating file {name}: file not found"
            ) from None
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
        try:
            return self.archive.read(info)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
            raise RuntimeError(f"PytorchStreamReader failed reading file {name}: {error}") from None
