"""DLPack exchange (``Tensor.__dlpack__``, ``gradienti.from_dlpack``, ``utils.dlpack``) against
real PyTorch and NumPy: memory is shared both ways (a write through one side is seen by the
other), dtypes, strides, 0-d and empty tensors, and PyTorch's errors for bad input."""

from __future__ import annotations

import gc
import inspect

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64"]


def error_of(call):
    """(exception class, message) of ``call()``, which must raise."""
    with pytest.raises(Exception) as info:
        call()
    return type(info.value), str(info.value)


def _values(dtype_name: str) -> np.ndarray:
    return (np.arange(6).reshape(2, 3) % (2 if dtype_name == "bool" else 5)).astype(dtype_name)


@pytest.mark.parametrize("dtype_name", DTYPES)
def test_torch_from_dlpack_shares_a_gradienti_tensor(dtype_name):
    values = _values(dtype_name)
    t = gradienti.tensor(values)
    x = torch.from_dlpack(t)
    assert x.dtype == getattr(torch, dtype_name)
    assert x.tolist() == values.tolist()
    x[1, 2] = 0  # written in PyTorch, read in gradienti
    assert t[1, 2].item() == 0
    t[0, 0] = 1  # written in gradienti (an in-place op), read in PyTorch
    assert x[0, 0].item() == 1


@pytest.mark.parametrize("dtype_name", DTYPES)
def test_numpy_from_dlpack_shares_a_gradienti_tensor(dtype_name):
    t = gradienti.tensor(_values(dtype_name))
    array = np.from_dlpack(t)
    assert array.dtype == np.dtype(dtype_name)
    assert np.shares_memory(array, t.numpy())
    array[1, 0] = 1
    assert t[1, 0].item() == 1


@pytest.mark.parametrize("dtype_name", DTYPES)
def test_from_dlpack_shares_a_torch_tensor(dtype_name):
    x = torch.from_numpy(_values(dtype_name))
    t = gradienti.from_dlpack(x)
    assert str(t.dtype) == str(x.dtype)
    assert t.tolist() == x.tolist()
    t.zero_()  # a gradienti in-place op, seen by PyTorch
    assert not x.any()
    x.fill_(1)
    assert t.tolist() == x.tolist()


@pytest.mark.parametrize("dtype_name", DTYPES)
def test_from_dlpack_shares_a_numpy_array(dtype_name):
    array = _values(dtype_name)
    t = gradienti.from_dlpack(array)
    assert str(t.dtype) == str(torch.from_dlpack(array).dtype)
    assert np.shares_memory(t.numpy(), array)
    array[0, 1] = 1
    assert t[0, 1].item() == 1


def test_the_result_is_a_leaf_that_does_not_require_grad():
    for source in (torch.ones(3), np.ones(3), gradienti.ones(3)):
        t = gradienti.from_dlpack(source)
        x = torch.from_dlpack(source)
        assert (t.requires_grad, t.is_leaf, t.grad_fn) == (x.requires_grad, x.is_leaf, None)
    # a gradienti tensor imported from PyTorch can start a graph of its own
    t = gradienti.from_dlpack(torch.arange(3.0)).requires_grad_()
    (t * t).sum().backward()
    assert t.grad.tolist() == [0.0, 2.0, 4.0]


def test_gradienti_from_dlpack_of_a_gradienti_tensor_shares():
    t = gradienti.arange(4.0)
    u = gradienti.from_dlpack(t)
    u.mul_(2)
    assert t.tolist() == [0.0, 2.0, 4.0, 6.0]


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.arange(12.0).reshape(3, 4).t(),
        lambda m: m.arange(12.0).reshape(3, 4)[:, 1::2],
        lambda m: m.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)[1:],
    ],
    ids=["transposed", "stepped", "permuted"],
)
def test_a_strided_tensor_exports_with_its_strides(make):
    t, expected = make(gradienti), make(torch)
    x = torch.from_dlpack(t)
    assert x.stride() == expected.stride() == t.stride()
    assert x.tolist() == expected.tolist()
    x.neg_()  # every element, through the strides
    assert t.tolist() == (-expected).tolist()
    back = gradienti.from_dlpack(expected)
    assert back.stride() == expected.stride()
    assert back.tolist() == expected.tolist()


def test_zero_dim_and_empty_tensors():
    t = gradienti.tensor(3.5)
    x = torch.from_dlpack(t)
    assert x.shape == () and x.item() == 3.5
    x.fill_(-1.0)
    assert t.item() == -1.0
    back = gradienti.from_dlpack(torch.tensor(2.0))
    assert back.shape == () and back.item() == 2.0
    empty = gradienti.zeros(0, 3)
    assert torch.from_dlpack(empty).shape == torch.zeros(0, 3).shape
    assert np.from_dlpack(empty).shape == (0, 3)
    assert gradienti.from_dlpack(torch.zeros(2, 0)).shape == (2, 0)


def test_an_expanded_tensor_is_shared_by_a_versioned_capsule():
    t = gradienti.arange(3.0).expand(2, 3)
    x = torch.from_dlpack(t)
    assert x.stride() == torch.arange(3.0).expand(2, 3).stride() == (0, 1)
    array = np.from_dlpack(t)  # NumPy honours the read-only flag of the memory it shares
    assert np.shares_memory(array, t.numpy()) and not array.flags.writeable
    assert "dltensor_versioned" in repr(t.__dlpack__(max_version=(1, 0)))


def test_a_legacy_capsule_of_read_only_data_is_a_copy():
    # deliberately not PyTorch's (which shares: it has no read-only tensors): a legacy capsule
    # cannot say "read-only", so gradienti exports a copy instead of writable read-only memory
    t = gradienti.arange(3.0).expand(2, 3)
    x = torch.from_dlpack(gradienti.utils.dlpack.to_dlpack(t))
    assert x.tolist() == t.tolist()
    x[0, 0] = 7.0
    assert t[0, 0].item() == 0.0
    kind, message = error_of(lambda: t.__dlpack__(copy=False))
    assert kind is BufferError
    assert message == str(error_of(lambda: t.numpy().__dlpack__(copy=False))[1])


def test_capsule_kinds_follow_max_version_as_torchs():
    t, x = gradienti.ones(2), torch.ones(2)
    for max_version in (None, (0, 8), (1, 0), (2, 0)):
        ours = repr(t.__dlpack__(max_version=max_version)).split('"')[1]
        assert ours == repr(x.__dlpack__(max_version=max_version)).split('"')[1]


def test_copy_true_exports_a_copy_and_copy_false_shares():
    t = gradienti.zeros(3)
    copied = torch.from_dlpack(t, copy=True)
    shared = torch.from_dlpack(t, copy=False)
    copied[0], shared[1] = 5.0, 6.0
    assert t.tolist() == [0.0, 6.0, 0.0]
    legacy = torch.from_dlpack(t.__dlpack__(copy=True))
    legacy[2] = 7.0
    assert t.tolist() == [0.0, 6.0, 0.0]
    for source in (np.zeros(3), torch.zeros(3)):
        for copy in (True, False):
            expected = np.shares_memory(torch.from_dlpack(source, copy=copy).numpy(), source)
            ours = gradienti.from_dlpack(source, copy=copy)
            assert np.shares_memory(ours.numpy(), source) == expected == (not copy)


def test_dlpack_device_is_torchs():
    t, x = gradienti.ones(1), torch.ones(1)
    assert t.__dlpack_device__() == x.__dlpack_device__() == (1, 0)
    assert repr(t.__dlpack_device__()) == repr(x.__dlpack_device__())
    assert [m.name for m in gradienti.utils.dlpack.DLDeviceType] == [
        m.name for m in torch.utils.dlpack.DLDeviceType
    ]


@pytest.mark.parametrize(
    "make",
    [lambda m: m.ones(2, requires_grad=True), lambda m: m.ones(2, requires_grad=True) * 2],
    ids=["leaf", "non-leaf"],
)
def test_a_tensor_that_requires_grad_is_refused_with_torchs_error(make):
    t, x = make(gradienti), make(torch)
    expected = error_of(x.__dlpack__)
    assert expected[0] is BufferError
    assert error_of(t.__dlpack__) == expected
    assert error_of(lambda: torch.from_dlpack(t)) == expected
    assert error_of(lambda: np.from_dlpack(t)) == error_of(lambda: np.from_dlpack(x))


def test_to_dlpack_exports_a_tensor_that_requires_grad_as_torchs():
    # PyTorch's legacy function exports it without the graph
    t = gradienti.ones(2, requires_grad=True)
    x = torch.from_dlpack(gradienti.utils.dlpack.to_dlpack(t))
    assert not x.requires_grad
    x[0] = 3.0
    assert t.detach()[0].item() == 3.0


@pytest.mark.parametrize(
    "arguments",
    [
        {"stream": 5},
        {"stream": "default"},
        {"dl_device": (2, 0)},
        {"dl_device": (3, 0)},
        {"dl_device": (13, 0)},
    ],
)
def test_bad_dlpack_arguments_raise_torchs_errors(arguments):
    kind, message = error_of(lambda: gradienti.ones(2).__dlpack__(**arguments))
    expected_kind, expected_message = error_of(lambda: torch.ones(2).__dlpack__(**arguments))
    assert kind is expected_kind
    if kind is NotImplementedError:  # PyTorch's dispatcher goes on with its kernel list
        expected_message = expected_message[: len(message)]
    assert message == expected_message


def test_accepted_dlpack_arguments_as_torchs():
    t = gradienti.arange(3.0)
    for arguments in (
        {"stream": None},
        {"stream": -1},
        {"dl_device": (1, 0)},
        {"dl_device": (1, 1)},
    ):
        x = torch.from_dlpack(t.__dlpack__(**arguments))
        x[0] = 1.0
    assert t[0].item() == 1.0


def test_a_capsule_is_imported_once():
    x = torch.arange(3.0)
    capsule = torch.utils.dlpack.to_dlpack(x)
    t = gradienti.from_dlpack(capsule)
    t[2] = -1.0
    assert x[2].item() == -1.0
    expected = error_of(lambda: torch.from_dlpack(capsule))
    assert expected[0] is RuntimeError
    assert error_of(lambda: gradienti.from_dlpack(capsule)) == expected
    ours = gradienti.utils.dlpack.to_dlpack(gradienti.ones(2))
    assert gradienti.utils.dlpack.from_dlpack(ours).tolist() == [1.0, 1.0]
    assert error_of(lambda: gradienti.from_dlpack(ours)) == expected


@pytest.mark.parametrize("value", [3, [1, 2], None, "text"], ids=repr)
def test_from_dlpack_of_something_else_raises_torchs_error(value):
    assert error_of(lambda: gradienti.from_dlpack(value)) == error_of(
        lambda: torch.from_dlpack(value)
    )


@pytest.mark.parametrize("arguments", [{"copy": True}, {"device": "cpu"}], ids=repr)
def test_a_capsule_refuses_device_and_copy_as_torchs(arguments):
    capsule = torch.utils.dlpack.to_dlpack(torch.ones(1))
    expected = error_of(lambda: torch.from_dlpack(capsule, **arguments))
    assert expected[0] is AssertionError
    capsule = torch.utils.dlpack.to_dlpack(torch.ones(1))
    assert error_of(lambda: gradienti.from_dlpack(capsule, **arguments)) == expected
    assert gradienti.from_dlpack(capsule).tolist() == [1.0]  # the failed call left it unused


@pytest.mark.parametrize("value", [np.ones(2), None], ids=["array", "None"])
def test_to_dlpack_of_a_non_tensor_raises_torchs_error(value):
    assert error_of(lambda: gradienti.utils.dlpack.to_dlpack(value)) == error_of(
        lambda: torch.utils.dlpack.to_dlpack(value)
    )


class _Exporter:
    """A foreign tensor on another device: it counts the exports asked of it."""

    def __init__(self, device_type: int) -> None:
        self.device_type = device_type
        self.exports = 0

    def __dlpack__(self, **arguments):
        self.exports += 1
        return np.ones(2).__dlpack__(**arguments)

    def __dlpack_device__(self):
        return (self.device_type, 0)


@pytest.mark.parametrize("device_type", [2, 10], ids=["cuda", "rocm"])
def test_a_cuda_exporter_gets_torchs_error_before_any_export(device_type):
    ours, theirs = _Exporter(device_type), _Exporter(device_type)
    assert error_of(lambda: gradienti.from_dlpack(ours)) == error_of(
        lambda: torch.from_dlpack(theirs)
    )
    assert ours.exports == 0


@pytest.mark.parametrize("device", ["cuda", "cuda:1", 3, torch.device("cpu")], ids=repr)
def test_from_dlpack_device_argument_as_torchs(device):
    source = np.arange(3.0)
    ours = gradienti.device(str(device)) if isinstance(device, torch.device) else device
    try:
        expected = torch.from_dlpack(source, device=device)
    except Exception as error:  # noqa: BLE001 - compared below
        assert error_of(lambda: gradienti.from_dlpack(source, device=ours)) == (
            type(error),
            str(error),
        )
    else:
        t = gradienti.from_dlpack(source, device=ours)
        assert t.tolist() == expected.tolist()
        assert np.shares_memory(t.numpy(), source)


@pytest.mark.parametrize("dtype_name", ["uint16", "complex64"])
def test_a_dtype_gradienti_lacks_is_refused(dtype_name):
    # deliberately not PyTorch's (which has these dtypes): gradienti's TypeError names them
    with pytest.raises(TypeError, match=f"can't convert np.ndarray of type numpy.{dtype_name}"):
        gradienti.from_dlpack(torch.zeros(2, dtype=getattr(torch, dtype_name)))


def test_a_sample_inside_vmap_cannot_be_exported_as_in_torch():
    def export(module):
        return lambda x: module.from_dlpack(x.__dlpack__())

    expected = error_of(lambda: torch.func.vmap(export(torch))(torch.ones(2, 3)))
    assert error_of(lambda: gradienti.func.vmap(export(gradienti))(gradienti.ones(2, 3))) == (
        expected
    )


@pytest.mark.parametrize("source", [np.ones(2), torch.ones(2)], ids=["numpy", "torch"])
def test_an_import_in_inference_mode_is_an_inference_tensor(source):
    with torch.inference_mode():
        expected = torch.from_dlpack(source).is_inference()
    with gradienti.inference_mode():
        assert gradienti.from_dlpack(source).is_inference() == expected


def test_signatures_are_torchs():
    def described(function):
        return [
            (p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()
        ]

    assert described(gradienti.Tensor.__dlpack__) == described(torch.Tensor.__dlpack__)
    assert described(gradienti.from_dlpack) == described(torch.from_dlpack)
    assert gradienti.utils.dlpack.from_dlpack is gradienti.from_dlpack
    assert gradienti.utils.dlpack.__all__ == torch.utils.dlpack.__all__


def test_a_bare_versioned_capsule_keeps_its_read_only_flag():
    source = np.arange(3.0)
    source.flags.writeable = False
    t = gradienti.from_dlpack(source.__dlpack__(max_version=(1, 0)))
    assert np.shares_memory(t.numpy(), source)
    assert not t.numpy().flags.writeable
    writable = gradienti.from_dlpack(torch.arange(3.0).__dlpack__(max_version=(1, 0)))
    writable[0] = 5.0
    assert writable.tolist() == [5.0, 1.0, 2.0]


def test_a_negative_stride_numpy_array_is_refused_as_from_numpy_refuses_it():
    """A tensor with negative strides would abort the process when handed to PyTorch
    (``torch.from_dlpack`` crashes on them), so the import refuses them with from_numpy's
    error; a copy (``copy=True``, or the user's ``.copy()``) is contiguous and fine."""
    reversed_array = np.arange(4.0)[::-1]
    expected = error_of(lambda: torch.from_numpy(reversed_array))
    assert error_of(lambda: gradienti.from_dlpack(reversed_array)) == expected
    assert error_of(lambda: gradienti.from_dlpack(np.eye(3)[:, ::-2])) == expected
    copied = gradienti.from_dlpack(reversed_array, copy=True)
    assert copied.tolist() == [3.0, 2.0, 1.0, 0.0]
    assert torch.from_dlpack(copied).tolist() == [3.0, 2.0, 1.0, 0.0]


@pytest.mark.parametrize(
    "value", [np.float64(1.0), 1.5, [1.0], np.zeros(2, dtype=object), np.zeros(2, dtype="U3")]
)
def test_from_numpy_names_a_wrong_argument_or_dtype_as_torch(value):
    # the type by its full name (numpy.float64, numpy.object_), as PyTorch's message has it
    expected_class, expected_text = error_of(lambda: torch.from_numpy(value))
    error_class, text = error_of(lambda: gradienti.from_numpy(value))
    assert error_class is expected_class
    assert text.split(". The only")[0] == expected_text.split(". The only")[0]


def test_exported_memory_outlives_the_tensor_and_its_replaced_data():
    """``t.data = ...`` and ``del t`` leave the exported memory alive and shared between the
    importers (the capsule's deleter holds the array), as PyTorch's storage reference does."""
    t = gradienti.arange(4.0)
    in_torch, in_numpy = torch.from_dlpack(t), np.from_dlpack(t)
    t.data = gradienti.full((1000,), 7.0)
    del t
    gc.collect()
    reuse = [np.full(4, -1.0) for _ in range(100)]  # would land in freed memory
    assert in_torch.tolist() == in_numpy.tolist() == [0.0, 1.0, 2.0, 3.0]
    in_torch.add_(1)
    assert in_numpy.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert len(reuse) == 100


def test_a_zero_dim_result_is_shared_after_export_both_ways():
    # a 0-d op result holds a NumPy scalar until it is exported: then its own 0-d array
    y = gradienti.ones(3).sum()
    exported = torch.from_dlpack(y)
    y.mul_(5)  # in place in gradienti, seen in PyTorch
    assert exported.item() == 15.0
    exported.fill_(2.0)  # in PyTorch, seen in gradienti and in a later export
    assert y.item() == 2.0 and np.from_dlpack(y).item() == 2.0


@pytest.mark.parametrize("max_version", [(0,), (0, 8), (1,), [1, 0], (2, 5), ()])
@pytest.mark.parametrize("copy", [None, True, False])
def test_any_max_version_torch_accepts_gives_its_capsule_kind(max_version, copy):
    # PyTorch reads only max_version[0]; NumPy alone would refuse (0,), (1,) and [1, 0]
    def capsule_kind(module):
        try:
            capsule = module.arange(3.0).__dlpack__(max_version=max_version, copy=copy)
        except Exception as error:  # noqa: BLE001 - compared below
            return type(error), str(error)
        return repr(capsule).split('"')[1]

    assert capsule_kind(gradienti) == capsule_kind(torch)
