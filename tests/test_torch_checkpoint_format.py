"""PyTorch's zip checkpoint format: gradienti.save writes what torch.load reads, gradienti.load
reads what torch.save writes, with real PyTorch as the oracle (layout, dtypes, sharing, mmap,
optimizer state dicts)."""

import collections
import io
import mmap
import pickle
import zipfile

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

DTYPES = ["float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]
SHAPES = [(), (0,), (3,), (2, 3), (2, 0, 4), (1, 2, 1, 3)]


def _values(shape, name, seed):
    rng = np.random.default_rng(seed)
    raw = rng.normal(0, 40, size=shape)
    if name == "bool":
        return np.asarray(raw > 0)
    return np.asarray(raw).astype(name)


def _save_ours(obj, path):
    gradienti.save(obj, path)
    return torch.load(path, weights_only=True)


def _save_theirs(obj, path, **options):
    torch.save(obj, path)
    return gradienti.load(path, **options)


def _same_tensor(ours, theirs):
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.requires_grad == theirs.requires_grad
    np.testing.assert_array_equal(np.asarray(ours.detach().numpy()), theirs.detach().numpy())


# ------------------------------------------------------------------------ both directions
@pytest.mark.parametrize("name", DTYPES)
def test_every_dtype_and_shape_both_ways(tmp_path, name):
    arrays = {f"t{i}": _values(shape, name, i) for i, shape in enumerate(SHAPES)}
    ours = {key: gradienti.from_numpy(a.copy()) for key, a in arrays.items()}
    theirs = {key: torch.from_numpy(a.copy()) for key, a in arrays.items()}

    read_by_torch = _save_ours(ours, tmp_path / "ours.pt")
    assert type(read_by_torch) is dict and list(read_by_torch) == list(theirs)
    for key in theirs:
        _same_tensor(ours[key], read_by_torch[key])

    read_by_us = _save_theirs(theirs, tmp_path / "theirs.pt")
    for key in theirs:
        _same_tensor(read_by_us[key], theirs[key])

    # gradienti -> torch -> gradienti
    torch.save(read_by_torch, tmp_path / "again.pt")
    back = gradienti.load(tmp_path / "again.pt")
    for key in theirs:
        _same_tensor(back[key], theirs[key])


def test_the_records_are_laid_out_as_torch_writes_them(tmp_path):
    state = collections.OrderedDict(weight=gradienti.ones(2, 3), bias=gradienti.zeros(3))
    gradienti.save(state, tmp_path / "model.pt")
    torch.save(
        collections.OrderedDict(weight=torch.ones(2, 3), bias=torch.zeros(3)),
        tmp_path / "torch_model.pt",
    )
    ours = zipfile.ZipFile(tmp_path / "model.pt")
    theirs = zipfile.ZipFile(tmp_path / "torch_model.pt")
    assert ours.namelist() == [n.replace("torch_model/", "model/") for n in theirs.namelist()]
    for record in (".format_version", ".storage_alignment", "byteorder", "version"):
        assert ours.read(f"model/{record}") == theirs.read(f"torch_model/{record}")
    assert len(ours.read("model/.data/serialization_id")) == 40
    raw = (tmp_path / "model.pt").read_bytes()
    for info in ours.infolist():
        assert info.compress_type == zipfile.ZIP_STORED
        name_length, extra_length = np.frombuffer(
            raw[info.header_offset + 26 : info.header_offset + 30], "<u2"
        )
        assert (info.header_offset + 30 + name_length + extra_length) % 64 == 0
    assert ours.read("model/data/0") == np.ones((2, 3), "<f4").tobytes()
    # protocol 2, as torch.save pickles
    assert ours.read("model/data.pkl")[:2] == b"\x80\x02"
    # a file object's records go under "archive/", as torch.save's do
    buffer = io.BytesIO()
    gradienti.save(state, buffer)
    assert zipfile.ZipFile(buffer).namelist()[0] == "archive/data.pkl"


def test_torch_maps_our_file_into_memory(tmp_path):
    weights = gradienti.arange(24, dtype=gradienti.float32).reshape(4, 6)
    gradienti.save(
        {"w": weights, "v": gradienti.arange(5, dtype=gradienti.int16)}, tmp_path / "m.pt"
    )
    loaded = torch.load(tmp_path / "m.pt", weights_only=True, mmap=True)
    assert loaded["w"].tolist() == weights.tolist() and loaded["v"].tolist() == [0, 1, 2, 3, 4]


def test_equal_saves_give_equal_bytes(tmp_path):
    """torch.save writes a random serialization id; gradienti's comes from the content."""
    state = {"w": gradienti.ones(3), "step": 4}
    gradienti.save(state, tmp_path / "a.pt")
    first = (tmp_path / "a.pt").read_bytes()
    gradienti.save(state, tmp_path / "a.pt")
    assert (tmp_path / "a.pt").read_bytes() == first
    state["step"] = 5
    gradienti.save(state, tmp_path / "a.pt")
    changed = zipfile.ZipFile(tmp_path / "a.pt").read("a/.data/serialization_id")
    assert changed != zipfile.ZipFile(io.BytesIO(first)).read("a/.data/serialization_id")


def test_plain_values_containers_and_special_types_reach_torch(tmp_path):
    ours = {
        "ints": [0, 255, 256, 65535, 65536, -1, -(2**31), 2**31, 2**70, -(2**70)],
        "floats": (0.5, float("inf"), -0.0, 1e-300),
        "text": "∂ naïve",
        "raw": b"\x00\xff",
        "buffer": bytearray(b"ab"),
        "z": 1.5 - 2j,
        "nothing": None,
        "flags": {True, False},
        "keys": {1: "int", (2, "a"): "tuple", None: "none", 2.5: "float"},
        "size": gradienti.Size([2, 3]),
        "dtypes": [getattr(gradienti, name) for name in DTYPES],
        "device": gradienti.device("cpu"),
        "ordered": collections.OrderedDict(b=1, a=2),
        "long": list(range(2500)),  # more than one APPENDS batch
        "wide": {i: i for i in range(2500)},
    }
    theirs = _save_ours(ours, tmp_path / "plain.pt")
    assert theirs["size"] == torch.Size([2, 3]) and type(theirs["size"]) is torch.Size
    assert theirs["dtypes"] == [getattr(torch, name) for name in DTYPES]
    assert theirs["device"] == torch.device("cpu")
    assert type(theirs["ordered"]) is collections.OrderedDict
    for key in ("ints", "floats", "text", "raw", "buffer", "z", "nothing", "flags", "keys"):
        assert theirs[key] == ours[key] and type(theirs[key]) is type(ours[key])
    assert theirs["long"] == ours["long"] and theirs["wide"] == ours["wide"]
    back = gradienti.load(tmp_path / "plain.pt")
    assert back["size"] == ours["size"] and type(back["size"]) is gradienti.Size
    assert back["dtypes"] == ours["dtypes"] and back["device"] == ours["device"]
    for key in ("ints", "floats", "text", "raw", "buffer", "z", "flags", "keys", "long", "wide"):
        assert back[key] == ours[key] and type(back[key]) is type(ours[key])


# ------------------------------------------------------------------------ state dicts
def test_module_state_dicts_both_ways(tmp_path):
    gradienti.manual_seed(0)
    ours = gradienti.nn.Sequential(
        gradienti.nn.Linear(3, 4), gradienti.nn.BatchNorm1d(4), gradienti.nn.Linear(4, 2)
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2)
    )
    loaded = _save_ours(ours.state_dict(), tmp_path / "ours.pt")
    theirs.load_state_dict(loaded)
    x = np.random.default_rng(1).normal(size=(5, 3)).astype(np.float32)
    with gradienti.no_grad():
        want = ours(gradienti.from_numpy(x))
    with torch.no_grad():
        got = theirs(torch.from_numpy(x))
    np.testing.assert_allclose(np.asarray(want.numpy()), got.numpy(), rtol=1e-6, atol=1e-6)

    torch.nn.init.normal_(theirs[0].weight)
    back = _save_theirs(theirs.state_dict(), tmp_path / "theirs.pt")
    assert type(back) is collections.OrderedDict
    assert back._metadata == theirs.state_dict()._metadata  # torch's BUILD of _metadata
    ours.load_state_dict(back)
    assert ours[0].weight.tolist() == theirs[0].weight.tolist()


def test_optimizer_state_dicts_both_ways(tmp_path):
    model = gradienti.nn.Linear(2, 3)
    optimizer = gradienti.optim.Adam(model.parameters(), lr=0.01)
    model(gradienti.ones(4, 2)).pow(2).sum().backward()
    optimizer.step()
    loaded = _save_ours(optimizer.state_dict(), tmp_path / "adam.pt")
    assert loaded["param_groups"][0]["params"] == [0, 1]
    assert loaded["param_groups"][0]["betas"] == (0.9, 0.999)
    assert loaded["state"][0]["step"].dtype == torch.float32 and loaded["state"][0]["step"] == 1
    mirror = torch.nn.Linear(2, 3)
    torch_optimizer = torch.optim.Adam(mirror.parameters(), lr=0.01)
    torch_optimizer.load_state_dict(loaded)
    state = torch_optimizer.state[mirror.weight]
    _same_tensor(optimizer.state[model.weight]["exp_avg_sq"], state["exp_avg_sq"])

    torch.save(torch_optimizer.state_dict(), tmp_path / "torch_adam.pt")
    back = gradienti.load(tmp_path / "torch_adam.pt", weights_only=True)
    assert sorted(back["state"]) == [0, 1]
    _same_tensor(back["state"][1]["exp_avg"], state_of(torch_optimizer, mirror.bias)["exp_avg"])
    gradienti.optim.Adam(model.parameters(), lr=0.01).load_state_dict(back)


def state_of(optimizer, parameter):
    return optimizer.state[parameter]


# ------------------------------------------------------------------------ shared storage
def test_views_saved_by_torch_share_memory_as_in_torch(tmp_path):
    base = torch.arange(24, dtype=torch.float64).reshape(4, 6)
    saved = {
        "base": base,
        "row": base[1],
        "transposed": base.t(),
        "strided": base[::2, 1::3],
        "scalar": base[2, 3],
        "empty": base[4:],
        "tied": base,
    }
    loaded = _save_theirs(saved, tmp_path / "views.pt")
    again = torch.load(tmp_path / "views.pt", weights_only=True)
    for key, value in saved.items():
        _same_tensor(loaded[key], value)
    assert zipfile.ZipFile(tmp_path / "views.pt").namelist().count("views/data/0") == 1
    # one storage: writing through one view shows in the others, in torch and in gradienti
    again["base"][1, 0] = -1.0
    loaded["base"].detach()[1, 0] = -1.0
    assert loaded["row"].tolist() == again["row"].tolist()
    # the same object twice in torch's pickle (its memo) is one object, as torch loads it
    assert again["tied"] is again["base"] and loaded["tied"] is loaded["base"]


def test_tied_and_viewed_tensors_share_one_storage_in_our_file(tmp_path):
    weight = gradienti.randn(4, 3)
    saved = {"encoder": weight, "decoder": weight, "first_row": weight[0], "t": weight.t()}
    theirs = _save_ours(saved, tmp_path / "tied.pt")
    assert [n for n in zipfile.ZipFile(tmp_path / "tied.pt").namelist() if "/data/" in n] == [
        "tied/data/0"
    ]
    storage = theirs["encoder"].untyped_storage().data_ptr()
    for key, value in saved.items():
        _same_tensor(value, theirs[key])
        assert theirs[key].untyped_storage().data_ptr() == storage
    assert theirs["t"].stride() == (1, 3)
    assert theirs["encoder"] is theirs["decoder"]  # one object pickled once, as torch.save does
    back = gradienti.load(tmp_path / "tied.pt")
    assert back["encoder"] is back["decoder"]
    back["first_row"].detach()[0] = 100.0  # one storage in gradienti too
    assert back["encoder"][0, 0].item() == 100.0 and back["t"][0, 0].item() == 100.0


@pytest.mark.parametrize("mapped", [False, True])
def test_views_loaded_from_torch_still_share_one_storage_when_saved_again(tmp_path, mapped):
    # torch.save(torch.load(f)) keeps one storage; gradienti.save of what gradienti.load gave
    # wrote one storage per view, so tied weights came apart in the file it wrote
    base = torch.arange(12.0).reshape(3, 4)
    torch.save({"w": base, "t": base.t(), "row": base[1], "col": base[:, 1]}, tmp_path / "a.pt")
    gradienti.save(gradienti.load(tmp_path / "a.pt", mmap=mapped), tmp_path / "b.pt")
    names = zipfile.ZipFile(tmp_path / "b.pt").namelist()
    assert [n for n in names if "/data/" in n] == ["b/data/0"]
    again = torch.load(tmp_path / "b.pt", weights_only=True)
    again["w"][1, 1] = 100.0
    assert again["row"][1].item() == again["col"][1].item() == again["t"][1, 1].item() == 100.0
    assert again["t"].stride() == (1, 4) and again["col"].stride() == (4,)


def test_unfolded_views_keep_their_storage_and_strides_in_our_file(tmp_path):
    # unfold's array views its tensor through NumPy's stand-in base object; save copied it
    x = gradienti.arange(12.0).reshape(3, 4)
    saved = {"x": x, "windows": x.unfold(1, 2, 1)}
    theirs = _save_ours(saved, tmp_path / "unfold.pt")
    assert [n for n in zipfile.ZipFile(tmp_path / "unfold.pt").namelist() if "/data/" in n] == [
        "unfold/data/0"
    ]
    reference = torch.arange(12.0).reshape(3, 4).unfold(1, 2, 1)
    assert theirs["windows"].stride() == reference.stride()
    assert torch.equal(theirs["windows"], reference)


def test_ints_too_long_for_torch_still_round_trip_in_gradienti(tmp_path):
    # (pickle's LONG4, for ints of over 255 bytes, which torch's weights-only loader refuses)
    gradienti.save({"n": 10**700, "m": -(10**700)}, tmp_path / "long.pt")
    assert gradienti.load(tmp_path / "long.pt") == {"n": 10**700, "m": -(10**700)}


def test_requires_grad_and_parameters_both_ways(tmp_path):
    ours = {
        "leaf": gradienti.ones(2, requires_grad=True),
        "param": gradienti.nn.Parameter(gradienti.zeros(3)),
        "frozen": gradienti.nn.Parameter(gradienti.ones(1), requires_grad=False),
    }
    theirs = _save_ours(ours, tmp_path / "grad.pt")
    assert theirs["leaf"].requires_grad and type(theirs["leaf"]) is torch.Tensor
    assert type(theirs["param"]) is torch.nn.Parameter and theirs["param"].requires_grad
    assert type(theirs["frozen"]) is torch.nn.Parameter and not theirs["frozen"].requires_grad
    back = _save_theirs(theirs, tmp_path / "again.pt")
    assert type(back["param"]) is gradienti.nn.Parameter and back["param"].requires_grad
    assert type(back["frozen"]) is gradienti.nn.Parameter and not back["frozen"].requires_grad
    assert back["leaf"].requires_grad and back["leaf"].is_leaf


# ------------------------------------------------------------------------ formats by content
def test_safetensors_suffix_old_files_and_file_objects(tmp_path):
    state = {"w": gradienti.arange(3, dtype=gradienti.float32)}
    gradienti.save(state, tmp_path / "w.safetensors")
    raw = (tmp_path / "w.safetensors").read_bytes()
    assert raw[:4] != b"PK\x03\x04" and b'"F32"' in raw[:200]
    # an older gradienti's .pt file (safetensors bytes) still loads, told by its content
    (tmp_path / "old.pt").write_bytes(raw)
    assert gradienti.load(tmp_path / "old.pt")["w"].tolist() == [0.0, 1.0, 2.0]
    buffer = io.BytesIO()
    gradienti.save(state, buffer)
    assert buffer.getvalue()[:4] == b"PK\x03\x04"
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True)["w"].tolist() == [0.0, 1.0, 2.0]
    buffer.seek(0)
    assert gradienti.load(buffer, weights_only=False)["w"].tolist() == [0.0, 1.0, 2.0]


def test_a_module_is_refused_with_the_reason(tmp_path):
    with pytest.raises(TypeError, match="never pickles objects.*state_dict\\(\\)"):
        gradienti.save(gradienti.nn.Linear(1, 1), tmp_path / "m.pt")
    assert not (tmp_path / "m.pt").exists()


def test_numpy_values_go_to_safetensors_only(tmp_path):
    with pytest.raises(TypeError, match="NumPy ndarray at object\\['a'\\].*'.safetensors'"):
        gradienti.save({"a": np.ones(2)}, tmp_path / "n.pt")
    assert not (tmp_path / "n.pt").exists()


@pytest.mark.parametrize(
    ("make", "dtype"),
    [
        (lambda: torch.ones(2, dtype=torch.bfloat16), "bfloat16"),
        (lambda: torch.ones(2) * 1j, "complex64"),
    ],
)
def test_dtypes_gradienti_lacks_are_refused_clearly(tmp_path, make, dtype):
    torch.save({"x": make()}, tmp_path / "x.pt")
    with pytest.raises(
        RuntimeError, match=f"dtype torch.{dtype}, which gradienti does not support"
    ):
        gradienti.load(tmp_path / "x.pt")
    torch.save({"d": getattr(torch, dtype)}, tmp_path / "d.pt")
    with pytest.raises(
        RuntimeError, match=f"dtype torch.{dtype}, which gradienti does not support"
    ):
        gradienti.load(tmp_path / "d.pt")


# ------------------------------------------------------------------------ mmap
def _backed_by_a_mapping(t) -> bool:
    owner = t.detach().numpy()
    while owner is not None and not isinstance(owner, mmap.mmap):
        owner = owner.obj if isinstance(owner, memoryview) else getattr(owner, "base", None)
    return owner is not None


def test_mmap_maps_checkpoints_copy_on_write(tmp_path):
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    torch.save(
        {"w": base, "row": base[1], "n": torch.tensor([1, 2], dtype=torch.int16)}, tmp_path / "t.pt"
    )
    gradienti.save({"w": gradienti.ones(3), "w2": gradienti.zeros(2)}, tmp_path / "ours.pt")
    before = (tmp_path / "t.pt").read_bytes()
    mapped = gradienti.load(tmp_path / "t.pt", mmap=True)
    theirs = torch.load(tmp_path / "t.pt", mmap=True, weights_only=True)
    for key in ("w", "row", "n"):
        _same_tensor(mapped[key], theirs[key])
    assert all(_backed_by_a_mapping(mapped[key]) for key in ("w", "row", "n"))
    assert not _backed_by_a_mapping(gradienti.load(tmp_path / "t.pt")["w"])
    values = mapped["w"].detach()
    values[1, 0] = -5.0  # a view of the mapping: the row sees it, the file does not
    assert mapped["row"].tolist() == [-5.0, 5.0, 6.0, 7.0]
    assert (tmp_path / "t.pt").read_bytes() == before
    assert gradienti.load(tmp_path / "ours.pt", mmap=True)["w"].tolist() == [1.0, 1.0, 1.0]
    # safetensors files are read whole; file objects cannot be mapped, as in torch
    gradienti.save({"w": gradienti.ones(2)}, tmp_path / "w.safetensors")
    assert gradienti.load(tmp_path / "w.safetensors", mmap=True)["w"].tolist() == [1.0, 1.0]
    for lib in (gradienti, torch):
        with pytest.raises(ValueError, match="f must be a file path in order to use the mmap"):
            lib.load(io.BytesIO(before), mmap=True)
    with pytest.raises(TypeError, match="mmap must be a bool or None"):
        gradienti.load(tmp_path / "t.pt", mmap="yes")


def test_what_torch_saves_beyond_plain_tensors(tmp_path):
    """Counter and CUDA devices load; tensors with attributes, subclasses and dtypes gradienti
    lacks are refused by name."""
    torch.save({"c": collections.Counter("aab"), "d": torch.device("cuda", 1)}, tmp_path / "a.pt")
    loaded = gradienti.load(tmp_path / "a.pt")
    assert loaded["c"] == collections.Counter("aab") and type(loaded["c"]) is collections.Counter
    assert loaded["d"] == gradienti.device("cuda", 1)
    tagged = torch.ones(2)
    tagged.note = "python attribute"  # saved through _rebuild_from_type_v2 with a state
    torch.save(tagged, tmp_path / "tagged.pt")
    assert torch.load(tmp_path / "tagged.pt", weights_only=True).note == "python attribute"
    with pytest.raises(pickle.UnpicklingError, match="a tensor with Python attributes"):
        gradienti.load(tmp_path / "tagged.pt")
    torch.save(torch.ones(2).as_subclass(_TensorSubclass), tmp_path / "sub.pt")
    with pytest.raises(pickle.UnpicklingError, match=f"GLOBAL {__name__}._TensorSubclass was not"):
        gradienti.load(tmp_path / "sub.pt")
    torch.save(torch.ones(2, dtype=torch.uint16), tmp_path / "u16.pt")
    with pytest.raises(RuntimeError, match="dtype torch.uint16, which gradienti does not support"):
        gradienti.load(tmp_path / "u16.pt")


class _TensorSubclass(torch.Tensor):
    pass


def test_single_tensors_and_scalars_reach_torch(tmp_path):
    cases = {
        "scalar": (gradienti.tensor(2.5), torch.tensor(2.5)),
        "int scalar": (gradienti.tensor(7), torch.tensor(7)),
        "transposed": (
            gradienti.arange(6.0).reshape(2, 3).t(),
            torch.arange(6.0).reshape(2, 3).t(),
        ),
    }
    for name, (ours, theirs) in cases.items():
        loaded = _save_ours(ours, tmp_path / "single.pt")
        _same_tensor(ours, loaded)
        assert torch.equal(loaded, theirs), name
        assert loaded.stride() == theirs.stride()
        _same_tensor(gradienti.load(tmp_path / "single.pt"), theirs)


def test_a_callable_map_location_is_called_with_each_storage_as_torch_calls_it(tmp_path):
    # torch.load(path, map_location=lambda storage, loc: storage): a common idiom for the CPU
    torch.save({"a": torch.ones(2), "b": torch.arange(3)}, tmp_path / "m.pt")
    for mapped in (False, True):
        locations = []

        def keep(storage, location, seen=locations):
            seen.append(location)
            return storage

        loaded = gradienti.load(tmp_path / "m.pt", map_location=keep, mmap=mapped)
        assert loaded["a"].tolist() == [1.0, 1.0] and loaded["b"].tolist() == [0, 1, 2]
        assert locations == ["cpu", "cpu"]
        assert gradienti.load(tmp_path / "m.pt", map_location=lambda s, loc: None)[
            "b"
        ].tolist() == [0, 1, 2]
    with pytest.raises(RuntimeError, match="must return the storage it is given"):
        gradienti.load(tmp_path / "m.pt", map_location=lambda s, loc: 5)
    with pytest.raises(TypeError):
        torch.load(tmp_path / "m.pt", map_location=lambda s, loc: 5, weights_only=True)


@pytest.mark.parametrize("save", [gradienti.save, torch.save], ids=["ours", "torch's"])
def test_two_checkpoints_in_one_stream_load_the_first_as_torch_does(tmp_path, save):
    # zipfile finds the last archive's directory: the first load gave the second checkpoint
    stream = io.BytesIO()
    lib = gradienti if save is gradienti.save else torch
    save(lib.tensor([1.0]), stream)
    second_at = stream.tell()
    save(lib.tensor([2.0]), stream)
    (tmp_path / "two.pt").write_bytes(stream.getvalue())
    stream.seek(0)
    assert gradienti.load(stream).tolist() == [1.0]
    stream.seek(second_at)
    assert gradienti.load(stream).tolist() == [2.0]
    for mapped in (False, True):
        assert gradienti.load(tmp_path / "two.pt", mmap=mapped).tolist() == [1.0]
        assert torch.load(tmp_path / "two.pt", mmap=mapped, weights_only=True).tolist() == [1.0]


def test_end_of_directory_signatures_in_tensor_bytes_are_tried_a_bounded_number_of_times():
    signatures = np.frombuffer(b"PK\x05\x06" * 100_000, dtype=np.uint8).copy()
    stream = io.BytesIO()
    gradienti.save(gradienti.from_numpy(signatures), stream)
    gradienti.save(gradienti.tensor([2.0]), stream)
    stream.seek(0)
    with pytest.raises(RuntimeError, match="failed finding central directory"):
        gradienti.load(stream)  # gives up after a few hundred candidates instead of 100,000
    few = np.frombuffer(b"PK\x05\x06" * 10, dtype=np.uint8).copy()
    stream = io.BytesIO()
    gradienti.save(gradienti.from_numpy(few), stream)
    gradienti.save(gradienti.tensor([2.0]), stream)
    stream.seek(0)
    assert gradienti.load(stream).numpy().tobytes() == b"PK\x05\x06" * 10


def test_a_storage_saved_outside_a_tensor_is_refused_by_name(tmp_path):
    # it came back as the reader's internal Storage object
    ones = torch.ones(2)
    for saved in ({"s": ones.untyped_storage()}, [(ones.storage(),)], ones.untyped_storage()):
        torch.save(saved, tmp_path / "storage.pt")
        torch.load(tmp_path / "storage.pt", weights_only=True)  # torch reads it back
        with pytest.raises(RuntimeError, match="holds a storage outside any tensor"):
            gradienti.load(tmp_path / "storage.pt")
