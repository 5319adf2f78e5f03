"""The shape helpers against PyTorch: values, dtypes, warnings, and the class and text of the
error for bad input (cross, diff, repeat_interleave, unfold, tensordot, the flatten forms,
rot90, the flips, H/mH, atleast_Nd, broadcasting, stacking, block_diag, kron, diag_embed,
sum_to_size, stride, type_as). Gradients of the differentiable ones are checked by the op
table (tests/op_cases_geometry.py); cdist is in test_cdist.py, the index builders in
test_index_builders.py, the in-place fills in test_in_place_fills.py."""

import warnings

import numpy as np
import pytest
from same_outcome import outcome
from shape_outcomes import A, V, _a, _our_warnings, _t, _torch_warnings, same

import gradienti
from gradienti.ops import geometry

torch = pytest.importorskip("torch")


def test_cross_without_dim_warns_once_as_pytorch_and_takes_the_first_dim_of_size_3():
    code = (
        "torch.cross(torch.ones(3, 2), torch.ones(3, 2)); torch.cross(torch.ones(3), torch.ones(3))"
    )
    geometry._warned_about_cross_dim.clear()
    a, b = gradienti.ones(3, 2), gradienti.ones(3, 2)
    ours = _our_warnings(lambda: (gradienti.cross(a, b), gradienti.cross(a[:, 0], b[:, 0])))
    assert ours == _torch_warnings(code)
    assert len(ours) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (this process's PyTorch may not have warned yet)
        same(lambda lib: lib.cross(_a(lib, A[:3, :2, 0]), _a(lib, A[:3, 2:4, 1])))
        same(lambda lib: lib.cross(_a(lib, A[:3, :3, 0]), _a(lib, A[:3, :3, 1])))


CROSS_OUTCOMES = {
    "ndim": lambda lib: lib.cross(lib.ones(3, 3), lib.ones(2, 1, 3)),
    "no size 3": lambda lib: lib.cross(lib.ones(4, 2), lib.ones(4, 2)),
    "dim not 3": lambda lib: lib.cross(lib.ones(4, 2), lib.ones(4, 2), dim=1),
    "other not 3": lambda lib: lib.cross(lib.ones(1, 3), lib.ones(3, 1), dim=1),
    "negative dim": lambda lib: lib.cross(lib.ones(3, 4), lib.ones(3, 4), dim=-1),
    "dim range": lambda lib: lib.cross(lib.ones(4, 3), lib.ones(4, 3), dim=2),
    "broadcast": lambda lib: lib.cross(lib.ones(2, 3), lib.ones(3, 3), dim=1),
    "broadcast ok": lambda lib: lib.cross(_a(lib, A[:1, :3, 0]), _a(lib, A[:3, :3, 1]), dim=1),
    "int64": lambda lib: lib.cross(_t(lib, [1, 2, 3]), _t(lib, [0, -1, 5]), dim=0),
    "method": lambda lib: _a(lib, A[:3, :3, 0]).cross(_a(lib, A[:3, :3, 2]), 0),
}


@pytest.mark.parametrize("name", CROSS_OUTCOMES)
def test_cross_outcomes_are_pytorchs(name):
    same(CROSS_OUTCOMES[name])


# ---------------------------------------------------------------------- diff, repeat_interleave
SEQUENCE_OUTCOMES = {
    "diff bool": lambda lib: lib.diff(_t(lib, [True, False, False, True])),
    "diff int": lambda lib: lib.diff(lib.arange(5) ** 2, n=2),
    "diff n past length": lambda lib: lib.diff(_a(lib, V), n=8),
    "diff n=0": lambda lib: lib.diff(_a(lib, V), n=0),
    "diff prepend dtype": lambda lib: lib.diff(_a(lib, V), prepend=_t(lib, [1, 2])),
    "diff 0-d": lambda lib: lib.diff(_a(lib, V)[0]),
    "diff negative n": lambda lib: lib.diff(_a(lib, V), n=-1),
    "diff prepend ndim": lambda lib: lib.diff(_a(lib, V), prepend=_a(lib, V)[0]),
    "diff prepend number": lambda lib: lib.diff(_a(lib, V), prepend=1.0),
    "diff append shape": lambda lib: lib.diff(_a(lib), dim=1, append=_a(lib)[:1, :2]),
    "diff dim range": lambda lib: lib.diff(_a(lib), dim=3),
    "repeat_interleave(repeats)": lambda lib: lib.repeat_interleave(_t(lib, [1, 0, 3])),
    "repeat_interleave(int32 repeats)": lambda lib: lib.repeat_interleave(_t(lib, [2, 1], "int32")),
    "repeat_interleave(repeats) 0-d": lambda lib: lib.repeat_interleave(_t(lib, 3)),
    "repeat_interleave(repeats) float": lambda lib: lib.repeat_interleave(_t(lib, [1.0])),
    "repeat_interleave(repeats) 2-d": lambda lib: lib.repeat_interleave(_t(lib, [[1, 2]])),
    "repeat_interleave(repeats) negative": lambda lib: lib.repeat_interleave(_t(lib, [1, -2])),
    "repeat_interleave(repeats) output_size": lambda lib: lib.repeat_interleave(
        _t(lib, [1, 2]), output_size=3
    ),
    "repeat_interleave(repeats) bad output_size": lambda lib: lib.repeat_interleave(
        _t(lib, [1, 2]), output_size=4
    ),
    "repeat_interleave int tensor": lambda lib: lib.arange(6).reshape(2, 3).repeat_interleave(2),
    "repeat_interleave bool": lambda lib: _t(lib, [True, False]).repeat_interleave(_t(lib, [2, 1])),
    "repeat_interleave 0-d": lambda lib: lib.repeat_interleave(_t(lib, 2.5), 3),
    "repeat_interleave 0-d tensor repeats": lambda lib: lib.repeat_interleave(
        _a(lib), _t(lib, 2), dim=1
    ),
    "repeat_interleave zero repeats": lambda lib: lib.repeat_interleave(_a(lib), 0, dim=1),
    "repeat_interleave negative": lambda lib: lib.repeat_interleave(_a(lib), -1, dim=0),
    "repeat_interleave bad output_size": lambda lib: lib.repeat_interleave(
        _a(lib), 2, dim=0, output_size=5
    ),
    "repeat_interleave tensor bad output_size": lambda lib: lib.repeat_interleave(
        _a(lib), _t(lib, [1, 2, 3]), dim=0, output_size=5
    ),
    "repeat_interleave tensor negative": lambda lib: lib.repeat_interleave(
        _a(lib), _t(lib, [1, -1, 1]), dim=0
    ),
    "repeat_interleave tensor size": lambda lib: lib.repeat_interleave(
        _a(lib), _t(lib, [1, 1]), dim=0
    ),
    "repeat_interleave tensor flat size": lambda lib: lib.repeat_interleave(
        _a(lib), _t(lib, [1, 1, 1])
    ),
    "repeat_interleave float repeats": lambda lib: lib.repeat_interleave(
        _a(lib), _t(lib, [1.0, 1.0, 1.0]), dim=0
    ),
    "repeat_interleave 2-d repeats": lambda lib: lib.repeat_interleave(
        _a(lib), _t(lib, [[1, 1, 1]]), dim=0
    ),
    "repeat_interleave dim range": lambda lib: lib.repeat_interleave(_a(lib), 2, dim=3),
}


@pytest.mark.parametrize("name", SEQUENCE_OUTCOMES)
def test_diff_and_repeat_interleave_outcomes_are_pytorchs(name):
    same(SEQUENCE_OUTCOMES[name])


# ---------------------------------------------------------------------- unfold, tensordot
WINDOW_OUTCOMES = {
    "unfold": lambda lib: _a(lib).unfold(1, 3, 1),
    "unfold int": lambda lib: lib.arange(10).unfold(0, 4, 3),
    "unfold 0-d": lambda lib: _t(lib, 2.0).unfold(0, 1, 1),
    "unfold 0-d size 0": lambda lib: _t(lib, 2.0).unfold(-1, 0, 1),
    "unfold size 0": lambda lib: _a(lib).unfold(2, 0, 2),
    "unfold too big": lambda lib: _a(lib).unfold(1, 5, 1),
    "unfold step 0": lambda lib: _a(lib).unfold(1, 2, 0),
    "unfold negative size": lambda lib: _a(lib).unfold(1, -1, 1),
    "unfold dim range": lambda lib: _a(lib).unfold(3, 1, 1),
    "tensordot int": lambda lib: lib.tensordot(lib.arange(6).reshape(2, 3), lib.arange(3), 1),
    "tensordot tensor dims": lambda lib: lib.tensordot(
        _a(lib), _a(lib, A[0]), dims=lib.tensor([[2], [1]])
    ),
    "tensordot negative dims list": lambda lib: lib.tensordot(
        _a(lib), _a(lib, A[0]), dims=([-1], [-1])
    ),
    "tensordot dims < 0": lambda lib: lib.tensordot(_a(lib), _a(lib), dims=-1),
    "tensordot dims too many": lambda lib: lib.tensordot(_a(lib), _a(lib), dims=4),
    "tensordot sizes": lambda lib: lib.tensordot(_a(lib), _a(lib), dims=([0], [1])),
    "tensordot lengths": lambda lib: lib.tensordot(_a(lib), _a(lib), dims=([0, 1], [0])),
    "tensordot dim range": lambda lib: lib.tensordot(_a(lib), _a(lib), dims=([3], [0])),
}


@pytest.mark.parametrize("name", WINDOW_OUTCOMES)
def test_unfold_and_tensordot_outcomes_are_pytorchs(name):
    same(WINDOW_OUTCOMES[name])


# ---------------------------------------------------------------------- flatten forms
FLATTEN_OUTCOMES = {
    "flatten()": lambda lib: lib.flatten(_a(lib)),
    "flatten(x,1)": lambda lib: lib.flatten(_a(lib), 1),
    "flatten(x,-2,-1)": lambda lib: lib.flatten(_a(lib), -2, -1),
    "flatten(x,start_dim=0,end_dim=1)": lambda lib: lib.flatten(_a(lib), start_dim=0, end_dim=1),
    "x.flatten(1,1)": lambda lib: _a(lib).flatten(1, 1).shape,
    "x.flatten() 0-d": lambda lib: _t(lib, 3.0).flatten(),
    "flatten start after end": lambda lib: _a(lib).flatten(2, 1),
    "flatten dim range": lambda lib: _a(lib).flatten(0, 3),
    "flatten of a transpose": lambda lib: _a(lib).mT.flatten(1),
    "unflatten(x,1,(2,2))": lambda lib: lib.unflatten(_a(lib), 1, (2, 2)),
    "x.unflatten(-1,(5,1))": lambda lib: _a(lib).unflatten(-1, (5, 1)),
    "x.unflatten(1,[-1,2])": lambda lib: _a(lib).unflatten(1, [-1, 2]),
    "x.unflatten(0,(1,-1,1))": lambda lib: _a(lib).unflatten(0, (1, -1, 1)),
    "unflatten sizes": lambda lib: _a(lib).unflatten(1, (3, 2)),
    "unflatten -1 not divisible": lambda lib: _a(lib).unflatten(1, (3, -1)),
    "unflatten empty sizes": lambda lib: _a(lib).unflatten(1, ()),
    "unflatten dim range": lambda lib: _a(lib).unflatten(3, (1, 5)),
}


@pytest.mark.parametrize("name", FLATTEN_OUTCOMES)
def test_flatten_forms_are_pytorchs(name):
    same(FLATTEN_OUTCOMES[name])


def test_unflatten_with_two_inferred_sizes_raises_pytorchs_error_opening():
    """(PyTorch's text goes on with the C++ stack of the failed check.)"""
    ours, theirs = outcome(lambda lib: _a(lib).unflatten(1, (-1, -1)))
    assert ours[0] == theirs[0] == "RuntimeError"
    assert theirs[1].startswith(ours[1] + "\n")
    assert ours[1] == "unflatten got an unexpected error:\nonly one dimension can be inferred"


# ---------------------------------------------------------------------- turns and flips
ORIENTATION_OUTCOMES = {
    "rot90": lambda lib: lib.rot90(_a(lib)),
    "rot90 int": lambda lib: lib.arange(6).reshape(2, 3).rot90(-3),
    "rot90 k=5 dims list": lambda lib: lib.rot90(_a(lib), 5, [2, 1]),
    "rot90 one dim": lambda lib: lib.rot90(_a(lib), 1, (0,)),
    "rot90 1-d": lambda lib: lib.rot90(_a(lib, V)),
    "rot90 same dims": lambda lib: lib.rot90(_a(lib), 1, (0, 0)),
    "rot90 same dims wrapped": lambda lib: lib.rot90(_a(lib), 1, (0, -3)),
    "rot90 dim range": lambda lib: lib.rot90(_a(lib), 1, (0, 3)),
    "fliplr": lambda lib: lib.fliplr(_a(lib)),
    "flipud": lambda lib: _a(lib, V).flipud(),
    "fliplr 1-d": lambda lib: lib.fliplr(_a(lib, V)),
    "flipud 0-d": lambda lib: lib.flipud(_t(lib, 1.0)),
    "H": lambda lib: _a(lib, A[0]).H,
    "H 3-d": lambda lib: _a(lib).H,
    "H 1-d": lambda lib: _a(lib, V).H,
    "mH": lambda lib: _a(lib).mH,
    "mH 1-d": lambda lib: _a(lib, V).mH,
    "atleast_1d number": lambda lib: lib.atleast_1d(3.0),
    "atleast_2d tuple": lambda lib: lib.atleast_2d((_t(lib, 1.0), _a(lib, V), _a(lib))),
    "atleast_3d several": lambda lib: lib.atleast_3d(_t(lib, 1.0), _a(lib, V), _a(lib, A[0])),
    "atleast_1d none": lambda lib: lib.atleast_1d(),
    "diag_embed same dims": lambda lib: lib.diag_embed(_a(lib, A[0]), 0, 0, 0),
    "diag_embed dim range": lambda lib: lib.diag_embed(_a(lib, A[0]), 0, 0, 3),
    "diag_embed 0-d": lambda lib: lib.diag_embed(_t(lib, 1.0)),
    "diag_embed int": lambda lib: lib.diag_embed(lib.arange(3), 1),
    "diagflat 3-d": lambda lib: lib.diagflat(lib.ones(2, 2, 2), 1),
    "type_as int": lambda lib: _t(lib, [1.5, -2.5]).type_as(_t(lib, [1])),
    "type_as float64": lambda lib: _t(lib, [1, 2]).type_as(_t(lib, [1.0], "float64")),
}


@pytest.mark.parametrize("name", ORIENTATION_OUTCOMES)
def test_turn_flip_and_dims_outcomes_are_pytorchs(name):
    same(ORIENTATION_OUTCOMES[name])


BROADCAST_OUTCOMES = {
    "broadcast_tensors": lambda lib: lib.broadcast_tensors(
        lib.ones(3, 1), lib.arange(4.0), lib.zeros(3, 4)
    ),
    "broadcast_tensors one": lambda lib: lib.broadcast_tensors(lib.ones(3, 1)),
    "broadcast_tensors mismatch": lambda lib: lib.broadcast_tensors(lib.ones(2), lib.ones(3)),
    "broadcast_shapes": lambda lib: lib.broadcast_shapes((3, 1), (4,)),
    "broadcast_shapes int": lambda lib: lib.broadcast_shapes(2, (3, 1)),
    "broadcast_shapes none": lambda lib: lib.broadcast_shapes(),
    "broadcast_shapes lists": lambda lib: lib.broadcast_shapes([2, 1], [1, 3]),
    "broadcast_shapes mismatch": lambda lib: lib.broadcast_shapes((2,), (3,)),
    "broadcast_shapes mismatch 3": lambda lib: lib.broadcast_shapes((2, 1), (5, 3), (4, 1, 1)),
    "broadcast_shapes negative": lambda lib: lib.broadcast_shapes((2, -1)),
    "broadcast_shapes type": lambda lib: type(lib.broadcast_shapes((2, 1))).__name__,
    **{
        f"sum_to_size{size}": (
            lambda lib, size=size: (lambda x: (x.sum_to_size(*size), x.sum_to_size(*size) is x))(
                _a(lib)
            )
        )
        for size in [(3, 1), ((1, 4, 5),), (3, 4, 5), (5,), (6,), (1, 3, 4, 5), (), ([1, 1],)]
    },
    "column_stack": lambda lib: lib.column_stack(
        [lib.arange(3.0), lib.ones(3, 2), lib.tensor([[5.0], [6.0], [7.0]])]
    ),
    "column_stack 0-d": lambda lib: lib.column_stack([lib.tensor(1.0), lib.tensor(2.0)]),
    "column_stack mismatch": lambda lib: lib.column_stack([lib.arange(3.0), lib.ones(2, 2)]),
    "dstack": lambda lib: lib.dstack([lib.arange(3.0), lib.arange(3.0)]),
    "dstack 2-d": lambda lib: lib.dstack((lib.ones(2, 3), lib.zeros(2, 3))),
    "dstack 0-d int": lambda lib: lib.dstack((lib.tensor(1), lib.tensor(2))),
    "row_stack": lambda lib: lib.row_stack([lib.arange(3.0), lib.ones(2, 3)]),
    "block_diag": lambda lib: lib.block_diag(_a(lib, A[0, :2]), lib.arange(3), _t(lib, 5.0)),
    "block_diag none": lambda lib: lib.block_diag(),
    "kron": lambda lib: lib.kron(_a(lib, A[0, :2]), lib.tensor([1.0, -1.0, 2.0])),
    "kron integers and floats": lambda lib: lib.kron(lib.arange(2), lib.ones(2)),
    "kron 0-d": lambda lib: lib.kron(_t(lib, 2.0), _t(lib, 3.0)),
    "block_diag 3-d": lambda lib: lib.block_diag(lib.ones(2, 2, 2)),
    "block_diag dtypes": lambda lib: lib.block_diag(lib.ones(1, 2), lib.ones(2, dtype=lib.float64)),
    "block_diag empty blocks": lambda lib: lib.block_diag(
        lib.zeros(0, 2), lib.zeros(0), lib.ones(2)
    ),
    "block_diag list": lambda lib: lib.block_diag([lib.ones(2)]),
    "block_diag bool and int": lambda lib: lib.block_diag(_t(lib, [True]), _t(lib, [1])),
    "stride": lambda lib: [
        lib.ones(3, 4).stride(),
        lib.ones(3, 4).T.stride(),
        lib.ones(3, 4).stride(1),
        lib.ones(3, 4)[:, ::2].stride(),
        lib.ones(3).expand(2, 3).stride(),
        lib.tensor(1.0).stride(),
        lib.ones(2, 3, 4).permute(2, 0, 1).stride(-1),
        lib.ones(2, 3, dtype=lib.float64).unfold(1, 2, 1).stride(),
    ],
    "stride dim range": lambda lib: lib.ones(3).stride(1),
    "nbytes and itemsize": lambda lib: [
        (t.nbytes, t.itemsize)
        for t in (
            lib.ones(2, 3),
            lib.ones(4, dtype=lib.float64),
            lib.tensor(True),
            lib.ones(3)[::2],
        )
    ],
}


def test_column_stack_gradients_are_pytorchs():
    def gradients(lib):
        rng = np.random.default_rng(5)
        x, y = (lib.tensor(rng.standard_normal(s), requires_grad=True) for s in ((3,), (3, 2)))
        out = lib.column_stack([x, y])
        upstream = lib.tensor(rng.uniform(0.5, 1.5, (3, 3)))
        return out.grad_fn.name(), lib.autograd.grad(out, (x, y), upstream)

    same(gradients)


@pytest.mark.parametrize("name", BROADCAST_OUTCOMES)
def test_broadcasting_stacking_and_stride_outcomes_are_pytorchs(name):
    same(BROADCAST_OUTCOMES[name])


def test_zero_dim_H_warns_and_returns_the_tensor_as_pytorch():
    x = gradienti.tensor(2.0)
    assert _our_warnings(lambda: x.H) == _torch_warnings("torch.tensor(2.0).H")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert x.H is x and torch.tensor(2.0).H is not None


def test_a_failed_call_changes_nothing():
    x = gradienti.tensor(A, requires_grad=True)
    before = x.detach().numpy().copy()
    for action in (
        lambda: gradienti.cdist(x, x[0].mT),
        lambda: x.unfold(1, 9, 1),
        lambda: gradienti.diff(x, prepend=x[0]),
        lambda: gradienti.repeat_interleave(x, gradienti.tensor([1, 2]), dim=0),
    ):
        with pytest.raises(RuntimeError):
            action()
    np.testing.assert_array_equal(x.detach().numpy(), before)
    assert x.grad is None
