"""Handwritten digits: train an MLP or a small CNN on scikit-learn's 8x8 digits.

The usual PyTorch training loop, written against PyTorch's API: a TensorDataset and a
shuffling DataLoader, a model from ``nn``, ``nn.CrossEntropyLoss``, ``optim.Adam``, a tqdm
progress bar, a loss/accuracy curve saved as PNG (``digits_<model>.png`` in the current
directory, or where ``--out`` says), and the test accuracy printed last.

The data: 1797 grey 8x8 images (pixel values 0..16) of the digits 0-9, split 80/20 into
training and test sets with a fixed seed (stratified, so both have every digit in proportion),
each pixel standardised with the training set's mean and standard deviation.

Needs the ``examples`` extra (scikit-learn, tqdm, matplotlib).

Run:  python examples/digits.py --model mlp
      python examples/digits.py --model cnn --out curves/   # curves/digits_cnn.png
      python examples/digits.py --model mlp --backend torch   # the same code on PyTorch
"""

import argparse
import importlib
import time

from output_paths import output_path
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from tqdm import tqdm

import gradienti as torch

DEFAULT_EPOCHS = {"mlp": 30, "cnn": 30}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    parser.add_argument("--epochs", type=int, default=None, help="default: 30")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam's learning rate")
    parser.add_argument("--seed", type=int, default=0, help="split, initialisation and shuffle")
    parser.add_argument(
        "--subset", type=int, default=None, help="use only the first N images (quick runs)"
    )
    parser.add_argument(
        "--out",
        "--plot",
        dest="out",
        metavar="PATH",
        help="where to write the PNG of the curves: a file, or an existing directory "
        "(default: digits_<model>.png in the current directory; '' for none); "
        "no directory is made",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--backend", choices=("gradienti", "torch"), default="gradienti")
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = DEFAULT_EPOCHS[args.model]
    default_name = f"digits_{args.model}.png"
    args.out = output_path(parser, default_name if args.out is None else args.out, default_name)
    return args


def load_data(seed, subset=None):
    """Standardised (N, 1, 8, 8) float32 images and int64 labels, as train and test tensors."""
    digits = load_digits()
    images, labels = digits.data, digits.target  # (1797, 64) pixels 0..16, (1797,) digits
    if subset is not None:
        images, labels = images[:subset], labels[:subset]
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=0.2, random_state=seed, stratify=labels
    )
    # Statistics from the training images only, so nothing about the test set leaks in.
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)

    def as_images(pixels):
        return torch.tensor(pixels, dtype=torch.float32).reshape(-1, 1, 8, 8)

    return (
        (as_images(x_train), torch.tensor(y_train)),
        (as_images(x_test), torch.tensor(y_test)),
    )


def make_model(kind):
    nn = torch.nn
    if kind == "mlp":
        return nn.Sequential(
            nn.Flatten(),  # (N, 1, 8, 8) -> (N, 64)
            nn.Linear(64, 128),
            nn.ReLU(),
            nn.Linear(128, 64),
            nn.ReLU(),
            nn.Linear(64, 10),  # one score (logit) per digit
        )
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),  # (N, 16, 8, 8)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 16, 4, 4)
        nn.Conv2d(16, 32, kernel_size=3, padding=1),  # (N, 32, 4, 4)
        nn.ReLU(),
        nn.MaxPool2d(2),  # (N, 32, 2, 2)
        nn.Flatten(),  # (N, 128)
        nn.Linear(32 * 2 * 2, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )


def evaluate(model, loss_fn, images, labels):
    """Mean loss and accuracy on a whole set, without recording a graph."""
    model.eval()
    with torch.no_grad():
        logits = model(images)
        loss = loss_fn(logits, labels).item()
        accuracy = (logits.argmax(dim=1) == labels).float().mean().item()
    model.train()
    return loss, accuracy


def train(model, loader, test_set, epochs, lr, show_progress):
    """Adam on the cross-entropy; returns the per-epoch curves."""
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = {"train_loss": [], "train_accuracy": [], "test_loss": [], "test_accuracy": []}

    progress = tqdm(total=epochs * len(loader), unit="batch", disable=not show_progress)
    for epoch in range(epochs):
        progress.set_description(f"epoch {epoch + 1}/{epochs}")
        loss_sum, correct, seen = 0.0, 0, 0
        for images, labels in loader:
            logits = model(images)
            loss = loss_fn(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            # loss is a batch mean: weight it by the batch size for the epoch's mean.
            loss_sum += loss.item() * len(labels)
            correct += (logits.argmax(dim=1) == labels).sum().item()
            seen += len(labels)
            progress.update()

        test_loss, test_accuracy = evaluate(model, loss_fn, *test_set)
        history["train_loss"].append(loss_sum / seen)
        history["train_accuracy"].append(correct / seen)
        history["test_loss"].append(test_loss)
        history["test_accuracy"].append(test_accuracy)
        progress.set_postfix(loss=f"{loss_sum / seen:.4f}", test_acc=f"{test_accuracy:.4f}")
    progress.close()
    return history


def plot_curves(history, path, title):
    """Loss and accuracy per epoch, side by side, written as PNG."""
    # A bare Figure renders with the Agg backend: no window, no pyplot state, works headless.
    from matplotlib.figure import Figure

    epochs = range(1, len(history["train_loss"]) + 1)
    figure = Figure(figsize=(10, 4), layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    for axes, key, label in ((loss_axes, "loss", "loss"), (accuracy_axes, "accuracy", "accuracy")):
        axes.plot(epochs, history[f"train_{key}"], marker=".", label="train")
        axes.plot(epochs, history[f"test_{key}"], marker=".", label="test")
        axes.set_xlabel("epoch")
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        axes.legend()
    loss_axes.set_yscale("log")
    accuracy_axes.set_title(f"final test accuracy {history['test_accuracy'][-1]:.4f}")
    loss_axes.set_title("cross-entropy")
    figure.suptitle(title)
    figure.savefig(path, dpi=100)


def main(argv=None):
    args = parse_args(argv)
    global torch  # the same code runs on either library: only the module behind the name changes
    torch = importlib.import_module(args.backend)

    torch.manual_seed(args.seed)  # the model's initial weights
    train_set, test_set = load_data(args.seed, args.subset)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(*train_set),
        batch_size=args.batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(args.seed),  # the same order on every run
    )
    model = make_model(args.model)
    parameter_count = sum(p.numel() for p in model.parameters())
    print(f"{len(train_set[1])} training and {len(test_set[1])} test images ({args.backend})")
    print(model)
    print(f"{parameter_count} parameters")

    started = time.perf_counter()
    history = train(model, loader, test_set, args.epochs, args.lr, not args.no_progress)
    seconds = time.perf_counter() - started
    print(f"trained {args.epochs} epochs in {seconds:.1f} s")

    if args.out:
        plot_curves(history, args.out, f"{args.model.upper()} on 8x8 digits ({args.backend})")
        print(f"curves saved to {args.out}")
    print(f"test accuracy: {history['test_accuracy'][-1]:.4f}")
    return history


if __name__ == "__main__":
    main()
