"""Devices as a CPU-only PyTorch has them: ``torch.device("cuda:0")`` is a device object like
any other (the tutorials build one before they ask whether CUDA is there), but a tensor can
only live on the CPU, and putting one anywhere else raises what a CPU-only build raises.

``device`` parses and prints as PyTorch's; ``check_available`` is the one test every
``device=`` argument, ``Tensor.to``/``.cuda()`` and the default device go through.
"""

from __future__ import annotations

import builtins
import re
import threading

# PyTorch's device types, in the order its error message lists them.
DEVICE_TYPES = (
    "cpu",
    "cuda",
    "ipu",
    "xpu",
    "mkldnn",
    "opengl",
    "opencl",
    "ideep",
    "hip",
    "ve",
    "fpga",
    "maia",
    "xla",
    "lazy",
    "vulkan",
    "mps",
    "meta",
    "hpu",
    "mtia",
    "privateuseone",
)
# PyTorch's device string grammar (c10/core/Device.cpp): a name of letters and underscores,
# then optionally ':' and an index without leading zeros; the name is checked afterwards.
_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::(0|[1-9][0-9]*))?")
NO_ACCELERATOR_MESSAGE = "Cannot access accelerator device when none is available."
# What a CPU-only build raises where a tensor is asked to live on an accelerator it was built
# without: the Python-side backends assert, the others have no kernels for the backend.
_NOT_COMPILED = {
    "cuda": "Torch not compiled with CUDA enabled",
    "xpu": "Torch not compiled with XPU enabled",
}
# The dispatch key names in "Could not run ... from the '<key>' backend".
_BACKEND_NAMES = {"hip": "HIP", "ipu": "IPU", "xla": "XLA", "mps": "MPS", "lazy": "Lazy"}


def _invalid_combination(got: str) -> TypeError:
    return TypeError(
        f"device() received an invalid combination of arguments - got ({got}), but expected "
        "one of:\n * (torch.device device)\n * (str type, int index = -1)\n"
    )


class device:  # noqa: N801 - PyTorch's public name
    """A device: ``type`` ('cpu', 'cuda', ...) and ``index`` (None when not given)."""

    __slots__ = ("type", "index")

    def __init__(self, type=None, index=None) -> None:  # noqa: A002 - PyTorch's names
        if isinstance(type, device):
            if index is not None:
                raise _invalid_combination("torch.device, int")
            self.type, self.index = type.type, type.index
            return
        if isinstance(type, int) and not isinstance(type, bool) and index is None:
            # A bare index means the current accelerator's device, and there is none.
            if type < 0:
                raise RuntimeError("Device index must not be negative")
            raise RuntimeError(NO_ACCELERATOR_MESSAGE)
        if not isinstance(type, str):
            got = "" if type is None else builtins.type(type).__name__
            raise _invalid_combination(got)
        if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
            raise TypeError(
                "device(): argument 'index' (position 2) must be int, not "
                f"{builtins.type(index).__name__}"
            )
        kind, parsed_index = _parse(type)
        if index is not None:
            if parsed_index is not None:
                raise RuntimeError(
                    "type (string) must not include an index because index was passed "
                    f"explicitly: {type}"
                )
            if index < 0:
                raise RuntimeError("Device index must not be negative")
            parsed_index = index
        self.type = kind
        self.index = parsed_index

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __format__(self, format_spec: str) -> str:
        return format(str(self), format_spec)

    def __eq__(self, other) -> bool:
        if not isinstance(other, device):
            return False  # PyTorch: device('cpu') == 'cpu' is False
        return self.type == other.type and self.index == other.index

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __reduce__(self):
        return (device, (str(self),))

    def __enter__(self) -> device:
        """``with torch.device(d):`` makes ``d`` the default device for the block."""
        _DEVICE_STACK.append(default_device())
        set_default_device(self)
        return self

    def __exit__(self, *exc_info) -> None:
        set_default_device(_DEVICE_STACK.pop())


def _parse(text: str) -> tuple:
    if not text:
        raise RuntimeError("Device string must not be empty")
    match = _DEVICE_STRING.fullmatch(text)
    if match is None:
        raise RuntimeError(f"Invalid device string: '{text}'")
    kind = match.group(1)
    if kind not in DEVICE_TYPES:
        raise RuntimeError(
            f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device "
            f"string: {kind}"
        )
    return kind, None if match.group(2) is None else int(match.group(2))


CPU = device("cpu")


def as_device(where) -> device:
    """``where`` (a device, a string such as 'cuda:0', or an index) as a device; an index
    names the current accelerator, which a CPU-only build does not have."""
    return where if isinstance(where, device) else device(where)


def check_available(where, *, creating: bool = False) -> device:
    """``where`` as a device, raising what a CPU-only PyTorch raises unless it is the CPU.
    ``creating``: a factory (``zeros(device=...)``) rather than ``tensor(...)``/``Tensor.to``,
    which differ for backends without kernels (PyTorch's factories fail in the dispatcher)."""
    target = as_device(where)
    kind = target.type
    if kind == "cpu":
        return target
    if kind in _NOT_COMPILED:
        raise AssertionError(_NOT_COMPILED[kind])
    if kind == "meta":
        raise NotImplementedError(
            "gradienti has no meta tensors: every tensor holds its data on the CPU"
        )
    if creating or (kind == "mps" and target.index is not None):
        backend = _BACKEND_NAMES.get(kind, kind.capitalize())
        operator = "aten::empty.memory_format" if creating else "aten::empty_strided"
        raise NotImplementedError(
            f"Could not run '{operator}' with arguments from the '{backend}' backend. This "
            "could be because the operator doesn't exist for this backend, or was omitted "
            "during the selective/custom build process (if using custom build)."
        )
    raise RuntimeError(f"PyTorch is not linked with support for {kind} devices")


class _DefaultDevice(threading.local):
    """The device ``set_default_device`` chose (None: the CPU); per thread, as PyTorch's."""

    where = None


class _EverSet:
    """Whether any thread has set a default device: a plain attribute, so that the factories'
    common case reads no thread-local state (about 100 ns a read)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = False


DEFAULT_DEVICE = _DefaultDevice()
DEFAULT_DEVICE_EVER_SET = _EverSet()
_DEVICE_STACK: list = []


def default_device():
    """The device set by ``set_default_device`` in this thread, or None (the CPU)."""
    return DEFAULT_DEVICE.where if DEFAULT_DEVICE_EVER_SET.value else None


def set_default_device(where) -> None:
    """Stored as given; as in PyTorch, a device this build cannot use raises when a tensor is
    created (or ``get_default_device`` is asked), not here."""
    DEFAULT_DEVICE.where = None if where is None else as_device(where)
    if where is not None:
        DEFAULT_DEVICE_EVER_SET.value = True


def get_default_device() -> device:
    where = default_device()
    return CPU if where is None else check_available(where, creating=True)
