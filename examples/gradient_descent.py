"""Gradient descent: use the gradient that ``backward()`` computes to walk down to a minimum.

The lesson's function y = 5x^3 + 2x^2 + 4x + 8 has no minimum: its derivative
15x^2 + 4x + 4 is positive everywhere (the discriminant 16 - 240 is negative), so walking
downhill runs off to minus infinity. A quartic in the same style has a floor to find:

    f(x)   = 3x^4 - 4x^3 - 12x^2 + 5
    f'(x)  = 12x^3 - 12x^2 - 24x = 12x (x - 2)(x + 1)
    f''(x) = 36x^2 - 24x - 24

f' vanishes at x = -1, 0 and 2. f''(0) = -24 < 0 makes x = 0 a maximum, which splits the line
into two valleys: a local minimum at x = -1 (f = 0) and the global minimum at x = 2 (f = -27).
Each step moves x against the gradient, x <- x - lr * f'(x), so a start right of 0 ends at 2
and a start left of 0 ends at -1.

Run:  python examples/gradient_descent.py [--start 3.0] [--lr 0.01] [--steps 100]
      python examples/gradient_descent.py --backend torch   # the same code on PyTorch
"""

import argparse
import importlib

import gradienti as torch

# Where f' = 0 and f'' > 0, with f there: the answer the descent should find.
ANALYTIC_MINIMA = {-1.0: 0.0, 2.0: -27.0}


def f(x):
    return 3 * x**4 - 4 * x**3 - 12 * x**2 + 5


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--start", type=float, default=3.0, help="initial x (default 3.0)")
    parser.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    parser.add_argument("--steps", type=int, default=100, help="most steps (default 100)")
    parser.add_argument(
        "--tol", type=float, default=1e-4, help="stop when |f'(x)| is below this (default 1e-4)"
    )
    parser.add_argument("--backend", choices=("gradienti", "torch"), default="gradienti")
    return parser.parse_args(argv)


def descend(start, lr, steps, tol):
    """Gradient descent from ``start``; returns the final x (a leaf tensor) and the path."""
    x = torch.tensor(start, requires_grad=True)
    path = []
    print(f"{'step':>4}  {'x':>10}  {'f(x)':>12}  {'grad':>12}")
    for step in range(steps + 1):
        y = f(x)
        y.backward()  # x.grad = f'(x)
        path.append((step, x.item(), y.item(), x.grad.item()))
        print(f"{step:4d}  {x.item():10.6f}  {y.item():12.6f}  {x.grad.item():12.6f}")
        if abs(x.grad.item()) < tol or step == steps:
            break
        # The update itself must not be recorded in the graph: x stays a leaf.
        with torch.no_grad():
            x -= lr * x.grad
        # backward() adds into .grad, so clear it before the next step's gradient.
        x.grad.zero_()
    return x, path


def curvature(x):
    """f''(x) by differentiating the gradient again (create_graph=True records f')."""
    (slope,) = torch.autograd.grad(f(x), x, create_graph=True)
    (second,) = torch.autograd.grad(slope, x)
    return second.item()


def main(argv=None):
    args = parse_args(argv)
    global torch  # the same code runs on either library: only the module behind the name changes
    torch = importlib.import_module(args.backend)

    x, path = descend(args.start, args.lr, args.steps, args.tol)
    found_x, found_f = path[-1][1], path[-1][2]
    # The analytic minimum in the valley the walk started in (x = 0 separates the valleys).
    target = 2.0 if args.start > 0 else -1.0
    print(f"found minimum:    x = {found_x:.6f}, f(x) = {found_f:.6f} after {path[-1][0]} steps")
    print(f"analytic minimum: x = {target:.6f}, f(x) = {ANALYTIC_MINIMA[target]:.6f}")
    bend = curvature(x)
    kind = "a minimum" if bend > 0 else "not a minimum (f'' <= 0)"
    print(f"f''(x) = {bend:.4f}: {kind}")
    return path


if __name__ == "__main__":
    main()
