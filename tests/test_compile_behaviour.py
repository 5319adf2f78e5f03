"""``gradienti.compile``'s behaviour around the replay: graph breaks, retracing, the bounded
cache, the decorator forms and a compiled Module.

A graph break (a tensor's value read into Python inside the function) makes the function run
eagerly from then on with ONE UserWarning naming the line; the results stay right. A new input
signature (shape, dtype, requires_grad, grad mode, a Module's training flag and parameters)
traces again, up to the cache's limit (8, as torch._dynamo's recompile_limit), after which the
function runs eagerly with one warning. Warning texts are gradienti's own; exception classes
and messages follow PyTorch where it has them.
"""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import numpy as np
import pytest

import gradienti
import gradienti.nn as nn

THIS_FILE = Path(__file__).name


def compiler():
    """``gradienti.compiler``, imported when a test uses it."""
    return importlib.import_module("gradienti.compiler")


def stats(compiled):
    return compiler().stats(compiled)


def line_of(marker: str) -> int:
    """The line of this file that holds ``marker`` (a comment on the line that breaks)."""
    lines = Path(__file__).read_text().splitlines()
    (number,) = [i + 1 for i, line in enumerate(lines) if line.rstrip().endswith(f"# {marker}")]
    return number


def break_warnings(record) -> list[str]:
    return [str(w.message) for w in record if "graph break" in str(w.message)]


def same(a, b) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def data(n: int = 3, seed: int = 0, requires_grad: bool = False):
    values = np.random.default_rng(seed).uniform(0.5, 1.5, n).astype(np.float32)
    return gradienti.tensor(values, requires_grad=requires_grad)


# ---------------------------------------------------------------------------- graph breaks
def reads_item(x):
    y = x * 2
    scale = y.sum().item()  # BREAK-item
    return y * scale


def reads_bool(x):
    y = x * 2
    if y.sum() > 0:  # BREAK-bool
        return y + 1
    return y - 1


def reads_float(x):
    y = x.exp()
    return y * float(y.sum())  # BREAK-float


def reads_int(x):
    y = x * 3
    return y + int(y.sum())  # BREAK-int


def reads_tolist(x):
    y = x + 1
    return y * len([v for v in y.tolist() if v > 2])  # BREAK-tolist


def reads_numpy(x):
    y = x * x
    return y + float(np.asarray(y.detach().numpy()).max())  # BREAK-numpy


def prints(x):
    y = x * 4
    print(y)  # BREAK-print
    return y.sin()


BREAKING = {
    "item": reads_item,
    "bool": reads_bool,
    "float": reads_float,
    "int": reads_int,
    "tolist": reads_tolist,
    "numpy": reads_numpy,
    "print": prints,
}


@pytest.mark.parametrize("reader", list(BREAKING))
def test_reading_a_value_breaks_the_graph_once_with_the_line(reader, capsys):
    function = BREAKING[reader]
    compiled = gradienti.compile(function)
    line = f"{THIS_FILE}:{line_of(f'BREAK-{reader}')}"
    for call in range(4):
        x, x_eager = data(seed=call, requires_grad=True), data(seed=call, requires_grad=True)
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            out = compiled(x)
        compiled_printed = capsys.readouterr().out
        expected = function(x_eager)
        assert capsys.readouterr().out == compiled_printed  # print(t) printed the same text
        assert same(out.detach().numpy(), expected.detach().numpy())
        out.backward(gradienti.tensor([0.5, 1.0, 2.0]))
        expected.backward(gradienti.tensor([0.5, 1.0, 2.0]))
        assert same(x.grad.numpy(), x_eager.grad.numpy())
        messages = break_warnings(record)
        state = stats(compiled)
        if call == 0:
            assert len(messages) == 1, messages
            assert line in messages[0], messages[0]
            assert function.__name__ in messages[0], messages[0]
            assert state.graph_break is not None and line in state.graph_break
            eager_calls_at_break = state.eager_calls  # 0 or 1: whether the trace counts
        else:
            assert messages == []  # one warning, on the call that broke
            assert state.eager_calls == eager_calls_at_break + call
        assert state.compiled_calls == 0


def test_fullgraph_raises_on_a_graph_break_naming_the_line():
    compiled = gradienti.compile(reads_item, fullgraph=True)
    line = f"{THIS_FILE}:{line_of('BREAK-item')}"
    with pytest.raises(RuntimeError, match=line):  # torch's Unsupported is a RuntimeError
        compiled(data(requires_grad=True))
    clean = gradienti.compile(lambda x: (x * 2).sin(), fullgraph=True)
    for _ in range(2):
        assert same(clean(data()).numpy(), (data() * 2).sin().numpy())
    assert stats(clean).compiled_calls == 1


def test_a_break_in_a_later_signature_keeps_the_function_right():
    def small_sums_break(x):
        y = x * 2
        if x.shape[0] > 3:
            return y + float(y.sum())  # BREAK-later
        return y

    compiled = gradienti.compile(small_sums_break)
    for _ in range(2):
        assert same(compiled(data(3)).numpy(), small_sums_break(data(3)).numpy())
    assert stats(compiled).compiled_calls == 1
    with pytest.warns(UserWarning, match=f"{THIS_FILE}:{line_of('BREAK-later')}"):
        out = compiled(data(5))
    assert same(out.numpy(), small_sums_break(data(5)).numpy())
    assert same(compiled(data(5)).numpy(), small_sums_break(data(5)).numpy())


# ---------------------------------------------------------------------------- retracing, the cache
def test_a_new_shape_dtype_or_requires_grad_retraces_and_old_signatures_replay():
    compiled = gradienti.compile(lambda x: (x * x).sum(0))
    signatures = [
        data(3),
        data(4),
        data(3).double(),
        data(3, requires_grad=True),
    ]
    for number, x in enumerate(signatures):
        compiled(x.detach().requires_grad_(x.requires_grad))
        state = stats(compiled)
        assert (state.traces, state.recompiles, state.compiled_calls) == (number + 1, number, 0)
    for number, x in enumerate(signatures):
        fresh = gradienti.tensor(x.detach().numpy() + 1, requires_grad=x.requires_grad)
        out = compiled(fresh)
        assert same(out.detach().numpy(), (fresh * fresh).sum(0).detach().numpy())
        assert out.dtype == fresh.dtype and out.requires_grad == fresh.requires_grad
        state = stats(compiled)
        assert (state.traces, state.compiled_calls) == (len(signatures), number + 1)


def test_grad_mode_is_part_of_the_signature():
    compiled = gradienti.compile(lambda x: x.exp() * 2)
    x = data(requires_grad=True)
    with gradienti.no_grad():
        out = compiled(x)
    assert not out.requires_grad and out.grad_fn is None
    out = compiled(x)
    assert out.requires_grad
    out.sum().backward()
    assert same(x.grad.numpy(), (x.detach().exp() * 2).numpy())
    with gradienti.no_grad():
        again = compiled(x)
    assert not again.requires_grad
    assert stats(compiled).traces == 2 and stats(compiled).compiled_calls == 1


def test_the_cache_is_bounded_at_8_signatures_then_eager_with_one_warning():
    def grows(x):
        return x.sin() + 1

    compiled = gradienti.compile(grows)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for n in range(1, 9):
            compiled(data(n))
    assert [str(w.message) for w in record] == []
    assert (stats(compiled).traces, stats(compiled).recompiles) == (8, 7)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for n in (9, 10, 11):
            out = compiled(data(n))
            assert same(out.numpy(), grows(data(n)).numpy())
    messages = [str(w.message) for w in record]
    assert len(messages) == 1, messages
    assert "grows" in messages[0] and "8" in messages[0]
    assert issubclass(record[0].category, UserWarning)
    assert stats(compiled).traces == 8
    assert stats(compiled).eager_calls == 3


def test_reset_clears_the_caches():
    compiled = gradienti.compile(lambda x: x * 5)
    compiled(data())
    compiled(data())
    assert stats(compiled).compiled_calls == 1
    compiler().reset()
    calls_before = stats(compiled).compiled_calls
    compiled(data())  # traces again: the cache was cleared
    assert stats(compiled).compiled_calls == calls_before
    assert same(compiled(data()).numpy(), (data() * 5).numpy())
    assert stats(compiled).compiled_calls == calls_before + 1


def test_is_compiling_is_true_while_tracing_only():
    seen = []

    def notes(x):
        seen.append(compiler().is_compiling())
        return x + 1

    compiled = gradienti.compile(notes)
    assert compiler().is_compiling() is False
    compiled(data())
    compiled(data())
    # notes' append changes a list it reaches, so the second call traces again (the append
    # happens at every call, as eagerly): both calls ran notes, tracing
    assert seen == [True, True]
    assert compiler().is_compiling() is False


# ---------------------------------------------------------------------------- decorator forms
def test_decorator_forms_compile():
    torch_like = gradienti  # `import gradienti as torch`: torch.compile is the same function

    @gradienti.compile
    def plain(x):
        """Doubles x."""
        return x * 2

    @gradienti.compile()
    def called(x):
        return x * 3

    @gradienti.compile(mode="reduce-overhead")
    def with_mode(x):
        return x * 4

    @torch_like.compile(fullgraph=True)
    def full(x):
        return x * 5

    assert plain.__name__ == "plain" and plain.__doc__.startswith("Doubles x.")
    for factor, compiled in zip((2, 3, 4, 5), (plain, called, with_mode, full)):
        for _ in range(2):
            assert same(compiled(data()).numpy(), (data() * factor).numpy())
        assert stats(compiled).compiled_calls == 1, compiled.__name__


def test_disable_returns_the_function_itself():
    def f(x):
        return x + 1

    assert gradienti.compile(f, disable=True) is f


def test_keyword_arguments_and_python_numbers_are_part_of_the_signature():
    compiled = gradienti.compile(lambda x, scale=1.0, shift=None: x * scale + (shift or 0))
    x = data()
    for scale in (1.0, 2.0, 1.0):
        assert same(compiled(x, scale=scale).numpy(), (x * scale + 0).numpy())
    assert stats(compiled).traces == 2 and stats(compiled).compiled_calls == 1
    assert same(compiled(x, 2.0, shift=3).numpy(), (x * 2.0 + 3).numpy())


# ---------------------------------------------------------------------------- a compiled Module
class Scaled(nn.Module):
    """A linear layer whose output is scaled by 2 in training and by 3 in eval mode."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(3, 2)

    def forward(self, x):
        return self.linear(x) * (2.0 if self.training else 3.0)


def test_compiled_module_state_dict_keys_match_pytorchs():
    torch = pytest.importorskip("torch")
    gradienti.manual_seed(0)
    ours = gradienti.compile(gradienti.nn.Sequential(gradienti.nn.Linear(3, 4), nn.Tanh()))
    theirs = torch.compile(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh()))
    assert type(ours).__name__ == type(theirs).__name__ == "OptimizedModule"
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert list(ours.state_dict())[0].startswith("_orig_mod.")


def test_compiled_module_retraces_on_train_eval_and_replaced_parameters():
    gradienti.manual_seed(0)
    model = Scaled()
    compiled = gradienti.compile(model)
    x = data().reshape(1, 3)

    def expected():
        return model(x).detach().numpy()

    for _ in range(2):
        assert same(compiled(x).detach().numpy(), expected())
    assert (stats(compiled).traces, stats(compiled).compiled_calls) == (1, 1)
    compiled.eval()
    assert not model.training
    for _ in range(2):
        assert same(compiled(x).detach().numpy(), expected())
    assert (stats(compiled).traces, stats(compiled).recompiles) == (2, 1)
    compiled.train()
    assert same(compiled(x).detach().numpy(), expected())
    assert stats(compiled).traces == 2  # train mode's trace is still cached
    model.linear.weight = nn.Parameter(gradienti.ones(2, 3))
    out = compiled(x)
    assert same(out.detach().numpy(), expected())
    assert stats(compiled).traces == 3
    out.sum().backward()
    assert model.linear.weight.grad is not None  # the new parameter gets the gradient
    assert same(model.linear.weight.grad.numpy(), (2.0 * x.expand(2, 3)).numpy())
