"""The losses' nodes as PyTorch 2.13 records them: a fused node (MseLossBackward0,
SmoothL1LossBackward0, HuberLossBackward0, SoftMarginLossBackward0, BinaryCrossEntropyBackward0,
BinaryCrossEntropyWithLogitsBackward0) or a composition (l1_loss, the weighted forms), shown by
``print(loss)`` and ``grad_fn.next_functions``; and the autograd quickstart tutorial, whose
printed text is PyTorch's. The values and derivatives of these losses are op cases
(tests/op_cases_losses.py); the argument checks are tests/test_nn_losses_more.py's."""

from __future__ import annotations

import contextlib
import io
import re
import warnings

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")


def _inputs(lib, target_grad=True):
    rng = np.random.default_rng(0)
    a = lib.tensor(rng.uniform(-2, 2, (3, 4)), dtype=lib.float32, requires_grad=True)
    b = lib.tensor(rng.uniform(-2, 2, (3, 4)), dtype=lib.float32, requires_grad=target_grad)
    p = lib.tensor(rng.uniform(0.1, 0.9, (3, 4)), dtype=lib.float32, requires_grad=True)
    q = lib.tensor(rng.uniform(0.1, 0.9, (3, 4)), dtype=lib.float32, requires_grad=target_grad)
    signs = lib.tensor(rng.choice([-1.0, 1.0], (3, 4)), dtype=lib.float32)
    weight = lib.tensor(rng.uniform(0.5, 1.5, (3, 4)), dtype=lib.float32)
    return a, b, p, q, signs, weight


LOSSES = {
    "mse_loss": lambda F, a, b, p, q, s, w, r: F.mse_loss(a, b, reduction=r),
    "mse_loss weight": lambda F, a, b, p, q, s, w, r: F.mse_loss(a, b, reduction=r, weight=w),
    "mse_loss broadcast": lambda F, a, b, p, q, s, w, r: F.mse_loss(a, b[0], reduction=r),
    "l1_loss": lambda F, a, b, p, q, s, w, r: F.l1_loss(a, b, reduction=r),
    "l1_loss weight": lambda F, a, b, p, q, s, w, r: F.l1_loss(a, b, reduction=r, weight=w),
    "smooth_l1_loss": lambda F, a, b, p, q, s, w, r: F.smooth_l1_loss(a, b, reduction=r),
    "smooth_l1_loss beta 0": lambda F, a, b, p, q, s, w, r: F.smooth_l1_loss(
        a, b, reduction=r, beta=0.0
    ),
    "huber_loss": lambda F, a, b, p, q, s, w, r: F.huber_loss(a, b, reduction=r, delta=0.7),
    "huber_loss weight": lambda F, a, b, p, q, s, w, r: F.huber_loss(a, b, reduction=r, weight=w),
    "soft_margin_loss": lambda F, a, b, p, q, s, w, r: F.soft_margin_loss(a, s, reduction=r),
    "binary_cross_entropy": lambda F, a, b, p, q, s, w, r: F.binary_cross_entropy(
        p, q, reduction=r
    ),
    "binary_cross_entropy_with_logits": lambda F, a, b, p, q, s, w, r: (
        F.binary_cross_entropy_with_logits(a, q, reduction=r)
    ),
    "binary_cross_entropy_with_logits weights": lambda F, a, b, p, q, s, w, r: (
        F.binary_cross_entropy_with_logits(a, q, w[0], reduction=r, pos_weight=w[1] * 2)
    ),
    "kl_div": lambda F, a, b, p, q, s, w, r: F.kl_div(a, q, reduction=r),
    "kl_div batchmean": lambda F, a, b, p, q, s, w, r: F.kl_div(a, q, reduction="batchmean"),
    "kl_div log_target": lambda F, a, b, p, q, s, w, r: F.kl_div(
        a, b, reduction=r, log_target=True
    ),
    "cross_entropy": lambda F, a, b, p, q, s, w, r: F.cross_entropy(
        a, b.detach().argmax(1), reduction=r
    ),
}


def _name(node) -> str:
    return node.name().split("::")[-1]


def _chain(node):
    """A grad_fn graph as nested (name, [children]); None for a missing edge."""
    if node is None:
        return None
    return (_name(node), [_chain(child) for child, _ in node.next_functions])


def _loss(lib, name, reduction, target_grad=True):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the broadcast target's warning: tested elsewhere
        return LOSSES[name](lib.nn.functional, *_inputs(lib, target_grad), reduction)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("target_grad", [True, False], ids=["target grad", "constant target"])
def test_the_recorded_nodes_are_pytorchs(name, reduction, target_grad):
    ours = _loss(gradienti, name, reduction, target_grad)
    theirs = _loss(torch, name, reduction, target_grad)
    assert _chain(ours.grad_fn) == _chain(theirs.grad_fn)


def _normalized(text: str) -> str:
    return re.sub(r" at 0x[0-9a-fA-F]+>", " at 0x...>", text)


@pytest.mark.parametrize(
    "name", ["mse_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
             "binary_cross_entropy_with_logits", "l1_loss", "soft_margin_loss"]
)  # fmt: skip
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_print_of_a_loss_is_pytorchs(name, reduction):
    ours = _loss(gradienti, name, reduction)
    theirs = _loss(torch, name, reduction)
    assert str(ours) == str(theirs)
    assert _normalized(repr(ours.grad_fn)) == _normalized(repr(theirs.grad_fn))


# ---------------------------------------------------------------------- the autograd quickstart
# https://pytorch.org/tutorials/beginner/basics/autogradqs_tutorial.html, every line of its
# code as written there, after a manual_seed.
AUTOGRAD_QUICKSTART = """
torch.manual_seed(0)

x = torch.ones(5)  # input tensor
y = torch.zeros(3)  # expected output
w = torch.randn(5, 3, requires_grad=True)
b = torch.randn(3, requires_grad=True)
z = torch.matmul(x, w)+b
loss = torch.nn.functional.binary_cross_entropy_with_logits(z, y)

print(f"Gradient function for z = {z.grad_fn}")
print(f"Gradient function for loss = {loss.grad_fn}")

loss.backward()
print(w.grad)
print(b.grad)

z = torch.matmul(x, w)+b
print(z.requires_grad)

with torch.no_grad():
    z = torch.matmul(x, w)+b
print(z.requires_grad)

z = torch.matmul(x, w)+b
z_det = z.detach()
print(z_det.requires_grad)

inp = torch.eye(4, 5, requires_grad=True)
out = (inp+1).pow(2).t()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"First call\\n{inp.grad}")
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\\nSecond call\\n{inp.grad}")
inp.grad.zero_()
out.backward(torch.ones_like(out), retain_graph=True)
print(f"\\nCall after zeroing gradients\\n{inp.grad}")
"""


# https://pytorch.org/tutorials/beginner/blitz/neural_networks_tutorial.html, its code as written
# there after a manual_seed (its ``import torch.nn as nn`` lines read the bound library's
# attributes: the script runs with ``torch`` bound to either library). It prints the loss's
# grad_fn and walks next_functions from MseLossBackward0 to the Linear layer's AddmmBackward0.
NEURAL_NETWORKS_TUTORIAL = """
torch.manual_seed(0)
nn = torch.nn
F = torch.nn.functional


class Net(nn.Module):

    def __init__(self):
        super(Net, self).__init__()
        # 1 input image channel, 6 output channels, 5x5 square convolution
        # kernel
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        # an affine operation: y = Wx + b
        self.fc1 = nn.Linear(16 * 5 * 5, 120)  # 5*5 from image dimension
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, input):
        c1 = F.relu(self.conv1(input))
        s2 = F.max_pool2d(c1, (2, 2))
        c3 = F.relu(self.conv2(s2))
        s4 = F.max_pool2d(c3, 2)
        s4 = torch.flatten(s4, 1)
        f5 = F.relu(self.fc1(s4))
        f6 = F.relu(self.fc2(f5))
        output = self.fc3(f6)
        return output


net = Net()
print(net)
params = list(net.parameters())
print(len(params))
print(params[0].size())  # conv1's .weight
input = torch.randn(1, 1, 32, 32)
out = net(input)
print(out)
net.zero_grad()
out.backward(torch.randn(1, 10))
output = net(input)
target = torch.randn(10)  # a dummy target, for example
target = target.view(1, -1)  # make it the same shape as output
criterion = nn.MSELoss()

loss = criterion(output, target)
print(loss)
print(loss.grad_fn)  # MSELoss
print(loss.grad_fn.next_functions[0][0])  # Linear
print(loss.grad_fn.next_functions[0][0].next_functions[0][0])  # ReLU
net.zero_grad()     # zeroes the gradient buffers of all parameters

print('conv1.bias.grad before backward')
print(net.conv1.bias.grad)

loss.backward()

print('conv1.bias.grad after backward')
print(net.conv1.bias.grad)
optim = torch.optim

# create your optimizer
optimizer = optim.SGD(net.parameters(), lr=0.01)

# in your training loop:
optimizer.zero_grad()   # zero the gradient buffers
output = net(input)
loss = criterion(output, target)
loss.backward()
optimizer.step()    # Does the update
print(criterion(net(input), target))
"""


def _stdout_of(script: str, lib) -> str:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(script, "<tutorial>", "exec"), {"torch": lib})
    return _normalized(printed.getvalue())


def test_the_autograd_quickstart_prints_pytorchs_text():
    ours = _stdout_of(AUTOGRAD_QUICKSTART, gradienti)
    theirs = _stdout_of(AUTOGRAD_QUICKSTART, torch)
    assert "BinaryCrossEntropyWithLogitsBackward0" in theirs  # (the test reads the right text)
    assert ours == theirs


def test_the_neural_networks_tutorial_prints_pytorchs_text():
    ours = _stdout_of(NEURAL_NETWORKS_TUTORIAL, gradienti)
    theirs = _stdout_of(NEURAL_NETWORKS_TUTORIAL, torch)
    assert "<MseLossBackward0 object at 0x...>" in theirs
    assert ours == theirs


def _saved(lib, name):
    """The node's ``_saved_<name>`` attributes (tensors as arrays) and how many tensors
    saved-tensor hooks pack for it."""
    packed = []
    with lib.autograd.graph.saved_tensors_hooks(lambda t: packed.append(t) or t, lambda t: t):
        node = _loss(lib, name, "sum").grad_fn
    values = {}
    for attribute in sorted(a for a in dir(node) if a.startswith("_saved_")):
        found = getattr(node, attribute)
        values[attribute] = found.detach().numpy().tolist() if hasattr(found, "shape") else found
    return values, len(packed)


@pytest.mark.parametrize("name", ["mse_loss", "huber_loss", "smooth_l1_loss"])
def test_saved_values_are_pytorchs(name):
    assert _saved(gradienti, name) == _saved(torch, name)


@pytest.mark.parametrize("reduction", ("none", "mean", "sum"))
@pytest.mark.parametrize("loss", ("huber_loss", "smooth_l1_loss"))
def test_second_derivative_at_the_bound_is_pytorchs(loss, reduction):
    """Where ``|input - target|`` equals delta (beta) exactly, PyTorch's double backward masks
    ``|d| < delta``: the second derivative there is 0 (a recorded clamp would pass 1)."""
    results = []
    for lib in (gradienti, torch):
        rng = np.random.default_rng(4)
        input = lib.tensor(rng.uniform(-2, 2, (3, 4)), requires_grad=True)
        offsets = lib.tensor(rng.choice([-0.5, 0.5, 0.25], (3, 4)))  # exact, bounds at 0.5
        target = (input.detach() + offsets).requires_grad_()
        bound = {"huber_loss": {"delta": 0.5}, "smooth_l1_loss": {"beta": 0.5}}[loss]
        out = getattr(lib.nn.functional, loss)(input, target, reduction=reduction, **bound)
        upstream = lib.tensor(rng.uniform(0.5, 2, tuple(out.shape)))
        grads = lib.autograd.grad(out, (input, target), upstream, create_graph=True)
        directions = [lib.tensor(rng.uniform(-1, 1, (3, 4))) for _ in grads]
        total = sum((g * d).sum() for g, d in zip(grads, directions))
        results.append([t.detach().numpy() for t in lib.autograd.grad(total, (input, target))])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("smoothing", (0.0, 0.2))
def test_cross_entropy_mean_of_no_probabilities_is_pytorchs(smoothing):
    """Empty class probabilities: PyTorch fills the summed loss with NaN in place, then negates
    it (NegBackward0 over FillBackward2); the gradient is empty."""
    results = []
    for lib in (gradienti, torch):
        input = lib.zeros(0, 3, requires_grad=True)
        loss = lib.nn.functional.cross_entropy(
            input, lib.zeros(0, 3), weight=lib.ones(3), label_smoothing=smoothing
        )
        (grad,) = lib.autograd.grad(loss, input)
        results.append((_chain(loss.grad_fn)[:2], float(loss.detach()), tuple(grad.shape)))
    ours, theirs = results
    assert ours[0] == theirs[0] and ours[2] == theirs[2]
    assert np.isnan(ours[1]) and np.isnan(theirs[1])
