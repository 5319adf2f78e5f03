"""nn.utils.rnn's packing against PyTorch: PackedSequence, pack_padded_sequence,
pad_packed_sequence, pack_sequence, unpack_sequence, invert_permutation (values, batch sizes,
indices, printed text, gradients with a non-uniform upstream gradient, the nodes recorded,
errors), and float64 gradcheck/gradgradcheck and forward-mode tangents of packing and padding."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti
from gradienti.autograd import forward_ad, gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

LIBS = (gradienti, torch)


def _padded(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _both(function):
    """``function(lib)`` run with gradienti and with torch."""
    return function(gradienti), function(torch)


def _same(ours, theirs, atol=0.0):
    assert str(ours.dtype) == str(theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=atol)


def _same_packed(ours, theirs):
    _same(ours.data, theirs.data)
    _same(ours.batch_sizes, theirs.batch_sizes)
    for mine, reference in (
        (ours.sorted_indices, theirs.sorted_indices),
        (ours.unsorted_indices, theirs.unsorted_indices),
    ):
        assert (mine is None) == (reference is None)
        if mine is not None:
            _same(mine, reference)


PACK_CASES = [
    # (padded shape, lengths, batch_first, enforce_sorted)
    ((5, 3), [5, 3, 1], False, True),
    ((5, 3, 2), [5, 5, 2], False, True),
    ((3, 4, 2), [4, 2, 2], True, True),
    ((4, 6, 2, 3), [2, 4, 1, 4, 3, 2], False, False),
    ((3, 5, 2), [1, 5, 3], True, False),
    ((4, 3, 2), [3, 4, 1], False, False),
]


@pytest.mark.parametrize("shape, lengths, batch_first, enforce_sorted", PACK_CASES)
@pytest.mark.parametrize("lengths_kind", ["list", "tensor"])
def test_pack_then_pad_against_torch(shape, lengths, batch_first, enforce_sorted, lengths_kind):
    padded_array = _padded(shape)

    def run(lib):
        padded = lib.tensor(padded_array, requires_grad=True)
        given = lengths if lengths_kind == "list" else lib.tensor(lengths)
        packed = lib.nn.utils.rnn.pack_padded_sequence(
            padded, given, batch_first=batch_first, enforce_sorted=enforce_sorted
        )
        out, out_lengths = lib.nn.utils.rnn.pad_packed_sequence(
            packed, batch_first=batch_first, padding_value=-2.5
        )
        upstream_packed = lib.tensor(
            np.random.default_rng(2).standard_normal(tuple(packed.data.shape)).astype(np.float32)
        )
        upstream_out = lib.tensor(
            np.random.default_rng(3).standard_normal(tuple(out.shape)).astype(np.float32)
        )
        node = packed.data.grad_fn
        saved = (node._saved_batch_first, tuple(node._saved_input_sym_sizes), node._saved_result1)
        ((packed.data * upstream_packed).sum() + (out * upstream_out).sum()).backward()
        return packed, out, out_lengths, padded.grad, saved

    ours, theirs = _both(run)
    _same_packed(ours[0], theirs[0])
    for mine, reference in zip(ours[1:4], theirs[1:4], strict=True):
        _same(mine, reference)
    assert type(ours[0].data.grad_fn).__name__ == type(theirs[0].data.grad_fn).__name__
    assert type(ours[1].grad_fn).__name__ == type(theirs[1].grad_fn).__name__
    assert ours[4][:2] == theirs[4][:2]
    _same(ours[4][2], theirs[4][2])


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("total_length", [None, 4, 7])
def test_pad_packed_sequence_total_length_and_padding_against_torch(batch_first, total_length):
    def run(lib):
        sequences = [lib.arange(n * 2, dtype=lib.float64).reshape(n, 2) + n for n in (4, 1, 3)]
        packed = lib.nn.utils.rnn.pack_sequence(sequences, enforce_sorted=False)
        return lib.nn.utils.rnn.pad_packed_sequence(
            packed, batch_first=batch_first, padding_value=7, total_length=total_length
        )

    (ours, our_lengths), (theirs, their_lengths) = _both(run)
    _same(ours, theirs)
    _same(our_lengths, their_lengths)


def test_integer_sequences_pack_and_print_as_torch():
    def run(lib):
        sequences = [lib.tensor([1, 2, 3]), lib.tensor([4, 5]), lib.tensor([6])]
        packed = lib.nn.utils.rnn.pack_sequence(sequences)
        unsorted = lib.nn.utils.rnn.pack_sequence(sequences[::-1], enforce_sorted=False)
        return packed, unsorted, lib.nn.utils.rnn.unpack_sequence(unsorted)

    ours, theirs = _both(run)
    assert repr(ours[0]) == repr(theirs[0])
    assert repr(ours[1]) == repr(theirs[1])
    assert str(ours[2]) == str(theirs[2])
    _same_packed(ours[1], theirs[1])


def test_pack_sequence_and_unpack_sequence_gradients_against_torch():
    arrays = [_padded((n, 3), seed=n) for n in (2, 5, 3)]

    def run(lib):
        sequences = [lib.tensor(array, requires_grad=True) for array in arrays]
        packed = lib.nn.utils.rnn.pack_sequence(sequences, enforce_sorted=False)
        unpacked = lib.nn.utils.rnn.unpack_sequence(packed)
        total = sum(
            ((part * lib.tensor(_padded(tuple(part.shape), seed=10 + i))).sum())
            for i, part in enumerate(unpacked)
        )
        total.backward()
        return [*unpacked, *(sequence.grad for sequence in sequences)]

    ours, theirs = _both(run)
    for mine, reference in zip(ours, theirs, strict=True):
        _same(mine, reference)


def test_packed_sequence_is_torchs_namedtuple():
    def run(lib):
        rnn = lib.nn.utils.rnn
        packed = rnn.pack_sequence([lib.ones(2, 2), lib.zeros(1, 2)])
        rebuilt = rnn.PackedSequence((packed.data, packed.batch_sizes))
        with_indices = rnn.PackedSequence(packed.data, packed.batch_sizes, lib.tensor([1, 0]))
        return packed, rebuilt, with_indices

    ours, theirs = _both(run)
    for mine, reference in zip(ours, theirs, strict=True):
        assert repr(mine) == repr(reference)
        assert isinstance(mine, tuple)
        assert mine._fields == reference._fields
    packed = ours[0]
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert data is packed.data and sorted_indices is None and unsorted_indices is None
    assert batch_sizes is packed.batch_sizes


def test_packed_sequence_conversions_against_torch():
    def run(lib):
        packed = lib.nn.utils.rnn.pack_sequence(
            [lib.ones(2, 2), lib.full((3, 2), 0.5)], enforce_sorted=False
        )
        return {
            "same": packed.to(lib.float32) is packed and packed.float() is packed,
            "cpu": packed.cpu() is packed,
            "is_cuda": packed.is_cuda,
            "is_pinned": packed.is_pinned(),
            "double": packed.double(),
            "half": packed.half(),
            "long": packed.long(),
            "int": packed.int(),
            "short": packed.short(),
            "char": packed.char(),
            "byte": packed.byte(),
            "to": packed.to(dtype=lib.float64),
        }

    ours, theirs = _both(run)
    for key in ("same", "cpu", "is_cuda", "is_pinned"):
        assert ours[key] == theirs[key], key
    for key in ("double", "half", "long", "int", "short", "char", "byte", "to"):
        assert type(ours[key]).__name__ == "PackedSequence"
        _same_packed(ours[key], theirs[key])
        assert ours[key].batch_sizes.dtype == gradienti.int64


def test_packed_sequence_errors_as_torch():
    def check(function):
        outcomes = []
        for lib in LIBS:
            with pytest.raises(Exception) as caught:
                function(lib)
            outcomes.append((type(caught.value).__name__, str(caught.value)))
        assert outcomes[0] == outcomes[1]

    check(lambda lib: lib.nn.utils.rnn.PackedSequence(lib.ones(3)))
    check(lambda lib: lib.nn.utils.rnn.PackedSequence((lib.ones(3),)))
    check(lambda lib: lib.nn.utils.rnn.pack_sequence([lib.ones(2)]).cuda())
    check(lambda lib: lib.nn.utils.rnn.pack_sequence([lib.ones(2)]).pin_memory())


def test_invert_permutation_against_torch():
    def run(lib):
        invert = lib.nn.utils.rnn.invert_permutation
        return invert(lib.tensor([3, 0, 2, 1])), invert(None)

    ours, theirs = _both(run)
    _same(ours[0], theirs[0])
    assert ours[1] is None and theirs[1] is None


PACK_ERRORS = [
    # (padded shape, lengths, keyword arguments)
    ((4, 3, 2), [4, 2, 5], {}),
    ((4, 3, 2), [2, 4, 1], {}),
    ((4, 3, 2), [4, 2, 0], {}),
    ((4, 3, 2), [4, 2], {}),
    ((4, 3, 2), [4, 2, 1], {"batch_first": True}),
    ((4, 3, 2), [[4, 2, 1]], {}),
    ((4, 3, 2), "scalar", {}),
    ((4, 3, 2), [-1, 2, 3], {"enforce_sorted": False}),
    ((0, 3), [0, 0, 0], {}),
    ((4, 3, 0), [4, 2, 1], {}),
    ((3,), [3], {"batch_first": True}),
    ((3,), [3], {}),
    ((), [1], {}),
    ((), [1], {"batch_first": True}),
]


@pytest.mark.parametrize("shape, lengths, kwargs", PACK_ERRORS)
def test_pack_padded_sequence_errors_as_torch(shape, lengths, kwargs):
    padded_array = _padded(shape)
    outcomes = []
    for lib in LIBS:
        given = lib.tensor(3) if lengths == "scalar" else lengths
        padded = lib.tensor(padded_array)
        with pytest.raises(Exception) as caught:
            lib.nn.utils.rnn.pack_padded_sequence(padded, given, **kwargs)
        outcomes.append((type(caught.value).__name__, str(caught.value)))
        np.testing.assert_array_equal(padded.numpy(), padded_array)  # a failed call changes nothing
    assert outcomes[0] == outcomes[1]


def test_pad_packed_sequence_short_total_length_as_torch():
    outcomes = []
    for lib in LIBS:
        packed = lib.nn.utils.rnn.pack_sequence([lib.ones(4), lib.ones(2)])
        with pytest.raises(ValueError) as caught:
            lib.nn.utils.rnn.pad_packed_sequence(packed, total_length=3)
        outcomes.append(str(caught.value))
    assert outcomes[0] == outcomes[1]


def test_lengths_beyond_the_padded_steps_as_torch():
    """PyTorch counts such a length in batch_sizes but packs only the steps there are."""

    def run(lib):
        return lib.nn.utils.rnn.pack_padded_sequence(lib.tensor(_padded((4, 3, 2))), [5, 2, 1])

    ours, theirs = _both(run)
    _same_packed(ours, theirs)


# ---------------------------------------------------------------------- derivatives (float64)
def _pack_data(batch_first):
    def function(padded):
        lengths = [3, 3, 1] if not batch_first else [4, 2, 2]
        return gradienti.nn.utils.rnn.pack_padded_sequence(
            padded, lengths, batch_first=batch_first, enforce_sorted=True
        ).data

    return function


def _pad_packed(data):
    packed = gradienti.nn.utils.rnn.PackedSequence(
        data, gradienti.tensor([3, 2, 1]), gradienti.tensor([2, 0, 1])
    )
    return gradienti.nn.utils.rnn.pad_packed_sequence(packed, batch_first=True, total_length=4)[0]


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_gradcheck_and_gradgradcheck(batch_first):
    shape = (3, 4, 2) if batch_first else (3, 3, 2)
    padded = gradienti.tensor(_padded(shape).astype(np.float64), requires_grad=True)
    assert gradcheck(_pack_data(batch_first), (padded,))
    assert gradgradcheck(_pack_data(batch_first), (padded,))


def test_pad_gradcheck_and_gradgradcheck():
    data = gradienti.tensor(_padded((6, 2)).astype(np.float64), requires_grad=True)
    assert gradcheck(_pad_packed, (data,))
    assert gradgradcheck(_pad_packed, (data,))


def test_forward_mode_tangents_against_torch():
    """Packing and padding are linear: the tangents are the tangent packed and padded (with
    zeros). PyTorch has no forward derivative for its packing op (NotImplementedError); this
    compares with its packing of the tangent itself."""
    primal_array = _padded((4, 3, 2)).astype(np.float64)
    tangent_array = _padded((4, 3, 2), seed=5).astype(np.float64)
    rnn = gradienti.nn.utils.rnn
    with forward_ad.dual_level():
        padded = forward_ad.make_dual(
            gradienti.tensor(primal_array), gradienti.tensor(tangent_array)
        )
        packed = rnn.pack_padded_sequence(padded, [3, 4, 1], enforce_sorted=False)
        out, _ = rnn.pad_packed_sequence(packed, batch_first=True, padding_value=1.5)
        ours = (forward_ad.unpack_dual(packed.data).tangent, forward_ad.unpack_dual(out).tangent)
    with pytest.raises(NotImplementedError), torch.autograd.forward_ad.dual_level():
        dual = torch.autograd.forward_ad.make_dual(
            torch.tensor(primal_array), torch.tensor(tangent_array)
        )
        torch.nn.utils.rnn.pack_padded_sequence(dual, [3, 4, 1], enforce_sorted=False)
    tangent_packed = torch.nn.utils.rnn.pack_padded_sequence(
        torch.tensor(tangent_array), [3, 4, 1], enforce_sorted=False
    )
    theirs = (
        tangent_packed.data,
        torch.nn.utils.rnn.pad_packed_sequence(tangent_packed, batch_first=True)[0],
    )
    for mine, reference in zip(ours, theirs, strict=True):
        _same(mine, reference)


@pytest.mark.parametrize("sequences", [5, None])
def test_pad_sequence_of_a_non_iterable_as_torch(sequences):
    outcomes = []
    for lib in LIBS:
        with pytest.raises(RuntimeError) as caught:
            lib.nn.utils.rnn.pad_sequence(sequences)
        outcomes.append(str(caught.value))
    assert outcomes[0] == outcomes[1]


@pytest.mark.filterwarnings("ignore:There is a performance drop")
def test_pack_and_pad_under_vmap_against_torch():
    """PyTorch runs its packing per sample under vmap (with a performance warning); here the
    indexing runs on the whole batch at once."""
    samples = _padded((2, 4, 3, 2)).astype(np.float64)

    def run(lib):
        rnn = lib.nn.utils.rnn

        def function(padded):
            packed = rnn.pack_padded_sequence(padded, [4, 2, 1])
            return rnn.pad_packed_sequence(packed, batch_first=True, padding_value=-1.0)[0] * 2

        return lib.func.vmap(function)(lib.tensor(samples))

    ours, theirs = _both(run)
    _same(ours, theirs)


def test_saved_tensor_hooks_see_what_torch_saves():
    def run(lib):
        seen = []

        def pack_hook(saved):
            seen.append((tuple(saved.shape), str(saved.dtype)))
            return saved

        with lib.autograd.graph.saved_tensors_hooks(pack_hook, lambda saved: saved):
            padded = lib.ones(3, 2, 2, requires_grad=True)
            packed = lib.nn.utils.rnn.pack_padded_sequence(padded, [3, 1])
            out, _ = lib.nn.utils.rnn.pad_packed_sequence(packed)
            (out * lib.arange(12.0).reshape(3, 2, 2)).sum().backward()
        return seen, padded.grad

    ours, theirs = _both(run)
    assert ours[0] == theirs[0]
    _same(ours[1], theirs[1])


BAD_BATCH_SIZES = [
    (sizes, dtype)
    for sizes in ([2, 1], [[2, 1]])
    for dtype in ("int32", "int64", "float32")
    if (np.ndim(sizes), dtype) != (1, "int64")  # that one is a valid PackedSequence
]


@pytest.mark.parametrize("batch_sizes, dtype", BAD_BATCH_SIZES)
def test_pad_packed_sequence_refuses_batch_sizes_as_torch(batch_sizes, dtype):
    outcomes = []
    for lib in LIBS:
        rnn = lib.nn.utils.rnn
        packed = rnn.PackedSequence(
            lib.ones(3, 2), lib.tensor(batch_sizes, dtype=getattr(lib, dtype))
        )
        with pytest.raises(RuntimeError) as caught:
            rnn.pad_packed_sequence(packed)
        outcomes.append(str(caught.value))
    assert outcomes[0] == outcomes[1]


def test_unpad_sequence_with_lengths_as_a_list_fails_as_torch():
    """PyTorch reads ``lengths.device`` (a list has none) after transposing in place."""
    outcomes = []
    for lib in LIBS:
        padded = lib.arange(6.0).reshape(3, 2)
        with pytest.raises(AttributeError) as caught:
            lib.nn.utils.rnn.unpad_sequence(padded, [3, 2])
        outcomes.append((str(caught.value), tuple(padded.shape)))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize("first_is_scalar", [True, False])
def test_pad_sequence_of_a_zero_dimensional_sequence_raises_as_torch(first_is_scalar):
    # len() of a 0-d tensor raised Python's TypeError; ATen raises while reading the sizes
    def call(lib):
        sequences = [lib.tensor(1.0), lib.ones(2)]
        if not first_is_scalar:
            sequences.reverse()
        return lib.nn.utils.rnn.pad_sequence(sequences)

    errors = []
    for lib in LIBS:
        with pytest.raises(Exception) as caught:
            call(lib)
        errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1]
