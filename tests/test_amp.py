"""Mixed precision on gradienti's CPU against PyTorch 2.13 (CPU build): autocast's arguments,
checks, warnings and state (it casts nothing here, and says so once), the CUDA spellings that
disable themselves, and GradScaler disabled (pass-through) and enabled on "cpu" (scaling,
unscaling, skipped steps, scale growth and backoff, state_dict, errors)."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import gradienti
from gradienti.amp import autocast_mode

torch = pytest.importorskip("torch")

# The one-time "casts nothing" note of the first enabled region; tests that check it record it.
pytestmark = pytest.mark.filterwarnings("ignore:gradienti.s autocast casts nothing")


def _warnings_of(call):
    """(category, text) of each warning ``call`` gives, gradienti's nothing-is-cast note aside."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    seen = [
        (w.category, str(w.message))
        for w in caught
        if not str(w.message).startswith("gradienti's autocast casts nothing")
    ]
    return seen, result


def _raised(call):
    with pytest.raises(Exception) as info:
        call()
    return type(info.value), str(info.value)


@pytest.mark.parametrize(
    "path",
    ["autocast", "amp.autocast", "cuda.amp.autocast", "amp.GradScaler", "cuda.amp.GradScaler"],
)
def test_signatures_are_pytorchs(path):
    ours, theirs = gradienti, torch
    for part in path.split("."):
        ours, theirs = getattr(ours, part), getattr(theirs, part)
    ours_params = inspect.signature(ours.__init__).parameters
    theirs_params = inspect.signature(theirs.__init__).parameters
    assert list(ours_params) == list(theirs_params)
    for name, param in ours_params.items():
        assert repr(param.default) == repr(theirs_params[name].default), name


def test_torch_autocast_is_amp_autocast():
    assert gradienti.autocast is gradienti.amp.autocast


def test_cuda_autocast_is_disabled_with_pytorchs_warning():
    ours_warnings, ours = _warnings_of(lambda: gradienti.autocast("cuda"))
    theirs_warnings, theirs = _warnings_of(lambda: torch.autocast("cuda"))
    assert ours_warnings == theirs_warnings
    assert ours_warnings == [
        (UserWarning, "CUDA is not available or torch_xla is imported. Disabling autocast.")
    ]
    assert ours._enabled is theirs._enabled is False
    assert repr(ours.fast_dtype) == repr(theirs.fast_dtype) == "torch.float16"
    with ours as entered:
        assert entered is ours
        assert gradienti.is_autocast_enabled("cuda") is False


@pytest.mark.parametrize("dtype", [None, "float16", "bfloat16"])
def test_cpu_autocast_region_state(dtype):
    ours = gradienti.autocast("cpu", dtype=dtype and getattr(gradienti, dtype))
    theirs = torch.autocast("cpu", dtype=dtype and getattr(torch, dtype))
    assert repr(ours.fast_dtype) == repr(theirs.fast_dtype)
    with ours, theirs:
        assert gradienti.is_autocast_enabled("cpu") is torch.is_autocast_enabled("cpu") is True
        assert repr(gradienti.get_autocast_dtype("cpu")) == repr(torch.get_autocast_dtype("cpu"))
    assert gradienti.is_autocast_enabled("cpu") is torch.is_autocast_enabled("cpu") is False


def test_nested_regions_restore_the_outer_state():
    with gradienti.autocast("cpu"):
        with gradienti.autocast("cpu", enabled=False):
            assert gradienti.is_autocast_enabled("cpu") is False
        assert gradienti.is_autocast_enabled("cpu") is True
    assert gradienti.is_autocast_enabled("cpu") is False
    assert gradienti.is_autocast_enabled() is torch.is_autocast_enabled() is False


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64"])
def test_cpu_autocast_refuses_other_dtypes_as_pytorch(dtype):
    ours_warnings, ours = _warnings_of(lambda: gradienti.autocast("cpu", getattr(gradienti, dtype)))
    theirs_warnings, theirs = _warnings_of(lambda: torch.autocast("cpu", getattr(torch, dtype)))
    assert ours_warnings == theirs_warnings and len(ours_warnings) == 1
    assert ours._enabled is theirs._enabled is False


@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.autocast(3),
        lambda lib: lib.autocast("foo"),
        lambda lib: lib.autocast("opengl"),
        lambda lib: lib.autocast("cpu")(42),
    ],
)
def test_bad_arguments_raise_as_pytorch(make):
    assert _raised(lambda: make(gradienti)) == _raised(lambda: make(torch))


@pytest.mark.parametrize("device_type", ["mps", "xpu", "hpu", "cpu:0", "cuda:0"])
def test_other_device_types_choose_pytorchs_dtype(device_type):
    ours_warnings, ours = _warnings_of(lambda: gradienti.autocast(device_type))
    theirs_warnings, theirs = _warnings_of(lambda: torch.autocast(device_type))
    assert ours_warnings == theirs_warnings
    assert repr(ours.fast_dtype) == repr(theirs.fast_dtype)
    assert ours._enabled is theirs._enabled


def test_autocast_computes_in_the_tensors_own_dtype_and_says_so_once(monkeypatch):
    monkeypatch.setattr(autocast_mode, "_warned_nothing_is_cast", False)
    a = gradienti.tensor([[1.0, 2.0], [3.0, 4.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with gradienti.autocast("cpu"):
            product = a @ a
        with gradienti.autocast("cpu"):
            pass
    notes = [w for w in caught if "casts nothing" in str(w.message)]
    assert len(notes) == 1 and notes[0].category is UserWarning
    assert product.dtype is gradienti.float32
    assert product.tolist() == (a @ a).tolist()
    assert "casts nothing" in gradienti.autocast.__doc__ + autocast_mode.__doc__


def test_autocast_as_a_decorator():
    @gradienti.autocast("cpu")
    def inside(x):
        """Doubles."""
        return x * 2, gradienti.is_autocast_enabled("cpu")

    result, enabled = inside(gradienti.tensor(1.5))
    assert enabled is True and result.item() == 3.0
    assert inside.__name__ == "inside" and inside.__doc__ == "Doubles."
    assert gradienti.is_autocast_enabled("cpu") is False


def test_cuda_amp_autocast_warns_twice_as_pytorch():
    ours_warnings, ours = _warnings_of(lambda: gradienti.cuda.amp.autocast())
    theirs_warnings, theirs = _warnings_of(lambda: torch.cuda.amp.autocast())
    assert ours_warnings == theirs_warnings
    assert [category for category, _ in ours_warnings] == [FutureWarning, UserWarning]
    assert ours._enabled is theirs._enabled is False


# ------------------------------------------------------------------------------ GradScaler
@pytest.mark.parametrize(
    "make",
    [
        lambda lib: lib.cuda.amp.GradScaler(),
        lambda lib: lib.cuda.amp.GradScaler(enabled=False),
        lambda lib: lib.amp.GradScaler(),
        lambda lib: lib.amp.GradScaler("cuda", enabled=False),
    ],
)
def test_cuda_scalers_warn_and_disable_as_pytorch(make):
    ours_warnings, ours = _warnings_of(lambda: make(gradienti))
    theirs_warnings, theirs = _warnings_of(lambda: make(torch))
    assert ours_warnings == theirs_warnings
    assert ours.is_enabled() is theirs.is_enabled() is False
    assert ours.get_scale() == theirs.get_scale() == 1.0
    assert ours.state_dict() == theirs.state_dict() == {}
    assert ours._get_growth_tracker() == theirs._get_growth_tracker() == 0


def test_the_cuda_scaler_warning_text():
    ours_warnings, _ = _warnings_of(lambda: gradienti.cuda.amp.GradScaler())
    assert ours_warnings == [
        (
            FutureWarning,
            "`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
            "`torch.amp.GradScaler('cuda', args...)` instead.",
        ),
        (
            UserWarning,
            "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling.",
        ),
    ]


def _model_and_optimizer(lib, weights, lr=0.1):
    model = lib.nn.Linear(3, 1)
    with lib.no_grad():
        model.weight.copy_(lib.tensor([weights[:3]]))
        model.bias.copy_(lib.tensor([weights[3]]))
    return model, lib.optim.SGD(model.parameters(), lr=lr, momentum=0.9)


X = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [-0.3, 0.8, 0.1]]
START = [0.2, -0.4, 0.7, 0.05]


def test_a_disabled_scaler_passes_through():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scaler = gradienti.amp.GradScaler()
    model, optimizer = _model_and_optimizer(gradienti, START)
    loss = model(gradienti.tensor(X)).pow(2).mean()
    assert scaler.scale(loss) is loss
    pair = [loss, loss]
    assert scaler.scale(pair) is pair
    loss.backward()
    grads = [p.grad.tolist() for p in model.parameters()]
    assert scaler.unscale_(optimizer) is None
    assert [p.grad.tolist() for p in model.parameters()] == grads
    calls = []
    optimizer.step = lambda *args, **kwargs: calls.append((args, kwargs)) or "stepped"
    assert scaler.step(optimizer, 1, key=2) == "stepped" and calls == [((1,), {"key": 2})]
    assert scaler.update() is None and scaler.update(4.0) is None
    scaler.load_state_dict({"scale": 8.0})
    assert scaler.get_scale() == 1.0 and scaler.state_dict() == {}


def _train(lib, scaler_kwargs, losses_scale, steps=6, clip=None):
    """A small loop as the AMP recipe writes it; ``losses_scale[i]`` multiplies step i's loss
    (``inf`` makes its gradients non-finite, so the scaler skips that step)."""
    scaler = lib.amp.GradScaler("cpu", **scaler_kwargs)
    model, optimizer = _model_and_optimizer(lib, START)
    x = lib.tensor(X)
    history = []
    for step in range(steps):
        optimizer.zero_grad()
        loss = model(x).pow(2).mean() * losses_scale[step]
        scaled = scaler.scale(loss)
        scaled.backward()
        if clip is not None:
            scaler.unscale_(optimizer)
            lib.nn.utils.clip_grad_norm_(model.parameters(), clip)
        scaler.step(optimizer)
        scaler.update()
        history.append(
            (
                scaled.item(),
                scaler.get_scale(),
                scaler.state_dict(),
                [p.detach().tolist() for p in model.parameters()],
            )
        )
    return history


@pytest.mark.parametrize(
    ("scaler_kwargs", "losses_scale", "clip"),
    [
        ({}, [1.0] * 6, None),
        ({"init_scale": 1024.0, "growth_interval": 2}, [1.0] * 6, None),
        ({"init_scale": 8.0, "growth_interval": 2}, [1.0, float("inf"), 1.0, 1.0, 1.0, 1.0], 1.0),
        (
            {"backoff_factor": 0.3, "growth_factor": 3.0, "growth_interval": 1},
            [1, 1e40, 1, 1, 1, 1],
            None,
        ),
    ],
)
def test_an_enabled_cpu_scaler_trains_as_pytorchs(scaler_kwargs, losses_scale, clip):
    ours = _train(gradienti, scaler_kwargs, losses_scale, clip=clip)
    theirs = _train(torch, scaler_kwargs, losses_scale, clip=clip)
    for (o_scaled, o_scale, o_state, o_params), (t_scaled, t_scale, t_state, t_params) in zip(
        ours, theirs
    ):
        assert o_scale == t_scale and o_state == t_state
        if np.isfinite(t_scaled):
            np.testing.assert_allclose(o_scaled, t_scaled, rtol=1e-6)
        for o, t in zip(o_params, t_params):
            np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-7)


def test_an_enabled_scaler_state_dict_round_trip():
    ours = gradienti.amp.GradScaler("cpu", init_scale=4.0)
    theirs = torch.amp.GradScaler("cpu", init_scale=4.0)
    assert ours.state_dict() == theirs.state_dict()
    state = {"scale": 32.0, "growth_factor": 3.0, "backoff_factor": 0.25,
             "growth_interval": 7, "_growth_tracker": 2}  # fmt: skip
    ours.load_state_dict(dict(state))
    theirs.load_state_dict(dict(state))
    assert ours.state_dict() == theirs.state_dict() == state
    assert ours.get_scale() == theirs.get_scale() == 32.0
    assert _raised(lambda: ours.load_state_dict({})) == _raised(lambda: theirs.load_state_dict({}))


@pytest.mark.parametrize(
    "misuse",
    [
        lambda lib, s, opt, loss: lib.amp.GradScaler("cpu", growth_factor=1.0),
        lambda lib, s, opt, loss: lib.amp.GradScaler("cpu", backoff_factor=1.0),
        lambda lib, s, opt, loss: s.unscale_(opt),
        lambda lib, s, opt, loss: s.update(),
        lambda lib, s, opt, loss: s.step(opt),
        lambda lib, s, opt, loss: (s.scale(loss), s.update()),
        lambda lib, s, opt, loss: (s.scale(loss).backward(), s.unscale_(opt), s.unscale_(opt)),
        lambda lib, s, opt, loss: (s.scale(loss).backward(), s.step(opt), s.step(opt)),
        lambda lib, s, opt, loss: (s.scale(loss).backward(), s.step(opt), s.unscale_(opt)),
        lambda lib, s, opt, loss: (s.scale(loss), s.step(opt, closure=None)),
        lambda lib, s, opt, loss: s.scale([loss, 3]),
    ],
)
def test_misuse_raises_as_pytorch(misuse):
    def run(lib):
        scaler = lib.amp.GradScaler("cpu")
        model, optimizer = _model_and_optimizer(lib, START)
        loss = model(lib.tensor(X)).sum()
        return _raised(lambda: misuse(lib, scaler, optimizer, loss))

    assert run(gradienti) == run(torch)


def test_scaling_nested_outputs():
    ours = gradienti.amp.GradScaler("cpu", init_scale=4.0)
    theirs = torch.amp.GradScaler("cpu", init_scale=4.0)
    o = ours.scale((gradienti.tensor(1.5), [gradienti.tensor(2.0)]))
    t = theirs.scale((torch.tensor(1.5), [torch.tensor(2.0)]))
    assert type(o) is type(t) is tuple and type(o[1]) is type(t[1]) is list
    assert o[0].item() == t[0].item() and o[1][0].item() == t[1][0].item()


# ---------------------------------------------------------------- custom_fwd / custom_bwd
def test_bf16_is_not_supported_without_cuda():
    assert gradienti.cuda.is_bf16_supported() is torch.cuda.is_bf16_supported() is False


@pytest.mark.parametrize("device_type", ["cpu", "cuda", "mps", "xla", "meta", "opengl", "cuda:0"])
def test_is_autocast_available_as_pytorch(device_type):
    ours = gradienti.amp.is_autocast_available(device_type)
    assert ours is torch.amp.is_autocast_available(device_type)


def _scaled_function(lib, cast_inputs):
    class Scale(lib.autograd.Function):
        @staticmethod
        @lib.amp.custom_fwd(device_type="cpu", cast_inputs=cast_inputs)
        def forward(ctx, x, factor):
            ctx.factor = factor
            ctx.seen = (repr(x.dtype), lib.is_autocast_enabled("cpu"))
            return x * factor

        @staticmethod
        @lib.amp.custom_bwd(device_type="cpu")
        def backward(ctx, grad):
            ctx.in_backward = lib.is_autocast_enabled("cpu")
            return grad * ctx.factor, None

    return Scale


@pytest.mark.parametrize("inside", [False, True])
@pytest.mark.parametrize("cast_inputs", [None, "float32"])
def test_custom_fwd_and_bwd_as_pytorch(inside, cast_inputs):
    def run(lib):
        function = _scaled_function(lib, cast_inputs and getattr(lib, cast_inputs))
        x = lib.tensor([1.0, -2.0], dtype=lib.float16, requires_grad=True)
        with lib.autocast("cpu", dtype=lib.float16, enabled=inside):
            y = function.apply(x, 3.0)
        node = y.grad_fn
        y.backward(lib.tensor([1.0, 0.5], dtype=y.dtype))
        return node.seen, node._fwd_used_autocast, node.in_backward, repr(x.grad.dtype)

    assert run(gradienti) == run(torch)


def test_custom_fwd_needs_a_string_device_type():
    def raised(lib):
        with pytest.raises(Exception) as info:
            lib.amp.custom_fwd(lambda ctx, x: x, device_type=3)
        return type(info.value), str(info.value)

    assert raised(gradienti) == raised(torch)


def test_cuda_amp_imports_as_a_module_as_in_pytorch():
    """``from torch.cuda.amp import GradScaler`` (older tutorials) imports as PyTorch's does."""
    from gradienti.cuda.amp import GradScaler, autocast

    assert GradScaler is gradienti.cuda.amp.GradScaler and autocast is gradienti.cuda.amp.autocast
