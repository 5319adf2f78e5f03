"""``torch.utils.dlpack``: zero-copy exchange of tensors with PyTorch, NumPy and any library
that speaks DLPack (https://dmlc.github.io/dlpack/latest/).

A gradienti tensor holds a NumPy array, and NumPy 2.x implements the DLPack protocol (versioned
capsules, ``max_version``, ``copy``), so exporting a tensor is exporting its array and importing
is ``numpy.from_dlpack``: the memory is shared both ways, a write through one side is seen by
the other. What this module adds is PyTorch's rules around the exchange:

- A tensor that requires grad is refused by ``Tensor.__dlpack__`` (the capsule cannot carry
  the graph), with PyTorch's BufferError; ``to_dlpack`` exports it anyway, as PyTorch's does.
- The only device is the CPU (``(kDLCPU, 0)``); asking for another raises what a CPU-only
  PyTorch raises.
- Read-only data (an ``expand``-ed tensor, a read-only NumPy array given to ``from_numpy``):
  a versioned capsule (what ``torch.from_dlpack`` and ``numpy.from_dlpack`` ask for) shares it
  and flags it read-only, which NumPy (and so gradienti's ``from_dlpack``) honours and PyTorch
  ignores. A legacy capsule (``to_dlpack``, ``__dlpack__()`` without ``max_version``) cannot
  say "read-only", so where PyTorch (which has no read-only tensors) would share, gradienti
  exports a copy; with ``copy=False`` it raises NumPy's BufferError instead. Handing out
  writable access to memory that may really be read-only (a read-only memory map) could crash
  the process. Imported the other way, a legacy capsule's memory is writable (NumPy alone
  would make it read-only), as DLPack before versions meant and PyTorch does.
- Version counters are not shared: an in-place write made by the other library is not seen by
  gradienti's "modified by an inplace operation" check.
"""

from __future__ import annotations

import ctypes
import datetime
import enum

from ..backend import xp
from ..batching import NO_STORAGE_ERROR, BatchedArray
from ..creation import shared_tensor
from ..devices import check_available
from ..devices import device as Device
from ..python_types import type_name
from ..tensor import Tensor

__all__ = ["DLDeviceType", "from_dlpack"]  # as PyTorch's (to_dlpack is public but unlisted)


class DLDeviceType(enum.IntEnum):
    """The device types of DLPack's ``DLDevice`` (dlpack.h), as PyTorch names them."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


REQUIRES_GRAD_MESSAGE = "Can't export tensors that require gradient, use tensor.detach()"
INVALID_CAPSULE_MESSAGE = (
    "from_dlpack received an invalid capsule. Note that DLTensor capsules can be consumed only "
    "once, so you might have already constructed a tensor from it once."
)
# The accelerators whose stream PyTorch's from_dlpack asks torch.cuda for (a CPU-only build
# fails there), and the dispatch keys a copy to one of them would need (no kernels: it fails).
_CUDA_LIKE = (DLDeviceType.kDLCUDA, DLDeviceType.kDLROCM)
_BACKEND_NAMES = {DLDeviceType.kDLCUDA: "CUDA", DLDeviceType.kDLROCM: "HIP"}
# A capsule holds a DLManagedTensor under one of these names until a consumer takes it (and
# renames it "used_dltensor"), so a capsule is good for one import.
_CAPSULE_NAMES = (b"dltensor", b"dltensor_versioned")
_CapsuleType = type(datetime.datetime_CAPI)
_capsule_is_valid = ctypes.pythonapi.PyCapsule_IsValid
_capsule_is_valid.restype = ctypes.c_int
_capsule_is_valid.argtypes = (ctypes.py_object, ctypes.c_char_p)


def tensor_dlpack(self, *, stream=-1, max_version=None, dl_device=None, copy=None):
    """``Tensor.__dlpack__``: a DLPack capsule of the tensor's memory (PyTorch's checks, in
    PyTorch's order). ``stream`` is for accelerators: on the CPU only None or -1."""
    if self._edge is not None:
        raise BufferError(REQUIRES_GRAD_MESSAGE)
    if stream is not None and type(stream) is not int:
        raise TypeError("stream must be ``int`` or ``none``")
    if stream is not None and stream != -1:
        raise AssertionError("stream should be None on cpu.")
    return _capsule(self, max_version, dl_device, copy)


def tensor_dlpack_device(self) -> tuple:
    """``Tensor.__dlpack_device__``: every gradienti tensor is in the CPU's memory."""
    return (DLDeviceType.kDLCPU, 0)


def to_dlpack(tensor):
    """A legacy (unversioned) DLPack capsule sharing ``tensor``'s memory; as PyTorch's, it
    exports a tensor that requires grad without its graph."""
    if not isinstance(tensor, Tensor):
        raise TypeError(
            f"_to_dlpack(): argument 'data' (position 1) must be Tensor, not {type_name(tensor)}"
        )
    return _capsule(tensor, None, None, None)


def _capsule(tensor: Tensor, max_version, dl_device, copy):
    if dl_device is not None:
        _check_export_device(dl_device)
    array = tensor._as_array()  # (a 0-d NumPy scalar becomes the tensor's own 0-d array)
    if type(array) is BatchedArray:  # one sample of a vmap: no memory of its own
        raise RuntimeError(NO_STORAGE_ERROR)
    legacy = max_version is None or max_version[0] < 1
    if legacy and copy is None and not array.flags.writeable:
        copy = True  # a legacy capsule cannot flag read-only memory (module docstring)
    if legacy:
        max_version = None  # (PyTorch reads only max_version[0]: (0,) asks for a legacy one)
    elif type(max_version) is not tuple or len(max_version) != 2:  # [1, 0], (1,): NumPy's form
        max_version = (max_version[0], max_version[1] if len(max_version) > 1 else 0)
    return array.__dlpack__(max_version=max_version, copy=copy)


def _check_export_device(dl_device) -> None:
    """What a CPU-only PyTorch raises for ``__dlpack__(dl_device=...)`` off the CPU (any CPU
    index is the CPU)."""
    kind = dl_device[0]
    if kind == DLDeviceType.kDLCPU:
        return
    if kind in _BACKEND_NAMES:
        raise NotImplementedError(
            f"Could not run 'aten::empty_strided' with arguments from the "
            f"'{_BACKEND_NAMES[kind]}' backend. This could be because the operator doesn't "
            "exist for this backend, or was omitted during the selective/custom build process "
            "(if using custom build)."
        )
    raise BufferError(f"Unsupported device_type: {int(kind)}")


class _LegacyCapsule:
    """A bare capsule presented as an exporter, for ``numpy.from_dlpack`` (which takes only
    objects with ``__dlpack__``); the capsule's own device is checked by NumPy."""

    def __init__(self, capsule) -> None:
        self.capsule = capsule

    def __dlpack__(self, **_requested):
        return self.capsule

    def __dlpack_device__(self) -> tuple:
        return (DLDeviceType.kDLCPU, 0)


def from_dlpack(ext_tensor, *, device=None, copy=None) -> Tensor:
    """A tensor sharing the memory of ``ext_tensor``: an object with ``__dlpack__`` (a PyTorch
    tensor, a NumPy array, a gradienti tensor) or a DLPack capsule (``to_dlpack``'s), which
    can be imported once. ``copy=True`` copies; ``copy=False`` refuses to. The result does not
    require grad and is a leaf."""
    if hasattr(ext_tensor, "__dlpack__"):
        source_kind = ext_tensor.__dlpack_device__()[0]
        if device is not None:
            if not isinstance(device, (str, Device)):
                raise AssertionError(f"from_dlpack: unsupported device type: {type(device)}")
            check_available(device)
        if source_kind in _CUDA_LIKE:  # PyTorch asks torch.cuda for the producer's stream
            check_available("cuda")
        array = xp.from_dlpack(ext_tensor, copy=copy)
    else:
        if device is not None or copy is not None:
            raise AssertionError(
                "device and copy kwargs not supported when ext_tensor is already a DLPack capsule."
            )
        if not _is_unused_capsule(ext_tensor):
            raise RuntimeError(INVALID_CAPSULE_MESSAGE)
        legacy = _capsule_is_valid(ext_tensor, b"dltensor")
        array = xp.from_dlpack(_LegacyCapsule(ext_tensor))
        if legacy:
            array = _writable(array)
    return shared_tensor(array)


class _WritableView:
    """The memory of an imported array presented writable (``__array_interface__``); it keeps
    the array, and with it the capsule's deleter, alive."""

    def __init__(self, imported) -> None:
        self.imported = imported
        interface = dict(imported.__array_interface__)
        interface["data"] = (interface["data"][0], False)  # (address, read-only?)
        self.__array_interface__ = interface


def _writable(array):
    """A legacy capsule has no read-only flag: the memory it hands over is writable (PyTorch
    writes to it), but NumPy imports it read-only to be safe. (A versioned capsule says which
    it is, and NumPy follows.)"""
    if array.flags.writeable or array.size == 0:
        return array
    return xp.asarray(_WritableView(array))


def _is_unused_capsule(value) -> bool:
    return type(value) is _CapsuleType and any(
        _capsule_is_valid(value, name) for name in _CAPSULE_NAMES
    )
