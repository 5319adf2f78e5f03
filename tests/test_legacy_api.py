"""Old and short spellings lecture code still uses, compared with torch: ``autograd.Variable``,
the legacy constructor ``Tensor(...)``, the typed constructors (``FloatTensor``, ...) and
``isinstance`` with them, ``Tensor.type``, and ``Tensor.new_zeros`` and friends."""

import warnings

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")


def _outcome(lib, expression: str):
    """("ok", values, dtype name, shape, requires_grad) for a tensor, ("ok", repr) for other
    results, or the error's class and first line; uninitialised values are not compared."""
    scope = {"torch": lib, "np": np, "t": lib.tensor([1.0, 2.0]), "Variable": lib.autograd.Variable}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = eval(expression, scope)
    except Exception as error:  # noqa: BLE001 - the class and text are what is compared
        return type(error).__name__, str(error).split("\n")[0]
    if isinstance(result, lib.Tensor):
        uninitialised = "empty" in expression or "(2, 3" in expression or "Size" in expression
        values = None if uninitialised else result.tolist()
        return "ok", values, str(result.dtype), tuple(result.shape), result.requires_grad
    return "ok", repr(result)


def _same(expression: str):
    ours = _outcome(gradienti, expression)
    assert ours == _outcome(torch, expression)
    return ours


VARIABLE = [
    "Variable(t)",
    "Variable(t) is t",
    "Variable(t, requires_grad=True)",
    "Variable(t, requires_grad=True).is_leaf",
    "Variable(t, True).grad_fn",
    "Variable(t, volatile=True)",
    "Variable()",
    "isinstance(t, Variable)",
    "isinstance(3, Variable)",
    "Variable(t.clone().requires_grad_(), requires_grad=False).requires_grad",
    "Variable([1.0, 2.0])",
    "Variable(torch.tensor([1, 2]), requires_grad=True)",
]


@pytest.mark.parametrize("expression", VARIABLE)
def test_variable(expression):
    _same(expression)


def test_variable_shares_memory_and_trains():
    for lib in (gradienti, torch):
        data = lib.tensor([1.0, 2.0])
        v = lib.autograd.Variable(data, requires_grad=True)
        data[0] = 5.0  # the same memory, as PyTorch's
        assert v.tolist() == [5.0, 2.0]
        (v * v).sum().backward()
        assert v.grad.tolist() == [10.0, 4.0]
    with pytest.warns(UserWarning, match=r"^volatile was removed and now has no effect"):
        gradienti.autograd.Variable(gradienti.ones(1), volatile=True)


CONSTRUCTORS = [
    "torch.Tensor(2, 3)",
    "torch.Tensor([1, 2])",
    "torch.Tensor([[1, 2], [3, 4]])",
    "torch.Tensor((2, 3))",
    "torch.Tensor()",
    "torch.Tensor(size=(2, 3))",
    "torch.Tensor(torch.Size([2, 3]))",
    "torch.Tensor(np.array([1, 2]))",
    "torch.Tensor(torch.tensor([1, 2]))",
    "torch.Tensor(t) is t",
    "torch.Tensor(0)",
    "torch.Tensor(2.5)",
    "torch.Tensor('a')",
    "torch.Tensor(-1)",
    "torch.Tensor(2, 3, dtype=torch.float64)",
    "torch.Tensor([1], requires_grad=True)",
    "torch.Tensor(2, device='cuda')",
    "torch.FloatTensor([1, 2])",
    "torch.FloatTensor(2, 3)",
    "torch.FloatTensor(2, 3, device='cpu')",
    "torch.FloatTensor(t)",
    "torch.FloatTensor(t.long())",
    "torch.DoubleTensor(2, 3)",
    "torch.DoubleTensor([1, 2])",
    "torch.HalfTensor([1, 2])",
    "torch.LongTensor([1.7, 2])",
    "torch.LongTensor(2, 3)",
    "torch.IntTensor([1, 2])",
    "torch.ShortTensor([1])",
    "torch.CharTensor([1])",
    "torch.ByteTensor([1, 2])",
    "torch.BoolTensor([1, 0])",
    # NumPy ints (and 0-d integral arrays) are sizes, as any int; a bool among several too
    "torch.Tensor(np.int64(2)).shape",
    "torch.Tensor(np.int32(2), 3).shape",
    "torch.FloatTensor(np.array(3)).shape",
    "torch.LongTensor(np.uint8(2), np.int64(1)).shape",
    "torch.Tensor(2, True).shape",
    "torch.Tensor(np.int64(-1))",
    "torch.Tensor(np.bool_(True))",
    "torch.Tensor(True)",
    "torch.FloatTensor",
    "torch.LongTensor.dtype",
    "torch.FloatTensor.__name__",
    "issubclass(torch.FloatTensor, torch.Tensor)",
]


@pytest.mark.parametrize("expression", CONSTRUCTORS)
def test_legacy_constructors(expression):
    _same(expression)


def test_legacy_constructor_shares_a_tensor_and_follows_the_default_dtype():
    for lib in (gradienti, torch):
        source = lib.tensor([1.0, 2.0])
        alias = lib.Tensor(source)
        source[0] = 7.0
        assert alias.tolist() == [7.0, 2.0]
        lib.set_default_dtype(lib.float64)
        try:
            assert lib.Tensor([1, 2]).dtype == lib.float64
            assert lib.FloatTensor([1, 2]).dtype == lib.float32  # typed: always its own
        finally:
            lib.set_default_dtype(lib.float32)


INSTANCE_CHECKS = [
    "isinstance(t, torch.FloatTensor)",
    "isinstance(t.double(), torch.FloatTensor)",
    "isinstance(t, torch.DoubleTensor)",
    "isinstance(t.long(), torch.LongTensor)",
    "isinstance(t.bool(), torch.BoolTensor)",
    "isinstance(t, torch.Tensor)",
    "isinstance([1.0], torch.FloatTensor)",
    "isinstance(torch.nn.Parameter(t), torch.FloatTensor)",
]


@pytest.mark.parametrize("expression", INSTANCE_CHECKS)
def test_isinstance_with_legacy_types(expression):
    _same(expression)


TYPE_CALLS = [
    "t.type()",
    "t.long().type()",
    "t.bool().type()",
    "t.half().type()",
    "t.type(torch.DoubleTensor)",
    "t.type('torch.DoubleTensor')",
    "t.type('torch.LongTensor')",
    "t.type(torch.float64)",
    "t.type(dtype=torch.int64)",
    "t.type(torch.FloatTensor) is t",
    "t.type('torch.FloatTensor') is t",
    "t.type(torch.float32) is t",
    "t.type('float')",
    "t.type('torch.cuda.FloatTensor')",
    "t.long().type(torch.Tensor)",
    "t.long().type('torch.Tensor')",
    "t.type(float)",
    "t.type(np.float32)",
    "t.type(torch.nn.Parameter)",
    "t.type(3)",
    "t.requires_grad_().type(torch.DoubleTensor).grad_fn.name()",
]


@pytest.mark.parametrize("expression", TYPE_CALLS)
def test_type(expression):
    _same(expression)


NEW_FACTORIES = [
    "t.new_zeros(2, 3)",
    "t.new_zeros((2, 3))",
    "t.new_zeros([])",
    "t.new_zeros(2, dtype=torch.float64)",
    "t.new_zeros(2, requires_grad=True)",
    "t.new_zeros(2, device='cpu')",
    "t.long().new_zeros(2, requires_grad=True)",
    "t.new_zeros(-1)",
    "t.long().new_ones(2)",
    "t.new_ones(size=(2,))",
    "t.double().new_ones(1, 2)",
    "t.new_full((2,), 3)",
    "t.long().new_full((2,), 3.5)",
    "t.new_full((2,), 3, dtype=torch.int32)",
    "t.new_full(2, 3)",
    # a fill value the dtype cannot hold: PyTorch's overflow error, not a wrapped value
    "t.new_full((2,), 2**40, dtype=torch.int32)",
    "t.new_full((2,), 200, dtype=torch.int8)",
    "t.new_full((2,), -255, dtype=torch.uint8)",
    "t.new_full((2,), -256, dtype=torch.uint8)",
    "t.new_full((2,), 300, dtype=torch.uint8)",
    "t.new_full((2,), 65519.0, dtype=torch.float16)",
    "t.new_full((2,), 1e39)",
    "t.new_full((2,), float('inf'))",
    "t.new_full((2,), float('nan'), dtype=torch.int64)",
    "t.new_full((2,), 1.5e3, dtype=torch.int8)",
    "t.new_full((2,), 5, dtype=torch.bool)",
    "t.new_full((2,), torch.tensor(2**40), dtype=torch.int32)",
    "t.new_empty(2)",
    "t.new_empty((2, 3), device='cpu')",
    "t.new_empty(2, dtype=torch.int64)",
    "t.new_tensor([1, 2])",
    "t.double().new_tensor([1, 2])",
    "t.new_tensor([1, 2], dtype=torch.int64)",
    "t.new_tensor(3)",
    "t.new_tensor([[1]], requires_grad=True)",
    "t.new_tensor(t)",
    "t.new_tensor('a')",
]


@pytest.mark.parametrize("expression", NEW_FACTORIES)
def test_new_factories(expression):
    _same(expression)


def test_new_tensor_warns_as_pytorch():
    message = r"rather than tensor\.new_tensor\(sourceTensor\)\.$"
    for lib in (gradienti, torch):
        with pytest.warns(UserWarning, match=message):
            lib.ones(2).new_tensor(lib.ones(2))
