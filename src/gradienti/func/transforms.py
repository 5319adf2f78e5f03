"""``gradienti.func``'s differentiation transforms: ``grad``, ``grad_and_value``, ``vjp``, ``jvp``
and ``linearize``, with PyTorch's arguments, results and error texts (torch.func).

Reverse mode is ``autograd.grad`` on a graph whose inputs the transform owns (func/level.py says
how transforms nest). Forward mode (``jvp``) is ``autograd.forward_ad``: one dual level, as
PyTorch's. When a dual level is already active (a ``jvp`` inside a ``jvp``, ``jacfwd`` of
``jacfwd``), the JVP is computed in reverse mode instead, by the double-VJP trick: the VJP
``u -> J^T u`` is linear in ``u``, so the gradient of ``<J^T u, v>`` with respect to ``u`` is
``J v``; the enclosing level's tangents flow through both passes (forward over reverse).
``linearize`` records that VJP once and runs only its second pass for each tangent.

Each runs ``f`` inside ``batching.transform_running()``: under an enclosing vmap, a value read
as a number or a condition then gets PyTorch's message for a transformed tensor.
"""

from __future__ import annotations

import functools

from ..autograd import forward_ad
from ..autograd.engine import grad as autograd_grad
from ..batching import transform_running
from ..creation import zeros_like
from ..graph import dual
from ..graph.grad_mode import enable_grad, is_grad_enabled
from ..tensor import Tensor
from ..utils._pytree import tree_flatten, tree_unflatten, treespec_pprint
from .level import Level, detached, replace_args, slice_argnums

__all__ = ["grad", "grad_and_value", "jvp", "linearize", "vjp"]

_JVP = "jvp(f, primals, tangents)"


# ---------------------------------------------------------------------- checks (PyTorch's texts)
def _assert_non_empty_tensor_output(output: list, api: str) -> None:
    if (len(output) == 1 and output[0] is None) or len(output) < 1:
        raise RuntimeError(
            f"{api}: Expected f to be a function that has non-empty output (got output = {output})"
        )
    for value in output:
        if not isinstance(value, Tensor):
            raise RuntimeError(
                f"{api}: expected f(*primals) to return only tensors, got unsupported type "
                f"{type(value)}"
            )


def _assert_non_empty_list_of_tensors(values: list, api: str, argname: str) -> None:
    if len(values) == 0:
        raise RuntimeError(f"{api}: Expected {argname} to contain at least one Tensor.")
    for value in values:
        if not isinstance(value, Tensor):
            raise RuntimeError(
                f"{api}: Expected {argname} to only contain Tensors, got {type(value)}"
            )


def _split_aux(output, api: str):
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(
            f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True"
        )
    return output


def _outputs_and_aux(level: Level, output, has_aux: bool, api: str):
    """What ``f`` returned, as (its outputs flattened, their structure, its aux unwrapped),
    with PyTorch's checks (``(output, aux)`` when ``has_aux``; only tensors, at least one)."""
    aux = None
    if has_aux:
        output, aux = _split_aux(output, api)
        aux = level.unwrap_tree(aux)
    flat_outputs, output_spec = tree_flatten(output)
    _assert_non_empty_tensor_output(flat_outputs, api)
    return flat_outputs, output_spec, aux


def _gradients(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False):
    """``autograd.grad`` of the outputs that require grad, zeros for inputs they do not reach
    (PyTorch's ``_autograd_grad`` of torch.func)."""
    if grad_outputs is None:
        pairs = [(out, None) for out in outputs if out.requires_grad]
    else:
        pairs = [(out, go) for out, go in zip(outputs, grad_outputs) if out.requires_grad]
    if not pairs:
        return tuple(zeros_like(inp) for inp in inputs)
    diff_outputs = [out for out, _ in pairs]
    given = None if grad_outputs is None else [go for _, go in pairs]
    results = autograd_grad(
        diff_outputs,
        inputs,
        given,
        retain_graph=retain_graph,
        create_graph=create_graph,
        allow_unused=True,
    )
    return tuple(zeros_like(inp) if g is None else g for g, inp in zip(results, inputs))


# ---------------------------------------------------------------------- grad
def grad_and_value(func, argnums=0, has_aux: bool = False):
    """``grad_and_value(f)(*args)``: ``(gradient of f with respect to args[argnums], f(*args))``;
    with ``has_aux`` f returns ``(output, aux)`` and the value is ``(output, aux)``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        return _grad_and_value(func, argnums, has_aux, args, kwargs)

    return wrapper


def grad(func, argnums=0, has_aux: bool = False):
    """``grad(f)(*args)``: the gradient of a scalar-valued ``f`` with respect to
    ``args[argnums]`` (a tuple of gradients for a tuple of argnums; pytrees kept); with
    ``has_aux``, ``(gradient, aux)``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        gradient, value = _grad_and_value(func, argnums, has_aux, args, kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


def _grad_and_value(func, argnums, has_aux: bool, args: tuple, kwargs: dict):
    api = "grad_and_value(f)(*args)"
    level = Level()
    with transform_running(), enable_grad():
        diff_args = level.differentiable_tree(slice_argnums(args, argnums, as_tuple=False))
        args = replace_args(args, (diff_args,) if isinstance(argnums, int) else diff_args, argnums)
        output = func(*args, **kwargs)
        aux = None
        if has_aux:
            output, aux = _split_aux(output, api)
        if not isinstance(output, Tensor):
            raise RuntimeError(f"{api}: Expected f(*args) to return a Tensor, got {type(output)}")
        if output.dim() != 0:
            raise RuntimeError(
                f"{api}: Expected f(*args) to return a scalar Tensor, got tensor with "
                f"{output.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?"
            )
        flat_diff_args, spec = tree_flatten(diff_args)
        keep = level.needs_graph((output,))
        flat_grads = _gradients((output,), flat_diff_args, create_graph=keep)
        gradient = tree_unflatten(flat_grads, spec)
        output = output if keep else detached(output)
        if has_aux:
            return gradient, (output, level.unwrap_tree(aux))
        return gradient, output


# ---------------------------------------------------------------------- vjp
def vjp(func, *primals, has_aux: bool = False):
    """``(f(*primals), vjp_fn)``: ``vjp_fn(cotangents)`` gives the vector-Jacobian products
    with respect to each primal (a tuple); ``(output, vjp_fn, aux)`` with ``has_aux``."""
    return vjp_with_argnums(func, *primals, has_aux=has_aux)


def vjp_with_argnums(func, *primals, argnums=None, has_aux: bool = False):
    """``vjp`` with respect to ``primals[argnums]`` only (all of them for None): jacrev's."""
    api = "vjp(f, *primals)"
    level = Level()
    with transform_running(), enable_grad():
        if argnums is None:
            diff_primals = primals = level.differentiable_tree(primals)
        else:
            diff_primals = level.differentiable_tree(
                slice_argnums(primals, argnums, as_tuple=False)
            )
            new = (diff_primals,) if isinstance(argnums, int) else diff_primals
            primals = replace_args(primals, new, argnums)
        flat_outputs, output_spec, aux = _outputs_and_aux(level, func(*primals), has_aux, api)
        flat_diff_primals, primals_spec = tree_flatten(diff_primals)
        for out in flat_outputs:
            if not out.is_floating_point():
                raise RuntimeError(
                    "vjp(f, ...): All outputs of f must be floating-point or complex Tensors, "
                    f"got Tensor with dtype {out.dtype}"
                )
        results = tree_unflatten([level.unwrap(out) for out in flat_outputs], output_spec)
    reaches_outside = []  # computed at the first call that records, then kept

    def vjp_fn(cotangents, retain_graph: bool = True, create_graph: bool | None = None):
        flat_cotangents, cotangents_spec = tree_flatten(cotangents)
        if output_spec != cotangents_spec:
            raise RuntimeError(
                "Expected pytree structure of cotangents to be the same as pytree structure of "
                f"outputs to the function. cotangents: {treespec_pprint(cotangents_spec)}, "
                f"primal output: {treespec_pprint(output_spec)}"
            )
        if create_graph is None:
            create_graph = is_grad_enabled()
        if create_graph and not any(
            isinstance(c, Tensor) and c.requires_grad for c in flat_cotangents
        ):
            # Recording pays only when the gradients depend on something outside.
            if not reaches_outside:
                reaches_outside.append(level.needs_graph(flat_outputs))
            create_graph = reaches_outside[0]
        with enable_grad():
            gradients = _gradients(
                flat_outputs,
                flat_diff_primals,
                flat_cotangents,
                retain_graph=retain_graph,
                create_graph=create_graph,
            )
        return tree_unflatten(gradients, primals_spec)

    if has_aux:
        return results, vjp_fn, aux
    return results, vjp_fn


# ---------------------------------------------------------------------- jvp
def jvp(func, primals, tangents, *, strict: bool = False, has_aux: bool = False):
    """``(f(*primals), J_f(primals) tangents)``: the Jacobian-vector product in one forward
    pass; ``(output, jvp_out, aux)`` with ``has_aux``."""
    return jvp_with_argnums(func, primals, tangents, argnums=None, strict=strict, has_aux=has_aux)


def jvp_with_argnums(func, primals, tangents, argnums, *, strict: bool = False, has_aux: bool):
    """``jvp`` with respect to ``primals[argnums]`` only (all of them for None): jacfwd's."""
    if not isinstance(primals, tuple):
        raise RuntimeError(
            f"{_JVP}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals)."
        )
    diff_args = primals if argnums is None else slice_argnums(primals, argnums)
    flat_primals, primals_spec = tree_flatten(diff_args)
    flat_tangents, tangents_spec = tree_flatten(tangents)
    if primals_spec != tangents_spec:
        raise RuntimeError(
            f"{_JVP}: Expected primals and tangents to have the same python structure. For "
            "example, if primals is a tuple of 3 tensors, tangents also must be. Got primals "
            f"with structure {primals_spec} and tangents with structure {tangents_spec}"
        )
    _assert_non_empty_list_of_tensors(flat_primals, _JVP, "primals")
    _assert_non_empty_list_of_tensors(flat_tangents, _JVP, "tangents")
    if dual.FORWARD.level is None:
        with forward_ad.dual_level(), transform_running():
            return _jvp_forward(
                func, primals, argnums, flat_primals, flat_tangents, primals_spec, strict, has_aux
            )
    return _jvp_double_vjp(
        func, primals, argnums, flat_primals, flat_tangents, primals_spec, strict, has_aux
    )


def _jvp_forward(func, primals, argnums, flat_primals, flat_tangents, spec, strict, has_aux):
    """The JVP in forward mode, inside the dual level that ``jvp`` entered."""
    duals = tree_unflatten(
        [forward_ad.make_dual(p, t) for p, t in zip(flat_primals, flat_tangents)], spec
    )
    args = duals if argnums is None else replace_args(primals, duals, argnums)
    output = func(*args)
    aux = None
    if has_aux:
        output, aux = _split_aux(output, _JVP)
        aux = _without_tangents(aux)
    flat_outputs, output_spec = tree_flatten(output)
    _assert_non_empty_tensor_output(flat_outputs, _JVP)
    primals_out, tangents_out = [], []
    for out in flat_outputs:
        primal, tangent = forward_ad.unpack_dual(out)
        if tangent is None:
            tangent = _independent_output_tangent(primal, strict)
        primals_out.append(primal)
        tangents_out.append(tangent)
    result = tree_unflatten(primals_out, output_spec), tree_unflatten(tangents_out, output_spec)
    return (*result, aux) if has_aux else result


def _without_tangents(tree):
    flat, spec = tree_flatten(tree)
    return tree_unflatten(
        [forward_ad.unpack_dual(v).primal if isinstance(v, Tensor) else v for v in flat], spec
    )


def _independent_output_tangent(primal, strict: bool):
    if strict:
        raise RuntimeError(
            "jvp(f, primals, tangents, strict=True): The output of f is independent of the "
            "inputs. This is not allowed with strict=True."
        )
    return zeros_like(primal)


def _jvp_double_vjp(func, primals, argnums, flat_primals, flat_tangents, spec, strict, has_aux):
    """The JVP by two reverse passes, for a ``jvp`` inside an active dual level."""
    level = Level()
    with transform_running(), enable_grad():
        flat_inner = [level.differentiable(p) for p in flat_primals]
        inner = tree_unflatten(flat_inner, spec)
        output = func(*(inner if argnums is None else replace_args(primals, inner, argnums)))
        flat_outputs, output_spec, aux = _outputs_and_aux(level, output, has_aux, _JVP)
        tangents_out = _double_vjp(level, flat_outputs, flat_inner, flat_tangents)
        for index, (out, tangent) in enumerate(zip(flat_outputs, tangents_out)):
            if tangent is None:
                tangents_out[index] = _independent_output_tangent(out, strict)
        primals_out = [level.unwrap(out) for out in flat_outputs]
    result = tree_unflatten(primals_out, output_spec), tree_unflatten(tangents_out, output_spec)
    return (*result, aux) if has_aux else result


def _double_vjp(level: Level, flat_outputs, flat_inputs, flat_tangents) -> list:
    """``J v`` per output (None where the output does not depend on the inputs): the gradient
    of ``sum_i <(J^T u)_i, v_i>`` with respect to the cotangents ``u`` (zeros; J^T u is linear
    in them, so their value does not matter)."""
    linearized = _vjp_of_placeholders(flat_outputs, flat_inputs)
    if linearized is None:
        return [None] * len(flat_outputs)
    placeholders, vjps = linearized
    return _apply_linearized(level, flat_outputs, placeholders, vjps, flat_tangents)


def _vjp_of_placeholders(flat_outputs, flat_inputs):
    """(u per output, J^T u per input), recorded so that it can be differentiated in u; None
    when no output depends on the inputs."""
    placeholders = [
        zeros_like(out).requires_grad_() if out.requires_grad else None for out in flat_outputs
    ]
    pairs = [(out, u) for out, u in zip(flat_outputs, placeholders) if u is not None]
    if not pairs:
        return None
    vjps = autograd_grad(
        [out for out, _ in pairs],
        flat_inputs,
        [u for _, u in pairs],
        create_graph=True,
        allow_unused=True,
    )
    return placeholders, vjps


def _apply_linearized(level: Level, flat_outputs, placeholders, vjps, flat_tangents) -> list:
    """``J v`` from the recorded ``J^T u`` (see ``_double_vjp``)."""
    pairs = [(g, v) for g, v in zip(vjps, flat_tangents) if g is not None and g.requires_grad]
    targets = [u for u in placeholders if u is not None]
    if not pairs:
        return [None if u is None else zeros_like(u) for u in placeholders]
    keep = level.grad_was_enabled and (
        level.reaches_outside(flat_outputs) or any(v.requires_grad for _, v in pairs)
    )
    products = iter(
        autograd_grad(
            [g for g, _ in pairs],
            targets,
            [v for _, v in pairs],
            retain_graph=True,
            create_graph=keep,
            allow_unused=True,
        )
    )
    results = []
    for u in placeholders:
        if u is None:
            results.append(None)
            continue
        product = next(products)
        results.append(zeros_like(u) if product is None else product)
    return results


# ---------------------------------------------------------------------- linearize
def linearize(func, *primals):
    """``(f(*primals), jvp_fn)``: ``jvp_fn(*tangents)`` is ``jvp(f, primals, tangents)[1]``,
    without running ``f`` again (its VJP is recorded once; each call is one reverse pass)."""
    flat_primals, primals_spec = tree_flatten(primals)
    level = Level()
    with transform_running(), enable_grad():
        flat_inner = [level.differentiable(p) for p in flat_primals]
        output = func(*tree_unflatten(flat_inner, primals_spec))
        flat_outputs, output_spec = tree_flatten(output)
        linearized = _vjp_of_placeholders(flat_outputs, flat_inner)
    shapes = [p.shape for p in flat_primals]
    dtypes = [p.dtype for p in flat_primals]
    devices = [p.device for p in flat_primals]

    def jvp_fn(*tangents):
        flat_tangents, tangents_spec = tree_flatten(tangents)
        if tangents_spec != primals_spec:
            raise RuntimeError(
                f"Expected the tangents {tangents_spec} to have the same argspec as the primals "
                f"{primals_spec}"
            )
        for index, tangent in enumerate(flat_tangents):
            for what, theirs, ours in (
                ("shape", tangent.shape, shapes[index]),
                ("device", tangent.device, devices[index]),
                ("dtype", tangent.dtype, dtypes[index]),
            ):
                if theirs != ours:
                    raise RuntimeError(
                        f"tangent:{index} with {what} {theirs} in flattened pytree doesn't match "
                        f"the {what} {ours} of the corresponding primal."
                    )
        if linearized is None:
            products = [zeros_like(out) for out in flat_outputs]
        else:
            with enable_grad():
                products = _apply_linearized(level, flat_outputs, *linearized, flat_tangents)
        return tree_unflatten(products, output_spec)

    return level.unwrap_tree(output), jvp_fn
