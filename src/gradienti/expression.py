"""A safe calculator language for ``gradienti grad``: parse, check and evaluate an expression.

The text is parsed with ``ast.parse(text, mode="eval")`` and nothing of Python runs on it:
``parse`` walks the tree and accepts only a whitelist, and ``Expression.evaluate`` walks the
same tree and calls gradienti's functions. The language:

* numbers (``2``, ``-1.5``, ``1e-3``, ``0x10``); every number is a float, so ``9**9**9**9`` is
  ``inf`` at once (float arithmetic), never a huge Python integer;
* the operators ``+ - * / **``, unary ``-`` and ``+``, parentheses;
* names: the variables that are given values, the constants in ``CONSTANTS`` (``pi``, ``e``,
  ``tau``, ``inf``), and calls ``f(a, b)`` of the functions in ``FUNCTIONS``, with positional
  arguments only.

Everything else (attributes, subscripts, lambdas, comprehensions, comparisons, ``and``/``or``,
``... if ... else ...``, strings, f-strings, keyword arguments, names starting with ``_``...)
is refused with an ``ExpressionError`` that says what and where (1-based column). The walks
are iterative, so a deeply nested expression cannot overflow the Python stack; texts longer
than ``MAX_LENGTH`` characters are refused before parsing.
"""

from __future__ import annotations

import ast
import difflib
import keyword
import math
import re
import unicodedata
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .beginner_hints import pytorch_text
from .expression_functions import FUNCTIONS, binary_operator

MAX_LENGTH = 10_000

CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "tau": math.tau, "inf": math.inf}


class ExpressionError(ValueError):
    """What is wrong with an expression (``message``) and where (1-based ``column``, or None)."""

    def __init__(self, message: str, column: int | None = None, *, column_in_message=False):
        super().__init__(message, column)
        self.message = message
        self.column = column
        self._column_in_message = column_in_message

    def __str__(self) -> str:
        if self.column is None or self._column_in_message:
            return self.message
        return f"{self.message} at column {self.column}"


# ----------------------------------------------------------------------------- NAME=VALUE

_NUMBER = re.compile(r"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)", re.I)


def check_variable_name(name: str) -> str:
    """The name as the parser sees it (NFKC-normalised), or an ExpressionError."""
    normal = unicodedata.normalize("NFKC", name)
    if not normal.isidentifier():
        raise ExpressionError(f"{name!r} is not a valid variable name")
    if keyword.iskeyword(normal):
        raise ExpressionError(f"{name!r} is a Python keyword and cannot be a variable name")
    if normal.startswith("_"):
        raise ExpressionError(f"variable names cannot start with '_' ({name!r})")
    if normal in FUNCTIONS:
        raise ExpressionError(f"{name!r} is a function and cannot be a variable name")
    if normal in CONSTANTS:
        raise ExpressionError(f"{name!r} is a constant and cannot be a variable name")
    return normal


def parse_number(text: str) -> float:
    """One number: ``2``, ``-1.5``, ``1e-3``, ``inf``, ``nan``."""
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        raise ExpressionError(f"{text!r} is not a number")
    return float(stripped)


def parse_value(text: str) -> float | list[float]:
    """A number, or a vector written ``1,2,3`` (brackets optional: ``[1,2,3]``)."""
    body = text.strip()
    bracketed = body.startswith("[") and body.endswith("]")
    if bracketed:
        body = body[1:-1]
    if "," not in body and not bracketed:
        return parse_number(body)
    items = body.split(",")
    if any(not item.strip() for item in items):
        raise ExpressionError(f"{text!r} has an empty entry; write a vector as 1,2,3")
    return [parse_number(item) for item in items]


def parse_assignment(text: str) -> tuple[str, float | list[float]]:
    """``NAME=VALUE`` -> (name, value)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise ExpressionError(f"{text!r} is not NAME=VALUE (e.g. x=2 or v=1,2,3)")
    name = check_variable_name(name.strip())
    try:
        return name, parse_value(value)
    except ExpressionError as error:
        raise ExpressionError(f"in {text!r}: {error.message}") from None


# ----------------------------------------------------------------------------- parsing

_OPERATORS = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.Pow: "**",
}
_REFUSED_OPERATORS = {
    ast.FloorDiv: "'//' is not allowed (use /)",
    ast.Mod: "'%' is not allowed",
    ast.MatMult: "'@' is not allowed (use dot(x, y))",
    ast.LShift: "'<<' is not allowed",
    ast.RShift: "'>>' is not allowed",
    ast.BitOr: "'|' is not allowed",
    ast.BitXor: "'^' is not allowed (use ** for powers)",
    ast.BitAnd: "'&' is not allowed",
}
_OPERATOR_TEXT = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitXor: "^",
    ast.BitAnd: "&",
}
_REFUSED_NODES = {
    ast.Subscript: "indexing with [...] is not allowed",
    ast.Lambda: "lambda is not allowed",
    ast.List: "lists are not allowed (give a vector as a variable: v=1,2,3)",
    ast.Tuple: "tuples are not allowed (one expression only)",
    ast.Set: "sets are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and' and 'or' are not allowed",
    ast.IfExp: "conditional expressions (a if c else b) are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
    ast.Slice: "slices are not allowed",
}


def fold(root, combine):
    """``combine(node, its children's results)`` over the tree in post-order, without recursion
    (deep nesting cannot overflow the stack): the root's result."""
    results: list = []
    stack: list = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        children = _children(node)
        if children and not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(children))
            continue
        args = results[len(results) - len(children) :] if children else []
        del results[len(results) - len(args) :]
        results.append(combine(node, args))
    (value,) = results
    return value


@dataclass(frozen=True)
class Expression:
    """A checked expression: its text, its tree, and its variables in order of first use."""

    text: str
    tree: ast.Expression
    variables: tuple[str, ...]

    def evaluate(self, values: Mapping[str, object], dtype=None):
        """The value, computed with gradienti: a Tensor, or a float if no tensor is involved.

        ``values`` maps each variable to a Tensor or a number; an error in an operation (say
        vectors of different lengths) is an ExpressionError at the operation's column.
        """
        missing = [name for name in self.variables if name not in values]
        if missing:
            raise ExpressionError(f"variable {missing[0]!r} has no value (give {missing[0]}=...)")

        def apply(node, args):
            try:
                return self._apply(node, args, values, dtype)
            except ExpressionError:
                raise
            except (ArithmeticError, RuntimeError, TypeError, ValueError) as error:
                what = ast.get_source_segment(self.text, node) or type(node).__name__
                if len(what) > 40:
                    what = what[:37] + "..."
                column = self._column(node)
                raise ExpressionError(  # the column before the library's words
                    f"at column {column}, {what}: {_one_line(error)}",
                    column,
                    column_in_message=True,
                ) from error

        return fold(self.tree.body, apply)

    def _apply(self, node, args, values, dtype):
        if isinstance(node, ast.Constant):
            return _number(node.value)
        if isinstance(node, ast.Name):
            return CONSTANTS[node.id] if node.id in CONSTANTS else values[node.id]
        if isinstance(node, ast.UnaryOp):
            return -args[0] if isinstance(node.op, ast.USub) else args[0]
        if isinstance(node, ast.BinOp):
            return binary_operator(node.op, args[0], args[1], dtype)
        if isinstance(node, ast.Call):
            return FUNCTIONS[node.func.id].call(args, dtype)
        raise AssertionError(f"unchecked node {type(node).__name__}")  # pragma: no cover

    def _column(self, node) -> int:
        return _char_column(self.text, node.col_offset)


def _children(node) -> list:
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return list(node.args)
    return []


def _number(value) -> float:
    """A literal as a float: an integer too large for a float is inf (as in float arithmetic)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf


def _one_line(error: BaseException) -> str:
    # PyTorch's text only: a beginner hint's lines (beginner_hints) do not fit one line.
    text = " ".join(pytorch_text(str(error)).split())
    return text or type(error).__name__


def _char_column(text: str, byte_offset: int) -> int:
    """1-based column in characters of a UTF-8 byte offset (ast positions are in bytes)."""
    return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "ignore")) + 1


def parse(text: str, variables: Iterable[str] | None = None) -> Expression:
    """Parse and check ``text``; every name must be a constant, a function called by name, or
    one of ``variables`` (any other name is a variable when ``variables`` is None).

    The expression is one line: line breaks and tabs count as spaces.
    """
    if not isinstance(text, str):
        raise TypeError(f"the expression must be a str, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is too long ({len(text)} characters; the limit is {MAX_LENGTH})"
        )
    # One line: columns are character positions + 1 in what the user typed.
    flat = re.sub(r"[\r\n\t\f\v]", " ", text)
    source = flat.lstrip(" ")
    indent = len(flat) - len(source)
    if not source.strip():
        raise ExpressionError("the expression is empty")
    tree = _ast_parse(source, indent)
    checked = _Checker(flat, source, indent, variables).check(tree)
    # Positions relative to the text as typed (the leading spaces put back).
    return Expression(text=flat, tree=_shift(tree, indent), variables=checked)


def _ast_parse(source: str, indent: int) -> ast.Expression:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarnings would print to stderr
            return ast.parse(source, mode="eval")
    except SyntaxError as error:
        message = error.msg or "invalid syntax"
        if "Exceeds the limit" in message:  # a literal of thousands of digits
            raise ExpressionError("a number in the expression has too many digits") from None
        if "too many nested parentheses" in message:
            raise ExpressionError("the expression is nested too deeply") from None
        offset = error.offset
        if offset is None:
            raise ExpressionError(f"syntax error: {message}") from None
        if error.lineno not in (None, 1) or offset < 1 or offset > len(source):
            raise ExpressionError(f"syntax error: {message} at the end of the expression") from None
        raise ExpressionError(f"syntax error: {message}", offset + indent) from None
    except (RecursionError, MemoryError):  # CPython's parser stack (e.g. thousands of '-')
        raise ExpressionError("the expression is nested too deeply") from None
    except ValueError as error:
        raise ExpressionError(f"syntax error: {_one_line(error)}") from None


def _shift(tree: ast.Expression, indent: int) -> ast.Expression:
    if indent:
        for node in ast.walk(tree):
            for field in ("col_offset", "end_col_offset"):
                if getattr(node, field, None) is not None:
                    setattr(node, field, getattr(node, field) + indent)
    return tree


class _Checker:
    """The whitelist walk: pre-order, left to right, iterative; the first problem is raised."""

    def __init__(self, flat: str, source: str, indent: int, variables: Iterable[str] | None):
        self.flat = flat
        self.source = source
        self.indent = indent
        self.variables = None if variables is None else set(variables)
        self.found: dict[str, None] = {}

    def column(self, byte_offset: int) -> int:
        return _char_column(self.source, byte_offset) + self.indent

    def fail(self, message: str, node=None, byte_offset: int | None = None):
        if byte_offset is None and node is not None:
            byte_offset = node.col_offset
        column = None if byte_offset is None else self.column(byte_offset)
        raise ExpressionError(message, column)

    def symbol_offset(self, after, before, symbol: str) -> int:
        """Byte offset of ``symbol`` between two nodes (an operator, a '.' or a '[')."""
        data = self.source.encode("utf-8")
        start = after.end_col_offset if after.end_lineno == 1 else 0
        end = before.col_offset if before is not None and before.lineno == 1 else len(data)
        found = data.find(symbol.encode("utf-8"), start, max(end, start))
        return found if found >= 0 else start

    def check(self, tree) -> tuple[str, ...]:
        if not isinstance(tree, ast.Expression):  # pragma: no cover - mode="eval" gives one
            self.fail("not an expression")
        stack = [tree.body]
        while stack:
            node = stack.pop()
            stack.extend(reversed(self.visit(node)))
        return tuple(self.found)

    def visit(self, node) -> list:
        """Check one node; return the children to check next."""
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            if op not in _OPERATORS:
                where = self.symbol_offset(node.left, node.right, _OPERATOR_TEXT.get(op, ""))
                self.fail(_REFUSED_OPERATORS.get(op, f"{op.__name__} is not allowed"), None, where)
            return [node.left, node.right]
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                self.fail("'not' is not allowed", node)
            if isinstance(node.op, ast.Invert):
                self.fail("'~' is not allowed", node)
            return [node.operand]
        if isinstance(node, ast.Constant):
            self.check_constant(node)
            return []
        if isinstance(node, ast.Name):
            self.check_name(node)
            return []
        if isinstance(node, ast.Call):
            return self.check_call(node)
        if isinstance(node, ast.Attribute):
            where = self.symbol_offset(node.value, None, ".")
            self.fail(f"attribute access ('.{node.attr}') is not allowed", None, where)
        if isinstance(node, ast.Subscript):
            where = self.symbol_offset(node.value, node.slice, "[")
            self.fail(_REFUSED_NODES[ast.Subscript], None, where)
        message = _REFUSED_NODES.get(type(node), f"{type(node).__name__} is not allowed")
        self.fail(message, node)
        return []  # pragma: no cover

    def check_constant(self, node: ast.Constant) -> None:
        value = node.value
        if type(value) in (int, float):
            return
        if isinstance(value, bool):
            self.fail("True and False are not allowed (use 1 and 0)", node)
        if isinstance(value, complex):
            self.fail("complex numbers are not allowed", node)
        if isinstance(value, str):
            self.fail("strings are not allowed", node)
        if isinstance(value, bytes):
            self.fail("bytes are not allowed", node)
        if value is None:
            self.fail("None is not allowed", node)
        if value is Ellipsis:
            self.fail("'...' is not allowed", node)
        self.fail(f"the constant {type(value).__name__} is not allowed", node)

    def check_name(self, node: ast.Name) -> None:
        name = node.id
        if name.startswith("_"):
            self.fail(f"names starting with '_' are not allowed ({name!r})", node)
        if name in CONSTANTS:
            return
        if name in FUNCTIONS:
            self.fail(f"{name!r} is a function: call it as {name}(...)", node)
        if self.variables is not None and name not in self.variables:
            self.fail(f"variable {name!r} has no value (give {name}=...)", node)
        self.found.setdefault(name, None)

    def check_call(self, node: ast.Call) -> list:
        func = node.func
        if not isinstance(func, ast.Name):
            if isinstance(func, ast.Attribute | ast.Subscript | ast.Lambda):
                return [func]  # always refused when it is visited, with its own message
            self.fail("only functions can be called (write '*' to multiply)", node)
        name = func.id
        if name.startswith("_"):
            self.fail(f"names starting with '_' are not allowed ({name!r})", func)
        if name not in FUNCTIONS:
            if name in CONSTANTS or (self.variables is not None and name in self.variables):
                self.fail(f"{name!r} is not a function (write {name}*(...) to multiply)", func)
            close = difflib.get_close_matches(name, FUNCTIONS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            self.fail(f"unknown function {name!r}{hint}", func)
        if node.keywords:
            self.fail(f"{name}() takes positional arguments only", node.keywords[0])
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.fail(_REFUSED_NODES[ast.Starred], arg)
        function = FUNCTIONS[name]
        given = len(node.args)
        if not function.min_args <= given <= function.max_args:
            if function.min_args == function.max_args:
                wanted = f"{function.min_args} argument" + "s" * (function.min_args != 1)
            else:
                wanted = f"{function.min_args} to {function.max_args} arguments"
            self.fail(f"{name}() takes {wanted} ({given} given)", node)
        return list(node.args)
