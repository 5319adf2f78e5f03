"""index_select's out-of-range errors against torch: ATen's CPU kernel has several paths,
each with its own words. An input of at most one dim, or selected along a dim other than 1,
raises ``IndexError: index out of range in self`` (negative indices too); along dim 1 of an
input with more dims, or on an empty input, a RuntimeError naming the first index out of range.
A 0-d input takes exactly one index and gives a 0-d result. A failed call changes nothing."""

import pytest

import gradienti


@pytest.fixture
def torch():
    return pytest.importorskip("torch")  # the oracle


CASES = [
    # (input shape, dim, index values)
    ((3,), 0, [5]),
    ((3,), 0, [-1]),
    ((3,), 0, [0, 3]),
    ((0,), 0, [0]),
    ((2, 3), 0, [2]),
    ((2, 3), 0, [-1]),
    ((2, 3), -2, [0, 4]),
    ((2, 3), 1, [3]),
    ((2, 3), -1, [3]),
    ((2, 3), 1, [-1]),
    ((2, 3), 1, [0, 5, -9]),
    ((2, 3), 1, [0, -5, 9]),
    ((2, 3, 4), 0, [0, 7]),
    ((2, 3, 4), 1, [0, 7]),
    ((2, 3, 4), 2, [0, 7]),
    ((2, 3, 4, 5), 1, [3]),
    ((2, 3, 4, 5), 3, [5]),
    ((2, 0), 1, [0]),
    ((0, 3), 0, [0]),
    ((0, 3), 1, [5]),
    ((0, 3, 4), 2, [5]),
    ((2, 0, 3), 1, [0]),
    ((2, 0, 3), 0, [2]),
    ((), 0, [1]),
    ((), 0, [-1]),
    ((), 0, [0, 0]),
    ((), 0, []),
]


def outcome(module, shape, dim, values, method: bool):
    input = module.arange(float(_numel(shape))).reshape(shape)
    index = module.tensor(values, dtype=module.int64)
    try:
        result = (
            input.index_select(dim, index) if method else module.index_select(input, dim, index)
        )
    except Exception as error:  # noqa: BLE001 (the class and text are what is compared)
        return type(error).__name__, str(error)
    return "ok", tuple(result.shape), result.tolist()


def _numel(shape):
    count = 1
    for size in shape:
        count *= size
    return count


@pytest.mark.parametrize("method", [False, True])
@pytest.mark.parametrize(("shape", "dim", "values"), CASES)
def test_index_select_range_errors_match_torch(torch, shape, dim, values, method):
    assert outcome(gradienti, shape, dim, values, method) == outcome(
        torch, shape, dim, values, method
    )


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_index_dtype_and_non_contiguous_input(torch, dtype):
    expected = outcome(torch, (2, 3), 1, [3], True)
    xt = torch.arange(6.0).reshape(3, 2).t()
    xg = gradienti.arange(6.0).reshape(3, 2).t()
    for x, module, want in ((xt, torch, expected), (xg, gradienti, expected)):
        with pytest.raises(RuntimeError) as info:
            x.index_select(1, module.tensor([3], dtype=getattr(module, dtype)))
        assert str(info.value) == want[1]


def test_zero_dim_input_gives_zero_dim_result_and_gradient(torch):
    xt = torch.tensor(2.0, requires_grad=True)
    xg = gradienti.tensor(2.0, requires_grad=True)
    yt = xt.index_select(0, torch.tensor([0]))
    yg = xg.index_select(0, gradienti.tensor([0]))
    assert tuple(yg.shape) == tuple(yt.shape) == ()
    (yt * 3).backward()
    (yg * 3).backward()
    assert xg.grad.item() == xt.grad.item() == 3.0


def test_embedding_out_of_range_text(torch):
    for module in (torch, gradienti):
        weight = module.zeros(3, 2)
        for values in ([[0, 7]], [-1]):
            with pytest.raises(IndexError, match="^index out of range in self$"):
                module.nn.functional.embedding(module.tensor(values), weight)
