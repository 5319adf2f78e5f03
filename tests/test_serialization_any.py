"""``save``/``load`` of what PyTorch's ``save`` takes and its weights-only ``load`` gives back
(numbers, strings, None, bytes, complex, lists/tuples/dicts/sets/OrderedDicts with tensors
inside, keys that are not strings, Size, dtype, device) through a file object (PyTorch's zip
format), plus NumPy arrays and scalars through a '.safetensors' path: the same structure and
types as torch's round trip. Crafted files raise a clear RuntimeError and run nothing; a failed
save writes nothing."""

import collections
import io
import json
import os
import pickle
import struct

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")


def _make(lib):
    """The same structure built with ``lib`` (gradienti or torch)."""
    weight = lib.tensor([[1.5, -2.0], [0.25, 3.0]])
    steps = lib.tensor([3, 1], dtype=lib.int64)
    return {
        "model": collections.OrderedDict(weight=weight, bias=lib.tensor([0.5, -0.5])),
        "optimizer": {"state": {0: {"step": steps, "exp_avg": lib.zeros(2)}}, "lr": 1e-3},
        "epoch": 7,
        "loss": float("nan"),
        "best": float("inf"),
        "flags": [True, False, None],
        "name": "char-mlp",
        "history": (0.5, 0.25, [1, 2, (3, "x")]),
        "vocab": {"a": 0, "b": 1},
        "itos": {0: "a", 1: "b"},
        "pairs": {(1, 2): "tuple key", 1.5: "float key", None: "none key"},
        "seen": {1, 2, (3, 4)},
        "raw": b"\x00\xffbytes",
        "buffer": bytearray(b"buf"),
        "z": 1 + 2j,
        "shape": lib.Size([2, 3]),
        "dtype": lib.float64,
        "device": lib.device("cpu"),
        "empty": [[], {}, ()],
    }


def _portable(value):
    """A value with tensors as (dtype name, values) and gradienti/torch types by name, to
    compare both libraries' results."""
    if isinstance(value, (gradienti.Tensor, torch.Tensor)):
        return ("tensor", str(value.dtype).removeprefix("torch."), value.tolist())
    if isinstance(value, (gradienti.Size, torch.Size)):
        return ("Size", list(value))
    if isinstance(value, (gradienti.dtype, torch.dtype)):
        return ("dtype", str(value))
    if isinstance(value, (gradienti.device, torch.device)):
        return ("device", repr(value))
    if isinstance(value, dict):
        return (type(value).__name__, [(_portable(k), _portable(v)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [_portable(v) for v in value])
    if isinstance(value, set):
        return ("set", sorted(map(repr, value)))
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def _round_trip(lib, obj, **load_options):
    buffer = io.BytesIO()
    lib.save(obj, buffer)
    buffer.seek(0)
    return lib.load(buffer, **load_options)


def _safetensors_round_trip(obj, directory):
    """Through a '.safetensors' path: the format that holds NumPy values."""
    path = directory / "numpy.safetensors"
    gradienti.save(obj, path)
    return gradienti.load(path)


def test_round_trip_as_torch_weights_only():
    ours = _round_trip(gradienti, _make(gradienti))
    theirs = _round_trip(torch, _make(torch), weights_only=True)
    assert _portable(ours) == _portable(theirs)
    assert type(ours["model"]) is collections.OrderedDict
    assert type(ours["history"]) is tuple and type(ours["seen"]) is set
    assert type(ours["buffer"]) is bytearray and ours["z"] == 1 + 2j


def test_each_library_reads_the_others_file():
    """gradienti's file read by torch (weights-only) and torch's read by gradienti give what
    each library's own round trip gives."""
    ours = io.BytesIO()
    gradienti.save(_make(gradienti), ours)
    ours.seek(0)
    theirs = io.BytesIO()
    torch.save(_make(torch), theirs)
    theirs.seek(0)
    expected = _portable(_round_trip(torch, _make(torch), weights_only=True))
    assert _portable(torch.load(ours, weights_only=True)) == expected
    assert _portable(gradienti.load(theirs)) == expected


def test_loaded_tensors_are_fresh_leaves():
    """A leaf that requires grad comes back as one, in its own memory, as with torch."""
    original = _make(gradienti)
    original["model"]["weight"].requires_grad_()
    loaded = _round_trip(gradienti, original)
    weight = loaded["model"]["weight"]
    theirs = _round_trip(torch, {"w": torch.ones(2, requires_grad=True)}, weights_only=True)
    assert weight.requires_grad == theirs["w"].requires_grad == True  # noqa: E712
    assert weight.is_leaf and theirs["w"].is_leaf
    values = weight.detach()
    values += 1  # its own memory
    assert original["model"]["weight"].tolist()[0][0] == 1.5


@pytest.mark.parametrize(
    "array",
    [
        np.arange(6, dtype=np.float32).reshape(2, 3),
        np.array([[1.0, np.nan], [np.inf, -0.0]]),
        np.arange(4, dtype=np.int64)[::2],  # a strided view
        np.array([True, False]),
        np.zeros((0, 3), np.int8),
        np.array(2.5, np.float16),
        np.arange(3, dtype=np.uint8),
        np.arange(3, dtype=np.int16).astype(">i2"),  # big-endian: back in native order
    ],
)
def test_numpy_arrays_come_back_as_numpy(array, tmp_path):
    loaded = _safetensors_round_trip({"a": array, "nested": [array, {"deep": array}]}, tmp_path)
    for value in (loaded["a"], loaded["nested"][0], loaded["nested"][1]["deep"]):
        assert type(value) is np.ndarray
        assert value.dtype == array.dtype.newbyteorder("=")
        assert value.shape == array.shape
        np.testing.assert_array_equal(value, array)
        assert value.flags.writeable


@pytest.mark.parametrize(
    "scalar", [np.float64(1.5), np.float32(-2.25), np.int64(7), np.int32(-3), np.bool_(True)]
)
def test_numpy_scalars_come_back_as_numpy_scalars(scalar, tmp_path):
    loaded = _safetensors_round_trip([scalar], tmp_path)[0]
    assert type(loaded) is type(scalar) and loaded == scalar


def test_single_values_and_a_plain_tensor(tmp_path):
    for value in (3, 2.5, "text", None, True, [1, [2, [3]]], (1,), b"", 1j):
        assert _portable(_round_trip(gradienti, value)) == _portable(value)
        if value != b"":  # torch pickles b"" as builtins.bytes(), which its own loader refuses
            assert _portable(_round_trip(torch, value, weights_only=True)) == _portable(value)
    np.testing.assert_array_equal(_safetensors_round_trip(np.arange(3), tmp_path), np.arange(3))
    tensor = _round_trip(gradienti, gradienti.arange(3))
    assert tensor.tolist() == [0, 1, 2] and tensor.dtype == gradienti.int64


@pytest.mark.parametrize(
    ("obj", "match"),
    [
        ({"w": gradienti.ones(2), "bad": np.zeros(2, np.complex64)}, "NumPy ndarray"),
        ({"w": gradienti.ones(2), "later": [1, 2, object()]}, "cannot save object"),
        ({"w": gradienti.ones(2), "f": frozenset()}, "cannot save frozenset"),
        ({"w": gradienti.ones(2), "k": {("a", object()): 1}}, "key of object"),
    ],
)
def test_a_failed_save_writes_nothing(tmp_path, obj, match):
    existing, fresh = tmp_path / "existing.pt", tmp_path / "fresh.pt"
    existing.write_bytes(b"previous checkpoint")
    for target in (existing, fresh):
        with pytest.raises(TypeError, match=match):
            gradienti.save(obj, target)
    assert existing.read_bytes() == b"previous checkpoint"
    assert sorted(os.listdir(tmp_path)) == ["existing.pt"]


# ---------------------------------------------------------------------- crafted files
def _crafted(root, tensors=None) -> bytes:
    """A safetensors file whose gradienti structure is ``root`` (JSON), with ``tensors``
    ({name: float32 array})."""
    tensors = tensors or {}
    header, data, offset = {}, b"", 0
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array, dtype="<f4").tobytes()
        span = [offset, offset + len(raw)]
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": span}
        data += raw
        offset += len(raw)
    structure = json.dumps({"version": 1, "root": root})
    header["__metadata__"] = {"format": "pt", "gradienti": structure}
    encoded = json.dumps(header).encode()
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + data


HOSTILE = [
    ({"x": 1}, "bad node"),  # an unknown kind
    ({"n": "missing"}, "which the file lacks"),
    ({"ns": "a"}, "NumPy scalar of shape"),
    ({"d": [["k", {"l": [{"v": 1}]}, {"v": 0}]]}, "bad dict key"),  # a list as a key
    ({"S": [{"l": []}]}, "bad node"),  # an unhashable set element
    ({"dt": "float128"}, "bad node"),
    ({"dt": "__class__"}, "bad node"),
    ({"dv": "gpu"}, "bad node"),
    ({"b": "not base64!"}, "bad node"),
    ({"c": ["1", "__import__('os')"]}, "bad node"),
    ({"z": [2, -1]}, "bad node"),
    ({"o": [["k", {"t": "a"}, {"v": 1}]]}, "which the file lacks"),  # a tensor as a key
    ({"d": [["q", "a", {"v": 1}]]}, "bad dict item"),
    ({"l": [{"n": "a"}, {"n": "a"}]}, "twice"),
]


@pytest.mark.parametrize(("root", "match"), HOSTILE)
def test_crafted_files_raise_a_clear_error(tmp_path, root, match):
    path = tmp_path / "crafted.safetensors"
    path.write_bytes(_crafted(root, {"a": np.ones(2)}))
    with pytest.raises(RuntimeError, match=f"invalid safetensors file .*{match}"):
        gradienti.load(path)


def test_load_never_unpickles(tmp_path, monkeypatch):
    """A pickle payload in a file is data: bytes come back as bytes; pickle is never called."""
    calls = []
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: calls.append(a))
    monkeypatch.setattr(pickle, "load", lambda *a, **k: calls.append(a))
    payload = pickle.dumps(collections.OrderedDict(a=1))
    path = tmp_path / "payload.safetensors"
    gradienti.save({"payload": payload, "w": np.ones(2), **_make(gradienti)}, path)
    loaded = gradienti.load(path)
    assert loaded["payload"] == payload and calls == []
