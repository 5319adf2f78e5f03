"""The ``gradienti`` command: ``gradienti demo`` runs the lesson."""

from __future__ import annotations

import argparse
import sys


def _demo(args: argparse.Namespace) -> int:
    """The lesson "Gradienti in PyTorch", with gradienti in place of torch."""
    import gradienti as torch

    tensor = torch.tensor(2.0, requires_grad=True)
    print(tensor)
    x = torch.tensor(2.0, requires_grad=True)
    y = 5 * x**3 + 2 * x**2 + 4 * x + 8
    print(f"Function output: {y}")
    y.backward()
    print(f"Gradient of x: {x.grad}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradienti",
        description="Automatic differentiation on NumPy with PyTorch's API.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = commands.add_parser(
        "demo",
        help="run the lesson: y = 5x^3 + 2x^2 + 4x + 8 at x = 2, its value and gradient",
        description="Run the lesson's computation and print what the lesson page prints.",
    )
    demo.set_defaults(run=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "run", None) is None:
        parser.print_help(sys.stderr)
        return 2
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
