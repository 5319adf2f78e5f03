"""Peak memory of one forward and backward of a deep MLP, with and without checkpointing.

    python benchmarks/checkpoint_memory.py [--layers 32] [--width 512] [--batch 1024] [--segments S]

The model is ``layers`` blocks of Linear(width, width) + ReLU, the loss the mean of the squared
output. Without checkpointing every block keeps its ReLU output (which is also the next Linear's
saved input) until backward reaches it: batch x width x 4 bytes a block. With
``checkpoint_sequential(model, segments, x, use_reentrant=False)`` only the segments' inputs are
kept, and backward recomputes one segment at a time. Peak bytes are read with tracemalloc, which
sees NumPy's array buffers (NumPy reports them to it), counted from just before the forward:
the parameters are not counted, their gradients are, in both runs (width x width x 4 bytes a
block: the engine writes every ``.grad`` once the pass is over, so all of them are alive at its
end). Checkpointing saves activations, so it shows where they outweigh the gradients: with a
batch larger than the width (at batch 256, width 512 the gradients make the peak of both runs).
Both runs must give the same gradients (checked before anything is reported).

``measure(...)`` returns the numbers, for a row of benchmarks/run.py.
"""

from __future__ import annotations

import argparse
import gc
import math
import sys
import tracemalloc
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
if (SRC / "gradienti").is_dir() and str(SRC) not in sys.path:
    sys.path.insert(0, str(SRC))  # measure this checkout's gradienti

import numpy as np  # noqa: E402

import gradienti  # noqa: E402
from gradienti.utils.checkpoint import checkpoint_sequential  # noqa: E402


def deep_mlp(layers: int, width: int, seed: int = 0):
    gradienti.manual_seed(seed)
    blocks = []
    for _ in range(layers):
        blocks += [gradienti.nn.Linear(width, width), gradienti.nn.ReLU()]
    return gradienti.nn.Sequential(*blocks)


def _peak_bytes(step) -> int:
    """The peak of traced memory above what was allocated when ``step`` started."""
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step()
        return tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()


def _gradients(model) -> list:
    return [p.grad.numpy().copy() for p in model.parameters()]


def measure(layers: int = 32, width: int = 512, batch: int = 1024, segments: int | None = None):
    """Peak bytes of forward + backward without and with checkpointing, and their ratio."""
    model = deep_mlp(layers, width)
    x = gradienti.randn(batch, width)
    if segments is None:
        segments = max(1, round(math.sqrt(len(model))))  # ~sqrt(n) segments of ~sqrt(n) modules

    def plain() -> None:
        model(x).square().mean().backward()

    def checkpointed() -> None:
        out = checkpoint_sequential(model, segments, x, use_reentrant=False)
        out.square().mean().backward()

    results = {}
    grads = {}
    for name, step in (("without", plain), ("with", checkpointed)):
        model.zero_grad()
        results[name] = _peak_bytes(step)
        grads[name] = _gradients(model)
    model.zero_grad()
    for without, with_ in zip(grads["without"], grads["with"]):
        np.testing.assert_allclose(with_, without, rtol=1e-5, atol=1e-6)
    return {
        "layers": layers,
        "width": width,
        "batch": batch,
        "segments": segments,
        "peak_bytes_without": results["without"],
        "peak_bytes_with": results["with"],
        "ratio": results["with"] / results["without"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--layers", type=int, default=32)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--segments", type=int, default=None)
    args = parser.parse_args(argv)
    result = measure(args.layers, args.width, args.batch, args.segments)
    mib = 1024 * 1024
    print(
        f"MLP of {result['layers']} Linear({result['width']}, {result['width']}) + ReLU blocks, "
        f"batch {result['batch']}; checkpoint_sequential with {result['segments']} segments"
    )
    print(
        f"peak bytes without checkpointing: {result['peak_bytes_without']:>12,d}"
        f"  ({result['peak_bytes_without'] / mib:.1f} MiB)"
    )
    print(
        f"peak bytes with checkpointing:    {result['peak_bytes_with']:>12,d}"
        f"  ({result['peak_bytes_with'] / mib:.1f} MiB)"
    )
    print(f"ratio with / without:             {result['ratio']:.3f}")


if __name__ == "__main__":
    main()
