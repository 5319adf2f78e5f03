"""nn.RNNCell (tanh, relu), nn.LSTMCell and nn.GRUCell against PyTorch: same-seed parameters,
outputs and gradients (input, states, parameters; non-uniform upstream gradients, several steps),
unbatched inputs, default states, errors, reprs, state_dict keys, the nodes recorded, and float64
gradcheck/gradgradcheck."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti
from gradienti.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

LIBS = (gradienti, torch)
CELLS = [
    ("RNNCell", {}),
    ("RNNCell", {"nonlinearity": "relu"}),
    ("RNNCell", {"bias": False}),
    ("LSTMCell", {}),
    ("LSTMCell", {"bias": False}),
    ("GRUCell", {}),
    ("GRUCell", {"bias": False}),
]
CELL_IDS = [
    f"{name}-{'-'.join(f'{k}={v}' for k, v in kwargs.items()) or 'default'}"
    for name, kwargs in CELLS
]


def _array(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _make(lib, name, kwargs, input_size=5, hidden_size=4, seed=0, **options):
    lib.manual_seed(seed)
    return getattr(lib.nn, name)(input_size, hidden_size, **kwargs, **options)


def _same(ours, theirs, atol=1e-6, rtol=1e-5):
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=atol, rtol=rtol)


@pytest.mark.parametrize("name, kwargs", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_same_seed_same_parameters_repr_and_state_dict(name, kwargs, dtype):
    ours = _make(gradienti, name, kwargs, seed=3, dtype=getattr(gradienti, dtype))
    theirs = _make(torch, name, kwargs, seed=3, dtype=getattr(torch, dtype))
    our_parameters = dict(ours.named_parameters())
    their_parameters = dict(theirs.named_parameters())
    assert list(our_parameters) == list(their_parameters)
    for key, parameter in our_parameters.items():
        _same(parameter, their_parameters[key], atol=0, rtol=0)
        assert type(parameter).__name__ == "Parameter"
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert (ours.bias_ih is None) == (theirs.bias_ih is None)


@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("RNNCell", {"nonlinearity": "relu", "bias": False}),
        ("RNNCell", {"nonlinearity": "sigmoid"}),
    ],
)
def test_reprs_of_options(name, kwargs):
    assert repr(_make(gradienti, name, kwargs)) == repr(_make(torch, name, kwargs))


def _run_steps(lib, name, kwargs, batch, given_state, steps=3):
    """Several steps of the cell (the state fed back), then backward of a weighted sum of every
    output with non-uniform weights; returns outputs and all gradients."""
    cell = _make(lib, name, kwargs)
    shape = (batch, 5) if batch is not None else (5,)
    state_shape = (batch, 4) if batch is not None else (4,)
    inputs = [
        lib.tensor(_array(shape, seed=10 + step), requires_grad=True) for step in range(steps)
    ]
    leaves = list(inputs)
    state = None
    if given_state:
        if name == "LSTMCell":
            state = tuple(
                lib.tensor(_array(state_shape, seed=20 + k), requires_grad=True) for k in range(2)
            )
            leaves += list(state)
        else:
            state = lib.tensor(_array(state_shape, seed=20), requires_grad=True)
            leaves.append(state)
    outputs = []
    for x in inputs:
        state = cell(x, state)
        outputs += list(state) if name == "LSTMCell" else [state]
    total = sum(
        (out * lib.tensor(_array(tuple(out.shape), seed=30 + k))).sum()
        for k, out in enumerate(outputs)
    )
    total.backward()
    grads = [leaf.grad for leaf in leaves] + [p.grad for p in cell.parameters()]
    return outputs, grads


@pytest.mark.parametrize("name, kwargs", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize(
    "batch, given_state", [(3, True), (3, False), (None, True), (None, False), (1, True)]
)
def test_steps_outputs_and_gradients_against_torch(name, kwargs, batch, given_state):
    (our_outputs, our_grads), (their_outputs, their_grads) = (
        _run_steps(lib, name, kwargs, batch, given_state) for lib in LIBS
    )
    assert len(our_outputs) == len(their_outputs)
    for mine, reference in zip(our_outputs, their_outputs, strict=True):
        _same(mine, reference)
        assert type(mine.grad_fn).__name__ == type(reference.grad_fn).__name__
    assert len(our_grads) == len(their_grads)
    for mine, reference in zip(our_grads, their_grads, strict=True):
        _same(mine, reference, atol=1e-5)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_empty_batch_as_torch(name):
    ours, theirs = (_make(lib, name, {})(lib.zeros(0, 5)) for lib in LIBS)
    if name == "LSTMCell":
        for mine, reference in zip(ours, theirs, strict=True):
            _same(mine, reference)
    else:
        _same(ours, theirs)


def _error_cases(name):
    """(input, state) pairs that PyTorch refuses, as functions of the library."""
    pair = name == "LSTMCell"

    def state(lib, shape, dtype=None):
        value = lib.zeros(*shape, dtype=dtype)
        return (value, value) if pair else value

    cases = [
        lambda lib: (lib.zeros(2, 6), None),
        lambda lib: (lib.zeros(6), None),
        lambda lib: (lib.zeros(2, 5), state(lib, (3, 4))),
        lambda lib: (lib.zeros(2, 5), state(lib, (2, 6))),
        lambda lib: (lib.zeros(5), state(lib, (2, 4))),
        lambda lib: (lib.zeros(2, 5), state(lib, (4,))),
        lambda lib: (lib.zeros(2, 5, 1), None),
        lambda lib: (lib.zeros(2, 5), state(lib, (1, 1, 4))),
        lambda lib: (lib.zeros(2, 5, dtype=lib.float64), None),
        lambda lib: (lib.zeros(2, 5), state(lib, (2, 4), lib.float64)),
    ]
    if pair:
        cases += [
            lambda lib: (lib.zeros(2, 5), (lib.zeros(2, 4), lib.zeros(2, 5))),
            lambda lib: (lib.zeros(2, 5), (lib.zeros(2, 4), lib.zeros(3, 4))),
            lambda lib: (lib.zeros(2, 5), (lib.zeros(2, 4), lib.zeros(2, 4, 1))),
            lambda lib: (lib.zeros(2, 5), (lib.zeros(2, 4),)),
            lambda lib: (lib.zeros(2, 5), (lib.zeros(2, 4),) * 3),
            lambda lib: (lib.zeros(5), (lib.zeros(4),)),
        ]
    return cases


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_errors_as_torch(name):
    for case in _error_cases(name):
        outcomes = []
        for lib in LIBS:
            cell = _make(lib, name, {})
            with pytest.raises(Exception) as caught:
                cell(*case(lib))
            outcomes.append((type(caught.value).__name__, str(caught.value)))
        assert outcomes[0] == outcomes[1]


def test_unknown_nonlinearity_is_refused_at_the_call_as_torch():
    outcomes = []
    for lib in LIBS:
        cell = lib.nn.RNNCell(3, 2, nonlinearity="sigmoid")  # PyTorch's constructor accepts it
        with pytest.raises(RuntimeError) as caught:
            cell(lib.zeros(3))
        outcomes.append(str(caught.value))
    assert outcomes[0] == outcomes[1] == "Unknown nonlinearity: sigmoid"


def test_cells_are_at_pytorchs_paths():
    for name in ("RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"):
        assert getattr(gradienti.nn.modules.rnn, name) is getattr(gradienti.nn, name)
        assert issubclass(getattr(gradienti.nn, name), gradienti.nn.RNNCellBase)


# ---------------------------------------------------------------------- float64 derivatives
def _cell_function(name, kwargs, batched=True):
    """The cell as a function of input, state(s) and parameters (all float64 leaves)."""
    cell = _make(gradienti, name, kwargs, input_size=3, hidden_size=2, dtype=gradienti.float64)
    names = [key for key, _ in cell.named_parameters()]

    def function(x, *rest):
        states, parameters = rest[: len(rest) - len(names)], rest[len(rest) - len(names) :]
        outputs = gradienti.func.functional_call(
            cell,
            dict(zip(names, parameters, strict=True)),
            (x, tuple(states) if name == "LSTMCell" else states[0]),
        )
        return gradienti.cat(outputs, -1) if name == "LSTMCell" else outputs

    states = 2 if name == "LSTMCell" else 1
    rng = np.random.default_rng(7)
    x_shape, state_shape = ((2, 3), (2, 2)) if batched else ((3,), (2,))
    arrays = [rng.standard_normal(x_shape)] + [
        rng.standard_normal(state_shape) for _ in range(states)
    ]
    arrays += [p.detach().numpy().copy() for p in cell.parameters()]
    leaves = tuple(gradienti.tensor(a, requires_grad=True) for a in arrays)
    return function, leaves


@pytest.mark.parametrize("name, kwargs", CELLS, ids=CELL_IDS)
@pytest.mark.parametrize("batched", [True, False])
def test_gradcheck_and_gradgradcheck(name, kwargs, batched):
    function, leaves = _cell_function(name, kwargs, batched)
    assert gradcheck(function, leaves)
    assert gradgradcheck(function, leaves)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_forward_mode_tangents_against_torch(name):
    x_array, x_tangent = _array((2, 5), seed=1), _array((2, 5), seed=2)
    h_array, h_tangent = _array((2, 4), seed=3), _array((2, 4), seed=4)

    def run(lib):
        cell = _make(lib, name, {})
        forward_ad = lib.autograd.forward_ad
        with forward_ad.dual_level():
            x = forward_ad.make_dual(lib.tensor(x_array), lib.tensor(x_tangent))
            h = forward_ad.make_dual(lib.tensor(h_array), lib.tensor(h_tangent))
            outputs = cell(x, (h, h) if name == "LSTMCell" else h)
            outputs = outputs if name == "LSTMCell" else (outputs,)
            return [forward_ad.unpack_dual(out).tangent for out in outputs]

    ours, theirs = (run(lib) for lib in LIBS)
    for mine, reference in zip(ours, theirs, strict=True):
        _same(mine, reference, atol=1e-5)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_vmap_over_samples_against_torch(name):
    inputs, states = _array((3, 2, 5), seed=5), _array((3, 2, 4), seed=6)

    def run(lib):
        cell = _make(lib, name, {})

        def step(x, h):
            out = cell(x, (h, h) if name == "LSTMCell" else h)
            return out[0] * out[1] if name == "LSTMCell" else out

        batched = lib.func.vmap(step) if lib is gradienti or name != "LSTMCell" else None
        looped = lib.stack([step(lib.tensor(x), lib.tensor(h)) for x, h in zip(inputs, states)])
        return looped if batched is None else batched(lib.tensor(inputs), lib.tensor(states))

    # PyTorch has no batching rule for its lstm_cell (vmap raises): its loop is the reference
    ours, theirs = (run(lib) for lib in LIBS)
    _same(ours, theirs, atol=1e-5)


def _lstm_cell_states(lib, case):
    ones = lib.ones
    return {
        # batched: PyTorch's lstm_cell takes a tuple (or list) only; a stacked Tensor was
        # unpacked along its first dimension and accepted
        "stacked tensor": ones(2, 3, 4),
        "one-row tensor": ones(1, 3, 4),
        # each given state's dim() is read first: a None state is PyTorch's AttributeError
        "None cell state": (ones(3, 4), None),
        "None hidden state": (None, ones(3, 4)),
    }[case]


@pytest.mark.parametrize(
    "case", ["stacked tensor", "one-row tensor", "None cell state", "None hidden state"]
)
def test_lstm_cell_state_containers_raise_as_torch(case):
    errors = []
    for lib in LIBS:
        lib.manual_seed(0)
        cell = lib.nn.LSTMCell(5, 4)
        with pytest.raises(Exception) as caught:
            cell(lib.ones(3, 5), _lstm_cell_states(lib, case))
        errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1]


def test_lstm_cell_unbatched_stacked_tensor_state_matches_torch():
    # unbatched, PyTorch indexes hx[0] and hx[1]: a (2, hidden) Tensor is accepted
    rng = np.random.default_rng(4)
    x, states = rng.standard_normal(5), rng.standard_normal((2, 4))
    results = []
    for lib in LIBS:
        lib.manual_seed(0)
        cell = lib.nn.LSTMCell(5, 4, dtype=lib.float64)
        results.append([t.detach().numpy() for t in cell(lib.tensor(x), lib.tensor(states))])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)
