"""Edge cases of the shape and index helpers found in review, against PyTorch: where's Python
number operands and condition dtypes, nonzero's out=, the strides of empty tensors,
tensordot's and cross's argument checks, cdist's dtype checks, unfold's writable windows."""

import numpy as np
import pytest
from same_outcome import outcome
from shape_outcomes import _our_warnings, _t, _torch_warnings, same

import gradienti
from gradienti.ops import elementwise

torch = pytest.importorskip("torch")

WHERE_OUTCOMES = {
    # a number lifts the tensor's category but not its width (2.5 was truncated to 2)
    "int32 tensor, float number": lambda L: L.where(
        _t(L, [True, False]), _t(L, [1, 2], "int32"), 2.5
    ),
    "number first": lambda L: L.where(_t(L, [True, False]), 2.5, _t(L, [1, 2])),
    "bool tensor, int number": lambda L: L.where(_t(L, [True, False]), _t(L, [True, True]), 3),
    "bool tensor, float number": lambda L: L.where(_t(L, [True, False]), _t(L, [True, False]), 3.5),
    "float64 tensor, int number": lambda L: L.where(
        _t(L, [True, False]), _t(L, [1.5, 2], "float64"), 3
    ),
    "int tensor, bool number": lambda L: L.where(_t(L, [True, False]), _t(L, [1, 2]), True),
    "NumPy float scalar": lambda L: L.where(_t(L, [True, False]), _t(L, [1, 2]), np.float64(2.5)),
    "NumPy int scalar": lambda L: L.where(_t(L, [True, False]), _t(L, [1.5, 2]), np.int64(2)),
    "method": lambda L: _t(L, [1, 2]).where(_t(L, [True, False]), 2.5),
    "method, tensor other": lambda L: _t(L, [1, 2]).where(_t(L, [False, True]), _t(L, [0.5, 1])),
    # the condition must be bool (uint8 is deprecated but accepted)
    "float condition": lambda L: L.where(_t(L, [1.0, 0.0]), 1.0, 0.0),
    "int64 condition": lambda L: L.where(_t(L, [1, 0]), _t(L, [1.0, 2]), _t(L, [3.0, 4])),
    "uint8 condition": lambda L: L.where(_t(L, [1, 0], "uint8"), _t(L, [1.0, 2]), 0.0),
}


@pytest.mark.filterwarnings("ignore:where received a uint8")
@pytest.mark.parametrize("name", WHERE_OUTCOMES)
def test_where_outcomes_are_pytorchs(name):
    same(WHERE_OUTCOMES[name])


def test_where_with_a_number_passes_the_gradient_to_the_tensor_as_pytorch():
    grads = []
    for lib in (torch, gradienti):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        lib.where(lib.tensor([True, False, True]), x, 0.5).backward(lib.tensor([1.0, 2.0, 3.0]))
        grads.append(x.grad.numpy())
    np.testing.assert_array_equal(grads[0], grads[1])


def _nonzero_into(lib, out):
    """nonzero written into ``out``: (is the result out, out)."""
    result = lib.nonzero(_t(lib, [[1.0, 0.0], [0.0, 2.0]]), out=out)
    return result is out, out


NONZERO_OUT_OUTCOMES = {
    # out= was ignored: the result was a new tensor and out kept its old values
    "empty out": lambda L: _nonzero_into(L, L.empty(0, dtype=L.int64)),
    "larger out, resized": lambda L: _nonzero_into(L, L.zeros(5, 5, dtype=L.int64)),
    "a view of a larger base": lambda L: (
        lambda base: (L.nonzero(_t(L, [1.0, 0.0, 2.0]), out=base[1:3]), base)
    )(L.zeros(5, dtype=L.int64)),
    "float out": lambda L: _nonzero_into(L, L.empty(0)),
    "int32 out": lambda L: _nonzero_into(L, L.empty(0, dtype=L.int32)),
    "as_tuple": lambda L: L.nonzero(_t(L, [1, 0]), out=L.empty(0, dtype=L.int64), as_tuple=True),
    "a list": lambda L: L.nonzero(_t(L, [1, 0]), out=[L.empty(0, dtype=L.int64)]),
    "expanded out": lambda L: _nonzero_into(L, L.zeros(5, dtype=L.int64).expand(2, 5)),
    "out is the input": lambda L: (lambda x: L.nonzero(x, out=x))(_t(L, [[1, 0], [2, 0]])),
}


@pytest.mark.filterwarnings("ignore:An output with one or more elements was resized")
@pytest.mark.parametrize("name", NONZERO_OUT_OUTCOMES)
def test_nonzero_out_outcomes_are_pytorchs(name):
    same(NONZERO_OUT_OUTCOMES[name])


def test_nonzero_into_a_non_empty_out_warns_as_pytorch():
    with pytest.warns(UserWarning, match=r"had shape \[5\], which does not match the required"):
        gradienti.nonzero(
            gradienti.tensor([1.0, 0.0]), out=gradienti.zeros(5, dtype=gradienti.int64)
        )


EMPTY_STRIDE_OUTCOMES = {
    # NumPy gives a new empty array zero strides; PyTorch's are contiguous ones
    "zeros(0, 3)": lambda L: L.zeros(0, 3).stride(),
    "empty(2, 0, 3)": lambda L: L.empty(2, 0, 3).stride(),
    "zeros(3, 0, 0, 2) int64": lambda L: L.zeros(3, 0, 0, 2, dtype=L.int64).stride(),
    "tensor([[]])": lambda L: L.tensor([[]]).stride(),
    "an empty result": lambda L: (L.zeros(0, 3) + 1).stride(),
    "an empty clone": lambda L: L.zeros(0, 3).clone().stride(1),
    "an empty slice keeps its strides": lambda L: L.ones(2, 3).t()[:0].stride(),
}


@pytest.mark.parametrize("name", EMPTY_STRIDE_OUTCOMES)
def test_strides_of_empty_tensors_are_pytorchs(name):
    same(EMPTY_STRIDE_OUTCOMES[name])


TENSORDOT_OUTCOMES = {
    # a contracted dim of size 1 broadcasts against the other side's (ATen sums that side)
    "size 1 in b": lambda L: L.tensordot(
        L.arange(6.0).reshape(2, 3), L.arange(8.0).reshape(1, 2, 4), dims=([1], [0])
    ),
    "size 1 in a": lambda L: L.tensordot(
        L.arange(8.0).reshape(1, 2, 4), L.arange(6.0).reshape(2, 3), dims=([0], [1])
    ),
    "size 1 on both": lambda L: L.tensordot(L.ones(2, 1), L.ones(1, 3), dims=([1], [0])),
    "size 1 against 0": lambda L: L.tensordot(L.ones(2, 1), L.ones(0, 3), dims=([1], [0])),
    # the messages show the dims as given (an int n: a's dims -n..-1)
    "int dims mismatch": lambda L: L.tensordot(L.ones(2, 3), L.ones(4, 5), dims=1),
    "negative dims mismatch": lambda L: L.tensordot(L.ones(2, 3), L.ones(4, 5), dims=([-1], [-2])),
    "a repeated dim": lambda L: L.tensordot(L.ones(3, 3), L.ones(3, 3), dims=([0, 0], [0, 1])),
    "a dim out of range": lambda L: L.tensordot(L.ones(2, 3), L.ones(3, 2), dims=([1], [5])),
    "dtypes differ": lambda L: L.tensordot(L.ones(2, 3, dtype=L.int64), L.ones(3, 2), dims=1),
}


@pytest.mark.parametrize("name", TENSORDOT_OUTCOMES)
def test_tensordot_outcomes_are_pytorchs(name):
    same(TENSORDOT_OUTCOMES[name])


def test_tensordot_over_a_size_1_dim_records_pytorchs_nodes_and_gradients():
    results = []
    for lib in (torch, gradienti):
        a = lib.arange(6.0).reshape(2, 3).requires_grad_()
        b = lib.arange(8.0).reshape(1, 2, 4).requires_grad_()
        out = lib.tensordot(b, a, dims=([0], [1]))
        out.backward(lib.arange(16.0).reshape(out.shape))
        nodes, node = [], out.grad_fn
        while node is not None:
            nodes.append(node.name())
            node = node.next_functions[0][0] if node.next_functions else None
        results.append((nodes, a.grad.numpy().tolist(), b.grad.numpy().tolist()))
    assert results[0] == results[1]


CROSS_DTYPE_OUTCOMES = {
    # PyTorch's kernel reads other in input's dtype: no promotion (int64 × float32 was float32)
    "int64 and float32": lambda L: L.cross(_t(L, [1, 2, 3]), _t(L, [4.0, 5, 6]), dim=0),
    "float32 and float64": lambda L: L.cross(
        _t(L, [1.0, 2, 3]), _t(L, [4.0, 5, 6], "float64"), dim=0
    ),
    "float32 and bool": lambda L: L.cross(_t(L, [1.0, 2, 3]), _t(L, [True, False, True]), dim=0),
    "bool": lambda L: L.cross(_t(L, [True, False, True]), _t(L, [True, True, False]), dim=0),
    "int8": lambda L: L.cross(_t(L, [1, 2, 3], "int8"), _t(L, [4, 5, 6], "int8"), dim=0),
    "0-d": lambda L: L.cross(_t(L, 1.0), _t(L, 2.0), dim=0),
}


@pytest.mark.parametrize("name", CROSS_DTYPE_OUTCOMES)
def test_cross_dtype_outcomes_are_pytorchs(name):
    same(CROSS_DTYPE_OUTCOMES[name])


def _cdist_of(lib, shape1, shape2, dtype, p=2.0, **kwargs):
    x1 = lib.arange(float(np.prod(shape1))).reshape(shape1).to(getattr(lib, dtype))
    x2 = lib.ones(shape2, dtype=getattr(lib, dtype))
    return lib.cdist(x1, x2, p=p, **kwargs)


CDIST_DTYPE_OUTCOMES = {
    # PyTorch's distance kernel has no float16 version (its matrix-product path has)
    "float16, distance kernel": lambda L: _cdist_of(L, (2, 3), (2, 3), "float16"),
    "float16, p=1": lambda L: _cdist_of(L, (2, 3), (2, 3), "float16", p=1.0),
    "float16, matrix product": lambda L: _cdist_of(
        L, (2, 3), (2, 3), "float16", compute_mode="use_mm_for_euclid_dist"
    ).float(),
    "float16, empty": lambda L: _cdist_of(L, (0, 3), (2, 3), "float16", p=1.0),
    "float16 and float32": lambda L: L.cdist(L.ones(2, 3, dtype=L.float16), L.ones(2, 3)),
    # X2's dtype is checked as X1's
    "float32 and int64": lambda L: L.cdist(L.ones(2, 3), L.ones(2, 3, dtype=L.int64)),
}


@pytest.mark.parametrize("name", CDIST_DTYPE_OUTCOMES)
def test_cdist_dtype_outcomes_are_pytorchs(name):
    same(CDIST_DTYPE_OUTCOMES[name])


def _write_windows(lib, size, step, write):
    x = lib.arange(8.0).reshape(2, 4)
    windows = x.unfold(1, size, step)
    write(windows)
    return x, windows


UNFOLD_WRITE_OUTCOMES = {
    # unfold is a view in PyTorch: writes reach the base (they raised NumPy's read-only error)
    "item into windows side by side": lambda L: _write_windows(
        L, 2, 2, lambda w: w.__setitem__((0, 1, 0), 100.0)
    ),
    "in place op on windows with gaps": lambda L: _write_windows(L, 1, 3, lambda w: w.mul_(3)),
    "fill_ of a window": lambda L: _write_windows(L, 2, 2, lambda w: w[1, 0].fill_(-1)),
}


@pytest.mark.parametrize("name", UNFOLD_WRITE_OUTCOMES)
def test_writes_into_unfold_windows_reach_the_base_as_pytorchs(name):
    same(UNFOLD_WRITE_OUTCOMES[name])


def test_writes_into_overlapping_windows_are_refused():
    # PyTorch lets an in-place op touch the shared elements twice; gradienti refuses the
    # write, as for an expanded tensor, rather than guess (a documented difference).
    windows = gradienti.arange(6.0).reshape(2, 3).unfold(1, 2, 1)
    with pytest.raises(ValueError, match="read-only"):
        windows.mul_(2)


REPEAT_INTERLEAVE_0D_OUTCOMES = {
    # a 0-d input with a dim is refused by PyTorch (it was repeated as a 1-d one)
    "int repeats, dim 0": lambda L: L.repeat_interleave(_t(L, 5.0), 3, dim=0),
    "int repeats, dim -1": lambda L: L.repeat_interleave(_t(L, 5.0), 3, dim=-1),
    "tensor repeats, dim 0": lambda L: L.repeat_interleave(_t(L, 5.0), _t(L, [3]), dim=0),
    "tensor repeats, dim -1": lambda L: L.repeat_interleave(_t(L, 5.0), _t(L, [3, 2]), dim=-1),
    "negative repeats first": lambda L: L.repeat_interleave(_t(L, 5.0), -1, dim=0),
    "without a dim: flattened": lambda L: L.repeat_interleave(_t(L, 5.0), _t(L, [3])),
}


@pytest.mark.parametrize("name", REPEAT_INTERLEAVE_0D_OUTCOMES)
def test_repeat_interleave_of_a_0d_input_is_pytorchs(name):
    same(REPEAT_INTERLEAVE_0D_OUTCOMES[name])


def _turned(lib, source: str, k: int, dims: tuple):
    turned = lib.rot90(eval(source, {"L": lib}), k, dims)  # noqa: S307 - the table's own text
    return turned, turned.stride(), turned.is_contiguous()


ROT90_SOURCES = (
    "L.arange(12.0).reshape(3, 4)",
    "L.arange(12.0).reshape(3, 4).t()",
    "L.arange(24.0).reshape(2, 3, 4).permute(2, 0, 1)",
    "L.arange(24.0).reshape(2, 3, 4)[:, ::2]",
    "L.arange(4.0).expand(3, 4)",
)


# rot90 is a flipped copy in the input's memory order, transposed for odd k: its strides
# (and is_contiguous) are PyTorch's, not a fresh contiguous array's
@pytest.mark.parametrize("source", ROT90_SOURCES)
@pytest.mark.parametrize("k", [-1, 0, 1, 2, 3, 5])
@pytest.mark.parametrize("dims", [(0, 1), (-1, 0)])
def test_rot90_values_and_strides_are_pytorchs(source, k, dims):
    same(lambda lib: _turned(lib, source, k, dims))


@pytest.mark.parametrize("name", ["hstack", "vstack", "row_stack", "column_stack", "dstack"])
@pytest.mark.parametrize("empty", [[], ()])
def test_stacking_nothing_raises_pytorchs_error(name, empty):
    # (cat's ValueError, naming torch.cat, before)
    same(lambda lib: getattr(lib, name)(empty))


DIFF_ARGUMENT_OUTCOMES = {
    # PyTorch's parser refuses a bool (diff(x, n=True) computed one difference)
    "n=True": lambda L: L.diff(L.arange(4.0), n=True),
    "dim=False": lambda L: L.diff(L.arange(4.0), dim=False),
    "n=1.0": lambda L: L.diff(L.arange(4.0), n=1.0),
    "n=None": lambda L: L.diff(L.arange(4.0), n=None),
    "dim=0.0": lambda L: L.diff(L.arange(4.0), dim=0.0),
    "n a NumPy int": lambda L: L.diff(L.arange(4.0) ** 2, n=np.int64(2)),
    "n a 0-d tensor": lambda L: L.diff(L.arange(4.0) ** 2, n=L.tensor(2)),
}


@pytest.mark.parametrize("name", DIFF_ARGUMENT_OUTCOMES)
def test_diff_arguments_are_parsed_as_pytorchs(name):
    same(DIFF_ARGUMENT_OUTCOMES[name])


def _matrix(lib):
    return lib.arange(12.0).reshape(3, 4)


INT_ARGUMENT_OUTCOMES = {
    # PyTorch's parser takes ints only (a bool or a float was used as an int before)
    "unfold dimension=True": lambda L: _matrix(L).unfold(True, 2, 1),
    "unfold size=2.0": lambda L: _matrix(L).unfold(1, 2.0, 1),
    "unfold step=1.0": lambda L: _matrix(L).unfold(1, 2, 1.0),
    "rot90 k=True": lambda L: L.rot90(_matrix(L), True),
    "rot90 k=1.0": lambda L: L.rot90(_matrix(L), 1.0),
    "tril_ diagonal=True": lambda L: _matrix(L).tril_(True),
    "triu_ diagonal=1.0": lambda L: _matrix(L).triu_(1.0),
    "one_hot num_classes=True": lambda L: L.nn.functional.one_hot(_t(L, [0, 1]), True),
    "tril_indices row=3.0": lambda L: L.tril_indices(3.0, 3),
    "triu_indices offset=True": lambda L: L.triu_indices(3, 3, True),
    "combinations r=2.0": lambda L: L.combinations(L.arange(3.0), 2.0),
    "diag_embed offset=1.0": lambda L: L.diag_embed(_matrix(L), 1.0),
    "diag_embed dim2=True": lambda L: L.diag_embed(_matrix(L), 0, 0, True),
    "cross dim=0.0": lambda L: L.cross(L.ones(3), L.ones(3), dim=0.0),
    "tensordot dims=1.0": lambda L: L.tensordot(_matrix(L), _matrix(L).t(), 1.0),
    "tensordot three lists": lambda L: L.tensordot(_matrix(L), _matrix(L), ([0], [0], [1])),
    # a one-element integral tensor is an int to the parser
    "unfold size a 0-d tensor": lambda L: _matrix(L).unfold(1, L.tensor(2), 1),
    "rot90 k a NumPy int": lambda L: L.rot90(_matrix(L), np.int64(3)),
}


@pytest.mark.parametrize("name", INT_ARGUMENT_OUTCOMES)
def test_int_arguments_are_parsed_as_pytorchs(name):
    same(INT_ARGUMENT_OUTCOMES[name])


REPEATS_OUTCOMES = {
    # a float number of repeats was truncated (2.5 gave 2 copies), a bool taken as 0 or 1
    "float repeats": lambda L: L.repeat_interleave(L.arange(3.0), 2.5),
    "bool repeats": lambda L: L.repeat_interleave(L.arange(3.0), True),
    "a NumPy int": lambda L: L.repeat_interleave(L.arange(3.0), np.int64(2)),
}


@pytest.mark.parametrize("name", REPEATS_OUTCOMES)
def test_repeat_interleave_number_of_repeats_is_parsed_as_pytorchs(name):
    same(REPEATS_OUTCOMES[name])


def test_index_fill_with_a_bool_dim_raises_pytorchs_type_error_opening():
    # (True was taken as dim 1)
    ours, theirs = outcome(
        lambda lib: _t(lib, [[1.0, 2.0], [3.0, 4.0]]).index_fill(True, _t(lib, [0]), 1.0)
    )
    assert ours[0] == theirs[0] == "TypeError"
    assert ours[1].split("\n")[0] == theirs[1].split("\n")[0]


def test_a_uint8_condition_warns_once_as_pytorch():
    code = (
        "torch.where(torch.tensor([1, 0], dtype=torch.uint8), 1.0, 0.0); "
        "torch.where(torch.tensor([0, 1], dtype=torch.uint8), torch.ones(2), 0.0)"
    )
    elementwise._warned_about_uint8_condition.clear()
    condition = gradienti.tensor([1, 0], dtype=gradienti.uint8)
    ours = _our_warnings(
        lambda: (
            gradienti.where(condition, 1.0, 0.0),
            gradienti.where(condition, gradienti.ones(2), 0.0),
        )
    )
    assert ours == _torch_warnings(code)
    assert len(ours) == 1
