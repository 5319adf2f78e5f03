"""Forward-mode AD through custom Functions: ``jvp`` and ``ctx.save_for_forward``, as PyTorch.

The same class bodies run with gradienti and with torch; tangents are also checked against
float64 finite differences, and the tangent's own gradient (reverse over forward) against
torch's."""

import numpy as np
import pytest
from same_outcome import same_outcome


def _rounded(tensor):
    return None if tensor is None else np.round(tensor.detach().numpy().astype(float), 10).tolist()


def _docstring_function(lib):
    """``FunctionCtx.save_for_forward``'s docstring example."""

    class Func(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, z):
            ctx.save_for_backward(x, y)
            ctx.save_for_forward(x, y)
            ctx.z = z
            return x * y * z

        @staticmethod
        def jvp(ctx, x_t, y_t, _):
            x, y = ctx.saved_tensors
            z = ctx.z
            return z * (y * x_t + x * y_t)

        @staticmethod
        def vjp(ctx, grad_out):
            x, y = ctx.saved_tensors
            z = ctx.z
            return z * grad_out * y, z * grad_out * x, None

    return Func


def test_the_save_for_forward_docstring_example():
    def action(lib):
        fw_ad = lib.autograd.forward_ad
        a = lib.tensor(1.0, requires_grad=True, dtype=lib.double)
        t = lib.tensor(1.0, dtype=lib.double)
        b = lib.tensor(2.0, requires_grad=True, dtype=lib.double)
        c = 4
        with fw_ad.dual_level():
            a_dual = fw_ad.make_dual(a, t)
            d = _docstring_function(lib).apply(a_dual, b, c)
            primal, tangent = fw_ad.unpack_dual(d)
            # reverse over forward: the tangent z * y * t is differentiable
            grads = lib.autograd.grad(tangent, (a, b))
        vjp = lib.autograd.grad(_docstring_function(lib).apply(a, b, c), (a, b))
        return [_rounded(v) for v in (primal, tangent, *grads, *vjp)], type(d.grad_fn).__name__

    values, name = same_outcome(action)[1]
    assert values == [8.0, 8.0, 0.0, 4.0, 8.0, 4.0] and name == "FuncBackward"


def _sin_times(lib):
    """f(x, y) = sin(x) * y in the separate style, its jvp from the product rule."""

    class SinTimes(lib.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x.sin() * y

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, y = inputs
            ctx.save_for_backward(x, y)
            ctx.save_for_forward(x, y)

        @staticmethod
        def jvp(ctx, x_t, y_t):
            x, y = ctx.saved_tensors
            return x.cos() * y * x_t + x.sin() * y_t

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            return grad * x.cos() * y, grad * x.sin()

    return SinTimes


def test_jvp_matches_torch_and_finite_differences():
    rng = np.random.default_rng(1)
    x, y, u, v = (rng.standard_normal(4) for _ in range(4))

    def action(lib):
        fw_ad = lib.autograd.forward_ad
        as_tensor = lambda a: lib.tensor(a, dtype=lib.float64)  # noqa: E731
        with fw_ad.dual_level():
            out = _sin_times(lib).apply(
                fw_ad.make_dual(as_tensor(x), as_tensor(u)),
                fw_ad.make_dual(as_tensor(y), as_tensor(v)),
            )
            return _rounded(fw_ad.unpack_dual(out).tangent)

    tangent = same_outcome(action)[1]
    eps = 1e-6
    numeric = (np.sin(x + eps * u) * (y + eps * v) - np.sin(x - eps * u) * (y - eps * v)) / (
        2 * eps
    )
    np.testing.assert_allclose(tangent, numeric, rtol=1e-7, atol=1e-8)


def test_reverse_over_forward_through_a_jvp():
    def action(lib):
        fw_ad = lib.autograd.forward_ad
        x = lib.tensor([0.3, -1.2], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([2.0, 0.5], dtype=lib.float64, requires_grad=True)
        u = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        with fw_ad.dual_level():
            out = _sin_times(lib).apply(fw_ad.make_dual(x, u), y)
            tangent = fw_ad.unpack_dual(out).tangent
            grads = lib.autograd.grad(tangent.sum(), (x, y, u))
        return [_rounded(t) for t in (tangent, *grads)]

    same_outcome(action)


def _recording(lib, record, materialize=True, save=True):
    class Recording(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, n, k):
            ctx.set_materialize_grads(materialize)
            if save:
                ctx.save_for_forward(x, None)
            ctx.save_for_backward(y)
            fw_ad = lib.autograd.forward_ad
            record.append(("forward tangent", _rounded(fw_ad.unpack_dual(x).tangent)))
            return x * y * k

        @staticmethod
        def jvp(ctx, x_t, y_t, n_t, k_t):
            record.append(
                (
                    [_rounded(t) if t is None or hasattr(t, "shape") else t for t in (x_t, y_t)],
                    n_t,
                    k_t,
                    [_rounded(t) if t is not None else None for t in ctx.saved_tensors],
                    lib.is_grad_enabled(),
                )
            )
            return x_t * 2

        @staticmethod
        def backward(ctx, grad):
            record.append(("backward saved", len(ctx.saved_tensors)))
            return grad, grad, None, None

    return Recording


@pytest.mark.parametrize("materialize", [True, False])
@pytest.mark.parametrize("save", [True, False])
@pytest.mark.parametrize("grad_mode", [True, False])
def test_what_jvp_receives(materialize, save, grad_mode):
    def action(lib):
        record = []
        fw_ad = lib.autograd.forward_ad
        x = lib.tensor([1.0, 2.0])
        y = lib.tensor([3.0, 4.0], requires_grad=True)
        n = lib.tensor([1, 2])
        with fw_ad.dual_level(), lib.set_grad_enabled(grad_mode):
            dual = fw_ad.make_dual(x, lib.tensor([1.0, 0.5]))
            out = _recording(lib, record, materialize, save).apply(dual, y, n, 2)
            tangent = _rounded(fw_ad.unpack_dual(out).tangent)
        if grad_mode:
            out.sum().backward()
        return record, tangent

    record, tangent = same_outcome(action)[1]
    assert tangent == [2.0, 1.0] and record[0] == ("forward tangent", None)
    x_and_y, n_t, k_t, saved, grad_enabled = record[1]
    assert x_and_y == [[1.0, 0.5], [0.0, 0.0] if materialize else None]
    assert (n_t, k_t, grad_enabled) == (None, None, grad_mode)
    assert saved == ([[1.0, 2.0], None] if save else [])
    assert record[2:] == ([("backward saved", 1)] if grad_mode else [])


def test_jvp_is_not_called_without_a_tangent():
    def action(lib):
        record = []
        fw_ad = lib.autograd.forward_ad
        with fw_ad.dual_level():
            out = _recording(lib, record).apply(lib.ones(2), lib.ones(2), lib.ones(2), 1)
            return record, fw_ad.unpack_dual(out).tangent

    assert same_outcome(action)[1] == ([("forward tangent", None)], None)


def test_a_function_without_jvp_refuses_forward_ad():
    def action(lib):
        class NoJvp(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        fw_ad = lib.autograd.forward_ad
        with fw_ad.dual_level():
            return NoJvp.apply(fw_ad.make_dual(lib.ones(2), lib.ones(2)))

    assert same_outcome(action) == (
        "NotImplementedError",
        "You must implement the jvp function for custom autograd.Function to use it with "
        "forward mode AD.",
    )


def _returning(lib, outputs, jvp):
    """A Function whose forward returns ``outputs(lib, x)`` and whose jvp returns
    ``jvp(lib, x_t)``; its second output (if any) is marked non-differentiable when it is
    the string "marked"."""

    class Returning(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = outputs(lib, x)
            if isinstance(out, tuple) and len(out) > 1 and isinstance(out[1], str):
                out = (out[0], x * 3)
                ctx.mark_non_differentiable(out[1])
            return out

        @staticmethod
        def jvp(ctx, x_t):
            return jvp(lib, x_t)

        @staticmethod
        def backward(ctx, *grads):
            return grads[0]

    return Returning


_TWICE = lambda lib, x: x * 2  # noqa: E731
_PAIR = lambda lib, x: (x * 2, x * 3)  # noqa: E731
_JVP_CASES = {
    "tangent": (_TWICE, lambda lib, t: t * 2),
    "two tangents for one output": (_TWICE, lambda lib, t: (t, t)),
    "a number": (_TWICE, lambda lib, t: 3),
    "numbers before the count": (_TWICE, lambda lib, t: (3, 4)),
    "wrong size": (_TWICE, lambda lib, t: lib.ones(3)),
    "broadcastable size": (_TWICE, lambda lib, t: lib.ones(1)),
    "other float dtype kept": (_TWICE, lambda lib, t: lib.ones(2, dtype=lib.float64)),
    "integer tangent": (_TWICE, lambda lib, t: lib.ones(2, dtype=lib.long)),
    "None for a differentiable output": (_TWICE, lambda lib, t: None),
    "None for one of two": (_PAIR, lambda lib, t: (t * 2, None)),
    "marked output gets None": (lambda lib, x: (x * 2, "marked"), lambda lib, t: (t, None)),
    "marked output gets a tangent": (lambda lib, x: (x * 2, "marked"), lambda lib, t: (t, t)),
    "integer output gets None": (lambda lib, x: (x * 2, (x * 2).long()), lambda lib, t: (t, None)),
    "integer output gets a tangent": (
        lambda lib, x: (x * 2, (x * 2).long()),
        lambda lib, t: (t, t),
    ),
    "non-tensor output": (lambda lib, x: (x * 2, 3), lambda lib, t: (t, t)),
    "input returned with a new tangent": (lambda lib, x: x, lambda lib, t: t * 1),
    "input returned with its tangent": (lambda lib, x: x, lambda lib, t: t),
    "input returned with a view of its tangent": (lambda lib, x: x, lambda lib, t: t.view_as(t)),
    "input returned with another view": (lambda lib, x: x, lambda lib, t: lib.ones(4)[:2]),
    "view returned with a view of the tangent": (lambda lib, x: x[:1], lambda lib, t: t[:1]),
    "view returned with a new tangent": (lambda lib, x: x[:1], lambda lib, t: t[:1] * 1),
}


@pytest.mark.parametrize("case", list(_JVP_CASES))
def test_what_jvp_returns_is_checked_as_in_torch(case):
    outputs, jvp = _JVP_CASES[case]

    def action(lib):
        fw_ad = lib.autograd.forward_ad
        with fw_ad.dual_level():
            dual = fw_ad.make_dual(lib.tensor([1.0, 2.0]), lib.tensor([1.0, 0.5]))
            out = _returning(lib, outputs, jvp).apply(dual)
            items = out if isinstance(out, tuple) else (out,)
            return [
                (_rounded(item), _rounded(fw_ad.unpack_dual(item).tangent), str(item.dtype))
                if hasattr(item, "shape")
                else item
                for item in items
            ]

    outcome = same_outcome(action)
    expected_ok = {
        "tangent",
        "other float dtype kept",
        "marked output gets None",
        "integer output gets None",
        "non-tensor output",
        "input returned with a view of its tangent",
        "view returned with a view of the tangent",
    }
    assert (outcome[0] == "ok") == (case in expected_ok)


def _in_place(lib, jvp):
    class InPlace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def jvp(ctx, x_t, y_t):
            return jvp(x_t, y_t)

        @staticmethod
        def backward(ctx, grad):
            return grad * 2, None

    return InPlace


@pytest.mark.parametrize(
    ("case", "jvp", "tangent_on"),
    [
        ("modified in place, returned as is", lambda x_t, y_t: x_t.mul_(2), "x"),
        ("a new tangent", lambda x_t, y_t: x_t * 2, "x"),
        ("returned unmodified", lambda x_t, y_t: x_t, "x"),
        ("None", lambda x_t, y_t: None, "x"),
        ("modified, another returned", lambda x_t, y_t: x_t.mul_(2) * 1, "x"),
        ("the input had no tangent: a new one", lambda x_t, y_t: y_t * 2, "y"),
        ("the input had no tangent: None", lambda x_t, y_t: None, "y"),
    ],
)
def test_a_dirty_input_keeps_its_tangent_modified_in_place(case, jvp, tangent_on):
    def action(lib):
        fw_ad = lib.autograd.forward_ad
        with fw_ad.dual_level():
            tangent = lib.tensor([1.0, 0.5])
            x, y = lib.tensor([1.0, 2.0]), lib.ones(2)
            if tangent_on == "x":
                x = fw_ad.make_dual(x, tangent)
            else:
                y = fw_ad.make_dual(y, tangent)
            out = _in_place(lib, jvp).apply(x, y)
            after = fw_ad.unpack_dual(out).tangent
            return out is x, _rounded(out), _rounded(after), _rounded(tangent)

    outcome = same_outcome(action)
    if case.startswith("modified in place"):
        assert outcome[1] == (True, [2.0, 4.0], [2.0, 1.0], [2.0, 1.0])


def test_mark_dirty_of_an_output_that_is_no_input_fails_under_forward_ad():
    def action(lib):
        class Dirty(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x * 2
                ctx.mark_dirty(y)
                return y

            @staticmethod
            def jvp(ctx, x_t):
                return x_t * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        fw_ad = lib.autograd.forward_ad
        with fw_ad.dual_level():
            return Dirty.apply(fw_ad.make_dual(lib.ones(2), lib.ones(2)))

    assert same_outcome(action)[1].startswith("Only input Tensors should be given to ctx.mark")


def test_a_tangent_with_its_own_tangent_is_refused():
    def action(lib):
        fw_ad = lib.autograd.forward_ad
        with fw_ad.dual_level():
            dual = fw_ad.make_dual(lib.ones(2), lib.ones(2))
            returning = _returning(lib, _TWICE, lambda lib, t: dual)
            return returning.apply(dual)

    assert same_outcome(action)[0] == "RuntimeError"


def test_save_for_forward_accepts_only_tensors_or_none():
    def action(lib):
        class Saving(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_forward(x, 3)
                return x * 2

        return Saving.apply(lib.ones(2))

    assert same_outcome(action) == (
        "AssertionError",
        "save_for_forward expects all arguments to be tensors; you should save non-tensors as "
        "attributes on ctx.",
    )
