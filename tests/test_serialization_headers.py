"""gradienti.load on hostile headers, and gradienti.save on structures it cannot write."""

import io
import json
import os
import struct
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gradienti
from gradienti import _safetensors, serialization
from gradienti.serialization import load, save

DIGITS = "7" * 5000  # more digits than Python converts to an int by default (4300)


def _raw_file(header, data=b"", header_text=None):
    text = (header_text if header_text is not None else json.dumps(header)).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def _entry(dtype="F32", shape=(2,), offsets=(0, 8)):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": list(offsets)}


def _structure(root_text, tensors=None, data=b""):
    """A file whose gradienti structure metadata is ``{"version":1,"root":<root_text>}``."""
    meta = {"__metadata__": {"gradienti": '{"version":1,"root":' + root_text + "}"}}
    return _raw_file({**(tensors or {}), **meta}, data)


def _nested_lists(depth):
    return '{"l":[' * depth + '{"v":0}' + "]}" * depth


def _load_error(raw):
    with pytest.raises(RuntimeError, match="invalid safetensors file") as info:
        load(io.BytesIO(raw))
    return str(info.value)


def _safetensors_bytes(obj) -> bytes:
    """What save writes to a '.safetensors' path (a file object gets PyTorch's zip format)."""
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "f.safetensors")
        save(obj, path)
        with open(path, "rb") as file:
            return file.read()


def _a_file():
    int16 = gradienti.int16
    raw = _safetensors_bytes({"a": gradienti.ones(2, 3), "b": gradienti.zeros(5, dtype=int16),
          "c": [1, 2.5, None, "s", (3,), {4: True}], "d": float("nan")})  # fmt: skip
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8 : 8 + n]), raw[8 + n :]


# ------------------------------------------------------------------------- malformed headers
MALFORMED = [
    ("dtype_list", _raw_file({"a": _entry(["F32"])}, bytes(8)), "unknown dtype \\['F32'\\]"),
    ("dtype_object", _raw_file({"a": _entry({"F32": 1})}, bytes(8)), "unknown dtype"),
    ("dtype_null", _raw_file({"a": _entry(None)}, bytes(8)), "unknown dtype None"),
    ("shape_object", _raw_file({"a": {**_entry(), "shape": {"0": 2}}}, bytes(8)), "shape"),
    ("shape_string", _raw_file({"a": {**_entry(), "shape": "2"}}, bytes(8)), "shape '2'"),
    ("shape_null", _raw_file({"a": {**_entry(), "shape": None}}, bytes(8)), "shape None"),
    ("shape_nested", _raw_file({"a": _entry(shape=([2],))}, bytes(8)), "non-negative ints"),
    ("offsets_object", _raw_file({"a": {**_entry(), "data_offsets": {}}}, bytes(8)), "offsets"),
    ("offsets_strings", _raw_file({"a": _entry(offsets=("0", "8"))}, bytes(8)), "data_offsets"),
    ("offsets_floats", _raw_file({"a": _entry(offsets=(0.0, 8.0))}, bytes(8)), "data_offsets"),
    ("offsets_bools", _raw_file({"a": _entry(offsets=(False, True))}, bytes(8)), "data_offsets"),
    ("offsets_one", _raw_file({"a": _entry(offsets=(8,))}, bytes(8)), "data_offsets"),
    ("offsets_huge", _raw_file({"a": _entry(offsets=(0, 2**70))}, bytes(8)), "needs 8 bytes"),
    (
        "offsets_huge_both",
        _raw_file({"a": _entry(offsets=(2**70, 2**70 + 8))}, bytes(8)),
        "gap in the data",
    ),
    (
        "overlap_inside",
        _raw_file(
            {"a": _entry(shape=(4,), offsets=(0, 16)), "b": _entry(offsets=(4, 12))}, bytes(16)
        ),  # fmt: skip
        "overlaps",
    ),
    (
        "shape_huge",
        _raw_file({"a": _entry(shape=(2**64, 2**64), offsets=(0, 8))}, bytes(8)),
        "needs",
    ),
    (
        "shape_product_beyond_repr",  # 64 dimensions of 4001 digits: 256,000 digits of bytes
        _raw_file({"a": _entry(shape=(10**4000,) * 64, offsets=(0, 8))}, bytes(8)),
        "needs <an int of 256001 digits or so> bytes",
    ),
    ("int_digits_shape", _raw_file(None, header_text=f'{{"a": {{"shape": [{DIGITS}]}}}}'), "4300"),
    ("int_digits_key_value", _raw_file(None, header_text=f'{{"a": {DIGITS}}}'), "4300"),
    ("int_digits_structure", _structure(f'{{"v":{DIGITS}}}'), "structure metadata .*4300"),
    (
        "int_digits_dict_key",
        _structure(f'{{"d":[["i",{DIGITS},{{"v":1}}]]}}'),
        "structure metadata .*4300",
    ),
    (
        "structure_one_key_description",
        _raw_file({"__metadata__": {"gradienti": '{"root":{"v":1}}'}}),
        "not a version 1",
    ),  # fmt: skip
    ("structure_empty_node", _structure("{}"), "bad node \\{\\}"),
    ("structure_node_two_keys", _structure('{"v":1,"l":[]}'), "bad node"),
    ("structure_node_in_value", _structure('{"v":{"v":1}}'), "bad node"),
    ("structure_list_of_values", _structure('{"l":[1,2]}'), "bad node 1"),
    ("structure_tensor_name_list", _structure('{"t":["a"]}'), "names tensor \\['a'\\]"),
    ("structure_float_list", _structure('{"f":["nan"]}'), "bad node"),
    ("structure_dict_item_object", _structure('{"d":[{"s":"k"}]}'), "bad dict item"),
    ("structure_dict_key_list", _structure('{"d":[["s",["k"],{"v":1}]]}'), "bad dict item"),
    ("structure_dict_key_bool", _structure('{"d":[["i",true,{"v":1}]]}'), "bad dict item"),
    ("structure_dict_value_raw", _structure('{"d":[["s","k",1]]}'), "bad node 1"),
    (
        "structure_version_list",
        _raw_file({"__metadata__": {"gradienti": '{"version":[1],"root":1}'}}),
        "not a version 1",
    ),  # fmt: skip
    ("structure_deeper_than_limit", _structure(_nested_lists(101)), "nested too deeply"),
]


@pytest.mark.parametrize("raw, match", [c[1:] for c in MALFORMED], ids=[c[0] for c in MALFORMED])
def test_malformed_header_is_the_documented_runtime_error(raw, match):
    with pytest.raises(RuntimeError, match="invalid safetensors file .*" + match):
        load(io.BytesIO(raw))


def test_structure_at_the_depth_limit_loads():
    root = _nested_lists(_safetensors.MAX_DEPTH)  # one more is in MALFORMED
    value = load(io.BytesIO(_structure(root)))
    for _ in range(_safetensors.MAX_DEPTH):
        (value,) = value
    assert value == 0


def test_a_long_name_is_cut_short_in_the_message():
    name = "n" * 1_000_000
    message = _load_error(_raw_file({name: _entry("F99")}, bytes(8)))
    assert "unknown dtype 'F99'" in message and len(message) < 400


def test_many_unmentioned_tensors_are_counted_not_listed():
    tensors = {f"t{i}": _entry(offsets=(8 * i, 8 * i + 8)) for i in range(10_000)}
    message = _load_error(_structure('{"v":1}', tensors, bytes(80_000)))
    assert "does not mention the tensors ['t0', 't1', " in message and len(message) < 400


# A JSON value of any kind, for the fuzzing below.
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "F32", "I16", "BOOL", "nan", "a", "t", "v", "l", "d", "s", "i"]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


def _places(value, path=()):
    """Every (path, value) inside a parsed JSON value, the value itself first."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _places(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places(item, (*path, index))


def _replaced(document, path, replacement):
    document = json.loads(json.dumps(document))
    if not path:
        return replacement
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = replacement
    return document


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), replacement=JSON_VALUES, in_structure=st.booleans())
def test_fuzzed_header_loads_or_raises_the_documented_error(data, replacement, in_structure):
    """Any field of the header or of the structure metadata replaced by any JSON value."""
    header, tensor_bytes = _a_file()
    if in_structure:
        structure = json.loads(header["__metadata__"]["gradienti"])
        path = data.draw(st.sampled_from(list(_places(structure))))
        header["__metadata__"]["gradienti"] = json.dumps(_replaced(structure, path, replacement))
    else:
        path = data.draw(st.sampled_from(list(_places(header))))
        header = _replaced(header, path, replacement)
    try:
        load(io.BytesIO(_raw_file(header, tensor_bytes)))
    except RuntimeError as error:
        assert "invalid safetensors file" in str(error)


# ---------------------------------------------------------------------------- header size
def _big_list_file(header_len):
    body = b'{"__metadata__":{"x":"' + b"0" * 10 + b'"},"a":[' + b"{}," * (header_len // 3)
    body = body[: header_len - 2] + b"]}"
    return struct.pack("<Q", len(body)) + body


def test_a_huge_header_is_refused_before_it_is_parsed(monkeypatch):
    def parse(*args, **kwargs):
        raise AssertionError("the header was parsed")

    raw = _big_list_file(40_000_000)  # 13 million empty objects in a 40 MB header
    monkeypatch.setattr(_safetensors.json, "loads", parse)
    message = _load_error(raw)
    assert f"larger than the limit of {serialization.MAX_HEADER_BYTES} bytes" in message


def test_a_header_of_exactly_the_limit_loads():
    raw = _safetensors_bytes({"w": gradienti.ones(2)})
    (n,) = struct.unpack("<Q", raw[:8])
    padding = serialization.MAX_HEADER_BYTES - n
    big = struct.pack("<Q", n + padding) + raw[8 : 8 + n] + b" " * padding + raw[8 + n :]
    assert np.asarray(load(io.BytesIO(big))["w"].numpy()).tolist() == [1.0, 1.0]
    assert "larger than the limit" in _load_error(
        struct.pack("<Q", n + padding + 8) + raw[8 : 8 + n] + b" " * (padding + 8) + raw[8 + n :]
    )


def test_save_refuses_a_header_that_load_would_refuse(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "MAX_HEADER_BYTES", 4096)
    target = tmp_path / "big.safetensors"
    target.write_bytes(b"keep me")
    many = {f"weight_{i}": gradienti.zeros(1) for i in range(200)}
    with pytest.raises(ValueError, match="more than the 4096 that gradienti.load accepts"):
        save(many, target)
    assert target.read_bytes() == b"keep me" and os.listdir(tmp_path) == ["big.safetensors"]
    save(dict(list(many.items())[:10]), target)  # a smaller one fits
    assert len(load(target)) == 10


# ------------------------------------------------------------------ structures save refuses
def _cycles():
    in_list = []
    in_list.append(in_list)
    in_dict = {"a": {}}
    in_dict["a"]["back"] = in_dict
    through_tuple = [1]
    through_tuple.append((through_tuple,))
    return [
        ("list", in_list, "object\\[0\\] is a list that contains itself"),
        ("dict", in_dict, "object\\['a'\\]\\['back'\\] is a dict that contains itself"),
        ("tuple", through_tuple, "object\\[1\\]\\[0\\] is a list that contains itself"),
    ]


def _deep(depth):
    value = gradienti.ones(1)
    for _ in range(depth):
        value = {"x": [value]}
    return value


@pytest.mark.parametrize(
    "obj, match",
    [(c[1], c[2]) for c in _cycles()]
    + [(_deep(51), "nested more than 100 containers deep"), (_deep(10_000), "more than 100")],
    ids=["cycle_list", "cycle_dict", "cycle_tuple", "deep_102", "deep_20000"],
)
def test_cyclic_or_too_deep_structure_is_a_clear_error(tmp_path, obj, match):
    target = tmp_path / "s.safetensors"
    target.write_bytes(b"keep me")
    with pytest.raises(ValueError, match=match) as info:
        save(obj, target)
    assert not isinstance(info.value, RecursionError)
    assert target.read_bytes() == b"keep me" and os.listdir(tmp_path) == ["s.safetensors"]


def test_shared_but_acyclic_structure_saves_each_copy(tmp_path):
    shared = [gradienti.ones(1), 2]
    obj = {"a": shared, "b": shared, "c": (shared, shared)}
    save(obj, tmp_path / "s.safetensors")
    back = load(tmp_path / "s.safetensors")
    assert back["a"][1] == back["b"][1] == back["c"][1][1] == 2


def test_structure_of_the_deepest_savable_depth_round_trips(tmp_path):
    save(_deep(50), tmp_path / "d.safetensors")  # 100 containers: 50 dicts and 50 lists
    value = load(tmp_path / "d.safetensors")
    for _ in range(50):
        (value,) = value["x"]
    assert np.asarray(value.numpy()).tolist() == [1.0]


def test_an_int_too_long_for_json_is_a_clear_error(tmp_path):
    target = tmp_path / "i.safetensors"
    with pytest.raises(ValueError, match="the int at object\\['big'\\] cannot be saved"):
        save({"big": 10**5000}, target)
    with pytest.raises(ValueError, match="the int at a key of object cannot be saved"):
        save({10**5000: 1}, target)
    assert not target.exists()
    save({"big": int(DIGITS[:4000])}, target)  # long, but within Python's limit
    assert load(target)["big"] == int(DIGITS[:4000])
