"""The recorders of ops/apply.py on the plain path (no thread with grad mode off, no special
mode: ``MODES.count`` 0) read no thread-local state: ``grad_state.enabled`` (a property of a
threading.local, ~100 ns) is looked at only once ``MODES.count`` says some thread turned grad
mode off. Each op below records through one recorder, with an input that requires grad; the
in-place ops read no forward-AD state either."""

import pytest

import gradienti
from gradienti.graph.grad_mode import MODES
from gradienti.ops import apply, inplace


class _NoReads:
    """Stands in for grad_state: reading ``enabled`` fails the test (``_enabled``, the hot
    paths' read once the count is nonzero, is there)."""

    _enabled = True

    @property
    def enabled(self):
        raise AssertionError("the plain path read grad_state.enabled")


OPS = {
    "unary (exp)": lambda x: x.exp(),
    "unary_op (relu)": lambda x: x.relu(),
    "binary (x * x)": lambda x: x * x,
    "with_number (x * 2.0)": lambda x: x * 2.0,
    "unary_multi (split)": lambda x: x.split(1),
    "unary_multi (unbind)": lambda x: x.unbind(),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_the_plain_path_reads_no_thread_local_grad_mode(name, monkeypatch):
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    assert MODES.count == 0
    monkeypatch.setattr(apply, "grad_state", _NoReads())
    result = OPS[name](x)
    outputs = result if isinstance(result, tuple) else (result,)
    assert all(output.grad_fn is not None for output in outputs)


class _NoTokenReads:
    """Stands in for graph/dual.FORWARD: reading ``token`` (a property, which tests this
    thread's suspension) fails the test."""

    level = None

    @property
    def token(self):
        raise AssertionError("the plain path read FORWARD.token")


IN_PLACE = {
    "add_": lambda x: x.add_(1.0),
    "mul_": lambda x: x.mul_(x),
    "zero_": lambda x: x.zero_(),
    "fill_": lambda x: x.fill_(2.0),
}


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_ops_read_no_forward_ad_state_on_the_plain_path(name, monkeypatch):
    x = gradienti.tensor([1.0, 2.0])
    assert MODES.count == 0
    monkeypatch.setattr(inplace, "FORWARD", _NoTokenReads())
    assert IN_PLACE[name](x) is x
