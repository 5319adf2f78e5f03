"""``keepdims=`` wherever ``keepdim=`` is, and ``out=`` on the common functions, against torch:
values, the returned object, dtype rules and their errors, resizing with PyTorch's warning,
the autograd refusal, and writes through views."""

import warnings

import numpy as np
import pytest

import gradienti
from gradienti.ops import api, call_forms

torch = pytest.importorskip("torch")

X = np.array([[0.2, 0.7, 0.4], [0.9, 0.1, 0.5]], dtype=np.float32)
Y = np.array([[0.3, 0.6, 0.8], [0.5, 0.25, 0.45]], dtype=np.float32)


def _arguments(lib, name):
    """A call of ``name`` on small positive float32 tensors (log, sqrt, acos are defined)."""
    x, y = lib.tensor(X), lib.tensor(Y)
    v = lib.tensor(X[0])
    special = {
        "matmul": (x, y.T),
        "mm": (x, y.T),
        "bmm": (x[None], y.T[None]),
        "mv": (x, v),
        "dot": (v, v),
        "outer": (v, v),
        "clamp": (x, 0.3, 0.6),
        "clip": (x, 0.3, 0.6),
        "pow": (x, 2),
        "fmod": (x, 0.3),
        "remainder": (x, 0.3),
        "where": (x > 0.4, x, y),
        "cat": ([x, y],),
        "concat": ([x, y],),
        "concatenate": ([x, y],),
        "stack": ([x, y],),
        "hstack": ([x, y],),
        "vstack": ([x, y],),
        "max": (x,),
        "min": (x,),
        "any": (x, 1),
        "all": (x, 1),
        "quantile": (x, 0.5, 1),
        "nanquantile": (x, 0.5, 1),
    }
    if name in special:
        return special[name]
    if name.startswith("bitwise_"):  # integral inputs: 2..9
        whole, other = (lib.tensor((10 * a).astype(np.int64)) for a in (X, Y))
        return (whole,) if name == "bitwise_not" else (whole, other % 4)
    if name == "polygamma":
        return (1, x)
    if name in ("floor_divide", "logaddexp", "logaddexp2", "xlogy"):
        return (x, y)
    if name in ("mean", "prod", "std", "var", "logsumexp", "cumsum", "cumprod", "sum"):
        return (x, 1)
    if name in ("amax", "amin", "argmax", "argmin"):
        return (x, 1)
    if name in ("add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
                "maximum", "minimum", "atan2", "eq", "ne", "lt", "le", "gt", "ge",
                "logical_and", "logical_or", "logical_xor"):  # fmt: skip
        return (x, y)
    return (x,)


def _outcome(lib, name, out_dtype, shape=None, *, quiet=True):
    """What ``lib.<name>(..., out=o)`` gives: the values written, o's dtype and whether the
    result is o; or the error's class and text."""
    args = _arguments(lib, name)
    if shape is None:
        shape = tuple(getattr(torch, name)(*_arguments(torch, name)).shape)
    out = lib.empty(shape, dtype=getattr(lib, out_dtype))
    try:
        with warnings.catch_warnings():
            if quiet:
                warnings.simplefilter("ignore")
            result = getattr(lib, name)(*args, out=out)
    except Exception as error:  # noqa: BLE001 - the class and text are what is compared
        return type(error).__name__, str(error).split("\n")[0]
    return "ok", result is out, str(out.dtype), tuple(out.shape), out.tolist()


# the names of OUT_DTYPE_RULES that are declared (an op may come in a later change)
# (aminmax's out is a tuple: tests/test_out_nan_quantile.py)
OUT_FUNCTIONS = sorted(
    name for name in call_forms.OUT_DTYPE_RULES if name in api.FUNCTIONS and name != "aminmax"
)


@pytest.mark.parametrize("out_dtype", ["float32", "float64", "int64", "bool"])
@pytest.mark.parametrize("name", OUT_FUNCTIONS)
def test_out_against_torch(name, out_dtype):
    ours = _outcome(gradienti, name, out_dtype)
    theirs = _outcome(torch, name, out_dtype)
    if ours[0] == theirs[0] == "ok":
        assert ours[:4] == theirs[:4]
        np.testing.assert_allclose(
            np.array(ours[4], dtype=np.float64), np.array(theirs[4], dtype=np.float64), rtol=1e-6
        )
    else:
        assert ours == theirs


@pytest.mark.parametrize("name", ["add", "exp", "matmul", "cat", "sum", "clamp", "stack"])
def test_out_is_resized_with_pytorchs_warning(name):
    messages = []
    for lib in (gradienti, torch):
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            outcome = _outcome(lib, name, "float32", shape=(5,), quiet=False)
        messages.append([str(w.message).split(" (Triggered internally")[0] for w in record])
        assert outcome[0] == "ok" and outcome[1]
    assert messages[0] == messages[1]
    assert messages[0][0].startswith("An output with one or more elements was resized")
    # an empty out is resized silently
    for lib in (gradienti, torch):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert _outcome(lib, name, "float32", shape=(0,), quiet=False)[0] == "ok"


def test_out_refuses_autograd_and_works_without_grad():
    for lib in (gradienti, torch):
        x = lib.tensor(X, requires_grad=True)
        with pytest.raises(
            RuntimeError,
            match=r"^add\(\): functions with out=\.\.\. arguments don't support automatic "
            r"differentiation, but one of the arguments requires grad\.$",
        ):
            lib.add(x, 1.0, out=lib.empty(2, 3))
        with pytest.raises(RuntimeError, match=r"^cat\(\): functions with out="):
            lib.cat([x, x], out=lib.empty(0))
        leaf = lib.zeros(2, 3, requires_grad=True)
        with pytest.raises(RuntimeError, match=r"^exp\(\): functions with out="):
            lib.exp(lib.tensor(X), out=leaf)
        with lib.no_grad():
            out = lib.empty(2, 3)
            assert lib.add(x, 1.0, out=out) is out
            assert not out.requires_grad
        np.testing.assert_allclose(out.numpy(), X + 1.0)


def test_out_writes_through_views_and_may_alias_an_input():
    results = []
    for lib in (gradienti, torch):
        base = lib.zeros(2, 3)
        lib.mul(lib.tensor(X[0]), 2.0, out=base[0])  # a view: the base sees the values
        x = lib.tensor(X)
        version = x._version
        lib.add(x, x, out=x)  # out may be an input
        assert x._version > version
        results.append((base.tolist(), x.tolist()))
    assert results[0] == results[1]


def test_tuple_out_of_max_and_min():
    results = []
    for lib in (gradienti, torch):
        values, indices = lib.empty(2), lib.empty(2, dtype=lib.int64)
        returned = lib.max(lib.tensor(X), 1, out=(values, indices))
        assert returned[0] is values and returned[1] is indices
        low = lib.min(lib.tensor(X), 1, keepdims=True, out=(lib.empty(0), lib.empty(0).long()))
        results.append((values.tolist(), indices.tolist(), low[0].tolist(), low[1].tolist()))
    assert results[0] == results[1]
    errors = []
    for lib in (gradienti, torch):
        with pytest.raises(RuntimeError) as caught:
            lib.max(lib.tensor(X), 1, out=(lib.empty(2, dtype=lib.float64), lib.empty(0).long()))
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


def test_out_must_be_a_tensor():
    errors = []
    for lib in (gradienti, torch):
        with pytest.raises(TypeError) as caught:
            lib.add(lib.tensor(X), 1.0, out=[1])
        errors.append(str(caught.value))
    assert errors[0] == errors[1]


def test_out_functions_take_out_in_torch_and_methods_do_not():
    assert {"add", "matmul", "sum", "mean", "cat", "stack", "clamp", "exp"} <= set(OUT_FUNCTIONS)
    for name in OUT_FUNCTIONS:
        assert hasattr(getattr(gradienti, name), "__wrapped__"), name
    for lib in (gradienti, torch):
        with pytest.raises(TypeError):
            lib.tensor(X).add(1.0, out=lib.empty(2, 3))


# ---------------------------------------------------------------------- keepdims
def _with_keepdim():
    """Every public function of gradienti with a keepdim parameter (norm aside)."""
    return sorted(
        name
        for name, function in api.FUNCTIONS.items()
        if name not in call_forms.NO_KEEPDIMS
        and call_forms._has_keepdim(name, getattr(function, "__wrapped__", function))
    )


def _keepdims_call(lib, name, as_method, keyword):
    x = lib.tensor(X)
    if name in ("any", "all"):
        x = x > 0.4
    args = {"kthvalue": (2,), "quantile": (0.5,), "nanquantile": (0.5,)}.get(name, ())
    kwargs = {"dim": 1, keyword: True}
    result = (
        getattr(x, name)(*args, **kwargs) if as_method else getattr(lib, name)(x, *args, **kwargs)
    )
    parts = result if isinstance(result, tuple) else (result,)
    return [(tuple(p.shape), p.tolist()) for p in parts]


@pytest.mark.parametrize("as_method", [False, True])
@pytest.mark.parametrize("name", _with_keepdim())
def test_keepdims_wherever_keepdim_is(name, as_method):
    ours = _keepdims_call(gradienti, name, as_method, "keepdims")
    theirs = _keepdims_call(torch, name, as_method, "keepdims")
    assert [shape for shape, _ in ours] == [shape for shape, _ in theirs]
    for (_, values), (_, expected) in zip(ours, theirs):
        np.testing.assert_allclose(np.array(values, float), np.array(expected, float), rtol=1e-6)
    assert ours == _keepdims_call(gradienti, name, as_method, "keepdim")
    assert ours[0][0][1] == 1  # the reduced dimension is kept


def test_keepdims_gradient_and_errors():
    grads = []
    for lib in (gradienti, torch):
        x = lib.tensor(X, requires_grad=True)
        upstream = lib.tensor([[1.0], [-2.0]])
        (x.mean(1, keepdims=True) * upstream).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1])
    for call in (
        lambda lib: lib.sum(lib.tensor(X), 1, keepdim=True, keepdims=True),
        lambda lib: lib.norm(lib.tensor(X), dim=1, keepdims=True),
        lambda lib: lib.tensor(X).norm(dim=1, keepdims=True),
    ):
        errors = []
        for lib in (gradienti, torch):
            with pytest.raises(TypeError) as caught:
                call(lib)
            errors.append(str(caught.value).replace("Tensor.norm", "norm"))
        assert errors[0] == errors[1]


def test_sum_into_out_with_a_dtype_of_its_own():
    outcomes = []
    for lib in (gradienti, torch):
        x = lib.tensor(X)
        with pytest.raises(RuntimeError) as caught:
            lib.sum(x, 1, dtype=lib.float64, out=lib.empty(2))
        into_int = lib.sum(x * 3, 1, out=lib.empty(2, dtype=lib.int64))  # summed as int64
        outcomes.append((str(caught.value), into_int.tolist()))
    assert outcomes[0] == outcomes[1]


def test_functions_with_keyword_arguments_get_the_general_wrapper():
    """A function whose parameters cannot be copied (``**kwargs``) is wrapped all the same."""

    def reduce_like(input, dim=None, keepdim=False, **options):
        return gradienti.sum(input, dim, keepdim, **options)

    wrapped = call_forms.public_function("sum", reduce_like)
    x = gradienti.tensor(X)
    assert tuple(wrapped(x, 1, keepdims=True).shape) == (2, 1)
    out = gradienti.empty(2)
    assert wrapped(x, 1, out=out) is out
    np.testing.assert_allclose(out.numpy(), X.sum(1), rtol=1e-6)
    with pytest.raises(TypeError, match="unexpected keyword argument 'keepdims'"):
        wrapped(x, 1, keepdim=True, keepdims=True)


def test_unwrapped_ops_stay_the_declared_functions():
    """Only ops with keepdim or out= are wrapped: the others (and the operators) are the
    declared functions themselves, so their calls cost nothing more."""
    assert gradienti.reshape is api.FUNCTIONS["reshape"]
    assert not hasattr(gradienti.reshape, "__wrapped__")
    assert not hasattr(gradienti.Tensor.__add__, "__wrapped__")
    assert not hasattr(gradienti.Tensor.exp, "__wrapped__")
    assert gradienti.sum.__wrapped__ is gradienti.Tensor.sum.__wrapped__


# Each call's out shares memory with an input or with itself, as PyTorch's overlap checks see
# it: elementwise kernels and cumsum refuse a partial overlap, cat and stack any overlap, and
# every one of them an out whose elements repeat (an expanded tensor); reductions and the
# matmul family check nothing.
OVERLAPS = {
    "add partially over its input": lambda lib, a: lib.add(a[:4], 1, out=a[2:6]),
    "exp partially": lambda lib, a: lib.exp(a[:4], out=a[1:5]),
    "add into its transpose": lambda lib, a: lib.add(a[:4].view(2, 2).t(), 1, out=a[:4].view(2, 2)),
    "neg partially": lambda lib, a: lib.neg(a[:4], out=a[2:6]),
    "where's condition": lambda lib, a: lib.where(a[:4] > 1, a[:4], a[4:], out=a[2:6]),
    "clamp's bound": lambda lib, a: lib.clamp(a[:4], a[4:], out=a[2:6]),
    "outer": lambda lib, a: lib.outer(a[:2], a[:2], out=a[1:5].view(2, 2)),
    "cumsum partially": lambda lib, a: lib.cumsum(a[:4], 0, out=a[2:6]),
    "cat into its input": lambda lib, a: lib.cat([a[:4]], out=a[:4]),
    "stack partially": lambda lib, a: lib.stack([a[:2]], out=a[1:3].view(1, 2)),
    "max with a dim": lambda lib, a: lib.max(a.view(2, 4), 1, out=(a[:2], lib.empty(2).long())),
    "an expanded out": lambda lib, a: lib.add(lib.ones(3, 3), 1, out=a[:3].expand(3, 3)),
    "an expanded out to resize": lambda lib, a: lib.add(lib.ones(3), 1, out=a[:1].expand(2)),
    "cat into an expanded out": lambda lib, a: lib.cat([lib.ones(3)], out=a[:1].expand(3)),
    "max of all elements partially": lambda lib, a: lib.max(a[:4], out=a[1:2].view(())),
    "add into a view of more dimensions": lambda lib, a: lib.add(a, 1, out=a.view(1, 8)),
    "add of an unsqueezed input": lambda lib, a: lib.add(a[None], 1, out=a.view(1, 8)),
    "add of a size-one slice": lambda lib, a: lib.add(a[:1].view(1, 1), 1, out=a[:1].view(1, 1)),
    "add in place": lambda lib, a: lib.add(a, a, out=a),
    "cumsum in place": lambda lib, a: lib.cumsum(a, 0, out=a),
    "add over disjoint halves": lambda lib, a: lib.add(a[:4], 1, out=a[4:]),
    "add over interleaved slices": lambda lib, a: lib.add(a[:6:2], 1, out=a[1:7:2]),
    "sum partially": lambda lib, a: lib.sum(a.view(2, 4)[:, :2], 1, out=a[6:]),
    "mm partially": lambda lib, a: lib.mm(a[:4].view(2, 2), a[:4].view(2, 2), out=a[4:].view(2, 2)),
}  # fmt: skip


@pytest.mark.parametrize("case", OVERLAPS)
def test_out_overlapping_an_input_or_itself_as_torch(case):
    outcomes = []
    for lib in (gradienti, torch):
        a = lib.arange(8.0)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                OVERLAPS[case](lib, a)
        except RuntimeError as error:
            outcomes.append(("raised", str(error), a.tolist()))  # a failed call changes nothing
        else:
            outcomes.append(("wrote", a.tolist()))
    assert outcomes[0] == outcomes[1]


# An out of another shape is resized in its own memory where that holds the result (PyTorch
# keeps the storage), so the tensor it is a view of, and other views of it, see the result.
RESIZES = {
    "a slice of a longer base": lambda lib, base: lib.add(lib.ones(2, 3), 1, out=base[1:5]),
    "the base itself, shrunk": lambda lib, base: lib.add(lib.ones(2, 2), 1, out=base),
    "a transposed view": lambda lib, base: lib.exp(lib.zeros(5), out=base.view(2, 4).t()),
    "cat into a slice": lambda lib, base: lib.cat([lib.ones(2), lib.ones(3)], out=base[3:4]),
}


@pytest.mark.parametrize("case", RESIZES)
def test_resized_out_keeps_its_memory_as_torch(case):
    outcomes = []
    for lib in (gradienti, torch):
        base = lib.zeros(8)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = RESIZES[case](lib, base)
        outcomes.append((result.tolist(), base.tolist()))
    assert outcomes[0] == outcomes[1]


@pytest.mark.parametrize(
    "call",
    [
        "lib.mean(x, 1, dtype=lib.float64, out=lib.empty(2))",
        "lib.mean(x, 1, dtype=lib.float64, out=lib.empty(2, dtype=lib.float64))",
        "lib.mean(x.long(), 1, dtype=lib.float32, out=lib.empty(2, dtype=lib.float64))",
        "lib.mean(x.long(), 1, dtype=lib.float32, out=lib.empty(2))",
        "lib.mean(x, 1, out=lib.empty(2, dtype=lib.float64))",
    ],
)
def test_out_with_a_dtype_must_have_that_dtype(call):
    """A dtype= given with out=: out must have exactly that dtype (no cast into it)."""
    outcomes = []
    for lib in (gradienti, torch):
        try:
            result = eval(call, {"lib": lib, "x": lib.tensor(X)})
        except RuntimeError as error:
            outcomes.append(("raised", str(error)))
        else:
            outcomes.append((str(result.dtype), np.round(result.tolist(), 6).tolist()))
    assert outcomes[0] == outcomes[1]


def test_tuple_out_prints_as_pytorchs_out_type():
    texts = []
    for lib in (gradienti, torch):
        values, indices = lib.empty(2), lib.empty(2, dtype=lib.int64)
        texts.append(repr(lib.min(lib.tensor(X), 1, out=(values, indices))))
    assert texts[0] == texts[1]
    assert texts[0].startswith("torch.return_types.min_out(")
