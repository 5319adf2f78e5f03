"""gradienti.distributed and nn.parallel in one process, against a PyTorch that was given no
process group: the same exceptions and texts, DataParallel's pass-through on a machine
without GPUs (forward, ``.module``, state_dict keys, repr)."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti
import gradienti.distributed as gdist

torch = pytest.importorskip("torch")
tdist = pytest.importorskip("torch.distributed")


def _raised(call):
    with pytest.raises(Exception) as info:
        call()
    return type(info.value), str(info.value)


def test_is_available_is_false_and_nothing_is_initialized():
    assert gdist.is_available() is False
    assert gdist.is_initialized() is False is tdist.is_initialized()
    assert "one process" in gdist.is_available.__doc__


@pytest.mark.parametrize(
    "call",
    [
        lambda d, t: d.get_rank(),
        lambda d, t: d.get_world_size(),
        lambda d, t: d.barrier(),
        lambda d, t: d.get_backend(),
        lambda d, t: d.all_reduce(t.ones(2)),
        lambda d, t: d.all_reduce(t.ones(2), op=d.ReduceOp.MAX),
        lambda d, t: d.reduce(t.ones(2), 0),
        lambda d, t: d.broadcast(t.ones(2), 0),
        lambda d, t: d.all_gather([t.ones(2)], t.ones(2)),
        lambda d, t: d.destroy_process_group(),
    ],
)
def test_without_a_process_group_as_pytorch(call):
    ours = _raised(lambda: call(gdist, gradienti))
    theirs = _raised(lambda: call(tdist, torch))
    assert ours == theirs


def test_init_process_group_says_there_is_no_backend():
    with pytest.raises(RuntimeError, match="gradienti has no distributed backend"):
        gdist.init_process_group("gloo", rank=0, world_size=1)
    assert gdist.is_initialized() is False


@pytest.mark.parametrize(
    "name", ["SUM", "AVG", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR", "PREMUL_SUM"]
)
def test_reduce_op_members(name):
    ours, theirs = getattr(gdist.ReduceOp, name), getattr(tdist.ReduceOp, name)
    assert repr(ours) == repr(theirs) and str(ours) == str(theirs)
    assert int(ours) == int(theirs)
    assert isinstance(ours, gdist.ReduceOp)
    assert ours == getattr(gdist.ReduceOp.RedOpType, name)


def test_nanogpts_imports():
    from gradienti.distributed import destroy_process_group, init_process_group
    from gradienti.nn.parallel import DistributedDataParallel as DDP

    assert callable(init_process_group) and callable(destroy_process_group)
    assert issubclass(DDP, gradienti.nn.Module)


def test_ddp_cannot_be_built_without_a_process_group():
    ours = _raised(lambda: gradienti.nn.parallel.DistributedDataParallel(gradienti.nn.Linear(2, 2)))
    theirs = _raised(lambda: torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 2)))
    assert ours == theirs


def _pair(seed=3):
    gradienti.manual_seed(seed)
    torch.manual_seed(seed)
    return gradienti.nn.Linear(3, 2), torch.nn.Linear(3, 2)


def test_data_parallel_runs_its_module():
    ours_module, theirs_module = _pair()
    ours, theirs = gradienti.nn.DataParallel(ours_module), torch.nn.DataParallel(theirs_module)
    assert ours.module is ours_module and theirs.module is theirs_module
    assert ours.device_ids == theirs.device_ids == []
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["module.weight", "module.bias"]
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    x = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]
    out_ours, out_theirs = ours(gradienti.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out_ours.tolist(), out_theirs.tolist(), rtol=1e-6)
    upstream = [[1.0, -2.0], [0.5, 3.0]]
    out_ours.backward(gradienti.tensor(upstream))
    out_theirs.backward(torch.tensor(upstream))
    np.testing.assert_allclose(
        ours_module.weight.grad.tolist(), theirs_module.weight.grad.tolist(), rtol=1e-6
    )


def test_data_parallel_ignores_device_arguments_without_gpus():
    ours = gradienti.nn.DataParallel(gradienti.nn.ReLU(), device_ids=[0, 1], output_device=0, dim=1)
    theirs = torch.nn.DataParallel(torch.nn.ReLU(), device_ids=[0, 1], output_device=0, dim=1)
    assert ours.device_ids == theirs.device_ids == []
    assert ours(gradienti.tensor([-1.0, 2.0])).tolist() == [0.0, 2.0]


def test_data_parallel_keyword_inputs_and_state_dict_round_trip():
    ours_module, _ = _pair()
    wrapped = gradienti.nn.DataParallel(ours_module)
    assert wrapped(input=gradienti.ones(1, 3)).shape == (1, 2)
    other = gradienti.nn.DataParallel(gradienti.nn.Linear(3, 2))
    other.load_state_dict(wrapped.state_dict())
    assert other.module.weight.tolist() == ours_module.weight.tolist()


def test_functional_data_parallel_needs_a_device_type():
    ours = _raised(
        lambda: gradienti.nn.parallel.data_parallel(gradienti.nn.ReLU(), gradienti.ones(1))
    )
    theirs = _raised(lambda: torch.nn.parallel.data_parallel(torch.nn.ReLU(), torch.ones(1)))
    assert ours == theirs
