"""PyTorch's tutorial "Jacobians, Hessians, hvp, vhp, and more: composing function transforms"
(pytorch/tutorials, intermediate_source/jacobians_hessians.py), run with
``import gradienti as torch``, statement by statement, beside the same code run with torch.

``TUTORIAL`` is a transcription of the tutorial's code (its prose left out; one docstring
stands for its title, so that the statements are numbered as the tutorial's 93). Each
statement must run wherever it runs with torch, print the same text (timings masked: they
are measurements, not results) and bind the same values (tensors compared to float32
precision). The timers run ``TIMEIT_RUNS`` times instead of the tutorial's 500.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

TIMEIT_RUNS = 2

TUTORIAL = '''
"""Jacobians, Hessians, hvp, vhp, and more: composing function transforms."""

import torch
import torch.nn.functional as F
from functools import partial
_ = torch.manual_seed(0)

def predict(weight, bias, x):
    return F.linear(x, weight, bias).tanh()

D = 16
weight = torch.randn(D, D)
bias = torch.randn(D)
x = torch.randn(D)

def compute_jac(xp):
    jacobian_rows = [torch.autograd.grad(predict(weight, bias, xp), xp, vec)[0]
                     for vec in unit_vectors]
    return torch.stack(jacobian_rows)

xp = x.clone().requires_grad_()
unit_vectors = torch.eye(D)

jacobian = compute_jac(xp)

print(jacobian.shape)
print(jacobian[0])

from torch.func import vmap, vjp

_, vjp_fn = vjp(partial(predict, weight, bias), x)

ft_jacobian, = vmap(vjp_fn)(unit_vectors)

assert torch.allclose(ft_jacobian, jacobian)

from torch.func import jacrev

ft_jacobian = jacrev(predict, argnums=2)(weight, bias, x)

assert torch.allclose(ft_jacobian, jacobian)

def get_perf(first, first_descriptor, second, second_descriptor):
    """the relative gain of the second timing over the first"""
    faster = second.times[0]
    slower = first.times[0]
    gain = (slower-faster)/slower
    if gain < 0: gain *=-1
    final_gain = gain*100
    print(f" Performance delta: {final_gain:.4f} percent improvement with {second_descriptor} ")

from torch.utils.benchmark import Timer

without_vmap = Timer(stmt="compute_jac(xp)", globals=globals())
with_vmap = Timer(stmt="jacrev(predict, argnums=2)(weight, bias, x)", globals=globals())

no_vmap_timer = without_vmap.timeit(500)
with_vmap_timer = with_vmap.timeit(500)

print(no_vmap_timer)
print(with_vmap_timer)

get_perf(no_vmap_timer, "without vmap",  with_vmap_timer, "vmap")

ft_jac_weight, ft_jac_bias = jacrev(predict, argnums=(0, 1))(weight, bias, x)

from torch.func import jacrev, jacfwd

Din = 32
Dout = 2048
weight = torch.randn(Dout, Din)

bias = torch.randn(Dout)
x = torch.randn(Din)

print(weight.shape)

using_fwd = Timer(stmt="jacfwd(predict, argnums=2)(weight, bias, x)", globals=globals())
using_bwd = Timer(stmt="jacrev(predict, argnums=2)(weight, bias, x)", globals=globals())

jacfwd_timing = using_fwd.timeit(500)
jacrev_timing = using_bwd.timeit(500)

print(f'jacfwd time: {jacfwd_timing}')
print(f'jacrev time: {jacrev_timing}')

get_perf(jacfwd_timing, "jacfwd", jacrev_timing, "jacrev", );

Din = 2048
Dout = 32
weight = torch.randn(Dout, Din)
bias = torch.randn(Dout)
x = torch.randn(Din)

using_fwd = Timer(stmt="jacfwd(predict, argnums=2)(weight, bias, x)", globals=globals())
using_bwd = Timer(stmt="jacrev(predict, argnums=2)(weight, bias, x)", globals=globals())

jacfwd_timing = using_fwd.timeit(500)
jacrev_timing = using_bwd.timeit(500)

print(f'jacfwd time: {jacfwd_timing}')
print(f'jacrev time: {jacrev_timing}')

get_perf(jacrev_timing, "jacrev", jacfwd_timing, "jacfwd")

from torch.func import hessian

Din = 512
Dout = 32
weight = torch.randn(Dout, Din)
bias = torch.randn(Dout)
x = torch.randn(Din)

hess_api = hessian(predict, argnums=2)(weight, bias, x)
hess_fwdfwd = jacfwd(jacfwd(predict, argnums=2), argnums=2)(weight, bias, x)
hess_revrev = jacrev(jacrev(predict, argnums=2), argnums=2)(weight, bias, x)

torch.allclose(hess_api, hess_fwdfwd)

batch_size = 64
Din = 31
Dout = 33

weight = torch.randn(Dout, Din)
print(f"weight shape = {weight.shape}")

bias = torch.randn(Dout)

x = torch.randn(batch_size, Din)

compute_batch_jacobian = vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))
batch_jacobian0 = compute_batch_jacobian(weight, bias, x)

def predict_with_output_summed(weight, bias, x):
    return predict(weight, bias, x).sum(0)

batch_jacobian1 = jacrev(predict_with_output_summed, argnums=2)(weight, bias, x).movedim(1, 0)
assert torch.allclose(batch_jacobian0, batch_jacobian1)

compute_batch_hessian = vmap(hessian(predict, argnums=2), in_dims=(None, None, 0))

batch_hess = compute_batch_hessian(weight, bias, x)
batch_hess.shape

from torch.func import jvp, grad, vjp

def hvp(f, primals, tangents):
  return jvp(grad(f), primals, tangents)[1]

def f(x):
  return x.sin().sum()

x = torch.randn(2048)
tangent = torch.randn(2048)

result = hvp(f, (x,), (tangent,))

def hvp_revrev(f, primals, tangents):
  _, vjp_fn = vjp(grad(f), *primals)
  return vjp_fn(*tangents)

result_hvp_revrev = hvp_revrev(f, (x,), (tangent,))
assert torch.allclose(result, result_hvp_revrev[0])
'''

STATEMENTS = ast.parse(TUTORIAL).body

# Timings differ from run to run: numbers and addresses are masked before comparing prints.
_NUMBER = re.compile(r"0x[0-9a-f]+|\d+(\.\d+)?")
_TIMING_UNIT = re.compile(r" (ns|us|ms|s)$", re.MULTILINE)


def _masked(text: str) -> str:
    if "Measurement object" not in text and "Performance delta" not in text:
        return text
    return _TIMING_UNIT.sub(" <unit>", _NUMBER.sub("#", text))


def _source(statement: ast.stmt, library: str) -> str:
    code = ast.get_source_segment(TUTORIAL, statement)
    code = code.replace("timeit(500)", f"timeit({TIMEIT_RUNS})")
    if library == "gradienti" and isinstance(statement, (ast.Import, ast.ImportFrom)):
        code = re.sub(r"^import torch$", "import gradienti as torch", code)
        code = re.sub(r"^(import|from) torch\.", r"\1 gradienti.", code)
    return code


def _bound_names(statement: ast.stmt) -> list:
    """The names a statement assigns (its targets), in order."""
    targets = getattr(statement, "targets", None) or []
    names: list = []
    for target in targets:
        names.extend(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
    return names


def _run(library: str) -> list:
    """(printed text, exception or None, {name: value bound}, expression value) per statement."""
    namespace: dict = {"__name__": "tutorial"}
    results = []
    for statement in STATEMENTS:
        code = _source(statement, library)
        printed = io.StringIO()
        error = value = None
        try:
            with contextlib.redirect_stdout(printed):
                if isinstance(statement, ast.Expr):
                    value = eval(compile(code, "<tutorial>", "eval"), namespace)  # noqa: S307
                else:
                    exec(compile(code, "<tutorial>", "exec"), namespace)  # noqa: S102
        except Exception as exception:  # noqa: BLE001 - each statement's failure is recorded
            error = exception
        bound = {name: namespace.get(name) for name in _bound_names(statement)}
        results.append((printed.getvalue(), error, bound, value))
    return results


@pytest.fixture(scope="module")
def runs() -> dict:
    return {"torch": _run("torch"), "gradienti": _run("gradienti")}


def _assert_same_value(ours, theirs, what: str) -> None:
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, gradienti.Tensor), what
        assert tuple(ours.shape) == tuple(theirs.shape), what
        assert str(ours.dtype) == str(theirs.dtype), what
        np.testing.assert_allclose(
            ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-5, err_msg=what
        )
    elif isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs), what
        for index, (a, b) in enumerate(zip(ours, theirs)):
            _assert_same_value(a, b, f"{what}[{index}]")
    elif isinstance(theirs, (bool, int, float, str, torch.Size)):
        assert ours == theirs, what
    # functions, timers, measurements: the statements that use them check what they do


def test_the_tutorial_has_93_statements():
    assert len(STATEMENTS) == 93


@pytest.mark.parametrize("index", range(len(STATEMENTS)))
def test_statement_runs_and_gives_pytorchs_result(runs, index):
    their_print, their_error, their_bound, their_value = runs["torch"][index]
    our_print, our_error, our_bound, our_value = runs["gradienti"][index]
    assert their_error is None, f"torch failed: {their_error!r}"
    if our_error is not None:
        raise our_error
    assert _masked(our_print) == _masked(their_print)
    for name, theirs in their_bound.items():
        _assert_same_value(our_bound[name], theirs, name)
    _assert_same_value(our_value, their_value, "value")
