"""Tensor basics: creation, dtypes, metadata, conversions, autograd flags, printing."""

import numpy as np
import pytest

import gradienti


def _torch():
    return pytest.importorskip("torch")


# ---------------------------------------------------------------------- creation and dtypes
DTYPE_INFERENCE = [
    (1.5, "torch.float32"),
    (3, "torch.int64"),
    (True, "torch.bool"),
    ([1.0, 2.0], "torch.float32"),
    ([1, 2], "torch.int64"),
    ([True, False], "torch.bool"),
    ([[1, 2], [3, 4]], "torch.int64"),
    ([[1, 2.5], [3, 4]], "torch.float32"),
    ([True, 2], "torch.int64"),
    (np.zeros(2), "torch.float64"),
    (np.zeros(2, dtype=np.float32), "torch.float32"),
    (np.arange(3), "torch.int64"),
    (np.arange(3, dtype=np.int32), "torch.int32"),
    (np.array([True]), "torch.bool"),
]


@pytest.mark.parametrize(("data", "expected"), DTYPE_INFERENCE)
def test_tensor_dtype_inference(data, expected):
    assert repr(gradienti.tensor(data).dtype) == expected


@pytest.mark.parametrize(("data", "expected"), DTYPE_INFERENCE)
def test_tensor_dtype_inference_matches_torch(data, expected):
    torch = _torch()
    assert repr(torch.tensor(data).dtype) == expected


def test_tensor_nested_lists():
    t = gradienti.tensor([[1, 2, 3], [4, 5, 6]])
    assert t.shape == (2, 3)
    assert t.tolist() == [[1, 2, 3], [4, 5, 6]]


def test_tensor_copies_numpy_data():
    array = np.array([1.0, 2.0])
    t = gradienti.tensor(array)
    array[0] = 99.0
    assert t.tolist() == [1.0, 2.0]


def test_tensor_with_dtype():
    t = gradienti.tensor([1, 2], dtype=gradienti.float64)
    assert t.dtype == gradienti.float64
    assert t.tolist() == [1.0, 2.0]


@pytest.mark.parametrize("make", [gradienti.as_tensor, gradienti.from_numpy])
def test_as_tensor_and_from_numpy_share_memory(make):
    array = np.array([1.0, 2.0, 3.0])
    t = make(array)
    assert t.dtype == gradienti.float64
    array[0] = 10.0
    assert t.tolist() == [10.0, 2.0, 3.0]
    t.numpy()[1] = 20.0
    assert array.tolist() == [10.0, 20.0, 3.0]


def test_as_tensor_with_other_dtype_copies():
    array = np.array([1.0, 2.0])
    t = gradienti.as_tensor(array, dtype=gradienti.float32)
    assert t.dtype == gradienti.float32
    array[0] = 5.0
    assert t.tolist() == [1.0, 2.0]


def test_from_numpy_rejects_lists():
    with pytest.raises(TypeError):
        gradienti.from_numpy([1.0, 2.0])


@pytest.mark.parametrize("name", ["zeros", "ones", "empty"])
def test_zeros_ones_empty(name):
    make = getattr(gradienti, name)
    for t in (make(2, 3), make((2, 3)), make([2, 3])):
        assert t.shape == (2, 3)
        assert t.dtype == gradienti.float32
        assert not t.requires_grad
    assert make(3, dtype=gradienti.int64).dtype == gradienti.int64
    assert make(2, requires_grad=True).requires_grad
    if name == "zeros":
        assert make(2, 2).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    if name == "ones":
        assert make(2).tolist() == [1.0, 1.0]


def test_zero_dim_creation():
    assert gradienti.zeros(()).shape == ()
    assert gradienti.ones([]).dim() == 0


def test_full():
    assert gradienti.full((2, 2), 7.0).tolist() == [[7.0, 7.0], [7.0, 7.0]]
    assert gradienti.full((2,), 7.0).dtype == gradienti.float32
    assert gradienti.full((2,), 7).dtype == gradienti.int64
    assert gradienti.full((2,), True).dtype == gradienti.bool
    assert gradienti.full((2,), 1, dtype=gradienti.float64).dtype == gradienti.float64


def test_full_dtypes_match_torch():
    torch = _torch()
    for fill in (7.0, 7, True):
        assert repr(gradienti.full((2,), fill).dtype) == repr(torch.full((2,), fill).dtype)


@pytest.mark.parametrize("name", ["zeros_like", "ones_like", "empty_like", "full_like"])
def test_like(name):
    make = getattr(gradienti, name)
    extra = (5,) if name == "full_like" else ()
    source = gradienti.tensor([[1, 2, 3], [4, 5, 6]])
    t = make(source, *extra)
    assert t.shape == (2, 3)
    assert t.dtype == gradienti.int64
    t = make(source, *extra, dtype=gradienti.float64)
    assert t.dtype == gradienti.float64
    if name == "full_like":
        assert t.tolist() == [[5.0] * 3] * 2
    if name == "ones_like":
        assert t.tolist() == [[1.0] * 3] * 2
    if name == "zeros_like":
        assert t.tolist() == [[0.0] * 3] * 2


ARANGE_ARGS = [(5,), (1, 4), (0, 1, 0.25), (1.0, 4.0), (0, 5, 2), (5, 0, -1), (0, 10, 3), (-2.5, 2)]


@pytest.mark.parametrize("args", ARANGE_ARGS)
def test_arange_matches_torch(args):
    torch = _torch()
    ours = gradienti.arange(*args)
    theirs = torch.arange(*args)
    assert repr(ours.dtype) == repr(theirs.dtype)
    assert ours.tolist() == theirs.tolist()


def test_arange():
    t = gradienti.arange(5)
    assert t.dtype == gradienti.int64
    assert t.tolist() == [0, 1, 2, 3, 4]
    t = gradienti.arange(0, 1, 0.25)
    assert t.dtype == gradienti.float32
    assert t.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert gradienti.arange(3, dtype=gradienti.float64).dtype == gradienti.float64


def test_linspace():
    t = gradienti.linspace(0, 1, 5)
    assert t.dtype == gradienti.float32
    assert t.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert gradienti.linspace(-1, 1, 3, dtype=gradienti.float64).tolist() == [-1.0, 0.0, 1.0]


def test_linspace_matches_torch():
    torch = _torch()
    for args in [(0, 1, 5), (-1, 1, 3), (0, 10, 7), (2, 2, 1)]:
        ours, theirs = gradienti.linspace(*args), torch.linspace(*args)
        assert repr(ours.dtype) == repr(theirs.dtype)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_eye():
    assert gradienti.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    t = gradienti.eye(2, 3)
    assert t.shape == (2, 3)
    assert t.dtype == gradienti.float32
    assert t.tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]
    assert gradienti.eye(2, dtype=gradienti.float64).dtype == gradienti.float64


def test_rand_randn():
    for make in (gradienti.rand, gradienti.randn):
        t = make(2, 3)
        assert t.shape == (2, 3)
        assert t.dtype == gradienti.float32
        assert make((4,)).shape == (4,)
        assert make(3, dtype=gradienti.float64).dtype == gradienti.float64
    values = gradienti.rand(1000).numpy()
    assert values.min() >= 0.0 and values.max() < 1.0
    assert len(set(values.tolist())) > 900
    normal = gradienti.randn(10000).numpy()
    assert abs(float(normal.mean())) < 0.1
    assert 0.9 < float(normal.std()) < 1.1


def test_randint():
    t = gradienti.randint(3, 7, (1000,))
    assert t.dtype == gradienti.int64
    assert t.shape == (1000,)
    assert set(t.tolist()) == {3, 4, 5, 6}
    t = gradienti.randint(5, (2, 3))
    assert t.shape == (2, 3)
    assert all(0 <= v < 5 for row in t.tolist() for v in row)


def test_manual_seed_repeats():
    gradienti.manual_seed(0)
    first = (
        gradienti.rand(5).tolist(),
        gradienti.randn(3).tolist(),
        gradienti.randint(0, 100, (4,)),
    )
    gradienti.manual_seed(0)
    second = (
        gradienti.rand(5).tolist(),
        gradienti.randn(3).tolist(),
        gradienti.randint(0, 100, (4,)),
    )
    assert first[:2] == second[:2]
    assert first[2].tolist() == second[2].tolist()
    gradienti.manual_seed(1)
    assert gradienti.rand(5).tolist() != first[0]


def test_dtype_names():
    assert repr(gradienti.float32) == "torch.float32"
    assert repr(gradienti.float64) == "torch.float64"
    assert repr(gradienti.int64) == "torch.int64"
    assert repr(gradienti.bool) == "torch.bool"
    assert gradienti.float is gradienti.float32
    assert gradienti.double is gradienti.float64
    assert gradienti.long is gradienti.int64
    assert gradienti.int is gradienti.int32
    assert gradienti.half is gradienti.float16
    assert gradienti.short is gradienti.int16


def test_dtype_names_match_torch():
    torch = _torch()
    names = ["float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"]
    names += ["float", "double", "half", "long", "int", "short"]
    for name in names:
        assert repr(getattr(gradienti, name)) == repr(getattr(torch, name)), name


# ---------------------------------------------------------------------- metadata
def test_shape_size_dim_numel():
    t = gradienti.zeros(2, 3)
    assert repr(t.shape) == "torch.Size([2, 3])"
    assert repr(t.size()) == "torch.Size([2, 3])"
    assert t.shape == (2, 3)
    assert isinstance(t.shape, tuple)
    assert t.size(0) == 2 and t.size(1) == 3 and t.size(-1) == 3
    assert t.dim() == 2
    assert t.numel() == 6
    assert t.dtype == gradienti.float32
    assert repr(gradienti.tensor(1.0).shape) == "torch.Size([])"


def test_shape_repr_matches_torch():
    torch = _torch()
    for shape in [(2, 3), (), (4,), (1, 2, 3)]:
        assert repr(gradienti.zeros(shape).shape) == repr(torch.zeros(shape).shape)


def test_size_out_of_range():
    with pytest.raises(IndexError) as info:
        gradienti.zeros(2, 3).size(2)
    assert (
        str(info.value) == "Dimension out of range (expected to be in range of [-2, 1], but got 2)"
    )


def test_device():
    t = gradienti.zeros(2)
    assert repr(t.device) == "device(type='cpu')"
    assert str(t.device) == "cpu"
    assert gradienti.zeros(2, device="cpu").device == t.device
    assert repr(gradienti.device("cpu")) == "device(type='cpu')"


@pytest.mark.parametrize(
    "make",
    [
        lambda: gradienti.zeros(2, device="cuda"),
        lambda: gradienti.tensor([1.0], device="cuda"),
        lambda: gradienti.zeros(2).to("cuda"),
    ],
)
def test_cuda_device_is_refused(make):
    with pytest.raises((RuntimeError, AssertionError)) as info:
        make()
    assert "cuda" in str(info.value).lower()


def test_item_tolist():
    assert gradienti.tensor(2.5).item() == 2.5
    assert isinstance(gradienti.tensor(2.5).item(), float)
    assert gradienti.tensor(3).item() == 3 and isinstance(gradienti.tensor(3).item(), int)
    assert gradienti.tensor([7.0]).item() == 7.0
    assert gradienti.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert gradienti.tensor(1.5).tolist() == 1.5
    with pytest.raises(RuntimeError) as info:
        gradienti.tensor([1.0, 2.0]).item()
    assert str(info.value) == "a Tensor with 2 elements cannot be converted to Scalar"


def test_numpy():
    t = gradienti.tensor([1.0, 2.0])
    array = t.numpy()
    assert isinstance(array, np.ndarray)
    assert array.dtype == np.float32
    array[0] = 5.0
    assert t.tolist() == [5.0, 2.0]  # shares memory
    assert np.asarray(t).tolist() == [5.0, 2.0]
    assert isinstance(np.asarray(t), np.ndarray)


def test_numpy_refused_when_requires_grad():
    t = gradienti.tensor([1.0, 2.0], requires_grad=True)
    message = (
        "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead."
    )
    with pytest.raises(RuntimeError) as info:
        t.numpy()
    assert str(info.value) == message
    with pytest.raises(RuntimeError) as info:
        np.asarray(t)
    assert str(info.value) == message
    assert t.detach().numpy().tolist() == [1.0, 2.0]


def test_to_and_casts():
    t = gradienti.tensor([1.5, -2.5])
    assert t.to(gradienti.float64).dtype == gradienti.float64
    assert t.to(dtype=gradienti.int64).tolist() == [1, -2]
    assert t.to(gradienti.float32) is t
    assert t.double().dtype == gradienti.float64
    assert t.long().dtype == gradienti.int64
    assert t.long().tolist() == [1, -2]
    assert gradienti.tensor([1, 2]).float().dtype == gradienti.float32
    assert t.to("cpu") is t


def test_to_keeps_the_graph():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    y = x.double()
    assert y.requires_grad
    assert type(y.grad_fn).__name__ == "ToCopyBackward0"
    (y * y).sum().backward()
    assert x.grad.dtype == gradienti.float32
    assert x.grad.tolist() == [2.0, 4.0]


def test_clone_and_contiguous():
    t = gradienti.tensor([1.0, 2.0])
    c = t.clone()
    c.numpy()[0] = 9.0
    assert t.tolist() == [1.0, 2.0]
    assert t.contiguous().tolist() == [1.0, 2.0]
    x = gradienti.tensor([1.0], requires_grad=True)
    assert type(x.clone().grad_fn).__name__ == "CloneBackward0"
    array = np.arange(6.0).reshape(2, 3).T
    nc = gradienti.from_numpy(array)
    assert not nc.is_contiguous()
    assert nc.contiguous().is_contiguous()
    assert nc.contiguous().tolist() == array.tolist()


def test_python_scalar_conversions():
    assert float(gradienti.tensor(2.5)) == 2.5
    assert int(gradienti.tensor(3.9)) == 3
    assert float(gradienti.tensor([4.0])) == 4.0
    assert bool(gradienti.tensor(0.0)) is False
    assert bool(gradienti.tensor([1])) is True


def test_python_scalar_conversion_errors():
    t = gradienti.tensor([1.0, 2.0])
    for convert in (float, int):
        with pytest.raises(ValueError) as info:
            convert(t)
        assert str(info.value) == "only one element tensors can be converted to Python scalars"
    with pytest.raises(RuntimeError) as info:
        bool(t)
    assert str(info.value) == "Boolean value of Tensor with more than one value is ambiguous"


def test_len_and_iteration():
    t = gradienti.tensor([[1, 2], [3, 4], [5, 6]])
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3
    assert rows[1].tolist() == [3, 4]
    assert [v.item() for v in gradienti.tensor([1.0, 2.0])] == [1.0, 2.0]
    with pytest.raises(TypeError) as info:
        len(gradienti.tensor(1.0))
    assert str(info.value) == "len() of a 0-d tensor"
    with pytest.raises(TypeError) as info:
        iter(gradienti.tensor(1.0))
    assert str(info.value) == "iteration over a 0-d tensor"


def test_format():
    assert f"{gradienti.tensor(1.23456):.3f}" == "1.235"
    assert f"{gradienti.tensor(2.0)}" == "2.0"
    assert f"{gradienti.tensor(3)}" == "3"
    t = gradienti.tensor([1.0, 2.0])
    assert f"{t}" == repr(t)
    with pytest.raises(TypeError) as info:
        f"{t:.3f}"  # noqa: B018
    assert str(info.value) == "unsupported format string passed to Tensor.__format__"


def test_format_matches_torch():
    torch = _torch()
    for lib_values in ([1.0, 2.0], 2.0, 3, True):
        ours, theirs = gradienti.tensor(lib_values), torch.tensor(lib_values)
        assert f"{ours}" == f"{theirs}"
    assert f"{gradienti.tensor(1 / 3):.4f}" == f"{torch.tensor(1 / 3):.4f}"
    assert f"{gradienti.tensor(2.0, requires_grad=True)}" == (
        f"{torch.tensor(2.0, requires_grad=True)}"
    )


# ---------------------------------------------------------------------- autograd flags
def test_detach():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None and d.is_leaf
    e = x.detach()
    e.numpy()[0] = 7.0  # shares memory
    assert x.detach().tolist() == [7.0, 2.0]
    assert x.requires_grad


def test_detach_in_place():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    assert h.detach_() is h
    assert not h.requires_grad and h.grad_fn is None and h.is_leaf
    assert x.detach_() is x
    assert not x.requires_grad


def test_requires_grad_():
    t = gradienti.tensor([1.0, 2.0])
    assert not t.requires_grad
    assert t.requires_grad_() is t
    assert t.requires_grad and t.is_leaf
    t.requires_grad_(False)
    assert not t.requires_grad
    t.requires_grad = True
    assert t.requires_grad


def test_is_leaf():
    x = gradienti.tensor([1.0], requires_grad=True)
    assert x.is_leaf
    assert gradienti.tensor([1.0]).is_leaf
    assert not (x * 2).is_leaf
    assert (gradienti.tensor([1.0]) * 2).is_leaf
    with gradienti.no_grad():
        assert (x * 2).is_leaf


def test_grad_assignment():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    g = gradienti.tensor([3.0, 4.0])
    x.grad = g
    assert x.grad is g
    x.grad = None
    assert x.grad is None


def test_grad_assignment_wrong_size():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        x.grad = gradienti.ones(3)
    assert str(info.value) == (
        "attempting to assign a gradient of size '[3]' to a tensor of size '[2]'. Please ensure "
        "that the gradient and the tensor are the same size"
    )
    assert x.grad is None


def test_grad_assignment_wrong_type():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError) as info:
        x.grad = 1
    assert (
        str(info.value) == "assigned grad expected to be a Tensor or None but got grad of type int"
    )


def test_grad_assignment_errors_match_torch():
    torch = _torch()
    for lib_value in (lambda lib: lib.ones(3), lambda lib: 1):
        messages = []
        for lib in (gradienti, torch):
            x = lib.tensor([1.0, 2.0], requires_grad=True)
            with pytest.raises((RuntimeError, TypeError)) as info:
                x.grad = lib_value(lib)
            messages.append((type(info.value), str(info.value)))
        assert messages[0] == messages[1]


# ---------------------------------------------------------------------- printing goldens
def _float_tensor(lib):
    return lib.tensor([1.0, 2.5, -3.25])


def _scalar(lib):
    return lib.tensor(3.0)


def _int_tensor(lib):
    return lib.tensor([1, 2, 300])


def _bool_tensor(lib):
    return lib.tensor([True, False])


def _float64_tensor(lib):
    return lib.tensor([1.0, 2.0], dtype=lib.float64)


def _int32_tensor(lib):
    return lib.tensor([1, 2], dtype=lib.int32)


def _requires_grad(lib):
    return lib.tensor([1.0, 2.0], requires_grad=True)


def _grad_fn(lib):
    return lib.tensor([1.0, 2.0], requires_grad=True) * 2


def _grad_fn_float64(lib):
    return lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True).exp()


def _matrix(lib):
    return lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.5, 6.0]])


def _large(lib):
    return lib.arange(2000.0)


def _large_matrix(lib):
    return lib.arange(40000).reshape(200, 200)


def _small_values(lib):
    return lib.tensor([1e-8, 1.0, 1e8])


def _empty(lib):
    return lib.zeros(0)


def _sum_result(lib):
    return (lib.tensor([1.0, 2.0], requires_grad=True) * 3).sum()


PRINT_CASES = [
    _float_tensor,
    _scalar,
    _int_tensor,
    _bool_tensor,
    _float64_tensor,
    _int32_tensor,
    _requires_grad,
    _grad_fn,
    _grad_fn_float64,
    _matrix,
    _large,
    _large_matrix,
    _small_values,
    _empty,
    _sum_result,
]


@pytest.mark.parametrize("make", PRINT_CASES, ids=[f.__name__.strip("_") for f in PRINT_CASES])
def test_repr_matches_torch(make):
    torch = _torch()
    ours, theirs = make(gradienti), make(torch)
    assert repr(ours) == repr(theirs)
    assert str(ours) == str(theirs)


def test_repr_goldens():
    assert repr(gradienti.tensor([1.0, 2.5])) == "tensor([1.0000, 2.5000])"
    assert repr(gradienti.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(gradienti.tensor([True])) == "tensor([True])"
    assert repr(gradienti.tensor([1.0], dtype=gradienti.float64)) == (
        "tensor([1.], dtype=torch.float64)"
    )
    assert repr(gradienti.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(gradienti.tensor([1.0], requires_grad=True) * 2) == (
        "tensor([2.], grad_fn=<MulBackward0>)"
    )
    assert repr(gradienti.zeros(2, 2)) == "tensor([[0., 0.],\n        [0., 0.]])"
    assert "..." in repr(gradienti.arange(5000))


@pytest.mark.parametrize(
    ("name", "args"),
    [("ones", (-1,)), ("zeros", (2, -3)), ("arange", (0, 5, -1)), ("arange", (0, 1, 0))],
)
def test_creation_errors_match_torch(name, args):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError) as expected:
        getattr(torch, name)(*args)
    with pytest.raises(RuntimeError) as got:
        getattr(gradienti, name)(*args)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("dim", [0, -1, 3])
def test_size_of_a_dimension_of_a_0d_tensor_raises_as_torch(dim):
    torch = pytest.importorskip("torch")
    with pytest.raises(IndexError) as expected:
        torch.tensor(1.0).size(dim)
    with pytest.raises(IndexError) as got:
        gradienti.tensor(1.0).size(dim)
    assert str(got.value) == str(expected.value)
