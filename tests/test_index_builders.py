"""The index builders against PyTorch: meshgrid, cartesian_prod, combinations,
tril/triu_indices, nonzero/argwhere/where(cond), unravel_index and F.one_hot (values, dtypes,
warnings, and the class and text of the error for bad input)."""

import warnings

import pytest
from same_outcome import outcome
from shape_outcomes import _a, _our_warnings, _t, _torch_warnings, same

import gradienti

torch = pytest.importorskip("torch")


def test_meshgrid_without_indexing_warns_as_pytorch_and_indexes_ij():
    code = "torch.meshgrid(torch.arange(3), torch.arange(2))"
    ours = _our_warnings(lambda: gradienti.meshgrid(gradienti.arange(3), gradienti.arange(2)))
    assert ours == _torch_warnings(code)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same(lambda lib: lib.meshgrid(lib.arange(3), lib.arange(2)))


GRID_OUTCOMES = {
    "meshgrid ij": lambda lib: lib.meshgrid(lib.arange(3), lib.arange(2.0)[:2], indexing="ij"),
    "meshgrid xy": lambda lib: lib.meshgrid(
        lib.arange(3), lib.arange(2), lib.arange(4), indexing="xy"
    ),
    "meshgrid xy one": lambda lib: lib.meshgrid(lib.arange(3), indexing="xy"),
    "meshgrid 0-d": lambda lib: lib.meshgrid(_t(lib, 1.0), lib.arange(2.0), indexing="xy"),
    "meshgrid list": lambda lib: lib.meshgrid([lib.arange(3), lib.arange(2)], indexing="ij"),
    "meshgrid tuple": lambda lib: lib.meshgrid((lib.arange(3), lib.arange(2)), indexing="ij"),
    "meshgrid indexing": lambda lib: lib.meshgrid(lib.arange(3), indexing="foo"),
    "meshgrid dtypes": lambda lib: lib.meshgrid(lib.arange(3), lib.arange(2.0), indexing="ij"),
    "meshgrid empty": lambda lib: lib.meshgrid(indexing="ij"),
    "meshgrid empty list": lambda lib: lib.meshgrid([], indexing="ij"),
    "cartesian_prod": lambda lib: lib.cartesian_prod(lib.arange(3), lib.arange(2)),
    "cartesian_prod three": lambda lib: lib.cartesian_prod(
        lib.arange(2.0), lib.arange(3.0), lib.arange(2.0)
    ),
    "cartesian_prod one": lambda lib: lib.cartesian_prod(lib.arange(3)),
    "cartesian_prod 2-d": lambda lib: lib.cartesian_prod(lib.arange(3), lib.ones(2, 1)),
    "cartesian_prod 0-d": lambda lib: lib.cartesian_prod(_t(lib, 1), lib.arange(2)),
    "cartesian_prod none": lambda lib: lib.cartesian_prod(),
    "combinations": lambda lib: lib.combinations(lib.tensor([1.0, 2.0, 3.0, 4.0])),
    "combinations r=3": lambda lib: lib.combinations(lib.arange(4), 3),
    "combinations with_replacement": lambda lib: lib.combinations(
        lib.arange(3), with_replacement=True
    ),
    "combinations r=0": lambda lib: lib.combinations(lib.arange(3.0), 0),
    "combinations r past length": lambda lib: lib.combinations(lib.arange(3.0), 4),
    "combinations negative r": lambda lib: lib.combinations(lib.arange(3.0), -1),
    "combinations 2-d": lambda lib: lib.combinations(lib.ones(2, 2)),
    "combinations empty": lambda lib: lib.combinations(lib.zeros(0)),
    "cartesian_prod dtypes": lambda lib: lib.cartesian_prod(lib.arange(3), lib.arange(2.0)),
}


@pytest.mark.parametrize("name", GRID_OUTCOMES)
def test_meshgrid_and_cartesian_prod_outcomes_are_pytorchs(name):
    same(GRID_OUTCOMES[name])


def test_meshgrid_of_a_matrix_raises_pytorchs_error_class_and_opening():
    """(PyTorch's message goes on with the tensor in its C++ printing; gradienti names the
    shape instead.)"""
    ours, theirs = outcome(lambda lib: lib.meshgrid(lib.ones(3, 1), indexing="ij"))
    opening = "torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: "
    assert ours[0] == theirs[0] == "RuntimeError"
    assert ours[1].startswith(opening) and theirs[1].startswith(opening)


INDEX_OUTCOMES = {
    **{
        f"{name}({row},{col},{offset})": (
            lambda lib, name=name, row=row, col=col, offset=offset: getattr(lib, name)(
                row, col, offset
            )
        )
        for name in ("tril_indices", "triu_indices")
        for row, col, offset in (
            (3, 3, 0),
            (3, 4, 0),
            (4, 3, -1),
            (4, 3, 1),
            (3, 5, 2),
            (0, 0, 0),
            (3, 3, 10),
            (3, 3, -10),
            (1, 4, -2),
            (-1, 3, 0),
            (3, -1, 0),
        )
    },  # fmt: skip
    "tril_indices int32": lambda lib: lib.tril_indices(3, 4, dtype=lib.int32),
    "triu_indices offset= dtype=": lambda lib: lib.triu_indices(3, 4, offset=-1, dtype=lib.int32),
    "tril_indices float": lambda lib: lib.tril_indices(3, 4, dtype=lib.float32),
    "triu_indices uint8": lambda lib: lib.triu_indices(3, 4, dtype=lib.uint8),
    "tril_indices bool": lambda lib: lib.tril_indices(3, 4, dtype=lib.bool),
    "nonzero": lambda lib: lib.nonzero(_t(lib, [[0.0, 1.5], [2.0, 0.0]])),
    "nonzero as_tuple": lambda lib: lib.nonzero(_t(lib, [[0, 1], [2, 0]]), as_tuple=True),
    "nonzero bool": lambda lib: _t(lib, [True, False, True]).nonzero(),
    "nonzero 0-d": lambda lib: lib.nonzero(_t(lib, 3.0)),
    "nonzero 0-d zero": lambda lib: lib.nonzero(_t(lib, 0.0)),
    "nonzero 0-d as_tuple": lambda lib: lib.nonzero(_t(lib, 3.0), as_tuple=True),
    "nonzero 0-d zero as_tuple": lambda lib: lib.nonzero(_t(lib, 0.0), as_tuple=True),
    "nonzero empty": lambda lib: lib.nonzero(lib.zeros(2, 0)),
    "nonzero of a graph": lambda lib: lib.nonzero(lib.ones(2, 3, requires_grad=True) * 2),
    "x.nonzero(as_tuple=True)": lambda lib: _a(lib).gt(0).nonzero(as_tuple=True),
    "argwhere": lambda lib: lib.argwhere(_a(lib) > 0.5),
    "x.argwhere()": lambda lib: _t(lib, [[0, 1], [2, 0]]).argwhere(),
    "argwhere 0-d": lambda lib: lib.argwhere(_t(lib, 2)),
    "where(cond)": lambda lib: lib.where(_t(lib, [[1, 0], [0, 2]])),
    "where(cond) 0-d": lambda lib: lib.where(_t(lib, 0.0)),
    "where(cond, 1, 0.5)": lambda lib: lib.where(_t(lib, [True, False]), 1, 0.5),
    "where(cond, 1, 2)": lambda lib: lib.where(_t(lib, [True, False]), 1, 2),
    "where(cond, True, 2)": lambda lib: lib.where(_t(lib, [True, False]), True, 2),
    "where(cond, True, False)": lambda lib: lib.where(_t(lib, [True, False]), True, False),
    "where(cond, x)": lambda lib: lib.where(_t(lib, [True, False]), _t(lib, [1.0, 2.0])),
    "where(cond, 1.0)": lambda lib: lib.where(_t(lib, [True, False]), 1.0),
    "where(cond, 1.5, x)": lambda lib: lib.where(_t(lib, [True, False]), 1.5, _t(lib, [2.0, 3.0])),
    "unravel_index": lambda lib: lib.unravel_index(_t(lib, [4, 7]), (3, 4)),
    "unravel_index 0-d": lambda lib: lib.unravel_index(_t(lib, 5), (2, 3)),
    "unravel_index int": lambda lib: lib.unravel_index(5, (2, 3)),
    "unravel_index wraps": lambda lib: lib.unravel_index(_t(lib, [6, -1, -7]), (2, 3)),
    "unravel_index float": lambda lib: lib.unravel_index(_t(lib, [1.0]), (2, 3)),
    "unravel_index bool": lambda lib: lib.unravel_index(_t(lib, [True]), (2, 2)),
    "unravel_index int shape": lambda lib: lib.unravel_index(_t(lib, [1]), 6),
    "unravel_index list shape": lambda lib: lib.unravel_index(_t(lib, [3]), [2, 2]),
    "unravel_index negative shape": lambda lib: lib.unravel_index(_t(lib, [1]), (2, -3)),
    "unravel_index float shape": lambda lib: lib.unravel_index(_t(lib, [3]), (2.0, 2)),
    "unravel_index int32 2-d": lambda lib: lib.unravel_index(_t(lib, [[1, 2]], "int32"), (2, 3)),
    "unravel_index empty shape": lambda lib: lib.unravel_index(_t(lib, [0]), ()),
    "unravel_index zero size": lambda lib: lib.unravel_index(_t(lib, [3]), (2, 0)),
    "unravel_index of argmax": lambda lib: lib.unravel_index(
        _t(lib, [[1.0, 5.0], [7.0, 2.0]]).argmax(), (2, 2)
    ),
    "one_hot": lambda lib: lib.nn.functional.one_hot(_t(lib, [0, 2])),
    "one_hot num_classes": lambda lib: lib.nn.functional.one_hot(_t(lib, [[1, 0], [3, 2]]), 5),
    "one_hot 0-d": lambda lib: lib.nn.functional.one_hot(_t(lib, 1), 3),
    "one_hot empty": lambda lib: lib.nn.functional.one_hot(_t(lib, [], "long"), 3),
    "one_hot empty infer": lambda lib: lib.nn.functional.one_hot(_t(lib, [], "long")),
    "one_hot negative": lambda lib: lib.nn.functional.one_hot(_t(lib, [0, -2])),
    "one_hot too large": lambda lib: lib.nn.functional.one_hot(_t(lib, [0, 2]), 2),
    "one_hot num_classes -2": lambda lib: lib.nn.functional.one_hot(_t(lib, [1]), -2),
    "one_hot float": lambda lib: lib.nn.functional.one_hot(_t(lib, [0.0, 2.0])),
    "one_hot int32": lambda lib: lib.nn.functional.one_hot(_t(lib, [1], "int32"), 3),
}


@pytest.mark.parametrize("name", INDEX_OUTCOMES)
def test_index_builder_outcomes_are_pytorchs(name):
    same(INDEX_OUTCOMES[name])


def test_torch_has_no_one_hot_so_neither_has_gradienti():
    assert hasattr(torch, "one_hot") == hasattr(gradienti, "one_hot") is False
    assert gradienti.nn.functional.one_hot is not None
