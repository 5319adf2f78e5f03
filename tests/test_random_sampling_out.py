"""``out=`` of normal, bernoulli and multinomial against torch: PyTorch draws straight into
``out`` (its dtype, its memory order, normal_'s element-by-element kernel when it is not
contiguous), resizes it (with or without the deprecation warning, kernel by kernel), and
refuses a bad ``out`` with its own texts; the generator ends where PyTorch's does."""

import warnings

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")


def _cases(lib):
    mean = lib.tensor([0.0, 1.0, 2.0])
    std = lib.tensor([0.5, 1.0, 2.0])
    p = lib.tensor([0.2, 0.5, 0.9])
    return [
        lambda: lib.normal(mean, 1.5, out=lib.zeros(3)),
        lambda: lib.normal(mean, 1.5, out=lib.zeros(3, dtype=lib.float64)),
        lambda: lib.normal(mean, 1.5, out=lib.zeros(5)),
        lambda: lib.normal(mean, 1.5, out=lib.zeros(0)),
        lambda: lib.normal(mean, 1.5, out=lib.zeros(1)),
        lambda: lib.normal(mean, 1.5, out=lib.zeros(2, 3)),
        lambda: lib.normal(2.0, std, out=lib.zeros(3)),
        lambda: lib.normal(mean, std, out=lib.zeros(3)),
        lambda: lib.normal(mean[:1], std, out=lib.zeros(3, dtype=lib.float64)),
        lambda: lib.normal(mean.double(), std, out=lib.zeros(3)),
        lambda: lib.normal(mean, std, out=lib.zeros(20, 3).t()),
        lambda: lib.normal(lib.zeros(20, 3), 1.0, out=lib.zeros(3, 20).t()),
        lambda: lib.normal(0.0, 1.0, (20,), out=lib.zeros(20)),
        lambda: lib.normal(0.0, 1.0, (20,), out=lib.zeros(20, dtype=lib.float64)),
        lambda: lib.normal(0.0, 1.0, (3, 4), out=lib.zeros(4, 3).t()),
        lambda: lib.normal(0.0, 1.0, (3,), out=lib.zeros(3), dtype=lib.float64),
        lambda: lib.normal(0.0, 1.0, (3,), out=lib.zeros(3, dtype=lib.int64)),
        lambda: lib.normal(mean, 1.0, out=lib.zeros(3, dtype=lib.int64)),
        lambda: lib.normal(mean, -1.0, out=lib.zeros(3)),
        lambda: lib.normal(mean, 1.0, out=[1]),
        lambda: lib.normal(mean.clone().requires_grad_(), 1.0, out=lib.zeros(3)),
        lambda: lib.normal(mean, lib.tensor([1.0, -1.0, 1.0]), out=lib.zeros(3)),
        lambda: lib.normal(mean, std[:2], out=lib.zeros(3)),
        lambda: lib.bernoulli(p, out=lib.zeros(3)),
        lambda: lib.bernoulli(p, out=lib.zeros(3, dtype=lib.int64)),
        lambda: lib.bernoulli(p, out=lib.zeros(7)),
        lambda: lib.bernoulli(lib.full((3, 5), 0.5), out=lib.zeros(5, 3).t()),
        lambda: lib.bernoulli(p, 0.3, out=lib.zeros(3)),
        lambda: lib.bernoulli(p, out=[1]),
        lambda: lib.bernoulli(p.clone().requires_grad_(), out=lib.zeros(3)),
        lambda: lib.multinomial(p, 2, out=lib.zeros(2, dtype=lib.int64)),
        lambda: lib.multinomial(p, 7, True, out=lib.zeros(0, dtype=lib.int64)),
        lambda: lib.multinomial(lib.ones(4, 5), 3, out=lib.zeros(3, 4, dtype=lib.int64).t()),
        lambda: lib.multinomial(p, 5, out=lib.zeros(2, dtype=lib.int32)),
        lambda: lib.multinomial(p, 2, out=[1]),
        lambda: lib.multinomial(p.clone().requires_grad_(), 2, out=lib.zeros(2, dtype=lib.int64)),
    ]


def _run(lib, index):
    lib.manual_seed(3)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        try:
            out = _cases(lib)[index]()
            result = (str(out.dtype), tuple(out.shape), out.numpy().tolist())
        except Exception as error:  # noqa: BLE001 - the class and text are compared
            result = (type(error).__name__, str(error).split(" (Triggered internally")[0])
    after = lib.rand(2).numpy().tolist()  # the generator ends where torch's does
    messages = [str(w.message).split(" (Triggered internally")[0] for w in warned]
    return result, after, messages


@pytest.mark.parametrize("index", range(len(_cases(torch))))
def test_out_of_the_samplers_matches_torch(index):
    ours, theirs = _run(gradienti, index), _run(torch, index)
    assert ours[0][0].replace("gradienti", "torch") == theirs[0][0]
    assert ours[0][1:] == theirs[0][1:]
    assert ours[1:] == theirs[1:]


def test_out_is_returned_and_written():
    for lib in (gradienti, torch):
        lib.manual_seed(0)
        out = lib.zeros(4)
        assert lib.normal(lib.zeros(4), 1.0, out=out) is out
        assert np.count_nonzero(out.numpy()) == 4
