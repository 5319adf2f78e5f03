"""Review of nn.RNN / nn.LSTM / nn.GRU against PyTorch: an LSTM given more than two states,
a packed input's LSTM errors (PyTorch's LSTM skips ``check_forward_args`` there: its errors
are its kernel's), and gradients along paths the other tests do not take (only through the
final states, states that require grad while the input does not, expanded and transposed
inputs, a state dict from PyTorch's layer, chained calls in one graph)."""

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")  # the oracle
pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")

X = np.random.default_rng(0).standard_normal((5, 3, 4)).astype(np.float32)


def outcome(build):
    """(exception class name, message) of ``build`` for each library, or "ok"."""
    results = []
    for lib in (torch, gradienti):
        lib.manual_seed(0)
        try:
            build(lib)
            results.append("ok")
        except Exception as error:  # noqa: BLE001 - the outcome itself is compared
            results.append((type(error).__name__, str(error)))
    return results


def packed(lib, enforce_sorted=True, dtype=np.float32, lengths=(5, 3, 2)):
    return lib.nn.utils.rnn.pack_padded_sequence(
        lib.tensor(X.astype(dtype)), list(lengths), enforce_sorted=enforce_sorted
    )


def zeros(lib, *shape, dtype=None):
    return lib.zeros(*shape, dtype=dtype)


ERRORS = {
    "three states": lambda lib: lib.nn.LSTM(4, 3)(lib.tensor(X), (zeros(lib, 1, 3, 3),) * 3),
    "three states, packed": lambda lib: lib.nn.LSTM(4, 3)(packed(lib), (zeros(lib, 1, 3, 3),) * 3),
    "three states, bad first": lambda lib: lib.nn.LSTM(4, 3)(
        lib.tensor(X), (zeros(lib, 1, 2, 3),) * 3
    ),
    "packed: 2-D h": lambda lib: lib.nn.LSTM(4, 3)(
        packed(lib), (zeros(lib, 3, 3), zeros(lib, 1, 3, 3))
    ),
    "packed: 2-D c": lambda lib: lib.nn.LSTM(4, 3)(
        packed(lib), (zeros(lib, 1, 3, 3), zeros(lib, 3, 3))
    ),
    "packed: h of the wrong size": lambda lib: lib.nn.LSTM(4, 3)(
        packed(lib), (zeros(lib, 1, 3, 2), zeros(lib, 1, 3, 3))
    ),
    "packed: h of the wrong size, no bias": lambda lib: lib.nn.LSTM(4, 3, bias=False)(
        packed(lib), (zeros(lib, 1, 3, 2), zeros(lib, 1, 3, 3))
    ),
    "packed: projections, h of the hidden size": lambda lib: lib.nn.LSTM(4, 3, proj_size=2)(
        packed(lib), (zeros(lib, 1, 3, 3), zeros(lib, 1, 3, 3))
    ),
    "packed: too many layers": lambda lib: lib.nn.LSTM(4, 3, 2)(
        packed(lib), (zeros(lib, 3, 3, 3), zeros(lib, 3, 3, 3))
    ),
    "packed: too few layers": lambda lib: lib.nn.LSTM(4, 3, 2)(
        packed(lib), (zeros(lib, 1, 3, 3), zeros(lib, 1, 3, 3))
    ),
    "packed: odd states, bidirectional": lambda lib: lib.nn.LSTM(4, 3, bidirectional=True)(
        packed(lib), (zeros(lib, 3, 3, 3), zeros(lib, 3, 3, 3))
    ),
    "packed: too many layers, bidirectional": lambda lib: lib.nn.LSTM(4, 3, 2, bidirectional=True)(
        packed(lib), (zeros(lib, 6, 3, 3), zeros(lib, 6, 3, 3))
    ),
    "packed: float64 input": lambda lib: lib.nn.LSTM(4, 3)(packed(lib, dtype=np.float64)),
    "packed: int64 input": lambda lib: lib.nn.LSTM(4, 3)(packed(lib, dtype=np.int64)),
    "packed: input size": lambda lib: lib.nn.LSTM(5, 3)(packed(lib)),
    "packed: input size before h's dtype": lambda lib: lib.nn.LSTM(5, 3)(
        packed(lib), (zeros(lib, 1, 3, 3, dtype=lib.float64), zeros(lib, 1, 3, 3))
    ),
    "packed: h's dtype": lambda lib: lib.nn.LSTM(4, 3)(
        packed(lib), (zeros(lib, 1, 3, 3, dtype=lib.float64), zeros(lib, 1, 3, 3))
    ),
    "packed: c's dtype": lambda lib: lib.nn.LSTM(4, 3)(
        packed(lib), (zeros(lib, 1, 3, 3), zeros(lib, 1, 3, 3, dtype=lib.float64))
    ),
    "packed: h's dtype before its batch": lambda lib: lib.nn.LSTM(4, 3)(
        packed(lib), (zeros(lib, 1, 2, 3, dtype=lib.float64), zeros(lib, 1, 3, 3))
    ),
    "packed: h's batch": lambda lib: lib.nn.LSTM(4, 3)(
        packed(lib), (zeros(lib, 1, 2, 3), zeros(lib, 1, 3, 3))
    ),
    "packed: c's batch": lambda lib: lib.nn.LSTM(4, 3)(
        packed(lib), (zeros(lib, 1, 3, 3), zeros(lib, 1, 4, 3))
    ),
    "packed: h's batch before c's": lambda lib: lib.nn.LSTM(4, 3)(
        packed(lib), (zeros(lib, 1, 2, 3), zeros(lib, 1, 4, 3))
    ),
    "packed: h of batch 1": lambda lib: lib.nn.LSTM(4, 3, 2, proj_size=2)(
        packed(lib), (zeros(lib, 2, 1, 2), zeros(lib, 2, 3, 3))
    ),
    # (not errors: PyTorch's unsorted permutation and an unbatched input keep two states)
    "three states, packed unsorted": lambda lib: lib.nn.LSTM(4, 3)(
        packed(lib, False, lengths=(3, 5, 2)), (zeros(lib, 1, 3, 3),) * 3
    ),
    "three states, unbatched": lambda lib: lib.nn.LSTM(4, 3)(
        lib.tensor(X[:, 0]), (zeros(lib, 1, 3),) * 3
    ),
    # GRU's packed input keeps check_forward_args' errors, as PyTorch's
    "GRU packed: float64 input": lambda lib: lib.nn.GRU(4, 3)(packed(lib, dtype=np.float64)),
    "GRU packed: input size": lambda lib: lib.nn.GRU(5, 3)(packed(lib)),
}


@pytest.mark.parametrize("name", ERRORS)
def test_lstm_state_and_packed_errors_are_pytorchs(name):
    theirs, ours = outcome(ERRORS[name])
    assert ours == theirs


def test_a_refused_packed_call_changes_nothing():
    gradienti.manual_seed(0)
    layer = gradienti.nn.LSTM(4, 3, 2, dropout=0.5)
    data = gradienti.tensor(X, requires_grad=True)
    sequence = gradienti.nn.utils.rnn.pack_padded_sequence(data, [5, 3, 2])
    before = [p.detach().numpy().copy() for p in layer.parameters()]
    state = gradienti.get_rng_state()
    with pytest.raises(RuntimeError, match="lstm expects two hidden states"):
        layer(sequence, (gradienti.zeros(2, 3, 3),) * 3)
    assert data.grad is None
    assert all(p.grad is None for p in layer.parameters())
    assert all(np.array_equal(b, p.detach().numpy()) for b, p in zip(before, layer.parameters()))
    assert np.array_equal(state.numpy(), gradienti.get_rng_state().numpy())


def test_unbatched_lstm_with_three_states_uses_the_first_two_as_pytorch():
    results = []
    for lib in (torch, gradienti):
        lib.manual_seed(0)
        layer = lib.nn.LSTM(4, 3)
        h0 = lib.full((1, 3), 0.5)
        c0 = lib.full((1, 3), -0.25)
        output, (h_n, c_n) = layer(lib.tensor(X[:, 0]), (h0, c0, lib.ones(7)))
        results.append([value.detach().numpy() for value in (output, h_n, c_n)])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def pair(name, *args, **kwargs):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    gradienti.manual_seed(0)
    ours = getattr(gradienti.nn, name)(*args, **kwargs)
    return ours, theirs


def assert_all_close(ours, theirs, tol=1e-5):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=tol, atol=tol)


FINAL_STATE_PATHS = [
    ("LSTM", {}, "h"),
    ("LSTM", {}, "c"),
    ("LSTM", {"num_layers": 2, "bidirectional": True, "proj_size": 2}, "h"),
    ("LSTM", {"num_layers": 2, "bidirectional": True, "proj_size": 2}, "c"),
    ("GRU", {"num_layers": 2}, "h"),
    ("RNN", {"bidirectional": True, "nonlinearity": "relu"}, "h"),
]


@pytest.mark.parametrize(("name", "kwargs", "which"), FINAL_STATE_PATHS)
def test_gradients_through_a_final_state_only(name, kwargs, which):
    """The output unused: its gradient is zero in the fused VJP."""
    grads = []
    for lib, layer in zip((gradienti, torch), pair(name, 4, 3, **kwargs)):
        data = lib.tensor(X, requires_grad=True)
        _, hidden = layer(data)
        state = hidden if name != "LSTM" else hidden[0 if which == "h" else 1]
        weight = lib.arange(state.numel(), dtype=lib.float32).reshape(tuple(state.shape)) / 7
        (state * weight).sum().backward()
        grads.append([data.grad] + [p.grad for p in layer.parameters()])
    assert_all_close(*grads)


def test_states_that_require_grad_while_the_input_and_weights_do_not():
    values = []
    for lib, layer in zip((gradienti, torch), pair("LSTM", 4, 3, 2, proj_size=2)):
        layer.requires_grad_(False)
        h0 = lib.full((2, 3, 2), 0.3, requires_grad=True)
        c0 = lib.full((2, 3, 3), -0.2, requires_grad=True)
        output, (h_n, c_n) = layer(lib.tensor(X), (h0, c0))
        assert output.requires_grad and h_n.requires_grad and c_n.requires_grad
        ((output * output).sum() + c_n.sum()).backward()
        values.append([output, h0.grad, c0.grad])
    assert_all_close(*values)


def test_expanded_states_and_inputs_and_transposed_inputs():
    values = []
    for lib, layer in zip((gradienti, torch), pair("GRU", 4, 3, 2, batch_first=True)):
        base = lib.tensor(np.linspace(-1, 1, 3, dtype=np.float32), requires_grad=True)
        row = lib.tensor(X[0, 0], requires_grad=True)
        output, h_n = layer(row.expand(3, 5, 4), base.expand(2, 3, 3))
        time_major = lib.tensor(X, requires_grad=True)
        output_t, _ = layer(time_major.transpose(0, 1))
        (output.pow(2).sum() + h_n.sum() + (output_t * output_t.flip(1)).sum()).backward()
        values.append([output, h_n, output_t, base.grad, row.grad, time_major.grad])
    assert_all_close(*values)


def test_a_state_dict_from_pytorchs_lstm_gives_its_outputs():
    torch.manual_seed(3)
    theirs = torch.nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3)
    ours = gradienti.nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=3)
    state = {key: gradienti.tensor(value.numpy()) for key, value in theirs.state_dict().items()}
    ours.load_state_dict(state)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert_all_close([ours(gradienti.tensor(X))[0]], [theirs(torch.tensor(X))[0]])


def test_chained_calls_in_one_graph_sum_the_weight_gradients():
    """Truncated-BPTT style: the second call starts from the first call's final states."""
    grads = []
    for lib, layer in zip((gradienti, torch), pair("LSTM", 4, 3, 2, proj_size=1)):
        data = lib.tensor(X, requires_grad=True)
        first, states = layer(data[:2])
        second, (h_n, c_n) = layer(data[2:], states)
        (first.sum() * 2 + (second**2).sum() + c_n.sum()).backward()
        grads.append([data.grad] + [p.grad for p in layer.parameters()])
    assert_all_close(*grads)


# (class, keyword arguments, the one output the loss reads, packed input)
ONE_OUTPUT_DOUBLE_BACKWARD = [
    ("LSTM", {"proj_size": 2, "bidirectional": True}, "c", False),
    ("LSTM", {"proj_size": 2, "num_layers": 2}, "h", False),
    ("LSTM", {}, "h", True),
    ("LSTM", {"proj_size": 2}, "c", True),
    ("GRU", {"num_layers": 2}, "output", True),
    ("RNN", {"bidirectional": True}, "output", True),
    ("RNN", {"nonlinearity": "relu"}, "h", True),
]


@pytest.mark.parametrize(("name", "kwargs", "which", "is_packed"), ONE_OUTPUT_DOUBLE_BACKWARD)
def test_double_backward_when_a_layer_output_has_no_gradient(name, kwargs, which, is_packed):
    """create_graph=True with a loss of one output: the others' gradients are zeros that the
    engine makes as arrays; the recorded VJP joins them with Tensors."""
    x = np.random.default_rng(1).standard_normal((5, 3, 4))
    grads = []
    for lib, layer in zip((gradienti, torch), pair(name, 4, 3, **kwargs)):
        layer = layer.double()
        data = lib.tensor(x, requires_grad=True)
        source = data
        if is_packed:
            source = lib.nn.utils.rnn.pack_padded_sequence(data, [3, 5, 2], enforce_sorted=False)
        output, hidden = layer(source)
        if is_packed:
            output = output.data
        states = {"h": hidden[0], "c": hidden[1]} if name == "LSTM" else {"h": hidden}
        value = output if which == "output" else states[which]
        weight = lib.tensor(np.linspace(-1, 1, value.numel()).reshape(tuple(value.shape)))
        inputs = [data, *layer.parameters()]
        first = lib.autograd.grad((value * value * weight).sum(), inputs, create_graph=True)
        sum((g * g).sum() for g in first).backward()
        grads.append(list(first) + [t.grad for t in inputs])
    assert_all_close(*grads, tol=1e-8)


def _replaced(name, kwargs, parameter, base, odd, is_packed):
    def build(lib):
        layer = getattr(lib.nn, name)(4, 3, **kwargs).to(getattr(lib, base))
        weight = getattr(layer, parameter).detach().to(getattr(lib, odd))
        setattr(layer, parameter, lib.nn.Parameter(weight))
        data = lib.tensor(X).to(getattr(lib, base))
        source = lib.nn.utils.rnn.pack_padded_sequence(data, [5, 3, 2]) if is_packed else data
        output, _ = layer(source)
        output = output.data if is_packed else output
        return str(output.dtype), output.detach().to(lib.float64).numpy()

    return build


# (class, keyword arguments, the replaced parameter, the layer's dtype, the parameter's)
REPLACED_DTYPES = [
    ("RNN", {}, "weight_hh_l0", "float32", "float64"),
    ("RNN", {}, "bias_ih_l0", "float32", "float64"),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}, "weight_ih_l1", "float64", "float32"),
    ("RNN", {"bias": False}, "weight_hh_l0", "float32", "float16"),
    ("GRU", {}, "bias_hh_l0", "float64", "float32"),
    ("GRU", {"bias": False, "num_layers": 2}, "weight_ih_l1", "float32", "float64"),
    ("LSTM", {}, "weight_hh_l0", "float32", "float64"),
    ("LSTM", {}, "weight_hh_l0", "float32", "float16"),
    ("LSTM", {}, "bias_hh_l0", "float32", "float16"),  # (oneDNN takes it)
    ("LSTM", {"num_layers": 2, "bidirectional": True}, "bias_ih_l1_reverse", "float64", "float32"),
    ("LSTM", {"bias": False}, "weight_hh_l0", "float32", "float64"),
    ("LSTM", {"proj_size": 2}, "weight_hr_l0", "float32", "float64"),
    ("LSTM", {"proj_size": 2}, "bias_ih_l0", "float64", "float32"),
]


@pytest.mark.parametrize("is_packed", [False, True], ids=["padded", "packed"])
@pytest.mark.parametrize(("name", "kwargs", "parameter", "base", "odd"), REPLACED_DTYPES)
def test_a_parameter_replaced_by_one_of_another_dtype(
    name, kwargs, parameter, base, odd, is_packed
):
    """PyTorch's kernels refuse it (NumPy would promote the products silently)."""
    theirs, ours = outcome(_replaced(name, kwargs, parameter, base, odd, is_packed))
    if theirs == "ok":
        return  # (compared below)
    assert ours == theirs


def test_a_float16_bias_in_a_float32_lstm_runs_as_pytorchs():
    values = []
    for lib in (torch, gradienti):
        lib.manual_seed(0)
        values.append(_replaced("LSTM", {}, "bias_hh_l0", "float32", "float16", False)(lib))
    assert values[0][0] == values[1][0] == "torch.float32"
    np.testing.assert_allclose(values[1][1], values[0][1], rtol=1e-5, atol=1e-6)


# (class, keyword arguments, the layer's dtype, h0's, c0's, packed input)
STATE_DTYPES = [
    ("LSTM", {}, "float32", "float64", "float32", False),  # (oneDNN)
    ("LSTM", {}, "float32", "float32", "int64", False),
    ("LSTM", {}, "float32", "float16", "float32", False),
    ("LSTM", {}, "float32", "float32", "float64", True),
    ("LSTM", {}, "float64", "float64", "float32", False),  # c0 promoted: runs
    ("LSTM", {}, "float64", "float64", "int64", True),
    ("LSTM", {}, "float64", "float16", "float64", False),
    ("LSTM", {"proj_size": 2}, "float32", "float32", "float64", False),
    ("LSTM", {"proj_size": 2}, "float32", "float32", "float16", True),
    ("LSTM", {"proj_size": 2, "num_layers": 2}, "float64", "float64", "float32", False),
    ("GRU", {}, "float64", "float32", None, False),
    ("RNN", {}, "float32", "float64", None, True),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "base", "h_dtype", "c_dtype", "is_packed"), STATE_DTYPES
)
def test_initial_states_of_another_dtype_as_pytorch(
    name, kwargs, base, h_dtype, c_dtype, is_packed
):
    """PyTorch refuses an h0 of another dtype; a c0 of a narrower (or integral) one is
    promoted by its first step (the outputs, c_n and c0's gradient as PyTorch's)."""
    count = kwargs.get("num_layers", 1)
    results = []
    for lib in (torch, gradienti):
        lib.manual_seed(0)
        layer = getattr(lib.nn, name)(4, 3, **kwargs).to(getattr(lib, base))
        data = lib.tensor(X).to(getattr(lib, base))
        source = lib.nn.utils.rnn.pack_padded_sequence(data, [5, 3, 2]) if is_packed else data
        h0 = lib.full((count, 3, kwargs.get("proj_size", 3)), 0.5, dtype=getattr(lib, h_dtype))
        states = h0
        if c_dtype is not None:
            c0 = lib.full((count, 3, 3), 2, dtype=getattr(lib, c_dtype))
            if c0.is_floating_point():
                c0.requires_grad_(True)
            states = (h0, c0)
        try:
            output, hidden = layer(source, states)
        except RuntimeError as error:
            results.append(("RuntimeError", str(error)))
            continue
        output = output.data if is_packed else output
        hidden = list(hidden) if name == "LSTM" else [hidden]
        (output.sum() + (hidden[-1] * hidden[-1]).sum()).backward()
        values = [output, *hidden] + ([c0.grad] if c0.requires_grad else [])
        results.append([(str(v.dtype), v.detach().to(lib.float64).numpy()) for v in values])
    theirs, ours = results
    if isinstance(theirs, tuple) or isinstance(ours, tuple):
        assert ours == theirs
        return
    assert [dtype for dtype, _ in ours] == [dtype for dtype, _ in theirs]
    for (_, a), (_, b) in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
