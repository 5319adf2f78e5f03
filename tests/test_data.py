"""gradienti.utils.data against torch.utils.data: batches, collation, shuffle order, RNG."""

import warnings

import numpy as np
import pytest
import torch
from torch.utils import data as tdata

import gradienti
from gradienti.utils import data as gdata


def _arange_datasets(n, feature=3):
    x = np.arange(n * feature, dtype=np.float32).reshape(n, feature)
    y = np.arange(n, dtype=np.int64)
    g = gdata.TensorDataset(gradienti.tensor(x), gradienti.tensor(y))
    t = tdata.TensorDataset(torch.tensor(x), torch.tensor(y))
    return g, t


def _same(a, b):
    if isinstance(b, torch.Tensor):
        assert isinstance(a, gradienti.Tensor)
        assert str(a.dtype) == str(b.dtype)
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    elif isinstance(b, dict):
        assert isinstance(a, dict) and list(a) == list(b)
        for key in b:
            _same(a[key], b[key])
    elif isinstance(b, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for u, v in zip(a, b):
            _same(u, v)
    else:
        assert a == b


@pytest.mark.parametrize("n", [1, 7, 10])
@pytest.mark.parametrize("batch_size", [1, 3, 5, 10, 12])
@pytest.mark.parametrize("drop_last", [False, True])
def test_batches_and_length_match_torch(n, batch_size, drop_last):
    g, t = _arange_datasets(n)
    gl = gdata.DataLoader(g, batch_size=batch_size, drop_last=drop_last)
    tl = tdata.DataLoader(t, batch_size=batch_size, drop_last=drop_last)
    assert len(gl) == len(tl)
    got, want = list(gl), list(tl)
    assert len(got) == len(want) == len(tl)
    for a, b in zip(got, want):
        _same(a, b)


def test_batch_size_none_gives_samples():
    g, t = _arange_datasets(4)
    got = list(gdata.DataLoader(g, batch_size=None))
    want = list(tdata.DataLoader(t, batch_size=None))
    assert len(got) == len(want) == 4
    for a, b in zip(got, want):
        _same(a, b)


class _Items:
    def __init__(self, items):
        self.items = items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


def test_collation_of_numbers_tuples_lists_dicts_strings():
    def items(lib):
        return [
            {
                "x": lib.tensor([float(i), -float(i)]),
                "n": i,
                "f": i / 2,
                "b": i % 2 == 0,
                "s": f"s{i}",
                "pair": (i, lib.tensor(i)),
                "list": [i * 1.5, [i, i + 1]],
                "np": np.full(2, i, dtype=np.float32),
                "npscalar": np.int32(i),
            }
            for i in range(5)
        ]

    got = list(gdata.DataLoader(_Items(items(gradienti)), batch_size=2))
    want = list(tdata.DataLoader(_Items(items(torch)), batch_size=2))
    assert len(got) == len(want) == 3
    for a, b in zip(got, want):
        _same(a, b)


def test_default_collate_matches_torch():
    _same(gdata.default_collate([1, 2, 3]), tdata.default_collate([1, 2, 3]))
    _same(gdata.default_collate([1.0, 2.5]), tdata.default_collate([1.0, 2.5]))
    _same(gdata.default_collate([(1, 2.0), (3, 4.0)]), tdata.default_collate([(1, 2.0), (3, 4.0)]))
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal"):
        gdata.default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate"):
        gdata.default_collate([object()])


def test_custom_collate_fn_and_samplers():
    g, _ = _arange_datasets(6)
    loader = gdata.DataLoader(g, batch_size=4, collate_fn=lambda batch: len(batch))
    assert list(loader) == [4, 2]
    assert list(gdata.SequentialSampler(range(4))) == [0, 1, 2, 3]
    sampler = gdata.BatchSampler(gdata.SequentialSampler(range(7)), 3, False)
    assert list(sampler) == [[0, 1, 2], [3, 4, 5], [6]] and len(sampler) == 3
    sampler = gdata.BatchSampler(range(7), 3, True)
    assert list(sampler) == [[0, 1, 2], [3, 4, 5]] and len(sampler) == 2
    loader = gdata.DataLoader(g, batch_sampler=[[5, 0], [2]])
    assert [b[1].tolist() for b in loader] == [[5, 0], [2]]
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        gdata.DataLoader(g, shuffle=True, sampler=gdata.SequentialSampler(g))
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        gdata.DataLoader(g, batch_size=2, batch_sampler=[[0]])


def _index_batches(loader):
    return [batch[1].tolist() for batch in loader]


@pytest.mark.parametrize("seed", [0, 1, 42, 2024, 123456789])
@pytest.mark.parametrize("batch_size,drop_last", [(1, False), (4, False), (4, True), (33, False)])
def test_shuffle_order_and_global_rng_match_torch(seed, batch_size, drop_last):
    g, t = _arange_datasets(70)
    gradienti.manual_seed(seed)
    torch.manual_seed(seed)
    gl = gdata.DataLoader(g, batch_size=batch_size, shuffle=True, drop_last=drop_last)
    tl = tdata.DataLoader(t, batch_size=batch_size, shuffle=True, drop_last=drop_last)
    for _epoch in range(2):  # a second epoch reshuffles, from the moved default generator
        assert _index_batches(gl) == _index_batches(tl)
    np.testing.assert_array_equal(gradienti.rand(3).numpy(), torch.rand(3).numpy())


@pytest.mark.parametrize("seed", [0, 7, 31337])
def test_shuffle_with_generator_matches_torch(seed):
    g, t = _arange_datasets(50)
    gradienti.manual_seed(1000 + seed)
    torch.manual_seed(1000 + seed)
    gg = gradienti.Generator().manual_seed(seed)
    tg = torch.Generator().manual_seed(seed)
    gl = gdata.DataLoader(g, batch_size=8, shuffle=True, generator=gg)
    tl = tdata.DataLoader(t, batch_size=8, shuffle=True, generator=tg)
    for _epoch in range(2):
        assert _index_batches(gl) == _index_batches(tl)
    # the default generator was not touched, and the given one moved alike
    np.testing.assert_array_equal(gradienti.rand(3).numpy(), torch.rand(3).numpy())
    np.testing.assert_array_equal(
        gradienti.rand(3, generator=gg).numpy(), torch.rand(3, generator=tg).numpy()
    )


def test_unshuffled_iteration_keeps_global_rng_in_sync():
    g, t = _arange_datasets(9)
    gradienti.manual_seed(5)
    torch.manual_seed(5)
    list(gdata.DataLoader(g, batch_size=2))
    list(tdata.DataLoader(t, batch_size=2))
    np.testing.assert_array_equal(gradienti.rand(3).numpy(), torch.rand(3).numpy())


@pytest.mark.parametrize("seed", [0, 3, 99])
def test_random_sampler_matches_torch(seed):
    gradienti.manual_seed(seed)
    torch.manual_seed(seed)
    assert list(gdata.RandomSampler(range(20))) == list(tdata.RandomSampler(range(20)))
    gs = gdata.RandomSampler(range(20), replacement=True, num_samples=70)
    ts = tdata.RandomSampler(range(20), replacement=True, num_samples=70)
    assert list(gs) == list(ts) and len(gs) == 70
    gs = gdata.RandomSampler(range(6), num_samples=15)
    ts = tdata.RandomSampler(range(6), num_samples=15)
    assert list(gs) == list(ts)
    np.testing.assert_array_equal(gradienti.rand(3).numpy(), torch.rand(3).numpy())


@pytest.mark.parametrize("seed", [0, 11, 42])
@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.3, 0.4], [0.5, 0.5], [10]])
def test_random_split_matches_torch(seed, lengths):
    data = list(range(10))
    gg = gradienti.Generator().manual_seed(seed)
    tg = torch.Generator().manual_seed(seed)
    got = gdata.random_split(data, lengths, generator=gg)
    want = tdata.random_split(data, lengths, generator=tg)
    assert [list(s.indices) for s in got] == [list(s.indices) for s in want]
    assert [[s[i] for i in range(len(s))] for s in got] == [list(s) for s in want]
    # with the default generator
    gradienti.manual_seed(seed)
    torch.manual_seed(seed)
    got = gdata.random_split(data, lengths)
    want = tdata.random_split(data, lengths)
    assert [list(s.indices) for s in got] == [list(s.indices) for s in want]
    np.testing.assert_array_equal(gradienti.rand(3).numpy(), torch.rand(3).numpy())


def test_random_split_errors():
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        gdata.random_split(range(10), [3, 3])
    with pytest.warns(UserWarning, match="This might result in an empty dataset"):
        gdata.random_split(range(2), [0.9, 0.05, 0.05])


def test_tensor_dataset_size_mismatch_and_indexing():
    with pytest.raises(AssertionError, match="^Size mismatch between tensors$"):
        gdata.TensorDataset(gradienti.zeros(3, 2), gradienti.zeros(4))
    with pytest.raises(AssertionError, match="^Size mismatch between tensors$"):
        tdata.TensorDataset(torch.zeros(3, 2), torch.zeros(4))
    g, t = _arange_datasets(5)
    assert len(g) == len(t) == 5
    _same(g[2], t[2])


def test_subset_and_concat():
    g, t = _arange_datasets(5)
    both = g + g
    assert isinstance(both, gdata.ConcatDataset) and len(both) == 10
    _same(both[7], (t + t)[7])
    _same(both[-1], (t + t)[-1])
    sub = gdata.Subset(g, [4, 0])
    assert len(sub) == 2
    _same(sub[0], t[4])
    batches = list(gdata.DataLoader(sub, batch_size=2))
    assert batches[0][1].tolist() == [4, 0]

    class Squares(gdata.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return i * i

    assert [b.tolist() for b in gdata.DataLoader(Squares(), batch_size=3)] == [[0, 1, 4], [9]]
    with pytest.raises(NotImplementedError):
        gdata.Dataset()[0]


def test_import_paths():
    import gradienti.utils.data as module

    assert module.DataLoader is gdata.DataLoader
    from gradienti.utils.data import DataLoader, TensorDataset  # noqa: F401


@pytest.mark.parametrize(
    "options",
    [
        dict(num_workers=0, prefetch_factor=2),
        dict(num_workers=0, persistent_workers=True),
        dict(num_workers=2, prefetch_factor=-1),
        dict(num_workers=-1),
        dict(no_such_option=1),
    ],
)
def test_loader_option_errors_as_torch(options):
    expected = _outcome(lambda: tdata.DataLoader(tdata.TensorDataset(torch.arange(4.0)), **options))
    got = _outcome(lambda: gdata.DataLoader(gdata.TensorDataset(gradienti.arange(4.0)), **options))
    assert got == expected and expected[0] != "ok"


def _outcome(call):
    try:
        call()
    except Exception as error:  # the class and the text are compared with torch's
        return type(error).__name__, str(error).replace("torch", "gradienti")
    return "ok", None


def test_workers_give_torchs_batches_in_this_process(monkeypatch):
    """num_workers > 0: the batches PyTorch's workers give (its sampler runs in the main
    process too), loaded here, with a one-time warning that there are no worker processes."""
    from gradienti.utils.data import dataloader as loader_module

    monkeypatch.setattr(loader_module, "_NO_WORKERS_SAID", [])
    torch.manual_seed(7)
    expected = [
        b[0].tolist()
        for b in tdata.DataLoader(_torch_set(), batch_size=3, shuffle=True, num_workers=2)
    ]
    gradienti.manual_seed(7)
    with pytest.warns(UserWarning, match="no worker processes: num_workers=2"):
        loader = gdata.DataLoader(_gradienti_set(), batch_size=3, shuffle=True, num_workers=2)
    assert [b[0].tolist() for b in loader] == expected
    assert (loader.num_workers, loader.prefetch_factor, loader.persistent_workers) == (2, 2, False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once per process
        gdata.DataLoader(_gradienti_set(), num_workers=1)


def test_pin_memory_warns_as_torch_without_an_accelerator():
    with pytest.warns(UserWarning) as expected:
        list(tdata.DataLoader(_torch_set(), pin_memory=True))
    with pytest.warns(UserWarning) as got:
        list(gdata.DataLoader(_gradienti_set(), pin_memory=True))
    assert [str(w.message) for w in got] == [str(w.message) for w in expected]


def _torch_set():
    return tdata.TensorDataset(torch.arange(10.0))


def _gradienti_set():
    return gdata.TensorDataset(gradienti.arange(10.0))
