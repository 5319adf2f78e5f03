"""Every case of the op-case table (tests/test_ops.py's CASES and the op_cases_*.py modules)
under ``gradienti.func.vmap`` with a batch of 3 samples:

- inputs batched at dim 0, at their last dim, and with some inputs unbatched (``None``),
  against a Python loop of the op over the samples and against ``torch.func.vmap``;
- no op case falls back to the per-sample loop (gradienti/batching/fallback.py counts every
  fallback), except those listed in ``EXPECTED_FALLBACKS`` with the reason;
- per-sample gradients (``autograd.grad`` inside vmap: the VJPs run batched) against
  ``torch.func.vmap`` of ``torch.func.vjp``;
- gradients through vmap (``vmap(f)(x)`` used outside, then ``autograd.grad``) against torch.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_cases import _sample
from test_ops import CASES

import gradienti
from gradienti.batching import FALLBACKS

BATCH = 3
TOL = {"rtol": 1e-6, "atol": 1e-8}

# Op cases that run per sample (fallback.py), each with the reason.
EXPECTED_FALLBACKS: dict[str, str] = {}

# Op cases that torch.func.vmap cannot run (a PyTorch limitation, not the op's): compared with
# the loop only.
TORCH_CANNOT: dict[str, str] = {
    "x.moveaxis(-1,0)": "PyTorch has no batching rule for aten::moveaxis.int (a view op)",
    "linear(x,w,b) bias (2,4)": "PyTorch's batched linear does not broadcast a 2-d bias",
    # PyTorch's vmap disagrees with PyTorch's own op on one sample (gradienti follows the op):
    "x.any(dim=()) no reduction": "PyTorch's batched any(dim=()) reduces every dim",
    "x.argmax(keepdim)": "PyTorch's batched argmax(keepdim=True) without dim keeps one dim",
    # linalg.solve's batching rule does not broadcast an unbatched operand's batch dims
    "linalg.solve(x+4I,y,left=False) broadcast": "PyTorch's batched solve does not broadcast",
    "linalg.solve_ex(x+4I,y).result": "PyTorch's batched solve_ex does not broadcast",
    "linalg.lu_solve(lu_factor(x+4I),y) broadcast": (
        "PyTorch's batched lu_solve, B having more batch dims than LU, disagrees "
        "with its own per-sample results"
    ),
    "linalg.lstsq(a,b) vector b": "PyTorch's batched lstsq reads a per-sample vector b as a "
    "matrix (its size check then refuses it)",
}

# What PyTorch's vmap refuses (per-sample boolean masks, per-sample values written into a
# tensor shared by the samples, ...): gradienti refuses the same layouts with the same text,
# which test_vmap_matches_torch checks; the loop test accepts these refusals only.
REFUSALS = (
    "vmap: We do not support batching operators that can support dynamic shape.",
    "vmap: Attempted to vmap over `mask` in torch.masked_select",
    "vmap: index_put_(self, *extra_args) is not possible",
    "vmap: inplace arithmetic(self, *extra_args) is not possible",
    "Batch norm got a batched tensor as input while the running_mean",
)


def _params(cases):
    return [pytest.param(case, id=case.name) for case in cases]


def _domains(case) -> tuple:
    if isinstance(case.domains, tuple):
        return case.domains
    return (case.domains,) * len(case.shapes)


def _samples(case, dtype=np.float64) -> list:
    """Per input, BATCH samples stacked on axis 0 (each drawn from the input's domain)."""
    rng = np.random.default_rng(abs(hash(case.name)) % 2**32)
    return [
        np.stack([_sample(rng, domain, shape) for _ in range(BATCH)]).astype(dtype)
        for domain, shape in zip(_domains(case), case.shapes)
    ]


def _layouts(case) -> list:
    """(name, in_dims, per-input flags: batched or not) to run each case with."""
    count = len(case.shapes)
    layouts = [("dim 0", (0,) * count)]
    last = tuple(-1 if len(shape) else 0 for shape in case.shapes)
    if any(last):
        layouts.append(("last dim", last))
    if count > 1:
        layouts.append(("first unbatched", (None,) + (0,) * (count - 1)))
        layouts.append(("only first batched", (0,) + (None,) * (count - 1)))
    return layouts


def _inputs(lib, stacked: list, in_dims: tuple) -> list:
    """The arrays as ``lib`` tensors laid out for ``in_dims`` (None: one sample, shared)."""
    tensors = []
    for array, in_dim in zip(stacked, in_dims):
        if in_dim is None:
            tensors.append(lib.tensor(array[0]))
        else:
            tensors.append(lib.tensor(np.ascontiguousarray(np.moveaxis(array, 0, in_dim))))
    return tensors


def _flat(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _np(value):
    value = value.detach()
    return value.numpy(force=True) if type(value).__module__.startswith("torch") else value.numpy()


def _loop(case, stacked: list, in_dims: tuple) -> list:
    """The op run once per sample, its outputs stacked on axis 0."""
    per_sample = []
    for index in range(BATCH):
        xs = [
            gradienti.tensor(array[0] if in_dim is None else array[index])
            for array, in_dim in zip(stacked, in_dims)
        ]
        per_sample.append([_np(out) for out in _flat(case.fn(gradienti, *xs))])
    return [np.stack(outputs) for outputs in zip(*per_sample)]


def _vmapped(lib, vmap, case, stacked, in_dims) -> list:
    outs = vmap(lambda *xs: case.fn(lib, *xs), in_dims=in_dims)(*_inputs(lib, stacked, in_dims))
    return [_np(out) for out in _flat(outs)]


def _compare(kind, case, ours, expected) -> None:
    assert len(ours) == len(expected), f"[{case.name}] {kind}: number of outputs"
    for mine, other in zip(ours, expected):
        assert mine.shape == other.shape, f"[{case.name}] {kind}: shape"
        assert mine.dtype == other.dtype, f"[{case.name}] {kind}: dtype"
        np.testing.assert_allclose(mine, other, **TOL, err_msg=f"[{case.name}] {kind}")


def _refused(error: RuntimeError) -> bool:
    return str(error).startswith(REFUSALS)


def _refusal(case, stacked, in_dims):
    """PyTorch's refusal text when vmap refuses the case in this layout (checked against
    torch's own), else None."""
    try:
        _vmapped(gradienti, gradienti.vmap, case, stacked, in_dims)
    except RuntimeError as error:
        if not _refused(error):
            raise
        torch = pytest.importorskip("torch")
        with pytest.raises(RuntimeError) as theirs:
            _vmapped(torch, torch.func.vmap, case, stacked, in_dims)
        assert str(theirs.value) == str(error), f"[{case.name}] refusal"
        return str(error)
    return None


@pytest.mark.parametrize("case", _params(CASES))
def test_vmap_matches_a_loop_without_fallback(case):
    stacked = _samples(case)
    for name, in_dims in _layouts(case):
        before = sum(FALLBACKS.values())
        try:
            ours = _vmapped(gradienti, gradienti.vmap, case, stacked, in_dims)
        except RuntimeError as error:
            if _refused(error):
                continue
            raise
        fell_back = sum(FALLBACKS.values()) > before
        _compare(f"vmap ({name}) vs loop", case, ours, _loop(case, stacked, in_dims))
        if case.name in EXPECTED_FALLBACKS:
            assert fell_back, f"[{case.name}] listed as falling back, but ran batched"
        else:
            assert not fell_back, f"[{case.name}] fell back to the per-sample loop ({name})"


@pytest.mark.parametrize("case", _params(CASES))
def test_vmap_matches_torch(case):
    torch = pytest.importorskip("torch")
    if case.name in TORCH_CANNOT:
        pytest.skip(TORCH_CANNOT[case.name])
    stacked = _samples(case)
    for name, in_dims in _layouts(case):
        try:
            theirs = _vmapped(torch, torch.func.vmap, case, stacked, in_dims)
        except RuntimeError as error:
            with pytest.raises(RuntimeError) as ours:
                _vmapped(gradienti, gradienti.vmap, case, stacked, in_dims)
            assert str(ours.value) == str(error), f"[{case.name}] ({name}) refusal"
            continue
        ours = _vmapped(gradienti, gradienti.vmap, case, stacked, in_dims)
        assert [str(t.dtype) for t in ours] == [str(t.dtype) for t in theirs]
        _compare(f"vmap ({name}) vs torch.func.vmap", case, ours, theirs)


DIFFERENTIABLE = [case for case in CASES if case.differentiable]


def _cotangents(case, stacked) -> list:
    """Non-uniform output cotangents, BATCH of them, from one forward of the loop."""
    rng = np.random.default_rng(5)
    outs = _loop(case, stacked, (0,) * len(stacked))
    return [rng.uniform(0.5, 1.5, out.shape).astype(out.dtype) for out in outs]


def _our_per_sample_vjp(case, stacked, cotangents):
    def vjp(*args):
        n = len(stacked)
        xs = [x.detach().requires_grad_() for x in args[:n]]
        outs = _flat(case.fn(gradienti, *xs))
        wanted = [(out, v) for out, v in zip(outs, args[n:]) if out.requires_grad]
        grads = gradienti.autograd.grad(
            [out for out, _ in wanted], xs, [v for _, v in wanted], allow_unused=True
        )
        return tuple(gradienti.zeros_like(x) if g is None else g for x, g in zip(xs, grads))

    args = [gradienti.tensor(a) for a in stacked + cotangents]
    return [_np(g) for g in gradienti.vmap(vjp)(*args)]


def _their_per_sample_vjp(torch, case, stacked, cotangents):
    def vjp(*args):
        n = len(stacked)
        outs, pullback = torch.func.vjp(lambda *xs: tuple(_flat(case.fn(torch, *xs))), *args[:n])
        return pullback(tuple(args[n:]))

    args = [torch.tensor(a) for a in stacked + cotangents]
    return [_np(g) for g in torch.func.vmap(vjp)(*args)]


@pytest.mark.parametrize("case", _params(DIFFERENTIABLE))
def test_per_sample_gradients_match_torch(case):
    torch = pytest.importorskip("torch")
    if case.name in TORCH_CANNOT:
        pytest.skip(TORCH_CANNOT[case.name])
    stacked = _samples(case)
    if _refusal(case, stacked, (0,) * len(stacked)):
        return
    cotangents = _cotangents(case, stacked)
    before = sum(FALLBACKS.values())
    ours = _our_per_sample_vjp(case, stacked, cotangents)
    if case.name not in EXPECTED_FALLBACKS:
        assert sum(FALLBACKS.values()) == before, f"[{case.name}] a VJP fell back"
    theirs = _their_per_sample_vjp(torch, case, stacked, cotangents)
    _compare("per-sample gradient vs torch", case, ours, theirs)


def _through_vmap(lib, case, stacked, cotangents):
    """Gradients of ``sum(vmap(f)(xs) * v)`` with respect to the unbatched-shaped inputs:
    the first input mapped over, the others shared by every sample."""
    xs = [lib.tensor(stacked[0], requires_grad=True)] + [
        lib.tensor(array[0], requires_grad=True) for array in stacked[1:]
    ]
    in_dims = (0,) + (None,) * (len(xs) - 1)
    vmap = gradienti.vmap if lib is gradienti else lib.func.vmap
    outs = _flat(vmap(lambda *args: case.fn(lib, *args), in_dims=in_dims)(*xs))
    total = sum(
        (out * lib.tensor(v)).sum() for out, v in zip(outs, cotangents) if out.requires_grad
    )
    if not isinstance(total, (gradienti.Tensor,)) and lib is gradienti:
        return []
    return [
        np.zeros(tuple(x.shape)) if g is None else _np(g)
        for x, g in zip(xs, lib.autograd.grad(total, xs, allow_unused=True))
    ]


@pytest.mark.parametrize("case", _params(DIFFERENTIABLE))
def test_gradients_through_vmap_match_torch(case):
    torch = pytest.importorskip("torch")
    if case.name in TORCH_CANNOT:
        pytest.skip(TORCH_CANNOT[case.name])
    stacked = _samples(case)
    in_dims = (0,) + (None,) * (len(stacked) - 1)
    if _refusal(case, stacked, in_dims):
        return
    cotangents = [
        np.random.default_rng(9).uniform(0.5, 1.5, out.shape).astype(out.dtype)
        for out in _loop(case, stacked, in_dims)
    ]
    ours = _through_vmap(gradienti, case, stacked, cotangents)
    theirs = _through_vmap(torch, case, stacked, cotangents)
    _compare("gradient through vmap vs torch", case, ours, theirs)
