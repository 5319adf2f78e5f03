"""Fit y = sin(x) on [-pi, pi] with a third-order polynomial y = a + b x + c x^2 + d x^3.

The example of PyTorch's "Learning PyTorch with Examples", twice:

1. raw tensors and autograd: four scalar tensors with requires_grad=True, the loss by hand,
   ``loss.backward()`` for the gradients and a hand-written gradient-descent update;
2. ``nn`` and ``optim``: the polynomial is a Linear(3, 1) layer on the features (x, x^2, x^3),
   the loss is ``nn.MSELoss`` and ``optim.RMSprop`` does the update.

The least-squares cubic on [-pi, pi] is about 0.857 x - 0.093 x^3 (and a = c = 0 by symmetry).

Run:  python examples/sin_polynomial.py [--steps 2000] [--print-every 100] [--seed 0]
      python examples/sin_polynomial.py --backend torch   # the same code on PyTorch
"""

import argparse
import importlib
import math

import gradienti as torch


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000, help="steps per part (default 2000)")
    parser.add_argument("--print-every", type=int, default=100, help="loss every N steps")
    parser.add_argument("--points", type=int, default=2000, help="samples of sin (default 2000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--backend", choices=("gradienti", "torch"), default="gradienti")
    return parser.parse_args(argv)


def polynomial_text(a, b, c, d):
    """``y = 0.0586 + 0.8372 x - 0.0101 x^2 ...``: each term's sign written once."""
    terms = [f"{a:.4f}"]
    for coefficient, power in ((b, " x"), (c, " x^2"), (d, " x^3")):
        sign = "-" if coefficient < 0 else "+"
        terms.append(f"{sign} {abs(coefficient):.4f}{power}")
    return "y = " + " ".join(terms)


def fit_with_autograd(x, y, steps, print_every):
    """Part 1: the coefficients are plain tensors; autograd gives their gradients."""
    a = torch.randn((), requires_grad=True)
    b = torch.randn((), requires_grad=True)
    c = torch.randn((), requires_grad=True)
    d = torch.randn((), requires_grad=True)

    # A summed squared error over 2000 points has large gradients, hence the small step.
    learning_rate = 1e-6
    losses = []
    for t in range(steps):
        y_pred = a + b * x + c * x**2 + d * x**3
        loss = (y_pred - y).pow(2).sum()
        losses.append(loss.item())
        if t % print_every == print_every - 1:
            print(f"{t + 1:5d}  loss {loss.item():.4f}")

        loss.backward()  # a.grad, b.grad, c.grad, d.grad = d loss / d coefficient

        # The update is not part of the model: keep it out of the graph.
        with torch.no_grad():
            a -= learning_rate * a.grad
            b -= learning_rate * b.grad
            c -= learning_rate * c.grad
            d -= learning_rate * d.grad
            # Gradients accumulate across backward() calls; start each step from none.
            a.grad = None
            b.grad = None
            c.grad = None
            d.grad = None

    coefficients = (a.item(), b.item(), c.item(), d.item())
    print("Result (autograd):", polynomial_text(*coefficients))
    return losses, coefficients


def fit_with_nn(x, y, steps, print_every):
    """Part 2: the same polynomial as a Linear layer, trained by an optimizer."""
    # Column k of xx is x^(k+1): the layer computes a + b x + c x^2 + d x^3 for every x.
    p = torch.tensor([1, 2, 3])
    xx = x.unsqueeze(-1).pow(p)  # shape (points, 3)

    model = torch.nn.Sequential(
        torch.nn.Linear(3, 1),
        torch.nn.Flatten(0, 1),  # (points, 1) -> (points,), the shape of y
    )
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)

    losses = []
    for t in range(steps):
        y_pred = model(xx)
        loss = loss_fn(y_pred, y)
        losses.append(loss.item())
        if t % print_every == print_every - 1:
            print(f"{t + 1:5d}  loss {loss.item():.4f}")

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    linear = model[0]
    coefficients = (
        linear.bias.item(),
        linear.weight[0, 0].item(),
        linear.weight[0, 1].item(),
        linear.weight[0, 2].item(),
    )
    print("Result (nn + optim):", polynomial_text(*coefficients))
    return losses, coefficients


def main(argv=None):
    args = parse_args(argv)
    global torch  # the same code runs on either library: only the module behind the name changes
    torch = importlib.import_module(args.backend)

    torch.manual_seed(args.seed)
    x = torch.linspace(-math.pi, math.pi, args.points)
    y = torch.sin(x)

    print("Part 1: raw tensors and autograd")
    autograd_losses, autograd_coefficients = fit_with_autograd(x, y, args.steps, args.print_every)
    print()
    print("Part 2: nn and optim")
    nn_losses, nn_coefficients = fit_with_nn(x, y, args.steps, args.print_every)
    return {
        "autograd": (autograd_losses, autograd_coefficients),
        "nn": (nn_losses, nn_coefficients),
    }


if __name__ == "__main__":
    main()
