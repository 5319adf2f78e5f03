"""Wrong arguments get PyTorch's exception class and PyTorch's text, never an internal name.

Every call below runs in gradienti and in torch (the oracle). Where torch raises, gradienti
must raise the same class; the texts must be equal unless torch's is its overload listing
("received an invalid combination of arguments", which gradienti does not repeat) or carries
a C++ stack trace; then gradienti's must at least not leak an internal name. Where torch
accepts the call, gradienti must too.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from same_outcome import pytorch_text

import gradienti

torch = pytest.importorskip("torch")

# Internal attributes (``_data``, not ``requires_grad``) and what leaks from NumPy or Python
INTERNAL_NAME = re.compile(r"\b_(data|edge|node|grad|version)\b|has no attribute|ufunc|ndarray\.")

# Each template is called with every value in WRONG_VALUES put in for {bad}.
TEMPLATES = [
    # sizes
    "lib.zeros({bad})",
    "lib.ones({bad})",
    "lib.empty({bad})",
    "lib.rand({bad})",
    "lib.randn({bad})",
    "lib.zeros(2, {bad})",
    "lib.empty(({bad}, 2))",
    "lib.full({bad}, 1.0)",
    "lib.randint(5, {bad})",
    "lib.randint(0, 5, {bad})",
    # numbers
    "lib.full((2,), {bad})",
    "lib.full_like(lib.zeros(2), {bad})",
    "lib.arange({bad})",
    "lib.arange(0, 5, {bad})",
    "lib.linspace({bad}, 1, 3)",
    "lib.linspace(0, 1, {bad})",
    "lib.eye({bad})",
    "lib.randint({bad}, (2,))",
    "lib.randperm({bad})",
    # the input of *_like
    "lib.zeros_like({bad})",
    "lib.ones_like({bad})",
    "lib.empty_like({bad})",
    "lib.full_like({bad}, 1)",
    # keyword arguments
    "lib.zeros(2, requires_grad={bad})",
    "lib.ones(2, requires_grad={bad})",
    "lib.full((2,), 1.0, requires_grad={bad})",
    "lib.zeros_like(lib.zeros(2), requires_grad={bad})",
    "lib.tensor([1.0], requires_grad={bad})",
    "lib.tensor(1.0, requires_grad={bad})",
    "lib.rand(2, requires_grad={bad})",
    "lib.arange(3.0, requires_grad={bad})",
    "lib.eye(2, requires_grad={bad})",
    "lib.linspace(0, 1, 3, requires_grad={bad})",
    "lib.randint(5, (2,), requires_grad={bad})",
    "lib.zeros(2, dtype={bad})",
    "lib.tensor([1.0], dtype={bad})",
    "lib.zeros_like(lib.zeros(2), dtype={bad})",
    "lib.full((2,), 1.0, dtype={bad})",
    "lib.as_tensor([1.0], dtype={bad})",
    "lib.randn(2, dtype={bad})",
    "lib.zeros(2).to(dtype={bad})",
    # data
    "lib.tensor({bad})",
    "lib.tensor([{bad}])",
    "lib.tensor([1.0, {bad}])",
    "lib.tensor([[1.0], {bad}])",
    "lib.tensor([{bad}], dtype=lib.float32)",
    "lib.tensor([{bad}], dtype=lib.int64)",
    # module constructors
    "lib.nn.Linear({bad}, 2)",
    "lib.nn.Linear(2, {bad})",
    "lib.nn.Linear(2, 2, dtype={bad})",
    "lib.nn.Conv1d(2, {bad}, 3)",
    "lib.nn.Conv2d(2, 2, {bad})",
    "lib.nn.Conv1d(2, 2, {bad})",
    "lib.nn.Conv2d(2, 2, 3, groups={bad})",
    "lib.nn.Embedding({bad}, 3)",
    "lib.nn.Embedding(3, {bad})",
    "lib.nn.LayerNorm({bad})",
    "lib.nn.BatchNorm1d({bad})",
    "lib.nn.BatchNorm2d({bad})",
    "lib.nn.Dropout({bad})",
    "lib.nn.Dropout(p={bad})",
    "lib.nn.Parameter(lib.zeros(2), requires_grad={bad})",
    # in place
    "lib.zeros(3).copy_({bad})",
    "lib.zeros(3).fill_({bad})",
    "lib.zeros(3).uniform_({bad})",
    "lib.zeros(3).uniform_(0, {bad})",
    "lib.zeros(3).normal_({bad})",
    "lib.zeros(3).normal_(0, {bad})",
    # autograd
    "lib.zeros(2).requires_grad_({bad})",
    "setattr(lib.zeros(2), 'requires_grad', {bad})",
    "setattr(lib.zeros(2), 'grad', {bad})",
    "setattr(lib.zeros(2), 'data', {bad})",
    "lib.zeros(2, requires_grad=True).sum().backward(gradient={bad})",
    "lib.zeros(2, requires_grad=True).backward(gradient={bad})",
    "lib.zeros(2, requires_grad=True).sum().backward(inputs={bad})",
    "lib.zeros(2, requires_grad=True).sum().backward(retain_graph={bad})",
    "lib.zeros(2, requires_grad=True).sum().backward(create_graph={bad})",
]
WRONG_VALUES = [
    '"3"',
    "None",
    "2.5",
    "-1",
    '["a"]',
    "[2.5]",
    "True",
    '(2, "a")',
    "[None]",
    "object()",
    "np.float64(2.5)",
    "np.bool_(True)",
    "lib.zeros(2)",
    "lib.tensor(2.5)",
    "2**70",
]
# Where gradienti knowingly differs, and why.
KNOWN_DIFFERENCES = {
    # A None given for an argument whose default is None cannot be told from no argument.
    "lib.randint(5, None)",
    # PyTorch's Tensor.backward reads `inputs` for a non-leaf as retain_grad; the engine's
    # text is autograd.grad's (the engine is not in this file's scope).
    "lib.zeros(2, requires_grad=True).sum().backward(inputs=lib.zeros(2))",
    "lib.zeros(2, requires_grad=True).sum().backward(inputs=lib.tensor(2.5))",
    # numpy.bool into an integer dtype: PyTorch refuses it, gradienti converts it like bool.
    "lib.tensor([np.bool_(True)], dtype=lib.int64)",
    # A Tensor as a channel count or groups: PyTorch fails later, in its own arithmetic.
    "lib.nn.Conv1d(2, lib.zeros(2), 3)",
    "lib.nn.Conv1d(2, lib.tensor(2.5), 3)",
    "lib.nn.Conv2d(2, 2, 3, groups=lib.tensor(2.5))",
}


def _outcome(lib, call: str):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            eval(call, {"lib": lib, "np": np})  # noqa: S307 - the table's own expressions
        except Exception as error:  # noqa: BLE001 - the exception is what is compared
            return error
    return None


def _mismatch(call: str) -> str | None:
    """How gradienti's outcome differs from torch's, or None."""
    expected = _outcome(torch, call)
    got = _outcome(gradienti, call)
    if expected is None:
        return None if got is None else f"{call}: torch accepts it, gradienti raised {got!r}"
    if type(got) is not type(expected):
        return f"{call}: torch raised {expected!r}, gradienti {got!r}"
    text = str(expected)
    if "invalid combination of arguments" in text or "Exception raised from" in text:
        leaked = INTERNAL_NAME.search(str(got))
        return f"{call}: {got!r} names {leaked.group()}" if leaked else None
    ours = pytorch_text(str(got))
    return None if ours == text else f"{call}: torch says {text!r}, gradienti {ours!r}"


@pytest.mark.parametrize("template", TEMPLATES)
def test_wrong_arguments_raise_as_torch(template):
    calls = [template.format(bad=bad) for bad in WRONG_VALUES]
    mismatches = [_mismatch(call) for call in calls if call not in KNOWN_DIFFERENCES]
    assert [m for m in mismatches if m] == []


NAMED_CASES = [
    # the examples
    'lib.tensor(["a"])',
    "lib.tensor([None, 1.0])",
    "lib.tensor([2**64])",
    'lib.ones("3")',
    'lib.nn.Linear("3", 2)',
    'lib.zeros(2, requires_grad="yes")',
    'lib.zeros(2).requires_grad_("yes")',
    'setattr(lib.zeros(2), "requires_grad", "yes")',
    "lib.zeros(2, requires_grad=True).sum().backward(gradient=[1.0, 1.0])",
    # data PyTorch cannot read
    'lib.tensor("abc")',
    'lib.tensor(b"ab")',
    'lib.tensor([1, "a"])',
    'lib.tensor([[1, 2], [3, "a"]])',
    "lib.tensor([[1], 2])",
    "lib.tensor([1, [2]])",
    "lib.tensor([[1, 2], [3]])",
    "lib.tensor([[[1]], [[2, 3]]])",
    "lib.tensor({1: 2})",
    "lib.tensor({1, 2})",
    "lib.tensor([2**63])",
    "lib.tensor(2**63)",
    "lib.tensor([-(2**63) - 1])",
    "lib.tensor([2**64], dtype=lib.uint8)",
    "lib.tensor([300], dtype=lib.uint8)",
    "lib.tensor(300, dtype=lib.uint8)",
    "lib.tensor([128], dtype=lib.int8)",
    "lib.tensor([2**31], dtype=lib.int32)",
    "lib.tensor([-1.5], dtype=lib.uint8)",
    "lib.tensor([1e30], dtype=lib.int64)",
    "lib.tensor([float('nan')], dtype=lib.int64)",
    "lib.tensor([np.int64(300)], dtype=lib.uint8)",
    "lib.tensor([lib.tensor(300), 3], dtype=lib.uint8)",
    "lib.tensor([lib.tensor(2.5)], dtype=lib.int64)",
    "lib.tensor([lib.tensor([1.0, 2.0]), lib.tensor([1.0])])",
    "lib.tensor([lib.tensor([1.0, 2.0]), [3.0, 4.0]])",
    "lib.tensor([[1.0, 2.0], lib.tensor(3.0)])",
    "lib.tensor([np.array([1.0, 2.0]), np.array([3.0])])",
    'lib.tensor([np.str_("a")])',
    # sizes and ranges
    "lib.zeros()",
    "lib.zeros((2,), 3)",
    "lib.zeros(-1)",
    "lib.ones(2, -3)",
    "lib.rand(2, -1)",
    "lib.full((-1,), 1.0)",
    "lib.zeros(np.array([2, 3]))",
    "lib.zeros(2, dtype=np.float32)",
    "lib.zeros(2, device=3.5)",
    "lib.arange(float('nan'))",
    "lib.arange(float('inf'))",
    "lib.arange(0, 5, 0)",
    "lib.arange(5, 0)",
    "lib.linspace(0, 1, -1)",
    "lib.linspace(lib.zeros(2), 1, 3)",
    "lib.eye(-1)",
    "lib.eye(2, -1)",
    "lib.rand(2, dtype=lib.int64)",
    "lib.randn(2, dtype=lib.int64)",
    "lib.randperm(-1)",
    # in place: the result must fit the tensor written to
    "lib.zeros(3).add_(lib.zeros(2, 3))",
    "lib.zeros(3).__iadd__(lib.zeros(2, 3))",
    "lib.zeros(3).sub_(lib.zeros(2, 3))",
    "lib.zeros(3).mul_(lib.zeros(2, 3))",
    "lib.zeros(3).div_(lib.zeros(2, 3))",
    "lib.zeros(3).pow_(lib.zeros(2, 3))",
    "lib.zeros(3).clamp_(lib.zeros(2, 3))",
    "lib.zeros(1, 3).mul_(lib.zeros(2, 1))",
    "lib.zeros(()).add_(lib.zeros(3))",
    "lib.zeros(3, dtype=lib.int64).add_(lib.zeros(2, 3))",
    "lib.zeros(3, requires_grad=True).add_(lib.zeros(2, 3))",
    "lib.zeros(3).copy_(lib.zeros(2, 3))",
    "lib.zeros(3).copy_(lib.zeros(2, 1))",
    "lib.zeros(3).copy_(lib.zeros(2))",
    "lib.zeros(3).copy_([1, 2, 3])",
    "lib.zeros(3).fill_(lib.zeros(1))",
    "lib.zeros(3).uniform_(1, 0)",
    # autograd
    'setattr(lib.zeros(2, requires_grad=True) * 2, "requires_grad", "x")',
    "lib.zeros(2, requires_grad=True).sum().backward(gradient=[])",
    "lib.zeros(2, requires_grad=True).sum().backward(inputs=['a'])",
    "lib.zeros(2, requires_grad=True).sum().backward(inputs={})",
    "lib.zeros(2, requires_grad=True).sum().backward(retain_graph=256)",
    "lib.zeros(2).sum().backward(gradient=[1.0])",
    # module constructors
    "lib.nn.Linear(-1, 2)",
    'lib.nn.Conv2d("3", 2, 3)',
    "lib.nn.Conv2d(2, 2, 3, groups=0)",
    "lib.nn.Conv2d(2, 3, 3, groups=2)",
    "lib.nn.BatchNorm1d(-1)",
    'lib.nn.LayerNorm([3, "a"])',
    "lib.nn.Dropout(1.5)",
    "lib.nn.Dropout(-0.1)",
]


@pytest.mark.parametrize("call", NAMED_CASES)
def test_named_mistakes_raise_as_torch(call):
    assert _outcome(torch, call) is not None  # each is a mistake in PyTorch
    assert _mismatch(call) is None


ACCEPTED_AS_TORCH = [
    "lib.tensor([-1], dtype=lib.uint8)",  # ints wrap into uint8 down to -255
    "lib.tensor([1.5], dtype=lib.uint8)",
    "lib.tensor([[], [1]])",
    "lib.tensor([1.5, 2**70])",
    "lib.tensor([lib.tensor(1.0), 2])",
    "lib.tensor([[1.0, 2.0], lib.tensor([3.0, 4.0])])",
    "lib.tensor([lib.tensor(True)], dtype=lib.int64)",
    "lib.tensor(bytearray(b'ab'))",
    "lib.tensor(range(3))",
    "lib.zeros(2, True)",
    "lib.zeros((2, np.int64(3)))",
    "lib.zeros(lib.tensor(2))",
    "lib.zeros(lib.Size([2]))",
    "lib.zeros(2, requires_grad=None)",
    "lib.zeros(2, dtype=float)",
    "lib.zeros(2).to(float)",
    "lib.zeros(2).to(dtype=int)",
    "lib.full((2,), lib.tensor(1.0))",
    "lib.arange(True)",
    "lib.linspace(lib.tensor(0.0), 1, 3)",
    "lib.eye(np.int64(2))",
    "lib.randint(5, size=(3,))",
    "lib.zeros(3).copy_(1.0)",
    "lib.zeros(3).copy_(lib.zeros(1))",
    "lib.zeros(3).fill_(lib.tensor(2.0))",
    "lib.zeros(3).uniform_(lib.tensor(0.0), 1)",
    "lib.zeros(2, requires_grad=True).sum().backward(gradient=[lib.tensor(1.0)])",
    "lib.zeros(2, requires_grad=True).sum().backward(gradient=[lib.tensor(1.0), lib.tensor(1.0)])",
    "lib.zeros(2, requires_grad=True).sum().backward(retain_graph=1)",
    "lib.nn.Conv2d(2, 2, 3, stride='3')",
]


@pytest.mark.parametrize("call", ACCEPTED_AS_TORCH)
def test_accepted_as_torch_with_the_same_values(call):
    namespace = {"np": np}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = eval(call, {**namespace, "lib": torch})  # noqa: S307
        got = eval(call, {**namespace, "lib": gradienti})  # noqa: S307
    if isinstance(expected, torch.Tensor):
        assert got.dtype.name == str(expected.dtype).removeprefix("torch.")
        assert got.shape == tuple(expected.shape)
        if expected.dtype.is_floating_point and call.startswith("lib.tensor"):
            np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_a_failed_in_place_op_changes_nothing():
    target = gradienti.tensor([1.0, 2.0, 3.0])
    version = target._version
    for call in (
        lambda: target.add_(gradienti.ones(2, 3)),
        lambda: target.copy_(gradienti.ones(2, 1)),
        lambda: target.uniform_(1, 0),
        lambda: target.normal_(0, -1),
        lambda: target.fill_(gradienti.ones(1)),
    ):
        with pytest.raises(RuntimeError):
            call()
        assert target.tolist() == [1.0, 2.0, 3.0]
        assert target._version == version


def test_a_failed_backward_leaves_the_gradients_alone():
    leaf = gradienti.tensor([1.0, 2.0], requires_grad=True)
    total = (leaf * 3).sum()
    for arguments in ({"inputs": ["a"]}, {"retain_graph": "yes"}, {"gradient": [1.0]}):
        with pytest.raises((RuntimeError, TypeError)):
            total.backward(**arguments)
        assert leaf.grad is None
    total.backward()  # the graph was not consumed by the failed calls
    assert leaf.grad.tolist() == [3.0, 3.0]


def test_a_failed_requires_grad_change_keeps_the_flag():
    leaf = gradienti.zeros(2)
    for flag in ("yes", 1, None):
        with pytest.raises(RuntimeError, match="requires_grad must be a bool"):
            leaf.requires_grad = flag
        with pytest.raises(TypeError):
            leaf.requires_grad_(flag)
        assert not leaf.requires_grad
