"""``as_tensor``, ``from_numpy`` and ``Tensor.numpy()`` share memory with NumPy exactly where
PyTorch's do (same dtype on the CPU: shared; a dtype change or a list: copied), with writes
seen through both, and PyTorch's errors and warning for arrays it cannot share."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

MODULES = [gradienti, torch]


def error_of(call):
    with pytest.raises(Exception) as info:
        call()
    return type(info.value), str(info.value)


def _sharing(module, make_source, convert) -> tuple:
    """(shares memory?, write to the source seen?, write to the tensor seen?, dtype) of one
    conversion; the dtype as PyTorch spells it."""
    source = make_source()
    t = convert(module, source)
    shares = np.shares_memory(t.numpy(), source)
    source[...] = 3
    seen_by_tensor = bool((t == 3).all())
    t.fill_(5)
    seen_by_source = bool((source == 5).all())
    return shares, seen_by_tensor, seen_by_source, str(t.dtype)


CONVERSIONS = {
    "as_tensor": lambda m, a: m.as_tensor(a),
    "as_tensor same dtype": lambda m, a: m.as_tensor(a, dtype=m.float64),
    "as_tensor cpu": lambda m, a: m.as_tensor(a, device="cpu"),
    "as_tensor other dtype": lambda m, a: m.as_tensor(a, dtype=m.float32),
    "from_numpy": lambda m, a: m.from_numpy(a),
    "tensor": lambda m, a: m.tensor(a),
}
SOURCES = {
    "matrix": lambda: np.arange(6.0).reshape(2, 3),
    "0-d": lambda: np.array(2.0),
    "transposed": lambda: np.arange(6.0).reshape(2, 3).T,
    "stepped": lambda: np.arange(12.0)[::3],
}


@pytest.mark.parametrize("conversion", CONVERSIONS)
@pytest.mark.parametrize("source", SOURCES)
def test_sharing_with_numpy_is_torchs(conversion, source):
    convert, make_source = CONVERSIONS[conversion], SOURCES[source]
    expected = _sharing(torch, make_source, convert)
    assert _sharing(gradienti, make_source, convert) == expected


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_numpy_of_a_tensor_shares_its_memory(module):
    t = module.zeros(2, 3)
    array = t.numpy()
    assert np.shares_memory(array, t.numpy())
    array[1, 2] = 4.0
    assert t[1, 2].item() == 4.0
    t.add_(1)
    assert array[0, 0] == 1.0


def test_a_list_is_copied_and_a_tensor_is_returned_as_it_is():
    for module in MODULES:
        values = [1.0, 2.0]
        t = module.as_tensor(values)
        values[0] = 9.0
        assert t.tolist() == [1.0, 2.0]
        leaf = module.ones(2, requires_grad=True)
        assert module.as_tensor(leaf) is leaf
        assert module.as_tensor(leaf, dtype=module.float32) is leaf
    converted = gradienti.as_tensor(gradienti.ones(2, requires_grad=True), dtype=gradienti.float64)
    expected = torch.as_tensor(torch.ones(2, requires_grad=True), dtype=torch.float64)
    assert type(converted.grad_fn).__name__ == type(expected.grad_fn).__name__
    assert str(converted.dtype) == str(expected.dtype)


def test_a_broadcast_array_is_shared_with_zero_strides():
    source = np.broadcast_to(np.arange(3.0), (2, 3))
    for module in MODULES:
        t = module.as_tensor(source)
        assert np.shares_memory(t.numpy(), source)
        assert t.stride() == (0, 1)


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.as_tensor(np.arange(3.0)[::-1]),
        lambda m: m.as_tensor(np.arange(3.0)[::-1], dtype=m.float32),
        lambda m: m.from_numpy(np.arange(6.0).reshape(2, 3)[:, ::-1]),
        lambda m: m.as_tensor(np.zeros(2, ">f4")),
        lambda m: m.from_numpy(np.zeros(2, ">f8")),
        lambda m: m.from_numpy(np.zeros(3, ">f4")[::-1]),
        lambda m: m.from_numpy([1.0]),
    ],
    ids=[
        "negative",
        "negative, dtype",
        "negative column",
        "byte order",
        "from_numpy order",
        "order and negative",
        "a list",
    ],
)
def test_arrays_pytorch_cannot_share_raise_its_errors(call):
    assert error_of(lambda: call(gradienti)) == error_of(lambda: call(torch))


def test_a_read_only_array_is_shared_with_torchs_warning_once():
    # PyTorch warns once per process: each library in a fresh interpreter
    script = textwrap.dedent(
        """
        import sys, warnings
        import numpy as np
        module = __import__(sys.argv[1])
        warnings.simplefilter("always")
        source = np.arange(3.0)
        source.flags.writeable = False
        with warnings.catch_warnings(record=True) as caught:
            t = module.as_tensor(source)
            module.from_numpy(source)
            module.as_tensor(source, dtype=module.float32)
        print(np.shares_memory(t.numpy(), source), len(caught))
        for warning in caught:
            print(warning.category.__name__, str(warning.message).split(" (Triggered")[0])
        """
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", script, name], capture_output=True, text=True, check=True
        ).stdout
        for name in ("gradienti", "torch")
    ]
    assert outputs[0] == outputs[1]
    assert outputs[0].startswith("True 1\nUserWarning The given NumPy array is not writable")
