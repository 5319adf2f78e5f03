"""Train in gradienti, save a checkpoint, continue training in real PyTorch from it.

A small network (1 -> 32 -> 1, tanh) learns y = sin(3x) from 128 fixed points with Adam, full
batch, for ``--steps`` steps in gradienti. The model's and the optimizer's state dicts go into
one checkpoint, written by ``gradienti.save`` in PyTorch's own file format to ``--out``: a
file, or an existing directory for ``checkpoint.pt`` in it (default: ``checkpoint.pt`` in the
current directory; no directory is made). Then, if PyTorch is installed, the same model
code builds the network in PyTorch, ``torch.load(..., weights_only=True)`` reads the checkpoint,
and training continues there for as many steps: the loss carries on from where gradienti left
it, because Adam's moment estimates and step count came along.

Last, a check: one step taken from the checkpoint in each library gives the same parameters.

Run:  python examples/continue_in_pytorch.py --steps 200
      python examples/continue_in_pytorch.py --out runs/   # runs/checkpoint.pt
"""

import argparse
import math

import numpy as np
from output_paths import output_path

import gradienti

try:
    import torch
except ImportError:  # gradienti alone: train and save, then say how to continue
    torch = None

POINTS = 128
CHECKPOINT = "checkpoint.pt"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200, help="steps in each library")
    parser.add_argument("--lr", type=float, default=0.01, help="Adam's learning rate")
    parser.add_argument("--seed", type=int, default=0, help="gradienti's initialisation")
    parser.add_argument(
        "--out",
        default=CHECKPOINT,
        metavar="PATH",
        help="where to write the checkpoint: a file, or an existing directory "
        f"(default: {CHECKPOINT} in the current directory); no directory is made",
    )
    parser.add_argument("--every", type=int, default=None, help="print the loss every N steps")
    args = parser.parse_args(argv)
    if args.steps < 1:
        parser.error("--steps must be at least 1")
    if args.every is None:
        args.every = max(1, args.steps // 5)
    args.out = output_path(parser, args.out, CHECKPOINT)
    return args


def make_model(lib):
    """The same code builds the network in either library (``lib`` is gradienti or torch)."""
    return lib.nn.Sequential(lib.nn.Linear(1, 32), lib.nn.Tanh(), lib.nn.Linear(32, 1))


def make_data(lib):
    x = np.linspace(-1.0, 1.0, POINTS, dtype=np.float32).reshape(-1, 1)
    return lib.tensor(x), lib.tensor(np.sin(3.0 * x))


def train(lib, model, optimizer, first_step, steps, every, label):
    """Full-batch training; prints the loss of every ``every``-th step and of the last."""
    inputs, targets = make_data(lib)
    loss_fn = lib.nn.MSELoss()
    for step in range(first_step, first_step + steps):
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        if (step - first_step) % every == 0 or step == first_step + steps - 1:
            print(f"{label:>9}  step {step:4d}  loss {loss.item():.6f}")
    return loss.item()


def restore(lib, state, lr):
    """A fresh model and Adam optimizer in ``lib`` with the checkpoint's state loaded."""
    model = make_model(lib)
    optimizer = lib.optim.Adam(model.parameters(), lr=lr)
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    return model, optimizer


def one_step(lib, state, lr):
    model, optimizer = restore(lib, state, lr)
    inputs, targets = make_data(lib)
    optimizer.zero_grad()
    lib.nn.functional.mse_loss(model(inputs), targets).backward()
    optimizer.step()
    return [np.asarray(p.detach().numpy()) for p in model.parameters()]


def main(argv=None):
    args = parse_args(argv)
    path = args.out

    gradienti.manual_seed(args.seed)
    model = make_model(gradienti)
    optimizer = gradienti.optim.Adam(model.parameters(), lr=args.lr)
    print(f"gradienti {gradienti.__version__}: {args.steps} steps of Adam on y = sin(3x)")
    train(gradienti, model, optimizer, 0, args.steps, args.every, "gradienti")
    state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": args.steps}
    gradienti.save(state, path)
    print(f"saved the model and optimizer state to {path}")

    if torch is None:
        print("PyTorch is not installed: pip install torch, then run this again to continue there")
        return None

    loaded = torch.load(path, weights_only=True)
    print(f"PyTorch {torch.__version__}: torch.load({path!r}, weights_only=True)")
    model_t, optimizer_t = restore(torch, loaded, args.lr)
    last = train(torch, model_t, optimizer_t, loaded["step"], args.steps, args.every, "PyTorch")

    # The same step from the same checkpoint in both libraries.
    ours = one_step(gradienti, gradienti.load(path), args.lr)
    theirs = one_step(torch, torch.load(path, weights_only=True), args.lr)
    difference = max(float(np.max(np.abs(a - b))) for a, b in zip(ours, theirs))
    verdict = "the same" if difference < 1e-5 and not math.isnan(difference) else "DIFFERENT"
    print(
        f"one step from the checkpoint: gradienti and PyTorch parameters are {verdict} "
        f"(largest difference {difference:.1e})"
    )
    return last


if __name__ == "__main__":
    main()
