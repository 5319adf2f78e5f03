"""Review of issue 14's attention and recurrent cells against PyTorch: inputs the area tests
did not cover (a negative or default scale over an empty head dimension, a float32 mask of a
float64 or float16 query, enable_gqa on 2-D inputs, integer inputs' error text)."""

import re

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")


def _arrays(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def _attend_with_grads(lib, arrays, mask=None, mask_dtype=None, dtype=None, **options):
    """Output and the gradients of q, k, v (and a float mask) under a non-uniform upstream."""
    q, k, v = (lib.tensor(a, dtype=dtype, requires_grad=True) for a in arrays)
    inputs = [q, k, v]
    if mask is not None:
        mask = lib.tensor(mask, dtype=mask_dtype, requires_grad=mask.dtype.kind == "f")
        if mask.requires_grad:
            inputs.append(mask)
    out = lib.nn.functional.scaled_dot_product_attention(q, k, v, mask, **options)
    upstream = lib.tensor(np.linspace(-1.0, 2.0, out.numel()).reshape(tuple(out.shape)))
    grads = lib.autograd.grad(out, inputs, upstream.to(out.dtype))
    return [out, *grads]


def _assert_same(ours, theirs, atol=1e-10):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert str(a.dtype) == str(b.dtype)
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), atol=atol)


@pytest.mark.parametrize("scale", [-0.7, -2.0])
def test_negative_scale_matches_torch(scale):
    # sqrt of a negative scale raised a ValueError that surfaced as a broadcast error
    arrays = _arrays([(2, 3, 4), (2, 5, 4), (2, 5, 6)])
    mask = np.where(np.random.default_rng(1).random((3, 5)) > 0.3, 0.5, -np.inf)
    ours = _attend_with_grads(gradienti, arrays, mask, scale=scale)
    theirs = _attend_with_grads(torch, arrays, mask, scale=scale)
    _assert_same(ours, theirs)


def test_negative_scale_double_backward_matches_torch():
    arrays = _arrays([(2, 3, 4), (2, 5, 4), (2, 5, 6)], seed=3)
    results = []
    for lib in (gradienti, torch):
        q, k, v = (lib.tensor(a, requires_grad=True) for a in arrays)
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, scale=-0.5)
        grads = lib.autograd.grad((out * out).sum(), (q, k, v), create_graph=True)
        total = sum((grad * (index + 1.0)).sum() for index, grad in enumerate(grads))
        results.append(lib.autograd.grad(total, (q, k, v)))
    _assert_same(*results)


def test_empty_head_dimension_default_scale_matches_torch():
    # 1/sqrt(0) raised ZeroDivisionError; PyTorch's scale is inf and the scores are 0
    arrays = _arrays([(2, 3, 0), (2, 5, 0), (2, 5, 6)])
    ours = _attend_with_grads(gradienti, arrays)
    theirs = _attend_with_grads(torch, arrays)
    _assert_same(ours, theirs)


def test_empty_head_dimension_forward_mode_matches_torch():
    arrays = _arrays([(2, 3, 0), (2, 5, 0), (2, 5, 6)])
    tangents = []
    for lib in (gradienti, torch):
        forward_ad = lib.autograd.forward_ad
        with forward_ad.dual_level():
            q, k, v = (forward_ad.make_dual(lib.tensor(a), lib.tensor(a * 0.5 + 1)) for a in arrays)
            out = lib.nn.functional.scaled_dot_product_attention(q, k, v)
            tangents.append([forward_ad.unpack_dual(out).tangent])
    _assert_same(*tangents)


@pytest.mark.parametrize(
    "query_dtype, mask_dtype, atol",
    [("float64", "float32", 1e-10), ("float16", "float32", 2e-3)],
)
def test_float32_mask_of_another_query_dtype_matches_torch(query_dtype, mask_dtype, atol):
    # PyTorch takes a float32 mask with any float query (the output keeps the query's dtype,
    # the mask's gradient is float32); it was refused
    arrays = _arrays([(2, 3, 4), (2, 5, 4), (2, 5, 6)])
    mask = np.random.default_rng(2).standard_normal((3, 5))
    mask[1, 2] = -np.inf
    ours = _attend_with_grads(
        gradienti,
        arrays,
        mask,
        mask_dtype=getattr(gradienti, mask_dtype),
        dtype=getattr(gradienti, query_dtype),
    )
    theirs = _attend_with_grads(
        torch,
        arrays,
        mask,
        mask_dtype=getattr(torch, mask_dtype),
        dtype=getattr(torch, query_dtype),
    )
    _assert_same(ours, theirs, atol=atol)


def test_float64_mask_of_float32_query_is_refused_as_torch():
    def attend(lib):
        q = lib.ones(2, 3, 4)
        return lib.nn.functional.scaled_dot_product_attention(
            q, q, q, lib.zeros(3, 3, dtype=lib.float64)
        )

    with pytest.raises(RuntimeError) as theirs:
        attend(torch)
    with pytest.raises(RuntimeError, match="^" + re.escape(str(theirs.value))):
        attend(gradienti)


@pytest.mark.parametrize(
    "shapes",
    [((4, 3), (4, 3), (4, 3)), ((2, 4, 3), (4, 3), (4, 3)), ((2, 4, 3), (2, 4, 3), (4, 3))],
)
def test_enable_gqa_of_two_dimensional_inputs_raises_as_torch(shapes):
    def attend(lib):
        q, k, v = (lib.ones(shape) for shape in shapes)
        return lib.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True)

    with pytest.raises(IndexError) as theirs:
        attend(torch)
    with pytest.raises(IndexError) as ours:
        attend(gradienti)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("shape", [(2, 3), (2, 2, 3)])
@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_integer_inputs_raise_torch_text(dtype, shape):
    # 2-D inputs fail in PyTorch's matrix product, batched ones in its dtype check
    def attend(lib):
        x = lib.ones(shape, dtype=getattr(lib, dtype))
        return lib.nn.functional.scaled_dot_product_attention(x, x, x)

    with pytest.raises(RuntimeError) as theirs:
        attend(torch)
    with pytest.raises(RuntimeError) as ours:
        attend(gradienti)
    assert str(ours.value) == str(theirs.value)


def _separate_projection_call(lib, weights_shapes, bias_size=12):
    """F.multi_head_attention_forward with separate projection weights of the given shapes."""
    rng = np.random.default_rng(5)
    query = lib.tensor(rng.standard_normal((3, 2, 4)))
    key = lib.tensor(rng.standard_normal((5, 2, 3)))
    value = lib.tensor(rng.standard_normal((5, 2, 6)))
    q_weight, k_weight, v_weight = (lib.tensor(rng.standard_normal(s)) for s in weights_shapes)
    return lib.nn.functional.multi_head_attention_forward(
        query,
        key,
        value,
        4,
        2,
        None,
        lib.tensor(rng.standard_normal(bias_size)),
        None,
        None,
        False,
        0.0,
        lib.tensor(rng.standard_normal((4, 4))),
        lib.tensor(rng.standard_normal(4)),
        use_separate_proj_weight=True,
        q_proj_weight=q_weight,
        k_proj_weight=k_weight,
        v_proj_weight=v_weight,
    )


@pytest.mark.parametrize(
    "weights_shapes, bias_size",
    [
        (((4, 4), (4, 4), (4, 6)), 12),  # key weights for another kdim
        (((4, 3), (4, 3), (4, 6)), 12),  # query weights not square
        (((4, 4), (4, 3), (4, 5)), 12),  # value weights for another vdim
        (((4, 4), (4, 3), (4, 6)), 9),  # biases of 3 features each
    ],
)
def test_separate_projection_shapes_assert_as_torch(weights_shapes, bias_size):
    # PyTorch's _in_projection asserts each shape; a mismatch reached a matmul error
    with pytest.raises(AssertionError) as theirs:
        _separate_projection_call(torch, weights_shapes, bias_size)
    with pytest.raises(AssertionError) as ours:
        _separate_projection_call(gradienti, weights_shapes, bias_size)
    assert str(ours.value) == str(theirs.value)


def test_separate_projection_values_match_torch():
    shapes = ((4, 4), (4, 3), (4, 6))
    ours = _separate_projection_call(gradienti, shapes)
    theirs = _separate_projection_call(torch, shapes)
    _assert_same(ours, theirs)


def test_self_attention_of_a_module_with_kdim_asserts_as_torch():
    def attend(lib):
        lib.manual_seed(0)
        attention = lib.nn.MultiheadAttention(4, 2, kdim=3, vdim=5)
        x = lib.ones(3, 2, 4)
        return attention(x, x, x)

    with pytest.raises(AssertionError) as theirs:
        attend(torch)
    with pytest.raises(AssertionError) as ours:
        attend(gradienti)
    assert str(ours.value) == str(theirs.value)


def _sdpa_call(lib, shapes, dtype=None, **options):
    q, k, v = (lib.ones(shape, dtype=dtype) for shape in shapes)
    return lib.nn.functional.scaled_dot_product_attention(q, k, v, **options)


@pytest.mark.parametrize(
    "shapes, dtype, options",
    [
        # validate_sdpa_input checks the dtypes before the dimensions
        (((4,), (2, 4), (2, 4)), "float64 query", {}),
        # matrices: mm's texts for a key or value that does not fit, before the dtype's
        (((2, 4), (2, 5), (2, 4)), None, {}),
        (((2, 4), (2, 4), (3, 4)), None, {}),
        (((2, 4), (2, 5), (3, 4)), "int64", {}),
        (((2, 2, 4), (2, 2, 4), (2, 3, 4)), "int64", {}),
        (((2, 2, 4), (2, 2, 5), (2, 2, 4)), "int64", {}),
        # dropout's range is checked after q kᵀ and the mask, before the product with v
        (((2, 4), (2, 5), (2, 4)), None, {"dropout_p": 2.0}),
        (((2, 2, 4), (2, 2, 4), (2, 3, 4)), None, {"dropout_p": 2.0}),
        (((2, 2, 2, 4), (3, 2, 2, 4), (2, 2, 2, 4)), None, {"dropout_p": 2.0}),
        (((2, 2, 4), (2, 2, 4), (2, 2, 4)), "int64", {"dropout_p": 3.0}),
        # C++ prints the probability as %g
        (((2, 2, 4), (2, 2, 4), (2, 2, 4)), None, {"dropout_p": 1.00000012345}),
        (((2, 4), (2, 4), (2, 4)), None, {"dropout_p": 2.0}),
    ],
)
def test_error_order_and_text_as_torch(shapes, dtype, options):
    def call(lib):
        if dtype == "float64 query":
            q = lib.ones(shapes[0], dtype=lib.float64)
            k, v = lib.ones(shapes[1]), lib.ones(shapes[2])
            return lib.nn.functional.scaled_dot_product_attention(q, k, v, **options)
        return _sdpa_call(lib, shapes, None if dtype is None else getattr(lib, dtype), **options)

    errors = []
    for lib in (torch, gradienti):
        with pytest.raises(Exception) as caught:
            call(lib)
        errors.append((type(caught.value), str(caught.value)))
    assert errors[1] == errors[0]


def test_mask_shape_error_before_dropout_range_as_torch():
    def call(lib):
        x = lib.ones(2, 2, 4)
        return lib.nn.functional.scaled_dot_product_attention(
            x, x, x, lib.ones(3, 3), dropout_p=2.0
        )

    errors = []
    for lib in (torch, gradienti):
        with pytest.raises(RuntimeError) as caught:
            call(lib)
        errors.append(str(caught.value))
    assert errors[1] == errors[0]


@pytest.mark.parametrize("shape", [(2, 4), (2, 2, 4)])
def test_negative_dropout_is_no_dropout_as_torch(shape):
    # PyTorch's math path drops out only for p > 0; a negative p was refused
    arrays = _arrays([shape] * 3, seed=6)
    results = []
    for lib in (gradienti, torch):
        lib.manual_seed(0)
        q, k, v = (lib.tensor(a, requires_grad=True) for a in arrays)
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=-0.5)
        results.append([out, *lib.autograd.grad((out * out).sum(), (q, k, v))])
        results[-1].append(lib.rand(3, dtype=lib.float64))  # the generator is untouched
    _assert_same(*results)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("shape", [(3, 0, 4), (0, 2, 4)], ids=["empty batch", "empty target"])
def test_multihead_attention_of_an_empty_batch_or_target_matches_torch(shape, need_weights):
    # the output projection was viewed with -1, ambiguous for 0 elements: it raised
    results = []
    for lib in (gradienti, torch):
        lib.manual_seed(0)
        attention = lib.nn.MultiheadAttention(4, 2, dtype=lib.float64)
        query = lib.ones(shape, dtype=lib.float64, requires_grad=True)
        key = lib.tensor(np.sin(np.arange(24.0)).reshape(3, 2, 4)[:, : shape[1]])
        output, weights = attention(query, key, key, need_weights=need_weights)
        parameters = list(attention.parameters())
        grads = lib.autograd.grad(output.sum(), parameters, allow_unused=True)
        grads = [lib.zeros_like(p) if grad is None else grad for p, grad in zip(parameters, grads)]
        results.append([output, *([weights] if need_weights else []), *grads])
    _assert_same(*results)


@pytest.mark.parametrize(
    "options, mask_dtype",
    [({}, None), ({"dropout_p": 0.3}, "float16"), ({}, "float32"), ({}, "bool")],
    ids=["plain", "dropout and float16 mask", "float32 mask", "bool mask"],
)
def test_float16_is_computed_in_float32_as_torch(options, mask_dtype):
    # PyTorch's math path upcasts a half query, key, value (and adds the mask, drops out)
    # in float32, rounding the output once; computing in float16 was off by an ulp
    arrays = _arrays([(2, 5, 8), (2, 7, 8), (2, 7, 6)], seed=8)
    mask = np.random.default_rng(9).standard_normal((5, 7))
    mask[1, 3] = -np.inf
    if mask_dtype == "bool":
        mask = mask > -0.5
    results = []
    for lib in (gradienti, torch):
        lib.manual_seed(3)
        q, k, v = (lib.tensor(a, dtype=lib.float16, requires_grad=True) for a in arrays)
        inputs = [q, k, v]
        attn_mask = None
        if mask_dtype is not None:
            attn_mask = lib.tensor(mask, dtype=getattr(lib, mask_dtype))
            if mask_dtype != "bool":
                inputs.append(attn_mask.requires_grad_())
        out = lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask, **options)
        upstream = np.cos(np.arange(out.numel())).reshape(tuple(out.shape))
        grads = lib.autograd.grad(out, inputs, lib.tensor(upstream, dtype=lib.float16))
        results.append([out, *grads])
    _assert_same(*results, atol=2e-7)
