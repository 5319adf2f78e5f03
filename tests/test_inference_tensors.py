"""Inference tensors against torch: ``is_inference()`` is True for what factories and ops make
inside ``inference_mode()`` (a view of a normal tensor stays normal, and so does a tensor
updated in place), False for what is made outside or under ``inference_mode(False)``;
``requires_grad_`` on one outside inference mode raises PyTorch's error; the mode's grad and
inference state, nested and as a decorator, and the op counters restored on exit."""

import threading

import numpy as np
import pytest

import gradienti
from gradienti.graph.grad_mode import MODES


@pytest.fixture
def torch():
    return pytest.importorskip("torch")  # the oracle


def made_inside(torch):
    """name -> tensor, made inside inference_mode from a leaf ``x`` and a normal ``n``."""
    F = torch.nn.functional
    x = torch.ones(3, requires_grad=True)
    n = torch.ones(2, 3)
    torch.manual_seed(0)
    linear = torch.nn.Linear(3, 2)
    with torch.inference_mode():
        made = {
            "mul": x * 2,
            "sum": x.sum(),
            "clone": n.clone(),
            "to": n.to(torch.float64),
            "linear": linear(n),
            "relu": F.relu(n),
            "softmax": F.softmax(n, -1),
            "cat": torch.cat([n, n]),
            "matmul": n @ n.t(),
            "mean": n.mean(0),
            "max_values": n.max(1)[0],
            "zeros": torch.zeros(2),
            "full": torch.full((2,), 3.0),
            "arange": torch.arange(3),
            "randn": torch.randn(2),
            "tensor_list": torch.tensor([1.0]),
            "tensor_float": torch.tensor(1.0),
            "requires_grad_factory": torch.ones(2, requires_grad=True),
            # views of a normal tensor, and an in-place update of one, stay normal
            "view": n.view(6),
            "index": n[0],
            "t": n.t(),
            "reshape": n.reshape(3, 2),
            "unbind": n.unbind(0)[0],
            "chunk": torch.chunk(n, 2, 1)[1],
            "detach": x.detach(),
            "add_": n.add_(1),
            # a view of an inference tensor is one
            "view_of_inference": (n * 2).view(6),
            "index_of_inference": (n * 2)[0],
            # the other factories
            "from_numpy": torch.from_numpy(np.ones(2)),
            "as_tensor": torch.as_tensor(np.ones(2)),
            "legacy": torch.Tensor([1.0]),
            "legacy_size": torch.Tensor(2, 3),
            "new_zeros": n.new_zeros(2),
            "zeros_like": torch.zeros_like(n),
            "rand": torch.rand(2),
            "randint": torch.randint(0, 5, (2,)),
            "eye": torch.eye(2),
            "linspace": torch.linspace(0, 1, 3),
            "where": torch.where(n > 0, n, n),
            "stack": torch.stack([n, n]),
            "dropout": F.dropout(n, 0.5, training=True),
        }
        with torch.inference_mode(False):
            made["inner_false_factory"] = torch.ones(2)
            made["inner_false_op"] = x * 3
    made["outside_op_on_inference"] = made["mul"] + 1
    made["outside_factory"] = torch.ones(2)
    made["leaf"], made["normal"] = x, n
    return made


def test_is_inference_matches_torch(torch):
    expected = {name: t.is_inference() for name, t in made_inside(torch).items()}
    actual = {name: t.is_inference() for name, t in made_inside(gradienti).items()}
    assert actual == expected
    assert any(expected.values()) and not all(expected.values())


@pytest.mark.parametrize("how", ["requires_grad_", "attribute"])
def test_requires_grad_on_inference_tensor_outside_raises(torch, how):
    messages = []
    for lib in (torch, gradienti):
        with lib.inference_mode():
            made = lib.ones(2) * 2
            made.requires_grad_()  # allowed inside
            other = lib.zeros(2)
        with pytest.raises(RuntimeError) as error:
            if how == "requires_grad_":
                other.requires_grad_()
            else:
                other.requires_grad = True
        assert other.requires_grad is False  # a failed call changes nothing
        messages.append(str(error.value))
        other.requires_grad_(False)  # switching it off is allowed
    assert messages[0] == messages[1]


def test_mode_state_matches_torch(torch):
    def states(lib):
        seen = []
        with lib.inference_mode():
            seen.append((lib.is_inference_mode_enabled(), lib.is_grad_enabled()))
            with lib.inference_mode(False):
                seen.append((lib.is_inference_mode_enabled(), lib.is_grad_enabled()))
            seen.append((lib.is_inference_mode_enabled(), lib.is_grad_enabled()))
        with lib.no_grad(), lib.inference_mode(False):
            seen.append((lib.is_inference_mode_enabled(), lib.is_grad_enabled()))

        @lib.inference_mode()
        def decorated():
            return lib.ones(1).is_inference(), lib.is_inference_mode_enabled()

        seen.append(decorated())
        seen.append((lib.is_inference_mode_enabled(), lib.is_grad_enabled()))
        return seen

    assert states(gradienti) == states(torch)


def test_counters_restored_after_an_error():
    before = (MODES.count, MODES.special, MODES.inference)
    with pytest.raises(ValueError), gradienti.inference_mode():
        assert MODES.inference == before[2] + 1
        raise ValueError
    assert (MODES.count, MODES.special, MODES.inference) == before
    assert gradienti.is_grad_enabled() and not gradienti.is_inference_mode_enabled()


def test_other_threads_make_normal_tensors():
    made = {}
    started, release = threading.Event(), threading.Event()

    def worker():
        started.wait()
        made["other"] = gradienti.ones(2) * 2
        release.set()

    thread = threading.Thread(target=worker)
    thread.start()
    with gradienti.inference_mode():
        mine = gradienti.ones(2) * 2
        started.set()
        release.wait(10)
    thread.join()
    assert mine.is_inference() and not made["other"].is_inference()


def test_values_unchanged_in_inference_mode(torch):
    x = np.arange(6.0).reshape(2, 3)
    with gradienti.inference_mode():
        result = (gradienti.tensor(x) * 2).softmax(-1)
    with torch.inference_mode():
        expected = (torch.tensor(x) * 2).softmax(-1)
    np.testing.assert_allclose(result.numpy(), expected.numpy())


def test_enable_grad_inside_inference_mode_records_nothing(torch):
    seen = []
    for lib in (torch, gradienti):
        x = lib.ones(2, requires_grad=True)
        with lib.inference_mode(), lib.enable_grad():
            y = x * 2
            seen.append((lib.is_grad_enabled(), y.requires_grad, y.grad_fn is None))
    assert seen[0] == seen[1] == (True, False, True)
