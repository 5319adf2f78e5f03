"""``float(t)`` of a tensor that requires grad warns once per process, as PyTorch 2.13 does
(``'%.2f' % loss`` in a training loop); ``int``, ``item`` and ``bool`` never warn, and nothing
warns under no_grad."""

import importlib
import subprocess
import sys
import warnings

import pytest

import gradienti

tensor_module = importlib.import_module("gradienti.tensor")  # (gradienti.tensor is the function)

pytest.importorskip("torch")

SCRIPT = """
import warnings, {lib} as lib
u = lib.tensor(1.5, requires_grad=True) * 2
seen = []
for convert in (int, bool, lambda t: t.item(), lambda t: f"{{t:.2f}}"):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always"); convert(u)
    seen.append(len(w))
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    with lib.no_grad():
        float(u)
    seen.append(len(w))
    "%.2f" % u; float(u); complex(u)
print(seen, len(w), [str(m.message).split(" (Triggered")[0] for m in w])
"""


def _run(lib: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(lib=lib)], capture_output=True, text=True, check=True
    )
    return result.stdout


def test_float_of_requires_grad_warns_once_as_torch():
    assert _run("gradienti") == _run("torch")


def test_the_warning_is_said_once(monkeypatch):
    monkeypatch.setattr(tensor_module, "_SCALAR_WARNING_SAID", [])
    u = gradienti.tensor(2.0, requires_grad=True)
    with pytest.warns(UserWarning, match="Consider using tensor.detach"):
        assert float(u) == 2.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert complex(u) == 2.0
