"""PyTorch's fused nodes on the MLP path: addmm (F.linear's AddmmBackward0) and nll_loss
(NllLossBackward0, its VJP NllLossBackwardBackward0), against torch: graphs, values, gradients
with non-uniform upstream gradients, second derivatives, error texts. Also the array-level
details that keep a training step free of copies: gradients in the layout of their leaves,
broadcast sums that own their memory, and the optimizers' in-place updates."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck_helpers import gradcheck, gradgradcheck
from same_outcome import pytorch_text

import gradienti
import gradienti.nn.functional as F
from gradienti.ops.shape import sum_to_array

torch = pytest.importorskip("torch")  # the oracle


def _np(t):
    return t.detach().numpy()


def _names(tensor) -> list:
    """The graph below ``tensor`` as node names, depth first, with None for no edge."""
    out = []
    stack = [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None:
            out.append(None)
            continue
        out.append(node.name().split("::")[-1])
        stack.extend(child for child, _ in reversed(node.next_functions))
    return out


def _outcome(fn):
    """(graph, shape) of ``fn()``, or (error type name, message)."""
    try:
        out = fn()
    except Exception as error:  # noqa: BLE001 - the error itself is compared
        return type(error).__name__, pytorch_text(str(error))
    return _names(out), tuple(out.shape)


def _pair(shape, seed, dtype=np.float64, requires_grad=True):
    array = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return (
        gradienti.tensor(array, requires_grad=requires_grad),
        torch.tensor(array, requires_grad=requires_grad),
    )


def _close(ours, theirs, tol=1e-12):
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=tol, atol=tol)


# ------------------------------------------------------------------------------ addmm
BIAS_SHAPES = [(4,), (5, 4), (1, 4), (5, 1), ()]


@pytest.mark.parametrize("bias_shape", BIAS_SHAPES)
@pytest.mark.parametrize("scalars", [{}, {"beta": 0.5, "alpha": 2.0}, {"beta": 0}])
def test_addmm_matches_torch(bias_shape, scalars):
    (bg, bt), (ag, at), (mg, mt) = _pair(bias_shape, 0), _pair((5, 3), 1), _pair((3, 4), 2)
    og = gradienti.addmm(bg, ag, mg, **scalars)
    ot = torch.addmm(bt, at, mt, **scalars)
    _close(og, ot)
    assert og.grad_fn.name() == ot.grad_fn.name() == "AddmmBackward0"
    v = np.random.default_rng(3).standard_normal((5, 4))
    og.backward(gradienti.tensor(v))
    ot.backward(torch.tensor(v))
    for ours, theirs in ((bg, bt), (ag, at), (mg, mt)):
        _close(ours.grad, theirs.grad)


@pytest.mark.parametrize("bias_shape", [(4,), (5, 4)])
def test_addmm_node_hooks(bias_shape):
    """A node hook on AddmmBackward0 sees and replaces the gradients; the bias's gradient is
    still summed back to its shape."""
    results = []
    for lib in (gradienti, torch):
        rng = np.random.default_rng(8)
        b, a, m = (
            lib.tensor(rng.standard_normal(s), requires_grad=True)
            for s in (bias_shape, (5, 3), (3, 4))
        )
        out = lib.addmm(b, a, m)
        seen = []
        out.grad_fn.register_prehook(lambda grads: (grads[0] * 2,))
        out.grad_fn.register_hook(lambda inputs, outputs, seen=seen: seen.append(len(inputs)))
        out.backward(lib.tensor(rng.standard_normal((5, 4))))
        results.append((seen, _np(b.grad), _np(a.grad), _np(m.grad)))
    (seen_g, *ours), (seen_t, *theirs) = results
    assert seen_g == seen_t == [3]
    for mine, reference in zip(ours, theirs):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)


def test_addmm_method_and_partial_requires_grad():
    (bg, bt), (ag, at) = _pair((4,), 0), _pair((5, 3), 1)
    (mg, mt) = _pair((3, 4), 2, requires_grad=False)
    og, ot = bg.addmm(ag, mg), bt.addmm(at, mt)
    assert _names(og) == _names(ot)
    og.sum().backward()
    ot.sum().backward()
    _close(bg.grad, bt.grad)
    _close(ag.grad, at.grad)
    assert mg.grad is None


def test_addmm_ignores_input_when_beta_is_zero():
    bias = gradienti.full((4,), float("nan"))
    out = gradienti.addmm(bias, gradienti.ones(2, 3), gradienti.ones(3, 4), beta=0)
    np.testing.assert_array_equal(_np(out), np.full((2, 4), 3.0, dtype=np.float32))


def test_addmm_integers():
    a = np.arange(6).reshape(2, 3)
    b = np.arange(12).reshape(3, 4)
    c = np.arange(4)
    for kwargs in ({}, {"beta": 2, "alpha": 3}):
        ours = gradienti.addmm(
            gradienti.tensor(c), gradienti.tensor(a), gradienti.tensor(b), **kwargs
        )
        theirs = torch.addmm(torch.tensor(c), torch.tensor(a), torch.tensor(b), **kwargs)
        assert ours.dtype == gradienti.int64
        np.testing.assert_array_equal(_np(ours), theirs.numpy())


@pytest.mark.parametrize(
    "shapes",
    [
        ((4,), (3,), (3, 4)),
        ((4,), (5, 3), (3,)),
        ((4,), (5, 3), (4, 4)),
        ((3,), (5, 3), (3, 4)),
        ((2, 5, 4), (5, 3), (3, 4)),
        ((4, 1), (5, 3), (3, 4)),
    ],
)
def test_addmm_errors_as_torch(shapes):
    ours = [gradienti.zeros(s) for s in shapes]
    theirs = [torch.zeros(s) for s in shapes]
    assert _outcome(lambda: gradienti.addmm(*ours)) == _outcome(lambda: torch.addmm(*theirs))


@pytest.mark.parametrize("position", [0, 1, 2])
def test_addmm_dtype_errors_as_torch(position):
    shapes = [(4,), (5, 3), (3, 4)]
    ours = [gradienti.zeros(s) for s in shapes]
    theirs = [torch.zeros(s) for s in shapes]
    ours[position] = ours[position].double()
    theirs[position] = theirs[position].double()
    expected = _outcome(lambda: torch.addmm(*theirs))
    assert expected[0] == "RuntimeError"
    assert _outcome(lambda: gradienti.addmm(*ours)) == expected


def test_addmm_gradcheck_and_gradgradcheck():
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(s) for s in ((1, 4), (5, 3), (3, 4))]
    for kwargs in ({}, {"beta": 0.5, "alpha": -1.5}):
        gradcheck(lambda b, a, m, kw=kwargs: gradienti.addmm(b, a, m, **kw), arrays)
        gradgradcheck(lambda b, a, m, kw=kwargs: gradienti.addmm(b, a, m, **kw), arrays)


@pytest.mark.parametrize("op", ["addmm", "mm"])
@pytest.mark.parametrize("transposed", [(False, False), (True, False), (False, True), (True, True)])
def test_product_gradients_keep_the_operands_layout(op, transposed):
    """A column-major operand (a transposed view, ``weight.t()``) gets a column-major gradient
    (PyTorch's mm_mat1/mat2_backward), which ``t()``'s VJP turns back into a contiguous array
    for the leaf; the numbers are torch's either way."""
    x_shape = (3, 5) if transposed[0] else (5, 3)
    w_shape = (4, 3) if transposed[1] else (3, 4)
    (xg, xt), (wg, wt), (bg, bt) = _pair(x_shape, 0), _pair(w_shape, 1), _pair((4,), 2)
    operands = []
    for lib, x, w, b in ((gradienti, xg, wg, bg), (torch, xt, wt, bt)):
        a, m = (x.t() if transposed[0] else x), (w.t() if transposed[1] else w)
        operands.append((a, m))
        out = lib.addmm(b, a, m) if op == "addmm" else lib.mm(a, m)
        v = np.random.default_rng(5).standard_normal((5, 4))
        out.backward(lib.tensor(v), retain_graph=True)
        if lib is gradienti:
            node = out.grad_fn
            raw = node.backward(node, v)
    for ours, theirs in ((xg, xt), (wg, wt)):
        _close(ours.grad, theirs.grad)
    grad_a, grad_m = raw[-2:]
    for operand, grad in zip(operands[0], (grad_a, grad_m)):
        column_major = not _np(operand).flags.c_contiguous
        assert grad.flags.f_contiguous == column_major
        assert grad.flags.c_contiguous != column_major


# ------------------------------------------------------------------------------ linear
LINEAR_INPUTS = [(3,), (5, 3), (2, 5, 3), (2, 2, 5, 3), (0, 3), (2, 0, 3)]
LINEAR_BIASES = [None, (4,), (1, 4), (), (1,), (5, 4), (1, 1, 4), (2, 1, 4), (5, 1), (1, 1)]


def _linear_outcome(lib, x_shape, bias_shape, contiguous, weight_shape=(4, 3)):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape)
    if contiguous:
        x_t = lib.tensor(x, requires_grad=True)
    else:  # the same values, stored in reverse dimension order
        dims = tuple(reversed(range(len(x_shape))))
        x_t = lib.tensor(np.ascontiguousarray(x.transpose(dims))).permute(*dims)
    w = lib.tensor(rng.standard_normal(weight_shape), requires_grad=True)
    b = (
        None
        if bias_shape is None
        else lib.tensor(rng.standard_normal(bias_shape), requires_grad=True)
    )
    functional = lib.nn.functional
    return _outcome(lambda: functional.linear(x_t, w, b))


@pytest.mark.parametrize("x_shape", LINEAR_INPUTS)
@pytest.mark.parametrize("bias_shape", LINEAR_BIASES)
@pytest.mark.parametrize("contiguous", [True, False])
def test_linear_graph_as_torch(x_shape, bias_shape, contiguous):
    """at::linear's decomposition: addmm for rows, a contiguous batch folded into rows around
    it for a vector-like bias, else matmul and an in-place add (which cannot grow)."""
    ours = _linear_outcome(gradienti, x_shape, bias_shape, contiguous)
    theirs = _linear_outcome(torch, x_shape, bias_shape, contiguous)
    assert ours == theirs


@pytest.mark.parametrize("weight_shape", [(3,), (2, 4, 3)])
@pytest.mark.parametrize("bias_shape", [None, ()])
def test_linear_odd_weights_as_torch(weight_shape, bias_shape):
    ours = _linear_outcome(gradienti, (5, 3), bias_shape, True, weight_shape)
    theirs = _linear_outcome(torch, (5, 3), bias_shape, True, weight_shape)
    assert ours == theirs


def test_linear_errors_as_torch():
    for shapes in [((), (4, 3), (4,)), ((5, 3), (4, 4), (4,))]:
        ours = [gradienti.zeros(s) for s in shapes]
        theirs = [torch.zeros(s) for s in shapes]
        assert _outcome(lambda o=ours: F.linear(*o)) == _outcome(
            lambda t=theirs: torch.nn.functional.linear(*t)
        )
    ours = [gradienti.zeros(5, 3).double(), gradienti.zeros(4, 3), gradienti.zeros(4)]
    theirs = [torch.zeros(5, 3).double(), torch.zeros(4, 3), torch.zeros(4)]
    assert _outcome(lambda: F.linear(*ours)) == _outcome(
        lambda: torch.nn.functional.linear(*theirs)
    )


@pytest.mark.parametrize("x_shape", [(3,), (5, 3), (2, 5, 3)])
def test_linear_values_and_gradients(x_shape):
    (xg, xt), (wg, wt), (bg, bt) = _pair(x_shape, 0), _pair((4, 3), 1), _pair((4,), 2)
    og, ot = F.linear(xg, wg, bg), torch.nn.functional.linear(xt, wt, bt)
    _close(og, ot)
    v = np.random.default_rng(6).standard_normal(ot.shape)
    og.backward(gradienti.tensor(v))
    ot.backward(torch.tensor(v))
    for ours, theirs in ((xg, xt), (wg, wt), (bg, bt)):
        _close(ours.grad, theirs.grad)


def test_linear_gradgradcheck():
    rng = np.random.default_rng(7)
    arrays = [rng.standard_normal(s) for s in ((2, 3), (4, 3), (4,))]
    gradgradcheck(F.linear, arrays)


# ------------------------------------------------------------------------------ nll_loss
REDUCTIONS = ["none", "mean", "sum"]


def _classes(shape=(6, 5), seed=0):
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(shape) * 2
    target = rng.integers(0, shape[-1], shape[:1] if len(shape) > 1 else ())
    return logits, target


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "options",
    [{}, {"ignore_index": 2}, {"weight": True}, {"weight": True, "ignore_index": 0}],
    ids=["plain", "ignore", "weight", "weight-ignore"],
)
@pytest.mark.parametrize("shape", [(6, 5), (5,)])
def test_cross_entropy_fused_as_torch(reduction, options, shape):
    logits, target = _classes(shape)
    if len(shape) > 1:
        target[1] = options.get("ignore_index", target[1])
    xg, xt = gradienti.tensor(logits, requires_grad=True), torch.tensor(logits, requires_grad=True)
    kw_g, kw_t = {"reduction": reduction}, {"reduction": reduction}
    if "ignore_index" in options:
        kw_g["ignore_index"] = kw_t["ignore_index"] = options["ignore_index"]
    if "weight" in options:
        weight = np.linspace(0.2, 2.0, shape[-1])
        kw_g["weight"], kw_t["weight"] = gradienti.tensor(weight), torch.tensor(weight)
    og = F.cross_entropy(xg, gradienti.tensor(target), **kw_g)
    ot = torch.nn.functional.cross_entropy(xt, torch.tensor(target), **kw_t)
    assert _names(og) == _names(ot)  # NllLossBackward0 over LogSoftmaxBackward0
    assert tuple(og.shape) == tuple(ot.shape)
    _close(og, ot)
    v = np.random.default_rng(1).standard_normal(tuple(ot.shape)) + 2
    og.backward(gradienti.tensor(v))
    ot.backward(torch.tensor(v))
    _close(xg.grad, xt.grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_second_derivatives_as_torch(reduction):
    """The VJP of nll_loss is linear in the loss gradient: differentiating it with respect to
    that gradient runs NllLossBackwardBackward0's VJP (nll_loss again), twice over."""
    logits, target = _classes((4, 3), 2)
    weight = np.array([0.5, 2.0, 1.5])
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor(logits, requires_grad=True)
        loss = lib.nn.functional.nll_loss(
            x, lib.tensor(target), weight=lib.tensor(weight), reduction=reduction
        )
        shape = tuple(loss.shape)
        v = lib.tensor(
            np.linspace(0.5, 1.5, int(np.prod(shape))).reshape(shape), requires_grad=True
        )
        (gx,) = lib.autograd.grad(loss, x, v, create_graph=True)
        w = lib.tensor(np.random.default_rng(3).standard_normal((4, 3)), requires_grad=True)
        (gv,) = lib.autograd.grad((gx * w).sum(), v, create_graph=True)
        u = lib.tensor(np.linspace(-1.0, 1.0, gv.numel()).reshape(tuple(gv.shape)))
        (gw,) = lib.autograd.grad((gv * u).sum(), w)
        results.append((gx.grad_fn.name(), _np(gx), _np(gv), _np(gw)))
    (name_g, *arrays_g), (name_t, *arrays_t) = results
    assert name_g == name_t == "NllLossBackwardBackward0"
    for ours, theirs in zip(arrays_g, arrays_t):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


def test_cross_entropy_gradcheck_and_gradgradcheck():
    logits, target = _classes((4, 3), 4)
    target_t = gradienti.tensor(target)
    for reduction in REDUCTIONS:
        fn = lambda x, r=reduction: F.cross_entropy(x, target_t, reduction=r)  # noqa: E731
        gradcheck(fn, [logits])
        gradgradcheck(fn, [logits])


def test_nll_loss_saved_values_are_freed():
    logits, target = _classes()
    x = gradienti.tensor(logits, requires_grad=True)
    loss = F.nll_loss(x, gradienti.tensor(target))
    loss.backward(retain_graph=True)
    loss.backward()  # retained once: the second pass works and doubles the gradient
    first = F.nll_loss(gradienti.tensor(logits, requires_grad=True), gradienti.tensor(target))
    first.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        first.backward()


def _nll_cases():
    x = np.random.default_rng(0).standard_normal((4, 5))
    long = np.array([0, 1, 2, 2])
    return [
        ((4, 5), [0, 1, 7, 2], {}),
        ((4, 5), [0, 1, -3, 2], {}),
        ((4, 5), [0, 1, -100, 2], {}),
        ((4, 5), [0, 1, 2], {}),
        ((4, 5), [-100] * 4, {}),
        ((4, 5), [-100] * 4, {"reduction": "sum"}),
        ((4, 5), [0, 0, 0, 0], {"ignore_index": 0}),
        ((4, 5), [0, 0, 0, 9], {"ignore_index": 9, "reduction": "none"}),
        ((4, 0), [0, 1, 2, 2], {}),
        ((0, 5), [], {}),
        ((0, 5), [], {"reduction": "none"}),
        ((5,), 2, {}),
        ((5,), 2, {"reduction": "none"}),
        ((5,), [2], {}),
        ((5,), [2, 1, 0], {}),
        ((4, 5), [[2]] * 4, {}),
        ((), 0, {}),
        ((3, 4, 5), [[0, 1, 2, 2]] * 3, {}),
        ((4, 5), long, {"weight": (4,)}),
        ((4, 5), long, {"weight": (1, 5)}),
    ], x


@pytest.mark.parametrize("case", range(20))
def test_nll_loss_outcomes_as_torch(case):
    cases, _ = _nll_cases()
    shape, target, kwargs = cases[case]
    rng = np.random.default_rng(case)
    x = rng.standard_normal(shape).astype(np.float32)
    outcomes = []
    for lib in (gradienti, torch):
        kw = dict(kwargs)
        if "weight" in kw:
            kw["weight"] = lib.ones(*kw["weight"])
        target_t = lib.tensor(np.array(target, dtype=np.int64))
        try:
            out = lib.nn.functional.nll_loss(lib.tensor(x), target_t, **kw)
            outcomes.append(("ok", tuple(out.shape), np.round(out.numpy().astype(np.float64), 5)))
        except Exception as error:  # noqa: BLE001 - the error itself is compared
            outcomes.append((type(error).__name__, pytorch_text(str(error))))
    ours, theirs = outcomes
    assert ours[:2] == theirs[:2]
    if ours[0] == "ok":
        np.testing.assert_allclose(ours[2], theirs[2], rtol=1e-5, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: (lib.zeros(4, 5), lib.zeros(4).to(lib.int32), {}),
        lambda lib: (lib.zeros(4, 5), lib.zeros(4), {}),
        lambda lib: (lib.zeros(4, 5).to(lib.int32), lib.zeros(4).to(lib.int64), {}),
        lambda lib: (lib.zeros(4, 5).double(), lib.zeros(4).to(lib.int64), {"weight": 5}),
        lambda lib: (lib.zeros(4, 5), lib.zeros(4).to(lib.int64), {"weight": "grad"}),
    ],
    ids=["int32-target", "float-target", "int-input", "weight-dtype", "weight-grad"],
)
def test_nll_loss_type_errors_as_torch(make):
    outcomes = []
    for lib in (gradienti, torch):
        x, t, kw = make(lib)
        if kw.get("weight") == 5:
            kw["weight"] = lib.ones(5)
        elif kw.get("weight") == "grad":
            kw["weight"] = lib.ones(5).requires_grad_()
        loss = lib.nn.functional.nll_loss
        outcomes.append(_outcome(lambda x=x, t=t, kw=kw, loss=loss: loss(x, t, **kw)))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] in ("RuntimeError", "NotImplementedError")


def test_nll_loss_byte_target_and_no_grad():
    logits, target = _classes()
    ours = F.nll_loss(gradienti.tensor(logits), gradienti.tensor(target.astype(np.uint8)))
    theirs = torch.nn.functional.nll_loss(torch.tensor(logits), torch.tensor(target).byte())
    _close(ours, theirs)
    with gradienti.no_grad():
        x = gradienti.tensor(logits, requires_grad=True)
        assert F.nll_loss(x, gradienti.tensor(target)).grad_fn is None


# ------------------------------------------------------------------------------ arrays
@pytest.mark.parametrize(
    ("shape", "target"),
    [
        ((3, 4), (4,)),
        ((3, 4), (1, 4)),
        ((3, 4), (3, 1)),
        ((2, 3, 4), (3, 1)),
        ((2, 3, 4), (1, 1)),
        ((5, 1, 4), (1, 4)),
        ((2, 3, 4), ()),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_sum_to_array_owns_its_result(shape, target, dtype):
    """The broadcast sum is a fresh array, never a view of a temporary: the engine can give it
    to a leaf's .grad as it is (a view would be copied)."""
    g = (np.random.default_rng(0).standard_normal(shape) * 10).astype(dtype)
    lead = len(shape) - len(target)
    expected = g.sum(axis=tuple(range(lead)))
    stretched = tuple(i for i, size in enumerate(target) if size == 1 and expected.shape[i] != 1)
    if stretched:
        expected = expected.sum(axis=stretched, keepdims=True)
    result = sum_to_array(g, target)
    assert np.shape(result) == target
    assert np.asarray(result).dtype == dtype
    np.testing.assert_allclose(result, expected, rtol=1e-6)
    if dtype == np.float32 and target:
        assert result.base is None


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop", "Adagrad"])
def test_optimizers_update_parameters_in_place(name):
    param = gradienti.nn.Parameter(gradienti.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3)))
    memory = _np(param)
    options = {"lr": 0.1, "momentum": 0.9} if name in ("SGD", "RMSprop") else {"lr": 0.1}
    optimizer = getattr(gradienti.optim, name)([param], **options)
    reference = torch.nn.Parameter(torch.tensor(np.linspace(-1.0, 1.0, 6).reshape(2, 3)))
    torch_optimizer = getattr(torch.optim, name)([reference], **options)
    for step in range(3):
        for p, opt in ((param, optimizer), (reference, torch_optimizer)):
            opt.zero_grad()
            (p * p * (step + 1)).sum().backward()
            opt.step()
    assert np.shares_memory(_np(param), memory)
    _close(param, reference, 1e-12)


def test_sgd_momentum_state_of_a_0d_parameter_is_0d():
    param = gradienti.nn.Parameter(gradienti.tensor(1.5))
    optimizer = gradienti.optim.SGD([param], lr=0.1, momentum=0.9)
    for _ in range(2):
        optimizer.zero_grad()
        (param * param).backward()
        optimizer.step()
    assert tuple(optimizer.state[param]["momentum_buffer"].shape) == ()
    assert tuple(param.shape) == ()
