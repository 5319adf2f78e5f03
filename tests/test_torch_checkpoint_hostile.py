"""Crafted and damaged zip checkpoints: gradienti.load runs no pickle code, refuses what
torch.load(weights_only=True) refuses (pickle.UnpicklingError naming the global), and raises
RuntimeError for a damaged archive, checking every size before it allocates."""

import contextlib
import io
import os
import pickle
import struct
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradienti
from gradienti import _torch_zip_reader

torch = pytest.importorskip("torch")


def _checkpoint(data_pkl: bytes, records=None, prefix="archive", byteorder=b"little", compress=0):
    """A zip checkpoint with ``data_pkl`` and ``records`` ({name: bytes}) under ``prefix``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compress) as archive:
        archive.writestr(f"{prefix}/data.pkl", data_pkl)
        if byteorder is not None:
            archive.writestr(f"{prefix}/byteorder", byteorder)
        for name, data in (records or {}).items():
            archive.writestr(f"{prefix}/data/{name}", data)
        archive.writestr(f"{prefix}/version", b"3\n")
    return buffer.getvalue()


def _text(value: str) -> bytes:
    encoded = value.encode()
    return b"X" + struct.pack("<I", len(encoded)) + encoded


def _int(value: int) -> bytes:
    return b"\x8a\x08" + struct.pack("<q", value)


def _tuple(values) -> bytes:
    return b"(" + b"".join(_int(v) for v in values) + b"t"


def _tensor_pickle(numel, size, stride, offset=0, location="cpu", storage="FloatStorage"):
    """data.pkl of one tensor: _rebuild_tensor_v2 on storage "0", as torch.save writes it."""
    persistent = (
        b"(" + _text("storage") + f"ctorch\n{storage}\n".encode() + _text("0")
        + _text(location) + _int(numel) + b"tQ"
    )  # fmt: skip
    return (
        b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(" + persistent + _int(offset)
        + _tuple(size) + _tuple(stride) + b"\x89ccollections\nOrderedDict\n)RtR."
    )  # fmt: skip


def _both_refuse(tmp_path, raw: bytes, match: str):
    """gradienti (with either weights_only) and torch (weights_only=True) refuse ``raw`` with
    pickle.UnpicklingError whose message contains ``match``."""
    path = tmp_path / "crafted.pt"
    path.write_bytes(raw)
    for weights_only in (True, False):
        with pytest.raises(pickle.UnpicklingError, match=match) as ours:
            gradienti.load(path, weights_only=weights_only)
        assert "never runs code from a file" in str(ours.value)
    with pytest.raises(pickle.UnpicklingError, match=match):
        torch.load(path, weights_only=True)


class _RunsACommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _Custom:
    pass


# ------------------------------------------------------------------------ pickle code
def test_a_pickle_that_calls_os_system_does_not_run(tmp_path):
    marker = tmp_path / "marker"
    payload = pickle.dumps({"w": _RunsACommand(marker)}, protocol=2)
    module = os.system.__module__  # "posix" here
    _both_refuse(tmp_path, _checkpoint(payload), f"GLOBAL {module}.system whose module .* blocked")
    assert not marker.exists()


def test_eval_and_custom_classes_are_unsupported_globals(tmp_path):
    evil = b"\x80\x02c__builtin__\neval\n" + _text("1+1") + b"\x85R."
    _both_refuse(tmp_path, _checkpoint(evil), "Unsupported global: GLOBAL eval was not an allowed")
    custom = pickle.dumps(_Custom(), protocol=2)
    _both_refuse(tmp_path, _checkpoint(custom), f"GLOBAL {__name__}._Custom was not an allowed")


def test_build_and_reduce_apply_only_where_torch_allows(tmp_path):
    # BUILD on a dtype would set attributes on the shared gradienti.float32
    build = b"\x80\x02ctorch\nfloat32\n}(" + _text("itemsize") + b"K\x01ub."
    _both_refuse(tmp_path, _checkpoint(build), "Can only build")
    assert gradienti.float32.itemsize == 4
    # REDUCE on what an allowed call returned (an OrderedDict) is not a call torch allows
    reduce = b"\x80\x02ccollections\nOrderedDict\n)R)R."
    _both_refuse(tmp_path, _checkpoint(reduce), "Trying to call reduce for unrecognized function")
    # a storage id that is not ("storage", type, key, location, numel): torch words it its way
    path = tmp_path / "persistent.pt"
    path.write_bytes(_checkpoint(b"\x80\x02(" + _text("anything") + b"tQ."))
    with pytest.raises(pickle.UnpicklingError, match="unsupported persistent id encountered"):
        gradienti.load(path)
    with pytest.raises(pickle.UnpicklingError, match="persistent_load"):
        torch.load(path, weights_only=True)


def test_opcodes_torch_refuses_are_refused(tmp_path):
    inst = b"(i__builtin__\nset\n."  # protocol 0's INST: build a class instance
    path = tmp_path / "inst.pt"
    path.write_bytes(_checkpoint(inst))
    with pytest.raises(pickle.UnpicklingError, match="Unsupported operand"):
        gradienti.load(path)
    with pytest.raises(pickle.UnpicklingError, match="Unsupported operand"):
        torch.load(path, weights_only=True)
    codec = b"\x80\x02c_codecs\nencode\n" + _text("eJwLAQAA") + _text("base64") + b"\x86R."
    path.write_bytes(_checkpoint(codec))
    with pytest.raises(pickle.UnpicklingError, match="only for latin-1 text"):
        gradienti.load(path)


def test_a_deeply_nested_pickle_loads_without_recursing(tmp_path):
    depth = 100_000
    nested = b"\x80\x02" + b"]" * depth + b"a" * (depth - 1) + b"."
    path = tmp_path / "deep.pt"
    path.write_bytes(_checkpoint(nested))
    value, levels = gradienti.load(path), 1
    while value:
        value, levels = value[0], levels + 1
    assert levels == depth


# ------------------------------------------------------------------------ damaged archives
def test_truncated_and_foreign_files(tmp_path):
    buffer = io.BytesIO()
    gradienti.save({"w": gradienti.ones(100)}, buffer)
    for cut in (len(buffer.getvalue()) // 2, 10, len(buffer.getvalue()) - 5):
        path = tmp_path / f"cut{cut}.pt"
        path.write_bytes(buffer.getvalue()[:cut])
        with pytest.raises(RuntimeError, match="PytorchStreamReader failed reading zip archive"):
            gradienti.load(path)
        with pytest.raises(RuntimeError, match="PytorchStreamReader failed reading zip archive"):
            torch.load(path, weights_only=True)
    (tmp_path / "text.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(RuntimeError, match="invalid safetensors file"):
        gradienti.load(tmp_path / "text.pt")


def test_sizes_are_checked_before_anything_is_allocated(tmp_path):
    sixteen = np.arange(4, dtype="<f4").tobytes()
    cases = [
        (_tensor_pickle(10**15, (10**15,), (1,)), "has 16 bytes but its storage needs"),
        (_tensor_pickle(4, (3, 2), (2, 1)), "reaches element 5 of a storage of 4 elements"),
        (_tensor_pickle(4, (2,), (1,), offset=3), "reaches element 4"),
        (_tensor_pickle(4, (2,), (-1,), offset=3), "malformed offset"),
    ]
    path = tmp_path / "sizes.pt"
    for data_pkl, match in cases:
        path.write_bytes(_checkpoint(data_pkl, {"0": sixteen}))
        with pytest.raises(RuntimeError, match=match):
            gradienti.load(path)
    path.write_bytes(_checkpoint(_tensor_pickle(4, (4,), (1,))))  # no data/0 record
    with pytest.raises(RuntimeError, match="failed locating file data/0"):
        gradienti.load(path)
    path.write_bytes(_checkpoint(_tensor_pickle(4, (2, 2), (1, 2)), {"0": sixteen}))
    assert gradienti.load(path).tolist() == [[0.0, 2.0], [1.0, 3.0]]


def test_huge_or_compressed_records_are_refused(tmp_path, monkeypatch):
    path = tmp_path / "records.pt"
    path.write_bytes(_checkpoint(_tensor_pickle(4, (4,), (1,)), {"0": bytes(16)}, compress=8))
    with pytest.raises(RuntimeError, match="is compressed"):
        gradienti.load(path)
    monkeypatch.setattr(_torch_zip_reader, "MAX_PICKLE_BYTES", 64)
    path.write_bytes(_checkpoint(b"\x80\x02" + _text("x" * 100) + b"."))
    with pytest.raises(RuntimeError, match="data.pkl declares 108 bytes, more than"):
        gradienti.load(path)


def test_bool_storage_with_other_bytes_is_refused(tmp_path):
    path = tmp_path / "bool.pt"
    path.write_bytes(
        _checkpoint(_tensor_pickle(2, (2,), (1,), storage="BoolStorage"), {"0": b"\x01\x02"})
    )
    with pytest.raises(RuntimeError, match="non-0/1 bytes"):
        gradienti.load(path)


def test_record_names_are_never_paths_on_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = np.array([1.5, -2.0], "<f4").tobytes()
    raw = _checkpoint(
        _tensor_pickle(2, (2,), (1,)), {"0": data}, prefix=".."
    )  # records "../data.pkl"...
    (tmp_path / "names.pt").write_bytes(raw)
    assert gradienti.load("names.pt").tolist() == [1.5, -2.0]
    assert torch.load("names.pt", weights_only=True).tolist() == [1.5, -2.0]
    assert os.listdir(tmp_path) == ["names.pt"]


# ------------------------------------------------------------------------ byte order, devices
def test_a_big_endian_checkpoint_is_swapped_as_torch_does(tmp_path):
    values = np.array([1.5, -2.0, 3.25], ">f8")
    raw = _checkpoint(
        _tensor_pickle(3, (3,), (1,), storage="DoubleStorage"),
        {"0": values.tobytes()},
        byteorder=b"big",
    )
    (tmp_path / "big.pt").write_bytes(raw)
    ours = gradienti.load(tmp_path / "big.pt")
    theirs = torch.load(tmp_path / "big.pt", weights_only=True)
    assert ours.tolist() == theirs.tolist() == [1.5, -2.0, 3.25]
    assert ours.dtype == gradienti.float64


def test_a_checkpoint_saved_on_cuda_needs_map_location(tmp_path):
    data = np.array([1.0, 2.0], "<f4").tobytes()
    path = tmp_path / "cuda.pt"
    path.write_bytes(_checkpoint(_tensor_pickle(2, (2,), (1,), location="cuda:0"), {"0": data}))
    with pytest.raises(RuntimeError) as ours:
        gradienti.load(path)
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError) as theirs:
            torch.load(path, weights_only=True)
        assert str(ours.value) == str(theirs.value)
    assert gradienti.load(path, map_location="cpu").tolist() == [1.0, 2.0]
    assert gradienti.load(path, map_location=gradienti.device("cpu")).tolist() == [1.0, 2.0]


def test_legacy_and_empty_archives(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="legacy .* format"):
        gradienti.load(tmp_path / "legacy.pt")
    buffer = io.BytesIO()
    zipfile.ZipFile(buffer, "w").close()
    with pytest.raises(RuntimeError, match="PytorchStreamReader failed reading zip archive"):
        gradienti.load(io.BytesIO(b"PK\x03\x04" + buffer.getvalue()[4:]))


# ------------------------------------------------------------------------ fuzzed bytes
def _a_checkpoint() -> bytes:
    model = gradienti.nn.Linear(3, 2)
    optimizer = gradienti.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(gradienti.ones(1, 3)).sum().backward()
    optimizer.step()
    buffer = io.BytesIO()
    gradienti.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, buffer)
    return buffer.getvalue()


_CHECKPOINT = _a_checkpoint()


def _records_of(raw: bytes) -> dict:
    archive = zipfile.ZipFile(io.BytesIO(raw))
    return {name.split("/", 1)[1]: archive.read(name) for name in archive.namelist()}


_RECORDS = _records_of(_CHECKPOINT)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(
        st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8
    ),
    cut=st.one_of(st.none(), st.floats(0, 1)),
    in_pickle=st.booleans(),
)
def test_damaged_checkpoints_load_or_raise_the_documented_errors(edits, cut, in_pickle):
    """Bytes of the archive, or of data.pkl inside a valid archive, changed or cut short."""
    raw = bytearray(_RECORDS["data.pkl"] if in_pickle else _CHECKPOINT)
    for where, value in edits:
        raw[int(where * len(raw))] = value
    raw = bytes(raw[: None if cut is None else int(cut * len(raw))])
    if in_pickle:
        storages = {
            k.removeprefix("data/"): v for k, v in _RECORDS.items() if k.startswith("data/")
        }
        raw = _checkpoint(raw, storages)
    with contextlib.suppress(RuntimeError, pickle.UnpicklingError, EOFError):  # (EOF: cut to 0)
        gradienti.load(io.BytesIO(raw))


def test_an_untyped_storage_read_through_rebuild_tensor_v3(tmp_path):
    persistent = (
        b"(" + _text("storage") + b"ctorch.storage\nUntypedStorage\n" + _text("0")
        + _text("cpu") + _int(12) + b"tQ"
    )  # fmt: skip
    data_pkl = (
        b"\x80\x02ctorch._utils\n_rebuild_tensor_v3\n(" + persistent + _int(1) + _tuple([2])
        + _tuple([1]) + b"\x89ccollections\nOrderedDict\n)Rctorch\nfloat32\ntR."
    )  # fmt: skip
    path = tmp_path / "v3.pt"
    path.write_bytes(_checkpoint(data_pkl, {"0": np.array([9.0, 1.5, -2.0], "<f4").tobytes()}))
    # offset 1 element of float32, in a storage of 12 bytes
    assert torch.load(path, weights_only=True).tolist() == [1.5, -2.0]
    loaded = gradienti.load(path)
    assert loaded.tolist() == [1.5, -2.0] and loaded.dtype == gradienti.float32


def test_a_bytearray_of_a_huge_size_is_not_allocated(tmp_path):
    huge = b"\x80\x02c__builtin__\nbytearray\n" + _int(2**40) + b"\x85R."
    path = tmp_path / "bytearray.pt"
    path.write_bytes(_checkpoint(huge))
    with pytest.raises(pickle.UnpicklingError, match="bytearray is allowed only from bytes"):
        gradienti.load(path)
    text = b"\x80\x02c__builtin__\nbytearray\n" + _text("ab") + _text("latin-1") + b"\x86R."
    path.write_bytes(_checkpoint(text))
    assert gradienti.load(path) == bytearray(b"ab") == torch.load(path, weights_only=True)


def test_items_go_only_into_the_containers_torch_fills(tmp_path):
    # SETITEM on a loaded tensor would write into it (torch refuses the file); APPENDS and
    # ADDITEMS would call the .extend/.append/.add method of whatever object is on the stack.
    tensor = _tensor_pickle(4, [4], [1])[:-1]  # (without STOP)
    records = {"0": struct.pack("<4f", 1, 2, 3, 4)}
    setitem = tensor + b"K\x00G" + struct.pack(">d", 9.0) + b"s."
    path = tmp_path / "setitem.pt"
    path.write_bytes(_checkpoint(setitem, records))
    for raw, match in [
        (setitem, "Can only SETITEM for dict, collections.OrderedDict, collections.Counter"),
        (tensor + b"(K\x00K\x01u.", "Can only SETITEMS for dict"),
        (tensor + b"K\x01a.", "Can only append to lists"),
        (tensor + b"(K\x01e.", "Can only extend lists"),
    ]:
        _both_refuse(tmp_path, _checkpoint(raw, records), match)
    additems = b"\x80\x04" + tensor[2:] + b"(K\x01\x90."
    path.write_bytes(_checkpoint(additems, records))
    with pytest.raises(pickle.UnpicklingError, match="Can only add items to sets"):
        gradienti.load(path)
    # the containers themselves still fill
    fills = b"\x80\x02}K\x01K\x02s(K\x03K\x04u]K\x05a(K\x06eccollections\nCounter\n)R(K\x07K\x01u"
    path.write_bytes(_checkpoint(fills + b"\x87."))
    assert gradienti.load(path) == torch.load(path, weights_only=True)


def test_torch_tensor_is_gradienti_tensor_and_is_never_called(tmp_path):
    path = tmp_path / "tensor_type.pt"
    path.write_bytes(_checkpoint(b"\x80\x02ctorch\nTensor\n."))
    assert gradienti.load(path) is gradienti.Tensor
    assert torch.load(path, weights_only=True) is torch.Tensor
    # torch would call torch.Tensor(2**40): an allocation the file chooses
    called = _checkpoint(b"\x80\x02ctorch\nTensor\n(" + _int(2**40) + b"tR.")
    path.write_bytes(called)
    with pytest.raises(pickle.UnpicklingError, match="Trying to call reduce"):
        gradienti.load(path)


@pytest.mark.parametrize("opcode", [b"R", b"\x81"])  # REDUCE, NEWOBJ
def test_a_size_of_other_than_ints_is_refused_as_torch_refuses_it(tmp_path, opcode):
    path = tmp_path / "size.pt"
    path.write_bytes(_checkpoint(b"\x80\x02ctorch\nSize\n((" + _text("a") + b"tt" + opcode + b"."))
    message = "torch.Size\\(\\) takes an iterable of 'int' \\(item 0 is 'str'\\)"
    with pytest.raises(pickle.UnpicklingError, match=message):
        gradienti.load(path)
    with pytest.raises(TypeError, match=message):
        torch.load(path, weights_only=True)
    path.write_bytes(_checkpoint(b"\x80\x02ctorch\nSize\n(" + _text("ab") + b"t" + opcode + b"."))
    with pytest.raises(pickle.UnpicklingError, match=message):
        gradienti.load(path)
    ints = b"(K\x02J" + struct.pack("<i", -5) + b"t"
    path.write_bytes(_checkpoint(b"\x80\x02ctorch\nSize\n(" + ints + b"t" + opcode + b"."))
    assert gradienti.load(path) == torch.load(path, weights_only=True) == (2, -5)


@pytest.mark.parametrize("requires_grad", [True, False])
def test_rebuild_from_type_v2_gives_the_type_it_names(tmp_path, requires_grad):
    storage = (
        b"(" + _text("storage") + b"ctorch\nFloatStorage\n" + _text("0") + _text("cpu")
        + _int(4) + b"tQ"
    )  # fmt: skip
    flag = b"\x88" if requires_grad else b"\x89"
    args = (
        b"(" + storage + _int(0) + _tuple([4]) + _tuple([1]) + flag
        + b"ccollections\nOrderedDict\n)Rt"
    )  # fmt: skip
    raw = (
        b"\x80\x02ctorch._tensor\n_rebuild_from_type_v2\n(ctorch._utils\n_rebuild_tensor_v2\n"
        b"ctorch.nn.parameter\nParameter\n" + args + b"}tR."
    )
    path = tmp_path / "from_type.pt"
    path.write_bytes(_checkpoint(raw, {"0": struct.pack("<4f", 1, 2, 3, 4)}))
    ours, theirs = gradienti.load(path), torch.load(path, weights_only=True)
    assert type(theirs) is torch.nn.Parameter and theirs.requires_grad is requires_grad
    assert type(ours) is gradienti.nn.Parameter and ours.requires_grad is requires_grad
    assert ours.tolist() == theirs.tolist() == [1, 2, 3, 4]
