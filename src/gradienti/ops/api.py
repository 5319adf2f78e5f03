"""The public API of the op modules, gathered from their declarations (see ops/declare.py).

Each op module lists its public operations in ``DECLARATIONS``. From them come:

* ``TENSOR_METHODS``: ``{name: function}`` bound onto Tensor (``x.log1p()``, ``x + y``);
* ``FUNCTIONS``: ``{name: function}`` exported as ``gradienti.<name>`` (``torch.log1p(x)``);
* ``UFUNCS``: ``{numpy_ufunc: function}``, so that a VJP calling ``xp.<ufunc>`` on Tensors (a
  recorded backward) runs the differentiable op;
* ``EXPLAIN_RULES``: ``{node class name: rule}``, how ``explain`` tells each node;
* ``CLI_FUNCTIONS``: ``{name: (Cli, function)}``, what ``gradienti grad``'s expressions may call.

A name declared twice is an error at import. A new area of ops adds its module to ``MODULES``.
"""

from __future__ import annotations

from . import (
    activation,
    activation_more,
    aminmax,
    attention,
    batch_dims,
    bilinear,
    binary_cross_entropy,
    bitwise,
    broadcasting,
    call_forms,
    cast,
    clamp,
    composite_nodes,
    conv,
    counting,
    diagonal,
    einsum,
    elementwise,
    embedding,
    extrema,
    gamma,
    gamma_gradients,
    gamma_sampling,
    geometry,
    group_norm,
    incomplete_gamma,
    index_builders,
    index_fill,
    indexing,
    inplace,
    inplace_compare,
    inplace_math,
    inplace_parts,
    inplace_shape,
    integer_division,
    join,
    lerp,
    linalg,
    linalg_cholesky,
    linalg_composite,
    linalg_det,
    linalg_functions,
    linalg_householder,
    linalg_ldl,
    linalg_lu,
    linalg_norms,
    linalg_pinv,
    linalg_qr,
    linalg_solve,
    linalg_spectral,
    linalg_triangular,
    logical,
    multinomial,
    nan_reductions,
    nll_loss,
    norm,
    normalization,
    operators,
    orientation,
    packed_sequence,
    padding,
    pointwise,
    pooling,
    products,
    quantile,
    random_fill,
    rearrange,
    recurrent,
    reduce,
    regression_losses,
    sampling,
    scatter,
    sequence,
    shape,
    softmax,
    sorting,
    special,
    upsample,
    xlogy,
)

MODULES = (
    operators,
    elementwise,
    inplace,
    inplace_math,
    inplace_compare,
    pointwise,
    integer_division,
    bitwise,
    clamp,
    special,
    gamma,
    incomplete_gamma,
    xlogy,
    logical,
    activation,
    activation_more,
    reduce,
    nan_reductions,
    lerp,
    norm,
    extrema,
    aminmax,
    sorting,
    quantile,
    inplace_shape,
    counting,
    softmax,
    attention,
    shape,
    rearrange,
    join,
    indexing,
    scatter,
    linalg,
    linalg_cholesky,
    linalg_functions,
    linalg_solve,
    linalg_lu,
    linalg_det,
    linalg_triangular,
    linalg_spectral,
    linalg_pinv,
    linalg_norms,
    linalg_qr,
    linalg_composite,
    linalg_householder,
    linalg_ldl,
    products,
    diagonal,
    einsum,
    bilinear,
    conv,
    cast,
    nll_loss,
    binary_cross_entropy,
    regression_losses,
    composite_nodes,
    pooling,
    padding,
    upsample,
    normalization,
    group_norm,
    embedding,
    geometry,
    sequence,
    packed_sequence,
    recurrent,
    index_builders,
    orientation,
    broadcasting,
    index_fill,
    inplace_parts,
    sampling,
    gamma_gradients,
    gamma_sampling,
    multinomial,
    random_fill,
    batch_dims,
)


def _declarations() -> list:
    return [
        declaration for module in MODULES for declaration in getattr(module, "DECLARATIONS", ())
    ]


def _add(table: dict, key, value, what: str) -> None:
    if key in table and table[key] is not value:
        raise RuntimeError(f"{key!r} is declared twice in the op modules' {what}")
    table[key] = value


def _gather():
    methods, functions, ufuncs, rules, cli = {}, {}, {}, {}, {}
    for declaration in _declarations():
        for name in declaration.method_names:
            _add(methods, name, declaration.method, "Tensor methods")
        for name in declaration.function_names:
            _add(functions, name, declaration.function, "functions")
        for ufunc in declaration.ufuncs:
            call = declaration.ufunc_call or declaration.function or declaration.method
            _add(ufuncs, ufunc, call, "ufuncs")
        for node_name, rule in declaration.explain.items():
            _add(rules, node_name, rule, "explain rules")
        if declaration.cli is not None:
            _add(cli, declaration.name, declaration, "CLI functions")
    cli_functions = {name: (d.cli, d.function) for name, d in cli.items()}
    return methods, functions, ufuncs, rules, cli_functions


TENSOR_METHODS, FUNCTIONS, UFUNCS, EXPLAIN_RULES, CLI_FUNCTIONS = _gather()
# keepdims= wherever keepdim= is, and out= on the common functions (ops/call_forms.py)
FUNCTIONS = {name: call_forms.public_function(name, f) for name, f in FUNCTIONS.items()}
TENSOR_METHODS = {name: call_forms.tensor_method(name, m) for name, m in TENSOR_METHODS.items()}


def array_ufunc(self, ufunc, method: str, *inputs, **kwargs):
    """``Tensor.__array_ufunc__``: a NumPy ufunc called on Tensors runs the op declared for it
    (a VJP calls ``xp.cos(x)`` on whatever it is given: Tensors when the backward pass is
    recorded). A ufunc without an op is refused rather than computed off the graph."""
    handler = UFUNCS.get(ufunc)
    if method != "__call__" or kwargs or handler is None:
        return NotImplemented
    return handler(*inputs)


def install_tensor_methods(tensor_class) -> None:
    """Bind the declared methods onto Tensor; a method Tensor defines itself is never replaced."""
    for name, function in {**TENSOR_METHODS, "__array_ufunc__": array_ufunc}.items():
        if name in vars(tensor_class):
            raise RuntimeError(f"Tensor.{name} is defined in tensor.py and in an op module")
        setattr(tensor_class, name, function)
