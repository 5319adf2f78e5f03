"""PyTorch's module paths: ``torch.nn.modules.linear.Linear``, ``torch.utils.data.dataloader``,
``torch.nn.utils.rnn``, ``torch.nn.parameter``, ``torch.optim.optimizer``... import under
gradienti and are the very objects of the top-level names; ``pad_sequence`` against torch."""

import importlib

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")


def _ours(torch_module: str):
    return importlib.import_module("gradienti" + torch_module.removeprefix("torch"))


def _nn_layers_by_torch_module():
    for name in gradienti.nn.__all__:
        theirs = getattr(torch.nn, name, None)
        if isinstance(theirs, type) and theirs.__module__.startswith("torch.nn.modules."):
            yield theirs.__module__, name


@pytest.mark.parametrize(("torch_module", "name"), sorted(_nn_layers_by_torch_module()))
def test_every_layer_is_where_pytorch_has_it(torch_module, name):
    """A layer added to gradienti.nn needs its name in nn/modules/<its PyTorch module>.py."""
    assert getattr(_ours(torch_module), name) is getattr(gradienti.nn, name)
    assert getattr(gradienti.nn.modules, name) is getattr(gradienti.nn, name)


def test_the_paths_learner_code_imports():
    from gradienti.nn.modules.activation import ReLU
    from gradienti.nn.modules.container import Sequential
    from gradienti.nn.modules.conv import Conv2d
    from gradienti.nn.modules.linear import Linear
    from gradienti.nn.modules.loss import CrossEntropyLoss, _Loss
    from gradienti.nn.parameter import Parameter
    from gradienti.nn.utils.rnn import pad_sequence
    from gradienti.optim.optimizer import Optimizer
    from gradienti.utils.data.dataloader import DataLoader
    from gradienti.utils.data.dataset import Dataset, TensorDataset, random_split
    from gradienti.utils.data.sampler import RandomSampler

    assert Linear is gradienti.nn.Linear and ReLU is gradienti.nn.ReLU
    assert Sequential is gradienti.nn.Sequential and Conv2d is gradienti.nn.Conv2d
    assert CrossEntropyLoss is gradienti.nn.CrossEntropyLoss
    assert issubclass(CrossEntropyLoss, _Loss)
    assert Parameter is gradienti.nn.Parameter
    assert Optimizer is gradienti.optim.Optimizer
    assert pad_sequence is gradienti.nn.utils.rnn.pad_sequence
    assert DataLoader is gradienti.utils.data.DataLoader
    assert Dataset is gradienti.utils.data.Dataset
    assert TensorDataset is gradienti.utils.data.TensorDataset
    assert random_split is gradienti.utils.data.random_split
    assert RandomSampler is gradienti.utils.data.RandomSampler


@pytest.mark.parametrize("name", sorted(gradienti.utils.data.__all__))
def test_utils_data_names_are_in_pytorchs_modules(name):
    """Each name of utils.data is also at the submodule PyTorch defines it in (or, for the
    collate functions, re-exports it from: torch.utils.data.dataloader)."""
    module = getattr(torch.utils.data, name).__module__
    if module == "torch.utils.data._utils.collate":
        module = "torch.utils.data.dataloader"
    assert getattr(_ours(module), name) is getattr(gradienti.utils.data, name)


def test_module_paths_hold_the_same_objects_as_torchs_spelling():
    for torch_module in ("torch.nn.parameter", "torch.optim.optimizer", "torch.nn.utils.rnn"):
        ours = _ours(torch_module)
        theirs = importlib.import_module(torch_module)
        for name in ("Parameter", "Optimizer", "pad_sequence"):
            if hasattr(theirs, name):
                assert hasattr(ours, name), f"{torch_module}.{name}"


def _sequences(lib, dtypes=("float32", "float32", "float32"), lengths=(3, 1, 4)):
    rng = np.random.default_rng(0)
    return [
        lib.tensor(rng.normal(size=(n, 2)).astype(dtype), requires_grad=dtype.startswith("f"))
        for n, dtype in zip(lengths, dtypes)
    ]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("padding_value", [0.0, -1.5])
def test_pad_sequence_against_torch(batch_first, padding_side, padding_value):
    results = []
    for lib in (gradienti, torch):
        sequences = _sequences(lib)
        out = lib.nn.utils.rnn.pad_sequence(
            sequences, batch_first=batch_first, padding_value=padding_value,
            padding_side=padding_side,
        )  # fmt: skip
        upstream = lib.tensor(np.arange(out.numel(), dtype=np.float32).reshape(tuple(out.shape)))
        (out * upstream).sum().backward()
        results.append((out.detach().numpy(), [s.grad.numpy() for s in sequences], out.dtype))
    ours, theirs = results
    np.testing.assert_array_equal(ours[0], theirs[0])
    for g_ours, g_theirs in zip(ours[1], theirs[1]):
        np.testing.assert_array_equal(g_ours, g_theirs)
    assert str(ours[2]) == str(theirs[2])


def test_pad_sequence_dtype_casts_and_tensor_input():
    for dtypes in (("int64", "float32"), ("float32", "int64")):
        outs = [
            lib.nn.utils.rnn.pad_sequence(
                [s.detach() for s in _sequences(lib, dtypes, (2, 3))], padding_value=-1.5
            )
            for lib in (gradienti, torch)
        ]
        assert str(outs[0].dtype) == str(outs[1].dtype)
        np.testing.assert_array_equal(outs[0].numpy(), outs[1].numpy())
    stacked = np.arange(6, dtype=np.float32).reshape(2, 3)
    outs = [lib.nn.utils.rnn.pad_sequence(lib.tensor(stacked)) for lib in (gradienti, torch)]
    np.testing.assert_array_equal(outs[0].numpy(), outs[1].numpy())


@pytest.mark.parametrize(
    "call",
    [
        "pad([])",
        "pad([torch.ones(3, 2), torch.ones(2, 3)])",
        "pad([torch.ones(3, 2), torch.ones(2, 2, 3)])",
        "pad([torch.ones(3, 2), torch.ones(2, 2)], padding_side='middle')",
    ],
)
def test_pad_sequence_errors(call):
    outcomes = []
    for lib in (gradienti, torch):
        scope = {"torch": lib, "pad": lib.nn.utils.rnn.pad_sequence}
        with pytest.raises(RuntimeError) as caught:
            eval(call, scope)
        outcomes.append(str(caught.value))
    assert outcomes[0] == outcomes[1]
