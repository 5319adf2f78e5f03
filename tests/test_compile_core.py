"""gradienti.compile's compiled path (gradienti/compiler/): a replay gives eager's values and
gradients bit for bit (and PyTorch's, within float32 rounding), signatures retrace, graph
breaks run eagerly with one warning naming the line, the engine's rules hold through the
compiled node (retain_graph, double backward refused as PyTorch refuses it)."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import gradienti
from gradienti import compiler, nn
from gradienti.compiler import chunks
from gradienti.nn import functional as F

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(17)


def arrays(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def same(a, b) -> bool:
    a = np.asarray(a._data if isinstance(a, gradienti.Tensor) else a)
    b = np.asarray(b._data if isinstance(b, gradienti.Tensor) else b)
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


def eager_and_compiled(fn, make_inputs, upstream=None, calls=3):
    """fn's output and input gradients, eagerly and in ``calls`` compiled calls."""
    compiled = gradienti.compile(fn)
    results = []
    for run in [fn] + [compiled] * calls:
        inputs = make_inputs()
        out = run(*inputs)
        out.backward(None if upstream is None else gradienti.tensor(upstream))
        results.append((out, [None if t.grad is None else t.grad for t in inputs]))
    return results, compiled


def mixed(x, y, z):
    # broadcasting, a float64 input promoted, a number, a reduction, a tensor used twice
    a = x * y + 2.5
    b = (a.tanh() * z).exp()
    return (b * x).sum(dim=1) - a.mean(dim=1) + b.sum(dim=1)


X0, Y0, Z0 = arrays(4, 3), arrays(3), arrays(4, 1, dtype=np.float64)
UPSTREAM = arrays(4)


def mixed_inputs(lib=gradienti):
    return (
        lib.tensor(X0, requires_grad=True),
        lib.tensor(Y0, requires_grad=True),
        lib.tensor(Z0, requires_grad=True),
    )


def test_replay_is_bitwise_eager_and_matches_torch():
    results, compiled = eager_and_compiled(mixed, mixed_inputs, UPSTREAM.astype(np.float64))
    (eager_out, eager_grads), *replays = results
    for out, grads in replays:
        assert same(out, eager_out)
        assert all(same(g, e) for g, e in zip(grads, eager_grads))
    assert replays[-1][0].grad_fn.name() == "CompiledFunctionBackward"
    stats = compiler.stats(compiled)
    assert (stats.traces, stats.compiled_calls, stats.eager_calls, stats.recompiles) == (1, 2, 0, 0)
    assert stats.graph_break is None
    assert stats.ops[:3] == ("MulBackward0", "AddBackward0", "TanhBackward0")
    inputs = mixed_inputs(torch)
    want = mixed(*inputs)
    want.backward(torch.tensor(UPSTREAM.astype(np.float64)))
    out, grads = replays[-1]
    assert out.dtype == gradienti.float64 and want.dtype == torch.float64
    np.testing.assert_allclose(out._data, want.detach().numpy(), rtol=1e-6)
    for got, reference in zip(grads, inputs):
        assert repr(got.dtype) == repr(reference.grad.dtype)
        np.testing.assert_allclose(got._data, reference.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_new_signatures_retrace_and_grad_mode_is_part_of_the_key():
    compiled = gradienti.compile(lambda x, k: (x * k).sum())
    x = gradienti.tensor(X0, requires_grad=True)
    compiled(x, 2.0)
    compiled(x, 2.0)
    compiled(x, 3.0)  # a Python number: by value
    compiled(gradienti.tensor(arrays(5, 3)), 2.0)  # shape, requires_grad
    with gradienti.no_grad():
        out = compiled(x, 2.0)
    assert out.grad_fn is None and not out.requires_grad
    stats = compiler.stats(compiled)
    assert (stats.traces, stats.compiled_calls, stats.recompiles) == (4, 1, 3)
    assert same(compiled(x, 3.0), (x * 3.0).sum())


def test_a_value_read_breaks_the_graph_once_with_the_line():
    def branchy(x):
        if x.sum().item() > 0:  # the line the warning names
            return x * 2
        return x * 3

    line = branchy.__code__.co_firstlineno + 1
    compiled = gradienti.compile(branchy)
    x = gradienti.tensor(np.abs(X0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert same(compiled(x), x * 2)
        assert same(compiled(x), x * 2)
    messages = [str(w.message) for w in caught]
    assert messages == [
        f"gradienti.compile: graph break in branchy at test_compile_core.py:{line}: "
        "Tensor.item() reads a tensor's value into Python; branchy runs eagerly from now on"
    ]
    assert caught[0].filename == __file__
    stats = compiler.stats(compiled)
    assert stats.graph_break == (
        f"Tensor.item() reads a tensor's value into Python at test_compile_core.py:{line}"
    )
    assert (stats.traces, stats.compiled_calls, stats.eager_calls) == (0, 0, 1)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (lambda x: x * gradienti.zeros(3), "MulBackward0 uses a tensor made inside the function"),
        (lambda x: x * gradienti.rand(3), "a random draw"),
        (lambda x: F.dropout(x, 0.5, training=True), "a random draw"),
        (lambda x: x.mul_(2), "an in-place write to a tensor"),
        (lambda x: gradienti.where(x > 0, x, x.exp()), "WhereBackward0 uses a tensor made"),
        (lambda x: x[x > 0] * 2, "uses a tensor made inside"),
        (lambda x: bool(x.sum() > 0) and x, "bool(tensor) reads a tensor's value"),
        (lambda x: print(x), "printing a tensor"),
        (lambda x: x.tolist(), "Tensor.tolist() reads"),
        (lambda x: float(x.sum()), "float(tensor) reads"),
    ],
)
def test_what_a_trace_cannot_replay_runs_eagerly(body, reason, capsys):
    compiled = gradienti.compile(body)
    x = gradienti.tensor(np.ones(3, np.float32))
    with pytest.warns(UserWarning, match="graph break in <lambda>"):
        compiled(x)
    assert reason in compiler.stats(compiled).graph_break
    compiled(x)
    assert compiler.stats(compiled).eager_calls == 1


def test_fullgraph_raises_at_the_break():
    def reads(x):
        return x * x.sum().item()

    compiled = gradienti.compile(reads, fullgraph=True)
    with pytest.raises(compiler.GraphBreakError, match=r"graph break in reads at test_compile"):
        compiled(gradienti.tensor(X0))
    assert compiler.stats(compiled).traces == 0


def test_an_op_that_cannot_be_replayed_names_itself():
    compiled = gradienti.compile(lambda x: F.layer_norm(x, (3,)))
    x = gradienti.tensor(arrays(4, 3), requires_grad=True)
    with pytest.warns(UserWarning, match="NativeLayerNormBackward0 is not supported by gradien"):
        out = compiled(x)
    out.sum().backward()  # the eager result of the trace call is the user's
    assert x.grad is not None


@pytest.mark.parametrize("spatial", [False, True])
def test_cross_entropy_and_nll_loss_replay_with_this_calls_targets(spatial):
    weight = gradienti.tensor([1.0, 2.0, 0.5])

    def loss(x, t):
        return F.cross_entropy(x, t, weight=weight, ignore_index=1) + F.nll_loss(
            F.log_softmax(x, 1), t, reduction="sum"
        )

    compiled = gradienti.compile(loss)
    shape, target_shape = ((5, 3, 2, 2), (5, 2, 2)) if spatial else ((6, 3), (6,))
    for _ in range(3):
        x_data = arrays(*shape)
        t_data = RNG.integers(0, 3, target_shape)
        upstream = float(RNG.uniform(0.5, 2))
        results = []
        for lib, run in ((gradienti, compiled), (gradienti, loss), (torch, None)):
            x = lib.tensor(x_data, requires_grad=True)
            t = lib.tensor(t_data)
            if run is None:
                tw = torch.tensor([1.0, 2.0, 0.5])
                out = torch.nn.functional.cross_entropy(
                    x, t, weight=tw, ignore_index=1
                ) + torch.nn.functional.nll_loss(torch.log_softmax(x, 1), t, reduction="sum")
            else:
                out = run(x, t)
            (out * upstream).backward()
            results.append((out.detach().numpy(), x.grad.numpy()))
        (compiled_out, compiled_grad), (eager_out, eager_grad), (torch_out, torch_grad) = results
        assert np.array_equal(compiled_out, eager_out) and np.array_equal(compiled_grad, eager_grad)
        np.testing.assert_allclose(compiled_out, torch_out, rtol=1e-5)
        np.testing.assert_allclose(compiled_grad, torch_grad, rtol=1e-5, atol=1e-6)
    stats = compiler.stats(compiled)
    assert (stats.traces, stats.compiled_calls, stats.graph_break) == (1, 2, None)
    loss_node = "NllLoss2DBackward0" if spatial else "NllLossBackward0"
    assert stats.ops[-1] == "AddBackward0" and stats.ops.count(loss_node) == 2


def test_a_target_out_of_range_raises_in_a_replay_as_eagerly():
    compiled = gradienti.compile(lambda x, t: F.cross_entropy(x, t))
    x = gradienti.tensor(arrays(2, 3))
    compiled(x, gradienti.tensor([0, 2]))
    with pytest.raises(IndexError) as replayed:
        compiled(x, gradienti.tensor([0, 5]))
    with pytest.raises(IndexError) as eager:
        F.cross_entropy(x, gradienti.tensor([0, 5]))
    assert str(replayed.value) == str(eager.value)
    assert same(compiled(x, gradienti.tensor([1, 2])), F.cross_entropy(x, gradienti.tensor([1, 2])))


def test_module_compile_guards_training_and_replaced_parameters():
    gradienti.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Dropout(0.0), nn.Linear(5, 3))
    compiled = gradienti.compile(model)
    assert list(compiled.state_dict()) == [f"_orig_mod.{k}" for k in model.state_dict()]
    x = gradienti.tensor(arrays(7, 6))
    target = arrays(7, 3)
    for _ in range(2):
        for run in (model, compiled):
            model.zero_grad()
            out = run(x)
            ((out - gradienti.tensor(target)) ** 2).mean().backward()
            grads = [p.grad._data.copy() for p in model.parameters()]
            if run is model:
                eager_out, eager_grads = out, grads
        assert same(out, eager_out)
        assert all(np.array_equal(g, e) for g, e in zip(grads, eager_grads))
    assert compiler.stats(compiled).compiled_calls == 1
    compiled.eval()
    compiled(x)
    model[0].weight = nn.Parameter(gradienti.tensor(arrays(5, 6)))
    assert same(compiled(x), model(x))
    assert compiler.stats(compiled).traces == 3


def test_captured_tensors_are_read_at_each_call():
    w = gradienti.tensor(arrays(3), requires_grad=True)
    compiled = gradienti.compile(lambda x: (x * w).sum())
    x = gradienti.tensor(X0)
    compiled(x)
    with gradienti.no_grad():
        w -= 0.5  # an optimizer step: the same tensor, new values
    out = compiled(x)
    out.backward()
    assert same(out, (x * w).sum())
    assert same(w.grad, x.sum(0))
    assert compiler.stats(compiled).compiled_calls == 1


def test_two_forwards_before_backward_keep_their_own_tapes():
    compiled = gradienti.compile(lambda x: (x.sigmoid() * x).sum())
    a = gradienti.tensor(X0, requires_grad=True)
    b = gradienti.tensor(-X0, requires_grad=True)
    compiled(a)  # the trace
    a.grad = None
    out_a, out_b = compiled(a), compiled(b)
    out_b.backward()
    out_a.backward()
    for leaf, data in ((a, X0), (b, -X0)):
        reference = gradienti.tensor(data, requires_grad=True)
        (reference.sigmoid() * reference).sum().backward()
        assert same(leaf.grad, reference.grad)


def test_backward_twice_and_double_backward_as_pytorch():
    compiled = gradienti.compile(lambda x: (x * x * x).sum())
    x = gradienti.tensor(X0, requires_grad=True)
    compiled(x)
    out = compiled(x)
    out.backward(retain_graph=True)
    out.backward()
    reference = gradienti.tensor(X0, requires_grad=True)
    eager = (reference * reference * reference).sum()
    eager.backward(retain_graph=True)
    eager.backward()
    assert same(x.grad, reference.grad)
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        out.backward()
    (grad,) = gradienti.autograd.grad(compiled(x), x, create_graph=True)
    reference = gradienti.tensor(X0, requires_grad=True)
    (want,) = gradienti.autograd.grad((reference * reference * reference).sum(), reference)
    assert same(grad, want)
    message = "torch.compile with aot_autograd does not currently support double backward"
    with pytest.raises(RuntimeError, match=message):
        grad.sum().backward()
    # PyTorch raises the same error for the same program
    tx = torch.tensor(X0, requires_grad=True)
    (tgrad,) = torch.autograd.grad(
        torch.compile(lambda v: (v * v * v).sum(), backend="aot_eager")(tx), tx, create_graph=True
    )
    with pytest.raises(RuntimeError, match=message):
        tgrad.sum().backward()


def test_results_of_any_structure():
    def several(x, scale=2.0):
        y = x * scale
        return {"y": y, "pair": (y.sum(), x), "none": None, "n": 3}

    compiled = gradienti.compile(several)
    x = gradienti.tensor(X0, requires_grad=True)
    compiled(x, scale=2.0)
    result = compiled(x, scale=2.0)
    assert result["pair"][1] is x and result["none"] is None and result["n"] == 3
    assert same(result["y"], x * 2.0)
    (result["y"] * gradienti.tensor(arrays(4, 3))).sum().backward(retain_graph=True)
    result["pair"][0].backward()
    assert x.grad is not None
    assert compiler.stats(compiled).compiled_calls == 1


def test_an_exception_in_a_trace_caches_nothing():
    state = {"fail": True}

    def fails_once(x):
        if state["fail"]:
            raise ValueError("first call")
        return x + 1

    compiled = gradienti.compile(fails_once)
    x = gradienti.tensor(X0)
    with pytest.raises(ValueError, match="first call"):
        compiled(x)
    state["fail"] = False
    assert compiler.stats(compiled).traces == 0
    assert gradienti.compiler.is_compiling() is False
    assert same(compiled(x), x + 1)
    assert same(compiled(x), x + 1)
    assert compiler.stats(compiled).compiled_calls == 1


def test_cache_limit_warns_once_then_runs_eagerly():
    compiled = gradienti.compile(lambda x: x * 2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(1, 12):
            assert same(compiled(gradienti.tensor(arrays(n))), gradienti.tensor(0) + 0) is False
    assert sum("cache size limit (8)" in str(w.message) for w in caught) == 1
    stats = compiler.stats(compiled)
    assert (stats.traces, stats.eager_calls) == (8, 3)
    compiler.reset()
    compiled(gradienti.tensor(arrays(20)))
    assert compiler.stats(compiled).traces == 1


def test_is_compiling_while_tracing_and_special_modes_run_eagerly():
    seen = []

    def spy(x):
        seen.append(compiler.is_compiling())
        return x.exp()

    compiled = gradienti.compile(spy)
    x = gradienti.tensor(X0)
    compiled(x)
    compiled(x)
    # spy's append changes a list it reaches, so the second call traces again (the append
    # happens at every call, as eagerly): both calls ran spy, tracing
    assert seen == [True, True]
    assert compiler.is_compiling() is False
    with gradienti.autograd.forward_ad.dual_level():
        dual = gradienti.autograd.forward_ad.make_dual(x, gradienti.ones_like(x))
        tangent = gradienti.autograd.forward_ad.unpack_dual(compiled(dual)).tangent
    assert same(tangent, x.exp())
    assert same(gradienti.func.vmap(compiled)(x), x.exp())
    assert compiler.stats(compiled).eager_calls == 2


def test_threads_replay_concurrently():
    compiled = gradienti.compile(lambda x: (x.tanh() * x).sum())
    compiled(gradienti.tensor(X0, requires_grad=True))
    data = [arrays(4, 3) for _ in range(8)]
    failures = []

    def work(array):
        for _ in range(30):
            x = gradienti.tensor(array, requires_grad=True)
            compiled(x).backward()
            reference = gradienti.tensor(array, requires_grad=True)
            (reference.tanh() * reference).sum().backward()
            if not same(x.grad, reference.grad):
                failures.append(array)

    threads = [threading.Thread(target=work, args=(array,)) for array in data]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures


SCALE = 2.0


def test_python_values_read_from_closures_globals_and_modules_are_guarded():
    global SCALE
    offset = 1.0

    def shifted(x):
        return x * SCALE + offset

    compiled = gradienti.compile(shifted)
    x = gradienti.tensor(X0)
    compiled(x)
    assert same(compiled(x), x * 2.0 + 1.0)
    SCALE = 3.0
    try:
        assert same(compiled(x), x * 3.0 + 1.0)
    finally:
        SCALE = 2.0
    offset = 5.0  # noqa: F841 - read by shifted through its closure
    assert same(compiled(x), x * 2.0 + 5.0)
    assert compiler.stats(compiled).traces == 3

    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(3, 2)
            self.scale = 3.0

        def forward(self, v):
            return self.linear(v) * self.scale

    model = Scaled()
    compiled_model = gradienti.compile(model)
    compiled_model(x)
    compiled_model.scale = 0.5  # set on the original module, as PyTorch's
    assert same(compiled_model(x), model(x))
    assert compiler.stats(compiled_model).traces == 2


@pytest.mark.parametrize(
    "body", [lambda x: x / 2, lambda x: x.exp(), lambda x: 1.5 - x, lambda x: x.sqrt() * 2.5]
)
def test_an_integral_input_lifted_to_float_is_replayed(body):
    compiled = gradienti.compile(body)
    for values in ([1, 2, 3], [4, 5, 6], [7, 8, 9]):
        x = gradienti.tensor(values)
        assert same(compiled(x), body(x))
    stats = compiler.stats(compiled)
    assert (stats.compiled_calls, stats.graph_break) == (2, None)


def test_a_long_trace_is_written_in_chunks_with_the_same_results():
    a = gradienti.tensor(np.full(4, 0.999, np.float32), requires_grad=True)
    b = gradienti.tensor(np.full(4, 0.001, np.float32))

    def long_chain(x):
        y = x
        for _ in range(700):
            y = (y * a + b).tanh() if _ % 7 == 0 else y * a + b
        return y.sum()

    compiled = gradienti.compile(long_chain)
    for _ in range(3):
        data = arrays(4)
        x, reference = (gradienti.tensor(data, requires_grad=True) for _ in range(2))
        a.grad = None
        out = compiled(x)
        out.backward()
        got_a = a.grad
        a.grad = None
        want = long_chain(reference)
        want.backward()
        assert same(out, want) and same(x.grad, reference.grad) and same(got_a, a.grad)
    program = next(iter(compiled._gradienti_compiled.cache.values()))[0]
    assert "def forward_1(S):" in program.source and "def backward_1(S, G):" in program.source
    assert len(program.source.splitlines()) > chunks.CHUNK_LINES


# ------------------------------------------------------------ the fast replay (issue 17)
def _inlined_ops(x, y, w):
    # every VJP compiler/inline_vjps.py writes out, and x * x and a float16 x ** 3 (called)
    a = x + y - w * 0.5  # add, sub (two tensors, a captured one), mul by a number
    b = (a * y).tanh().exp() + 1.5  # mul of two tensors (broadcast y), rows, add a number
    c = (b.log() - x) * w  # log, sub of two tensors, mul by a tensor without a gradient
    return c.sigmoid() + x**2 - y**3 + x * x + (3.0 - c)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_written_out_vjps_are_bitwise_eager_and_match_torch(dtype):
    x0, y0, w0 = arrays(4, 3, dtype=dtype), arrays(3, dtype=dtype), arrays(4, 3, dtype=dtype)
    w = gradienti.tensor(w0)
    upstream = arrays(4, 3, dtype=dtype)

    def make():
        return gradienti.tensor(x0, requires_grad=True), gradienti.tensor(y0, requires_grad=True)

    results, compiled = eager_and_compiled(lambda x, y: _inlined_ops(x, y, w), make, upstream)
    (eager, eager_grads), *replays = results
    for out, grads in replays:
        assert same(out, eager)
        assert all(same(g, e) for g, e in zip(grads, eager_grads))
    stats = compiler.stats(compiled)
    assert (stats.traces, stats.compiled_calls) == (1, 2)  # the first compiled call traces
    if dtype is not np.float16:  # (torch's float16 CPU kernels round differently)
        tx, ty = torch.tensor(x0, requires_grad=True), torch.tensor(y0, requires_grad=True)
        tout = _inlined_ops(tx, ty, torch.tensor(w0))
        tout.backward(torch.tensor(upstream))
        tolerance = 1e-4 if dtype is np.float32 else 1e-10
        np.testing.assert_allclose(eager._data, tout.detach().numpy(), rtol=tolerance)
        for grad, tgrad in zip(eager_grads, (tx.grad, ty.grad)):
            np.testing.assert_allclose(grad._data, tgrad.numpy(), rtol=tolerance, atol=tolerance)


def test_simple_vjps_are_written_into_the_node_backward():
    compiled = gradienti.compile(lambda x: ((x * 2.0 + 1.0).tanh() * x).sum())
    x = gradienti.tensor(X0, requires_grad=True)
    compiled(x)
    compiled(x).backward()
    program = compiled._gradienti_compiled.last[5]
    backward = program.source.split("def backward")[1]
    assert "._saved = " not in backward  # no template node written: nothing is called
    assert program.node_backward is not None
    assert type(compiled(x).grad_fn).__name__ == "CompiledFunctionBackward"
    reference = gradienti.tensor(X0, requires_grad=True)
    ((reference * 2.0 + 1.0).tanh() * reference).sum().backward()
    assert same(x.grad, reference.grad)


def test_the_node_backward_refuses_double_backward_as_pytorch():
    compiled = gradienti.compile(lambda x: (x.tanh() * 3.0).sum())
    x = gradienti.tensor(X0, requires_grad=True)
    compiled(x)
    out = compiled(x)
    assert compiled._gradienti_compiled.last[5].node_backward is not None
    (grad,) = gradienti.autograd.grad(out, x, create_graph=True)
    reference = gradienti.tensor(X0, requires_grad=True)
    (want,) = gradienti.autograd.grad((reference.tanh() * 3.0).sum(), reference)
    assert same(grad, want)
    message = "torch.compile with aot_autograd does not currently support double backward"
    with pytest.raises(RuntimeError, match=message):
        grad.sum().backward()
    out = compiled(x)
    out.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        out.backward()


def test_the_last_signature_fast_path_retraces_on_every_change():
    scale = 2.0
    w = gradienti.tensor(arrays(3), requires_grad=True)

    def fn(x):
        return (x * w * scale).tanh().sum()

    compiled = gradienti.compile(fn)
    x = gradienti.tensor(X0, requires_grad=True)
    calls = [
        x,
        x,  # the fast path from here
        gradienti.tensor(X0),  # requires_grad
        gradienti.tensor(X0.astype(np.float64), requires_grad=True),  # dtype
        gradienti.tensor(arrays(5, 3), requires_grad=True),  # shape
        x,
    ]
    for argument in calls:
        assert same(compiled(argument), fn(argument))
        assert same(compiled(argument), fn(argument))
    with gradienti.no_grad():  # grad mode
        assert compiled(x).grad_fn is None
    scale = 3.0  # a closure's value
    assert same(compiled(x), fn(x))
    w.requires_grad_(False)  # a captured tensor's requires_grad
    out = compiled(x)
    assert same(out, fn(x))
    out.backward()
    reference = gradienti.tensor(X0, requires_grad=True)
    fn(reference).backward()
    assert same(x.grad, reference.grad) and w.grad is None
    stats = compiler.stats(compiled)
    assert (stats.traces, stats.eager_calls) == (7, 0)


def test_one_function_called_with_one_and_two_tensors():
    def fn(x, y=None):
        return (x * 2.0).sum() if y is None else (x * y).sum()

    compiled = gradienti.compile(fn)
    x = gradienti.tensor(X0, requires_grad=True)
    y = gradienti.tensor(arrays(3), requires_grad=True)
    for arguments in [(x,), (x,), (x, y), (x,), (x, y), (x,)]:
        out = compiled(*arguments)
        assert same(out, fn(*arguments))
    out.backward()
    assert same(x.grad, gradienti.tensor(np.full(X0.shape, 2.0, np.float32)))
    stats = compiler.stats(compiled)
    assert (stats.traces, stats.compiled_calls, stats.eager_calls) == (2, 4, 0)
