"""The paths one MLP training step takes (issue 17's mlp workload), against PyTorch.

SGD without momentum, weight decay or maximize steps the parameters in a loop of its own;
addmm and cross_entropy check their arguments with fewer calls; log_softmax reuses its
temporaries; nll_loss's VJP writes its zeros without the vmap check. Each must give PyTorch's
values, gradients, object identities, version counts and errors.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(17)
X = RNG.standard_normal((6, 5)).astype(np.float32)
LABELS = np.array([0, 2, 1, 2, 0, 1])
WEIGHTS = {
    "0.weight": RNG.uniform(-0.4, 0.4, (4, 5)).astype(np.float32),
    "0.bias": RNG.uniform(-0.4, 0.4, (4,)).astype(np.float32),
    "2.weight": RNG.uniform(-0.5, 0.5, (3, 4)).astype(np.float32),
    "2.bias": RNG.uniform(-0.5, 0.5, (3,)).astype(np.float32),
}


def _mlp(lib):
    nn = lib.nn
    model = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    model.load_state_dict({name: lib.tensor(value.copy()) for name, value in WEIGHTS.items()})
    return model


def _train(lib, steps: int, make_optimizer, set_to_none: bool = True):
    """``steps`` SGD steps of the MLP; the parameters and last gradients as arrays."""
    model = _mlp(lib)
    optimizer = make_optimizer(lib, model)
    x, y = lib.tensor(X), lib.tensor(LABELS)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=set_to_none)
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    params = [p.detach().numpy().copy() for p in model.parameters()]
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    return losses, params, grads


def _plain_sgd(lib, model):
    return lib.optim.SGD(model.parameters(), lr=0.1)


def _mixed_groups(lib, model):
    first, second = list(model.parameters())[:2], list(model.parameters())[2:]
    return lib.optim.SGD([{"params": first}, {"params": second, "momentum": 0.9}], lr=0.1)


def _tensor_lr(lib, model):
    return lib.optim.SGD(model.parameters(), lr=lib.tensor(0.1))


@pytest.mark.parametrize("make_optimizer", [_plain_sgd, _mixed_groups, _tensor_lr])
@pytest.mark.parametrize("set_to_none", [True, False])
def test_training_steps_match_torch(make_optimizer, set_to_none):
    ours = _train(gradienti, 5, make_optimizer, set_to_none)
    theirs = _train(torch, 5, make_optimizer, set_to_none)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6, atol=1e-7)
    for mine, reference in zip(ours[1] + ours[2], theirs[1] + theirs[2]):
        np.testing.assert_allclose(mine, reference, rtol=1e-5, atol=1e-7)


def test_plain_step_is_param_plus_minus_lr_times_grad():
    """``param + (-lr) * grad`` rounded to float32 at each step (as the general path computes
    it); PyTorch's ``add_(grad, alpha=-lr)`` may fuse the two roundings: within one ulp."""
    values = RNG.standard_normal(257).astype(np.float32)
    grad = RNG.standard_normal(257).astype(np.float32)
    results = []
    for lib in (gradienti, torch):
        param = lib.tensor(values.copy(), requires_grad=True)
        param.grad = lib.tensor(grad.copy())
        lib.optim.SGD([param], lr=0.37).step()
        results.append(param.detach().numpy())
    np.testing.assert_array_equal(results[0], values + np.float32(-0.37) * grad)
    assert results[0].dtype == results[1].dtype == np.float32
    np.testing.assert_allclose(results[0], results[1], rtol=0, atol=np.spacing(np.float32(4)))


def test_plain_step_keeps_identities_and_writes_in_place():
    model = _mlp(gradienti)
    optimizer = _plain_sgd(gradienti, model)
    cross_entropy = gradienti.nn.functional.cross_entropy
    cross_entropy(model(gradienti.tensor(X)), gradienti.tensor(LABELS)).backward()
    params = list(model.parameters())
    memory = [p._data for p in params]
    grads = [p.grad for p in params]
    grad_values = [g.numpy().copy() for g in grads]
    before = [p.detach().numpy().copy() for p in params]
    versions = [p._version for p in params]
    optimizer.step()
    for param, array, grad, grad_value, old, version in zip(
        params, memory, grads, grad_values, before, versions
    ):
        assert param._data is array  # the parameter's memory was written, not replaced
        assert param.grad is grad  # .grad untouched: same tensor, same values
        np.testing.assert_array_equal(grad.numpy(), grad_value)
        np.testing.assert_array_equal(param.detach().numpy(), old + np.float32(-0.1) * grad_value)
        assert param._version == version + 1


def test_plain_step_counts_a_version_as_torch():
    """A graph that saved a parameter refuses backward after the step, as in PyTorch."""
    errors = []
    for lib in (gradienti, torch):
        weight = lib.tensor(WEIGHTS["0.weight"].copy(), requires_grad=True)
        x = lib.tensor(X[:4], requires_grad=True)
        out = (x * weight).sum()  # saves weight for x's gradient
        weight.grad = lib.ones_like(weight)
        lib.optim.SGD([weight], lr=0.1).step()
        with pytest.raises(RuntimeError) as caught:
            out.backward()
        errors.append(str(caught.value).split(";")[0])
    assert errors[0] == errors[1]


def test_step_runs_the_closure_with_grad_and_returns_its_loss():
    for lib in (gradienti, torch):
        param = lib.tensor([1.0, -2.0], requires_grad=True)
        optimizer = lib.optim.SGD([param], lr=0.5)
        seen = []

        def closure(lib=lib, param=param, optimizer=optimizer, seen=seen):
            optimizer.zero_grad()
            loss = (param * param).sum()
            seen.append(lib.is_grad_enabled())
            loss.backward()
            return loss

        with lib.no_grad():
            loss = optimizer.step(closure)
        assert seen == [True]
        assert loss.item() == 5.0
        np.testing.assert_array_equal(param.detach().numpy(), [0.0, 0.0])


def test_plain_step_skips_params_without_grad_and_keeps_no_state():
    for lib in (gradienti, torch):
        first = lib.tensor([1.0, 2.0], requires_grad=True)
        second = lib.tensor([3.0], requires_grad=True)
        first.grad = lib.tensor([0.5, -0.5])
        optimizer = lib.optim.SGD([first, second], lr=1.0)
        optimizer.step()
        np.testing.assert_array_equal(first.detach().numpy(), [0.5, 2.5])
        np.testing.assert_array_equal(second.detach().numpy(), [3.0])
        assert second.grad is None
        assert len(optimizer.state) == 0


def test_zero_grad_without_grads_warns_nothing_for_leaves():
    model = _mlp(gradienti)
    optimizer = _plain_sgd(gradienti, model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizer.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_zero_grad_of_a_non_leaf_without_grad_warns_as_torch():
    messages = []
    for lib in (gradienti, torch):
        base = lib.tensor([1.0, 2.0], requires_grad=True)
        non_leaf = base * 2
        optimizer = lib.optim.SGD([non_leaf], lr=0.1, differentiable=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            optimizer.zero_grad()
        messages.append([str(w.message)[:60] for w in caught])
    assert messages[0] == messages[1] and len(messages[0]) == 1


@pytest.mark.parametrize("bias_shape", [(3,), (1, 3), (4, 3), ()])
@pytest.mark.parametrize("beta", [1, 0.5])
def test_addmm_bias_gradient_matches_torch(bias_shape, beta):
    """The input's gradient summed over the broadcast rows by the engine, with a non-uniform
    upstream gradient."""
    a = RNG.standard_normal((4, 5))
    b = RNG.standard_normal((5, 3))
    bias = RNG.standard_normal(bias_shape)
    upstream = RNG.standard_normal((4, 3))
    results = []
    for lib in (gradienti, torch):
        tensors = [lib.tensor(v.copy(), requires_grad=True) for v in (bias, a, b)]
        out = lib.addmm(*tensors, beta=beta)
        out.backward(lib.tensor(upstream))
        results.append([out.detach().numpy()] + [t.grad.numpy() for t in tensors])
    for mine, reference in zip(*results):
        assert mine.shape == reference.shape
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)


def test_linear_bias_gradient_twice_differentiable():
    """Under create_graph the bias gradient is still summed by the engine (a recorded sum)."""
    arrays = RNG.standard_normal((4, 5)), RNG.standard_normal((3, 5)), RNG.standard_normal(3)
    results = []
    for lib in (gradienti, torch):
        x, weight, bias = (lib.tensor(array.copy(), requires_grad=True) for array in arrays)
        out = lib.nn.functional.linear(x, weight, bias)
        (grad_bias,) = lib.autograd.grad((out * out).sum(), bias, create_graph=True)
        (grad_x,) = lib.autograd.grad(grad_bias.sum(), x)
        results.append((grad_bias.detach().numpy(), grad_x.numpy()))
    for mine, reference in zip(*results):
        np.testing.assert_allclose(mine, reference, rtol=1e-12)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("transposed", [False, True])
def test_log_softmax_values_and_gradient_match_torch(dim, dtype, transposed):
    values = (RNG.standard_normal((7, 4)) * 30).astype(dtype)
    upstream = RNG.standard_normal((4, 7) if transposed else (7, 4)).astype(dtype)
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(values.copy(), requires_grad=True)
        source = x.t() if transposed else x
        out = source.log_softmax(dim)
        out.backward(lib.tensor(upstream))
        results.append((out.detach().numpy(), x.grad.numpy()))
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    for mine, reference in zip(*results):
        assert mine.dtype == reference.dtype
        np.testing.assert_allclose(mine, reference, rtol=tolerance, atol=tolerance)


def test_log_softmax_result_owns_its_memory():
    x = gradienti.tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    out = x.log_softmax(1)
    assert not np.shares_memory(out._data, x._data)
    out.detach().add_(1)
    np.testing.assert_array_equal(x.detach().numpy(), [[1.0, 2.0, 3.0]])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_gradient_with_ignored_targets_matches_torch(reduction):
    logits = RNG.standard_normal((6, 3))
    labels = np.array([0, -100, 2, 1, -100, 1])
    upstream = RNG.standard_normal(6) if reduction == "none" else None
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(logits.copy(), requires_grad=True)
        loss = lib.nn.functional.cross_entropy(x, lib.tensor(labels), reduction=reduction)
        loss.backward(None if upstream is None else lib.tensor(upstream))
        results.append((loss.detach().numpy(), x.grad.numpy()))
    for mine, reference in zip(*results):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-15)


def _addmm_error(lib, bias, a, b):
    try:
        lib.addmm(lib.tensor(bias), lib.tensor(a), lib.tensor(b))
    except Exception as error:  # noqa: BLE001 (the class and message are compared)
        return type(error), str(error).split("\n")[0]
    return None


@pytest.mark.parametrize(
    "shapes_and_dtypes",
    [
        (((4,), "bool"), ((2, 3), "bool"), ((3, 4), "bool")),
        (((7,), "bool"), ((2, 3), "bool"), ((3, 4), "bool")),
        (((4,), "int64"), ((2, 3), "int64"), ((3, 4), "int64")),
        (((4,), "float64"), ((2, 3), "float32"), ((3, 4), "float32")),
        (((4,), "float32"), ((2, 3), "float64"), ((3, 4), "float32")),
        (((7,), "float32"), ((2, 3), "float32"), ((3, 4), "float32")),
        (((4,), "float32"), ((2, 5), "float32"), ((3, 4), "float32")),
        (((4,), "float32"), ((3,), "float32"), ((3, 4), "float32")),
        (((4,), "float32"), ((2, 3), "float32"), ((3, 4, 1), "float32")),
    ],
)
def test_addmm_refuses_bad_input_as_torch(shapes_and_dtypes):
    arrays = [np.ones(shape, dtype=dtype) for shape, dtype in shapes_and_dtypes]
    ours, theirs = _addmm_error(gradienti, *arrays), _addmm_error(torch, *arrays)
    assert theirs is not None or shapes_and_dtypes[0][1] == "int64"
    assert ours == theirs


@pytest.mark.parametrize(
    "arguments",
    [
        ("list", "tensor", "mean"),
        ("tensor", "list", "mean"),
        ("list", "list", "mean"),
        ("list", "tensor", "everything"),
        ("tensor", "short", "mean"),
    ],
)
def test_cross_entropy_refuses_bad_arguments_as_torch(arguments):
    input_kind, target_kind, reduction = arguments
    caught = []
    for lib in (gradienti, torch):
        values = {
            "list": [[1.0, 2.0], [0.5, 0.1]],
            "tensor": lib.tensor([[1.0, 2.0], [0.5, 0.1]]),
            "short": lib.tensor([0]),
        }
        x = values[input_kind]
        target = [0, 1] if target_kind == "list" else values[target_kind]
        if target_kind == "tensor":
            target = lib.tensor([0, 1])
        with pytest.raises(Exception) as error:  # noqa: PT011 (the class is compared below)
            lib.nn.functional.cross_entropy(x, target, reduction=reduction)
        caught.append((error.type, str(error.value).split("\n")[0]))
    assert caught[0] == caught[1]


def test_explain_shows_the_bias_gradient_summed_over_the_rows():
    """The VJP hands the bias its (rows, out) gradient; the engine's sum is what explain
    shows as a step of its own."""
    layer = gradienti.nn.Linear(3, 2)
    out = layer(gradienti.ones(4, 3)).sum()
    text = str(gradienti.explain(out))
    assert "to x1:        the gradient = [[1, 1], [1, 1], [1, 1], [1, 1]]; summed" in text
    assert "dimensions (4, 2) -> (2,): [4, 4]" in text


@pytest.mark.parametrize("bad", ["input", "weight", "bias"])
def test_linear_refuses_a_non_tensor_argument_as_torch(bad):
    caught = []
    for lib in (gradienti, torch):
        arguments = {"input": lib.zeros(2, 3), "weight": lib.zeros(4, 3), "bias": lib.zeros(4)}
        arguments[bad] = [1.0] * 4
        with pytest.raises(TypeError) as error:
            lib.nn.functional.linear(arguments["input"], arguments["weight"], arguments["bias"])
        caught.append(str(error.value))
    assert caught[0] == caught[1]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("labels", [[0, 2, 1, 2, 0], [0, -100, 1, 2, -100]])
def test_nll_loss_reduced_values_match_torch(reduction, dtype, labels):
    """The reduced loss is minus the sum of the picked values (the same number as the sum of
    their negatives), over the kept count for the mean."""
    values = RNG.standard_normal((5, 3)).astype(dtype)
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(values.copy(), requires_grad=True)
        loss = lib.nn.functional.nll_loss(x, lib.tensor(labels), reduction=reduction)
        loss.backward()
        results.append((loss.detach().numpy(), x.grad.numpy()))
    tolerance = {"float16": 2e-3, "float32": 1e-6, "float64": 1e-14}[dtype]
    for mine, reference in zip(*results):
        assert mine.dtype == reference.dtype
        np.testing.assert_allclose(mine, reference, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("labels", [[0, 3, 1], [0, -1, 1], [-100, 5, 1]])
def test_nll_loss_refuses_a_target_out_of_range_as_torch(labels):
    caught = []
    for lib in (gradienti, torch):
        x = lib.zeros(3, 3)
        with pytest.raises(IndexError) as error:
            lib.nn.functional.nll_loss(x, lib.tensor(labels))
        caught.append(str(error.value).split("\n")[0])
    assert caught[0] == caught[1]
