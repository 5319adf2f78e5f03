"""Convolution against PyTorch: F.conv1d/conv2d (values, gradients, double backward, errors),
nn.Conv1d/Conv2d (repr, attributes, state_dict, padding modes) and same-seed initialisation."""

import numpy as np
import pytest
from torch_oracle import assert_close, to_g

import gradienti
import gradienti.nn as nn
import gradienti.nn.functional as F
from gradienti.autograd import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")  # the oracle (these tests compare with PyTorch)
TF = torch.nn.functional
# PyTorch's own performance note on even 'same' kernels (its padded copy), not about results.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same':UserWarning")


close = assert_close


def run_both(dims, x_shape, w_shape, kwargs, bias=True, dtype=torch.float64, needs=(1, 1, 1)):
    """Forward and backward (random, non-uniform upstream gradient) in torch and gradienti;
    returns the pairs (ours, torch's) for the output and each gradient."""
    torch.manual_seed(sum(x_shape) + sum(w_shape))
    x = torch.randn(*x_shape, dtype=dtype).requires_grad_(bool(needs[0]))
    w = torch.randn(*w_shape, dtype=dtype).requires_grad_(bool(needs[1]))
    b = torch.randn(w_shape[0], dtype=dtype).requires_grad_(bool(needs[2])) if bias else None
    xg, wg = to_g(x, x.requires_grad), to_g(w, w.requires_grad)
    bg = to_g(b, b.requires_grad) if bias else None
    ours = (F.conv1d if dims == 1 else F.conv2d)(xg, wg, bg, **kwargs)
    theirs = (TF.conv1d if dims == 1 else TF.conv2d)(x, w, b, **kwargs)
    upstream = torch.randn(theirs.shape, dtype=dtype)
    theirs.backward(upstream)
    ours.backward(to_g(upstream))
    pairs = [(ours, theirs)]
    for g_leaf, t_leaf in ((xg, x), (wg, w), (bg, b)):
        if t_leaf is not None and t_leaf.requires_grad:
            pairs.append((g_leaf.grad, t_leaf.grad))
    return pairs


# (input shape, weight shape, keyword arguments)
CONV2D_CASES = [
    ((2, 3, 8, 8), (4, 3, 3, 3), {}),
    ((2, 3, 8, 8), (4, 3, 3, 3), {"padding": 1}),
    ((2, 3, 9, 8), (4, 3, 3, 3), {"stride": 2, "padding": 1}),
    ((2, 3, 8, 9), (4, 3, 3, 2), {"stride": (2, 1), "padding": (1, 2)}),
    ((2, 3, 10, 9), (5, 3, 3, 3), {"dilation": 2, "padding": 2}),
    ((2, 3, 8, 9), (4, 3, 3, 2), {"dilation": (2, 1), "padding": "same"}),
    ((2, 3, 7, 8), (4, 3, 4, 4), {"padding": "same"}),  # even kernel: asymmetric padding
    ((2, 3, 7, 8), (4, 3, 2, 3), {"padding": "valid", "stride": 3}),
    ((2, 4, 8, 9), (6, 2, 3, 3), {"groups": 2, "stride": 2}),
    ((2, 4, 8, 9), (8, 1, 3, 3), {"groups": 4, "padding": 1}),  # depthwise, multiplier 2
    ((2, 4, 8, 9), (4, 1, 3, 3), {"groups": 4, "padding": 1, "dilation": 2}),  # depthwise
    ((3, 3, 7, 7), (4, 3, 1, 1), {}),
    ((2, 3, 7, 6), (4, 3, 7, 6), {}),  # the kernel covers the whole input
    ((2, 2, 9, 9), (3, 2, 7, 7), {}),  # stride 1 but few outputs: the compact layout
    ((1, 3, 5, 11), (2, 3, 2, 5), {"stride": (1, 3), "padding": (0, 2), "dilation": (2, 1)}),
    ((3, 8, 8), (4, 3, 3, 3), {"padding": 1}),  # unbatched
    ((2, 3, 6, 6), (4, 3, 3, 3), {"stride": [2, 2], "padding": [1, 0], "dilation": [1, 2]}),
]

CONV1D_CASES = [
    ((2, 3, 10), (4, 3, 3), {}),
    ((2, 3, 10), (4, 3, 3), {"padding": 2, "stride": 2}),
    ((2, 3, 11), (4, 3, 4), {"padding": "same", "dilation": 2}),
    ((2, 4, 9), (8, 2, 3), {"groups": 2, "padding": 1}),
    ((2, 4, 9), (4, 1, 5), {"groups": 4, "padding": "same"}),
    ((3, 10), (4, 3, 3), {"stride": 3}),  # unbatched
    ((2, 3, 7), (2, 3, 7), {}),
]


@pytest.mark.parametrize("x_shape,w_shape,kwargs", CONV2D_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(x_shape, w_shape, kwargs, bias):
    pairs = run_both(2, x_shape, w_shape, kwargs, bias)
    assert len(pairs) == 4 if bias else 3
    for ours, theirs in pairs:
        assert tuple(ours.shape) == tuple(theirs.shape)
        close(ours, theirs, 1e-10)


@pytest.mark.parametrize("x_shape,w_shape,kwargs", CONV1D_CASES)
def test_conv1d_matches_torch(x_shape, w_shape, kwargs):
    for ours, theirs in run_both(1, x_shape, w_shape, kwargs):
        assert tuple(ours.shape) == tuple(theirs.shape)
        close(ours, theirs, 1e-10)


@pytest.mark.parametrize("needs", [(1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0)])
def test_gradients_of_some_inputs_only(needs):
    # A frozen weight keeps no columns; a constant input gets no gradient computed.
    pairs = run_both(2, (2, 3, 8, 8), (4, 3, 3, 3), {"padding": 1}, needs=needs)
    assert len(pairs) == 1 + sum(needs)
    for ours, theirs in pairs:
        close(ours, theirs, 1e-10)


@pytest.mark.parametrize(
    "x_shape,w_shape,kwargs",
    [((64, 1, 28, 28), (16, 1, 3, 3), {"padding": 1}), ((8, 16, 14, 14), (32, 16, 3, 3), {})],
)
def test_float32_stays_float32_and_matches(x_shape, w_shape, kwargs):
    pairs = run_both(2, x_shape, w_shape, kwargs, dtype=torch.float32)
    for ours, theirs in pairs:
        assert ours.dtype == gradienti.float32
        # sums of up to 50,000 float32 terms: the error scales with the largest value
        expected = theirs.detach().numpy()
        scale = float(np.abs(expected).max())
        np.testing.assert_allclose(ours.detach().numpy(), expected, rtol=1e-4, atol=1e-5 * scale)


def test_non_contiguous_input_and_weight():
    torch.manual_seed(0)
    x_leaf = torch.randn(2, 8, 7, 3, dtype=torch.float64, requires_grad=True)
    w_leaf = torch.randn(3, 3, 3, 4, dtype=torch.float64, requires_grad=True)
    xg_leaf, wg_leaf = to_g(x_leaf, True), to_g(w_leaf, True)
    theirs = TF.conv2d(x_leaf.permute(0, 3, 2, 1), w_leaf.transpose(2, 3), padding=1)
    ours = F.conv2d(xg_leaf.permute(0, 3, 2, 1), wg_leaf.transpose(2, 3), padding=1)
    close(ours, theirs, 1e-10)
    up = torch.randn(theirs.shape, dtype=torch.float64)
    theirs.backward(up)
    ours.backward(to_g(up))
    close(xg_leaf.grad, x_leaf.grad, 1e-10)
    close(wg_leaf.grad, w_leaf.grad, 1e-10)


def test_empty_batch_and_integer_input():
    out = F.conv2d(gradienti.zeros(0, 3, 8, 8), gradienti.ones(4, 3, 3, 3))
    assert tuple(out.shape) == (0, 4, 6, 6)
    x = torch.randint(-5, 5, (2, 3, 6, 6))
    w = torch.randint(-3, 3, (4, 3, 3, 3))
    ours = F.conv2d(to_g(x), to_g(w), stride=2, padding=1)
    assert ours.dtype == gradienti.int64
    np.testing.assert_array_equal(ours.numpy(), TF.conv2d(x, w, stride=2, padding=1).numpy())


def test_parameters_as_inputs():
    w = nn.Parameter(gradienti.randn(2, 1, 3, 3))
    x = nn.Parameter(gradienti.randn(1, 1, 5, 5))
    F.conv2d(x, w).sum().backward()
    assert tuple(x.grad.shape) == (1, 1, 5, 5) and tuple(w.grad.shape) == (2, 1, 3, 3)


# ------------------------------------------------------------------ finite differences
GRADCHECK_CASES = [
    (2, (2, 2, 5, 5), (3, 2, 3, 3), {}),
    (2, (2, 2, 5, 5), (3, 2, 3, 3), {"padding": 1}),
    (2, (1, 2, 5, 6), (2, 2, 3, 2), {"padding": 1, "stride": 2}),
    (2, (2, 4, 4, 5), (4, 2, 2, 3), {"groups": 2, "dilation": (1, 2), "padding": "same"}),
    (2, (1, 3, 5, 5), (3, 1, 3, 3), {"groups": 3, "padding": 1}),
    (2, (2, 5, 5), (2, 2, 3, 3), {"padding": 1}),
    (1, (2, 3, 7), (2, 3, 3), {"stride": 2, "padding": 1}),
    (1, (1, 2, 6), (2, 2, 2), {"padding": "same", "dilation": 3}),
]


@pytest.mark.parametrize("dims,x_shape,w_shape,kwargs", GRADCHECK_CASES)
def test_gradcheck_and_gradgradcheck(dims, x_shape, w_shape, kwargs):
    rng = np.random.default_rng(len(x_shape) + sum(w_shape))
    inputs = [
        gradienti.tensor(rng.standard_normal(shape), requires_grad=True)
        for shape in (x_shape, w_shape, (w_shape[0],))
    ]
    conv = F.conv1d if dims == 1 else F.conv2d

    def f(x, w, b):
        return conv(x, w, b, **kwargs)

    assert gradcheck(f, inputs)
    assert gradgradcheck(f, inputs)


def test_double_backward_matches_torch():
    torch.manual_seed(5)
    tensors = [
        torch.randn(2, 4, 6, 7, dtype=torch.float64),
        torch.randn(6, 2, 3, 2, dtype=torch.float64),
        torch.randn(6, dtype=torch.float64),
    ]
    kwargs = {"stride": (2, 1), "padding": 1, "groups": 2}
    t_leaves = [t.clone().requires_grad_() for t in tensors]
    g_leaves = [to_g(t, True) for t in tensors]
    up = torch.randn(TF.conv2d(*tensors, **kwargs).shape, dtype=torch.float64)
    results = []
    for conv, leaves, upstream, autograd in (
        (TF.conv2d, t_leaves, up, torch.autograd),
        (F.conv2d, g_leaves, to_g(up), gradienti.autograd),
    ):
        out = conv(*leaves, **kwargs)
        grads = autograd.grad((out * upstream).sum(), leaves, create_graph=True)
        # a scalar of the first derivatives that depends on x, w and b nonlinearly
        second = (grads[0] ** 2).sum() + (grads[1] * grads[1].sin()).sum() + (out**2).sum()
        results.append(autograd.grad(second, leaves))
    for ours, theirs in zip(results[1], results[0]):
        close(ours, theirs, 1e-9)


# ------------------------------------------------------------------ graph
def test_grad_fn_names_and_edges():
    x = gradienti.randn(2, 3, 6, 6)
    w = gradienti.randn(4, 3, 3, 3, requires_grad=True)
    b = gradienti.randn(4, requires_grad=True)
    out = F.conv2d(x, w, b)
    tx, tw, tb = torch.randn(2, 3, 6, 6), torch.randn(4, 3, 3, 3, requires_grad=True), None
    assert out.grad_fn.name() == TF.conv2d(tx, tw, tb).grad_fn.name() == "ConvolutionBackward0"
    assert [type(node).__name__ for node, _ in out.grad_fn.next_functions] == [
        "NoneType",
        "AccumulateGrad",
        "AccumulateGrad",
    ]
    unbatched = F.conv2d(x[0], w)
    assert unbatched.grad_fn.name() == TF.conv2d(tx[0], tw).grad_fn.name()
    assert F.conv1d(gradienti.randn(3, 5), w[:, :, 0]).grad_fn.name() == "SqueezeBackward1"
    with gradienti.no_grad():
        assert F.conv2d(x, w, b).grad_fn is None


def test_backward_twice_needs_retain_graph():
    w = gradienti.randn(2, 1, 3, 3, requires_grad=True)
    out = F.conv2d(gradienti.randn(1, 1, 5, 5), w).sum()
    out.backward(retain_graph=True)
    first = w.grad.clone()
    out.backward()
    close(w.grad, torch.tensor(2 * first.numpy()), 1e-6)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        out.backward()


# ------------------------------------------------------------------ errors
def _errors(call):
    """Run ``call(F)`` with torch's and gradienti's functional; return both exceptions."""
    found = []
    for module, wrap in ((TF, lambda t: t), (F, to_g)):
        with pytest.raises(Exception) as info:
            call(module, wrap)
        found.append(info.value)
    return found


def _x(shape, dtype=torch.float32):
    return torch.zeros(shape, dtype=dtype)


ERROR_CASES = [
    lambda f, w: f.conv2d(w(_x((2, 4, 8, 8))), w(_x((4, 3, 3, 3)))),
    lambda f, w: f.conv2d(w(_x((4, 8, 8))), w(_x((4, 3, 3, 3)))),
    lambda f, w: f.conv2d(w(_x((8, 8))), w(_x((4, 3, 3, 3)))),
    lambda f, w: f.conv2d(w(_x((1, 2, 4, 8, 8))), w(_x((4, 3, 3, 3)))),
    lambda f, w: f.conv1d(w(_x((8,))), w(_x((4, 3, 3)))),
    lambda f, w: f.conv1d(w(_x((2, 4, 8))), w(_x((4, 3, 3)))),
    lambda f, w: f.conv1d(w(_x((2, 3, 8))), w(_x((4, 3, 3, 3)))),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3)))),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3)))),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3))), stride=(1, 2, 3)),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3))), padding=(1, 1, 1)),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3))), dilation=[1, 1, 1]),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3))), padding="same", stride=2),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3))), padding="foo"),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3))), stride=0),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3))), stride=0, groups=0),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3))), padding=-1),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3))), dilation=0, padding=-1),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3))), dilation=(1, 0)),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3))), groups=2),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 1, 3, 3))), groups=3),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((0, 3, 3, 3)))),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 9, 9)))),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3))), dilation=(4, 1)),
    lambda f, w: f.conv2d(w(_x((2, 3, 0, 8))), w(_x((4, 3, 3, 3)))),
    lambda f, w: f.conv1d(w(_x((2, 3, 4))), w(_x((4, 3, 9)))),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3))), w(_x((3,)))),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3))), w(_x(()))),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8), torch.float64)), w(_x((4, 3, 3, 3)))),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3), torch.float64))),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3), torch.int32))),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8))), w(_x((4, 3, 3, 3))), w(_x((4,), torch.float64))),
    lambda f, w: f.conv2d(w(_x((2, 4, 8, 8))), w(_x((4, 3, 3, 3))), w(_x((4,), torch.int64))),
    lambda f, w: f.conv2d(w(_x((8, 8))), w(_x((4, 3, 3, 3))), w(_x((4,), torch.float64))),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8), torch.int64)), w(_x((4, 3, 3, 3)))),
    lambda f, w: f.conv2d(w(_x((2, 3, 8, 8), torch.bool)), w(_x((4, 3, 3, 3), torch.bool))),
]


@pytest.mark.parametrize("call", ERROR_CASES)
def test_error_messages_match_torch(call):
    theirs, ours = _errors(call)
    assert type(ours) is type(theirs)
    assert str(ours) == str(theirs)


def test_bad_argument_types():
    x, w = gradienti.zeros(1, 1, 4, 4), gradienti.zeros(1, 1, 3, 3)
    with pytest.raises(TypeError, match="argument 'stride' must be tuple of ints, not float"):
        F.conv2d(x, w, stride=1.5)
    with pytest.raises(TypeError, match="argument 'groups' must be int, not float"):
        F.conv2d(x, w, groups=1.0)
    with pytest.raises(TypeError, match="argument 'padding' must be tuple of ints, not bool"):
        F.conv2d(x, w, padding=True)
    with pytest.raises(TypeError, match="argument 'input' .* must be Tensor, not list"):
        F.conv2d([1.0], w)
    assert tuple(F.conv2d(x, w, stride=gradienti.tensor(2)).shape) == (1, 1, 1, 1)


# ------------------------------------------------------------------ modules
MODULE_CASES = [
    ("Conv2d", (1, 16, 3), {"padding": 1}),
    ("Conv2d", (2, 4, (3, 5)), {"stride": 2, "dilation": 2, "groups": 2, "bias": False}),
    ("Conv2d", (2, 4, 3), {"padding": "same", "padding_mode": "reflect"}),
    ("Conv2d", (2, 4, 4), {"padding": "same", "padding_mode": "circular"}),
    ("Conv2d", (2, 4, 3), {"padding": (1, 2), "padding_mode": "replicate"}),
    ("Conv2d", (2, 4, 3), {"padding": 2, "padding_mode": "circular", "stride": (1, 2)}),
    ("Conv2d", (4, 4, 3), {"padding": "valid", "groups": 4}),
    ("Conv1d", (2, 4, 3), {}),
    ("Conv1d", (2, 4, 3), {"padding": 2, "dilation": 2, "bias": False}),
    ("Conv1d", (2, 4, 4), {"padding": "same", "padding_mode": "reflect"}),
    ("Conv1d", (2, 6, 3), {"padding": 3, "padding_mode": "replicate", "groups": 2}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULE_CASES)
def test_module_matches_torch(name, args, kwargs):
    torch.manual_seed(2)
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(nn, name)(*args, **kwargs, dtype=gradienti.float64)
    assert repr(ours) == repr(theirs)
    for attribute in ("in_channels", "out_channels", "kernel_size", "stride", "padding"):
        assert getattr(ours, attribute) == getattr(theirs, attribute)
    for attribute in ("dilation", "groups", "padding_mode", "output_padding", "transposed"):
        assert getattr(ours, attribute) == getattr(theirs, attribute)
    assert list(ours._reversed_padding_repeated_twice) == list(
        theirs._reversed_padding_repeated_twice
    )
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert tuple(ours.weight.shape) == tuple(theirs.weight.shape)
    ours.load_state_dict({k: to_g(v) for k, v in theirs.state_dict().items()})
    shape = (2, args[0], 7, 9) if name == "Conv2d" else (2, args[0], 9)
    x = torch.randn(shape, dtype=torch.float64, requires_grad=True)
    xg = to_g(x, True)
    out_t, out_g = theirs(x), ours(xg)
    close(out_g, out_t, 1e-10)
    up = torch.randn(out_t.shape, dtype=torch.float64)
    out_t.backward(up)
    out_g.backward(to_g(up))
    close(xg.grad, x.grad, 1e-10)
    for p_g, p_t in zip(ours.parameters(), theirs.parameters()):
        close(p_g.grad, p_t.grad, 1e-10)


@pytest.mark.parametrize(
    "kwargs",
    [{"padding": 3, "padding_mode": "reflect"}, {"padding": 6, "padding_mode": "circular"}],
)
def test_padding_mode_errors_match_torch(kwargs):
    x = torch.zeros(1, 2, 3, 5)
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.Conv2d(2, 2, 3, **kwargs)(x)
    with pytest.raises(RuntimeError) as ours:
        nn.Conv2d(2, 2, 3, **kwargs)(to_g(x))
    assert str(ours.value) == str(theirs.value)


def test_padding_modes_twice_differentiable():
    for mode in ("reflect", "replicate", "circular"):
        gradienti.manual_seed(0)
        conv = nn.Conv2d(2, 2, 3, padding=(2, 1), padding_mode=mode, dtype=gradienti.float64)
        x = gradienti.randn(1, 2, 4, 5, dtype=gradienti.float64, requires_grad=True)
        assert gradcheck(conv, (x,))
        assert gradgradcheck(conv, (x,))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"groups": 0}, "groups must be a positive integer"),
        ({"groups": 2, "in_channels": 3}, "in_channels must be divisible by groups"),
        ({"groups": 2, "out_channels": 3}, "out_channels must be divisible by groups"),
        ({"padding": "foo"}, "Invalid padding string 'foo', should be one of"),
        ({"padding": "same", "stride": 2}, "padding='same' is not supported for strided"),
        ({"padding_mode": "foo"}, "padding_mode must be one of"),
    ],
)
def test_module_argument_errors(kwargs, message):
    arguments = {"in_channels": 2, "out_channels": 4, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError) as theirs:
        torch.nn.Conv2d(**arguments)
    with pytest.raises(ValueError, match=message) as ours:
        nn.Conv2d(**arguments)
    assert str(ours.value).split(" {")[0] == str(theirs.value).split(" {")[0]


def test_module_in_a_cnn_matches_torch():
    torch.manual_seed(4)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.Tanh(),
        torch.nn.Conv2d(4, 6, 3, stride=2),
        torch.nn.Flatten(),
        torch.nn.Linear(6 * 3 * 3, 5),
    )
    ours = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.Tanh(),
        nn.Conv2d(4, 6, 3, stride=2),
        nn.Flatten(),
        nn.Linear(6 * 3 * 3, 5),
    )
    assert repr(ours) == repr(theirs)
    ours.load_state_dict({k: to_g(v) for k, v in theirs.state_dict().items()})
    x = torch.randn(3, 1, 8, 8)
    out_t, out_g = theirs(x), ours(to_g(x))
    close(out_g, out_t, 1e-5)
    (out_t**2).sum().backward()
    (out_g**2).sum().backward()
    for p_g, p_t in zip(ours.parameters(), theirs.parameters()):
        close(p_g.grad, p_t.grad, 1e-4)


# ------------------------------------------------------------------ same seed, same weights
@pytest.mark.parametrize(
    "name,args,kwargs",
    [
        ("Conv2d", (1, 16, 3), {"padding": 1}),
        ("Conv2d", (16, 32, (3, 5)), {"groups": 4}),
        ("Conv2d", (3, 8, 5), {"bias": False}),
        ("Conv1d", (4, 6, 3), {}),
        ("Linear", (7, 5), {}),
        ("Linear", (64, 10), {"bias": False}),
    ],
)
@pytest.mark.parametrize("seed", [0, 1234])
def test_same_seed_same_initial_weights(name, args, kwargs, seed):
    torch.manual_seed(seed)
    gradienti.manual_seed(seed)
    theirs = [getattr(torch.nn, name)(*args, **kwargs) for _ in range(2)]
    ours = [getattr(nn, name)(*args, **kwargs) for _ in range(2)]
    for module_g, module_t in zip(ours, theirs):
        assert list(module_g.state_dict()) == list(module_t.state_dict())
        for key, value in module_t.state_dict().items():
            ours_value = module_g.state_dict()[key]
            assert ours_value.dtype == gradienti.float32
            np.testing.assert_array_equal(ours_value.numpy(), value.numpy())
    # the generator is left in the same state too
    np.testing.assert_array_equal(gradienti.rand(5).numpy(), torch.rand(5).numpy())
