"""Checkpoints cross between gradienti and real PyTorch in both directions.

For every layer of ``gradienti.nn`` that holds parameters or buffers, the same constructor call
builds the layer in both libraries; one side's ``state_dict`` is written with its own ``save``,
read with the other library's ``load`` (``torch.load(..., weights_only=True)``, the safe path
PyTorch recommends), loaded with ``load_state_dict(strict=True)``, and both modules must then
give the same outputs on the same input. (Optimizers and schedulers:
test_checkpoint_roundtrip_optim.py.)
"""

import numpy as np
import pytest
from checkpoint_helpers import (
    assert_same_arrays,
    flat_outputs,
    floats,
    gradienti_to_torch,
    indices,
    probabilities,
    to_numpy,
    torch_to_gradienti,
    weights,
)

import gradienti
import gradienti.nn as gnn

torch = pytest.importorskip("torch")
tnn = torch.nn

SEED = 0

# --- the layers ---------------------------------------------------------------------------------

# name -> (build(nn, lib) -> module, inputs() -> list of NumPy arrays). ``nn`` is gradienti.nn
# or torch.nn and ``lib`` gradienti or torch, so both libraries run the same constructor call.
LAYERS = {
    "Linear": (lambda nn, lib: nn.Linear(5, 3), lambda: [floats(4, 5)]),
    "Bilinear": (lambda nn, lib: nn.Bilinear(3, 4, 2), lambda: [floats(5, 3), floats(5, 4)]),
    "LazyLinear": (lambda nn, lib: nn.LazyLinear(3), lambda: [floats(4, 6)]),
    "Conv1d": (lambda nn, lib: nn.Conv1d(2, 4, 3, padding=1), lambda: [floats(2, 2, 7)]),
    "Conv2d": (
        lambda nn, lib: nn.Conv2d(2, 3, (3, 2), stride=2, groups=1, bias=False),
        lambda: [floats(2, 2, 6, 5)],
    ),
    "Embedding": (lambda nn, lib: nn.Embedding(10, 4, padding_idx=0), lambda: [indices(10, 3, 5)]),
    "BatchNorm1d": (lambda nn, lib: nn.BatchNorm1d(4), lambda: [floats(6, 4)]),
    "BatchNorm2d": (lambda nn, lib: nn.BatchNorm2d(3, momentum=None), lambda: [floats(4, 3, 2, 2)]),
    "LayerNorm": (lambda nn, lib: nn.LayerNorm([3, 4]), lambda: [floats(2, 3, 4)]),
    "GroupNorm": (lambda nn, lib: nn.GroupNorm(2, 4), lambda: [floats(3, 4, 5)]),
    "RMSNorm": (lambda nn, lib: nn.RMSNorm(5), lambda: [floats(3, 5)]),
    "InstanceNorm1d": (
        lambda nn, lib: nn.InstanceNorm1d(3, affine=True, track_running_stats=True),
        lambda: [floats(2, 3, 6)],
    ),
    "InstanceNorm2d": (
        lambda nn, lib: nn.InstanceNorm2d(2, affine=True, track_running_stats=True),
        lambda: [floats(2, 2, 3, 4)],
    ),
    "InstanceNorm3d": (
        lambda nn, lib: nn.InstanceNorm3d(2, affine=True, track_running_stats=True),
        lambda: [floats(2, 2, 3, 2, 3)],
    ),
    "PReLU": (lambda nn, lib: nn.PReLU(3, init=0.1), lambda: [floats(4, 3)]),
    "RNN": (
        lambda nn, lib: nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bidirectional=True),
        lambda: [floats(5, 2, 3)],
    ),
    "LSTM": (
        lambda nn, lib: nn.LSTM(3, 5, num_layers=2, proj_size=2, batch_first=True),
        lambda: [floats(2, 4, 3)],
    ),
    "GRU": (lambda nn, lib: nn.GRU(3, 4, bias=False), lambda: [floats(5, 2, 3)]),
    "RNNCell": (lambda nn, lib: nn.RNNCell(3, 4), lambda: [floats(2, 3)]),
    "LSTMCell": (lambda nn, lib: nn.LSTMCell(3, 4), lambda: [floats(2, 3)]),
    "GRUCell": (lambda nn, lib: nn.GRUCell(3, 4), lambda: [floats(2, 3)]),
    "MultiheadAttention": (
        lambda nn, lib: nn.MultiheadAttention(6, 2, kdim=4, vdim=5, batch_first=True),
        lambda: [floats(2, 3, 6), floats(2, 4, 4), floats(2, 4, 5)],
    ),
    "TransformerEncoderLayer": (
        lambda nn, lib: nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
        lambda: [floats(2, 3, 8)],
    ),
    "TransformerDecoderLayer": (
        lambda nn, lib: nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True),
        lambda: [floats(3, 2, 8), floats(4, 2, 8)],
    ),
    "TransformerEncoder": (
        lambda nn, lib: nn.TransformerEncoder(
            nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0),
            2,
            norm=nn.LayerNorm(8),
            enable_nested_tensor=False,
        ),
        lambda: [floats(3, 2, 8)],
    ),
    "TransformerDecoder": (
        lambda nn, lib: nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 2),
        lambda: [floats(3, 2, 8), floats(4, 2, 8)],
    ),
    "Transformer": (
        lambda nn, lib: nn.Transformer(
            8, 2, 1, 1, dim_feedforward=16, dropout=0.0, activation="gelu", batch_first=True
        ),
        lambda: [floats(2, 4, 8), floats(2, 3, 8)],
    ),
    # Containers, nested inside one another: the keys are dotted paths ("1.layers.0.weight").
    "Sequential": (
        lambda nn, lib: nn.Sequential(
            nn.Linear(4, 6),
            nn.BatchNorm1d(6),
            nn.ReLU(),
            nn.Sequential(nn.Linear(6, 3), nn.Tanh()),
        ),
        lambda: [floats(5, 4)],
    ),
    "ModuleList": (
        lambda nn, lib: _Stack(nn, lib, nn.ModuleList([nn.Linear(4, 4), nn.LayerNorm(4)])),
        lambda: [floats(3, 4)],
    ),
    "ModuleDict": (
        lambda nn, lib: _Stack(
            nn, lib, nn.ModuleDict({"proj": nn.Linear(4, 4), "inner": nn.ModuleList([nn.PReLU()])})
        ),
        lambda: [floats(3, 4)],
    ),
    "DataParallel": (lambda nn, lib: nn.DataParallel(nn.Linear(4, 2)), lambda: [floats(3, 4)]),
    # Losses constructed with class weights keep them as buffers, as PyTorch's do.
    "CrossEntropyLoss": (
        lambda nn, lib: nn.CrossEntropyLoss(weight=lib.tensor(weights(4))),
        lambda: [floats(5, 4), indices(4, 5)],
    ),
    "NLLLoss": (
        lambda nn, lib: nn.NLLLoss(weight=lib.tensor(weights(3))),
        lambda: [floats(5, 3), indices(3, 5)],
    ),
    "BCELoss": (
        lambda nn, lib: nn.BCELoss(weight=lib.tensor(weights(3))),
        lambda: [probabilities(2, 3), probabilities(2, 3)],
    ),
    "BCEWithLogitsLoss": (
        lambda nn, lib: nn.BCEWithLogitsLoss(
            weight=lib.tensor(weights(3)), pos_weight=lib.tensor(weights(3)[::-1].copy())
        ),
        lambda: [floats(2, 3), probabilities(2, 3)],
    ),
    "MultiLabelSoftMarginLoss": (
        lambda nn, lib: nn.MultiLabelSoftMarginLoss(weight=lib.tensor(weights(3))),
        lambda: [floats(2, 3), (probabilities(2, 3) > 0.5).astype(np.float32)],
    ),
}


def _Stack(nn, lib, children):
    """A small user module holding a ModuleList or ModuleDict, as models do."""

    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.children_ = children

        def forward(self, x):
            modules = (
                self.children_.values() if hasattr(self.children_, "values") else self.children_
            )
            for module in modules:
                if isinstance(module, nn.ModuleList):
                    for inner in module:
                        x = inner(x)
                else:
                    x = module(x)
            return x

    return Stack()


# Layers of gradienti.nn with no parameters and no buffers (for those that take arguments, the
# arguments used to check that their state dict is empty in both libraries).
STATELESS = {
    "AdaptiveAvgPool1d": (2,),
    "AdaptiveAvgPool2d": (2,),
    "AvgPool1d": (2,),
    "AvgPool2d": (2,),
    "MaxPool1d": (2,),
    "MaxPool2d": (2,),
    "Dropout": (),
    "ELU": (),
    "Flatten": (),
    "GELU": (),
    "Hardtanh": (),
    "HuberLoss": (),
    "Identity": (),
    "L1Loss": (),
    "LeakyReLU": (),
    "LogSigmoid": (),
    "LogSoftmax": (1,),
    "MSELoss": (),
    "ReLU": (),
    "SiLU": (),
    "Sigmoid": (),
    "SmoothL1Loss": (),
    "CosineEmbeddingLoss": (),
    "GaussianNLLLoss": (),
    "HingeEmbeddingLoss": (),
    "KLDivLoss": (),
    "MarginRankingLoss": (),
    "PoissonNLLLoss": (),
    "SoftMarginLoss": (),
    "TripletMarginLoss": (),
    "CosineSimilarity": (),
    "PairwiseDistance": (),
    "Softmax": (1,),
    "Softplus": (),
    "Tanh": (),
    "CELU": (),
    "GLU": (),
    "SELU": (),
    "Hardshrink": (),
    "Hardsigmoid": (),
    "Hardswish": (),
    "Mish": (),
    "ReLU6": (),
    "Softmax2d": (),
    "Softmin": (1,),
    "Softshrink": (),
    "Softsign": (),
    "Tanhshrink": (),
    "Threshold": (0.1, 20.0),
    "Unflatten": (1, (2, 2)),
    "CircularPad1d": (1,),
    "CircularPad2d": (1,),
    "CircularPad3d": (1,),
    "ConstantPad1d": (1, 0.5),
    "ConstantPad2d": (1, 0.5),
    "ConstantPad3d": (1, 0.5),
    "ReflectionPad1d": (1,),
    "ReflectionPad2d": (1,),
    "ReflectionPad3d": (1,),
    "ReplicationPad1d": (1,),
    "ReplicationPad2d": (1,),
    "ReplicationPad3d": (1,),
    "ZeroPad1d": (1,),
    "ZeroPad2d": (1,),
    "ZeroPad3d": (1,),
    "Upsample": (None, 2),
    "UpsamplingBilinear2d": (None, 2),
    "UpsamplingNearest2d": (None, 2),
}

# Names in gradienti.nn.__all__ that are not layers one builds and checkpoints on their own.
NOT_LAYERS = {
    "Module": "the base class (user modules are covered by ModuleList/ModuleDict above)",
    "Parameter": "a tensor, not a module",
    "UninitializedParameter": "a lazy module's placeholder (LazyLinear is covered)",
    "RNNBase": "the base of RNN/LSTM/GRU, each covered",
    "RNNCellBase": "the base of the cells, each covered",
}

# The layers whose buffers are statistics collected in training mode: a few training-mode
# forward passes give them values other than their initial ones before the checkpoint.
COLLECTS_STATISTICS = ("BatchNorm", "InstanceNorm", "Sequential")


def module_classes_of_gradienti_nn():
    """The Module classes gradienti.nn lists in __all__ or has as public names."""
    names = set(gnn.__all__) | {name for name in dir(gnn) if not name.startswith("_")}
    return {
        name
        for name in names
        if isinstance(getattr(gnn, name), type) and issubclass(getattr(gnn, name), gnn.Module)
    }


def test_every_layer_of_gradienti_nn_is_in_the_matrix():
    """A new layer added to gradienti.nn fails here until it is sorted into a table above."""
    layers = module_classes_of_gradienti_nn() | {"Parameter", "UninitializedParameter"}
    tabled = set(LAYERS) | set(STATELESS) | set(NOT_LAYERS)
    assert layers - tabled == set()
    assert tabled - layers == set()
    assert not (set(LAYERS) & set(STATELESS))


@pytest.mark.parametrize("name", sorted(STATELESS))
def test_stateless_layers_have_empty_state_dicts_in_both_libraries(name):
    arguments = STATELESS[name]
    assert list(getattr(gnn, name)(*arguments).state_dict()) == []
    assert list(getattr(tnn, name)(*arguments).state_dict()) == []


def build_pair(name):
    """The layer built by gradienti and by torch from different seeds (so a load must happen)."""
    build, inputs = LAYERS[name]
    gradienti.manual_seed(SEED)
    ours = build(gnn, gradienti)
    torch.manual_seed(SEED + 1)
    theirs = build(tnn, torch)
    return ours, theirs, inputs()


def gradienti_inputs(arrays):
    return [gradienti.tensor(array) for array in arrays]


def torch_inputs(arrays):
    return [torch.tensor(array) for array in arrays]


def give_state(module, inputs, lib):
    """Change a module's state away from its construction values: statistics from training
    passes, parameters moved off their initial values (RMSNorm's ones, zero biases), float
    buffers scaled (a loss's class weights are the same constructor argument on both sides)."""
    with lib.no_grad():
        if module.__class__.__name__ == "LazyLinear" or any(
            module.__class__.__name__.startswith(prefix) for prefix in COLLECTS_STATISTICS
        ):
            module.train()
            for scale in (1.0, 2.0, 0.5):
                module(*[x * scale for x in inputs])
        for index, parameter in enumerate(module.parameters()):
            parameter.add_(0.01 * (index + 1))
        for buffer in module.buffers():  # a loss's class weights, statistics
            if buffer.dtype.is_floating_point:
                buffer.mul_(1.25)


def assert_state_dicts_match(ours, theirs):
    """Same keys in the same order, same dtypes and shapes (values are checked via outputs)."""
    assert list(ours) == list(theirs)
    for key in ours:
        assert str(ours[key].dtype) == str(theirs[key].dtype), key  # both print "torch.float32"
        assert tuple(ours[key].shape) == tuple(theirs[key].shape), key


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_state_dict_from_gradienti_loads_into_torch(name, tmp_path):
    ours, theirs, arrays = build_pair(name)
    give_state(ours, gradienti_inputs(arrays), gradienti)
    if name == "LazyLinear":  # torch's lazy layer materializes on its first call
        theirs(*torch_inputs(arrays))
    state = gradienti_to_torch(ours.state_dict(), tmp_path)
    assert_state_dicts_match(ours.state_dict(), theirs.state_dict())
    result = theirs.load_state_dict(state, strict=True)
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    ours.eval()
    theirs.eval()
    with gradienti.no_grad():
        expected = flat_outputs(ours(*gradienti_inputs(arrays)))
    with torch.no_grad():
        actual = flat_outputs(theirs(*torch_inputs(arrays)))
    assert_same_arrays(actual, expected)
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), to_numpy(ours.state_dict()[key]), err_msg=key)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_state_dict_from_torch_loads_into_gradienti(name, tmp_path):
    ours, theirs, arrays = build_pair(name)
    give_state(theirs, torch_inputs(arrays), torch)
    if name == "LazyLinear":
        ours(*gradienti_inputs(arrays))
    state = torch_to_gradienti(theirs.state_dict(), tmp_path)
    assert_state_dicts_match(ours.state_dict(), theirs.state_dict())
    result = ours.load_state_dict(state, strict=True)
    assert list(result.missing_keys) == [] and list(result.unexpected_keys) == []
    ours.eval()
    theirs.eval()
    with torch.no_grad():
        expected = flat_outputs(theirs(*torch_inputs(arrays)))
    with gradienti.no_grad():
        actual = flat_outputs(ours(*gradienti_inputs(arrays)))
    assert_same_arrays(actual, expected)
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(
            to_numpy(value), theirs.state_dict()[key].numpy(), err_msg=key
        )


def test_num_batches_tracked_crosses_as_int64_with_its_count(tmp_path):
    ours = gnn.BatchNorm1d(3)
    with gradienti.no_grad():
        for _ in range(3):
            ours(gradienti.tensor(floats(4, 3)))
    state = gradienti_to_torch(ours.state_dict(), tmp_path)
    assert state["num_batches_tracked"].dtype == torch.int64
    assert state["num_batches_tracked"].item() == 3
    theirs = tnn.BatchNorm1d(3)
    theirs.load_state_dict(state)
    with torch.no_grad():
        theirs(torch.tensor(floats(4, 3)))
    back = torch_to_gradienti(theirs.state_dict(), tmp_path)
    assert back["num_batches_tracked"].dtype == gradienti.int64
    assert back["num_batches_tracked"].item() == 4


def test_a_whole_model_state_dict_loaded_into_the_other_library_refuses_a_wrong_layout(tmp_path):
    """strict=True is what catches a mismatch: torch's own error for a missing/unexpected key."""
    ours = gnn.Sequential(gnn.Linear(3, 2))
    state = gradienti_to_torch(ours.state_dict(), tmp_path)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "1.weight"'):
        tnn.Sequential(tnn.Linear(3, 2), tnn.Linear(2, 2)).load_state_dict(state, strict=True)


@pytest.mark.parametrize("dtype", ["float64", "float16"])
def test_state_dicts_of_other_float_dtypes_cross_with_their_dtype_and_bits(dtype, tmp_path):
    ours = gnn.Sequential(gnn.Linear(3, 4), gnn.BatchNorm1d(4)).to(getattr(gradienti, dtype))
    state = gradienti_to_torch(ours.state_dict(), tmp_path)
    theirs = tnn.Sequential(tnn.Linear(3, 4), tnn.BatchNorm1d(4)).to(getattr(torch, dtype))
    theirs.load_state_dict(state, strict=True)
    assert_state_dicts_match(ours.state_dict(), theirs.state_dict())
    assert str(state["1.num_batches_tracked"].dtype) == "torch.int64"  # .to(dtype) left it
    with torch.no_grad():
        theirs[0].weight.mul_(-3.0)
    back = torch_to_gradienti(theirs.state_dict(), tmp_path)
    ours.load_state_dict(back, strict=True)
    for key, value in ours.state_dict().items():
        assert str(value.dtype) == str(theirs.state_dict()[key].dtype), key
        np.testing.assert_array_equal(to_numpy(value), theirs.state_dict()[key].numpy(), key)
