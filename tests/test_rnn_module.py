"""nn.RNN / nn.LSTM / nn.GRU as modules, against PyTorch: constructor errors and the dropout
warning, input and state errors, reprs, the parameter lists (``_flat_weights``,
``all_weights``), ``flatten_parameters``, dtype conversion, and the graph a forward records
(one fused node per layer and direction)."""

import warnings

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")  # the oracle
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")


def outcome(build):
    """(exception class name, message) of ``build`` for each library, or "ok"."""
    results = []
    for lib in (torch, gradienti):
        try:
            build(lib)
            results.append("ok")
        except Exception as error:  # noqa: BLE001 - the outcome itself is compared
            results.append((type(error).__name__, str(error)))
    return results


CONSTRUCTOR_ERRORS = {
    "proj_size on GRU": lambda lib: lib.nn.GRU(5, 4, proj_size=2),
    "proj_size on RNN": lambda lib: lib.nn.RNN(5, 4, proj_size=2),
    "unknown nonlinearity": lambda lib: lib.nn.RNN(5, 4, nonlinearity="sigmoid"),
    "unknown nonlinearity by position": lambda lib: lib.nn.RNN(5, 4, 1, "sigmoid"),
    "dropout above 1": lambda lib: lib.nn.LSTM(5, 4, dropout=1.5),
    "dropout below 0": lambda lib: lib.nn.LSTM(5, 4, dropout=-0.1, proj_size=9),
    "dropout a bool": lambda lib: lib.nn.GRU(5, 4, dropout=True),
    "dropout a string": lambda lib: lib.nn.LSTM(5, 4, dropout="0.5"),
    "bias not a bool": lambda lib: lib.nn.LSTM(5, 4, bias=1),
    "batch_first not a bool": lambda lib: lib.nn.LSTM(5, 4, batch_first=None),
    "input_size a float": lambda lib: lib.nn.LSTM(5.0, 4),
    "input_size zero": lambda lib: lib.nn.GRU(0, 4),
    "hidden_size a float": lambda lib: lib.nn.RNN(5, 4.0),
    "hidden_size zero": lambda lib: lib.nn.LSTM(5, 0),
    "num_layers zero": lambda lib: lib.nn.LSTM(5, 4, 0),
    "proj_size negative": lambda lib: lib.nn.LSTM(5, 4, proj_size=-1),
    "proj_size not below hidden_size": lambda lib: lib.nn.LSTM(5, 4, proj_size=4),
    "input_size twice": lambda lib: lib.nn.LSTM(5, 4, input_size=3),
    # the order of the checks: the first failing one is raised
    "dropout before bias": lambda lib: lib.nn.LSTM(5, 4, bias=1, dropout=2),
    "bias before input_size": lambda lib: lib.nn.GRU(0, 4, bias=None),
    "num_layers before proj_size": lambda lib: lib.nn.LSTM(5, 4, 0, proj_size=9),
    "proj_size before mode": lambda lib: lib.nn.RNNBase("TANH", 5, 4, proj_size=4),
    "unknown mode": lambda lib: lib.nn.RNNBase("TANH", 5, 4),
    "dropout not a number": lambda lib: lib.nn.GRU(5, 4, dropout="high"),
}


@pytest.mark.parametrize("name", CONSTRUCTOR_ERRORS)
def test_constructor_errors_are_pytorchs(name):
    theirs, ours = outcome(CONSTRUCTOR_ERRORS[name])
    assert theirs != "ok"
    assert ours == theirs


def _pack(lib, sizes):
    return lib.nn.utils.rnn.pack_sequence([lib.randn(n, 5) for n in sizes])


INPUT_ERRORS = {
    "dtype": lambda lib: lib.nn.LSTM(5, 4)(lib.randn(3, 2, 5).double()),
    "4-D LSTM": lambda lib: lib.nn.LSTM(5, 4)(lib.randn(3, 2, 5, 1)),
    "4-D GRU": lambda lib: lib.nn.GRU(5, 4)(lib.randn(3, 2, 5, 1)),
    "4-D RNN": lambda lib: lib.nn.RNN(5, 4)(lib.randn(3, 2, 5, 1)),
    "1-D RNN": lambda lib: lib.nn.RNN(5, 4)(lib.randn(5)),
    "input size": lambda lib: lib.nn.GRU(5, 4)(lib.randn(3, 2, 3)),
    "input size unbatched": lambda lib: lib.nn.LSTM(10, 4)(lib.randn(3, 5)),
    "hidden size": lambda lib: lib.nn.GRU(5, 4)(lib.randn(3, 2, 5), lib.zeros(1, 3, 4)),
    "hidden size layers": lambda lib: lib.nn.RNN(5, 20, 2)(lib.randn(3, 3, 5), lib.zeros(1, 3, 20)),
    "batched input 2-D hx": lambda lib: lib.nn.RNN(5, 4)(lib.randn(3, 2, 5), lib.zeros(2, 4)),
    "unbatched input 3-D hx": lambda lib: lib.nn.GRU(5, 4)(lib.randn(3, 5), lib.zeros(1, 1, 4)),
    "LSTM unbatched 3-D hx": lambda lib: lib.nn.LSTM(5, 4)(
        lib.randn(3, 5), (lib.zeros(1, 1, 4), lib.zeros(1, 4))
    ),
    "LSTM batched 2-D states": lambda lib: lib.nn.LSTM(5, 4)(
        lib.randn(3, 2, 5), (lib.zeros(1, 4), lib.zeros(1, 4))
    ),
    "LSTM h0 size": lambda lib: lib.nn.LSTM(5, 4, 2)(
        lib.randn(3, 2, 5), (lib.zeros(1, 2, 4), lib.zeros(2, 2, 4))
    ),
    "LSTM c0 size": lambda lib: lib.nn.LSTM(5, 4, 2)(
        lib.randn(3, 2, 5), (lib.zeros(2, 2, 4), lib.zeros(1, 2, 4))
    ),
    "LSTM proj h0 size": lambda lib: lib.nn.LSTM(5, 4, proj_size=2)(
        lib.randn(3, 2, 5), (lib.zeros(1, 2, 4), lib.zeros(1, 2, 4))
    ),
    "packed GRU hidden size": lambda lib: lib.nn.GRU(5, 4)(_pack(lib, (3, 2)), lib.zeros(1, 3, 4)),
    "h0 dtype": lambda lib: lib.nn.GRU(5, 4)(lib.randn(3, 2, 5), lib.zeros(1, 2, 4).double()),
    "h0 dtype relu": lambda lib: lib.nn.RNN(5, 4, nonlinearity="relu")(
        lib.randn(3, 2, 5), lib.zeros(1, 2, 4).double()
    ),
    "h0 dtype of a float64 layer": lambda lib: lib.nn.GRU(5, 4).double()(
        lib.randn(3, 2, 5).double(), lib.zeros(1, 2, 4)
    ),
    "LSTM h0 dtype of a float64 layer": lambda lib: lib.nn.LSTM(5, 4).double()(
        lib.randn(3, 2, 5).double(), (lib.zeros(1, 2, 4), lib.zeros(1, 2, 4))
    ),
    "LSTM proj h0 dtype": lambda lib: lib.nn.LSTM(5, 4, proj_size=2)(
        lib.randn(3, 2, 5), (lib.zeros(1, 2, 2).double(), lib.zeros(1, 2, 4))
    ),
    "empty sequence": lambda lib: lib.nn.GRU(5, 4)(lib.randn(0, 2, 5)),
    "empty sequence batch_first": lambda lib: lib.nn.LSTM(5, 4, batch_first=True)(
        lib.randn(2, 0, 5)
    ),
    "empty unbatched sequence": lambda lib: lib.nn.RNN(5, 4)(lib.randn(0, 5)),
}


@pytest.mark.parametrize("name", INPUT_ERRORS)
def test_input_errors_are_pytorchs(name):
    theirs, ours = outcome(INPUT_ERRORS[name])
    assert theirs != "ok"
    assert ours == theirs


def test_an_empty_batch_gives_empty_outputs_as_pytorch():
    for lib in (torch, gradienti):
        output, (h_n, c_n) = lib.nn.LSTM(5, 4, 2)(lib.randn(3, 0, 5))
        assert (tuple(output.shape), tuple(h_n.shape), tuple(c_n.shape)) == (
            (3, 0, 4),
            (2, 0, 4),
            (2, 0, 4),
        )


def test_a_failed_call_changes_nothing():
    layer = gradienti.nn.LSTM(5, 4)
    before = {name: value.clone() for name, value in layer.state_dict().items()}
    with pytest.raises(RuntimeError):
        layer(gradienti.randn(3, 2, 6))
    for name, value in layer.state_dict().items():
        assert gradienti.equal(value, before[name])
        assert layer.get_parameter(name).grad is None


def test_dropout_with_one_layer_warns_as_pytorch():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.nn.LSTM(5, 4, dropout=0.5)
        gradienti.nn.LSTM(5, 4, dropout=0.5)
    theirs, ours = caught
    assert str(ours.message) == str(theirs.message)
    assert ours.category is theirs.category
    # both point into the recurrent module's file (the subclass's __init__), not the caller
    assert ours.filename.endswith("rnn.py") and theirs.filename.endswith("rnn.py")


REPRS = [
    ("RNN", (3, 4), {}),
    ("RNN", (3, 4, 2, "relu", False, True, 0.5, True), {}),
    ("LSTM", (10, 20), {"proj_size": 5, "num_layers": 2}),
    ("LSTM", (10, 20), {"batch_first": True, "bidirectional": True, "dropout": 0}),
    ("GRU", (3, 4), {"bias": False, "dropout": 1}),
]


@pytest.mark.parametrize("name, args, kwargs", REPRS)
def test_repr_and_attributes_are_pytorchs(name, args, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(torch.nn, name)(*args, **kwargs)
        ours = getattr(gradienti.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    for attribute in ("mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first"):
        assert getattr(ours, attribute) == getattr(theirs, attribute)
    for attribute in ("dropout", "bidirectional", "proj_size", "_flat_weights_names"):
        assert getattr(ours, attribute) == getattr(theirs, attribute)
    assert type(ours.dropout) is type(theirs.dropout)
    if name == "RNN":
        assert ours.nonlinearity == theirs.nonlinearity


def test_flat_weights_and_all_weights_are_the_parameters_in_pytorchs_order():
    ours = gradienti.nn.LSTM(5, 4, 2, bidirectional=True, proj_size=2)
    theirs = torch.nn.LSTM(5, 4, 2, bidirectional=True, proj_size=2)
    assert [tuple(w.shape) for w in ours._flat_weights] == [
        tuple(w.shape) for w in theirs._flat_weights
    ]
    named = dict(ours.named_parameters())
    assert all(
        w is named[n] for w, n in zip(ours._flat_weights, ours._flat_weights_names, strict=True)
    )
    assert [[tuple(w.shape) for w in ws] for ws in ours.all_weights] == [
        [tuple(w.shape) for w in ws] for ws in theirs.all_weights
    ]
    assert ours.all_weights[1][0] is ours.weight_ih_l0_reverse
    assert ours.flatten_parameters() is None


def test_a_replaced_parameter_is_used():
    layer = gradienti.nn.GRU(3, 2)
    layer.weight_ih_l0 = gradienti.nn.Parameter(gradienti.zeros(6, 3))
    assert layer._flat_weights[0] is layer.weight_ih_l0
    # the input no longer reaches the output: it is the same for any input
    first = layer(gradienti.randn(4, 1, 3))[0]
    second = layer(gradienti.randn(4, 1, 3))[0]
    assert gradienti.allclose(first, second)


def test_double_converts_every_parameter_and_runs_in_float64():
    layer = gradienti.nn.LSTM(3, 4, proj_size=2).double()
    output, (h_n, c_n) = layer(gradienti.randn(2, 1, 3, dtype=gradienti.float64))
    assert {str(p.dtype) for p in layer.parameters()} == {"torch.float64"}
    assert output.dtype == h_n.dtype == c_n.dtype == gradienti.float64


def test_dtype_argument_makes_float64_parameters_as_pytorch():
    ours = gradienti.nn.GRU(3, 4, dtype=gradienti.float64)
    theirs = torch.nn.GRU(3, 4, dtype=torch.float64)
    assert [str(p.dtype) for p in ours.parameters()] == [str(p.dtype) for p in theirs.parameters()]


@pytest.mark.parametrize(
    "name, node",
    [
        ("LSTM", "MkldnnRnnLayerBackward0"),
        ("GRU", "GruLayerBackward0"),
        ("RNN", "RnnTanhLayerBackward0"),
    ],
)
def test_each_layer_and_direction_is_one_fused_node(name, node):
    layer = getattr(gradienti.nn, name)(3, 4, num_layers=2, bidirectional=True)
    result = layer(gradienti.randn(50, 2, 3))
    h_n = result[1][0] if name == "LSTM" else result[1]
    assert h_n.grad_fn.name() == "StackBackward0"  # as PyTorch's
    seen, stack, fused = set(), [result[0].grad_fn], 0
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        fused += current.name() == node
        stack.extend(next_node for next_node, _ in current.next_functions)
    # 2 layers x 2 directions, whatever the length: not a node per step
    assert fused == 4
    assert len(seen) < 60


def test_no_grad_records_nothing_and_gives_the_same_values():
    layer = gradienti.nn.LSTM(3, 4, 2)
    x = gradienti.randn(5, 2, 3)
    recorded = layer(x)[0]
    with gradienti.no_grad():
        unrecorded = layer(x)[0]
    assert unrecorded.grad_fn is None and not unrecorded.requires_grad
    np.testing.assert_array_equal(recorded.detach().numpy(), unrecorded.numpy())
