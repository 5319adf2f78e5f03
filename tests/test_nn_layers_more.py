"""The padding, upsampling, bilinear, lazy and further activation layers against PyTorch:
repr, state_dict keys, same-seed parameters, forward, gradients of input and parameters; and
the errors and warnings of their functional forms (F.pad, F.interpolate, F.prelu, F.glu, ...).
The ops' derivatives are checked by the op table (tests/op_cases_padding.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")


def _pair(array, requires_grad=True):
    return (
        gradienti.tensor(array, requires_grad=requires_grad),
        torch.tensor(array, requires_grad=requires_grad),
    )


def _compare_module(make, shapes, seed=0, positive=False):
    """The module made by ``make(lib)`` from the same seed in both libraries: repr, state_dict
    keys and values, forward and the gradients of inputs and parameters (non-uniform upstream
    gradient)."""
    gradienti.manual_seed(seed)
    ours = make(gradienti)
    torch.manual_seed(seed)
    theirs = make(torch)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (name, mine), (_, expected) in zip(ours.state_dict().items(), theirs.state_dict().items()):
        np.testing.assert_array_equal(mine.numpy(), expected.numpy(), err_msg=name)
    rng = np.random.default_rng(seed)
    arrays = [rng.uniform(-2, 2, shape).astype(np.float32) for shape in shapes]
    if positive:
        arrays = [np.abs(a) + 0.5 for a in arrays]
    pairs = [_pair(a) for a in arrays]
    out = ours(*(p[0] for p in pairs))
    expected = theirs(*(p[1] for p in pairs))
    assert tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_allclose(
        out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6
    )
    assert type(out.grad_fn).__name__ == expected.grad_fn.name().split("::")[-1]
    upstream = rng.uniform(0.5, 1.5, tuple(expected.shape)).astype(np.float32)
    out.backward(gradienti.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    for (mine, _), (_, theirs_input) in zip(pairs, pairs):
        np.testing.assert_allclose(
            mine.grad.numpy(), theirs_input.grad.numpy(), rtol=1e-5, atol=1e-6
        )
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(
            p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-5, err_msg=name
        )
    return ours, theirs


# ---------------------------------------------------------------------- padding modules
PAD_MODULES = [
    ("ZeroPad1d", lambda nn: nn.ZeroPad1d(2), (2, 3, 4)),
    ("ZeroPad2d tuple", lambda nn: nn.ZeroPad2d((1, 2, 0, 1)), (2, 3, 4)),
    ("ZeroPad2d int", lambda nn: nn.ZeroPad2d(1), (1, 2, 3, 4)),
    ("ZeroPad3d", lambda nn: nn.ZeroPad3d(1), (1, 2, 2, 3)),
    ("ConstantPad1d", lambda nn: nn.ConstantPad1d(2, 3.5), (2, 3, 4)),
    ("ConstantPad2d", lambda nn: nn.ConstantPad2d((1, -1, 2, 0), -1), (1, 2, 3, 4)),
    ("ConstantPad3d", lambda nn: nn.ConstantPad3d(1, 0.0), (2, 2, 3, 2)),
    ("ReflectionPad1d", lambda nn: nn.ReflectionPad1d(2), (2, 3, 4)),
    ("ReflectionPad2d", lambda nn: nn.ReflectionPad2d((1, 0, 2, 1)), (1, 2, 3, 4)),
    ("ReflectionPad3d", lambda nn: nn.ReflectionPad3d(1), (1, 2, 2, 3, 3)),
    ("ReplicationPad1d", lambda nn: nn.ReplicationPad1d((3, 1)), (3, 4)),
    ("ReplicationPad2d", lambda nn: nn.ReplicationPad2d(2), (1, 2, 3, 4)),
    ("ReplicationPad3d", lambda nn: nn.ReplicationPad3d((1, 0, 0, 1, 1, 1)), (2, 2, 3, 2)),
    ("CircularPad1d", lambda nn: nn.CircularPad1d(1), (2, 3, 4)),
    ("CircularPad2d", lambda nn: nn.CircularPad2d((1, 1, 2, 0)), (1, 2, 3, 4)),
    ("CircularPad3d", lambda nn: nn.CircularPad3d(1), (1, 1, 2, 3, 3)),
]


@pytest.mark.parametrize(("name", "make", "shape"), PAD_MODULES, ids=[m[0] for m in PAD_MODULES])
def test_padding_modules_match_torch(name, make, shape):
    ours, theirs = _compare_module(lambda lib: make(lib.nn), [shape])
    assert ours.padding == theirs.padding
    assert getattr(ours, "value", None) == getattr(theirs, "value", None)


def test_circular_pad_module_checks_the_input_dimensions():
    for lib in (gradienti, torch):
        with pytest.raises(ValueError, match=r"^expected 3D or 4D input \(got 2D input\)$"):
            lib.nn.CircularPad2d(1)(lib.zeros(3, 4))


def test_pad_values_for_integer_and_bool_tensors():
    for value, dtype in ((2.7, "int64"), (2, "bool")):
        ours = gradienti.nn.functional.pad(
            gradienti.arange(6).reshape(2, 3).to(getattr(gradienti, dtype)), (1, 1), value=value
        )
        theirs = torch.nn.functional.pad(
            torch.arange(6).reshape(2, 3).to(getattr(torch, dtype)), (1, 1), value=value
        )
        assert str(ours.dtype) == str(theirs.dtype)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    ours = gradienti.nn.functional.pad(gradienti.arange(6).reshape(1, 2, 3), (2, 1), "reflect")
    theirs = torch.nn.functional.pad(torch.arange(6).reshape(1, 2, 3), (2, 1), "reflect")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


BAD_PADS = [
    ((2, 3, 4), (1,), "constant", None),
    ((2, 3, 4), (1, 2, 3, 4, 5, 6, 7, 8), "constant", None),
    ((2, 3, 4), (1, 1), "foo", None),
    ((2, 3, 4), (1,), "foo", None),
    ((2, 3, 4), (1, 1), "reflect", 2.0),
    ((2, 3, 4), (4, 4), "reflect", None),
    ((2, 3, 4), (1, 1, 3, 3), "reflect", None),
    ((2, 2, 3, 4, 5), (1, 1, 1, 1, 9, 9), "reflect", None),
    ((2, 3, 4), (-2, -2), "reflect", None),
    ((2, 3, 4), (-2, -2), "replicate", None),
    ((2, 3, 4), (-2, -2, -2, -2), "replicate", None),
    ((2, 3, 4), (5, 5), "circular", None),
    ((2, 3, 4), (-4, -1), "circular", None),
    ((2, 3, 0), (1, 1), "circular", None),
    ((2, 3, 4), (-5, 0), "constant", None),
    ((2, 3, 4), (1.5, 1), "constant", None),
    ((2, 3, 4), (1, 1, 1, 1, 1, 1), "reflect", None),
    ((4,), (1, 1), "replicate", None),
    ((2, 3, 4, 5, 6, 7), (1, 1), "circular", None),
    ((2, 0, 4), (1, 1), "reflect", None),
    ((0, 4), (1, 1), "replicate", None),
    ((2, 3), (1, 1), "reflect", None),  # fine: 2-d, last dim padded
]


@pytest.mark.parametrize(("shape", "pad", "mode", "value"), BAD_PADS)
def test_pad_errors_match_torch(shape, pad, mode, value):
    def outcome(lib):
        try:
            out = lib.nn.functional.pad(lib.ones(*shape), pad, mode=mode, value=value)
        except Exception as error:  # noqa: BLE001 - the class and text are compared
            return type(error), str(error)
        return tuple(out.shape)

    assert outcome(gradienti) == outcome(torch)


def test_pad_bool_is_not_implemented_for_reflect_as_in_torch():
    for lib in (gradienti, torch):
        with pytest.raises(
            NotImplementedError, match="\"reflection_pad1d\" not implemented for 'Bool'"
        ):
            lib.nn.functional.pad(lib.ones(2, 3, dtype=lib.bool), (1, 1), mode="reflect")


def test_pad_backward_of_backward_records_pytorch_nodes():
    array = np.random.default_rng(0).standard_normal((1, 2, 5))
    for mode, node in (("reflect", "ReflectionPad1DBackwardBackward0"), ("constant", None)):
        x = gradienti.tensor(array, requires_grad=True)
        y = gradienti.nn.functional.pad(x, (2, 1), mode=mode)
        v = gradienti.ones(tuple(y.shape), requires_grad=True)
        (g,) = gradienti.autograd.grad(y, x, v, create_graph=True)
        xt = torch.tensor(array, requires_grad=True)
        yt = torch.nn.functional.pad(xt, (2, 1), mode=mode)
        vt = torch.ones(tuple(yt.shape), requires_grad=True, dtype=torch.float64)
        (gt,) = torch.autograd.grad(yt, xt, vt, create_graph=True)
        assert type(g.grad_fn).__name__ == gt.grad_fn.name()
        if node is not None:
            assert gt.grad_fn.name() == node


def test_pad_in_place_change_of_the_input_invalidates_reflect_backward():
    for lib in (gradienti, torch):
        x = lib.ones(1, 4, requires_grad=True)
        base = x * 1
        y = lib.nn.functional.pad(base, (1, 1), mode="reflect")
        base.mul_(2)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


# ---------------------------------------------------------------------- upsampling
UPSAMPLE_MODULES = [
    ("Upsample scale", lambda nn: nn.Upsample(scale_factor=2), (1, 2, 3, 3)),
    ("Upsample size bilinear", lambda nn: nn.Upsample(size=(5, 4), mode="bilinear"), (1, 2, 3, 3)),
    (
        "Upsample align_corners",
        lambda nn: nn.Upsample(scale_factor=1.5, mode="bilinear", align_corners=True),
        (2, 1, 3, 4),
    ),
    ("Upsample linear", lambda nn: nn.Upsample(scale_factor=(2.5,), mode="linear"), (2, 2, 4)),
    ("Upsample nearest size int", lambda nn: nn.Upsample(size=5), (2, 2, 3)),
    (
        "Upsample recompute",
        lambda nn: nn.Upsample(scale_factor=1.7, recompute_scale_factor=True),
        (1, 1, 3, 4),
    ),
    ("UpsamplingNearest2d", lambda nn: nn.UpsamplingNearest2d(scale_factor=2), (1, 2, 2, 3)),
    ("UpsamplingBilinear2d", lambda nn: nn.UpsamplingBilinear2d(size=4), (1, 2, 2, 3)),
]


@pytest.mark.parametrize(
    ("name", "make", "shape"), UPSAMPLE_MODULES, ids=[m[0] for m in UPSAMPLE_MODULES]
)
def test_upsample_modules_match_torch(name, make, shape):
    ours, theirs = _compare_module(lambda lib: make(lib.nn), [shape])
    assert ours.scale_factor == theirs.scale_factor and ours.size == theirs.size


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [
        ((1, 1, 7, 5), {"scale_factor": 2.3, "mode": "nearest"}),
        ((1, 1, 7, 5), {"size": (10, 3), "mode": "nearest"}),
        ((1, 1, 7, 5), {"scale_factor": 0.7, "mode": "nearest-exact"}),
        ((1, 1, 5), {"scale_factor": 3.1, "mode": "nearest"}),
    ],
)
def test_nearest_picks_the_same_elements_as_torch(dtype, shape, kwargs):
    array = np.arange(np.prod(shape)).reshape(shape).astype(dtype)
    ours = gradienti.nn.functional.interpolate(gradienti.tensor(array), **kwargs)
    theirs = torch.nn.functional.interpolate(torch.tensor(array), **kwargs)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


BAD_INTERPOLATE = [
    ((1, 1, 4, 4), {"scale_factor": 2, "align_corners": True}),
    ((1, 1, 4, 4), {"size": 3, "scale_factor": 2}),
    ((1, 1, 4, 4), {}),
    ((1, 1, 4, 4), {"size": (3,)}),
    ((1, 1, 4, 4), {"size": (3, 2.5)}),
    ((1, 1, 4, 4), {"scale_factor": (2, 2, 2)}),
    ((1, 1, 4, 4), {"size": 8, "recompute_scale_factor": True}),
    ((1, 1, 4), {"scale_factor": 2, "mode": "bilinear"}),
    ((1, 1, 4, 4), {"scale_factor": 2, "mode": "linear"}),
    ((1, 1, 4, 4), {"scale_factor": 2, "mode": "trilinear"}),
    ((1, 4), {"scale_factor": 2}),
    ((1, 1, 4, 4), {"scale_factor": 2, "mode": "cubic"}),
    ((1, 1, 4), {"scale_factor": 2, "mode": "linear", "antialias": True}),
    ((1, 1, 4, 4), {"scale_factor": 2, "mode": "bicubic", "dtype": "int64"}),
    ((1, 1, 4), {"scale_factor": 2, "mode": "nearest-exact", "dtype": "int64"}),
    ((1, 1, 4), {"scale_factor": 2, "mode": "linear", "dtype": "int64"}),
    ((1, 1, 2, 4, 4), {"scale_factor": 2, "mode": "trilinear", "dtype": "uint8"}),
]


@pytest.mark.parametrize(("shape", "kwargs"), BAD_INTERPOLATE)
def test_interpolate_errors_match_torch(shape, kwargs):
    kwargs = dict(kwargs)
    dtype = kwargs.pop("dtype", "float32")

    def outcome(lib):
        try:
            lib.nn.functional.interpolate(lib.ones(*shape, dtype=getattr(lib, dtype)), **kwargs)
        except Exception as error:  # noqa: BLE001 - the class and text are compared
            return type(error), str(error)
        return None

    assert outcome(gradienti) == outcome(torch)


@pytest.mark.parametrize("name", ["upsample", "upsample_nearest", "upsample_bilinear"])
def test_deprecated_upsample_functions_warn_and_compute_as_torch(name):
    array = np.random.default_rng(3).standard_normal((1, 2, 3, 3)).astype(np.float32)
    results, messages = [], []
    for lib in (gradienti, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            results.append(getattr(lib.nn.functional, name)(lib.tensor(array), scale_factor=2))
        messages.append([str(w.message) for w in caught])
    assert messages[0] == messages[1] and messages[0]
    np.testing.assert_allclose(results[0].numpy(), results[1].numpy(), rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------- activations
ACTIVATIONS = [
    ("Mish", lambda nn: nn.Mish()),
    ("Mish inplace", lambda nn: nn.Mish(inplace=True)),
    ("Hardswish", lambda nn: nn.Hardswish()),
    ("Hardswish inplace", lambda nn: nn.Hardswish(True)),
    ("Hardsigmoid", lambda nn: nn.Hardsigmoid()),
    ("Softmin", lambda nn: nn.Softmin(dim=1)),
    ("Softmax2d", lambda nn: nn.Softmax2d()),
    ("GLU", lambda nn: nn.GLU()),
    ("GLU dim 1", lambda nn: nn.GLU(1)),
    ("Softsign", lambda nn: nn.Softsign()),
    ("Tanhshrink", lambda nn: nn.Tanhshrink()),
    ("Threshold", lambda nn: nn.Threshold(0.1, 20)),
    ("Threshold inplace", lambda nn: nn.Threshold(-0.5, -2.0, True)),
    ("ReLU6", lambda nn: nn.ReLU6()),
    ("ReLU6 inplace", lambda nn: nn.ReLU6(True)),
    ("CELU", lambda nn: nn.CELU()),
    ("CELU alpha", lambda nn: nn.CELU(0.5, True)),
    ("SELU", lambda nn: nn.SELU()),
    ("SELU inplace", lambda nn: nn.SELU(True)),
    ("Hardshrink", lambda nn: nn.Hardshrink()),
    ("Softshrink", lambda nn: nn.Softshrink(0.3)),
    ("PReLU", lambda nn: nn.PReLU()),
    ("PReLU channels", lambda nn: nn.PReLU(4, 0.1)),
    ("ELU", lambda nn: nn.ELU(0.5)),
    ("LeakyReLU", lambda nn: nn.LeakyReLU(0.2)),
    ("Softplus", lambda nn: nn.Softplus(2.0, 10.0)),
    ("LogSigmoid", lambda nn: nn.LogSigmoid()),
    ("SiLU", lambda nn: nn.SiLU()),
    ("GELU tanh", lambda nn: nn.GELU(approximate="tanh")),
    ("Identity", lambda nn: nn.Sequential(nn.Identity(54, unused="x"), nn.Tanh())),
]


@pytest.mark.parametrize(("name", "make"), ACTIVATIONS, ids=[a[0] for a in ACTIVATIONS])
def test_activation_modules_match_torch(name, make):
    # values on both sides of every kink, none at one: x·4 for x in ±[0.5, 2] spans ±(2, 8)
    gradienti.manual_seed(0)
    rng = np.random.default_rng(1)
    array = (rng.uniform(0.5, 2.0, (2, 4, 3, 2)) * rng.choice([-1.0, 1.0], (2, 4, 3, 2))) * 2
    array = array.astype(np.float32)
    ours, theirs = make(gradienti.nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    (x, xt) = _pair(array)
    # (x * 1: PyTorch's inplace=True modules write into their input, which a leaf refuses)
    out, expected = ours(x * 1), theirs(xt * 1)
    np.testing.assert_allclose(
        out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6
    )
    if not getattr(theirs, "inplace", False):  # (in place, PyTorch records <Name>Backward1;
        # gradienti computes out of place, as its ReLU(inplace=True): not compared)
        assert type(out.grad_fn).__name__ == expected.grad_fn.name()
    upstream = rng.uniform(0.5, 1.5, tuple(expected.shape)).astype(np.float32)
    out.backward(gradienti.tensor(upstream))
    expected.backward(torch.tensor(upstream))
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_hardsigmoid_gradient_at_and_between_its_kinks_matches_torch():
    values = [-4.0, -3.0, -1.0, 0.0, 2.5, 3.0, 5.0]
    x, xt = _pair(np.array(values, dtype=np.float32))
    for lib, tensor in ((gradienti, x), (torch, xt)):
        lib.nn.functional.hardsigmoid(tensor).backward(lib.arange(7.0) + 1)
    np.testing.assert_array_equal(x.grad.numpy(), xt.grad.numpy())


def test_softmin_without_dim_warns_as_torch():
    messages = []
    for lib in (gradienti, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.functional.softmin(lib.ones(2, 3))
        messages.append([str(w.message) for w in caught])
    assert messages[0] == messages[1] and messages[0]


BAD_ACTIVATION_CALLS = [
    ("prelu weights/channels", lambda lib: lib.nn.functional.prelu(lib.ones(2, 3), lib.ones(2))),
    ("prelu 2-d weight", lambda lib: lib.nn.functional.prelu(lib.ones(2, 3), lib.ones(3, 1))),
    ("prelu 0-d input", lambda lib: lib.nn.functional.prelu(lib.tensor(1.0), lib.ones(2))),
    ("prelu 1-d input", lambda lib: lib.nn.functional.prelu(lib.ones(3), lib.ones(3))),
    ("glu odd", lambda lib: lib.nn.functional.glu(lib.ones(2, 3))),
    ("glu scalar", lambda lib: lib.nn.functional.glu(lib.tensor(1.0), 0)),
    ("glu dim", lambda lib: lib.nn.functional.glu(lib.ones(2, 4), 5)),
    ("softshrink negative", lambda lib: lib.nn.functional.softshrink(lib.ones(2), -1)),
    ("celu alpha 0", lambda lib: lib.nn.functional.celu(lib.ones(2), 0.0)),
    ("mish long", lambda lib: lib.nn.functional.mish(lib.arange(4))),
    ("hardswish long", lambda lib: lib.nn.functional.hardswish(lib.arange(4))),
    ("hardsigmoid long", lambda lib: lib.nn.functional.hardsigmoid(lib.arange(4))),
    ("selu long", lambda lib: lib.nn.functional.selu(lib.arange(4))),
    ("Softmax2d 2-d", lambda lib: lib.nn.Softmax2d()(lib.ones(2, 3))),
    ("Unflatten not a tuple", lambda lib: lib.nn.Unflatten(1, 3)),
    ("Unflatten element", lambda lib: lib.nn.Unflatten(1, (2, 1.5))),
    ("Bilinear no in1", lambda lib: lib.nn.Bilinear(0, 2, 3)),
]


@pytest.mark.parametrize(
    ("name", "call"), BAD_ACTIVATION_CALLS, ids=[c[0] for c in BAD_ACTIVATION_CALLS]
)
def test_bad_calls_raise_as_torch(name, call):
    outcomes = []
    for lib in (gradienti, torch):
        with pytest.raises(Exception) as caught:  # noqa: PT011 - compared below
            call(lib)
        outcomes.append((caught.type, str(caught.value)))
    assert outcomes[0] == outcomes[1]


def test_threshold_keeps_an_integral_dtype():
    ours = gradienti.nn.functional.threshold(gradienti.arange(4), 1, -5)
    theirs = torch.nn.functional.threshold(torch.arange(4), 1, -5)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# ---------------------------------------------------------------------- Bilinear, Unflatten
def test_bilinear_module_matches_torch():
    _compare_module(lambda lib: lib.nn.Bilinear(3, 4, 5), [(6, 3), (6, 4)])
    _compare_module(lambda lib: lib.nn.Bilinear(2, 3, 4, bias=False), [(2, 5, 2), (2, 5, 3)], 1)


def test_bilinear_graph_matches_torch():
    def graph(node):
        if node is None:
            return None
        name = type(node).__name__ if not hasattr(node, "metadata") else node.name()
        return (name.split("::")[-1], [graph(child) for child, _ in node.next_functions])

    results = []
    for lib in (gradienti, torch):
        x1, x2 = lib.ones(2, 4, 3, requires_grad=True), lib.ones(2, 4, 2, requires_grad=True)
        w, b = lib.ones(5, 3, 2, requires_grad=True), lib.ones(5, requires_grad=True)
        results.append(graph(lib.nn.functional.bilinear(x1, x2, w, b).grad_fn))
    assert results[0] == results[1]


BAD_BILINEAR = [
    ((4, 3), (4, 5, 1), (2, 3, 5), None),
    ((4, 3), (3, 5), (2, 3, 5), None),
    ((4, 4), (4, 5), (2, 3, 5), None),
    ((4, 3), (4, 4), (2, 3, 5), None),
    ((4, 3), (4, 5), (2, 3, 5), (3,)),
]


@pytest.mark.parametrize(("s1", "s2", "sw", "sb"), BAD_BILINEAR)
def test_bilinear_errors_match_torch(s1, s2, sw, sb):
    outcomes = []
    for lib in (gradienti, torch):
        bias = None if sb is None else lib.ones(*sb)
        with pytest.raises(RuntimeError) as caught:
            lib.nn.functional.bilinear(lib.ones(*s1), lib.ones(*s2), lib.ones(*sw), bias)
        outcomes.append(str(caught.value))
    assert outcomes[0] == outcomes[1]


def test_unflatten_module_matches_torch():
    for make in (lambda nn: nn.Unflatten(1, (2, 3)), lambda nn: nn.Unflatten(-1, [3, 2])):
        _compare_module(lambda lib, make=make: make(lib.nn), [(4, 6)])


# ---------------------------------------------------------------------- LazyLinear
def test_lazy_linear_before_and_after_its_first_call_matches_torch():
    gradienti.manual_seed(0)
    ours = gradienti.nn.LazyLinear(3)
    torch.manual_seed(0)
    theirs = torch.nn.LazyLinear(3)
    assert repr(ours) == repr(theirs)
    assert repr(list(ours.parameters())) == repr(list(theirs.parameters()))
    assert repr(ours.state_dict()) == repr(theirs.state_dict())
    assert isinstance(ours.weight, gradienti.nn.UninitializedParameter)
    assert gradienti.nn.parameter.UninitializedParameter is gradienti.nn.UninitializedParameter
    assert isinstance(ours, gradienti.nn.Linear)
    with pytest.raises(RuntimeError, match="Can't access the shape of an uninitialized parameter"):
        ours.weight.shape  # noqa: B018
    weight_object = ours.weight
    array = np.random.default_rng(0).standard_normal((2, 5)).astype(np.float32)
    x, xt = _pair(array)
    out, expected = ours(x), theirs(xt)
    assert repr(ours) == repr(theirs) == "Linear(in_features=5, out_features=3, bias=True)"
    assert type(ours) is gradienti.nn.Linear
    assert ours.weight is weight_object and type(ours.weight) is gradienti.nn.Parameter
    # the same parameters as Linear(5, 3) from the same seed (and as torch's)
    np.testing.assert_array_equal(ours.weight.detach().numpy(), theirs.weight.detach().numpy())
    np.testing.assert_array_equal(ours.bias.detach().numpy(), theirs.bias.detach().numpy())
    gradienti.manual_seed(0)
    np.testing.assert_array_equal(
        ours.weight.detach().numpy(), gradienti.nn.Linear(5, 3).weight.detach().numpy()
    )
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6)
    assert not ours._forward_pre_hooks


def test_lazy_linear_without_bias_and_an_optimizer_made_before_the_first_call():
    model = gradienti.nn.Sequential(gradienti.nn.LazyLinear(2, bias=False))
    assert repr(model) == repr(torch.nn.Sequential(torch.nn.LazyLinear(2, bias=False)))
    optimizer = gradienti.optim.SGD(model.parameters(), lr=0.5)
    out = model(gradienti.ones(4, 3))
    before = model[0].weight.detach().clone()
    out.sum().backward()
    optimizer.step()  # the optimizer holds the materialised parameter itself
    np.testing.assert_allclose(
        model[0].weight.detach().numpy(), before.numpy() - 0.5 * 4, rtol=1e-6
    )
    assert list(model.state_dict()) == ["0.weight"]


def test_lazy_linear_loads_a_state_dict_before_its_first_call_as_torch():
    source_array = np.arange(6, dtype=np.float32).reshape(2, 3) / 10
    results = []
    for lib in (gradienti, torch):
        lazy = lib.nn.LazyLinear(2)
        lazy.load_state_dict({"weight": lib.tensor(source_array), "bias": lib.tensor([1.0, -1.0])})
        before = repr(lazy)
        out = lazy(lib.ones(4, 3))
        results.append((before, repr(lazy), out.detach().numpy().tolist()))
    assert results[0] == results[1]


def test_a_small_image_model_of_the_new_layers_trains_as_torch():
    """A learner's encoder-decoder: reflection padding, PReLU, GLU, upsampling, zero padding
    and a lazy head, built from the same seed, one SGD step: the same loss and parameters."""

    def build(lib):
        nn = lib.nn
        return nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(2, 4, 3),
            nn.PReLU(4),
            nn.MaxPool2d(2),
            nn.Upsample(scale_factor=2, mode="bilinear"),
            nn.ZeroPad2d((0, 1, 1, 0)),
            nn.Conv2d(4, 4, 2),
            nn.GLU(1),
            nn.Hardswish(),
            nn.Flatten(),
            nn.LazyLinear(3),
            nn.Mish(),
        )

    rng = np.random.default_rng(7)
    images = rng.standard_normal((2, 2, 6, 6)).astype(np.float32)
    targets = rng.standard_normal((2, 3)).astype(np.float32)
    outcomes = []
    for lib in (gradienti, torch):
        lib.manual_seed(0)
        model = build(lib)
        prediction = model(lib.tensor(images))  # (materialises the lazy head)
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
        loss = lib.nn.functional.mse_loss(prediction, lib.tensor(targets))
        loss.backward()
        optimizer.step()
        outcomes.append(
            (repr(model), loss.item(), [p.detach().numpy().copy() for p in model.parameters()])
        )
    assert outcomes[0][0] == outcomes[1][0]
    assert outcomes[0][1] == pytest.approx(outcomes[1][1], rel=1e-5)
    for mine, theirs in zip(outcomes[0][2], outcomes[1][2]):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_hardsigmoid_forward_mode_and_second_order_match_torch_and_differences():
    """hardsigmoid is outside the op table (PyTorch has no double backward for it): its tangent
    against torch.func.jvp, and gradcheck/gradgradcheck of ours in float64."""
    array = np.array([-4.0, -2.5, -1.0, 0.5, 2.0, 2.9, 4.0])
    tangent = np.linspace(0.5, 1.5, 7)
    _, ours = gradienti.func.jvp(
        gradienti.nn.functional.hardsigmoid,
        (gradienti.tensor(array),),
        (gradienti.tensor(tangent),),
    )
    _, theirs = torch.func.jvp(
        torch.nn.functional.hardsigmoid, (torch.tensor(array),), (torch.tensor(tangent),)
    )
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)
    x = gradienti.tensor(array, requires_grad=True)
    assert gradienti.autograd.gradcheck(gradienti.nn.functional.hardsigmoid, (x,))
    assert gradienti.autograd.gradgradcheck(gradienti.nn.functional.hardsigmoid, (x,))


def test_nearest_upsampling_of_bytes_matches_torch():
    array = np.arange(16, dtype=np.uint8).reshape(1, 1, 4, 4)
    ours = gradienti.nn.functional.interpolate(gradienti.tensor(array), scale_factor=1.5)
    theirs = torch.nn.functional.interpolate(torch.tensor(array), scale_factor=1.5)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(NotImplementedError, match="no uint8 'bilinear' mode"):
        gradienti.nn.functional.interpolate(
            gradienti.tensor(array), scale_factor=2, mode="bilinear"
        )


def test_explain_tells_padding_and_upsampling():
    x = gradienti.tensor([[[1.0, 2.0, 3.0]]], requires_grad=True)
    padded = gradienti.nn.functional.pad(x, (1, 1), mode="reflect")
    text = str(gradienti.explain(gradienti.nn.functional.interpolate(padded, size=10).sum()))
    assert "reflection padding of the last axis (input 3)" in text
    assert "nearest-neighbour upsampling from 5 to 10" in text
    assert "[[[2, 6, 2]]]" in text  # the middle element was read three times, twice each


def test_area_mode_of_a_5d_input_is_refused_honestly():
    with pytest.raises(NotImplementedError, match="adaptive_avg_pool3d"):
        gradienti.nn.functional.interpolate(gradienti.ones(1, 1, 2, 2, 2), size=1, mode="area")
