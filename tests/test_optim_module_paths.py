"""``torch.optim.<module>`` paths (``from torch.optim.adamw import AdamW``) import in gradienti
with the same objects as ``gradienti.optim``."""

import importlib
import inspect
import pkgutil

import pytest

import gradienti.optim

torch = pytest.importorskip("torch")

# PyTorch modules gradienti does not have yet (sparse gradients; SWA).
NOT_YET = {"sparse_adam", "swa_utils"}
PUBLIC_MODULES = sorted(
    module.name
    for module in pkgutil.iter_modules(torch.optim.__path__)
    if not module.name.startswith("_") and module.name not in NOT_YET
)


def test_the_module_list_is_torchs():
    assert {"adam", "adamw", "sgd", "optimizer", "lr_scheduler"} <= set(PUBLIC_MODULES)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_torch_optim_module_path_imports_the_same_classes(name):
    ours = importlib.import_module(f"gradienti.optim.{name}")
    theirs = importlib.import_module(f"torch.optim.{name}")
    for attribute in getattr(theirs, "__all__", ()):
        if not inspect.isclass(getattr(theirs, attribute)):
            continue  # the functional forms (torch.optim.adam.adam) are not in gradienti yet
        assert getattr(ours, attribute) is getattr(gradienti.optim, attribute, None) or (
            name == "lr_scheduler"
        ), attribute


def test_adamw_path():
    from gradienti.optim.adamw import AdamW

    assert AdamW is gradienti.optim.AdamW
    assert gradienti.optim.adamw.__all__ == ["AdamW"]
