"""The expression language of ``gradienti grad``: what it accepts, what it refuses and where."""

import math

import numpy as np
import pytest

import gradienti
from gradienti.expression import (
    CONSTANTS,
    FUNCTIONS,
    MAX_LENGTH,
    ExpressionError,
    check_variable_name,
    parse,
    parse_assignment,
    parse_value,
)


def value_of(text, **values):
    tensors = {k: gradienti.tensor(v, requires_grad=True) for k, v in values.items()}
    result = parse(text, variables=tensors).evaluate(tensors)
    return result.item() if isinstance(result, gradienti.Tensor) else result


def refusal(text, variables=("x", "y")):
    with pytest.raises(ExpressionError) as info:
        parse(text, variables=variables)
    return info.value


# ----------------------------------------------------------------------------- accepted


def test_lesson_value_and_variables():
    expression = parse("5*x**3 + 2*x**2 + 4*x + 8")
    assert expression.variables == ("x",)
    x = gradienti.tensor(2.0, requires_grad=True)
    y = expression.evaluate({"x": x})
    assert y.item() == 64.0
    y.backward()
    assert x.grad.item() == 72.0


def test_variables_in_order_of_first_use_constants_and_functions_excluded():
    assert parse("y*sin(x) + pi*y + e + z").variables == ("y", "x", "z")


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 + 2*3", 7.0),
        ("-2**2", -4.0),  # Python's precedence: -(2**2)
        ("(-2)**2", 4.0),
        ("+3 - -3", 6.0),
        ("2**3**2", 512.0),  # right-associative
        ("7/2", 3.5),
        ("1e-3*1000", 1.0),
        ("0x10 + 1_000", 1016.0),
        ("pi", math.pi),
        ("e", math.e),
        ("tau/2", math.pi),
        ("-inf", -math.inf),
    ],
)
def test_numbers_and_operators(text, expected):
    assert value_of(text) == expected


def test_numbers_are_floats_ieee_not_python_errors():
    assert value_of("1/0") == math.inf
    assert value_of("-1/0") == -math.inf
    assert math.isnan(value_of("0/0"))
    assert math.isnan(value_of("(-8)**(1/3)"))
    assert value_of("10**400") == math.inf  # never a big integer
    assert value_of("9**9**9**9") == math.inf  # float arithmetic: at once, never a hang
    assert value_of("1" + "0" * 400) == math.inf  # a 401-digit literal


def test_huge_exponent_on_a_tensor_is_inf():
    assert value_of("x**9**9**9", x=2.0) == math.inf


def test_leading_spaces_and_line_breaks_count_as_spaces():
    assert value_of("   x +\n 1", x=1.0) == 2.0


def test_functions_of_numbers_are_tensors_of_the_dtype():
    x = gradienti.tensor(1.0, dtype=gradienti.float64)
    y = parse("sin(1) + x").evaluate({"x": x}, dtype=gradienti.float64)
    assert y.dtype == gradienti.float64
    assert y.item() == pytest.approx(math.sin(1) + 1, abs=1e-15)
    assert parse("sqrt(4)").evaluate({}, dtype=gradienti.float64).dtype == gradienti.float64


def test_clamp_max_min_and_pow_forms():
    assert value_of("clamp(x, 0, 1)", x=2.0) == 1.0
    assert value_of("clamp(x, 3)", x=2.0) == 3.0
    assert value_of("clamp(x, y, 1)", x=-2.0, y=-1.0) == -1.0  # tensor bounds
    assert value_of("max(x, 0)", x=-2.0) == 0.0
    assert value_of("min(x, 0)", x=-2.0) == -2.0
    assert value_of("pow(2, 3)") == 8.0
    assert value_of("pow(x, 2)", x=3.0) == 9.0
    v = gradienti.tensor([1.0, 5.0, 3.0])
    assert parse("max(v) - min(v)").evaluate({"v": v}).item() == 4.0
    assert parse("dot(v, v)").evaluate({"v": v}).item() == 35.0


def test_vectors_broadcast_with_scalars():
    v = gradienti.tensor([1.0, 2.0, 3.0])
    x = gradienti.tensor(2.0)
    assert parse("v*x + 1").evaluate({"v": v, "x": x}).tolist() == [3.0, 5.0, 7.0]


@pytest.mark.parametrize("name", [n for n, f in FUNCTIONS.items() if f.min_args == 1])
def test_every_one_argument_function_matches_torch(name):
    torch = pytest.importorskip("torch")
    values = [0.25, 0.5, 0.75]
    x = gradienti.tensor(values, requires_grad=True)
    y = parse(f"{name}(x)").evaluate({"x": x})
    y.sum().backward()
    tx = torch.tensor(values, requires_grad=True)
    module = torch if hasattr(torch, name) else torch.nn.functional  # (softplus, mish, ...)
    ty = getattr(module, name)(tx)
    ty.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "text, torch_text",
    [
        ("atan2(x, y)", "torch.atan2(x, y)"),
        ("maximum(x, y)", "torch.maximum(x, y)"),
        ("minimum(x, y)", "torch.minimum(x, y)"),
        ("max(x, y)", "torch.maximum(x, y)"),
        ("min(x, y)", "torch.minimum(x, y)"),
        ("pow(x, y)", "torch.pow(x, y)"),
        ("dot(x, y)", "torch.dot(x, y)"),
        ("clamp(x, 0.3, 0.6)", "torch.clamp(x, 0.3, 0.6)"),
    ],
)
def test_two_argument_functions_match_torch(text, torch_text):
    torch = pytest.importorskip("torch")
    xs, ys = [0.25, 0.5, 0.75], [0.5, 0.4, 0.9]
    x = gradienti.tensor(xs, requires_grad=True)
    y = gradienti.tensor(ys, requires_grad=True)
    parse(text).evaluate({"x": x, "y": y}).sum().backward()
    tx = torch.tensor(xs, requires_grad=True)
    ty = torch.tensor(ys, requires_grad=True)
    eval(torch_text, {"torch": torch, "x": tx, "y": ty}).sum().backward()  # the oracle only
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)
    if ty.grad is not None:
        np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-6)


def test_function_table_and_constants():
    assert {"sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs"} <= set(
        FUNCTIONS
    )
    assert set(CONSTANTS) == {"pi", "e", "tau", "inf"}
    assert FUNCTIONS["atan2"].signature == "atan2(y, x)"
    assert FUNCTIONS["clamp"].signature == "clamp(x, lo[, hi])"
    assert FUNCTIONS["max"].signature == "max(x[, y])"


# ----------------------------------------------------------------------------- refused


@pytest.mark.parametrize(
    "text, message, column",
    [
        ("x.__class__", "attribute access ('.__class__') is not allowed", 2),
        ("__import__('os').system('ls')", "attribute access ('.system') is not allowed", 17),
        ("__import__('os')", "names starting with '_' are not allowed ('__import__')", 1),
        ("x + _y", "names starting with '_' are not allowed ('_y')", 5),
        (
            "().__class__.__bases__[0].__subclasses__()",
            "attribute access ('.__subclasses__') is not allowed",
            26,
        ),
        ("open('/etc/passwd')", "unknown function 'open'", 1),
        ("x + foo(y)", "unknown function 'foo'", 5),
        ("sinn(x)", "unknown function 'sinn' (did you mean 'sin'?)", 1),
        ("eval('1')", "unknown function 'eval'", 1),
        ("lambda: 1", "lambda is not allowed", 1),
        ("[1, 2]", "lists are not allowed", 1),
        ("(1, 2)", "tuples are not allowed", 1),
        ("x, y", "tuples are not allowed", 1),
        ("{1}", "sets are not allowed", 1),
        ("{1: 2}", "dicts are not allowed", 1),
        ("[t for t in x]", "comprehensions are not allowed", 1),
        ("sum(t for t in x)", "comprehensions are not allowed", 4),
        ('"a"', "strings are not allowed", 1),
        ("x + b'a'", "bytes are not allowed", 5),
        ("f'{x}'", "f-strings are not allowed", 1),
        ("x if x else 1", "conditional expressions (a if c else b) are not allowed", 1),
        ("x < 1", "comparisons are not allowed", 1),
        ("x and y", "'and' and 'or' are not allowed", 1),
        ("not x", "'not' is not allowed", 1),
        ("~x", "'~' is not allowed", 1),
        ("x // 2", "'//' is not allowed (use /)", 3),
        ("x % 2", "'%' is not allowed", 3),
        ("x @ y", "'@' is not allowed", 3),
        ("(x)^2", "'^' is not allowed (use ** for powers)", 4),
        ("x << 1", "'<<' is not allowed", 3),
        ("x[0]", "indexing with [...] is not allowed", 2),
        ("(y := 1)", "assignment expressions (:=) are not allowed", 2),
        ("sin(*x)", "'*' unpacking is not allowed", 5),
        ("sin(x=1)", "sin() takes positional arguments only", 5),
        ("sin(x, y)", "sin() takes 1 argument (2 given)", 1),
        ("atan2(x)", "atan2() takes 2 arguments (1 given)", 1),
        ("clamp(x)", "clamp() takes 2 to 3 arguments (1 given)", 1),
        ("2 * sin", "'sin' is a function: call it as sin(...)", 5),
        ("x(2)", "'x' is not a function (write x*(...) to multiply)", 1),
        ("pi(2)", "'pi' is not a function (write pi*(...) to multiply)", 1),
        ("2(x)", "only functions can be called (write '*' to multiply)", 1),
        ("sin(x)(y)", "only functions can be called", 1),
        ("1j", "complex numbers are not allowed", 1),
        ("True", "True and False are not allowed (use 1 and 0)", 1),
        ("None", "None is not allowed", 1),
        ("...", "'...' is not allowed", 1),
        ("x + z", "variable 'z' has no value (give z=...)", 5),
        ("   x + z", "variable 'z' has no value (give z=...)", 8),  # columns as typed
        ("é + z", "variable 'é' has no value (give é=...)", 1),
    ],
)
def test_refused_with_what_and_where(text, message, column):
    error = refusal(text)
    assert error.message.startswith(message)
    assert error.column == column
    assert str(error) == f"{error.message} at column {column}"


def test_columns_count_characters_not_bytes():
    error = refusal("é + ü + foo(x)", variables=["é", "ü", "x"])
    assert str(error) == "unknown function 'foo' (did you mean 'floor'?) at column 9"


@pytest.mark.parametrize(
    "text, message, column",
    [
        ("x +* 2", "syntax error: invalid syntax", 4),
        ("  x +* 2", "syntax error: invalid syntax", 6),
        ("sin(x", "syntax error: '(' was never closed", 4),
        ("x y", "syntax error: invalid syntax", 3),
        ("1 +", "syntax error: invalid syntax at the end of the expression", None),
    ],
)
def test_syntax_errors_say_where(text, message, column):
    error = refusal(text)
    assert error.message.startswith(message)
    assert error.column == column


def test_empty_too_long_too_deep_and_too_many_digits():
    assert str(refusal("")) == "the expression is empty"
    assert str(refusal("  \n ")) == "the expression is empty"
    long = "+".join(["x"] * (MAX_LENGTH // 2 + 1))
    assert str(refusal(long)) == (
        f"the expression is too long ({len(long)} characters; the limit is {MAX_LENGTH})"
    )
    assert str(refusal("-" * 9000 + "x")) == "the expression is nested too deeply"
    assert str(refusal("(" * 300 + "x" + ")" * 300)) == "the expression is nested too deeply"
    assert str(refusal("9" * 5000)) == "a number in the expression has too many digits"
    assert str(refusal("x\x00")).startswith("syntax error: ")


def test_deep_but_allowed_expression_evaluates_without_recursion():
    # 2,000 nested additions: the checker and the evaluator walk with a stack of their own.
    text = "+".join(["x"] * 2000)
    assert value_of(text, x=1.0) == 2000.0


def test_the_text_is_never_run(monkeypatch):
    ran = []
    monkeypatch.setattr("builtins.eval", lambda *a, **k: ran.append(a))
    monkeypatch.setattr("builtins.exec", lambda *a, **k: ran.append(a))
    assert value_of("sin(x)**2 + cos(x)**2", x=0.3) == pytest.approx(1.0)
    for text in ["__import__('os').system('echo hi')", "open('x')", "x.__class__"]:
        refusal(text)
    assert ran == []


def test_evaluate_needs_every_variable_and_reports_op_errors_with_a_column():
    expression = parse("x + y")
    with pytest.raises(ExpressionError, match=r"variable 'y' has no value \(give y=\.\.\.\)"):
        expression.evaluate({"x": gradienti.tensor(1.0)})
    values = {"x": gradienti.tensor([1.0, 2.0]), "y": gradienti.tensor([1.0, 2.0, 3.0])}
    with pytest.raises(ExpressionError) as info:
        parse("1 + sin(x*y)").evaluate(values)
    assert info.value.column == 9
    assert str(info.value).startswith("at column 9, x*y: The size of tensor a (2) must match")


# ----------------------------------------------------------------------------- NAME=VALUE


def test_values():
    assert parse_value("2") == 2.0
    assert parse_value("-1.5") == -1.5
    assert parse_value("1e-3") == 0.001
    assert parse_value(" +.5 ") == 0.5
    assert parse_value("inf") == math.inf
    assert parse_value("1,2,3") == [1.0, 2.0, 3.0]
    assert parse_value("[1, 2.5]") == [1.0, 2.5]
    assert parse_value("[4]") == [4.0]
    assert parse_assignment("x=2") == ("x", 2.0)
    assert parse_assignment(" w = 1,-2 ") == ("w", [1.0, -2.0])


@pytest.mark.parametrize(
    "text, message",
    [
        ("x", "'x' is not NAME=VALUE (e.g. x=2 or v=1,2,3)"),
        ("x=", "'x=' is not NAME=VALUE (e.g. x=2 or v=1,2,3)"),
        ("=2", "'=2' is not NAME=VALUE (e.g. x=2 or v=1,2,3)"),
        ("x=abc", "in 'x=abc': 'abc' is not a number"),
        ("x=1..2", "in 'x=1..2': '1..2' is not a number"),
        ("x=0x10", "in 'x=0x10': '0x10' is not a number"),
        ("x=1,,2", "in 'x=1,,2': '1,,2' has an empty entry; write a vector as 1,2,3"),
        ("x=1,", "in 'x=1,': '1,' has an empty entry; write a vector as 1,2,3"),
        ("2x=1", "'2x' is not a valid variable name"),
        ("x.y=1", "'x.y' is not a valid variable name"),
        ("lambda=1", "'lambda' is a Python keyword and cannot be a variable name"),
        ("_x=1", "variable names cannot start with '_' ('_x')"),
        ("sin=1", "'sin' is a function and cannot be a variable name"),
        ("pi=3", "'pi' is a constant and cannot be a variable name"),
    ],
)
def test_bad_assignments(text, message):
    with pytest.raises(ExpressionError) as info:
        parse_assignment(text)
    assert str(info.value) == message


def test_variable_names_are_normalised_as_python_does():
    name = check_variable_name("\ufb01")  # the 'fi' ligature: Python reads it as "fi"
    assert name == "fi"
    x = gradienti.tensor(2.0)
    assert parse("\ufb01 * 3", variables=[name]).evaluate({name: x}).item() == 6.0
