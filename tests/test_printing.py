"""Golden tests: gradienti._printing.format_tensor must equal repr() of the torch tensor."""

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

try:
    from gradienti import _printing as printing
except ImportError:
    # The package may not be installed while it is being built; the module is
    # self-contained, so load it straight from its file.
    _path = Path(__file__).resolve().parents[1] / "src" / "gradienti" / "_printing.py"
    _spec = importlib.util.spec_from_file_location("gradienti._printing", _path)
    printing = importlib.util.module_from_spec(_spec)
    sys.modules[_spec.name] = printing  # dataclasses look the module up while it loads
    _spec.loader.exec_module(printing)

DTYPES = [
    np.float16,
    np.float32,
    np.float64,
    np.int8,
    np.int16,
    np.int32,
    np.int64,
    np.uint8,
    np.bool_,
]


@pytest.fixture(autouse=True)
def _default_printoptions():
    printing.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")
    yield
    printing.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def set_both(**options):
    printing.set_printoptions(**options)
    torch.set_printoptions(**options)


def to_torch(array):
    # np.array copies: from_numpy needs a writeable ndarray, and a 0-d one for scalars.
    return torch.from_numpy(np.array(array))


def ours(array, tensor, suffixes=()):
    show = tensor.dtype not in (torch.get_default_dtype(), torch.int64, torch.bool)
    return printing.format_tensor(
        array, dtype_name=str(tensor.dtype), show_dtype=show, suffixes=list(suffixes)
    )


def assert_same(array, suffixes=(), tensor=None):
    tensor = to_torch(array) if tensor is None else tensor
    assert ours(array, tensor, suffixes) == repr(tensor)


# ------------------------------------------------------------------------ hand-picked cases

f16, f32, f64 = np.float16, np.float32, np.float64
nan, inf = math.nan, math.inf

EDGE_CASES = {
    "scalar-whole": f32(3),
    "scalar-frac": f64(0.5),
    "scalar-neg-zero": np.array(-0.0, f32),
    "scalar-nan": np.array(nan, f32),
    "scalar-neg-inf": np.array(-inf),
    "scalar-tiny": f32(1e-5),
    "scalar-huge": f64(1e9),
    "scalar-half-max": f16(65504),
    "scalar-half-subnormal": f16(6e-8),
    "scalar-int": np.int64(-42),
    "scalar-uint8": np.uint8(255),
    "scalar-bool": np.bool_(True),
    "f32-1e-4-is-below-1e-4": np.array([1e-4], f32),
    "f64-1e-4-not-sci": np.array([1e-4], f64),
    "ratio-1000-not-sci": np.array([1000.0, 1.0]),
    "ratio-1001-sci": np.array([1001.0, 1.0]),
    "max-1e8-not-sci": np.array([1e8, 2e7], f32),
    "max-above-1e8-sci": np.array([1.0000001e8, 2e7]),
    "three-digit-exponents": np.array([1e300, -1e-300, 1.5]),
    "nonfinite-only": np.array([nan, inf, -inf], f32),
    "zeros-only": np.zeros(4, f32),
    "neg-zero-and-whole": np.array([-0.0, 1.0, 2.0], f32),
    "neg-zero-and-frac": np.array([-0.0, 1.5], f64),
    "nan-with-whole": np.array([nan, 1.0, -2.0], f32),
    "nan-with-sci": np.array([nan, 1e-8, inf], f64),
    "round-up-width": np.array([9.99996, 0.5]),
    "tiny-negative-rounds": np.array([-0.00001, 1.0, 3.5]),
    "int-mixed-widths": np.array([-128, 0, 127, 5], np.int8),
    "uint8": np.array([0, 255, 7], np.uint8),
    "int64-big": np.array([2**62, -(2**63)], np.int64),
    "bool-mixed": np.array([True, False, True]),
    "bool-all-true": np.array([[True, True]]),
    "long-row-wraps": np.arange(100, dtype=f32) * 1.25,
    "long-int-row-wraps": np.arange(300, dtype=np.int32) * 1001,
    "matrix": np.arange(12, dtype=f64).reshape(3, 4) / 7,
    "3d-blank-lines": np.arange(24, dtype=np.int16).reshape(2, 3, 4),
    "4d": np.linspace(-3, 3, 2 * 3 * 2 * 4).reshape(2, 3, 2, 4),
    "summarised-1d": np.arange(1001, dtype=f32),
    "summarised-2d": np.arange(2000, dtype=f64).reshape(40, 50) / 3,
    "summarised-3d": np.arange(1331, dtype=np.int32).reshape(11, 11, 11),
    "summarised-only-one-axis": np.ones((2000, 2), f32),
    "summary-hides-middle": np.concatenate([np.ones(600), [1e12, 1e-12], np.ones(600)]),
    "summary-hides-middle-2d": np.pad(np.full((1, 1), 0.5), 30, constant_values=2.0),
    "wide-row-in-3d": np.full((2, 2, 30), -1.5e-7, f32),
}


@pytest.mark.parametrize("array", EDGE_CASES.values(), ids=EDGE_CASES.keys())
def test_edge_cases(array):
    assert_same(array)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4), (0, 0)], ids=str)
def test_empty(dtype, shape):
    assert_same(np.zeros(shape, dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("value", [0, 1, -1, 7])
def test_numpy_scalar_input(dtype, value):
    with np.errstate(over="ignore"):
        scalar = np.array(value).astype(dtype)[()]
    assert isinstance(scalar, np.generic)
    assert_same(scalar)


def test_rejects_complex():
    with pytest.raises(TypeError):
        printing.format_tensor(np.array([1j]), dtype_name="torch.complex128", show_dtype=True)


# --------------------------------------------------------------------------- random sweep


def random_array(seed):
    rng = np.random.default_rng(seed)
    dtype = DTYPES[rng.integers(len(DTYPES))]
    ndim = int(rng.integers(0, 5))
    limit = [1, 1200, 40, 12, 7][ndim]  # sometimes past the 1000-element threshold
    shape = tuple(int(n) for n in rng.integers(1, limit + 1, size=ndim))
    if rng.random() < 0.05 and ndim:
        shape = (*shape[:-1], 0)
    size = math.prod(shape)
    if np.dtype(dtype).kind == "b":
        return rng.random(size).reshape(shape) < 0.5
    if np.dtype(dtype).kind in "iu":
        info = np.iinfo(dtype)
        bound = min(info.max, 10 ** int(rng.integers(1, 19)))
        low = max(info.min, -bound)
        return rng.integers(low, bound, size=size, endpoint=True).astype(dtype).reshape(shape)
    # Floats: magnitudes anywhere from 1e-10 to 1e10, either a narrow or a wide spread.
    centre = rng.uniform(-10, 10)
    spread = rng.choice([0.0, 0.5, 2.0, 20.0])
    values = 10.0 ** (centre + spread * rng.uniform(-0.5, 0.5, size))
    values *= rng.choice([-1.0, 1.0], size) if rng.random() < 0.6 else 1.0
    if rng.random() < 0.3:
        values = np.round(values)  # integer-valued floats print as "2."
    if rng.random() < 0.3:
        specials = rng.choice([nan, inf, -inf, 0.0, -0.0], size)
        values = np.where(rng.random(size) < 0.1, specials, values)
    with np.errstate(over="ignore"):
        return values.astype(dtype).reshape(shape)


@pytest.mark.parametrize("seed", range(400))
def test_random_sweep(seed):
    assert_same(random_array(seed))


OPTION_SETS = [
    {"precision": 2},
    {"precision": 0},
    {"precision": 8},
    {"sci_mode": True},
    {"sci_mode": False},
    {"threshold": 10},
    {"threshold": 0},
    {"edgeitems": 1, "threshold": 20},
    {"edgeitems": 0},
    {"edgeitems": 0, "threshold": 5},
    {"linewidth": 30},
    {"linewidth": 5},
    {"edgeitems": 10, "threshold": 50},
    {"precision": 1, "threshold": 100},
    {"linewidth": 200},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "full", "precision": 6, "sci_mode": True},
]


@pytest.mark.parametrize("seed", range(0, 400, 4))
def test_random_sweep_non_contiguous_views(seed):
    array = random_array(seed)
    assert_same(array.T)
    if array.ndim:
        assert_same(array[::-1])


@pytest.mark.parametrize("options", OPTION_SETS, ids=str)
@pytest.mark.parametrize("seed", range(0, 400, 10))
def test_random_sweep_with_options(options, seed):
    set_both(**options)
    assert_same(random_array(seed))


@pytest.mark.parametrize("options", OPTION_SETS, ids=str)
@pytest.mark.parametrize(
    "name",
    ["scalar-frac", "nonfinite-only", "zeros-only", "summarised-2d", "summarised-1d", "4d"],
)
def test_edge_cases_with_options(options, name):
    set_both(**options)
    assert_same(EDGE_CASES[name])


def test_sci_mode_forced_is_ignored_without_nonzero_finite_values():
    set_both(sci_mode=True)
    assert ours(np.zeros(2, f32), torch.zeros(2)) == "tensor([0., 0.])"
    assert_same(np.zeros(2, f32))


def test_full_profile_prints_everything():
    set_both(profile="full")
    array = np.arange(3000, dtype=np.int64)
    assert "..." not in ours(array, to_torch(array))
    assert_same(array)


# ------------------------------------------------------------------------------ options API


@pytest.mark.parametrize(
    "calls",
    [
        [{}],
        [{"precision": 2}],
        [{"profile": "short"}],
        [{"profile": "full"}],
        [{"profile": "full", "edgeitems": 5}],
        [{"sci_mode": True}, {"precision": 3}],  # sci_mode is reset when omitted
        [{"threshold": 7, "linewidth": 40}, {"profile": "default"}],
        [{"profile": "no-such-profile"}],
    ],
    ids=str,
)
def test_get_printoptions_matches_torch(calls):
    for call in calls:
        set_both(**call)
    assert printing.get_printoptions() == torch._tensor_str.get_printoptions()


def test_get_printoptions_defaults():
    assert printing.get_printoptions() == {
        "precision": 4,
        "threshold": 1000,
        "edgeitems": 3,
        "linewidth": 80,
        "sci_mode": None,
    }


# ----------------------------------------------------------------------------- suffixes

SUFFIX_ARRAYS = {
    "scalar": f32(2.5),
    "row": np.array([1.0, -2.0, 3.5], f64),
    "near-linewidth": np.linspace(0, 1, 10, dtype=f32),
    "near-linewidth-f64": np.linspace(0, 1, 9, dtype=f64),
    "wrapped-row": np.linspace(-1, 1, 40, dtype=f32),
    "matrix-wide-last-row": np.full((3, 8), 1234.5678, f64),
    "matrix-short-last-row": np.full((3, 2), 0.5, f16),
    "summarised": np.linspace(0, 1, 2000, dtype=f32).reshape(100, 20),
}


def requires_grad(array):
    return to_torch(array).requires_grad_()


@pytest.mark.parametrize("array", SUFFIX_ARRAYS.values(), ids=SUFFIX_ARRAYS.keys())
@pytest.mark.parametrize("linewidth", [80, 40, 25])
def test_requires_grad_suffix(array, linewidth):
    set_both(linewidth=linewidth)
    assert_same(array, ["requires_grad=True"], requires_grad(array))


@pytest.mark.parametrize("array", SUFFIX_ARRAYS.values(), ids=SUFFIX_ARRAYS.keys())
@pytest.mark.parametrize("linewidth", [80, 40])
def test_grad_fn_suffix(array, linewidth):
    set_both(linewidth=linewidth)
    tensor = requires_grad(array) * 1
    assert_same(array, ["grad_fn=<MulBackward0>"], tensor)


@pytest.mark.parametrize("array", SUFFIX_ARRAYS.values(), ids=SUFFIX_ARRAYS.keys())
def test_size_dtype_and_grad_suffixes_with_edgeitems_zero(array):
    set_both(edgeitems=0)
    assert_same(array, ["requires_grad=True"], requires_grad(array))


@pytest.mark.parametrize("shape", [(0,), (0, 3)], ids=str)
@pytest.mark.parametrize("dtype", [f32, f64], ids=lambda d: np.dtype(d).name)
def test_empty_with_grad(shape, dtype):
    array = np.zeros(shape, dtype)
    assert_same(array, ["requires_grad=True"], requires_grad(array))


FLOAT_SEEDS = [seed for seed in range(400) if random_array(seed).dtype.kind == "f"]


@pytest.mark.parametrize("seed", FLOAT_SEEDS[::2])
def test_random_sweep_with_grad_fn(seed):
    array = random_array(seed)
    tensor = requires_grad(array) * 1  # "* 1" keeps -0.0, unlike "+ 0"
    assert_same(array, ["grad_fn=<MulBackward0>"], tensor)


@pytest.mark.parametrize("linewidth", [80, 50, 40, 20])
@pytest.mark.parametrize("array", SUFFIX_ARRAYS.values(), ids=SUFFIX_ARRAYS.keys())
def test_several_suffixes_keep_their_order_and_wrap(array, linewidth):
    # torch has no public way to attach arbitrary suffixes, so compare with its helper.
    set_both(linewidth=linewidth)
    tensor = to_torch(array)
    suffixes = ["requires_grad=True", "x" * 30, "y"]
    body = "tensor(" + torch._tensor_str._tensor_str(tensor, 7)
    expected = torch._tensor_str._add_suffixes(
        body, [f"dtype={tensor.dtype}", *suffixes], 7, force_newline=False
    )
    text = printing.format_tensor(
        array, dtype_name=str(tensor.dtype), show_dtype=True, suffixes=suffixes
    )
    assert text == expected
