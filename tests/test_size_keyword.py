"""``size=`` as a keyword on the factories that take the size as varargs (d2l's
``torch.rand(size=(2, 4))``): the same shape and stream as PyTorch's."""

import pytest

import gradienti

torch = pytest.importorskip("torch")

CALLS = [
    "zeros(size=(2, 3))",
    "ones(size=[2])",
    "empty(size=(0, 4)).shape",
    "rand(size=(2, 4))",
    "randn(size=(3,))",
    "randn(size=lib.Size([2, 2]))",
    "rand(size=())",
]


@pytest.mark.parametrize("call", CALLS)
def test_size_keyword_as_torch(call):
    def run(lib):
        lib.manual_seed(3)
        result = eval("lib." + call, {"lib": lib})
        return result if isinstance(result, tuple) else (tuple(result.shape), result.tolist())

    assert run(gradienti) == run(torch)


@pytest.mark.parametrize("name", ["zeros", "rand"])
def test_size_given_twice_is_refused(name):
    with pytest.raises(TypeError):
        getattr(torch, name)(2, size=(3,))
    with pytest.raises(TypeError, match="multiple values for argument 'size'"):
        getattr(gradienti, name)(2, size=(3,))


@pytest.mark.parametrize(
    "expression",
    ["s[1:]", "s[::-1]", "s + (5,)", "(5,) + s", "s * 2", "2 * s", "s + s", "s[0]", "s[-1]"],
)
def test_size_slices_sums_and_repetitions_are_sizes_as_pytorchs(expression):
    torch = pytest.importorskip("torch")
    ours = eval(expression, {"s": gradienti.Size([2, 3, 4])})
    theirs = eval(expression, {"s": torch.Size([2, 3, 4])})
    assert type(ours).__name__ == type(theirs).__name__
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("expression", ["s + [5]", "s * 2.0", "2.0 * s"])
def test_size_refuses_a_list_or_a_float_as_pytorchs(expression):
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError) as theirs:
        eval(expression, {"s": torch.Size([2])})
    with pytest.raises(TypeError) as ours:
        eval(expression, {"s": gradienti.Size([2])})
    assert str(ours.value) == str(theirs.value)
