"""gradcheck and gradgradcheck: analytical derivatives against finite differences.

PyTorch's slow mode, step for step (torch/autograd/gradcheck.py is the reference for every
message): for each input that requires grad and each differentiable output, the numerical
Jacobian comes from central differences, one input element at a time, computed in the
inputs' dtype (float64 expected); the analytical Jacobian comes row by row from
``autograd.grad`` with one-hot ``grad_outputs`` (twice, to catch a non-reentrant backward);
both are laid out as PyTorch lays them out, ``(input.numel(), output.numel())``, and compared
with ``allclose(analytical, numerical, rtol, atol)``. Inputs are perturbed in place through
the memory they share with ``detach().numpy()`` (PyTorch perturbs ``.data``), and restored.

Differences from PyTorch, because gradienti has no forward-mode AD, no vmap and no undefined
gradients: ``fast_mode=True`` runs the slow mode (a stricter check, with slow mode's
messages); ``check_forward_ad``, ``check_batched_grad``, ``check_batched_forward_grad`` and
``check_fwd_over_rev`` set to True raise NotImplementedError; ``check_undefined_grad`` checks
that all-zero output gradients give zero (or no) input gradients, which is what an undefined
gradient means in PyTorch. ``gradgradcheck``'s random ``grad_outputs`` come from a NumPy
generator seeded with 0 (uniform in [-1, 1)), not from torch.testing.make_tensor.
"""

from __future__ import annotations

import warnings

from ..backend import float64, xp
from ..creation import from_numpy, zeros_like
from ..tensor import Tensor
from .engine import grad as _grad

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]

FAILED_NONDET_MSG = """\n
NOTE: If your op relies on non-deterministic operations i.e., it is listed here:
https://pytorch.org/docs/stable/generated/torch.use_deterministic_algorithms.html
this failure might be expected.

If you are adding a new operator, please file an issue and then use one of the
workarounds. The workaround depends on how your test invokes gradcheck/gradgradcheck.
If the test
- manually invokes gradcheck/gradgradcheck, then call gradcheck/gradgradcheck
  with `nondet_tol=<tol>` as a keyword argument.
- is OpInfo-based (e.g., in test_ops_gradients.py), then modify the OpInfo for the test
  to have `gradcheck_nondet_tol=<tol>`.
- is a Module test (e.g., in common_nn.py), then modify the corresponding
  module_test entry to have `gradcheck_nondet_tol=<tol>`
"""

_NO_FORWARD_AD = "gradienti has no forward-mode AD: {} is not supported"
_NO_VMAP = "gradienti has no vmap: {} is not supported"


class GradcheckError(RuntimeError):
    """Error raised by :func:`gradcheck` and :func:`gradgradcheck`."""


# ---------------------------------------------------------------------- helpers
def _as_tuple(x) -> tuple:
    if isinstance(x, tuple):
        return x
    if isinstance(x, list):
        return tuple(x)
    return (x,)


def _differentiable_outputs(x) -> tuple:
    return tuple(o for o in _as_tuple(x) if o.requires_grad)


def _diff_inputs(inputs) -> list:
    return [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]


def _array(t: Tensor):
    """The tensor's values as an ndarray sharing its memory."""
    return t.detach().numpy()


def _check_inputs(inputs) -> None:
    any_input_requiring_grad = False
    for idx, inp in enumerate(inputs):
        if isinstance(inp, Tensor) and inp.requires_grad:
            if inp.dtype != float64:
                warnings.warn(
                    f"Input #{idx} requires gradient and "
                    "is not a double precision floating point or complex. "
                    "This check will likely fail if all the inputs are "
                    "not of double precision floating point or complex. ",
                    stacklevel=4,
                )
            array = _array(inp)
            if not all(st > 0 or sz <= 1 for st, sz in zip(array.strides, array.shape)):
                raise RuntimeError(
                    f"The {idx}th input has a dimension with stride 0. gradcheck only "
                    "supports inputs that are non-overlapping to be able to "
                    "compute the numerical gradients correctly. You should call "
                    ".contiguous on the input before passing it to gradcheck."
                )
            any_input_requiring_grad = True
    if not any_input_requiring_grad:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, "
            "but none of them have requires_grad=True."
        )


# ---------------------------------------------------------------------- numerical
def _check_same_dtype_and_shape(output1, output2, eps, idx) -> None:
    if output1.shape != output2.shape:
        raise AssertionError(
            "Expected `func` to return outputs with the same shape"
            f" when inputs are perturbed on index {idx} by {eps}, but got:"
            f" shapes {output1.shape} and {output2.shape}."
        )
    if output1.dtype != output2.dtype:
        raise AssertionError(
            "Expected `func` to return outputs with the same dtype"
            f" when inputs are perturbed on index {idx} by {eps}, but got:"
            f" dtypes {output1.dtype} and {output2.dtype}."
        )


def _numerical_jacobians(func, inputs, func_out, eps) -> list:
    """[input][output] -> (input.numel(), output.numel()) arrays, for every output.

    Only inputs that require grad are perturbed, each element by -eps and +eps in place.
    """
    func_out = _as_tuple(func_out)
    jacobians = []
    for input_idx, inp in enumerate(inputs):
        if not (isinstance(inp, Tensor) and inp.requires_grad):
            continue
        args = list(inputs)
        array = _array(inp)
        if not array.flags.writeable:  # read-only memory: perturb a copy, passed instead
            array = array.copy()
            args[input_idx] = from_numpy(array).requires_grad_()

        def evaluate():
            outs = _as_tuple(func(*args))  # noqa: B023 - called within this iteration
            return outs, [_array(o).copy() for o in outs]

        per_output = [xp.zeros((array.size, o.numel()), dtype=_array(o).dtype) for o in func_out]
        for d_idx, idx in enumerate(xp.ndindex(array.shape)):
            orig = array[idx]
            array[idx] = orig - eps
            outs_a, values_a = evaluate()
            array[idx] = orig + eps
            outs_b, values_b = evaluate()
            array[idx] = orig
            for k, (oa, ob, a, b) in enumerate(zip(outs_a, outs_b, values_a, values_b)):
                _check_same_dtype_and_shape(oa, ob, eps, idx)
                per_output[k][d_idx] = ((b - a) / (2 * eps)).reshape(-1)
        jacobians.append(per_output)
    return jacobians


def _check_no_differentiable_outputs(func, inputs, func_out, eps) -> None:
    for per_output in _numerical_jacobians(func, inputs, func_out, eps):
        for jacobian in per_output:
            if xp.count_nonzero(jacobian) > 0:
                raise GradcheckError("Numerical gradient for function expected to be zero")


# ---------------------------------------------------------------------- analytical
def _analytical_rows(output, diff_inputs) -> list:
    """[input] -> one VJP per output element (None where the input gets no gradient)."""
    grad_out = xp.zeros(tuple(output.shape), dtype=_array(output).dtype)
    flat = grad_out.reshape(-1)  # a view: setting one entry sets the one-hot grad_out
    rows: list = [[] for _ in diff_inputs]
    for j in range(flat.size):
        flat[:] = 0
        flat[j] = 1
        grads = _grad(
            output, diff_inputs, from_numpy(grad_out.copy()), retain_graph=True, allow_unused=True
        )
        for i, d_x in enumerate(grads):
            rows[i].append(None if d_x is None else d_x.clone())
    return rows


def _stack_rows(rows, diff_inputs, numel_output):
    """Columns (one per output element) into (input.numel(), output.numel()) Jacobians."""
    jacobians = []
    sizes_ok = types_ok = True
    for inp, input_rows in zip(diff_inputs, rows):
        jacobian = xp.zeros((inp.numel(), numel_output), dtype=_array(inp).dtype)
        for j, d_x in enumerate(input_rows):
            if d_x is None:
                continue
            if d_x.shape != inp.shape:
                sizes_ok = False
            elif d_x.dtype != inp.dtype:
                types_ok = False
            values = _array(d_x).reshape(-1)
            if values.size != inp.numel():
                raise AssertionError(
                    f"Expected out_jacobian column to have {values.size} elements, "
                    f"but got {inp.numel()}"
                )
            jacobian[:, j] = values
        jacobians.append(jacobian)
    return jacobians, sizes_ok, types_ok


def _analytical_jacobians(inputs, output, nondet_tol, check_grad_dtypes) -> list:
    diff_inputs = _diff_inputs(inputs)
    numel = output.numel()
    jacobians1, sizes_ok, types_ok = _stack_rows(
        _analytical_rows(output, diff_inputs), diff_inputs, numel
    )
    jacobians2, _, _ = _stack_rows(_analytical_rows(output, diff_inputs), diff_inputs, numel)
    reentrant = all(
        j1.size == 0 or not xp.abs(j1 - j2).max() > nondet_tol
        for j1, j2 in zip(jacobians1, jacobians2)
    )
    if not types_ok and check_grad_dtypes:
        raise GradcheckError("Gradient has dtype mismatch")
    if not sizes_ok:
        raise GradcheckError("Analytical gradient has incorrect size")
    if not reentrant:
        raise GradcheckError(
            "Backward is not reentrant, i.e., running backward with "
            "same input and grad_output multiple times gives different values, "
            "although analytical gradient matches numerical gradient."
            f"The tolerance for nondeterminism was {nondet_tol}." + FAILED_NONDET_MSG
        )
    return jacobians1


def _mismatch_message(analytical, numerical, output_idx: int, input_idx: int) -> str:
    return (
        f"Jacobian mismatch for output {output_idx:d} with respect to input {input_idx:d},\n"
        f"numerical:{from_numpy(numerical)}\nanalytical:{from_numpy(analytical)}\n"
    )


def _slow_gradcheck(func, func_out, inputs, outputs, eps, rtol, atol, check_grad_dtypes, tol):
    if not outputs:
        _check_no_differentiable_outputs(func, inputs, func_out, eps)
        return
    # numerical[input][output], for every output: keep the differentiable ones, by output.
    numerical = list(zip(*_numerical_jacobians(func, inputs, func_out, eps)))
    numerical = [nj for o, nj in zip(_as_tuple(func_out), numerical) if o.requires_grad]
    for i, o in enumerate(outputs):
        analytical = _analytical_jacobians(inputs, o, tol, check_grad_dtypes)
        for j, (a, n) in enumerate(zip(analytical, numerical[i])):
            if not xp.allclose(a, n, rtol=rtol, atol=atol):
                raise GradcheckError(_mismatch_message(a, n, i, j))


# ---------------------------------------------------------------------- other checks
def _zero_grad_outputs_give_zero(outputs, diff_inputs, masked, undefined: bool) -> None:
    """All-zero output gradients must give zero input gradients of the inputs' dtype/shape."""
    zeros = [zeros_like(o) for o in outputs]
    if undefined:
        try:
            grads = _grad(outputs, diff_inputs, zeros, allow_unused=True)
        except RuntimeError as e:
            _warn_bc_breaking()
            raise GradcheckError(
                "Expected backward function to handle undefined output grads. "
                'Please look at "Notes about undefined output gradients" in '
                '"tools/autograd/derivatives.yaml"'
            ) from e
        for gi in grads:
            if gi is not None and xp.count_nonzero(_array(gi)) > 0:
                _warn_bc_breaking()
                raise GradcheckError(
                    "Expected all input grads to be undefined or zero when all output grads "
                    'are undefined or zero. Please look at "Notes about undefined output '
                    'gradients" in "tools/autograd/derivatives.yaml"'
                )
        return
    grads = _grad(outputs, diff_inputs, zeros, allow_unused=True)
    for gi, di in zip(grads, diff_inputs):
        if gi is None:
            continue
        values = _array(gi)
        zero = xp.allclose(values, 0) if masked else not xp.count_nonzero(values)
        if not zero:
            raise GradcheckError("backward not multiplied by grad_output")
        if gi.dtype != di.dtype:
            raise GradcheckError("grad is incorrect type")
        if gi.shape != di.shape:
            raise GradcheckError("grad is incorrect size")


def _warn_bc_breaking() -> None:
    warnings.warn(
        "Backwards compatibility: New undefined gradient support checking "
        "feature is enabled by default, but it may break existing callers "
        "of this function. If this is true for you, you can call this "
        'function with "check_undefined_grad=False" to disable the feature',
        stacklevel=5,
    )


# ---------------------------------------------------------------------- public API
def gradcheck(
    func,
    inputs,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False,
    check_forward_ad: bool = False,
    check_backward_ad: bool = True,
    fast_mode: bool = False,
    masked: bool | None = None,
) -> bool:
    """Check the gradients of ``func`` at ``inputs`` against central finite differences.

    Returns True when every analytical Jacobian is ``allclose`` to the numerical one; on a
    mismatch raises :class:`GradcheckError` (or returns False with ``raise_exception=False``).
    Only inputs with ``requires_grad=True`` are checked; float64 inputs are expected (others
    warn). ``fast_mode=True`` runs the full (slow-mode) check.
    """
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError(
            "Expected at least one of check_forward_ad or check_backward_ad to be True"
        )
    if check_batched_grad and not check_backward_ad:
        raise AssertionError(
            "Setting check_batched_grad=True requires check_backward_ad to be True"
        )
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError(
            "Setting check_batched_forward_grad=True requires check_forward_ad to be True"
        )
    if check_forward_ad:
        raise NotImplementedError(_NO_FORWARD_AD.format("check_forward_ad=True"))
    if check_batched_grad:
        raise NotImplementedError(_NO_VMAP.format("check_batched_grad=True"))
    try:
        return _gradcheck_helper(
            func,
            inputs,
            eps,
            atol,
            rtol,
            nondet_tol,
            check_undefined_grad,
            check_grad_dtypes,
            bool(masked),
        )
    except GradcheckError:
        if raise_exception:
            raise
        return False


def _gradcheck_helper(
    func, inputs, eps, atol, rtol, nondet_tol, check_undefined_grad, check_grad_dtypes, masked
) -> bool:
    inputs = _as_tuple(inputs)
    _check_inputs(inputs)
    func_out = func(*inputs)
    outputs = _differentiable_outputs(func_out)
    _slow_gradcheck(func, func_out, inputs, outputs, eps, rtol, atol, check_grad_dtypes, nondet_tol)
    diff_inputs = _diff_inputs(inputs)
    if outputs:
        _zero_grad_outputs_give_zero(outputs, diff_inputs, masked, undefined=False)
    if check_undefined_grad:
        fresh = _differentiable_outputs(func(*inputs))
        if fresh:
            _zero_grad_outputs_give_zero(fresh, diff_inputs, masked, undefined=True)
    return True


def gradgradcheck(
    func,
    inputs,
    grad_outputs=None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    gen_non_contig_grad_outputs: bool = False,
    raise_exception: bool = True,
    nondet_tol: float = 0.0,
    check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False,
    check_batched_grad: bool = False,
    check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True,
    fast_mode: bool = False,
    masked: bool = False,
) -> bool:
    """Check second derivatives: gradcheck of ``(inputs, grad_outputs) -> VJP``.

    The first-order VJP ``autograd.grad(func(*inputs), inputs, grad_outputs,
    create_graph=True)`` is itself checked with :func:`gradcheck` with respect to the inputs
    and the ``grad_outputs`` (random, seeded, when not given).
    """
    if not (check_fwd_over_rev or check_rev_over_rev):
        raise AssertionError(
            "Expected at least one of check_fwd_over_rev or check_rev_over_rev to be True"
        )
    if check_undefined_grad and not check_rev_over_rev:
        raise AssertionError(
            "Setting check_undefined_grad=True requires check_rev_over_rev to be True"
        )
    if check_batched_grad and not check_rev_over_rev:
        raise AssertionError(
            "Setting check_batched_grad=True requires check_rev_over_rev to be True"
        )
    if check_fwd_over_rev:
        raise NotImplementedError(_NO_FORWARD_AD.format("check_fwd_over_rev=True"))
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        rng = xp.random.default_rng(0)
        grad_outputs = tuple(
            _random_grad_output(rng, o, gen_non_contig_grad_outputs)
            for o in _differentiable_outputs(func(*inputs))
        )
    else:
        grad_outputs = _as_tuple(grad_outputs)
    num_outputs = len(grad_outputs)
    diff_input_indices = {
        i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad
    }
    diff_grad_output_indices = {i for i, x in enumerate(grad_outputs) if x.requires_grad}

    def new_func(*args):
        input_args = tuple(
            x.requires_grad_() if i in diff_input_indices else x
            for i, x in enumerate(args[:-num_outputs])
        )
        outputs = _differentiable_outputs(func(*input_args))
        tupled_grad_outputs = tuple(
            x.requires_grad_() if i in diff_grad_output_indices else x
            for i, x in enumerate(args[-num_outputs:])
        )
        diff_input_args = tuple(x for i, x in enumerate(input_args) if i in diff_input_indices)
        grad_inputs = _grad(
            outputs, diff_input_args, tupled_grad_outputs, create_graph=True, allow_unused=True
        )
        return tuple(g for g in grad_inputs if g is not None)

    return gradcheck(
        new_func,
        inputs + grad_outputs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        nondet_tol=nondet_tol,
        check_undefined_grad=check_undefined_grad,
        check_grad_dtypes=check_grad_dtypes,
        check_batched_grad=check_batched_grad,
        fast_mode=fast_mode,
        check_backward_ad=check_rev_over_rev,
        masked=masked,
    )


def _random_grad_output(rng, output, noncontiguous: bool):
    """Uniform in [-1, 1), the output's dtype (float64 for a non-float output), requires grad."""
    dtype = _array(output).dtype if output.is_floating_point() else float64.np
    shape = tuple(output.shape)
    if noncontiguous and output.numel() > 1:
        # Every other element of a twice-as-long last axis: a strided, writable view.
        wide = rng.uniform(-1, 1, shape[:-1] + (2 * shape[-1],)).astype(dtype)
        return from_numpy(wide[..., ::2]).requires_grad_()
    return from_numpy(rng.uniform(-1, 1, shape).astype(dtype)).requires_grad_()
