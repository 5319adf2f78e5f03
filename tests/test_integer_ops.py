"""Rounded division, remainders and bitwise ops against PyTorch: values and dtypes over the
dtypes and operand kinds (Tensor, Python int or float, on either side), signs and zeros,
division by zero, the operators in every form, the errors, and the nodes recorded.
(Gradients of remainder, fmod and div(rounding_mode) are in the op table, op_cases_pointwise.)
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import gradienti

torch = pytest.importorskip("torch")

INTEGRAL = ("int8", "int16", "int32", "int64", "uint8")
FLOATING = ("float16", "float32", "float64")


def _values(dtype: str) -> np.ndarray:
    """Dividends and divisors with every sign combination (no zero: see the zero tests)."""
    if dtype == "uint8":
        return np.array([1, 2, 3, 7, 200, 255], dtype=dtype)
    if dtype in INTEGRAL:
        return np.array([-7, -3, -1, 1, 2, 5, 7, -128 if dtype == "int8" else -9], dtype=dtype)
    return np.array([-7.5, -3.0, -0.5, 0.25, 2.0, 5.5, 7.0, 1e-3], dtype=dtype)


def _result(lib, fn):
    """What ``fn(lib)`` gives: (dtype, values as float64 with NaN where NaN, sign bits), or
    (exception class, message)."""
    try:
        out = fn(lib)
    except Exception as error:  # noqa: BLE001 - the outcome is what is compared
        return type(error).__name__, str(error).split("\n")[0]
    values = out.detach().numpy() if isinstance(out, lib.Tensor) else out
    array = np.asarray(values)
    floats = array.astype(np.float64)
    signs = np.signbit(floats) & ~np.isnan(floats)  # (a NaN's sign bit is not PyTorch's API)
    return str(out.dtype).split(".")[-1], floats.tolist(), signs.tolist()


def _both(fn):
    ours, theirs = _result(gradienti, fn), _result(torch, fn)
    assert repr(ours) == repr(theirs)  # (repr: NaN compares equal as text)
    return ours


def _tensor(lib, array):
    return lib.tensor(array.copy())


DIVISIONS = {
    "//": lambda a, b: a // b,
    "%": lambda a, b: a % b,
    "floor_divide": lambda a, b: a.floor_divide(b),
    "remainder": lambda a, b: a.remainder(b),
    "fmod": lambda a, b: a.fmod(b),
    "div floor": lambda a, b: a.div(b, rounding_mode="floor"),
    "div trunc": lambda a, b: a.div(b, rounding_mode="trunc"),
    "div None": lambda a, b: a.div(b, rounding_mode=None),
}


@pytest.mark.parametrize("op", DIVISIONS)
@pytest.mark.parametrize("dtype", INTEGRAL + FLOATING)
def test_tensor_by_tensor_every_sign(op, dtype):
    values = _values(dtype)
    dividends, divisors = (
        np.array(v, dtype=dtype) for v in zip(*itertools.product(values, values))
    )
    _both(lambda lib: DIVISIONS[op](_tensor(lib, dividends), _tensor(lib, divisors)))


@pytest.mark.parametrize("op", DIVISIONS)
@pytest.mark.parametrize("pair", [("int64", "float32"), ("int32", "int64"), ("uint8", "int8"),
                                  ("float16", "float64"), ("bool", "int16")])  # fmt: skip
def test_promotion_of_two_dtypes(op, pair):
    a = np.array([-7, 5, 3, 1], dtype=np.int64).astype(pair[0])
    b = np.array([2, -3, 1, 1], dtype=np.int64).astype(pair[1])
    _both(lambda lib: DIVISIONS[op](_tensor(lib, a), _tensor(lib, b)))


@pytest.mark.parametrize("op", DIVISIONS)
@pytest.mark.parametrize("dtype", ("int64", "int8", "uint8", "float32", "bool"))
@pytest.mark.parametrize("number", (2, -3, 2.5, -0.75, True, 300))
def test_tensor_and_python_number_either_side(op, dtype, number):
    a = np.array([-7, 5, 3, 1, 0], dtype=np.int64).astype(dtype)
    _both(lambda lib: DIVISIONS[op](_tensor(lib, a), number))
    if op in ("//", "%"):
        reflected = {"//": lambda t: number // t, "%": lambda t: number % t}[op]
        b = np.array([-7, 5, 3, 1, 2], dtype=np.int64).astype(dtype)
        _both(lambda lib: reflected(_tensor(lib, b)))


def test_functions_take_a_number_first_where_pytorch_does():
    b = np.array([-7, 5, 3], dtype=np.int64)
    _both(lambda lib: lib.floor_divide(7, _tensor(lib, b)))
    _both(lambda lib: lib.remainder(7, _tensor(lib, b)))
    _both(lambda lib: lib.remainder(7.5, _tensor(lib, b)))
    _both(lambda lib: lib.div(7, _tensor(lib, b), rounding_mode="trunc"))
    _both(lambda lib: lib.floor_divide(3, 4))
    _both(lambda lib: lib.floor_divide(-3.5, 2))
    _both(lambda lib: lib.div(-7, 2, rounding_mode="trunc"))
    _both(lambda lib: lib.remainder(3, 4))  # TypeError
    _both(lambda lib: lib.fmod(7, _tensor(lib, b)))  # TypeError
    _both(lambda lib: lib.floor_divide(_tensor(lib, b), "x"))


SPECIAL_FLOATS = np.array([-0.0, 0.0, np.inf, -np.inf, np.nan, 7.0, -7.0, 1e300, -1e-3])


@pytest.mark.parametrize("op", DIVISIONS)
def test_float_zeros_infinities_and_nan_bit_for_bit(op):
    dividends, divisors = (np.array(v) for v in zip(*itertools.product(SPECIAL_FLOATS, repeat=2)))
    _both(lambda lib: DIVISIONS[op](_tensor(lib, dividends), _tensor(lib, divisors)))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_remainders_where_the_quotient_overflows(dtype):
    """a / b overflows: fmod is exact (C's), remainder follows from it, as PyTorch's."""
    a = np.array([1e300, -1e300, 3e38, -3e38] if dtype == "float64" else [3e38, -3e38, 1e30])
    b = np.array([-1e-300, -1e-300, 1e-10, 1e-10] if dtype == "float64" else [1e-10, 1e-10, -3e-9])
    for op in ("fmod", "remainder", "//"):
        _both(
            lambda lib, op=op: DIVISIONS[op](
                *(lib.tensor(v, dtype=getattr(lib, dtype)) for v in (a, b))
            )
        )


@pytest.mark.parametrize("op", [name for name in DIVISIONS if name != "div None"])
@pytest.mark.parametrize("dtype", INTEGRAL)
def test_integer_division_by_zero_raises_and_changes_nothing(op, dtype):
    assert _both(lambda lib: DIVISIONS[op](_tensor(lib, np.array([4, 2], dtype)), 0)) == (
        "RuntimeError",
        "ZeroDivisionError",
    )
    _both(lambda lib: DIVISIONS[op](_tensor(lib, np.array([4, 2], dtype)),
                                    _tensor(lib, np.array([1, 0], dtype))))  # fmt: skip
    # (PyTorch's kernel has written the elements before the zero when it raises; gradienti
    # checks first and changes nothing)
    x = gradienti.tensor([6, 4])
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        DIVISIONS[op](x, gradienti.tensor([2, 0]))
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        x //= gradienti.tensor([2, 0])
    assert x.tolist() == [6, 4]


@pytest.mark.parametrize("op", ["//", "%", "fmod", "div floor", "div trunc"])
def test_bool_operands_are_refused_with_the_kernel_name(op):
    outcome = _both(lambda lib: DIVISIONS[op](lib.tensor([True, False]), lib.tensor([True, True])))
    assert outcome[0] == "NotImplementedError"


def test_rounding_mode_and_true_divide_arguments():
    a = np.array([7, -7])
    _both(lambda lib: lib.div(_tensor(lib, a), 2, rounding_mode="bad"))
    _both(lambda lib: lib.divide(_tensor(lib, a), 2, rounding_mode="floor"))
    _both(lambda lib: lib.true_divide(_tensor(lib, a), 2))
    _both(lambda lib: lib.true_divide(_tensor(lib, a), 2, rounding_mode="floor"))  # TypeError


IN_PLACE = {
    "//=": lambda a, b: a.__ifloordiv__(b),
    "%=": lambda a, b: a.__imod__(b),
    "floor_divide_": lambda a, b: a.floor_divide_(b),
    "remainder_": lambda a, b: a.remainder_(b),
    "fmod_": lambda a, b: a.fmod_(b),
    "div_ floor": lambda a, b: a.div_(b, rounding_mode="floor"),
    "divide_ trunc": lambda a, b: a.divide_(b, rounding_mode="trunc"),
    "true_divide_": lambda a, b: a.true_divide_(b),
}


@pytest.mark.parametrize("op", IN_PLACE)
@pytest.mark.parametrize("other", (3, -2.5, "tensor"))
@pytest.mark.parametrize("dtype", ("int64", "float32"))
def test_in_place_forms(op, other, dtype):
    def run(lib):
        x = lib.tensor([7, -7, 5], dtype=getattr(lib, dtype))
        y = lib.tensor([2, 3, -4]) if other == "tensor" else other
        try:
            result = IN_PLACE[op](x, y)
        except RuntimeError as error:
            return "error", str(error), x.tolist()
        return result is x, x.tolist(), str(x.dtype)

    assert run(gradienti) == run(torch)


def test_the_operators_in_python_syntax():
    for lib in (gradienti, torch):
        x = lib.tensor([7, -7, 5])
        y = x.clone()
        y //= 2
        z = x.clone()
        z %= -3
        assert (y.tolist(), z.tolist()) == ([3, -4, 2], [-2, -1, -1])
        with pytest.raises(
            TypeError, match=r"unsupported operand type\(s\) for //: 'Tensor' and 'str'"
        ):
            x // "a"
        with pytest.raises(
            TypeError, match=r"unsupported operand type\(s\) for %: 'Tensor' and 'list'"
        ):
            x % [1, 2, 3]


# ---------------------------------------------------------------------- the recorded nodes
def _nodes(lib):
    a = lib.tensor([7.5, -7.5], requires_grad=True)
    b = lib.tensor([2.0, -2.0], requires_grad=True)
    outs = {
        "a // b": a // b,
        "a // 2": a // 2,
        "7 // b": 7 // b,
        "7 % b": 7 % b,
        "a % 2": a % 2,
        "a % b": a % b,
        "fmod(a, 2)": lib.fmod(a, 2),
        "div(a, 2, floor)": lib.div(a, 2, rounding_mode="floor"),
    }
    return {
        name: (str(out), out.grad_fn.name(), [n is None for n, _ in out.grad_fn.next_functions])
        for name, out in outs.items()
    }


def test_nodes_print_and_link_as_pytorchs():
    assert _nodes(gradienti) == _nodes(torch)


@pytest.mark.parametrize("expression", ["a // b", "a // 2", "7 // b", "7 % b"])
def test_no_derivative_raises_pytorchs_error_at_backward(expression):
    def run(lib):
        a = lib.tensor([7.5, -7.5], requires_grad=True)
        b = lib.tensor([2.0, -2.0], requires_grad=True)
        out = eval(expression, {"a": a, "b": b})  # noqa: S307 - the test's own expressions
        try:
            out.sum().backward()
        except RuntimeError as error:
            return str(error), a.grad, b.grad
        return None

    ours, theirs = run(gradienti), run(torch)
    assert ours[0] == theirs[0] and ours[1:] == (None, None) and theirs[1:] == (None, None)


@pytest.mark.parametrize(
    "expression", ["x // 2", "7 % x", "x % 2", "x.div(2, rounding_mode='floor')"]
)
def test_forward_ad(expression):
    def run(lib):
        forward_ad = lib.autograd.forward_ad
        with forward_ad.dual_level():
            x = forward_ad.make_dual(lib.tensor([7.0, -7.0]), lib.tensor([1.0, 2.0]))
            try:
                out = eval(expression, {"x": x})  # noqa: S307 - the test's own expressions
            except NotImplementedError as error:
                return str(error)
            unpacked = forward_ad.unpack_dual(out)
            return unpacked.primal.tolist(), unpacked.tangent.tolist()

    assert run(gradienti) == run(torch)


@pytest.mark.parametrize("op", ["//", "%", "fmod", "div trunc"])
def test_vmap_against_torch_func(op):
    a = np.array([[7, -7, 5], [9, -3, 4]], dtype=np.int64)
    b = np.array([2, -3, 4], dtype=np.int64)

    def run(lib):
        fn = lambda x, y: DIVISIONS[op](x, y) + DIVISIONS[op](x, 3)  # noqa: E731
        return lib.func.vmap(fn, in_dims=(0, None))(_tensor(lib, a), _tensor(lib, b)).tolist()

    assert run(gradienti) == run(torch)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        gradienti.func.vmap(lambda x: x // gradienti.tensor([1, 0, 1]))(gradienti.tensor(a))


# ---------------------------------------------------------------------- bitwise
BITWISE = {
    "&": lambda a, b: a & b,
    "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b,
    "<<": lambda a, b: a << b,
    ">>": lambda a, b: a >> b,
    "bitwise_and": lambda a, b: a.bitwise_and(b),
    "bitwise_or": lambda a, b: a.bitwise_or(b),
    "bitwise_xor": lambda a, b: a.bitwise_xor(b),
    "bitwise_left_shift": lambda a, b: a.bitwise_left_shift(b),
    "bitwise_right_shift": lambda a, b: a.bitwise_right_shift(b),
}


def _bits(dtype):
    if dtype == "bool":
        return np.array([True, False, True, False]), np.array([True, True, False, False])
    if dtype == "uint8":
        return np.array([250, 3, 7, 0, 128]), np.array([1, 7, 8, 9, 255])
    return np.array([12, -7, 5, -1, 0, 3]), np.array([10, 3, -1, 64, 65, 2])


@pytest.mark.parametrize("op", BITWISE)
@pytest.mark.parametrize("dtype", INTEGRAL + ("bool", "float32"))
def test_bitwise_tensor_and_tensor(op, dtype):
    a, b = _bits(dtype)
    _both(lambda lib: BITWISE[op](lib.tensor(a, dtype=getattr(lib, dtype)),
                                  lib.tensor(b, dtype=getattr(lib, dtype))))  # fmt: skip


@pytest.mark.parametrize("op", ["&", "|", "^", "<<", ">>"])
@pytest.mark.parametrize("dtype", ("int64", "int32", "uint8", "bool", "float64"))
@pytest.mark.parametrize("number", (3, -1, 256, True, 1.5, 2**40))
def test_bitwise_with_a_python_number_either_side(op, dtype, number):
    a = np.array([5, 1, 0])
    _both(lambda lib: BITWISE[op](lib.tensor(a, dtype=getattr(lib, dtype)), number))
    _both(lambda lib: BITWISE[op](number, lib.tensor(a, dtype=getattr(lib, dtype))))


@pytest.mark.parametrize("function", ["bitwise_and", "bitwise_or", "bitwise_xor",
                                      "bitwise_left_shift", "bitwise_right_shift"])  # fmt: skip
def test_bitwise_functions(function):
    a, b = np.array([12, -7, 5]), np.array([3, 1, 2])
    _both(lambda lib: getattr(lib, function)(lib.tensor(a), lib.tensor(b)))
    _both(lambda lib: getattr(lib, function)(3, lib.tensor(b)))
    _both(lambda lib: getattr(lib, function)(lib.tensor(a), 2))
    _both(lambda lib: getattr(lib, function)(lib.tensor(a), 2.5))
    _both(lambda lib: getattr(lib, function)(1, 2))  # TypeError
    _both(lambda lib: getattr(lib, function)(lib.tensor(a, dtype=lib.int8),
                                             lib.tensor(b, dtype=lib.uint8)))  # fmt: skip


def test_bitwise_not_and_invert():
    for dtype in INTEGRAL + ("bool", "float32"):
        a = np.array([5, 0, 1])
        _both(lambda lib, a=a, dtype=dtype: ~lib.tensor(a, dtype=getattr(lib, dtype)))
        _both(lambda lib, a=a, d=dtype: lib.bitwise_not(lib.tensor(a, dtype=getattr(lib, d))))
        _both(lambda lib, a=a, dtype=dtype: lib.tensor(a, dtype=getattr(lib, dtype)).bitwise_not_())
    _both(lambda lib: lib.bitwise_not(3))


@pytest.mark.parametrize("op", ["&=", "|=", "^=", "<<=", ">>="])
@pytest.mark.parametrize("case", ["int", "bool", "bool by int", "float"])
def test_bitwise_in_place(op, case):
    def run(lib):
        x = {
            "int": lib.tensor([12, -7, 5]),
            "bool": lib.tensor([True, False, True]),
            "bool by int": lib.tensor([True, False, True]),
            "float": lib.tensor([1.0, 2.0, 3.0]),
        }[case]
        y = lib.tensor([3, 1, 2]) if case in ("int", "bool by int") else x.clone()
        method = {"&=": "__iand__", "|=": "__ior__", "^=": "__ixor__",
                  "<<=": "__ilshift__", ">>=": "__irshift__"}[op]  # fmt: skip
        named = {"&=": "bitwise_and_", "|=": "bitwise_or_", "^=": "bitwise_xor_",
                 "<<=": "bitwise_left_shift_", ">>=": "bitwise_right_shift_"}[op]  # fmt: skip
        results = []
        for name in (method, named):
            target = x.clone()
            try:
                result = getattr(target, name)(y)
                results.append((result is target, target.tolist()))
            except (RuntimeError, NotImplementedError) as error:
                results.append((type(error).__name__, str(error), target.tolist()))
        return results

    assert run(gradienti) == run(torch)


def test_bitwise_operators_refuse_other_operands_as_python_does():
    for lib in (gradienti, torch):
        x = lib.tensor([1, 2])
        for bad in ("x", [1, 0], None):
            with pytest.raises(TypeError, match="unsupported operand type"):
                x & bad
        with pytest.raises(TypeError, match="unsupported operand type"):
            x << "a"


def test_numpy_scalars_are_numbers_on_either_side():
    def run(lib):
        x = lib.tensor([7.0, -7.0], requires_grad=True)
        outs = [x // np.int64(2), np.float64(7.5) % x, np.int64(7) // x, x % np.float32(2.5)]
        y = lib.tensor([7, -7])
        y //= np.int64(2)
        return [(o.grad_fn.name(), o.tolist()) for o in outs], y.tolist()

    assert run(gradienti) == run(torch)


def test_bitwise_under_vmap_against_torch_func():
    a = np.array([[12, -7, 5], [3, 0, -1]])

    def run(lib):
        fn = lambda x: ((x & 6) << 1) ^ (~x >> 1) | lib.bitwise_left_shift(x, 2)  # noqa: E731
        return lib.func.vmap(fn)(lib.tensor(a)).tolist()

    assert run(gradienti) == run(torch)


def test_explain_tells_an_op_without_derivative():
    x = gradienti.tensor(2.5, requires_grad=True)
    y = gradienti.tensor(0.7, requires_grad=True)
    text = " ".join(str(gradienti.explain(x // y + 7 % x)).split())  # (lines are wrapped)
    # (the first node backward reaches is the remainder)
    assert "backward() would fail on this graph: derivative for aten::remainder is not" in text
    assert "floor_divide(x0, x1)" in text and "remainder(7, x0)" in text


@pytest.mark.parametrize(
    "call",
    [
        "lib.floor_divide(a, b, out=c)", "lib.remainder(a, b, out=c)", "lib.fmod(a, b, out=c)",
        "lib.div(a, b, rounding_mode='floor', out=c)", "lib.floor_divide(i, j, out=ci)",
        "lib.floor_divide(a, b, out=ci)", "lib.bitwise_and(i, j, out=ci)",
        "lib.bitwise_not(i, out=ci)", "lib.bitwise_left_shift(i, j, out=ci)",
        "lib.bitwise_and(i, j, out=c)", "lib.xlogy(a.abs(), b, out=c)",
        "lib.logaddexp2(a, b, out=c)", "lib.lgamma(a, out=c)", "lib.polygamma(2, b, out=c)",
        "lib.erfinv(b / 4, out=c)",
    ],
)  # fmt: skip
def test_out(call):
    def run(lib):
        a, b = lib.tensor([7.0, -7.0]), lib.tensor([2.0, 2.0])
        i, j = lib.tensor([12, -7]), lib.tensor([3, 1])
        c, ci = lib.empty(2), lib.zeros(2, dtype=lib.int64)
        try:
            result = eval(call, {"lib": lib, "a": a, "b": b, "i": i, "j": j, "c": c, "ci": ci})  # noqa: S307
        except RuntimeError as error:
            return str(error)
        return result is c or result is ci, np.round(result.numpy(), 5).tolist(), str(result.dtype)

    assert run(gradienti) == run(torch)


IN_PLACE_FORMS = {
    "add_": lambda x, y: x.add_(y),
    "floor_divide_": lambda x, y: x.floor_divide_(y),
    "remainder_": lambda x, y: x.remainder_(y),
    "fmod_": lambda x, y: x.fmod_(y),
    "%=": lambda x, y: x.__imod__(y),
    "//=": lambda x, y: x.__ifloordiv__(y),
    "bitwise_and_": lambda x, y: x.bitwise_and_(y),
    "&=": lambda x, y: x.__iand__(y),
    "|=": lambda x, y: x.__ior__(y),
    "<<=": lambda x, y: x.__ilshift__(y),
    "bitwise_right_shift_": lambda x, y: x.bitwise_right_shift_(y),
}


@pytest.mark.parametrize("form", IN_PLACE_FORMS)
@pytest.mark.parametrize(
    ("dtype", "other_dtype", "other_values"),
    [
        ("uint8", "int64", [2, 300, 1]),  # integer into integer: PyTorch wraps into uint8
        ("uint8", "int8", [1, -1, 3]),
        ("int8", "uint8", [1, 200, 3]),
        ("int8", "float32", [2.0, 2.0, 2.0]),  # float into integer: the cast error first
        ("uint8", "float32", [2.0]),
        ("bool", "int8", [1, 2, 1]),  # non-bool into bool: the cast error
    ],
)
def test_in_place_result_cast_back_as_torch(form, dtype, other_dtype, other_values):
    def run(lib):
        x = lib.tensor([1, 2, 3], dtype=getattr(lib, dtype))
        form_result = IN_PLACE_FORMS[form](
            x, lib.tensor(other_values, dtype=getattr(lib, other_dtype))
        )
        assert form_result is x
        return x

    assert _result(gradienti, run) == _result(torch, run)


@pytest.mark.parametrize("form", ["bitwise_and_", "&=", "|=", "<<=", "bitwise_right_shift_"])
@pytest.mark.parametrize("dtype", ["int8", "uint8", "int64"])
def test_bitwise_in_place_with_a_float_number_fails_the_cast_as_torch(form, dtype):
    def run(lib):
        return IN_PLACE_FORMS[form](lib.tensor([1, 2, 3], dtype=getattr(lib, dtype)), 2.5)

    assert _result(gradienti, run) == _result(torch, run)


@pytest.mark.parametrize("number", [np.int64(3), np.float32(2.5), np.int8(-2)], ids=repr)
def test_fmod_of_a_numpy_scalar_and_a_tensor_names_its_type_as_torch(number):
    def run(lib):
        return lib.fmod(number, lib.tensor([1, 2, 3]))

    with pytest.raises(TypeError) as ours:
        run(gradienti)
    with pytest.raises(TypeError) as theirs:
        run(torch)
    assert str(ours.value) == str(theirs.value)
