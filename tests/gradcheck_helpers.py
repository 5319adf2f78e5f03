"""Float64 central finite-difference checks of gradienti's first and second derivatives.

Written from scratch (no torch): ``gradcheck`` compares the analytic vector-Jacobian product
``autograd.grad(f(*xs), xs, grad_outputs=v)`` with central differences of ``<f(xs), v>``;
``gradgradcheck`` compares the gradient of ``h(xs) = sum_i <vjp_i(xs), w_i>`` (computed with
``create_graph=True``) with central differences of ``h``, evaluated through first-order VJPs.
``v`` and ``w`` are random and non-uniform, so a wrong broadcast or a transposed gradient shows.
Tolerances are those of ``torch.autograd.gradcheck``.
"""

from __future__ import annotations

import numpy as np

import gradienti

EPS = 1e-6
ATOL = 1e-5
RTOL = 1e-3


def _leaves(arrays):
    return [gradienti.tensor(a, requires_grad=True) for a in arrays]


def _as_numpy(t):
    return np.asarray(t.detach().numpy(), dtype=np.float64)


def _numerical_gradient(scalar_fn, arrays, eps):
    """d scalar_fn / d arrays[i], by central differences, one element at a time."""
    grads = []
    for i, base in enumerate(arrays):
        grad = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            shifted = [a.copy() for a in arrays]
            shifted[i][idx] = base[idx] + eps
            plus = scalar_fn(shifted)
            shifted[i][idx] = base[idx] - eps
            minus = scalar_fn(shifted)
            grad[idx] = (plus - minus) / (2 * eps)
        grads.append(grad)
    return grads


def _compare(kind, analytic, numerical, atol, rtol):
    for i, (a, n) in enumerate(zip(analytic, numerical)):
        if not np.allclose(a, n, atol=atol, rtol=rtol):
            raise AssertionError(
                f"{kind} mismatch for input {i}:\nanalytic=\n{a}\nnumerical=\n{n}\n"
                f"max abs diff={np.max(np.abs(a - n))}"
            )


def _vjp(fn, arrays, v, create_graph=False):
    """(inputs, gradients) of <fn(inputs), v>; None gradients (unused inputs) become zeros."""
    xs = _leaves(arrays)
    out = fn(*xs)
    if out.dtype != gradienti.float64:
        raise AssertionError(f"expected a float64 output for float64 inputs, got {out.dtype}")
    if tuple(out.shape) != v.shape:
        raise AssertionError(f"output shape {tuple(out.shape)} != expected {v.shape}")
    grads = gradienti.autograd.grad(
        out, xs, grad_outputs=gradienti.tensor(v), create_graph=create_graph, allow_unused=True
    )
    return xs, grads


def _output_shape(fn, arrays):
    return tuple(fn(*[gradienti.tensor(a) for a in arrays]).shape)


def gradcheck(fn, arrays, seed=0, eps=EPS, atol=ATOL, rtol=RTOL):
    """Check the first derivative of ``fn`` (gradienti tensors -> tensor) at float64 ``arrays``."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    v = np.random.default_rng(seed).uniform(0.5, 1.5, _output_shape(fn, arrays))
    _, grads = _vjp(fn, arrays, v)
    analytic = [np.zeros_like(a) if g is None else _as_numpy(g) for a, g in zip(arrays, grads)]
    for a, g in zip(arrays, analytic):
        if g.shape != a.shape:
            raise AssertionError(f"gradient shape {g.shape} != input shape {a.shape}")

    def dot_v(shifted):
        return float(np.sum(_as_numpy(fn(*[gradienti.tensor(a) for a in shifted])) * v))

    _compare("gradient", analytic, _numerical_gradient(dot_v, arrays, eps), atol, rtol)


def gradgradcheck(fn, arrays, seed=0, eps=EPS, atol=ATOL, rtol=RTOL):
    """Check the second derivative: the gradient of <vjp(xs), w> against finite differences."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.5, 1.5, _output_shape(fn, arrays))
    ws = [rng.uniform(0.5, 1.5, a.shape) for a in arrays]

    xs, grads = _vjp(fn, arrays, v, create_graph=True)
    # Terms whose first derivative does not depend on the inputs contribute zero.
    terms = [(g * gradienti.tensor(w)).sum() for g, w in zip(grads, ws) if g is not None]
    terms = [t for t in terms if t.requires_grad]
    if terms:
        h = terms[0]
        for t in terms[1:]:
            h = h + t
        second = gradienti.autograd.grad(h, xs, allow_unused=True)
        analytic = [np.zeros_like(a) if g is None else _as_numpy(g) for a, g in zip(arrays, second)]
    else:
        analytic = [np.zeros_like(a) for a in arrays]

    def vjp_dot_w(shifted):
        _, gs = _vjp(fn, shifted, v)
        return float(sum(np.sum(_as_numpy(g) * w) for g, w in zip(gs, ws) if g is not None))

    numerical = _numerical_gradient(vjp_dot_w, arrays, eps)
    _compare("second derivative", analytic, numerical, atol, rtol)
