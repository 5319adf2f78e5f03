"""F.pad and torch.constant_pad_nd at their edges, against PyTorch: the padding value as c10's
checked_convert takes it into the tensor's type, negative amounts that crop more than there
is, empty and negative output sizes of reflect/replicate, and the order of ATen's checks
(which error a call with two faults gets)."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")


def _outcome(lib, call):
    """The result as (values, dtype name), or the error as (class name, text)."""
    try:
        result = call(lib)
    except Exception as error:  # noqa: BLE001 - the error itself is compared
        return type(error).__name__, str(error)
    return result.tolist(), str(result.dtype).rsplit(".", 1)[-1]


def _pad(dtype, pad, **kwargs):
    return lambda lib: lib.nn.functional.pad(
        lib.arange(6).reshape(2, 3).to(getattr(lib, dtype)), pad, **kwargs
    )


def _constant_pad_nd(dtype, pad, value):
    return lambda lib: lib.constant_pad_nd(
        lib.arange(6).reshape(2, 3).to(getattr(lib, dtype)), pad, value
    )


CALLS = {
    # the value: a float out of range, NaN or ±inf refused for an integral type; a finite one
    # out of range refused for a float type; an int wraps into uint8 down to -255
    "uint8 value -2.0": _pad("uint8", (1, 1), value=-2.0),
    "uint8 value -2 (a float for F.pad)": _pad("uint8", (1, 1), value=-2),
    "uint8 value 256": _pad("uint8", (1, 1), value=256),
    "int32 value inf": _pad("int32", (1, 0), value=float("inf")),
    "int64 value nan": _pad("int64", (0, 1), value=float("nan")),
    "int64 value 1.5 truncates": _pad("int64", (1, 1), value=1.5),
    "int64 value 2**62 + 1 through a double": _pad("int64", (1, 0), value=2**62 + 1),
    "float16 value 1e5": _pad("float16", (1, 1), value=1e5),
    "float16 value inf": _pad("float16", (1, 1), value=float("inf")),
    "float32 value -1e40": _pad("float32", (1, 1), value=-1e40),
    "bool value 2.0": _pad("bool", (1, 1), value=2.0),
    "constant_pad_nd uint8 -2 wraps": _constant_pad_nd("uint8", (1, 1), -2),
    "constant_pad_nd uint8 -256": _constant_pad_nd("uint8", (1, 1), -256),
    "constant_pad_nd int64 2**62 + 1 exact": _constant_pad_nd("int64", (1, 0), 2**62 + 1),
    # a crop beyond the size fails although the padding would give a size of 3
    "crop 3 of 2 then pad 4": _pad("float32", (0, 0, 4, -3)),
    "crop 2 and 2 of 3 then pad 5": _pad("float32", (-2, -2, 0, 0)),
    # reflect/replicate: only every padded size below 1 is "too small"; a size of 0 is an
    # empty result, a negative one fails in the allocation
    "replicate to W 0": lambda lib: lib.nn.functional.pad(
        lib.zeros(1, 2, 3), (-2, -1, 0, 0), mode="replicate"
    ),
    "reflect to H 1 W 0": lambda lib: lib.nn.functional.pad(
        lib.zeros(2, 3, 4), (-3, -1, -1, -1), mode="reflect"
    ),
    "reflect 3d to W 0": lambda lib: lib.nn.functional.pad(
        lib.zeros(1, 2, 2, 3), (-2, -1, 0, 0, 0, 0), mode="reflect"
    ),
    "replicate negative size": lambda lib: lib.nn.functional.pad(
        lib.zeros(4, 2, 1, 1), (-2, -3, -2, -3, 3, 2), mode="replicate"
    ),
    "reflect negative size": lambda lib: lib.nn.functional.pad(
        lib.zeros(2, 4, 2), (-3, -1, -3, 3), mode="reflect"
    ),
    "crop only: the value is not converted": _pad("uint8", (-1, -1), value=-2.0),
    "reflect 2d too small": lambda lib: lib.nn.functional.pad(
        lib.zeros(1, 1, 1), (-1, -1, -1, -1), mode="reflect"
    ),
    "replicate 2d too small": lambda lib: lib.nn.functional.pad(
        lib.zeros(1, 1, 1), (-1, -1, -1, -1), mode="replicate"
    ),
    "reflect 3d too small": lambda lib: lib.nn.functional.pad(
        lib.zeros(1, 1, 1, 1, 1), (-1, -1, -1, -1, -1, -1), mode="reflect"
    ),
    # circular to an empty result, cropping more than the size on one side
    "circular (1, -2) of 1": lambda lib: lib.nn.functional.pad(
        lib.zeros(1, 1), (1, -2), mode="circular"
    ),
    "circular (1, -3) of 2": lambda lib: lib.nn.functional.pad(
        lib.zeros(2, 1, 2), (1, -3), mode="circular"
    ),
    # the amounts: one-element integral tensors are ints (lengths[i]); a whole tensor is not
    "amounts as 0-d int64 tensors": lambda lib: lib.nn.functional.pad(
        lib.zeros(2, 3), (lib.tensor(1), lib.tensor(2, dtype=lib.uint8))
    ),
    "an amount as a 1-element tensor": lambda lib: lib.nn.functional.pad(
        lib.zeros(2, 3), (lib.tensor([1]), 0)
    ),
    "an amount as a float tensor": lambda lib: lib.nn.functional.pad(
        lib.zeros(2, 3), (lib.tensor(1.0), 0)
    ),
    "the amounts as one tensor": lambda lib: lib.nn.functional.pad(
        lib.zeros(2, 3), lib.tensor([1, 1])
    ),
    # the order of the checks
    "reflect bool with too much padding": lambda lib: lib.nn.functional.pad(
        lib.zeros(2, 1, dtype=lib.bool), (2, -1), mode="reflect"
    ),
    "circular wraps twice along H, empties W": lambda lib: lib.nn.functional.pad(
        lib.zeros(1, 1, 2, 3), (-2, -2, 3, 0), mode="circular"
    ),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_pad_edge_matches_torch(name):
    assert _outcome(gradienti, CALLS[name]) == _outcome(torch, CALLS[name])


def test_an_empty_replicate_result_has_a_zero_gradient_as_torch():
    ours = gradienti.ones(1, 2, 3, requires_grad=True)
    theirs = torch.ones(1, 2, 3, requires_grad=True)
    gradienti.nn.functional.pad(ours, (-2, -1, 1, 0), mode="replicate").sum().backward()
    torch.nn.functional.pad(theirs, (-2, -1, 1, 0), mode="replicate").sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_a_refused_value_changes_nothing():
    x = gradienti.arange(3).to(gradienti.uint8)
    with pytest.raises(RuntimeError):
        gradienti.nn.functional.pad(x, (1, 1), value=-1.0)
    assert x.tolist() == [0, 1, 2]
