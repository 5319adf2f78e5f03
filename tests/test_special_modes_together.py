"""The special modes (forward AD's dual level, anomaly detection, saved-tensor hooks) used
together and across threads: each leaves the shared state as it found it, and what one mode
keeps does not spoil another's results. Values against PyTorch."""

import gc

import pytest

import gradienti
from gradienti.graph.anomaly import REFERENCE_LOOP
from gradienti.graph.grad_mode import MODES

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def modes_off():
    """Every test starts and ends with no special mode on and nothing packed."""
    gradienti.autograd.set_detect_anomaly(False)
    gc.collect()
    assert not REFERENCE_LOOP and MODES.special == 0
    yield
    gradienti.autograd.set_detect_anomaly(False)
    gc.collect()
    assert not REFERENCE_LOOP and MODES.special == 0


def test_a_packed_node_dying_while_anomaly_mode_is_on_leaves_the_mode_its_entry():
    x = gradienti.randn(3, requires_grad=True)
    with gradienti.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t):
        y = (x * x).sum()
    gradienti.autograd.set_detect_anomaly(True)
    del y  # the packed node goes while anomaly mode is on
    gc.collect()
    assert len(REFERENCE_LOOP) == 1  # anomaly mode's own entry
    gradienti.autograd.set_detect_anomaly(False)  # raised ValueError: its entry was gone
    assert not gradienti.is_anomaly_enabled()
    assert not REFERENCE_LOOP and MODES.special == 0
