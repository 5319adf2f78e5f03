"""RMSNorm, GroupNorm and InstanceNorm1d/2d/3d (and F.rms_norm, F.group_norm, F.instance_norm)
against torch: reprs, parameters and state_dict keys, outputs and gradients (a non-uniform
upstream gradient) after randomised affine parameters, running statistics over train steps
and eval, unbatched inputs, dtypes, warnings, and error classes and texts. The op table
(tests/op_cases_norms.py) holds the finite-difference and double-backward checks."""

import warnings

import numpy as np
import pytest
from torch_oracle import assert_close, copy_weights, to_g

import gradienti
import gradienti.nn as nn
import gradienti.nn.functional as F


@pytest.fixture
def torch():
    return pytest.importorskip("torch")  # the oracle


def randomize(torch, tmodule):
    with torch.no_grad():
        for parameter in tmodule.parameters():
            parameter.uniform_(-1.5, 1.5)


def step_and_compare(torch, gmodule, tmodule, x, tol=1e-5):
    """Forward and backward of both modules on ``x``: outputs and every gradient equal."""
    xt = x.clone().requires_grad_()
    xg = to_g(x, True)
    yt = tmodule(xt)
    yg = gmodule(xg)
    assert yg.dtype.name == str(yt.dtype).replace("torch.", "")
    assert_close(yg, yt, tol)
    upstream = torch.randn(yt.shape, dtype=yt.dtype)
    yt.backward(upstream)
    yg.backward(to_g(upstream))
    assert_close(xg.grad, xt.grad, tol)
    gparams = dict(gmodule.named_parameters())
    for name, tparam in tmodule.named_parameters():
        assert_close(gparams[name].grad, tparam.grad, tol)
    gmodule.zero_grad()
    tmodule.zero_grad()


def compare_buffers(gmodule, tmodule):
    gbuffers = dict(gmodule.named_buffers())
    assert sorted(gbuffers) == sorted(name for name, _ in tmodule.named_buffers())
    for name, tbuffer in tmodule.named_buffers():
        assert gbuffers[name].dtype.name == str(tbuffer.dtype).replace("torch.", "")
        assert_close(gbuffers[name], tbuffer, 1e-6)


def raises_as_torch(torch, ours, theirs):
    """Both calls raise the same exception class with the same text."""
    with pytest.raises(Exception) as expected:
        theirs()
    with pytest.raises(type(expected.value)) as got:
        ours()
    assert str(got.value) == str(expected.value)


# ---------------------------------------------------------------------- construction
CONSTRUCTIONS = [
    ("RMSNorm", (4,), {}),
    ("RMSNorm", ((2, 3),), {"eps": 1e-3, "elementwise_affine": False}),
    ("RMSNorm", ([3],), {"eps": 0.5}),
    ("GroupNorm", (2, 4), {}),
    ("GroupNorm", (3, 6), {"eps": 1e-3, "affine": False}),
    ("GroupNorm", (1, 4), {"bias": False}),
    ("InstanceNorm1d", (4,), {}),
    ("InstanceNorm2d", (3,), {"affine": True, "track_running_stats": True}),
    ("InstanceNorm3d", (2,), {"momentum": None, "eps": 1e-3, "affine": True, "bias": False}),
]


@pytest.mark.parametrize("name, args, kwargs", CONSTRUCTIONS)
def test_repr_parameters_and_state_dict_match_torch(torch, name, args, kwargs):
    ours = getattr(nn, name)(*args, **kwargs)
    theirs = getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    gstate = ours.state_dict()
    for key, value in theirs.state_dict().items():
        assert tuple(gstate[key].shape) == tuple(value.shape)
        assert_close(gstate[key], value, 0.0)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]


def test_module_paths_are_torchs(torch):
    assert nn.modules.normalization.RMSNorm is nn.RMSNorm
    assert nn.modules.normalization.GroupNorm is nn.GroupNorm
    assert nn.modules.instancenorm.InstanceNorm2d is nn.InstanceNorm2d
    assert set(nn.modules.instancenorm.__all__) <= set(torch.nn.modules.instancenorm.__all__)


def test_group_norm_channels_not_divisible_raises_as_torch(torch):
    raises_as_torch(torch, lambda: nn.GroupNorm(3, 4), lambda: torch.nn.GroupNorm(3, 4))


# ---------------------------------------------------------------------- forward and backward
LAYER_STEPS = [
    ("RMSNorm", (5,), {}, (2, 3, 5)),
    ("RMSNorm", ((3, 5),), {"eps": 1e-2}, (2, 3, 5)),
    ("RMSNorm", (5,), {"elementwise_affine": False}, (5,)),
    ("GroupNorm", (2, 4), {}, (3, 4, 5)),
    ("GroupNorm", (3, 6), {"bias": False}, (2, 6, 2, 3)),
    ("GroupNorm", (4, 4), {"affine": False}, (2, 4, 3)),
    ("InstanceNorm1d", (3,), {"affine": True}, (2, 3, 6)),
    ("InstanceNorm1d", (3,), {}, (3, 6)),  # unbatched
    ("InstanceNorm2d", (2,), {"affine": True}, (2, 2, 3, 4)),
    ("InstanceNorm3d", (2,), {"affine": True}, (2, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("name, args, kwargs, shape", LAYER_STEPS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layer_forward_and_gradients_match_torch(torch, name, args, kwargs, shape, dtype):
    torch.manual_seed(0)
    tdtype = getattr(torch, dtype)
    theirs = getattr(torch.nn, name)(*args, **kwargs, dtype=tdtype)
    randomize(torch, theirs)
    ours = getattr(nn, name)(*args, **kwargs, dtype=getattr(gradienti, dtype))
    copy_weights(ours, theirs)
    x = torch.randn(shape, dtype=tdtype) * 3 + 1
    step_and_compare(torch, ours, theirs, x, 1e-5 if dtype == "float32" else 1e-10)


@pytest.mark.parametrize(
    "name, shape", [("InstanceNorm1d", (2, 3, 5)), ("InstanceNorm2d", (3, 3, 2, 2))]
)
@pytest.mark.parametrize("momentum", [0.1, None])
def test_instance_norm_running_statistics_then_eval_match_torch(torch, name, shape, momentum):
    torch.manual_seed(1)
    kwargs = {"affine": True, "track_running_stats": True, "momentum": momentum}
    theirs = getattr(torch.nn, name)(3, **kwargs)
    randomize(torch, theirs)
    ours = getattr(nn, name)(3, **kwargs)
    copy_weights(ours, theirs)
    for _ in range(3):
        step_and_compare(torch, ours, theirs, torch.randn(shape) * 2 + 0.5)
        compare_buffers(ours, theirs)  # running stats move, num_batches_tracked stays 0
    theirs.eval()
    ours.eval()
    step_and_compare(torch, ours, theirs, torch.randn(shape))
    compare_buffers(ours, theirs)


def test_instance_norm_without_tracking_uses_input_statistics_in_eval(torch):
    x = torch.randn(2, 3, 4)
    theirs = torch.nn.InstanceNorm1d(3).eval()
    ours = nn.InstanceNorm1d(3).eval()
    step_and_compare(torch, ours, theirs, x)


def test_functional_instance_norm_updates_given_running_statistics(torch):
    x = torch.randn(4, 3, 5)
    tmean, tvar = torch.zeros(3), torch.ones(3)
    gmean, gvar = gradienti.zeros(3), gradienti.ones(3)
    yt = torch.nn.functional.instance_norm(x, tmean, tvar, momentum=0.3)
    yg = F.instance_norm(to_g(x), gmean, gvar, momentum=0.3)
    assert_close(yg, yt, 1e-5)
    assert_close(gmean, tmean, 1e-6)
    assert_close(gvar, tvar, 1e-6)
    # Running statistics normalise when input statistics are off.
    yt = torch.nn.functional.instance_norm(x, tmean, tvar, use_input_stats=False)
    yg = F.instance_norm(to_g(x), gmean, gvar, use_input_stats=False)
    assert_close(yg, yt, 1e-5)


def test_instance_norm_feature_mismatch_warns_without_affine_and_raises_with(torch):
    x = torch.randn(2, 3, 5)
    with warnings.catch_warnings(record=True) as tw:
        warnings.simplefilter("always")
        yt = torch.nn.InstanceNorm1d(4)(x)
    with warnings.catch_warnings(record=True) as gw:
        warnings.simplefilter("always")
        yg = nn.InstanceNorm1d(4)(to_g(x))
    assert [str(w.message) for w in gw] == [str(w.message) for w in tw]
    assert [w.category for w in gw] == [w.category for w in tw]
    assert_close(yg, yt, 1e-5)
    raises_as_torch(
        torch,
        lambda: nn.InstanceNorm1d(4, affine=True)(to_g(x)),
        lambda: torch.nn.InstanceNorm1d(4, affine=True)(x),
    )


@pytest.mark.parametrize(
    "name, shape",
    [("InstanceNorm1d", (2, 3, 4, 5)), ("InstanceNorm2d", (3, 4)), ("InstanceNorm3d", (2, 3))],
)
def test_instance_norm_wrong_rank_raises_as_torch(torch, name, shape):
    raises_as_torch(
        torch,
        lambda: getattr(nn, name)(3)(gradienti.zeros(shape)),
        lambda: getattr(torch.nn, name)(3)(torch.zeros(shape)),
    )


def test_instance_norm_one_spatial_element_raises_as_torch(torch):
    raises_as_torch(
        torch,
        lambda: nn.InstanceNorm1d(3)(gradienti.zeros(2, 3, 1)),
        lambda: torch.nn.InstanceNorm1d(3)(torch.zeros(2, 3, 1)),
    )


# ---------------------------------------------------------------------- functional forms
def test_rms_norm_half_computes_in_float32_and_returns_half(torch):
    x = torch.randn(3, 6).half()
    w = torch.rand(6).half() + 0.5
    yt = torch.nn.functional.rms_norm(x, (6,), w)
    yg = F.rms_norm(to_g(x), (6,), to_g(w))
    assert yg.dtype == gradienti.float16
    np.testing.assert_array_equal(yg.numpy(), yt.numpy())


def test_rms_norm_default_eps_is_the_dtype_epsilon(torch):
    # All-equal tiny inputs: the result depends on eps, which is finfo(dtype).eps.
    for dtype in ("float32", "float64"):
        x = torch.full((2, 4), 1e-5, dtype=getattr(torch, dtype))
        assert_close(F.rms_norm(to_g(x), [4]), torch.nn.functional.rms_norm(x, [4]), 1e-6)


ERRORS = [
    ("rms_norm", lambda lib, x: lib.nn.functional.rms_norm(x, (4,))),
    ("rms_norm", lambda lib, x: lib.nn.functional.rms_norm(x, (2, 5))),
    ("rms_norm", lambda lib, x: lib.nn.functional.rms_norm(x, (5,), lib.ones(4))),
    ("rms_norm", lambda lib, x: lib.nn.functional.rms_norm(x, [])),
    ("rms_norm", lambda lib, x: lib.nn.functional.rms_norm(x, 5)),
    ("rms_norm", lambda lib, x: lib.nn.functional.rms_norm(x.long(), (5,))),
    ("group_norm", lambda lib, x: lib.nn.functional.group_norm(x, 3)),
    ("group_norm", lambda lib, x: lib.nn.functional.group_norm(x, 2, lib.ones(3))),
    ("group_norm", lambda lib, x: lib.nn.functional.group_norm(x, 2, lib.ones(4), lib.ones(3))),
    ("group_norm", lambda lib, x: lib.nn.functional.group_norm(x, 2, None, lib.ones(5))),
    ("group_norm", lambda lib, x: lib.nn.functional.group_norm(x, 2, lib.ones(2, 2))),
    ("group_norm", lambda lib, x: lib.nn.functional.group_norm(x[0, 0], 1)),
    ("group_norm", lambda lib, x: lib.nn.functional.group_norm(lib.zeros(1, 2), 2)),
    ("group_norm", lambda lib, x: lib.nn.functional.group_norm(x.long(), 2)),
    ("group_norm", lambda lib, x: lib.nn.functional.group_norm(x, 0)),
    ("group_norm", lambda lib, x: lib.group_norm(x, 0)),
    ("group_norm", lambda lib, x: lib.group_norm(x[0, 0], 1)),
    ("group_norm", lambda lib, x: lib.nn.functional.group_norm(x.double(), 2, lib.ones(4))),
    (
        "group_norm",
        lambda lib, x: lib.nn.functional.group_norm(
            x, 2, lib.ones(4), lib.ones(4, dtype=lib.float64)
        ),
    ),
    ("instance_norm", lambda lib, x: lib.nn.functional.instance_norm(x[:, :, :1])),
    (
        "instance_norm",
        lambda lib, x: lib.nn.functional.instance_norm(x, use_input_stats=False),
    ),
    (
        "instance_norm",
        lambda lib, x: lib.nn.functional.instance_norm(x, lib.zeros(3), lib.ones(3)),
    ),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_bad_input_raises_as_torch(torch, index):
    _, call = ERRORS[index]
    x = np.random.default_rng(index).standard_normal((2, 4, 5)).astype(np.float32)
    raises_as_torch(
        torch, lambda: call(gradienti, gradienti.tensor(x)), lambda: call(torch, torch.tensor(x))
    )


def test_failed_instance_norm_changes_no_running_statistics(torch):
    mean, var = gradienti.zeros(3), gradienti.ones(3)
    with pytest.raises(RuntimeError):
        F.instance_norm(gradienti.randn(2, 4, 5), mean, var)
    assert mean.tolist() == [0.0] * 3 and var.tolist() == [1.0] * 3


def test_group_norm_empty_batch_matches_torch(torch):
    yt = torch.nn.functional.group_norm(torch.zeros(0, 4, 3), 2)
    yg = F.group_norm(gradienti.zeros(0, 4, 3), 2)
    assert tuple(yg.shape) == tuple(yt.shape)
