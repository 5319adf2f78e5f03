"""gradienti.func.functional_call (and the deprecated nn.utils.stateless.functional_call)
against PyTorch's: results, the module's own tensors back in place afterwards (also after an
error), buffers updated in place, tied weights, strict, and the error texts."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from func_helpers import assert_same, assert_same_error

import gradienti

torch = pytest.importorskip("torch")


def mlp(lib):
    lib.manual_seed(0)
    model = lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2))
    return model.double()


def torch_values(shapes_by_name: dict, seed: int = 1) -> dict:
    rng = np.random.default_rng(seed)
    return {name: rng.standard_normal(shape) for name, shape in shapes_by_name.items()}


def given(lib, values: dict) -> dict:
    return {name: lib.tensor(value) for name, value in values.items()}


MLP_SHAPES = {"0.weight": (4, 3), "0.bias": (4,), "2.weight": (2, 4), "2.bias": (2,)}
INPUT = np.random.default_rng(2).standard_normal((5, 3))


def test_result_and_the_modules_own_tensors_as_pytorch():
    def run(lib):
        model = mlp(lib)
        before = {name: p for name, p in model.named_parameters()}
        params = given(lib, torch_values(MLP_SHAPES))
        out = lib.func.functional_call(model, params, (lib.tensor(INPUT),))
        after = dict(model.named_parameters())
        assert all(after[name] is before[name] for name in before)
        return out, model(lib.tensor(INPUT))

    assert_same(run(gradienti), run(torch), torch)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, m, p, x: lib.func.functional_call(m, p, x),  # args not a tuple
        lambda lib, m, p, x: lib.func.functional_call(m, p, args=(), kwargs={"input": x}),
        lambda lib, m, p, x: lib.func.functional_call(m, (p,), (x,)),  # a tuple of dicts
        lambda lib, m, p, x: lib.func.functional_call(
            m,
            [{k: v for k, v in p.items() if "0." in k}, {k: v for k, v in p.items() if "2." in k}],
            x,
        ),
        lambda lib, m, p, x: lib.func.functional_call(m, {"0.weight": p["0.weight"]}, x),
    ],
)
def test_argument_forms_as_pytorch(call):
    def run(lib):
        return call(lib, mlp(lib), given(lib, torch_values(MLP_SHAPES)), lib.tensor(INPUT))

    assert_same(run(gradienti), run(torch), torch)


def test_gradients_through_the_given_tensors_as_pytorch():
    def run(lib):
        model = mlp(lib)
        params = {k: v.requires_grad_() for k, v in given(lib, torch_values(MLP_SHAPES)).items()}
        lib.func.functional_call(model, params, (lib.tensor(INPUT),)).pow(2).sum().backward()
        own_grads = [p.grad for p in model.parameters()]
        return {k: v.grad for k, v in params.items()}, own_grads

    assert_same(run(gradienti), run(torch), torch)


def test_grad_of_functional_call_with_respect_to_a_parameter_dict():
    def run(lib):
        model = mlp(lib)
        params = given(lib, torch_values(MLP_SHAPES))

        def loss(params, x):
            return lib.func.functional_call(model, params, (x,)).pow(2).mean()

        return lib.func.grad(loss)(params, lib.tensor(INPUT))

    assert_same(run(gradienti), run(torch), torch)


def _per_sample_loss(lib):
    """(parameters, inputs, targets, loss(parameters, one input, its target)) of the MLP."""
    model = mlp(lib)
    params = {k: v.detach() for k, v in model.named_parameters()}
    targets = lib.tensor(np.random.default_rng(4).standard_normal((5, 2)))

    def loss(params, x, target):
        out = lib.func.functional_call(model, params, (x.unsqueeze(0),))
        return lib.nn.functional.mse_loss(out, target.unsqueeze(0))

    return params, lib.tensor(INPUT), targets, loss


def test_per_sample_gradients_with_vmap_of_grad_as_torch_func():
    def run(lib):
        params, inputs, targets, loss = _per_sample_loss(lib)
        per_sample = lib.func.vmap(lib.func.grad(loss), in_dims=(None, 0, 0))
        return per_sample(params, inputs, targets)

    assert_same(run(gradienti), run(torch), torch)


def test_per_sample_gradients_one_sample_at_a_time():
    def run(lib):
        params, inputs, targets, loss = _per_sample_loss(lib)
        per_sample = [lib.func.grad(loss)(params, inputs[i], targets[i]) for i in range(5)]
        return {k: lib.stack([g[k] for g in per_sample]) for k in params}

    assert_same(run(gradienti), run(torch), torch)


def test_buffers_updated_in_place_during_the_call_as_pytorch():
    def run(lib):
        lib.manual_seed(0)
        norm = lib.nn.BatchNorm1d(3).double()
        buffers = {
            "running_mean": lib.zeros(3, dtype=lib.float64),
            "running_var": lib.ones(3, dtype=lib.float64),
            "num_batches_tracked": lib.tensor(0),
        }
        out = lib.func.functional_call(norm, buffers, (lib.tensor(INPUT),))
        return out, buffers, dict(norm.named_buffers())

    assert_same(run(gradienti), run(torch), torch)


class _Tied:
    """A module whose two Linear layers share one weight Parameter."""

    @staticmethod
    def make(lib):
        lib.manual_seed(0)
        model = lib.nn.Sequential(lib.nn.Linear(3, 3), lib.nn.Linear(3, 3)).double()
        model[1].weight = model[0].weight
        return model


@pytest.mark.parametrize("tie_weights", [True, False])
def test_tied_weights_as_pytorch(tie_weights):
    def run(lib):
        model = _Tied.make(lib)
        weight = lib.tensor(np.eye(3) * 2)
        return lib.func.functional_call(
            model, {"0.weight": weight}, (lib.tensor(INPUT),), tie_weights=tie_weights
        )

    assert_same(run(gradienti), run(torch), torch)


def test_both_tied_names_with_the_same_tensor_is_allowed():
    def run(lib):
        model = _Tied.make(lib)
        weight = lib.tensor(np.eye(3) * 2)
        return lib.func.functional_call(
            model, {"0.weight": weight, "1.weight": weight}, (lib.tensor(INPUT),)
        )

    assert_same(run(gradienti), run(torch), torch)


def test_strict_with_every_name_as_pytorch():
    def run(lib):
        params = given(lib, torch_values(MLP_SHAPES))
        return lib.func.functional_call(mlp(lib), params, (lib.tensor(INPUT),), strict=True)

    assert_same(run(gradienti), run(torch), torch)


def test_a_name_the_module_lacks_is_added_for_the_call_then_removed():
    def run(lib):
        model = mlp(lib)
        seen = []
        model.register_forward_hook(lambda m, args, out: seen.append(m.extra.clone()))
        lib.func.functional_call(model, {"extra": lib.ones(2)}, (lib.tensor(INPUT),))
        return seen, hasattr(model, "extra")

    assert_same(run(gradienti), run(torch), torch)


class _Failing:
    @staticmethod
    def call(lib):
        model = mlp(lib)
        before = dict(model.named_parameters())
        params = given(lib, torch_values(MLP_SHAPES))
        with pytest.raises(RuntimeError):  # the input's shape does not fit the first layer
            lib.func.functional_call(model, params, (lib.ones(5, 7, dtype=lib.float64),))
        after = dict(model.named_parameters())
        return all(after[name] is before[name] for name in before)


def test_the_modules_tensors_are_back_after_an_error():
    assert _Failing.call(gradienti) is True
    assert _Failing.call(torch) is True


ERRORS = {
    "strict, missing and unexpected": lambda lib: lib.func.functional_call(
        mlp(lib),
        {"0.weight": lib.ones(4, 3), "foo": lib.ones(1), "bar": lib.ones(1)},
        (lib.ones(1, 3),),
        strict=True,
    ),
    "strict, missing": lambda lib: lib.func.functional_call(
        mlp(lib), {"0.weight": lib.ones(4, 3)}, (lib.ones(1, 3),), strict=True
    ),
    "tied names with different tensors": lambda lib: lib.func.functional_call(
        _Tied.make(lib),
        {"0.weight": lib.ones(3, 3), "1.weight": lib.zeros(3, 3)},
        (lib.ones(1, 3),),
    ),
    "repeated keys in dicts": lambda lib: lib.func.functional_call(
        mlp(lib), ({"0.bias": lib.ones(4)}, {"0.bias": lib.ones(4)}), (lib.ones(1, 3),)
    ),
    "a sequence with a non-dict": lambda lib: lib.func.functional_call(
        mlp(lib), ({"0.bias": lib.ones(4)}, 3), (lib.ones(1, 3),)
    ),
    "neither a dict nor a sequence": lambda lib: lib.func.functional_call(
        mlp(lib), 3, (lib.ones(1, 3),)
    ),
    "a value that is not a Tensor": lambda lib: lib.func.functional_call(
        mlp(lib), {"0.bias": 3.0}, (lib.ones(1, 3),)
    ),
    "a submodule that does not exist": lambda lib: lib.func.functional_call(
        mlp(lib), {"7.bias": lib.ones(4)}, (lib.ones(1, 3),)
    ),
    "an empty name": lambda lib: lib.func.functional_call(
        mlp(lib), {"0.": lib.ones(4)}, (lib.ones(1, 3),)
    ),
    "a path through a non-module": lambda lib: lib.func.functional_call(
        mlp(lib), {"0.bias.x": lib.ones(4)}, (lib.ones(1, 3),)
    ),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_errors_as_pytorch(name):
    assert_same_error(ERRORS[name], torch)


def test_failed_swap_leaves_the_module_as_it_was():
    for lib in (gradienti, torch):
        model = mlp(lib)
        before = dict(model.named_parameters())
        with pytest.raises(TypeError):
            lib.func.functional_call(
                model, {"0.weight": lib.ones(4, 3), "0.bias": 3.0}, (lib.ones(1, 3),)
            )
        after = dict(model.named_parameters())
        assert all(after[name] is before[name] for name in before)


def test_the_deprecated_stateless_functional_call_as_pytorch():
    def run(lib):
        params = given(lib, torch_values(MLP_SHAPES))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = lib.nn.utils.stateless.functional_call(mlp(lib), params, (lib.tensor(INPUT),))
        assert [w.category for w in caught] == [FutureWarning]
        return out, str(caught[0].message)

    assert_same(run(gradienti), run(torch), torch)
