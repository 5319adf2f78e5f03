"""``compile``: the callable it returns gives the same results as the eager one, and has
PyTorch's shape (an ``OptimizedModule`` with ``_orig_mod.`` state_dict keys, a function of the
same name, the decorator forms, PyTorch's errors for bad arguments)."""

import warnings

import numpy as np
import pytest

import gradienti
from gradienti import compiler

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True, scope="module")
def torch_distributions_validation_kept():
    """Real ``torch.compile`` imports dynamo, which switches off torch.distributions' default
    argument validation for the whole process: put it back for the tests that run later and
    compare gradienti's validation errors with torch's."""
    validating = torch.distributions.Distribution._validate_args
    yield
    torch.distributions.Distribution.set_default_validate_args(validating)


@pytest.fixture
def fresh_note():
    """Each test starts with no compiled program cached."""
    compiler.reset()


def _eager_note_count(record) -> int:
    """compile says nothing when it compiles (it once warned that it ran eagerly)."""
    return sum("no compiled path yet" in str(w.message) for w in record)


def test_module_gives_the_same_results_and_state_dict_keys(fresh_note):
    gradienti.manual_seed(0)
    torch.manual_seed(0)
    models = [lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.Tanh()) for lib in (gradienti, torch)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compiled = [torch_.compile(m) for torch_, m in zip((gradienti, torch), models)]
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    # torch's eager model stands for its compiled one (running that would compile for a minute)
    ours, theirs = compiled[0](gradienti.tensor(x)), models[1](torch.tensor(x))
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6)
    assert np.array_equal(ours.detach().numpy(), models[0](gradienti.tensor(x)).detach().numpy())
    assert list(compiled[0].state_dict()) == list(compiled[1].state_dict())
    assert type(compiled[0]).__name__ == type(compiled[1]).__name__ == "OptimizedModule"
    assert repr(compiled[0]) == repr(compiled[1])
    assert compiled[0]._orig_mod is models[0]
    linear = gradienti.nn.Linear(2, 2)
    assert gradienti.compile(linear).weight is linear.weight  # the original module's attributes
    assert compiled[0].training is True
    # gradients reach the original parameters
    ours.sum().backward()
    theirs.sum().backward()
    np.testing.assert_allclose(
        models[0][0].weight.grad.numpy(), models[1][0].weight.grad.numpy(), rtol=1e-6
    )


def test_function_and_decorators(fresh_note):
    def square_plus(x, y=1.0):
        """Doubles x."""
        return x * x + y

    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        compiled = gradienti.compile(square_plus)
    assert _eager_note_count(record) == 0
    assert compiled.__name__ == "square_plus"
    assert compiled.__doc__.startswith("Doubles x.")
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    assert compiled(x, y=2.0).tolist() == [3.0, 6.0]

    @gradienti.compile
    def cube(x):
        return x * x * x

    @gradienti.compile(mode="max-autotune")
    def halve(x):
        return x / 2

    assert cube(gradienti.tensor(2.0)).item() == 8.0
    assert halve(gradienti.tensor(3.0)).item() == 1.5


def test_a_second_compile_says_nothing(fresh_note):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        gradienti.compile(gradienti.nn.Linear(1, 1))
        gradienti.compile(gradienti.nn.Linear(1, 1))
        gradienti.compile(lambda x: x)
    assert _eager_note_count(record) == 0


def test_disable_returns_the_model_itself(fresh_note):
    model = gradienti.nn.Linear(1, 1)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert gradienti.compile(model, disable=True) is model
    assert _eager_note_count(record) == 0


@pytest.mark.parametrize(
    "call",
    [
        "torch.compile(lambda x: x, mode='bogus')",
        "torch.compile(lambda x: x, mode='default', options={})",
        "torch.compile(3)",
    ],
)
def test_bad_arguments_as_pytorch(call, fresh_note):
    outcomes = []
    for lib in (gradienti, torch):
        with pytest.raises(Exception) as caught:  # noqa: PT011 - compared below
            eval(call, {"torch": lib})
        outcomes.append((type(caught.value).__name__, str(caught.value)))
    assert outcomes[0] == outcomes[1]


def _flagged_net(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = lib.nn.Linear(2, 2)
            self.scale = 3.0

        def forward(self, x):
            return self.fc(x) * self.scale

    lib.manual_seed(0)
    return Net()


def test_compiled_module_sets_and_deletes_attributes_on_the_original(fresh_note):
    outcomes = []
    for lib in (gradienti, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            net = _flagged_net(lib)
            compiled = lib.compile(net)
            compiled.scale = 0.0  # what the model runs with
            net_sees = net.scale
            out = net(lib.ones(1, 2)).tolist()
            net.eval()  # training is the original's
            training = compiled.training
            compiled.train()
            del compiled.scale
        outcomes.append(
            (net_sees, out, training, net.training, hasattr(net, "scale"), "fc" in dir(compiled))
        )
    assert outcomes[0] == outcomes[1]


def test_module_compile_in_place(fresh_note):
    outcomes = []
    for lib in (gradienti, torch):
        net = _flagged_net(lib)
        expected = net(lib.ones(1, 2)).tolist()
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            returned = net.compile()
        if lib is gradienti:
            assert _eager_note_count(record) == 0
        outcomes.append((returned, type(net).__name__, list(net.state_dict()), expected))
        with pytest.raises(RuntimeError) as caught:
            net.compile(mode="fast")
        outcomes.append(str(caught.value))
    assert outcomes[0] == outcomes[2] and outcomes[1] == outcomes[3]
