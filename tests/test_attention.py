"""F.scaled_dot_product_attention against PyTorch: values, gradients (non-uniform upstream)
and double backward for each option, dropout's samples after the same seed, enable_gqa,
fully masked rows, float16, errors; gradcheck/gradgradcheck in float64. The op table
(tests/op_cases_attention.py) adds forward mode, vmap, saved-tensor hooks and both recorders."""

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")


def _inputs(shapes, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(shape).astype(dtype) for shape in shapes]
    ours = [gradienti.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return ours, theirs


def _mask(lib, kind, shape=(4, 6)):
    rng = np.random.default_rng(9)
    if kind == "bool":
        allowed = rng.random(shape) > 0.4
        allowed[..., 0] = True
        return lib.tensor(allowed)
    if kind == "bool broadcast heads":
        return lib.tensor(rng.random((2, 1) + shape) > 0.4)
    if kind == "empty rows":
        allowed = rng.random(shape) > 0.4
        allowed[1] = False
        allowed[3] = False
        return lib.tensor(allowed)
    if kind == "-inf rows":
        values = rng.standard_normal(shape)
        values[2] = -np.inf
        return lib.tensor(values)
    return None


OPTIONS = [
    {},
    {"is_causal": True},
    {"scale": 0.25},
    {"mask": "bool"},
    {"mask": "bool broadcast heads"},
    {"mask": "empty rows"},
    {"mask": "-inf rows"},
    {"mask": "bool", "scale": 2.0},
]


def _attend(lib, q, k, v, options, **extra):
    kwargs = {key: value for key, value in options.items() if key != "mask"}
    mask = _mask(lib, options.get("mask"))
    if mask is not None and mask.dtype != lib.bool:
        mask = mask.to(q.dtype)
    return lib.nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=mask, **kwargs, **extra
    )


SHAPES = [(2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_values_and_gradients(options, dtype):
    ours, theirs = _inputs(SHAPES, dtype=dtype)
    our_out = _attend(gradienti, *ours, options)
    their_out = _attend(torch, *theirs, options)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert str(our_out.dtype) == str(their_out.dtype)
    np.testing.assert_allclose(our_out.detach().numpy(), their_out.detach().numpy(), atol=tol)
    upstream = np.random.default_rng(1).standard_normal(tuple(their_out.shape)).astype(dtype)
    our_out.backward(gradienti.tensor(upstream))
    their_out.backward(torch.tensor(upstream))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=tol * 10)
        assert not np.isnan(a.grad.numpy()).any()


@pytest.mark.parametrize("options", OPTIONS, ids=str)
def test_double_backward(options):
    """d/d(q, k, v) of <grad_q + grad_k + grad_v, w>, the first gradients taken with
    create_graph=True: PyTorch's second derivatives."""
    results = []
    for lib, inputs in zip((gradienti, torch), _inputs(SHAPES, seed=2)):
        out = _attend(lib, *inputs, options)
        upstream = lib.tensor(np.random.default_rng(3).standard_normal(tuple(out.shape)))
        firsts = lib.autograd.grad(out, inputs, upstream, create_graph=True)
        weights = [
            lib.tensor(np.random.default_rng(4 + i).standard_normal(tuple(x.shape)))
            for i, x in enumerate(inputs)
        ]
        total = sum((first * w).sum() for first, w in zip(firsts, weights))
        results.append([g.detach().numpy() for g in lib.autograd.grad(total, inputs)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, atol=1e-10)


def test_float_mask_gradient_and_broadcast_batch():
    shapes = [(2, 3, 4, 5), (1, 3, 6, 5), (3, 6, 2), (3, 1, 6)]
    ours, theirs = _inputs(shapes, seed=5)
    outs = [
        lib.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=m)
        for lib, (q, k, v, m) in ((gradienti, ours), (torch, theirs))
    ]
    np.testing.assert_allclose(outs[0].detach().numpy(), outs[1].detach().numpy(), atol=1e-12)
    upstream = np.random.default_rng(6).standard_normal(tuple(outs[1].shape))
    outs[0].backward(gradienti.tensor(upstream))
    outs[1].backward(torch.tensor(upstream))
    for a, b in zip(ours, theirs):
        assert tuple(a.grad.shape) == tuple(b.grad.shape)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-11)


@pytest.mark.parametrize("options", [{}, {"mask": "bool"}, {"is_causal": True}], ids=str)
@pytest.mark.parametrize("p", [0.3, 1.0])
def test_dropout_same_samples_after_the_same_seed(options, p):
    ours, theirs = _inputs(SHAPES, seed=7, dtype=np.float32)
    gradienti.manual_seed(21)
    torch.manual_seed(21)
    our_out = _attend(gradienti, *ours, options, dropout_p=p)
    their_out = _attend(torch, *theirs, options, dropout_p=p)
    np.testing.assert_allclose(our_out.detach().numpy(), their_out.detach().numpy(), atol=1e-5)
    upstream = np.random.default_rng(8).standard_normal(tuple(their_out.shape))
    our_out.backward(gradienti.tensor(upstream.astype(np.float32)))
    their_out.backward(torch.tensor(upstream.astype(np.float32)))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-5)
    # the generator moved on as PyTorch's did
    np.testing.assert_array_equal(gradienti.rand(5).numpy(), torch.rand(5).numpy())


def test_dropout_double_backward_and_gradgradcheck():
    ours, _ = _inputs([(1, 3, 2), (1, 4, 2), (1, 4, 3)], seed=10)

    def attend(q, k, v):
        gradienti.manual_seed(3)  # the same noise on every call of gradcheck
        return gradienti.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=0.4)

    assert gradienti.autograd.gradcheck(attend, tuple(ours))
    assert gradienti.autograd.gradgradcheck(attend, tuple(ours))


@pytest.mark.parametrize(
    "options", [{}, {"is_causal": True}, {"mask": "bool"}, {"mask": "empty rows"}], ids=str
)
def test_gradcheck_and_gradgradcheck_float64(options):
    ours, _ = _inputs([(2, 4, 3), (2, 6, 3), (2, 6, 2)], seed=11)
    assert gradienti.autograd.gradcheck(lambda *x: _attend(gradienti, *x, options), tuple(ours))
    assert gradienti.autograd.gradgradcheck(lambda *x: _attend(gradienti, *x, options), tuple(ours))


def test_enable_gqa_repeats_key_and_value_heads():
    shapes = [(2, 6, 4, 5), (2, 2, 6, 5), (2, 3, 6, 7)]
    ours, theirs = _inputs(shapes, seed=12)
    our_out = gradienti.nn.functional.scaled_dot_product_attention(*ours, enable_gqa=True)
    their_out = torch.nn.functional.scaled_dot_product_attention(*theirs, enable_gqa=True)
    np.testing.assert_allclose(our_out.detach().numpy(), their_out.detach().numpy(), atol=1e-12)
    upstream = np.random.default_rng(13).standard_normal(tuple(their_out.shape))
    our_out.backward(gradienti.tensor(upstream))
    their_out.backward(torch.tensor(upstream))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-11)
    small, _ = _inputs([(1, 4, 2, 2), (1, 2, 3, 2), (1, 2, 3, 2)], seed=14)

    def attend(q, k, v):
        return gradienti.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True)

    assert gradienti.autograd.gradgradcheck(attend, tuple(small))


def test_fully_masked_rows_give_zero_output_and_gradient():
    ours, theirs = _inputs(SHAPES, seed=15)
    options = {"mask": "empty rows"}
    our_out, their_out = _attend(gradienti, *ours, options), _attend(torch, *theirs, options)
    assert (our_out.detach().numpy()[:, :, 1] == 0).all()
    np.testing.assert_allclose(our_out.detach().numpy(), their_out.detach().numpy(), atol=1e-12)
    our_out.sum().backward()
    assert (ours[0].grad.numpy()[:, :, 1] == 0).all()


def test_float16():
    ours, theirs = _inputs(SHAPES, seed=16, dtype=np.float16)
    our_out = gradienti.nn.functional.scaled_dot_product_attention(*ours, is_causal=True)
    their_out = torch.nn.functional.scaled_dot_product_attention(*theirs, is_causal=True)
    assert our_out.dtype == gradienti.float16
    np.testing.assert_allclose(
        our_out.detach().numpy().astype(np.float32),
        their_out.detach().numpy().astype(np.float32),
        atol=1e-2,
    )


def test_no_grad_records_nothing():
    ours, _ = _inputs(SHAPES)
    with gradienti.no_grad():
        out = gradienti.nn.functional.scaled_dot_product_attention(*ours)
    assert out.grad_fn is None and not out.requires_grad
    out = gradienti.nn.functional.scaled_dot_product_attention(*ours)
    assert type(out.grad_fn).__name__ == "ScaledDotProductAttentionBackward0"


def _error(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the class is what is compared
        return type(error), str(error)
    return None


def _bad(lib, q, k, v, case):
    F = lib.nn.functional  # noqa: N806 - reads as PyTorch's ``F``
    sdpa = F.scaled_dot_product_attention
    calls = {
        "value length": lambda: sdpa(q, k, v[..., :5, :]),
        "key features": lambda: sdpa(q, k[..., :4], v),
        "dtypes": lambda: sdpa(q, k, v.double()),
        "int mask": lambda: sdpa(q, k, v, attn_mask=lib.ones(4, 6, dtype=lib.int64)),
        "double mask": lambda: sdpa(q, k, v, attn_mask=lib.ones(4, 6, dtype=lib.float64)),
        "mask shape": lambda: sdpa(q, k, v, attn_mask=lib.ones(4, 5)),
        "mask and causal": lambda: sdpa(
            q, k, v, attn_mask=lib.ones(4, 6, dtype=lib.bool), is_causal=True
        ),
        "1-d query": lambda: sdpa(q[0, 0, 0], k[0, 0], v[0, 0]),
        "heads": lambda: sdpa(q, k[:, :2], v[:, :2]),
        "gqa heads": lambda: sdpa(q, k[:, :2], v[:, :2], enable_gqa=True),
        "dropout": lambda: sdpa(q, k, v, dropout_p=1.5),
        "integers": lambda: sdpa(q.long(), k.long(), v.long()),
        "mask widens": lambda: sdpa(
            q[0, 0], k[0, 0], v[0, 0], attn_mask=lib.ones(2, 4, 6, dtype=lib.bool)
        ),
        "scale by position": lambda: sdpa(q, k, v, None, 0.0, False, 0.5),
        "value not a tensor": lambda: sdpa(q, k, [1.0]),
    }
    return calls[case]()


@pytest.mark.parametrize(
    "case",
    [
        "value length",
        "key features",
        "dtypes",
        "int mask",
        "double mask",
        "mask shape",
        "mask and causal",
        "1-d query",
        "heads",
        "gqa heads",
        "dropout",
        "integers",
        "mask widens",
        "scale by position",
        "value not a tensor",
    ],
)
def test_errors_as_pytorch_and_the_generator_untouched(case):
    ours, theirs = _inputs(SHAPES, dtype=np.float32)
    gradienti.manual_seed(0)
    torch.manual_seed(0)
    mine = _error(lambda: _bad(gradienti, *ours, case))
    expected = _error(lambda: _bad(torch, *theirs, case))
    assert expected is not None
    assert mine == expected
    np.testing.assert_array_equal(gradienti.rand(3).numpy(), torch.rand(3).numpy())


@pytest.mark.parametrize("options", [{}, {"mask": "empty rows"}, {"is_causal": True}], ids=str)
def test_forward_mode_with_dropout_same_seed(options):
    """The tangent of dropout's attention: the same noise after the same seed as PyTorch's."""
    forward_ad = {gradienti: gradienti.autograd.forward_ad, torch: torch.autograd.forward_ad}
    rng = np.random.default_rng(17)
    arrays = [rng.standard_normal(shape) for shape in SHAPES]
    tangents = [rng.standard_normal(shape) for shape in SHAPES]
    results = []
    for lib in (gradienti, torch):
        fwd = forward_ad[lib]
        lib.manual_seed(4)
        with fwd.dual_level():
            duals = [fwd.make_dual(lib.tensor(a), lib.tensor(t)) for a, t in zip(arrays, tangents)]
            primal, tangent = fwd.unpack_dual(_attend(lib, *duals, options, dropout_p=0.3))
            results.append((primal.numpy(), tangent.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)


@pytest.mark.parametrize("lengths", [(0, 3), (3, 0)], ids=["L=0", "S=0"])
def test_empty_sequences(lengths):
    length, source_length = lengths
    shapes = [(2, length, 4), (2, source_length, 4), (2, source_length, 5)]
    results = []
    for lib, inputs in zip((gradienti, torch), _inputs(shapes, seed=18)):
        out = lib.nn.functional.scaled_dot_product_attention(*inputs)
        out.sum().backward()
        results.append([out.detach().numpy()] + [x.grad.numpy() for x in inputs])
    for ours, theirs in zip(*results):
        assert ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)
