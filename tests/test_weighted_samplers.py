"""``WeightedRandomSampler``, ``SubsetRandomSampler`` (bit-for-bit PyTorch's draws after the
same seed) and ``nn.utils.rnn.unpad_sequence``, against PyTorch."""

import numpy as np
import pytest

import gradienti
from gradienti.utils import data as gdata

torch = pytest.importorskip("torch")
from torch.utils import data as tdata  # noqa: E402

WEIGHTS = [0.1, 0.9, 0.4, 0.7, 3.0, 0.6]


@pytest.mark.parametrize("replacement", [True, False])
@pytest.mark.parametrize("seed", [0, 7, 123])
def test_weighted_random_sampler_draws_torchs_indices(seed, replacement):
    gradienti.manual_seed(seed)
    torch.manual_seed(seed)
    ours = gdata.WeightedRandomSampler(WEIGHTS, 5, replacement)
    theirs = tdata.WeightedRandomSampler(WEIGHTS, 5, replacement)
    assert list(ours) == list(theirs)
    assert list(ours) == list(theirs)  # a second pass draws on from the same stream
    assert len(ours) == len(theirs) == 5
    assert ours.weights.dtype == gradienti.float64
    assert gradienti.rand(3).tolist() == torch.rand(3).tolist()  # the stream is left alike


def test_weighted_random_sampler_with_a_generator_and_a_tensor_of_weights():
    ours_generator = gradienti.Generator().manual_seed(5)
    theirs_generator = torch.Generator().manual_seed(5)
    ours = gdata.WeightedRandomSampler(gradienti.tensor(WEIGHTS), 40, generator=ours_generator)
    theirs = tdata.WeightedRandomSampler(torch.tensor(WEIGHTS), 40, generator=theirs_generator)
    assert list(ours) == list(theirs)


def test_weighted_random_sampler_in_a_data_loader_like_torch():
    batches = []
    for lib, data in ((gradienti, gdata), (torch, tdata)):
        lib.manual_seed(1)
        dataset = data.TensorDataset(lib.arange(6.0))
        sampler = data.WeightedRandomSampler(WEIGHTS, 8)
        loader = data.DataLoader(dataset, batch_size=3, sampler=sampler)
        batches.append([batch[0].tolist() for batch in loader])
    assert batches[0] == batches[1]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ((WEIGHTS, 0), ValueError),
        ((WEIGHTS, 2.0), ValueError),
        ((WEIGHTS, True), ValueError),
        ((WEIGHTS, 3, 1), ValueError),
        (([[1.0, 2.0]], 3), ValueError),
    ],
)
def test_weighted_random_sampler_errors_like_torch(args, error):
    with pytest.raises(error) as ours:
        gdata.WeightedRandomSampler(*args)
    with pytest.raises(error) as theirs:
        tdata.WeightedRandomSampler(*args)
    assert str(ours.value) == str(theirs.value)


def test_weighted_random_sampler_without_replacement_asks_too_much_like_torch():
    with pytest.raises(RuntimeError) as ours:
        list(gdata.WeightedRandomSampler(WEIGHTS, 9, replacement=False))
    with pytest.raises(RuntimeError) as theirs:
        list(tdata.WeightedRandomSampler(WEIGHTS, 9, replacement=False))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("seed", [0, 42])
def test_subset_random_sampler_draws_torchs_order(seed):
    indices = [5, 7, 9, 11, 20, 3]
    gradienti.manual_seed(seed)
    torch.manual_seed(seed)
    ours = gdata.SubsetRandomSampler(indices)
    theirs = tdata.SubsetRandomSampler(indices)
    assert list(ours) == list(theirs)
    assert len(ours) == len(theirs) == 6
    ours = gdata.SubsetRandomSampler(indices, generator=gradienti.Generator().manual_seed(seed))
    theirs = tdata.SubsetRandomSampler(indices, generator=torch.Generator().manual_seed(seed))
    assert list(ours) == list(theirs)


def test_samplers_are_exported_like_torch():
    for name in ("WeightedRandomSampler", "SubsetRandomSampler"):
        assert name in gdata.__all__ and name in tdata.__all__
        assert getattr(gdata.sampler, name) is getattr(gdata, name)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_like_torch(batch_first):
    results = []
    shapes = []
    for lib in (gradienti, torch):
        source = lib.arange(21.0, dtype=lib.float64).reshape(7, 3).requires_grad_()
        sequences = [source[:3] * 1, source[3:5] * 2, source[5:6] * 3, source[6:] * 4]
        padded = lib.nn.utils.rnn.pad_sequence(sequences, batch_first=batch_first)
        lengths = lib.tensor([3, 2, 1, 1])
        unpadded = lib.nn.utils.rnn.unpad_sequence(padded, lengths, batch_first=batch_first)
        assert tuple(padded.shape) == (4, 3, 3)  # transposed in place when not batch_first
        if not batch_first:  # (pad_sequence's own graph differs: see nn/utils/rnn.py)
            shapes.append(type(padded.grad_fn).__name__)
        upstream = [lib.linspace(-1.0, 2.0, s.numel(), dtype=lib.float64) for s in unpadded]
        total = sum((s.reshape(-1) * u).sum() for s, u in zip(unpadded, upstream))
        total.backward()
        results.append(
            (
                [s.detach().numpy() for s in unpadded],
                [type(s.grad_fn).__name__ for s in unpadded],
                source.grad.numpy(),
            )
        )
    (ours, our_nodes, our_grad), (theirs, their_nodes, their_grad) = results
    assert len(ours) == len(theirs) == 4
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)
    assert our_nodes == their_nodes
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-14)
    assert shapes == ([] if batch_first else ["TransposeBackward1"] * 2)


def test_unpad_sequence_refuses_lengths_of_another_batch_like_torch():
    caught = []
    for lib in (gradienti, torch):
        padded = lib.zeros(4, 2, 3)
        with pytest.raises(ValueError) as error:
            lib.nn.utils.rnn.unpad_sequence(padded, lib.tensor([4, 2, 1]))
        caught.append(str(error.value))
    assert caught[0] == caught[1]
