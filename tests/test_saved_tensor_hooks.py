"""Saved-tensor hooks and ``grad_fn._saved_<name>`` against PyTorch: pack and unpack are called
where and as often as PyTorch calls them (the same log of calls, tensor by tensor, for the
common ops), the values they see are PyTorch's, and gradients through them are unchanged."""

import sys
import threading
import warnings

import numpy as np
import pytest
from same_outcome import pytorch_text

import gradienti
from gradienti.graph.anomaly import REFERENCE_LOOP
from gradienti.graph.node import Op

torch = pytest.importorskip("torch")

LIBS = (torch, gradienti)


def common_ops(lib) -> dict:
    """The common ops, each a function of no arguments that records one op (or a small graph)
    on fixed float64 inputs; the same inputs in both libraries."""
    functional = lib.nn.functional
    rng = np.random.default_rng(0)

    def leaf(*shape):
        return lib.tensor(rng.standard_normal(shape), dtype=lib.float64, requires_grad=True)

    def const(*shape):
        return lib.tensor(rng.standard_normal(shape), dtype=lib.float64)

    x, y, c = leaf(3), leaf(3), const(3)
    m, n = leaf(3, 4), leaf(4, 2)
    w, b = leaf(5, 4), leaf(5)
    image, kernel, kernel_bias = leaf(1, 2, 5, 5), leaf(3, 2, 3, 3), leaf(3)
    positive = lib.tensor(np.abs(rng.standard_normal(3)) + 0.5, requires_grad=True)
    target = lib.tensor([0, 1, 2])
    class_weight = lib.tensor([0.2, 0.3, 0.1, 0.4], dtype=lib.float64)
    x32 = lib.tensor(rng.standard_normal(3), dtype=lib.float32, requires_grad=True)
    w2, v = leaf(2, 5), leaf(4)
    gamma, beta = leaf(4), leaf(4)
    running_mean, running_var = const(4), lib.tensor(np.abs(rng.standard_normal(4)) + 0.5)

    class Scaled(lib.autograd.Function):  # saves two inputs and its output
        @staticmethod
        def forward(ctx, a, b):
            out = a * a * b
            ctx.save_for_backward(a, b, out)
            return out

        @staticmethod
        def backward(ctx, g):
            a, b, _out = ctx.saved_tensors
            return 2 * a * b * g, a * a * g

    return {
        "x+y": lambda: x + y,
        "x*y": lambda: x * y,
        "x*c": lambda: x * c,
        "c*x": lambda: c * x,
        "x*2": lambda: x * 2,
        "x*y promoted": lambda: x32 * y,
        "x/y": lambda: x / y,
        "x/c": lambda: x / c,
        "c/x": lambda: c / x,
        "x/2": lambda: x / 2,
        "exp": lambda: x.exp(),
        "tanh": lambda: x.tanh(),
        "sigmoid": lambda: x.sigmoid(),
        "log": lambda: positive.log(),
        "x**2": lambda: x**2,
        "x**y": lambda: positive**y,
        "pow(x,2.5)": lambda: positive.pow(2.5),
        "2**x": lambda: 2**x,
        "mm": lambda: m.mm(n),
        "matmul": lambda: m @ n,
        "m@c": lambda: m @ const(4, 2),
        "c@n": lambda: const(3, 4) @ n,
        "mv": lambda: m @ v,
        "sum": lambda: m.sum(),
        "sum dim": lambda: m.sum(1),
        "mean": lambda: m.mean(),
        "mean dim": lambda: m.mean(0, keepdim=True),
        "relu": lambda: m.relu(),
        "F.relu": lambda: functional.relu(m),
        "softmax": lambda: m.softmax(1),
        "log_softmax": lambda: m.log_softmax(1),
        "cross_entropy": lambda: functional.cross_entropy(m, target),
        "cross_entropy weight": lambda: functional.cross_entropy(m, target, weight=class_weight),
        "nll_loss": lambda: functional.nll_loss(m, target),
        "linear": lambda: functional.linear(m, w, b),
        "linear no bias": lambda: functional.linear(m, w),
        "conv2d": lambda: functional.conv2d(image, kernel),
        "conv2d bias": lambda: functional.conv2d(image, kernel, kernel_bias, padding=1),
        "index int": lambda: m[1],
        "index slice": lambda: m[1:3],
        "index tensor": lambda: m[lib.tensor([0, 2])],
        "cat": lambda: lib.cat([m, m * 1]),
        "view": lambda: m.view(12),
        "custom Function": lambda: Scaled.apply(x, y),
        "mlp": lambda: functional.linear(functional.linear(m, w, b).tanh(), w2).sum(),
        "batch_norm": lambda: functional.batch_norm(m, None, None, gamma, beta, training=True),
        "batch_norm running": lambda: functional.batch_norm(
            m, running_mean, running_var, gamma, beta, training=True
        ),
        "batch_norm eval": lambda: functional.batch_norm(
            m, running_mean, running_var, gamma, beta, eps=1e-3
        ),
        "batch_norm no weight": lambda: functional.batch_norm(
            image, None, None, None, kernel_bias[:2], training=True
        ),
        "layer_norm": lambda: functional.layer_norm(m, (4,), gamma, beta),
        "layer_norm weight only": lambda: functional.layer_norm(m, (4,), gamma),
        "layer_norm no affine": lambda: functional.layer_norm(image, (5, 5)),
        "embedding": lambda: functional.embedding(lib.tensor([[0, 2], [4, 2]]), w),
        "embedding int32 padding": lambda: functional.embedding(
            lib.tensor([0, 2, 4], dtype=lib.int32), w, padding_idx=-1, scale_grad_by_freq=True
        ),
        "gather": lambda: m.gather(1, lib.tensor([[0, 1], [3, 0], [2, 2]])),
        "gather dim -1": lambda: m.gather(-1, lib.tensor([[0], [3], [2]]), sparse_grad=False),
        "take_along_dim": lambda: lib.take_along_dim(m, lib.tensor([[0], [3], [2]]), dim=1),
        "take": lambda: m.take(lib.tensor([0, 5, 11])),
        "take 0-d index": lambda: m.take(lib.tensor(7)),
        "masked_select": lambda: m.masked_select(lib.tensor([True, False, True, True])),
        "index_select": lambda: m.index_select(0, lib.tensor([2, 0])),
        "index_select 0-d index": lambda: m.index_select(-1, lib.tensor(1)),
        "scatter_add": lambda: m.scatter_add(
            1, lib.tensor([[0, 1], [3, 0], [2, 2]]), w2[:, :2].repeat(2, 1)[:3]
        ),
        "scatter src": lambda: m.scatter(
            -1, lib.tensor([[0], [3], [2]]), w2[:, :1].repeat(2, 1)[:3]
        ),
        "scatter value": lambda: m.scatter(0, lib.tensor([[0, 1, 2, 0]]), 2.0),
        "index_add": lambda: m.index_add(
            -1, lib.tensor([0, 2]), w2[:, :2].repeat(2, 1)[:3], alpha=2.5
        ),
        "index_add constant source": lambda: m.index_add(0, lib.tensor([0, 2]), const(2, 4)),
        "max dim": lambda: m.max(1)[0],
        "max dim -1 indices": lambda: m.max(-1).indices.double() + m.max(-1).values,
        "min dim keepdim": lambda: m.min(0, keepdim=True)[0],
        "max 0-d": lambda: positive[0].max(0)[0],
        "unsqueeze": lambda: m.unsqueeze(-1),
        "squeeze dim": lambda: m.unsqueeze(0).squeeze(-3),
        "squeeze dims": lambda: m.unsqueeze(0).squeeze((0, -2)),
        "squeeze": lambda: m.unsqueeze(1).squeeze(),
        "max_pool2d": lambda: functional.max_pool2d(image, 2),
        "max_pool2d strided": lambda: functional.max_pool2d(
            image, (3, 2), stride=1, padding=(1,), dilation=1, ceil_mode=True
        ),
    }


COMMON = list(common_ops(torch))


def tag(lib, tensor) -> tuple:
    """What a hook is shown: shape, dtype, where it comes from, its first value."""
    node = tensor.grad_fn
    origin = node.name() if node is not None else "leaf" if tensor.requires_grad else "constant"
    flat = tensor.detach().reshape(-1)
    first = round(float(flat[0]), 6) if flat.numel() else None
    return (tuple(tensor.shape), str(tensor.dtype).split(".")[-1], origin, first)


def hook_log(lib, name, create_graph=False):
    """The calls of pack and unpack (with the grad mode inside unpack) while ``name`` is
    recorded and backward runs through it; and the inputs' gradients."""
    log = []

    def pack(tensor):
        log.append(("pack",) + tag(lib, tensor) + (lib.is_grad_enabled(),))
        return tensor.detach().clone()  # another Tensor of the same values

    def unpack(packed):
        log.append(("unpack",) + tag(lib, packed) + (lib.is_grad_enabled(),))
        return packed

    ops = common_ops(lib)
    with lib.autograd.graph.saved_tensors_hooks(pack, unpack):
        out = ops[name]()
    log.append("backward")
    leaves = _leaves(out)
    grads = lib.autograd.grad(out.sum(), leaves, create_graph=create_graph)
    return log, [g.detach().numpy() for g in grads]


def _leaves(out) -> list:
    """The leaves under ``out``'s grad_fn, in a fixed order."""
    found, stack, seen = [], [out.grad_fn], set()
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if hasattr(node, "variable"):
            found.append(node.variable)
        stack.extend(child for child, _ in node.next_functions)
    return sorted(found, key=lambda t: (tuple(t.shape), float(t.detach().reshape(-1)[0])))


@pytest.fixture(autouse=True)
def nothing_left_packed():
    yield
    assert not REFERENCE_LOOP  # every packed graph released: the fast path is back


@pytest.mark.parametrize("name", COMMON)
def test_pack_and_unpack_are_called_as_pytorch_calls_them(name):
    ours, our_grads = hook_log(gradienti, name)
    theirs, their_grads = hook_log(torch, name)
    assert ours == theirs
    assert any(entry[0] == "pack" for entry in ours if entry != "backward") or name in (
        "x+y", "x*2", "x/2", "sum", "sum dim", "mean", "mean dim", "index int", "index slice",
        "cat", "view", "unsqueeze", "squeeze dim", "squeeze dims", "squeeze",
        "index_add constant source",
    )  # fmt: skip
    for mine, expected in zip(our_grads, their_grads):
        np.testing.assert_allclose(mine, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", ["x*y", "x**y", "mm", "linear", "cross_entropy", "mlp"])
def test_a_recorded_backward_unpacks_with_grad_mode_on(name):
    ours, our_grads = hook_log(gradienti, name, create_graph=True)
    theirs, their_grads = hook_log(torch, name, create_graph=True)
    assert ours == theirs
    for mine, expected in zip(our_grads, their_grads):
        np.testing.assert_allclose(mine, expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------------- every op
def _op_cases():
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from test_ops import DIFFERENTIABLE

    return DIFFERENTIABLE


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in _op_cases()])
def test_every_op_gives_its_gradients_through_hooks(case):
    """Whatever a node packs, backward unpacks each value once and computes with it: the
    gradients are those without hooks, bit for bit."""
    arrays = case.arrays(np.float64)
    plain_inputs = [gradienti.tensor(a, requires_grad=True) for a in arrays]
    plain = gradienti.autograd.grad(case.fn(gradienti, *plain_inputs).sum(), plain_inputs)
    calls = []

    def pack(tensor):
        assert isinstance(tensor, gradienti.Tensor)
        calls.append("pack")
        return tensor.detach().clone()

    def unpack(packed):
        calls.append("unpack")
        return packed.clone()

    inputs = [gradienti.tensor(a, requires_grad=True) for a in arrays]
    with gradienti.autograd.graph.saved_tensors_hooks(pack, unpack):
        out = case.fn(gradienti, *inputs)
    packs = calls.count("pack")
    hooked = gradienti.autograd.grad(out.sum(), inputs)
    assert calls.count("unpack") == packs
    for ours, expected in zip(hooked, plain):
        np.testing.assert_array_equal(ours.numpy(), expected.numpy())


# ---------------------------------------------------------------------- grad_fn._saved_<name>
def _describe(lib, value):
    if isinstance(value, lib.Tensor):
        node = value.grad_fn
        return (
            tuple(value.shape),
            str(value.dtype).split(".")[-1],
            None if node is None else node.name(),
            value.requires_grad,
            np.round(value.detach().numpy().astype(float), 9).tolist(),
        )
    if isinstance(value, tuple):
        return tuple(_describe(lib, item) for item in value)
    return value


# Nodes that save a value PyTorch saves but gradienti's VJP does not read (its name): kept only
# while a special mode is on, so their attributes are compared as recorded under (identity) hooks.
KEPT_FOR_HOOKS = {"gather": "self", "gather dim -1": "self", "take_along_dim": "self"}
KEPT_FOR_HOOKS |= {"take": "self", "take 0-d index": "self", "masked_select": "self"}
KEPT_FOR_HOOKS |= {"index_add": "source"}


def saved_attributes(lib, name) -> dict:
    if name in KEPT_FOR_HOOKS:
        with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
            node = common_ops(lib)[name]().grad_fn
    else:
        node = common_ops(lib)[name]().grad_fn
    if lib is torch:
        names = [a for a in dir(node) if a.startswith("_saved_")]
    else:
        names = ["_saved_" + n for n in type(node).saved_names.names()]
    return {attribute: _describe(lib, getattr(node, attribute)) for attribute in sorted(names)}


# (PyTorch shows a dim as the user gave it, gradienti's nodes keep it normalized: these cases
# use none that differ; see the report of issue 12.)
@pytest.mark.parametrize("name", [n for n in COMMON if n != "custom Function"])
def test_saved_attributes_are_pytorchs(name):
    assert saved_attributes(gradienti, name) == saved_attributes(torch, name)


@pytest.mark.parametrize("name", KEPT_FOR_HOOKS)
def test_a_value_kept_only_for_the_hooks_is_none_on_the_plain_path(name):
    """(Deliberately unlike PyTorch: the plain path keeps no value that its VJP does not read.)"""
    attribute = "_saved_" + KEPT_FOR_HOOKS[name]
    assert getattr(common_ops(gradienti)[name]().grad_fn, attribute) is None
    assert getattr(common_ops(torch)[name]().grad_fn, attribute) is not None


# The node classes of the common ops: each declares PyTorch's names beside its class.
COMMON_NODES = (
    "MulBackward0", "DivBackward0", "ExpBackward0", "TanhBackward0", "SigmoidBackward0",
    "LogBackward0", "PowBackward0", "PowBackward1", "PowBackward2", "MmBackward0",
    "MvBackward0", "SumBackward0", "SumBackward1", "MeanBackward0", "MeanBackward1",
    "ReluBackward0", "SoftmaxBackward0", "LogSoftmaxBackward0", "NllLossBackward0",
    "AddmmBackward0", "ConvolutionBackward0", "SelectBackward0", "SliceBackward0",
    "IndexBackward0", "CatBackward0", "TBackward0", "AddBackward0", "ViewBackward0",
    "MaxPool2DWithIndicesBackward0", "NativeBatchNormBackward0", "NativeLayerNormBackward0",
    "EmbeddingBackward0", "GatherBackward0", "TakeBackward0", "MaskedSelectBackward0",
    "IndexSelectBackward0", "ScatterAddBackward0", "ScatterBackward0", "ScatterBackward1",
    "IndexAddBackward0", "MaxBackward0", "UnsqueezeBackward0", "SqueezeBackward1",
    "SqueezeBackward2",
)  # fmt: skip


def _node_classes() -> dict:
    classes, stack = {}, [Op]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            classes[sub.__name__] = sub
            stack.append(sub)
    return classes


def test_common_nodes_declare_their_saved_names():
    classes = _node_classes()
    undeclared = [name for name in COMMON_NODES if "saved_names" not in vars(classes[name])]
    assert undeclared == []


def test_common_nodes_are_all_exercised_against_pytorch():
    exercised = set()
    ops = common_ops(gradienti)
    for name in COMMON:
        stack = [ops[name]().grad_fn]
        while stack:
            node = stack.pop()
            if node is not None:
                exercised.add(type(node).__name__)
                stack.extend(child for child, _ in node.next_functions)
    assert set(COMMON_NODES) - exercised == set()


def _errors_after_release(lib) -> list:
    x = lib.ones(3, requires_grad=True)
    y = x * x
    y.sum().backward()
    node = y.grad_fn
    errors = []
    for read in (
        lambda: node._saved_self,
        lambda: node._raw_saved_self.register_hooks(lambda t: t, lambda t: t),
    ):
        with pytest.raises(RuntimeError) as caught:
            read()
        errors.append(pytorch_text(str(caught.value)))
    return errors


def test_saved_values_after_release_raise_pytorchs_error():
    errors = _errors_after_release(gradienti)
    assert errors == _errors_after_release(torch)
    assert errors[0].startswith("Trying to backward through the graph a second time")


def test_a_subclass_has_only_its_own_names():
    sliced = gradienti.ones(3, 4, requires_grad=True)[1:3]
    missing = "'SliceBackward0' object has no attribute '_saved_index'"
    with pytest.raises(AttributeError, match=missing):
        sliced.grad_fn._saved_index  # noqa: B018 - SelectBackward0's name, not SliceBackward0's


# ---------------------------------------------------------------------- when unpack runs
def _reads_and_retained_backward(lib) -> list:
    log = []
    x = lib.ones(3, requires_grad=True)
    y = lib.ones(3, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(
        lambda t: log.append("pack") or t.detach(), lambda t: log.append("unpack") or t
    ):
        z = x * y
    z.grad_fn._saved_self  # noqa: B018 - a read unpacks
    z.grad_fn._saved_other  # noqa: B018
    z.sum().backward(retain_graph=True)
    z.sum().backward()
    return log


def test_each_read_unpacks_and_retain_graph_unpacks_again():
    log = _reads_and_retained_backward(gradienti)
    assert log == _reads_and_retained_backward(torch) == ["pack"] * 2 + ["unpack"] * 6


def _custom_function_calls(lib) -> tuple:
    class Product(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            out = a * b
            ctx.save_for_backward(a, b, out, None)
            return out

        @staticmethod
        def backward(ctx, g):
            ctx.saved_tensors  # noqa: B018 - read twice: unpacked twice
            a, b, out, nothing = ctx.saved_tensors
            assert nothing is None and out.grad_fn is not None
            return g * b, g * a

    x = lib.ones(3, requires_grad=True)
    y = lib.full((3,), 2.0, requires_grad=True)
    log = []
    with lib.autograd.graph.saved_tensors_hooks(
        lambda t: log.append(("pack", t is x, t is y, t.grad_fn is not None)) or t,
        lambda t: log.append(("unpack",)) or t,
    ):
        out = Product.apply(x, y)
    out.sum().backward()
    return log, x.grad.numpy().tolist(), y.grad.numpy().tolist()


def test_custom_function_packs_what_it_saved_and_unpacks_at_each_read():
    calls = _custom_function_calls(gradienti)
    assert calls == _custom_function_calls(torch)
    assert calls[0][:3] == [("pack", True, False, False), ("pack", False, True, False)] + [
        ("pack", False, False, True)  # the output, with its grad_fn
    ]


def _unpack_error(lib) -> str:
    x = lib.ones(3, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: 3):
        y = x * x
    with pytest.raises(TypeError) as caught:
        y.sum().backward()
    message = str(caught.value)
    del y, caught  # (the failed node keeps its packed values; the traceback holds it)
    return message


def test_unpack_must_give_a_tensor():
    assert _unpack_error(gradienti) == _unpack_error(torch)


def _raw_hooks(lib) -> tuple:
    log = []
    x = lib.ones(3, requires_grad=True)
    y = lib.full((3,), 2.0, requires_grad=True)
    z = x * y
    raw = z.grad_fn._raw_saved_self
    raw.register_hooks(lambda t: log.append("pack") or t * 10, lambda t: log.append("unpack") or t)
    errors = []
    for attempt in (
        lambda: raw.register_hooks(lambda t: t, lambda t: t),  # twice
        lambda: (x * lib.ones(3)).grad_fn._raw_saved_self.register_hooks(
            lambda t: t, lambda t: t
        ),  # a value PyTorch did not save (None)
    ):
        with pytest.raises(RuntimeError) as caught:
            attempt()
        errors.append(str(caught.value))
    with pytest.raises(TypeError):
        raw.register_hooks(1, 2)
    seen = float(z.grad_fn._saved_self.detach()[0])
    z.sum().backward()
    # y's gradient came from the unpacked (scaled) value of x
    return log, errors, seen, y.grad.numpy().tolist()


def test_raw_saved_tensor_register_hooks():
    assert _raw_hooks(gradienti) == _raw_hooks(torch)


def _packs_in_two_threads(lib) -> int:
    packed = []
    x = lib.ones(3, requires_grad=True)
    with lib.autograd.graph.saved_tensors_hooks(lambda t: packed.append(1) or t, lambda t: t):
        thread = threading.Thread(target=lambda: x * x)
        thread.start()
        thread.join()
        inside = x * x
    inside.sum().backward()
    return len(packed)


def test_hooks_apply_to_this_thread_only():
    assert _packs_in_two_threads(gradienti) == _packs_in_two_threads(torch) == 2


def _nested_hooks(lib) -> list:
    log = []
    x = lib.ones(3, requires_grad=True)
    graph = lib.autograd.graph
    with graph.saved_tensors_hooks(lambda t: log.append("outer") or t, lambda t: t):
        with graph.saved_tensors_hooks(lambda t: log.append("inner") or t, lambda t: t):
            y = x * x
        z = x.exp()
    (y + z).sum().backward()
    return log


def test_the_innermost_hooks_apply():
    assert _nested_hooks(gradienti) == _nested_hooks(torch) == ["inner", "inner", "outer"]


def _disabling(lib) -> list:
    graph = lib.autograd.graph
    x = lib.ones(3, requires_grad=True)
    errors = []
    with graph.disable_saved_tensors_hooks("no hooks here"):
        for attempt in (
            lambda: graph.saved_tensors_hooks(lambda t: t, lambda t: t).__enter__(),
            lambda: graph.save_on_cpu().__enter__(),
        ):
            with pytest.raises(RuntimeError) as caught:
                attempt()
            errors.append(str(caught.value))
        with graph.disable_saved_tensors_hooks("inner message"):
            pass
        y = x * x  # no hooks on: nothing to refuse
    with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        with (
            pytest.raises(RuntimeError) as caught,
            graph.disable_saved_tensors_hooks("refused while hooks are on"),
        ):
            pass
        errors.append(str(caught.value))
        z = x * x  # the hooks still apply
    with graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        pass  # enabled again
    (y + z).sum().backward()
    return errors


def test_disable_saved_tensors_hooks():
    assert _disabling(gradienti) == _disabling(torch)


def test_save_on_cpu_gives_the_same_gradients():
    grads = {}
    for lib in LIBS:
        x = lib.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
        with lib.autograd.graph.save_on_cpu(pin_memory=True):
            loss = (x.tanh() @ x.T).exp().sum()
        loss.backward()
        grads[lib] = x.grad.numpy()
    np.testing.assert_allclose(grads[gradienti], grads[torch], rtol=1e-12)


def test_a_scalar_loss_backward_reads_packed_values_and_the_fast_path_returns():
    x = gradienti.tensor(1.5, requires_grad=True)
    unpacked = []
    with gradienti.autograd.graph.saved_tensors_hooks(
        lambda t: t.detach(), lambda t: unpacked.append(1) or t
    ):
        loss = (x * x).exp()
    assert REFERENCE_LOOP  # a packed graph is alive: loss.backward() takes the reference loop
    loss.backward()
    assert len(unpacked) == 3  # x twice (Mul), the result once (Exp)
    assert not REFERENCE_LOOP
    assert float(x.grad) == pytest.approx(2 * 1.5 * np.exp(1.5**2))


def test_dropping_an_unused_packed_graph_releases_it():
    x = gradienti.ones(3, requires_grad=True)
    with gradienti.autograd.graph.saved_tensors_hooks(lambda t: t.detach(), lambda t: t):
        y = x * x
    assert REFERENCE_LOOP
    del y
    assert not REFERENCE_LOOP


def test_hooks_and_anomaly_mode_together():
    x = gradienti.zeros(2, requires_grad=True)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        with gradienti.autograd.detect_anomaly():
            with gradienti.autograd.graph.saved_tensors_hooks(lambda t: t.detach(), lambda t: t):
                loss = (x / x).sum()
            with pytest.raises(RuntimeError, match="DivBackward0' returned nan"):
                loss.backward()
    del loss
