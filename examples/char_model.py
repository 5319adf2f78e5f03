"""A character-level language model: an LSTM, a GRU or a small transformer learns to write
like the Python language reference.

The text is the reference manual's help topics that the Python standard library ships in
``pydoc_data.topics`` (what ``help("for")`` prints), so nothing is downloaded. The model reads
``--context`` characters and predicts each next one; training is the usual PyTorch loop (random
windows of the text as a batch, ``F.cross_entropy``, ``optim.AdamW``, gradient clipping, a tqdm
progress bar); the loss curve is saved as PNG (``char_<model>.png`` in the current directory,
or where ``--out`` says), and at the end the model writes new text, one character at a time,
sampled from its predicted distribution.

The same code runs on PyTorch (``--backend torch``): from the same seed it prints the same
losses and the same samples (float32 arithmetic in a different order aside).

Needs the ``examples`` extra (tqdm, matplotlib).

Run:  python examples/char_model.py --model lstm
      python examples/char_model.py --model transformer --steps 1000
      python examples/char_model.py --model gru --backend torch   # the same code on PyTorch
"""

import argparse
import importlib
import pydoc_data.topics
import sys
import time

from output_paths import output_path
from tqdm import tqdm

import gradienti as torch

MODELS = ("lstm", "gru", "transformer")


def parse_args(argv=None):
    # the docstring's first paragraph: its first sentence spans two lines
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=MODELS, default="lstm")
    parser.add_argument("--steps", type=int, default=600, help="training steps (batches)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--context", type=int, default=64, help="characters per training window")
    parser.add_argument("--width", type=int, default=128, help="hidden size / d_model")
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--lr", type=float, default=3e-3, help="AdamW's learning rate")
    parser.add_argument("--chars", type=int, default=200_000, help="characters of text to use")
    parser.add_argument("--eval-every", type=int, default=100, help="steps between val losses")
    parser.add_argument("--sample-chars", type=int, default=300, help="length of the sample")
    parser.add_argument("--prompt", default="The ", help="text the sample starts from")
    parser.add_argument("--seed", type=int, default=0, help="initialisation, batches, sampling")
    parser.add_argument(
        "--dtype", choices=("float32", "float64"), default="float32", help="of the model's weights"
    )
    parser.add_argument(
        "--out",
        "--plot",
        dest="out",
        metavar="PATH",
        help="where to write the PNG of the loss curve: a file, or an existing directory "
        "(default: char_<model>.png in the current directory; '' for none); "
        "no directory is made",
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.add_argument("--backend", choices=("gradienti", "torch"), default="gradienti")
    args = parser.parse_args(argv)
    default_name = f"char_{args.model}.png"
    args.out = output_path(parser, default_name if args.out is None else args.out, default_name)
    return args


def load_text(chars):
    """The reference manual's help topics, in a fixed order, cut to ``chars`` characters."""
    topics = pydoc_data.topics.topics
    return "\n".join(topics[name] for name in sorted(topics))[:chars]


class Vocabulary:
    """Characters <-> integer ids: every distinct character of the text, sorted."""

    def __init__(self, text):
        self.chars = sorted(set(text))
        self.ids = {char: i for i, char in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def encode(self, text):
        return torch.tensor([self.ids[char] for char in text], dtype=torch.long)

    def decode(self, ids):
        return "".join(self.chars[i] for i in ids)


def define_models():
    """The two model classes, subclassing the chosen backend's ``nn.Module`` (so they are
    defined once ``--backend`` is known)."""

    class RecurrentModel(torch.nn.Module):
        """Embedding -> LSTM or GRU -> one score per character, at every position."""

        def __init__(self, kind, vocab_size, width, layers):
            super().__init__()
            nn = torch.nn
            self.embed = nn.Embedding(vocab_size, width)
            recurrent = nn.LSTM if kind == "lstm" else nn.GRU
            self.rnn = recurrent(width, width, num_layers=layers, batch_first=True)
            self.head = nn.Linear(width, vocab_size)

        def forward(self, ids, state=None):
            hidden, state = self.rnn(self.embed(ids), state)
            return self.head(hidden), state

    class TransformerModel(torch.nn.Module):
        """Token and position embeddings -> causal transformer encoder -> character scores."""

        def __init__(self, vocab_size, width, layers, context):
            super().__init__()
            nn = torch.nn
            self.context = context
            self.embed = nn.Embedding(vocab_size, width)
            self.position = nn.Embedding(context, width)
            layer = nn.TransformerEncoderLayer(
                width, nhead=4, dim_feedforward=4 * width, dropout=0.0, batch_first=True,
                norm_first=True,
            )  # fmt: skip
            self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.norm = nn.LayerNorm(width)
            self.head = nn.Linear(width, vocab_size)

        def forward(self, ids, state=None):
            length = ids.shape[1]
            positions = torch.arange(length)
            x = self.embed(ids) + self.position(positions)
            # Position t may look at positions <= t only: -inf above the diagonal.
            causal = torch.nn.Transformer.generate_square_subsequent_mask(length)
            x = self.encoder(x, mask=causal, is_causal=True)
            return self.head(self.norm(x)), None

    return RecurrentModel, TransformerModel


def make_model(args, vocab_size):
    RecurrentModel, TransformerModel = define_models()
    if args.model == "transformer":
        return TransformerModel(vocab_size, args.width, args.layers, args.context)
    return RecurrentModel(args.model, vocab_size, args.width, args.layers)


def random_windows(data, batch_size, context, generator):
    """A batch of ``context``-character windows and, for each position, the next character."""
    starts = torch.randint(len(data) - context - 1, (batch_size,), generator=generator)
    inputs = torch.stack([data[s : s + context] for s in starts.tolist()])
    targets = torch.stack([data[s + 1 : s + context + 1] for s in starts.tolist()])
    return inputs, targets


def mean_loss(model, data, args, generator, batches=4):
    """The mean cross-entropy over a few random batches, without recording a graph."""
    model.eval()
    with torch.no_grad():
        total = 0.0
        for _ in range(batches):
            inputs, targets = random_windows(data, args.batch_size, args.context, generator)
            logits, _ = model(inputs)
            total += torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
    model.train()
    return float(total) / batches


def train(model, train_data, val_data, args):
    """AdamW on the next-character cross-entropy; returns the loss curves."""
    F = torch.nn.functional
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr)
    batches = torch.Generator().manual_seed(args.seed)
    held_out = torch.Generator().manual_seed(args.seed + 1)
    history = {"step": [], "train": [], "val_step": [], "val": []}

    progress = tqdm(range(1, args.steps + 1), unit="step", disable=args.no_progress)
    for step in progress:
        inputs, targets = random_windows(train_data, args.batch_size, args.context, batches)
        logits, _ = model(inputs)
        loss = F.cross_entropy(logits.flatten(0, 1), targets.flatten())
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

        history["step"].append(step)
        history["train"].append(loss.item())
        if step % args.eval_every == 0 or step == args.steps:
            val = mean_loss(model, val_data, args, held_out)
            history["val_step"].append(step)
            history["val"].append(val)
            progress.write(f"step {step:5d}  train loss {loss.item():.4f}  val loss {val:.4f}")
        progress.set_postfix(loss=f"{loss.item():.4f}")
    progress.close()
    return history


def sample(model, vocab, args, generator):
    """Text written by the model: each character drawn from its predicted distribution."""
    F = torch.nn.functional
    model.eval()
    ids = vocab.encode(args.prompt).tolist()
    with torch.no_grad():
        # The recurrent models carry their state; the transformer rereads its last context.
        logits, state = model(torch.tensor([ids]))
        for _ in range(args.sample_chars):
            probabilities = F.softmax(logits[0, -1], dim=-1)
            next_id = torch.multinomial(probabilities, 1, generator=generator).item()
            ids.append(next_id)
            if args.model == "transformer":
                logits, _ = model(torch.tensor([ids[-args.context :]]))
            else:
                logits, state = model(torch.tensor([[next_id]]), state)
    model.train()
    return vocab.decode(ids)


def plot_losses(history, path, title):
    """The training loss per step and the validation loss, written as PNG."""
    # A bare Figure renders with the Agg backend: no window, no pyplot state, works headless.
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), layout="constrained")
    axes = figure.subplots()
    axes.plot(history["step"], history["train"], linewidth=0.8, alpha=0.6, label="train (batch)")
    axes.plot(history["val_step"], history["val"], marker="o", label="validation")
    axes.set_xlabel("step")
    axes.set_ylabel("cross-entropy (nats per character)")
    axes.grid(alpha=0.3)
    axes.legend()
    axes.set_title(title)
    figure.savefig(path, dpi=100)


def printable(text):
    """The sample as the terminal can show it: the text has a few characters beyond ASCII (curly
    quotes, dashes), which an ASCII or cp1252 console lacks: those are shown as '?'."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    return text.encode(encoding, "replace").decode(encoding)


def main(argv=None):
    args = parse_args(argv)
    global torch  # the same code runs on either library: only the module behind the name changes
    torch = importlib.import_module(args.backend)
    torch.manual_seed(args.seed)  # the model's initial weights
    torch.set_default_dtype(getattr(torch, args.dtype))

    text = load_text(args.chars)
    vocab = Vocabulary(text)
    data = vocab.encode(text)
    split = int(0.9 * len(data))  # the last tenth is held out for the validation loss
    train_data, val_data = data[:split], data[split:]
    model = make_model(args, len(vocab))
    parameter_count = sum(p.numel() for p in model.parameters())
    print(f"{len(text)} characters, {len(vocab)} distinct ({args.backend})")
    print(f"{args.model}: {parameter_count} parameters")

    started = time.perf_counter()
    history = train(model, train_data, val_data, args)
    seconds = time.perf_counter() - started
    print(f"trained {args.steps} steps in {seconds:.1f} s")

    if args.out:
        plot_losses(history, args.out, f"{args.model} on the Python reference ({args.backend})")
        print(f"loss curve saved to {args.out}")
    text = sample(model, vocab, args, torch.Generator().manual_seed(args.seed))
    print("sample:")
    print(printable(text))
    return history, text


if __name__ == "__main__":
    main()
