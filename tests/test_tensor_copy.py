"""copy.deepcopy, copy.copy and pickle of tensors and Parameters, against torch."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

LIBS = [pytest.param(gradienti, id="gradienti"), pytest.param(torch, id="torch")]


@pytest.mark.parametrize("lib", LIBS)
def test_deepcopy_of_a_leaf_has_its_own_gradient(lib):
    original = lib.tensor([1.0, 2.0], requires_grad=True)
    original.grad = lib.ones(2)
    duplicate = copy.deepcopy(original)
    (duplicate * 2).sum().backward()
    assert original.grad.tolist() == [1.0, 1.0]  # untouched by the copy's backward
    assert duplicate.grad.tolist() == [3.0, 3.0]  # its own deep-copied grad, accumulated
    assert duplicate.is_leaf and duplicate.requires_grad
    assert duplicate.grad is not original.grad


@pytest.mark.parametrize("lib", LIBS)
def test_deepcopy_of_a_scalar_leaf_without_grad(lib):
    original = lib.tensor(3.0, requires_grad=True)
    duplicate = copy.deepcopy(original)
    (duplicate * 2).backward()
    assert original.grad is None
    assert duplicate.grad.item() == 2.0


@pytest.mark.parametrize("lib", LIBS)
def test_deepcopy_copies_memory_and_keeps_sharing_within_one_call(lib):
    base = lib.tensor([1.0, 2.0, 3.0])
    copied_base, tail, strided = copy.deepcopy([base, base[1:], base[::2]])
    copied_base[1] = 9.0
    copied_base[2] = 8.0
    assert base.tolist() == [1.0, 2.0, 3.0]
    assert tail.tolist() == [9.0, 8.0]
    assert strided.tolist() == [1.0, 8.0]
    matrix = lib.arange(6.0).reshape(2, 3)
    transposed, copied = copy.deepcopy([matrix.t(), matrix])
    copied[0, 1] = 7.0
    assert transposed.tolist() == [[0.0, 3.0], [7.0, 4.0], [2.0, 5.0]]


@pytest.mark.parametrize("lib", LIBS)
def test_deepcopy_shares_a_grad_shared_in_the_original(lib):
    leaf = lib.tensor([1.0, 2.0], requires_grad=True)
    leaf.grad = lib.ones(2)
    copied_leaf, copied_grad = copy.deepcopy((leaf, leaf.grad))
    assert copied_leaf.grad is copied_grad


@pytest.mark.parametrize("lib", LIBS)
def test_deepcopy_of_a_non_leaf_raises(lib):
    leaf = lib.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as raised:
        copy.deepcopy(leaf * 2)
    assert str(raised.value) == (
        "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
        "protocol at the moment.  If you were attempting to deepcopy a module, this may be "
        "because of a torch.nn.utils.weight_norm usage, see "
        "https://github.com/pytorch/pytorch/pull/103001"
    )


@pytest.mark.parametrize("lib", LIBS)
def test_deepcopy_of_a_parameter_has_no_grad(lib):
    parameter = lib.nn.Parameter(lib.ones(2))
    parameter.grad = lib.ones(2)
    duplicate = copy.deepcopy(parameter)
    assert type(duplicate).__name__ == "Parameter"
    assert duplicate.requires_grad and duplicate.grad is None
    frozen = copy.deepcopy(lib.nn.Parameter(lib.ones(2), requires_grad=False))
    assert not frozen.requires_grad
    (copy.deepcopy(parameter) * 1).sum().backward()
    assert parameter.grad.tolist() == [1.0, 1.0]


@pytest.mark.parametrize("lib", LIBS)
def test_copy_shares_memory_and_leaves_the_grad_behind(lib):
    leaf = lib.tensor([1.0, 2.0], requires_grad=True)
    leaf.grad = lib.ones(2)
    shallow = copy.copy(leaf)
    assert shallow is not leaf and shallow.is_leaf and shallow.requires_grad
    assert shallow.grad is None
    plain = lib.zeros(2)
    copy.copy(plain)[0] = 1.0
    assert plain.tolist() == [1.0, 0.0]
    computed = copy.copy(leaf * 2)  # PyTorch rebuilds a non-leaf as a leaf
    assert computed.is_leaf and computed.requires_grad and computed.grad_fn is None
    assert type(copy.copy(lib.nn.Parameter(lib.ones(1)))).__name__ == "Parameter"


@pytest.mark.parametrize("lib", LIBS)
def test_pickle_round_trip(lib):
    leaf = lib.tensor([1.0, 2.0], requires_grad=True)
    leaf.grad = lib.ones(2)
    values = [leaf, lib.nn.Parameter(lib.ones(2)), lib.tensor(2), lib.tensor([True]), leaf * 2]
    loaded = pickle.loads(pickle.dumps(values))
    assert [t.tolist() for t in loaded] == [[1.0, 2.0], [1.0, 1.0], 2, [True], [2.0, 4.0]]
    assert [t.requires_grad for t in loaded] == [True, True, False, False, True]
    assert all(t.is_leaf and t.grad is None for t in loaded)
    assert type(loaded[1]).__name__ == "Parameter"
    assert loaded[2].dtype == lib.int64


def test_deepcopy_of_a_model_trains_independently():
    model = gradienti.nn.Linear(3, 2)
    duplicate = copy.deepcopy(model)
    duplicate(gradienti.ones(1, 3)).sum().backward()
    assert model.weight.grad is None
    assert duplicate.weight.grad is not None
    np.testing.assert_array_equal(duplicate.weight.detach().numpy(), model.weight.detach().numpy())
