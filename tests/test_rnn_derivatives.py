"""Derivatives of the fused recurrent layers (ops/recurrent.py): gradcheck and gradgradcheck in
float64 against finite differences, double backward (``create_graph=True``) and forward mode
(JVP, forward over reverse) against PyTorch, saved-tensor hooks, retain_graph, and the
in-place check on the saved inputs."""

import numpy as np
import pytest

import gradienti
import gradienti.autograd.forward_ad as fwAD
from gradienti.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")  # the oracle
pytestmark = [
    pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning"),
    # torch.func.functional_call's own use of torch.jit, not about results
    pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning"),
]

CONFIGS = [
    ("LSTM", {}),
    ("LSTM", {"proj_size": 2, "bidirectional": True}),
    ("GRU", {"num_layers": 2}),
    ("GRU", {"bias": False, "bidirectional": True}),
    ("RNN", {}),
    ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
]


def _ids(config):
    name, kwargs = config
    return name + "".join(f"-{key}={value}" for key, value in kwargs.items())


def _layer(lib, name, kwargs, seed=0):
    lib.manual_seed(seed)
    return getattr(lib.nn, name)(3, 3, **kwargs).double()


def _state_count(name, kwargs):
    return kwargs.get("num_layers", 1) * (2 if kwargs.get("bidirectional") else 1)


def _function(lib, name, kwargs):
    """(x, h0[, c0], *parameters) -> the sum-free outputs, for the derivative checks."""
    layer = _layer(lib, name, kwargs)
    names = [n for n, _ in layer.named_parameters()]
    states = 2 if name == "LSTM" else 1

    def run(x, *rest):
        hx = tuple(rest[:states]) if name == "LSTM" else rest[0]
        params = dict(zip(names, rest[states:], strict=True))
        output, hidden = lib.func.functional_call(layer, params, (x, hx))
        return (output, *hidden) if name == "LSTM" else (output, hidden)

    return layer, run


def _inputs(lib, name, kwargs, layer, rng):
    count = _state_count(name, kwargs)
    h_size = kwargs.get("proj_size") or 3
    shapes = [(4, 2, 3), (count, 2, h_size)] + ([(count, 2, 3)] if name == "LSTM" else [])
    values = [rng.standard_normal(s) for s in shapes]
    values += [p.detach().numpy().copy() for p in layer.parameters()]
    return [lib.tensor(v, dtype=lib.float64, requires_grad=True) for v in values]


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_gradcheck_and_gradgradcheck_in_float64(config):
    name, kwargs = config
    layer, run = _function(gradienti, name, kwargs)
    inputs = _inputs(gradienti, name, kwargs, layer, np.random.default_rng(0))
    assert gradcheck(run, tuple(inputs))
    assert gradgradcheck(run, tuple(inputs))


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_double_backward_matches_pytorch(config):
    """d/d(inputs) of sum(w * grad(L)) with L a weighted sum of the outputs: every second
    derivative of the layer."""
    name, kwargs = config
    results = []
    for lib in (torch, gradienti):
        layer, run = _function(lib, name, kwargs)
        inputs = _inputs(lib, name, kwargs, layer, np.random.default_rng(1))
        outputs = run(*inputs)
        rng = np.random.default_rng(2)
        loss = sum(
            (out * lib.tensor(rng.standard_normal(tuple(out.shape)))).sum() for out in outputs
        )
        grads = lib.autograd.grad(loss, inputs, create_graph=True)
        second = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in grads)
        second.backward()
        results.append([g.detach().numpy() for g in grads] + [i.grad.numpy() for i in inputs])
    for theirs, ours in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("config", CONFIGS, ids=_ids)
def test_forward_mode_matches_pytorch(config):
    """The outputs' tangents for tangents on every input (forward AD, the node's JVP), and
    reverse over that forward (the tangent's gradient)."""
    name, kwargs = config
    results = []
    for lib, ad in ((torch, torch.autograd.forward_ad), (gradienti, fwAD)):
        layer, run = _function(lib, name, kwargs)
        primals = _inputs(lib, name, kwargs, layer, np.random.default_rng(3))
        rng = np.random.default_rng(4)
        tangents = [lib.tensor(rng.standard_normal(tuple(p.shape))) for p in primals]
        with ad.dual_level():
            duals = [ad.make_dual(p, t) for p, t in zip(primals, tangents, strict=True)]
            outputs = run(*duals)
            out_tangents = [ad.unpack_dual(out).tangent for out in outputs]
        weights = [lib.tensor(rng.standard_normal(tuple(t.shape))) for t in out_tangents]
        sum((t * w).sum() for t, w in zip(out_tangents, weights)).backward()
        results.append(
            [t.detach().numpy() for t in out_tangents] + [p.grad.numpy() for p in primals]
        )
    for theirs, ours in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)


def test_saved_tensor_hooks_see_the_saved_inputs_and_gradients_are_unchanged():
    layer, run = _function(gradienti, "LSTM", {"proj_size": 2})
    inputs = _inputs(gradienti, "LSTM", {"proj_size": 2}, layer, np.random.default_rng(5))
    plain = gradienti.autograd.grad(run(*inputs)[0].sum(), inputs)
    packed = []

    def pack(value):
        packed.append(value)
        return value * 1

    with gradienti.autograd.graph.saved_tensors_hooks(pack, lambda value: value):
        hooked = gradienti.autograd.grad(run(*inputs)[0].sum(), inputs)
    assert packed  # the node's saved inputs went through the hooks
    for a, b in zip(plain, hooked, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_retain_graph_runs_twice_and_a_second_pass_without_it_raises():
    layer = gradienti.nn.GRU(3, 4)
    x = gradienti.randn(5, 2, 3, requires_grad=True)
    output = layer(x)[0].sum()
    output.backward(retain_graph=True)
    first = x.grad.clone()
    output.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * first.numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        output.backward()


def test_an_input_modified_in_place_after_the_forward_is_refused():
    layer = gradienti.nn.LSTM(3, 4)
    x = gradienti.randn(5, 2, 3, requires_grad=True)
    y = x * 1
    output = layer(y)[0].sum()
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        output.backward()


@pytest.mark.parametrize("name", ["LSTM", "GRU", "RNN"])
def test_vmap_of_per_sample_gradients_equals_a_loop(name):
    """vmap(grad(...)) over a batch of sequences: each sample's parameter gradients, as a loop
    computes them (PyTorch's vmap has no batching rule for its recurrent ops to compare with:
    'Batching rule not implemented for aten::lstm.input')."""
    gradienti.manual_seed(0)
    layer = getattr(gradienti.nn, name)(3, 4, 2, bidirectional=True)
    params = {key: value.detach() for key, value in layer.named_parameters()}
    x = gradienti.randn(3, 4, 2, 3)

    def loss(p, sample):
        return (gradienti.func.functional_call(layer, p, (sample,))[0] ** 2).sum()

    batched = gradienti.func.vmap(gradienti.func.grad(loss), in_dims=(None, 0))(params, x)
    looped = [gradienti.func.grad(loss)(params, sample) for sample in x]
    for key in params:
        expected = gradienti.stack([grads[key] for grads in looped])
        np.testing.assert_allclose(batched[key].numpy(), expected.numpy(), rtol=1e-6, atol=1e-6)
    outputs = gradienti.func.vmap(lambda sample: layer(sample)[0])(x)
    expected = gradienti.stack([layer(sample)[0] for sample in x])
    np.testing.assert_allclose(outputs.detach().numpy(), expected.detach().numpy(), rtol=1e-6)


def test_forward_mode_through_a_packed_sequence_matches_finite_differences():
    """PyTorch has no forward AD for packing ('Trying to use forward AD with
    _pack_padded_sequence that does not support it'): against central differences."""
    gradienti.manual_seed(0)
    layer = gradienti.nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    x = gradienti.tensor(np.random.default_rng(0).standard_normal((5, 3, 3)))
    direction = gradienti.tensor(np.random.default_rng(1).standard_normal((5, 3, 3)))

    def run(padded):
        packed = gradienti.nn.utils.rnn.pack_padded_sequence(padded, [5, 3, 2])
        output, (h_n, c_n) = layer(packed)
        return output.data, h_n, c_n

    with fwAD.dual_level():
        tangents = [fwAD.unpack_dual(out).tangent for out in run(fwAD.make_dual(x, direction))]
    eps = 1e-6
    with gradienti.no_grad():
        ahead, behind = run(x + eps * direction), run(x - eps * direction)
    for tangent, a, b in zip(tangents, ahead, behind, strict=True):
        expected = ((a - b) / (2 * eps)).numpy()
        np.testing.assert_allclose(tangent.detach().numpy(), expected, atol=1e-8)
