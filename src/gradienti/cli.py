"""The ``gradienti`` command.

* ``gradienti demo`` runs the lesson (y = 5x^3 + 2x^2 + 4x + 8 at x = 2), explains its backward
  pass and writes the picture of its graph: ``gradienti_demo.svg`` in the current directory, or
  where ``--out`` says (a file, or an existing directory to write gradienti_demo.svg into).
* ``gradienti grad EXPR NAME=VALUE ...`` prints the value of an expression and its partial
  derivatives (``--order 2``: the second derivatives too). The expression is parsed by
  ``gradienti.expression``, which runs nothing of Python on it.

Errors in what the user typed are one line on stderr and exit status 2 (argparse's usage errors
too); a missing optional part (the picture) or a file that cannot be written, exit status 1. When
the reader of stdout goes away (``gradienti grad ... | head``), the command ends quietly with
status 1, as Python's documentation of SIGPIPE recommends.

Files are written only where the user said, or in the current directory; no directory is ever
created (a missing one is an error before anything is computed, as ``torch.save``'s "Parent
directory ... does not exist."). Everything printed goes through ``_text_encoding``'s
``FittingWriter``: on a stream that cannot encode the explanation's symbols (a cp1252 or ASCII
terminal or file), the text is spelled in ASCII (``dy/dx``, ``x^3``) instead of failing.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import stat
import sys

import gradienti

from ._text_encoding import FittingWriter
from .backend import xp
from .beginner_hints import pytorch_text
from .cli_budget import check_budget, estimate, forward_explained_steps
from .cli_help import GRAD_EPILOG as GRAD_EPILOG
from .cli_help import grad_epilog
from .cli_page import (
    PAGE_PATH_HELP,
    PageFailure,
    check_page_size,
    checked_output_path,
    page_path,
    write_page,
)
from .expression import ExpressionError, parse, parse_assignment

DEMO_PICTURE = "gradienti_demo.svg"
DEMO_PAGE = "gradienti_demo.html"
MAX_ELEMENTS = 100_000  # per vector variable
MAX_HESSIAN_ELEMENTS = 1_000  # --order 2 / --mode forward: one more pass per element of them
PICTURE_FORMATS = ("svg", "png", "pdf", "dot", "gv")
_ASSIGNMENT = re.compile(r"\s*\w+\s*=[^=].*")  # x=2 (not x==2)


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line (what is wrong, where the help is), status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


class _Failure(Exception):
    """Ends a command with one line on stderr and an exit status."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


# ----------------------------------------------------------------------------- optional parts


def _optional(module_name: str, attribute: str):
    """``module.attribute`` if the module is there, else None (a module that is there but
    fails to import is a bug and raises)."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is not None and module_name.startswith(error.name):
            return None
        raise
    return getattr(module, attribute, None)


def _need(module_name: str, attribute: str, option: str):
    function = _optional(module_name, attribute)
    if function is None:
        raise _Failure(
            f"{option} needs {module_name}.{attribute}, which this installation does not have",
            status=1,
        )
    return function


PICTURE_PATH_HELP = (
    "the suffix picks the format: " + ", ".join("." + f for f in PICTURE_FORMATS) + "; "
    "PATH is written as given, and only a PATH without a suffix gets .svg added (the output "
    "says so). An existing special file (/dev/null, /dev/stdout, a named pipe) is written "
    "itself, as SVG if it has no suffix: nothing is ever created beside it. A relative PATH is "
    "relative to the current directory; its directory must exist (none is created)"
)


def _picture_path(text: str, option: str, default_name: str = "") -> tuple[str, str, str]:
    """The file to write, its format, and a note for the output when a suffix was added.

    Exactly ``text``, in the format of its suffix. Without a suffix, ``text.svg``; but a special
    file that exists (a device such as /dev/null, a named pipe) is written itself, as SVG. With a
    ``default_name``, a directory (that exists) gets the picture under that name. Checked before
    anything is computed: a directory that does not exist is an error, never created.
    """
    text = checked_output_path(text, option, default_name, "picture")
    suffix = os.path.splitext(text)[1]
    fmt = suffix[1:].lower()
    if fmt and fmt not in PICTURE_FORMATS:
        raise _Failure(
            f"cannot write a picture as {suffix!r} ({text}); use one of "
            + ", ".join("." + f for f in PICTURE_FORMATS)
        )
    if fmt:
        return text, fmt, ""
    if _is_special_file(text):
        return text, "svg", ""
    return text + ".svg", "svg", " (the path had no suffix: .svg added)"


def _is_special_file(path: str) -> bool:
    """An existing file that is neither a regular file nor a directory (/dev/null, a FIFO)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def _write_picture(dot, path: str, fmt: str) -> None:
    """Draw the picture (or the DOT text for .dot and .gv) and write it to exactly ``path``.

    Drawn first, so that a drawing that fails (png without Graphviz) leaves no file behind.
    """
    try:
        data = dot.pipe(format=fmt)
        sys.stdout.flush()  # for /dev/stdout: after the text printed so far
        with open(path, "wb") as file:
            file.write(data)
    except BrokenPipeError:  # /dev/stdout with its reader gone: main ends quietly
        raise
    except (OSError, RuntimeError, ValueError) as error:
        raise _Failure(f"cannot write the picture {path}: {_one_line(error)}", status=1) from None


def _one_line(error: BaseException) -> str:
    # PyTorch's text only: a beginner hint's lines (beginner_hints) do not fit one line.
    return " ".join(pytorch_text(str(error)).split()) or type(error).__name__


# ----------------------------------------------------------------------------- demo


def _demo(args: argparse.Namespace) -> int:
    """The lesson "Gradienti in PyTorch", with gradienti in place of torch."""
    output = args.out if args.out is not None else DEMO_PICTURE
    picture = _picture_path(output, "--out", default_name=DEMO_PICTURE)
    page = None if args.html is None else page_path(args.html, default_name=DEMO_PAGE)
    torch = gradienti  # from here on, the lesson's code as written for PyTorch
    tensor = torch.tensor(2.0, requires_grad=True)
    print(tensor)
    x = torch.tensor(2.0, requires_grad=True)
    y = 5 * x**3 + 2 * x**2 + 4 * x + 8
    print(f"Function output: {y}")
    y.backward(retain_graph=True)  # retained: the explanation and the picture show the values
    print(f"Gradient of x: {x.grad}")

    explain = _optional("gradienti.viz.explain", "explain")
    make_dot = _optional("gradienti.viz.dot", "make_dot")
    if explain is not None:
        print()
        print(explain(y, names={"x": x, "y": y}))
    if make_dot is not None:
        path, fmt, note = picture
        dot = make_dot(y, params={"x": x}, show_values=True, show_grads=True)
        print()
        _write_picture(dot, path, fmt)
        print(f"The picture of the graph: {path}{note}")
    if page is not None:
        show = _need("gradienti.viz.interactive", "show", "--html")
        write_page(show, y, page, params={"x": x}, names={"y": y}, mode="backward")
    missing = [
        what
        for what, function in (("explanation", explain), ("picture", make_dot))
        if function is None
    ]
    if missing:
        print(
            f"gradienti demo: the {' and the '.join(missing)} need gradienti.viz, "
            "which this installation does not have",
            file=sys.stderr,
        )
    return 0


# ----------------------------------------------------------------------------- grad


def _grad(args: argparse.Namespace) -> int:
    if args.expression.startswith("--") and args.expression[2:3].isalpha():
        raise _Failure(f"unknown option {args.expression.split('=')[0]!r}")
    if _ASSIGNMENT.fullmatch(args.expression):
        raise _Failure(
            f"{args.expression!r} is a NAME=VALUE; the expression comes first: "
            "gradienti grad EXPR NAME=VALUE ..."
        )
    try:
        assignments = []
        for text in args.values:
            if text.startswith("--") and text[2:3].isalpha():
                raise ExpressionError(f"unknown option {text.split('=')[0]!r}")
            name, value = parse_assignment(text)
            if any(name == given for given, _, _ in assignments):
                raise ExpressionError(f"variable {name!r} is given twice")
            assignments.append((name, value, text.partition("=")[2].strip()))
        expression = parse(args.expression, variables=[name for name, _, _ in assignments])
    except ExpressionError as error:
        raise _Failure(str(error)) from None

    sizes = {name: len(value) if isinstance(value, list) else 1 for name, value, _ in assignments}
    for name, size in sizes.items():
        if size > MAX_ELEMENTS:
            raise _Failure(f"variable {name!r} has {size} elements; the limit is {MAX_ELEMENTS}")
    if args.mode == "forward" and args.order == 2:
        raise _Failure("--mode forward computes first derivatives; --order 2 needs --mode reverse")
    if args.mode == "forward" and sum(sizes.values()) > MAX_HESSIAN_ELEMENTS:
        raise _Failure(
            f"--mode forward takes at most {MAX_HESSIAN_ELEMENTS} elements in all the variables "
            f"(one forward pass each); these have {sum(sizes.values())}"
        )
    if args.order == 2 and sum(sizes.values()) > MAX_HESSIAN_ELEMENTS:
        raise _Failure(
            f"--order 2 takes at most {MAX_HESSIAN_ELEMENTS} elements in all the variables "
            f"(one backward pass each); these have {sum(sizes.values())}"
        )
    forward = args.mode == "forward"
    try:  # before anything is computed: the cost follows from the tree and the sizes
        check_budget(
            estimate(expression, sizes),
            order=args.order,
            hessian_rows=sum(sizes[name] for name in expression.variables),
            explain=args.explain,
            forward_passes=sum(sizes.values()) if forward else 0,  # (_forward_derivatives)
            forward_steps=forward_explained_steps(expression, sizes) if forward else 0,
        )
    except ExpressionError as error:
        raise _Failure(str(error)) from None
    explain = _need("gradienti.viz.explain", "explain", "--explain") if args.explain else None
    graph = args.graph is not None
    make_dot = _need("gradienti.viz.dot", "make_dot", "--graph") if graph else None
    picture = _picture_path(args.graph, "--graph") if graph else None
    page = None if args.html is None else page_path(args.html)
    if page is not None:
        steps = forward_explained_steps(expression, sizes) if forward else 0
        check_page_size(estimate(expression, sizes), steps)
    show = _need("gradienti.viz.interactive", "show", "--html") if page is not None else None

    dtype = getattr(gradienti, args.dtype)
    variables = {
        name: gradienti.tensor(value, dtype=dtype, requires_grad=True)
        for name, value, _ in assignments
    }
    try:
        value = expression.evaluate(variables, dtype=dtype)
    except ExpressionError as error:
        raise _Failure(str(error)) from None
    if not isinstance(value, gradienti.Tensor):  # no variable in it: a plain number
        value = gradienti.tensor(value, dtype=dtype)

    shown = ", ".join(_shown(name, v, raw) for name, v, raw in assignments)
    print(f"f = {expression.text.strip()}")
    _print_value(f"f({shown})", value)
    if value.dim() == 0:
        total, df = value, "df"
    else:
        total, df = value.sum(), "d(sum f)"
        print(f"f is not a scalar: the derivatives are those of sum(f) = {_format(total)}")

    names = list(variables)
    inputs = list(variables.values())
    grads = [None] * len(inputs)
    if inputs and total.requires_grad:
        grads = list(
            gradienti.autograd.grad(
                total, inputs, retain_graph=True, create_graph=args.order == 2, allow_unused=True
            )
        )
    first = [gradienti.zeros_like(x) if g is None else g.detach() for x, g in zip(inputs, grads)]
    if args.mode == "forward":
        first = _forward_derivatives(expression, variables, dtype)
    for name, g in zip(names, first):
        _print_value(f"{df}/d{name}", g)
    if args.mode == "forward" and inputs:
        passes = sum(x.numel() for x in inputs)
        print(
            f"(forward mode: {passes} forward pass{'es' if passes != 1 else ''}, one per element "
            "of the variables; reverse mode: 1 backward pass)"
        )

    if args.order == 2:
        second = _second_derivatives(inputs, grads)
        d2f = "d2f" if df == "df" else "d2(sum f)"
        for i, a in enumerate(names):
            for j in range(i, len(names)):
                wrt = f"d{a}^2" if i == j else f"d{a} d{names[j]}"
                _print_value(f"{d2f}/{wrt}", second[i][j])

    if explain is not None and not total.requires_grad:
        print()
        print("Nothing to explain: f does not depend on the variables, so there is no graph.")
    elif explain is not None:
        print()
        named = {**variables, "f": value}
        if total is not value:
            named["sum(f)"] = total
        modes = {"mode": "forward"} if args.mode == "forward" else {}
        print(explain(total, names=named, **modes))
    if make_dot is not None:
        for x, g in zip(inputs, first):
            x.grad = g  # so that the picture shows the gradients (after explain: it reads .grad)
        dot = make_dot(total, params=variables, show_values=True, show_grads=True)
        if explain is not None:
            print()
        path, fmt, note = picture
        _write_picture(dot, path, fmt)
        print(f"The picture of the graph: {path}{note}")
    if page is not None and not total.requires_grad:
        raise _Failure("--html: f does not depend on the variables, so there is no graph")
    if page is not None:
        named = {**variables, "f": value}
        if total is not value:
            named["sum(f)"] = total
        mode = "forward" if args.mode == "forward" else "backward"
        write_page(show, total, page, params=variables, names=named, mode=mode)
    return 0


def _forward_derivatives(expression, variables: dict, dtype) -> list:
    """The derivatives of sum(f) by forward mode: per element of each variable, one forward
    pass with that element's tangent 1 (every other 0); the tangent of sum(f) is the
    derivative."""
    forward_ad = gradienti.autograd.forward_ad
    plain = {name: x.detach() for name, x in variables.items()}
    results = []
    for name, x in plain.items():
        column = xp.zeros(x.numel(), dtype=x.numpy().dtype)
        for k in range(x.numel()):
            seed = xp.zeros(x.numel(), dtype=column.dtype)
            seed[k] = 1
            with forward_ad.dual_level():
                tangent = gradienti.from_numpy(seed.reshape(tuple(x.shape)))
                inputs = {**plain, name: forward_ad.make_dual(x, tangent)}
                value = expression.evaluate(inputs, dtype=dtype)
                if isinstance(value, gradienti.Tensor):
                    total = value.sum() if value.dim() else value
                    derivative = forward_ad.unpack_dual(total).tangent
                    if derivative is not None:
                        column[k] = derivative.item()
        results.append(gradienti.from_numpy(column.reshape(tuple(x.shape))))
    return results


def _shown(name: str, value, raw: str) -> str:
    """``x=2``, ``v=[1,2,3]``; a long vector by its first three and last entries."""
    if not isinstance(value, list):
        return f"{name}={raw}"
    items = [item.strip() for item in raw.strip("[]").split(",")]
    if len(items) > 6:
        items = items[:3] + ["...", items[-1]]
    return f"{name}=[{','.join(items)}]"


def _second_derivatives(inputs, grads):
    """``blocks[i][j]``: d/d inputs[j] of the gradient ``grads[i]``, of shape
    ``inputs[i].shape + inputs[j].shape`` (zero where the gradient does not depend on it)."""
    dtype = inputs[0].detach().numpy().dtype
    sizes = [x.numel() for x in inputs]
    flat = [[xp.zeros((m, n), dtype=dtype) for n in sizes] for m in sizes]
    for i, g in enumerate(grads):
        if g is None or not g.requires_grad:  # a constant gradient: second derivatives are 0
            continue
        for k in range(sizes[i]):  # row k of the blocks: the derivatives of g's element k
            seed = xp.zeros(sizes[i], dtype=dtype)
            seed[k] = 1
            rows = gradienti.autograd.grad(
                g,
                inputs,
                grad_outputs=gradienti.from_numpy(seed.reshape(tuple(g.shape))),
                retain_graph=True,
                allow_unused=True,
            )
            for j, row in enumerate(rows):
                if row is not None:
                    flat[i][j][k] = row.detach().numpy().reshape(-1)
    return [
        [
            gradienti.from_numpy(flat[i][j].reshape(tuple(a.shape) + tuple(b.shape)))
            for j, b in enumerate(inputs)
        ]
        for i, a in enumerate(inputs)
    ]


def _format(tensor) -> str:
    """As ``print(f"{t}")`` shows it in PyTorch: a 0-d tensor as its Python number, else the
    tensor's repr."""
    return f"{tensor.detach()}"


def _print_value(label: str, tensor) -> None:
    text = _format(tensor)
    print(f"{label} =\n{text}" if "\n" in text else f"{label} = {text}")


def _grad_argv(rest: list[str]) -> list[str]:
    """Options first, then ``--`` and the positional arguments in their order, so that an
    expression may start with '-' (``-x**2``) and options may come after NAME=VALUE."""
    flags = {"-h", "--help", "--explain"}
    valued = {"--order", "--graph", "--dtype", "--mode", "--html"}
    options: list[str] = []
    positional: list[str] = []
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--":
            positional += rest[i + 1 :]
            break
        if arg in flags or (arg.partition("=")[0] in valued and "=" in arg):
            options.append(arg)
        elif arg in valued:
            options += rest[i : i + 2]
            i += 1
        else:
            positional.append(arg)
        i += 1
    return [*options, "--", *positional]


# ----------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="gradienti",
        description="Automatic differentiation on NumPy with PyTorch's API.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {gradienti.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="run the lesson: y = 5x^3 + 2x^2 + 4x + 8 at x = 2, its value and gradient",
        description="Run the lesson's computation and print what the lesson page prints, "
        "then explain its backward pass and write the picture of its graph.",
    )
    demo.add_argument(
        "--out",
        "--output",
        "-o",
        dest="out",
        metavar="PATH",
        help=f"where to write the picture: a file, or an existing directory to write "
        f"{DEMO_PICTURE} into (default: {DEMO_PICTURE} in the current directory; the output "
        "ends with the path written); " + PICTURE_PATH_HELP,
    )
    demo.add_argument("--html", metavar="PATH", help=PAGE_PATH_HELP)
    demo.set_defaults(run=_demo)

    grad = commands.add_parser(
        "grad",
        help="the value and the partial derivatives of an expression",
        description="Evaluate EXPR at the given values and print its partial derivatives.",
        epilog=grad_epilog(MAX_ELEMENTS, MAX_HESSIAN_ELEMENTS),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    grad.add_argument("expression", metavar="EXPR", help='the expression, e.g. "x**2 + sin(y)"')
    grad.add_argument("values", metavar="NAME=VALUE", nargs="*", help="a value for each variable")
    grad.add_argument(
        "--order", type=int, choices=(1, 2), default=1, help="2: add the second derivatives"
    )
    grad.add_argument(
        "--graph",
        metavar="PATH",
        help="write the picture of the graph to PATH; " + PICTURE_PATH_HELP,
    )
    grad.add_argument(
        "--explain", action="store_true", help="explain the backward pass step by step"
    )
    grad.add_argument("--html", metavar="PATH", help=PAGE_PATH_HELP + "; --mode forward: tangents")
    grad.add_argument(
        "--dtype", choices=("float32", "float64"), default="float32", help="default: float32"
    )
    grad.add_argument(
        "--mode",
        choices=("reverse", "forward"),
        default="reverse",
        help="reverse (backward(), the default) or forward mode: one pass per input element, "
        "carrying tangents; with --explain, the tangents step by step",
    )
    grad.set_defaults(run=_grad)
    return parser


def main(argv: list[str] | None = None) -> int:
    stdout, stderr = sys.stdout, sys.stderr
    # Everything the command prints (argparse's help and errors, warnings) fits the streams:
    # spelled in ASCII where they cannot encode a symbol (PYTHONIOENCODING=cp1252, a Windows
    # console). A stream that can is written exactly as before.
    sys.stdout = stdout if stdout is None else FittingWriter(stdout)
    sys.stderr = stderr if stderr is None else FittingWriter(stderr)
    try:
        status = _run(argv)
        sys.stdout.flush()  # a reader that went away shows here, not at exit
    except BrokenPipeError:
        status = None
    finally:
        sys.stdout, sys.stderr = stdout, stderr
    if status is None:
        _stdout_to_devnull()
        return 1
    return status


def _stdout_to_devnull() -> None:
    """What Python's documentation recommends after a BrokenPipeError (``... | head``): point
    stdout at devnull, so that flushing what is still buffered at exit fails no more."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):  # stdout is no file (replaced, captured)
        pass
    finally:
        os.close(devnull)


def _run(argv: list[str] | None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "grad":
        argv = ["grad", *_grad_argv(argv[1:])]
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:  # --help (0) or a usage error (2), already printed
        return exit.code if isinstance(exit.code, int) else 0 if exit.code is None else 2
    if getattr(args, "run", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.run(args)
    except (_Failure, PageFailure) as failure:
        print(f"gradienti {args.command}: error: {failure}", file=sys.stderr)
        return failure.status
    except KeyboardInterrupt:
        print(f"gradienti {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # not a bug: the reader of stdout went away
        raise
    except Exception as error:  # a bug: one line here; GRADIENTI_TRACEBACK=1 shows where
        if os.environ.get("GRADIENTI_TRACEBACK"):
            raise
        print(
            f"gradienti {args.command}: internal error: {type(error).__name__}: "
            f"{_one_line(error)} (run with GRADIENTI_TRACEBACK=1 for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
