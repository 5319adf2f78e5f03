"""Reading a checkpoint's ``data.pkl`` without running any code from it.

``RestrictedUnpickler`` accepts what PyTorch's ``torch.load(weights_only=True)`` accepts (its
allow-list in ``torch/_weights_only_unpickler.py``): the tensor rebuild functions, legacy
storage types, ``torch.Size``, ``torch.device``, dtypes, ``collections.OrderedDict`` and
``Counter``, ``builtins.set``/``bytearray``/``complex`` and ``_codecs.encode`` (bytes), each
mapped to gradienti's own object or to a function written here. Any other global raises
``pickle.UnpicklingError`` naming it, before anything is called.

It subclasses pickle's pure-Python ``_Unpickler`` rather than the C ``pickle.Unpickler``
because, besides ``find_class`` and ``persistent_load``, three opcodes must be restricted the
way PyTorch restricts them: REDUCE calls only allowed functions (never something a previous
call returned), NEWOBJ builds only allowed classes, and BUILD (which sets attributes) applies
only to an OrderedDict (a module state dict's ``_metadata``): in the C unpickler BUILD could
set attributes on any object, such as the shared ``gradienti.float32``. That unpickler keeps
its own stack (no recursion), so a deeply nested ``data.pkl`` cannot overflow Python's.
"""

from __future__ import annotations

import collections
import pickle
from _compat_pickle import IMPORT_MAPPING, NAME_MAPPING

import numpy as np

from .backend import _dtype_by_name as dtype_by_name
from .creation import from_numpy
from .devices import device
from .nn.parameter import Parameter
from .size import Size
from .tensor import Tensor

__all__ = ["RestrictedUnpickler", "Storage", "StorageType", "weights_only_error"]

MAX_DIMS = 64  # NumPy's limit
_BLOCKED_MODULES = ("sys", "os", "posix", "nt")
_NOT_GRADIENTI = (
    "Weights only load failed. gradienti.load never runs code from a file, whatever "
    "weights_only says: it reads tensors, storages and plain containers, as "
    "torch.load(weights_only=True) does.\n\n"
)
# torch dtypes gradienti has no tensors of: a file naming them gets a clear error.
_MISSING_DTYPES = (
    "bfloat16", "complex32", "complex64", "complex128", "uint16", "uint32", "uint64",
    "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz", "float8_e5m2fnuz", "quint8", "qint8",
    "qint32", "quint4x2", "quint2x4", "bits8", "bits16", "float8_e8m0fnu", "float4_e2m1fn_x2",
)  # fmt: skip
_STORAGE_DTYPES = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
    "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
    "BFloat16Storage": "bfloat16", "ComplexFloatStorage": "complex64",
    "ComplexDoubleStorage": "complex128", "QUInt8Storage": "quint8", "QInt8Storage": "qint8",
    "QInt32Storage": "qint32", "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
}  # fmt: skip
_UNSUPPORTED_REBUILDS = {
    "_rebuild_qtensor": "quantized",
    "_rebuild_sparse_tensor": "sparse",
    "_rebuild_meta_tensor_no_storage": "meta",
    "_rebuild_nested_tensor": "nested",
    "_rebuild_wrapper_subclass": "tensor subclass",
    "_rebuild_device_tensor_from_numpy": "device (non-CPU)",
    "_rebuild_device_tensor_from_cpu_tensor": "device (non-CPU)",
}


def weights_only_error(message: str) -> pickle.UnpicklingError:
    return pickle.UnpicklingError(_NOT_GRADIENTI + message)


class StorageType:
    """What ``torch.FloatStorage`` (and the other storage globals) unpickle to: its dtype."""

    def __init__(self, name: str, dtype_name: str) -> None:
        self.name, self.dtype_name = name, dtype_name


class Storage:
    """A storage read from the archive: a flat array of ``numel`` elements."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array


def _bytes_from_text(text, encoding):
    # _codecs.encode as protocol 2 uses it for bytes: only latin-1 text, never another codec
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise weights_only_error("_codecs.encode is allowed only for latin-1 text (bytes)")
    return text.encode("latin-1")


def _bytearray_from(*args):
    # as pickle writes one: bytearray(<latin-1 text>, "latin-1") or bytearray(<bytes>); never
    # bytearray(<int>), which would allocate that many bytes from a number in the file
    if len(args) == 2 and isinstance(args[0], str) and args[1] in ("latin1", "latin-1"):
        return bytearray(args[0], "latin-1")
    if len(args) == 1 and isinstance(args[0], (bytes, bytearray)):
        return bytearray(args[0])
    if not args:
        return bytearray()
    raise weights_only_error("bytearray is allowed only from bytes or latin-1 text")


def _check_size_items(args) -> None:
    """torch.Size's own check of what REDUCE/NEWOBJ give it: one iterable of ints."""
    if len(args) == 1 and isinstance(args[0], (tuple, list, str, dict, set)):
        for i, item in enumerate(args[0]):
            if not isinstance(item, int):
                raise TypeError(
                    f"torch.Size() takes an iterable of 'int' (item {i} is '{type(item).__name__}')"
                )


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _rebuild_tensor_v2(
    storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None
):
    if not isinstance(storage, Storage):
        raise weights_only_error(f"a tensor's storage is a {type(storage).__name__}")
    return _view(storage.array, storage_offset, size, stride, requires_grad)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _rebuild_tensor_v2(storage, storage_offset, size, stride, False, None)


def _rebuild_tensor_v3(
    storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None
):
    """An untyped (byte) storage read as ``dtype``."""
    if not isinstance(storage, Storage):
        raise weights_only_error(f"a tensor's storage is a {type(storage).__name__}")
    as_numpy = np.dtype(str(dtype).removeprefix("torch.")) if hasattr(dtype, "name") else None
    raw = storage.array
    if as_numpy is None or raw.dtype != np.uint8 or raw.size % as_numpy.itemsize:
        raise RuntimeError(f"gradienti.load: a tensor of dtype {dtype} has a malformed storage")
    return _view(raw.view(as_numpy), storage_offset, size, stride, requires_grad)


def _view(flat: np.ndarray, offset, size, stride, requires_grad) -> Tensor:
    """The tensor at ``offset`` with ``size`` and ``stride`` (in elements) in ``flat``, sharing
    its memory as PyTorch's loaded tensors share their storage; every extent is checked
    against the storage first."""
    if (
        not _is_count(offset)
        or not isinstance(size, tuple)
        or not isinstance(stride, tuple)
        or len(size) != len(stride)
        or len(size) > MAX_DIMS
        or not all(map(_is_count, size))
        or not all(map(_is_count, stride))
        or not isinstance(requires_grad, bool)
    ):
        raise RuntimeError(
            f"gradienti.load: a tensor has a malformed offset {offset!r:.80}, size {size!r:.200} "
            f"or stride {stride!r:.200}"
        )
    if 0 in size:
        if offset > flat.size:
            raise RuntimeError("gradienti.load: an empty tensor starts past its storage's end")
        array = np.empty(size, dtype=flat.dtype)
    else:
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= flat.size:
            raise RuntimeError(
                f"gradienti.load: a tensor of size {list(size)}, stride {list(stride)} and "
                f"offset {offset} reaches element {last} of a storage of {flat.size} elements"
            )
        itemsize = flat.dtype.itemsize
        # An ndarray over ``flat`` itself (as_strided's base would be a stand-in object), so
        # that save finds the storage again and keeps tensors that share it sharing it.
        array = np.ndarray(
            size, flat.dtype, buffer=flat, offset=offset * itemsize,
            strides=[s * itemsize for s in stride],
        )  # fmt: skip
    t = from_numpy(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks):
    if not isinstance(data, Tensor) or not isinstance(requires_grad, bool):
        raise weights_only_error("_rebuild_parameter needs a tensor and a bool")
    return Parameter(data.detach(), requires_grad)


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    if state:
        raise weights_only_error("a Parameter with Python attributes cannot be loaded")
    return _rebuild_parameter(data, requires_grad, backward_hooks)


_REBUILDS = {
    "_rebuild_tensor": _rebuild_tensor,
    "_rebuild_tensor_v2": _rebuild_tensor_v2,
    "_rebuild_tensor_v3": _rebuild_tensor_v3,
    "_rebuild_parameter": _rebuild_parameter,
    "_rebuild_parameter_with_state": _rebuild_parameter_with_state,
}


def _rebuild_from_type_v2(func, new_type, args, state):
    """A tensor saved with its type: only plain tensors and Parameters, no attributes."""
    if func not in _REBUILDS.values() or not isinstance(args, tuple):
        raise weights_only_error(f"_rebuild_from_type_v2 cannot call {func!r:.80}")
    if new_type not in (Tensor, Parameter):
        raise weights_only_error(f"_rebuild_from_type_v2 cannot build a {new_type!r:.80}")
    if state:
        raise weights_only_error("a tensor with Python attributes cannot be loaded")
    result = func(*args)
    if new_type is Parameter and type(result) is not Parameter:
        # torch's ret.as_subclass(new_type): the same memory and requires_grad, as a Parameter
        result = Parameter(result.detach(), result.requires_grad)
    return result


def _allowed_globals() -> dict:
    allowed = {
        "collections.OrderedDict": collections.OrderedDict,
        "collections.Counter": collections.Counter,
        "torch.nn.parameter.Parameter": Parameter,
        "torch.Size": Size,
        "torch.Tensor": Tensor,
        "torch.device": device,
        "_codecs.encode": _bytes_from_text,
        "builtins.bytearray": _bytearray_from,
        "builtins.set": set,
        "builtins.complex": complex,
        "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
    }
    for name, function in _REBUILDS.items():
        allowed[f"torch._utils.{name}"] = function
    for name in ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8"):
        allowed[f"torch.{name}"] = dtype_by_name(name)
    allowed["torch.bool"] = dtype_by_name("bool")
    for name, dtype_name in _STORAGE_DTYPES.items():
        allowed[f"torch.{name}"] = StorageType(name, dtype_name)
    allowed["torch.storage.UntypedStorage"] = StorageType("UntypedStorage", "uint8")
    return allowed


_ALLOWED = _allowed_globals()
# torch.Tensor is named only as _rebuild_from_type_v2's type: calling it from a file could
# allocate any size the file names (torch.Tensor(2**40)).
_CALLABLE = {id(value) for value in _ALLOWED.values() if callable(value) and value is not Tensor}
_CLASSES = (collections.OrderedDict, collections.Counter, set, complex, Size)


class RestrictedUnpickler(pickle._Unpickler):
    """Unpickles ``data.pkl``; ``load_storage(storage_type, key, location, numel)`` reads a
    storage record (given by the reader)."""

    def __init__(self, file, load_storage) -> None:
        super().__init__(file, encoding="ASCII")
        self._load_storage = load_storage

    def find_class(self, module: str, name: str):
        if (module, name) in NAME_MAPPING:  # protocol 2's Python 2 names, as pickle maps them
            module, name = NAME_MAPPING[(module, name)]
        elif module in IMPORT_MAPPING:
            module = IMPORT_MAPPING[module]
        full_path = f"{module}.{name}"
        if full_path in _ALLOWED:
            return _ALLOWED[full_path]
        if module in _BLOCKED_MODULES:
            raise weights_only_error(
                f"Trying to load unsupported GLOBAL {full_path} whose module {module} is blocked."
            )
        if module == "torch._utils" and name in _UNSUPPORTED_REBUILDS:
            raise weights_only_error(
                f"GLOBAL {full_path} builds a {_UNSUPPORTED_REBUILDS[name]} tensor, which "
                "gradienti does not have."
            )
        if module == "torch" and name in _MISSING_DTYPES:
            raise RuntimeError(
                f"gradienti.load: the checkpoint holds the dtype torch.{name}, which gradienti "
                "does not support"
            )
        if full_path.startswith("builtins."):
            full_path = full_path.removeprefix("builtins.")
        raise weights_only_error(
            f"Unsupported global: GLOBAL {full_path} was not an allowed global by default."
        )

    def persistent_load(self, pid):
        if (
            not isinstance(pid, tuple)
            or len(pid) != 5
            or pid[0] != "storage"
            or not isinstance(pid[1], StorageType)
            or not isinstance(pid[2], str)
            or not isinstance(pid[3], str)
            or not _is_count(pid[4])
        ):
            raise weights_only_error("unsupported persistent id encountered")
        return self._load_storage(*pid[1:])

    def load_reduce(self):
        args = self.stack.pop()
        func = self.stack[-1]
        if id(func) not in _CALLABLE or not isinstance(args, tuple):
            raise weights_only_error(
                f"Trying to call reduce for unrecognized function {func!r:.80}"
            )
        if func is Size:
            _check_size_items(args)
        self.stack[-1] = func(*args)

    def load_newobj(self):
        args = self.stack.pop()
        cls = self.stack.pop()
        if cls not in _CLASSES or not isinstance(args, tuple):
            raise weights_only_error(
                f"Can only create new object for allowed classes, not {cls!r:.80}"
            )
        if cls is Size:
            _check_size_items(args)
        self.append(cls.__new__(cls, *args))

    def load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if type(inst) is not collections.OrderedDict or not isinstance(state, dict):
            raise weights_only_error(
                f"Can only build Tensor, Parameter or OrderedDict, but got {type(inst)}"
            )
        if not all(isinstance(key, str) for key in state):
            raise weights_only_error("an OrderedDict's attributes must have str names")
        inst.__dict__.update(state)

    # Items go only into the containers that hold them, as in PyTorch's weights-only
    # unpickler: SETITEM on a loaded tensor would write into it, and pickle's APPENDS/ADDITEMS
    # call whatever .extend/.append/.add method the object on the stack has.
    def load_setitem(self):
        self._check_set_item_target("SETITEM", self.stack[-3])
        super().load_setitem()

    def load_setitems(self):
        self._check_set_item_target("SETITEMS", self.metastack[-1][-1])
        super().load_setitems()

    def load_append(self):
        if type(self.stack[-2]) is not list:
            raise weights_only_error(f"Can only append to lists, but got {type(self.stack[-2])}")
        super().load_append()

    def load_appends(self):
        if type(self.metastack[-1][-1]) is not list:
            raise weights_only_error(
                f"Can only extend lists, but got {type(self.metastack[-1][-1])}"
            )
        super().load_appends()

    def load_additems(self):
        if type(self.metastack[-1][-1]) is not set:
            raise weights_only_error(
                f"Can only add items to sets, but got {type(self.metastack[-1][-1])}"
            )
        super().load_additems()

    @staticmethod
    def _check_set_item_target(opcode: str, target) -> None:
        if type(target) not in (dict, collections.OrderedDict, collections.Counter):
            raise weights_only_error(
                f"Can only {opcode} for dict, collections.OrderedDict, "
                f"collections.Counter, but got {type(target)}"
            )

    def _refuse(self):
        raise weights_only_error("Unsupported operand (an opcode that builds or looks up objects)")

    dispatch = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.REDUCE[0]] = load_reduce
    dispatch[pickle.NEWOBJ[0]] = load_newobj
    dispatch[pickle.BUILD[0]] = load_build
    dispatch[pickle.SETITEM[0]] = load_setitem
    dispatch[pickle.SETITEMS[0]] = load_setitems
    dispatch[pickle.APPEND[0]] = load_append
    dispatch[pickle.APPENDS[0]] = load_appends
    dispatch[pickle.ADDITEMS[0]] = load_additems
    for _opcode in (
        pickle.NEWOBJ_EX,
        pickle.INST,
        pickle.OBJ,
        pickle.EXT1,
        pickle.EXT2,
        pickle.EXT4,
    ):
        dispatch[_opcode[0]] = _refuse
    del _opcode
