"""gradienti.nn against torch.nn: Parameter, Module API, containers, layers, init."""

import io
import math

import numpy as np
import pytest
from torch_oracle import assert_close, copy_weights, to_g

import gradienti
import gradienti.nn as nn
import gradienti.nn.functional as F

torch = pytest.importorskip("torch")  # the oracle (these tests compare with PyTorch)


def close(g, t, tol=1e-6):
    assert_close(g, t, tol)


# ---------------------------------------------------------------------- Parameter
def test_parameter_basics_and_repr():
    p = nn.Parameter(gradienti.tensor([1.0, 2.0]))
    tp = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    assert repr(p) == repr(tp)
    assert isinstance(p, gradienti.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    q = nn.Parameter(gradienti.tensor([1.0]), requires_grad=False)
    assert not q.requires_grad
    assert repr(q) == repr(torch.nn.Parameter(torch.tensor([1.0]), requires_grad=False))
    y = (p * p).sum() + p @ gradienti.tensor([1.0, 1.0])
    y.backward()
    close(p.grad, torch.tensor([3.0, 5.0]))
    assert nn.Parameter().shape == (0,)


def test_parameter_shares_memory():
    t = gradienti.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    with gradienti.no_grad():
        p.mul_(2)
    assert t.tolist() == [2.0, 4.0]


def test_parameter_integer_rejected():
    with pytest.raises(RuntimeError, match="floating point"):
        nn.Parameter(gradienti.tensor([1, 2]))
    assert not nn.Parameter(gradienti.tensor([1, 2]), requires_grad=False).requires_grad


def test_parameter_with_sgd():
    p = nn.Parameter(gradienti.tensor([1.0, -2.0]))
    opt = gradienti.optim.SGD([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    close(p, torch.tensor([0.8, -1.6]))
    assert isinstance(p, nn.Parameter)


def test_state_dict_save_load_roundtrip():
    m = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    buf = io.BytesIO()
    gradienti.save(m.state_dict(), buf)
    buf.seek(0)
    sd = gradienti.load(buf)
    m2 = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    result = m2.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    for (k1, v1), (k2, v2) in zip(m.state_dict().items(), m2.state_dict().items()):
        assert k1 == k2 and np.array_equal(v1.numpy(), v2.numpy())
    assert all(isinstance(p, nn.Parameter) for p in m2.parameters())


# ---------------------------------------------------------------------- Module API
class GNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 3)
        self.act = nn.ReLU()
        self.block = nn.Sequential(nn.Linear(3, 3), nn.Tanh())
        self.fc2 = nn.Linear(3, 1, bias=False)
        self.register_buffer("running", gradienti.zeros(3))
        self.register_buffer("scratch", gradienti.zeros(1), persistent=False)

    def forward(self, x):
        return self.fc2(self.block(self.act(self.fc1(x))))


class TNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = torch.nn.Linear(2, 3)
        self.act = torch.nn.ReLU()
        self.block = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.Tanh())
        self.fc2 = torch.nn.Linear(3, 1, bias=False)
        self.register_buffer("running", torch.zeros(3))
        self.register_buffer("scratch", torch.zeros(1), persistent=False)

    def forward(self, x):
        return self.fc2(self.block(self.act(self.fc1(x))))


GNet.__name__ = TNet.__name__ = "Net"


def test_names_and_order_match_torch():
    g, t = GNet(), TNet()
    assert [n for n, _ in g.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in g.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in g.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in g.named_children()] == [n for n, _ in t.named_children()]
    assert list(g.state_dict()) == list(t.state_dict())
    assert [n for n, _ in g.named_parameters(prefix="m", recurse=False)] == [
        n for n, _ in t.named_parameters(prefix="m", recurse=False)
    ]
    assert len(list(g.parameters())) == 5
    assert len(list(g.modules())) == len(list(t.modules()))
    assert len(list(g.children())) == 3 + 0 + 1  # fc1, act, block, fc2


def test_repr_matches_torch():
    assert repr(GNet()) == repr(TNet())
    g = nn.Sequential(
        nn.Flatten(),
        nn.Linear(4, 8),
        nn.LeakyReLU(0.2),
        nn.GELU(),
        nn.GELU("tanh"),
        nn.SiLU(),
        nn.ELU(),
        nn.Softplus(),
        nn.Softmax(dim=1),
        nn.LogSoftmax(1),
        nn.Sigmoid(),
        nn.Identity(),
        nn.ReLU(inplace=True),
        nn.Linear(8, 2, bias=False),
    )
    tn = torch.nn
    t = tn.Sequential(
        tn.Flatten(),
        tn.Linear(4, 8),
        tn.LeakyReLU(0.2),
        tn.GELU(),
        tn.GELU("tanh"),
        tn.SiLU(),
        tn.ELU(),
        tn.Softplus(),
        tn.Softmax(dim=1),
        tn.LogSoftmax(1),
        tn.Sigmoid(),
        tn.Identity(),
        tn.ReLU(inplace=True),
        tn.Linear(8, 2, bias=False),
    )
    assert repr(g) == repr(t)
    gl = nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()])
    tl = tn.ModuleList([tn.Linear(2, 2), tn.Linear(2, 2), tn.ReLU()])
    assert repr(gl) == repr(tl)
    gd = nn.ModuleDict({"a": nn.Linear(1, 2), "b": nn.ModuleList([nn.Tanh()])})
    td = tn.ModuleDict({"a": tn.Linear(1, 2), "b": tn.ModuleList([tn.Tanh()])})
    assert repr(gd) == repr(td)
    assert repr(nn.MSELoss()) == repr(tn.MSELoss())
    assert repr(nn.CrossEntropyLoss()) == repr(tn.CrossEntropyLoss())


def test_no_duplicate_parameters_when_shared():
    lin = nn.Linear(2, 2)
    m = nn.Sequential(lin, lin)
    assert len(list(m.parameters())) == 2
    assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias"]
    tl = torch.nn.Linear(2, 2)
    assert list(m.state_dict()) == list(torch.nn.Sequential(tl, tl).state_dict())


def test_setattr_getattr_delattr():
    m = nn.Module()
    m.w = nn.Parameter(gradienti.ones(2))
    m.sub = nn.Linear(1, 1)
    m.plain = 3
    assert "w" in m._parameters and "sub" in m._modules and m.plain == 3
    with pytest.raises(TypeError, match="cannot assign"):
        m.w = gradienti.ones(2)
    m.w = None
    assert m.w is None and list(m.named_parameters())[0][0] == "sub.weight"
    del m.sub
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'sub'"):
        _ = m.sub
    m.register_buffer("b", gradienti.zeros(1))
    m.b = gradienti.ones(1)
    assert m.b.tolist() == [1.0]
    with pytest.raises(TypeError):
        m.b = 3
    m.add_module("child", nn.ReLU())
    m.register_module("child2", nn.ReLU())
    assert [n for n, _ in m.named_children()] == ["child", "child2"]
    with pytest.raises(KeyError):
        m.register_parameter("a.b", None)


def test_state_dict_values_detached_and_shared():
    m = nn.Linear(2, 2)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad and sd["weight"].grad_fn is None
    with gradienti.no_grad():
        sd["weight"].fill_(7.0)
    assert m.weight.tolist() == [[7.0, 7.0], [7.0, 7.0]]
    kv = m.state_dict(keep_vars=True)
    assert kv["weight"] is m.weight


def test_load_state_dict_errors_match_torch():
    g, t = GNet(), TNet()
    sd_t = {k: v for k, v in t.state_dict().items() if k != "fc1.bias"}
    sd_t["extra"] = torch.zeros(1)
    sd_t["block.5.weight"] = torch.zeros(1)
    sd_g = {k: to_g(v) for k, v in sd_t.items()}
    with pytest.raises(RuntimeError) as te:
        t.load_state_dict(sd_t)
    with pytest.raises(RuntimeError) as ge:
        g.load_state_dict(sd_g)
    assert str(ge.value) == str(te.value)
    rt = t.load_state_dict(sd_t, strict=False)
    rg = g.load_state_dict(sd_g, strict=False)
    assert rg.missing_keys == rt.missing_keys == ["fc1.bias"]
    assert rg.unexpected_keys == rt.unexpected_keys
    assert repr(rg) == repr(rt)

    bad_t = dict(t.state_dict())
    bad_t["fc1.weight"] = torch.zeros(4, 2)
    with pytest.raises(RuntimeError) as te:
        t.load_state_dict(bad_t)
    with pytest.raises(RuntimeError) as ge:
        g.load_state_dict({k: to_g(v) for k, v in bad_t.items()})
    assert str(ge.value) == str(te.value)


def test_load_state_dict_copies_in_place():
    g, t = GNet(), TNet()
    w = g.fc1.weight
    result = copy_weights(g, t)
    assert g.fc1.weight is w and w.requires_grad and w.grad_fn is None
    assert type(result).__name__ == "_IncompatibleKeys"
    assert result == (([], []))
    for k, v in t.state_dict().items():
        close(g.state_dict()[k], v)


def test_train_eval_flags():
    g = GNet()
    assert g.training and all(m.training for m in g.modules())
    assert g.eval() is g
    assert not any(m.training for m in g.modules())
    g.train()
    assert all(m.training for m in g.modules())
    g.block.train(False)
    assert g.training and not g.block[0].training
    with pytest.raises(ValueError):
        g.train("yes")


def test_forward_hooks():
    g = nn.Linear(2, 2)
    calls = []

    def pre(mod, args):
        calls.append("pre")
        return (args[0] * 2,)

    def post(mod, args, out):
        calls.append("post")
        return out + 1

    h1 = g.register_forward_pre_hook(pre)
    h2 = g.register_forward_hook(post)
    x = gradienti.ones(1, 2)
    y = g(x)
    expected = F.linear(x * 2, g.weight, g.bias) + 1
    close(y, torch.tensor(expected.detach().numpy()))
    assert calls == ["pre", "post"]
    h1.remove()
    h2.remove()
    close(g(x), torch.tensor(F.linear(x, g.weight, g.bias).detach().numpy()))
    assert calls == ["pre", "post"]
    seen = []
    g.register_forward_hook(lambda m, a, kw, o: seen.append(kw), with_kwargs=True)
    g(x)
    assert seen == [{}]


def test_forward_not_implemented():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def test_zero_grad_and_requires_grad():
    g = GNet()
    g(gradienti.ones(2, 2)).sum().backward()
    assert g.fc1.weight.grad is not None
    g.zero_grad(set_to_none=False)
    assert g.fc1.weight.grad.tolist() == [[0.0, 0.0]] * 3
    g.zero_grad()
    assert all(p.grad is None for p in g.parameters())
    g.requires_grad_(False)
    assert not any(p.requires_grad for p in g.parameters())


def test_apply_to_double():
    g = GNet()
    names = []
    g.apply(lambda m: names.append(type(m).__name__))
    assert names == [type(m).__name__ for m in TNet().modules()][::-1][:0] or names[-1] == "Net"
    assert names == ["Linear", "ReLU", "Linear", "Tanh", "Sequential", "Linear", "Net"]
    g.double()
    assert all(p.dtype == gradienti.float64 for p in g.parameters())
    assert all(isinstance(p, nn.Parameter) for p in g.parameters())
    assert g.running.dtype == gradienti.float64
    y = g(gradienti.ones(1, 2, dtype=gradienti.float64))
    assert y.dtype == gradienti.float64
    g.float()
    assert g.fc1.weight.dtype == gradienti.float32
    g.to(gradienti.float64)
    assert g.fc1.weight.dtype == gradienti.float64
    assert g.cpu() is g


# ---------------------------------------------------------------------- containers
def test_sequential_indexing():
    a, b, c = nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1)
    s = nn.Sequential(a, b)
    assert len(s) == 2 and s[0] is a and s[-1] is b and list(s) == [a, b]
    s.append(c)
    assert s[2] is c and len(s) == 3
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    with pytest.raises(IndexError):
        s[3]
    from collections import OrderedDict

    named = nn.Sequential(OrderedDict([("lin", a), ("act", b)]))
    assert named.lin is a and [n for n, _ in named.named_children()] == ["lin", "act"]


def test_modulelist_and_moduledict():
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(ml) == 3 and len(list(ml.parameters())) == 6
    ml.append(nn.ReLU())
    ml.extend([nn.Tanh()])
    assert len(ml) == 5 and isinstance(ml[-1], nn.Tanh)
    md = nn.ModuleDict({"x": nn.Linear(1, 1)})
    md["y"] = nn.ReLU()
    assert list(md.keys()) == ["x", "y"] and "x" in md and len(md) == 2
    assert [n for n, _ in md.named_parameters()] == ["x.weight", "x.bias"]


# ---------------------------------------------------------------------- layers
def test_linear_init_bounds():
    lin = nn.Linear(16, 8)
    bound = 1 / math.sqrt(16)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert w.shape == (8, 16) and b.shape == (8,)
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert w.std() > bound / 4
    assert lin.weight.dtype == gradienti.float32
    assert nn.Linear(2, 3, bias=False).bias is None


def test_mlp_forward_backward_matches_torch():
    torch.manual_seed(0)
    t = torch.nn.Sequential(
        torch.nn.Linear(5, 7),
        torch.nn.ReLU(),
        torch.nn.Linear(7, 4),
        torch.nn.Tanh(),
        torch.nn.Linear(4, 3),
    )
    g = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 4), nn.Tanh(), nn.Linear(4, 3))
    copy_weights(g, t)
    x = torch.randn(6, 5)
    yt = t(x)
    yg = g(to_g(x))
    close(yg, yt, 1e-5)
    (yt**2).sum().backward()
    (yg**2).sum().backward()
    for (_, pg), (_, pt) in zip(g.named_parameters(), t.named_parameters()):
        close(pg.grad, pt.grad, 1e-5)


ACTIVATIONS = [
    ("ReLU", (), {}),
    ("LeakyReLU", (0.1,), {}),
    ("GELU", (), {}),
    ("GELU", (), {"approximate": "tanh"}),
    ("SiLU", (), {}),
    ("Tanh", (), {}),
    ("Sigmoid", (), {}),
    ("Softmax", (), {"dim": 1}),
    ("LogSoftmax", (), {"dim": -1}),
    ("ELU", (), {"alpha": 0.7}),
    ("Softplus", (), {}),
    ("Softplus", (), {"beta": 2.0, "threshold": 1.0}),
    ("Identity", (), {}),
    ("Flatten", (), {}),
    ("LogSigmoid", (), {}),
    ("Hardtanh", (-0.5, 0.5), {}),
]


@pytest.mark.parametrize("name,args,kwargs", ACTIVATIONS)
def test_activation_modules_match_torch(name, args, kwargs):
    torch.manual_seed(1)
    x = torch.randn(4, 5, dtype=torch.float64) * 3
    xt = x.clone().requires_grad_()
    xg = to_g(x).requires_grad_()
    mt = getattr(torch.nn, name)(*args, **kwargs)
    mg = getattr(nn, name)(*args, **kwargs)
    assert repr(mg) == repr(mt)
    yt, yg = mt(xt), mg(xg)
    close(yg, yt, 1e-10)
    w = torch.randn(yt.shape, dtype=torch.float64)
    (yt * w).sum().backward()
    (yg * to_g(w)).sum().backward()
    close(xg.grad, xt.grad, 1e-10)


def test_functional_activations_match_torch():
    x = torch.linspace(-3, 3, 13, dtype=torch.float64)
    xg = to_g(x)
    tf = torch.nn.functional
    for name in [
        "relu",
        "relu6",
        "gelu",
        "silu",
        "elu",
        "softplus",
        "logsigmoid",
        "hardtanh",
        "tanh",
        "sigmoid",
        "leaky_relu",
    ]:
        close(getattr(F, name)(xg), getattr(tf, name)(x), 1e-12)
    close(F.softmax(xg, dim=0), tf.softmax(x, dim=0), 1e-12)
    close(F.log_softmax(xg, dim=0), tf.log_softmax(x, dim=0), 1e-12)
    w, b = torch.randn(3, 13, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    close(F.linear(xg, to_g(w), to_g(b)), tf.linear(x, w, b), 1e-12)
    close(F.linear(xg, to_g(w)), tf.linear(x, w), 1e-12)


# ---------------------------------------------------------------------- init
def test_calculate_gain_matches_torch():
    for nl, p in [
        ("linear", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("selu", None),
        ("conv2d", None),
    ]:
        assert nn.init.calculate_gain(nl, p) == torch.nn.init.calculate_gain(nl, p)
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        nn.init.calculate_gain("foo")


def test_init_functions():
    w = gradienti.empty(200, 300)
    nn.init.zeros_(w)
    assert not w.numpy().any()
    nn.init.ones_(w)
    assert (w.numpy() == 1).all()
    nn.init.constant_(w, 0.5)
    assert (w.numpy() == 0.5).all()
    nn.init.uniform_(w, -2, 3)
    assert w.numpy().min() >= -2 and w.numpy().max() <= 3
    nn.init.normal_(w, 1.0, 0.1)
    assert abs(w.numpy().mean() - 1.0) < 0.01 and abs(w.numpy().std() - 0.1) < 0.01
    bound = math.sqrt(6 / 500)
    nn.init.xavier_uniform_(w)
    assert np.abs(w.numpy()).max() <= bound and w.numpy().std() > bound / 2
    nn.init.xavier_normal_(w, gain=2.0)
    assert abs(w.numpy().std() - 2 * math.sqrt(2 / 500)) < 0.01
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    assert np.abs(w.numpy()).max() <= math.sqrt(6 / 300)
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert abs(w.numpy().std() - math.sqrt(2 / 200)) < 0.005
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        nn.init.xavier_uniform_(gradienti.empty(3))
    p = nn.Parameter(gradienti.empty(3, 4))
    nn.init.kaiming_uniform_(p, a=math.sqrt(5))
    assert p.requires_grad and p.grad_fn is None
    q = gradienti.empty(4, 6)
    nn.init.orthogonal_(q)
    np.testing.assert_allclose(q.numpy() @ q.numpy().T, np.eye(4), atol=1e-5)


# ---------------------------------------------------------------------- training
def test_sgd_training_loop_matches_torch_float64():
    torch.manual_seed(3)
    t = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)).double()
    g = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 2)).double()
    copy_weights(g, t)
    x = torch.randn(16, 3, dtype=torch.float64)
    y = torch.randn(16, 2, dtype=torch.float64)
    xg, yg = to_g(x), to_g(y)
    opt_t = torch.optim.SGD(t.parameters(), lr=0.1, momentum=0.9)
    opt_g = gradienti.optim.SGD(g.parameters(), lr=0.1, momentum=0.9)
    loss_t_fn, loss_g_fn = torch.nn.MSELoss(), nn.MSELoss()
    for _ in range(20):
        opt_t.zero_grad()
        opt_g.zero_grad()
        lt = loss_t_fn(t(x), y)
        lg = loss_g_fn(g(xg), yg)
        lt.backward()
        lg.backward()
        opt_t.step()
        opt_g.step()
        assert abs(lg.item() - lt.item()) < 1e-12
    for k, v in t.state_dict().items():
        close(g.state_dict()[k], v, 1e-10)


def test_parameter_operands_that_work():
    p = nn.Parameter(gradienti.tensor([[1.0, 2.0], [3.0, 4.0]]))
    x = gradienti.tensor([[1.0, 1.0]], requires_grad=True)
    y = (x @ p).sum() + (x + p).sum() + (x * p).sum() + p[0].sum() + p.matmul(p).sum()
    y.backward()
    pt = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    xt = torch.tensor([[1.0, 1.0]], requires_grad=True)
    (
        (xt @ pt).sum() + (xt + pt).sum() + (xt * pt).sum() + pt[0].sum() + pt.matmul(pt).sum()
    ).backward()
    close(p.grad, pt.grad)
    close(x.grad, xt.grad)


def test_parameter_in_general_ops():
    p = nn.Parameter(gradienti.tensor([1.0, 2.0]))
    x = gradienti.tensor([3.0, 4.0])
    gradienti.stack([x, p]).sum().backward()
    gradienti.where(x > 3, p, x).sum().backward()
    gradienti.cat([p, x]).sum().backward()
    assert p.grad.tolist() == [2.0, 3.0]
    assert gradienti.maximum(x, p).tolist() == [3.0, 4.0]
    assert x.clamp(min=p).tolist() == [3.0, 4.0]
    assert (x @ p).item() == 11.0


def test_print_of_a_parameter_matches_torch(capsys):
    torch = pytest.importorskip("torch")
    print(torch.nn.Parameter(torch.ones(2)))
    expected = capsys.readouterr().out
    print(gradienti.nn.Parameter(gradienti.ones(2)))
    assert capsys.readouterr().out == expected
