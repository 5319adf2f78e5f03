"""gradienti.autograd.gradcheck and gradgradcheck.

Correct functions pass; a wrong gradient (a tensor hook that scales it) fails with PyTorch's
GradcheckError text, a wrong second derivative (a straight-through construction whose first
derivative is right) fails gradgradcheck. With PyTorch installed, the verdicts and the full
error texts are compared with torch.autograd.gradcheck's on the same functions.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import gradienti
from gradienti.autograd import GradcheckError, gradcheck, gradgradcheck

X = np.array([[0.3, -1.2, 0.7], [1.1, 0.4, -0.5]])
Y = np.array([0.2, -0.9, 0.5])
POSITIVE = np.array([0.5, 1.3, 2.1])


def leaf(values, lib=gradienti, requires_grad=True):
    return lib.tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)


def scaled_gradient(x, factor=2.0):
    """x itself, but a hook multiplies the gradient flowing back through it by ``factor``."""
    x2 = x * 1
    x2.register_hook(lambda g: g * factor)
    return x2


def straight_through_cube(x):
    """x**3 with the right first derivative (3x^2) and a wrong second one (0, not 6x)."""
    return (x**3).detach() + (x - x.detach()) * 3 * x.detach() ** 2


def detached_backward_sin(x):
    """sin(x) whose backward is right in value but cut from the graph (no second derivative)."""
    x2 = x * 1
    x2.register_hook(lambda g: g.detach())
    return x2.sin()


# ---------------------------------------------------------------------- passing
SMOOTH = [
    ("sin*exp", lambda x: x.sin() * x.exp(), (X,)),
    ("tanh/sigmoid", lambda x: x.tanh() / (x.sigmoid() + 1), (X,)),
    ("log sqrt", lambda x: x.log() + x.sqrt() * 2, (POSITIVE,)),
    ("pow", lambda x: x**3 - 2 * x**2, (Y,)),
    ("sum mean reshape", lambda x: (x.reshape(3, 2) * 2).sum(0) + x.mean(), (X,)),
    ("broadcast", lambda x, y: x * y + y.cos(), (X, Y)),
    ("two outputs", lambda x, y: ((x * x).sum(1), x.exp() * y), (X, Y)),
    ("expand", lambda y: y.reshape(3, 1).expand(3, 4).sin(), (Y,)),
    ("where", lambda x, y: gradienti.where(x > 0, x * y, y - x), (X, Y)),
]


@pytest.mark.parametrize("name,func,arrays", SMOOTH, ids=[c[0] for c in SMOOTH])
def test_gradcheck_and_gradgradcheck_pass_on_correct_functions(name, func, arrays):
    inputs = tuple(leaf(a) for a in arrays)
    assert gradcheck(func, inputs) is True
    assert gradgradcheck(func, inputs) is True
    for tensor, array in zip(inputs, arrays):  # perturbed in place, then restored exactly
        np.testing.assert_array_equal(tensor.detach().numpy(), array)
        assert tensor.grad is None and tensor.requires_grad


def test_a_single_tensor_input_and_a_tuple_output():
    x = leaf(Y)
    assert gradcheck(lambda t: (t.exp(), t * 3), x)


def test_inputs_that_do_not_require_grad_are_skipped_and_non_tensors_passed_through():
    seen = []

    def func(c, x, scale):
        seen.append(c.requires_grad)
        return (c * x).sin() * scale

    assert gradcheck(func, (leaf(Y, requires_grad=False), leaf(Y), 2.5))
    assert seen and not any(seen)


def test_outputs_that_do_not_require_grad_are_ignored():
    assert gradcheck(lambda x: (x.detach() * 5, x * 2), (leaf(Y),))


# ---------------------------------------------------------------------- failing
def test_wrong_gradient_raises_a_gradcheck_error_with_both_jacobians():
    x = leaf([0.5, -1.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda t: scaled_gradient(t) * 3, (x,))
    assert isinstance(info.value, RuntimeError)
    assert str(info.value) == (
        "Jacobian mismatch for output 0 with respect to input 0,\n"
        "numerical:tensor([[3.0000, 0.0000],\n"
        "        [0.0000, 3.0000]], dtype=torch.float64)\n"
        "analytical:tensor([[6., 0.],\n"
        "        [0., 6.]], dtype=torch.float64)\n"
    )


def test_raise_exception_false_returns_false():
    x = leaf(Y)
    assert gradcheck(lambda t: scaled_gradient(t).exp(), (x,), raise_exception=False) is False


def test_the_mismatching_output_and_input_are_named():
    def func(x, y):
        return x * 2, x * scaled_gradient(y, 1.5)

    with pytest.raises(
        GradcheckError,
        match=r"^Jacobian mismatch for output 1 with respect to "
        r"input 1,\nnumerical:tensor\(\[\[",
    ):
        gradcheck(func, (leaf(Y), leaf(POSITIVE)))


def test_jacobian_layout_is_input_elements_by_output_elements():
    # f: R^3 -> R^2, f(x) = (x0 + 2 x1, 3 x2): the Jacobians are (3, 2), as in PyTorch.
    x = leaf(Y)

    def wrong(x):
        weights = gradienti.tensor([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]], dtype=gradienti.float64)
        return (scaled_gradient(x, 2.0).reshape(3, 1) * weights).sum(0)

    with pytest.raises(GradcheckError) as info:
        gradcheck(wrong, (x,))
    assert "numerical:tensor([[1.0000, 0.0000],\n        [2.0000, 0.0000],\n" in str(info.value)
    assert "analytical:tensor([[2., 0.],\n        [4., 0.],\n        [0., 6.]]" in str(info.value)


def test_a_gradient_that_ignores_grad_output_is_caught():
    def func(x):
        x2 = x * 1
        # Right for every one-hot grad_output, but a zero grad_output gives ones.
        x2.register_hook(lambda g: g if g.abs().sum().item() > 0 else g + 1)
        return x2 * 2

    with pytest.raises(GradcheckError, match="^backward not multiplied by grad_output$"):
        gradcheck(func, (leaf(Y),))
    assert gradcheck(func, (leaf(Y),), raise_exception=False) is False


def test_non_reentrant_backward_is_caught_unless_nondet_tol_allows_it():
    calls = []

    def func(x):
        x2 = x * 1
        x2.register_hook(lambda g: (calls.append(1), g * (1 + 1e-9 * len(calls)))[1])
        return x2.sin()

    with pytest.raises(GradcheckError, match="^Backward is not reentrant, i.e., running backward"):
        gradcheck(func, (leaf(Y),))
    assert gradcheck(func, (leaf(Y),), nondet_tol=1e-6)


def test_an_output_with_no_graph_that_depends_on_the_input_fails():
    with pytest.raises(
        GradcheckError, match="^Numerical gradient for function expected to be zero$"
    ):
        gradcheck(lambda x: x.detach() * 2, (leaf(Y),))
    assert gradcheck(lambda x: gradienti.zeros(2, dtype=gradienti.float64), (leaf(Y),))


# ---------------------------------------------------------------------- input checks
FLOAT32_WARNING = (
    "Input #0 requires gradient and is not a double precision floating point or complex. "
    "This check will likely fail if all the inputs are not of double precision floating point "
    "or complex. "
)


def test_float32_input_warns():
    x = gradienti.tensor([0.5, 1.5], requires_grad=True)
    with pytest.warns(UserWarning) as record:
        gradcheck(lambda t: t * t, (x,), raise_exception=False)
    assert [str(w.message) for w in record] == [FLOAT32_WARNING]


def test_float64_input_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(lambda t: t * t, (leaf(Y),))


def test_no_input_requiring_grad_is_an_error():
    with pytest.raises(ValueError, match="^gradcheck expects at least one input tensor to "):
        gradcheck(lambda t: t * 2, (leaf(Y, requires_grad=False),))


def test_an_overlapping_input_is_an_error():
    x = leaf(Y).reshape(3, 1).expand(3, 2)
    with pytest.raises(RuntimeError, match="^The 0th input has a dimension with stride 0"):
        gradcheck(lambda t: t * 2, (x,))


def test_a_read_only_input_is_perturbed_through_a_copy():
    array = Y.copy()
    array.flags.writeable = False
    x = gradienti.from_numpy(array).requires_grad_()
    assert gradcheck(lambda t: t.exp(), (x,))
    assert not gradcheck(lambda t: scaled_gradient(t).exp(), (x,), raise_exception=False)
    np.testing.assert_array_equal(array, Y)


def test_unsupported_modes():
    x = leaf(Y)
    with pytest.raises(NotImplementedError, match="forward-mode"):
        gradcheck(lambda t: t, (x,), check_forward_ad=True)
    with pytest.raises(NotImplementedError, match="vmap"):
        gradcheck(lambda t: t, (x,), check_batched_grad=True)
    with pytest.raises(AssertionError, match="^Expected at least one of check_forward_ad"):
        gradcheck(lambda t: t, (x,), check_backward_ad=False)
    with pytest.raises(NotImplementedError, match="forward-mode"):
        gradgradcheck(lambda t: t, (x,), check_fwd_over_rev=True)


def test_fast_mode_runs_the_full_check():
    x = leaf(Y)
    assert gradcheck(lambda t: t.sin(), (x,), fast_mode=True)
    assert not gradcheck(
        lambda t: scaled_gradient(t).sin(), (x,), fast_mode=True, raise_exception=False
    )
    assert gradgradcheck(lambda t: t.sin(), (x,), fast_mode=True)


def test_tolerances_are_applied():
    x = leaf(Y)
    nearly = lambda t: scaled_gradient(t, 1.0005).sin()  # noqa: E731 - 0.05% off
    assert gradcheck(nearly, (x,))  # within rtol=1e-3
    assert not gradcheck(nearly, (x,), rtol=1e-5, raise_exception=False)


# ---------------------------------------------------------------------- gradgradcheck
def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = leaf(Y)
    assert gradcheck(straight_through_cube, (x,))
    with pytest.raises(GradcheckError, match="^Jacobian mismatch for output 0 with respect to "):
        gradgradcheck(straight_through_cube, (x,))
    assert gradcheck(detached_backward_sin, (x,))
    assert gradgradcheck(detached_backward_sin, (x,), raise_exception=False) is False


def test_gradgradcheck_with_given_grad_outputs_names_the_grad_output_input():
    # Inputs (x, v): the second derivative w.r.t. x is wrong, the one w.r.t. v is right.
    x = leaf(Y)
    v = leaf([1.0, -0.5, 2.0])
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(straight_through_cube, (x,), (v,))
    # d/dx of the VJP 3 x^2 v is 6 x v; the straight-through backward says 0.
    assert str(info.value) == (
        "Jacobian mismatch for output 0 with respect to input 0,\n"
        "numerical:tensor([[1.2000, 0.0000, 0.0000],\n"
        "        [0.0000, 2.7000, 0.0000],\n"
        "        [0.0000, 0.0000, 6.0000]], dtype=torch.float64)\n"
        "analytical:tensor([[0., 0., 0.],\n"
        "        [0., 0., 0.],\n"
        "        [0., 0., 0.]], dtype=torch.float64)\n"
    )
    # With the right function, the v part of the check passes too.
    assert gradgradcheck(lambda t: t**3, (x,), (v,))


def test_gradgradcheck_with_several_outputs_and_non_contiguous_grad_outputs():
    func = lambda x, y: ((x * y).sin(), (x * x).sum() * y)  # noqa: E731
    inputs = (leaf(X), leaf(Y))
    assert gradgradcheck(func, inputs, gen_non_contig_grad_outputs=True)


def test_gradgradcheck_grad_outputs_are_seeded():
    x = leaf(Y)
    messages = []
    for _ in range(2):
        with pytest.raises(GradcheckError) as info:
            gradgradcheck(straight_through_cube, (x,))
        messages.append(str(info.value))
    assert messages[0] == messages[1]


# ---------------------------------------------------------------------- against torch
def _outcome(lib, call):
    try:
        return ("ok", call(lib))
    except Exception as e:  # noqa: BLE001 - the oracle may raise anything
        return (type(e).__name__, str(e))


ORACLE = {
    "correct": lambda lib: lib.autograd.gradcheck(
        lambda x, y: (x.sin() * y, (x * x).sum()), (leaf(X, lib), leaf(Y, lib))
    ),
    "wrong first input": lambda lib: lib.autograd.gradcheck(
        lambda x: scaled_gradient(x).sin(), (leaf(X, lib),)
    ),
    "wrong second output second input": lambda lib: lib.autograd.gradcheck(
        lambda x, y: (x * 2, x.sum() * scaled_gradient(y, 0.5).exp()), (leaf(Y, lib), leaf(Y, lib))
    ),
    "constant first input": lambda lib: lib.autograd.gradcheck(
        lambda c, x: (c * scaled_gradient(x, 3.0)).tanh(),
        (leaf(Y, lib, requires_grad=False), leaf(POSITIVE, lib)),
    ),
    "non-differentiable first output": lambda lib: lib.autograd.gradcheck(
        lambda x: (x.detach() * 2, scaled_gradient(x) * x), (leaf(Y, lib),)
    ),
    "no graph": lambda lib: lib.autograd.gradcheck(lambda x: x.detach().exp(), (leaf(Y, lib),)),
    "no input requires grad": lambda lib: lib.autograd.gradcheck(
        lambda x: x * 2, (leaf(Y, lib, requires_grad=False),)
    ),
    "raise_exception=False": lambda lib: lib.autograd.gradcheck(
        lambda x: scaled_gradient(x).sin(), (leaf(X, lib),), raise_exception=False
    ),
    "gradgradcheck correct": lambda lib: lib.autograd.gradgradcheck(
        lambda x, y: (x.sin() * y, (x * x).sum()), (leaf(X, lib), leaf(Y, lib))
    ),
    "gradgradcheck wrong with grad_outputs": lambda lib: lib.autograd.gradgradcheck(
        straight_through_cube, (leaf(Y, lib),), (leaf([1.0, -0.5, 2.0], lib),)
    ),
    "gradgradcheck detached backward with grad_outputs": lambda lib: lib.autograd.gradgradcheck(
        detached_backward_sin, (leaf(X, lib),), (leaf(-X, lib),)
    ),
}


@pytest.mark.parametrize("case", list(ORACLE), ids=list(ORACLE))
def test_verdicts_and_messages_match_torch(case):
    torch = pytest.importorskip("torch")
    theirs = _outcome(torch, ORACLE[case])
    ours = _outcome(gradienti, ORACLE[case])
    assert ours == theirs


def test_float32_warning_matches_torch():
    torch = pytest.importorskip("torch")
    texts = []
    for lib in (torch, gradienti):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        with pytest.warns(UserWarning) as record:
            lib.autograd.gradcheck(lambda t: t * t, (x,), raise_exception=False)
        texts.append([str(w.message) for w in record])
    assert texts[0] == texts[1] == [FLOAT32_WARNING]


def test_a_wrong_autograd_function_backward_fails():
    class Double(gradienti.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x  # should be 2 x

    x = leaf(Y)
    assert gradcheck(lambda t: t * t, (x,))
    with pytest.raises(GradcheckError, match="^Jacobian mismatch for output 0 with respect to "):
        gradcheck(Double.apply, (x,))
