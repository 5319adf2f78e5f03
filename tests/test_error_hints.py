"""Beginner errors that say why (gradienti/beginner_hints.py): the message is PyTorch's text,
identical (compared with torch's here), then a blank line and ``gradienti:`` lines that name
what went wrong and a fix. Each case is run with both libraries; a failed call changes
nothing. The "does not require grad" hint is tested in test_error_hints_graph.py."""

import warnings

import numpy as np
import pytest
from same_outcome import HINT_SEPARATOR, pytorch_text

import gradienti
from gradienti.beginner_hints import with_hint

torch = pytest.importorskip("torch")


def hint_of(action) -> str:
    """The hint of the error ``action(lib)`` raises: the class and PyTorch's text are checked
    against torch's (its text is the first part of gradienti's, then the hint)."""
    errors = []
    for lib in (gradienti, torch):
        with pytest.raises(Exception) as caught:
            action(lib)
        errors.append(caught.value)
    ours, theirs = errors
    assert type(ours) is type(theirs), (ours, theirs)
    assert pytorch_text(str(ours)) == str(theirs)
    assert HINT_SEPARATOR in str(ours), f"no hint: {ours}"
    return str(ours)[len(str(theirs)) + 2 :]


def no_hint(action) -> None:
    """``action(lib)`` raises exactly torch's error, with no hint appended."""
    errors = []
    for lib in (gradienti, torch):
        with pytest.raises(Exception) as caught:
            action(lib)
        errors.append(caught.value)
    assert type(errors[0]) is type(errors[1])
    assert str(errors[0]) == str(errors[1])


# --------------------------------------------------------------------------- the format
def test_with_hint_puts_each_line_after_a_blank_line():
    assert with_hint("Bad.", ["one", "gradienti: two"]) == "Bad.\n\ngradienti: one\ngradienti: two"
    assert with_hint("Bad.", []) == "Bad."


def test_pytorch_text_rejects_a_hint_line_without_the_prefix():
    assert pytorch_text("Bad.\n\ngradienti: why\ngradienti: fix") == "Bad."
    with pytest.raises(AssertionError):
        pytorch_text("Bad.\n\ngradienti: why\nno prefix here")


# ------------------------------------------------------------------------ backward twice
def _backward_twice(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()


def test_backward_twice_says_what_retain_graph_is_for_and_the_usual_cause():
    hint = hint_of(_backward_twice)
    assert "retain_graph=True" in hint
    assert "two losses that share part of a graph" in hint
    assert "h = h.detach()" in hint


def test_backward_twice_through_autograd_grad_and_in_anomaly_mode():
    def with_grad(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (x.exp() * 3).sum()
        lib.autograd.grad(y, x)
        lib.autograd.grad(y, x)

    def anomaly(lib):
        with lib.autograd.detect_anomaly():
            _backward_twice(lib)

    assert "h = h.detach()" in hint_of(with_grad)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (anomaly mode's own warning)
        assert "retain_graph=True" in hint_of(anomaly)


def test_reading_a_freed_saved_tensor_gets_the_hint_too():
    def read_saved(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        y.sum().backward()
        return y.grad_fn._saved_self

    assert "retain_graph=True" in hint_of(read_saved)


def test_rnn_hidden_state_not_detached_is_the_case_the_hint_names():
    def rnn_loop(lib):
        lib.manual_seed(0)
        cell = lib.nn.RNNCell(3, 2)
        h = lib.zeros(1, 2)
        for _ in range(2):
            h = cell(lib.ones(1, 3), h)
            h.sum().backward()

    assert "hidden state" in hint_of(rnn_loop)


def test_failed_second_backward_leaves_the_gradient_of_the_first():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError):
        y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 4.0])


# ------------------------------------------------------------------- .grad of a non-leaf
def _non_leaf_grad_warnings(lib) -> list:
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.sum().backward()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert y.grad is None
    return [(w.category, str(w.message)) for w in caught]


def test_non_leaf_grad_warning_is_torchs_then_the_hint():
    [(ours_class, ours)] = _non_leaf_grad_warnings(gradienti)
    [(theirs_class, theirs)] = _non_leaf_grad_warnings(torch)
    assert ours_class is theirs_class is UserWarning
    assert pytorch_text(ours) == theirs.split(" (Triggered internally")[0]
    hint = ours.split(HINT_SEPARATOR, 1)[1]
    assert "retain_grad()" in hint and "x.grad" in hint


def test_retain_grad_as_the_hint_says_gives_the_gradient_without_warning():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y * torch_free_weights()).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(y.grad.numpy(), [3.0, -1.0])


def torch_free_weights():
    """A non-uniform upstream gradient."""
    return gradienti.tensor([3.0, -1.0])


# --------------------------------------------------------------- in place on a leaf
def _manual_update(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    w -= 0.1 * w.grad


@pytest.mark.parametrize(
    "action",
    [
        _manual_update,
        lambda lib: lib.ones(2, requires_grad=True).add_(1),
        lambda lib: lib.nn.Linear(2, 2).weight.mul_(2),
        lambda lib: lib.ones(2, requires_grad=True).__setitem__(0, 5.0),  # (a view of the leaf)
    ],
    ids=["w -= lr * w.grad", "add_", "a parameter", "w[0] = 5"],
)
def test_in_place_on_a_leaf_suggests_no_grad_around_the_update(action):
    hint = hint_of(action)
    assert "with torch.no_grad(): w -= lr * w.grad" in hint
    assert "w.data" in hint


def test_the_update_the_hint_shows_works_and_the_failed_one_changed_nothing():
    w = gradienti.tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    with pytest.raises(RuntimeError):
        w -= 0.1 * w.grad
    np.testing.assert_array_equal(w.detach().numpy(), [1.0, 2.0])
    assert w.is_leaf and w.requires_grad
    with gradienti.no_grad():
        w -= 0.5 * w.grad
    np.testing.assert_array_equal(w.detach().numpy(), [0.0, 0.0])


# ------------------------------------------------------------ cross_entropy, nll_loss
SCORES = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)


def _loss(function: str, target, dtype: str = "int64"):
    def action(lib):
        scores = lib.tensor(SCORES, requires_grad=True)
        values = lib.tensor(target, dtype=getattr(lib, dtype))
        return getattr(lib.nn.functional, function)(scores, values)

    return action


@pytest.mark.parametrize("function", ["cross_entropy", "nll_loss"])
def test_float_class_targets_are_named_with_both_arguments(function):
    hint = hint_of(_loss(function, [0.0, 1.0, 2.0], "float32"))
    assert "Given: input (3, 4), target (3,) of torch.float32." in hint
    assert "target.long()" in hint
    assert "target holds, per sample, the class index 0..C-1 as int64" in hint


def test_int32_targets_get_the_dtype_hint():
    assert "target (3,) of torch.int32" in hint_of(_loss("cross_entropy", [0, 1, 2], "int32"))


@pytest.mark.parametrize("function", ["cross_entropy", "nll_loss"])
def test_batch_size_mismatch_names_both_shapes(function):
    hint = hint_of(_loss(function, [0, 1]))
    assert "Given: input (3, 4), target (2,) of torch.int64." in hint
    assert "one target per row of input" in hint


@pytest.mark.parametrize("bad", [7, 4, -3])
def test_target_out_of_bounds_says_the_range_of_classes(bad):
    hint = hint_of(_loss("cross_entropy", [0, bad, 1]))
    assert "input has C = 4 classes, so a target must be one of 0..3" in hint


def test_probability_targets_of_the_wrong_shape_say_the_input_shape():
    def action(lib):
        scores = lib.tensor(SCORES)
        return lib.nn.functional.cross_entropy(scores, lib.full((3, 5), 0.2))

    hint = hint_of(action)
    assert "target (3, 5) of torch.float32" in hint
    assert "class probabilities, floats of the input's shape, (3, 4)" in hint


def test_a_one_hot_target_to_nll_loss_is_not_told_it_has_the_right_shape():
    # nll_loss never reads probabilities: a one-hot target of the input's own shape must not
    # be told that shape is what it needs.
    def action(lib):
        one_hot = lib.nn.functional.one_hot(lib.tensor([0, 3, 1]), 4)
        return lib.nn.functional.nll_loss(lib.tensor(SCORES), one_hot)

    hint = hint_of(action)
    assert "nll_loss takes class indices only" in hint
    assert "target.argmax(dim=1)" in hint


def test_cross_entropy_loss_module_and_a_spatial_input_get_the_hint():
    def module(lib):
        return lib.nn.CrossEntropyLoss()(lib.tensor(SCORES), lib.tensor([0.0, 1.0, 1.0]))

    def spatial(lib):
        scores = lib.zeros(2, 3, 4, 4)
        return lib.nn.functional.cross_entropy(scores, lib.full((2, 4, 4), 3))

    assert "target.long()" in hint_of(module)
    assert "C = 3 classes" in hint_of(spatial)


def test_a_spatial_input_is_told_its_own_shapes_not_only_rows_and_classes():
    def spatial(lib):
        scores = lib.zeros(2, 3, 4, 4)
        return lib.nn.functional.cross_entropy(scores, lib.full((2, 4, 4), 3))

    per_position = "input (N, C, d1, ...), target (N, d1, ...)"
    assert per_position in hint_of(spatial)
    assert per_position not in hint_of(_loss("cross_entropy", [0, 7, 1]))


def test_the_fixes_the_loss_hints_name_give_torchs_loss():
    losses = []
    for lib in (gradienti, torch):
        scores = lib.tensor(SCORES, requires_grad=True)
        target = lib.tensor([0.0, 3.0, 1.0]).long()
        loss = lib.nn.functional.cross_entropy(scores, target)
        loss.backward()
        losses.append((loss.item(), scores.grad.numpy().copy()))
    assert losses[0][0] == pytest.approx(losses[1][0], rel=1e-6)
    np.testing.assert_allclose(losses[0][1], losses[1][1], rtol=1e-5, atol=1e-7)


# ------------------------------------------------------------------- matrix products
def _product(shape_1, shape_2, spelling="@"):
    def action(lib):
        a = lib.ones(shape_1, requires_grad=True)
        b = lib.ones(shape_2)
        if spelling == "@":
            return a @ b
        return getattr(lib, spelling)(a, b)

    return action


@pytest.mark.parametrize("spelling", ["@", "matmul", "mm"])
def test_matrix_product_names_mat1_and_mat2_and_suggests_the_transpose(spelling):
    hint = hint_of(_product((2, 3), (2, 3), spelling))
    assert "mat1 is the left operand, 2x3" in hint
    assert "mat2 the right one, 2x3" in hint
    assert "mat2 transposed is 3x2 and fits: mat1 @ mat2.T." in hint


def test_matrix_product_suggests_transposing_mat1_when_that_fits():
    assert "mat1.T @ mat2" in hint_of(_product((3, 2), (3, 4)))


def test_matrix_product_without_a_transpose_that_fits():
    hint = hint_of(_product((2, 5), (3, 4)))
    assert "transpose (.T, .mT) or reshape" in hint


def test_linear_layer_with_the_wrong_input_size_explains_in_features():
    def action(lib):
        lib.manual_seed(0)
        return lib.nn.Linear(3, 4)(lib.ones(2, 5))

    hint = hint_of(action)
    assert "in nn.Linear and F.linear, mat1 is the input" in hint
    assert "the input's last size, 5, must equal in_features, 3" in hint
    assert "make the layer nn.Linear(5, 4)" in hint


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("input_shape", [(2, 5), (4, 2, 5), (5,)])
def test_linear_layer_never_suggests_transposing_its_weight(bias, input_shape):
    # Linear(3, 5) given 5 features: mat2 (the weight transposed) is 3x5, so the generic hint
    # would offer mat1 @ mat2.T, i.e. the weight itself: no fix for a layer of the wrong size.
    def action(lib):
        lib.manual_seed(0)
        return lib.nn.Linear(3, 5, bias=bias)(lib.ones(input_shape))

    hint = hint_of(action)
    assert "mat2.T" not in hint and "fits" not in hint
    assert "must equal in_features, 3" in hint
    assert "make the layer nn.Linear(5, 5)" in hint


def test_functional_linear_names_the_weights_sizes():
    hint = hint_of(lambda lib: lib.nn.functional.linear(lib.ones(2, 5), lib.ones(4, 3)))
    assert "the weight is 4x3 (out_features x in_features)" in hint


def test_a_single_row_is_one_row():
    hint = hint_of(lambda lib: lib.mm(lib.ones(1, 3), lib.ones(4, 5)))
    assert "mat1 is the left operand, 1x3 (1 row of 3)" in hint


def test_addmm_gets_the_hint():
    def action(lib):
        return lib.addmm(lib.zeros(2), lib.ones(2, 3), lib.ones(2, 3))

    assert "mat1 @ mat2.T" in hint_of(action)


def test_vector_products_name_both_vectors_and_the_outer_product():
    hint = hint_of(lambda lib: lib.ones(3) @ lib.ones(4, requires_grad=True))
    assert "'tensor' is the left vector (3 elements) and 'src' the right one (4)" in hint
    assert "torch.outer(a, b)" in hint


@pytest.mark.parametrize("spelling", ["@", "mv"])
def test_matrix_times_vector_names_both_and_when_vec_at_mat_fits(spelling):
    hint = hint_of(_product((4, 3), (4,), spelling))
    assert "mat is the left operand, 4x3, and vec the right one, a vector of 4" in hint
    assert "vec @ mat (or mat.T @ vec) fits" in hint
    assert "fits" not in hint_of(_product((2, 3), (4,)))


def test_batched_product_names_both_batches_and_the_swap_that_fits():
    hint = hint_of(_product((4, 2, 3), (4, 2, 3), "bmm"))
    assert "batch1 is the left operand, 4 matrices of 2x3" in hint
    assert "batch1 @ batch2.mT" in hint
    hint = hint_of(_product((4, 2, 3), (5, 3, 2), "bmm"))
    assert "as many matrices in each (4 and 5)" in hint and ".mT" not in hint


@pytest.mark.parametrize(
    ("shape_a", "shape_b", "fix"),
    [
        ((4, 2, 3), (4, 2, 3), "a @ b.mT"),
        ((4, 2, 3), (2, 3), "a @ b.mT"),  # a folded into mat1's rows
        ((2, 3), (4, 2, 6), "a.mT @ b"),  # b transposed and folded: mat1 is b
        ((4, 2, 3), (2,), "a.mT @ b"),
        ((5,), (4, 5), "a @ b.mT"),
        ((4, 2, 3), (8, 5), None),  # mat1 (8x3, folded) and mat2 share 8 rows: no a.mT
        ((2, 3), (4, 5, 6), None),
        ((3,), (1, 5), None),  # a vector has no .T that fits (mm saw a 1x3 row)
    ],
)
def test_at_with_a_vector_or_a_batch_speaks_of_a_and_b_and_offers_a_fix_that_fits(
    shape_a, shape_b, fix
):
    # PyTorch's mat1 and mat2 are the matrices after folding (mat1 may be b transposed): the
    # hint offered mat1.T @ mat2 or mat1 @ mat2.T, which the user's a and b do not have.
    hint = hint_of(_product(shape_a, shape_b))
    assert f"in a @ b, a has shape {shape_a}" in hint  # (str() of a tuple: the hint's spelling)
    assert "mat1" not in hint and "mat2" not in hint
    if fix is None:
        assert "fits" not in hint
        return
    assert f"fits: {fix}." in hint
    for lib in (gradienti, torch):
        a, b = lib.ones(shape_a), lib.ones(shape_b)
        assert (a @ b.mT if fix == "a @ b.mT" else a.mT @ b).dim() >= 1


def test_the_transpose_the_hint_suggests_gives_torchs_product():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    ours = (gradienti.tensor(a) @ gradienti.tensor(b).T).numpy()
    np.testing.assert_allclose(ours, (torch.tensor(a) @ torch.tensor(b).T).numpy())


# ---------------------------------------------------------------------- broadcasting
def _binary(shape_a, shape_b, operation="add", requires_grad=False):
    def action(lib):
        a = lib.ones(shape_a, requires_grad=requires_grad)
        return getattr(lib, operation)(a, lib.ones(shape_b))

    return action


@pytest.mark.parametrize("requires_grad", [False, True])
@pytest.mark.parametrize("operation", ["add", "mul", "sub", "div"])
def test_broadcast_error_names_both_shapes(operation, requires_grad):
    hint = hint_of(_binary((2, 3), (2, 4), operation, requires_grad))
    assert "tensor a is the first operand (left of +, -, *, /), shape (2, 3)" in hint
    assert "tensor b the second, shape (2, 4)" in hint


@pytest.mark.parametrize("spelling", ["<", "==", "ge"])
def test_comparison_of_shapes_that_do_not_broadcast_is_torchs_error_with_the_hint(spelling):
    # It raised NumPy's ValueError ("operands could not be broadcast together").
    def action(lib):
        a, b = lib.ones(3, 4), lib.ones(3)
        if spelling == "<":
            return a < b
        if spelling == "==":
            return a == b
        return lib.ge(a, b)

    hint = hint_of(action)
    assert "shape (3, 4); tensor b the second, shape (3,)" in hint
    assert "b.unsqueeze(-1) has shape (3, 1)" in hint


def test_broadcast_error_of_an_operator():
    def action(lib):
        return lib.ones(2, 3) * lib.ones(4)

    assert "shape (4,)" in hint_of(action)


@pytest.mark.parametrize(
    ("shape_a", "shape_b", "fix", "suggestion"),
    [
        ((5, 3), (5,), lambda a, b: a + b.unsqueeze(-1), "b.unsqueeze(-1) has shape (5, 1)"),
        ((3,), (3, 2), lambda a, b: a.unsqueeze(-1) + b, "a.unsqueeze(-1) has shape (3, 1)"),
        ((2, 3), (3, 2), lambda a, b: a + b.T, "b.T has shape (2, 3)"),
        ((3, 2), (4, 2, 3), lambda a, b: a.T + b, "a.T has shape (2, 3)"),
    ],
)
def test_broadcast_suggestion_is_one_that_broadcasts(shape_a, shape_b, fix, suggestion):
    assert suggestion in hint_of(_binary(shape_a, shape_b))
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    ours = fix(gradienti.tensor(a), gradienti.tensor(b)).numpy()
    np.testing.assert_allclose(ours, fix(torch.tensor(a), torch.tensor(b)).numpy())


def test_broadcast_without_a_one_step_fix_says_how_shapes_line_up():
    hint = hint_of(_binary((2, 3), (4,)))
    assert "each pair of sizes is equal or one of them is 1" in hint
    assert ".unsqueeze(dim)" in hint


def test_errors_outside_these_cases_keep_torchs_text_alone():
    no_hint(lambda lib: lib.broadcast_shapes((2, 3), (4,)))
    no_hint(lambda lib: lib.cat([lib.ones(2, 3), lib.ones(2, 4)]))
    no_hint(lambda lib: lib.ones(2, 3).view(4))


# ---------------------------------------------------------- integer requires_grad
@pytest.mark.parametrize(
    "action",
    [
        lambda lib: lib.tensor([1, 2], requires_grad=True),
        lambda lib: lib.tensor([1, 2]).requires_grad_(),
        lambda lib: lib.zeros(2, dtype=lib.long, requires_grad=True),
        lambda lib: lib.arange(3).requires_grad_(True),
        lambda lib: setattr(lib.tensor([1, 2]), "requires_grad", True),
        lambda lib: lib.nn.Parameter(lib.tensor([1, 2])),
    ],
    ids=[
        "tensor(...)",
        "requires_grad_()",
        "zeros(dtype=long)",
        "arange",
        "attribute",
        "Parameter",
    ],
)
def test_integer_tensor_requiring_grad_suggests_a_float_dtype(action):
    hint = hint_of(action)
    assert "dtype is torch.int64" in hint
    assert "torch.tensor([1., 2.])" in hint and "dtype=torch.float32" in hint


def test_bool_tensor_requiring_grad_names_its_dtype():
    assert "dtype is torch.bool" in hint_of(lambda lib: lib.tensor([True]).requires_grad_())


def test_integer_tensor_stays_without_grad_after_the_error():
    t = gradienti.tensor([1, 2])
    with pytest.raises(RuntimeError):
        t.requires_grad_()
    assert not t.requires_grad and t.grad_fn is None
