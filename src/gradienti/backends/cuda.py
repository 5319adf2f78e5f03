"""``torch.backends.cuda``: not built; ``matmul``'s flags keep PyTorch's defaults."""

from __future__ import annotations


class _MatmulFlags:
    """``torch.backends.cuda.matmul``: settable flags that change nothing on the CPU."""

    def __init__(self) -> None:
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()


def is_built() -> bool:
    return False
