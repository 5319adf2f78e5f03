"""``torch.nn.modules.transformer``: the transformer layers (they live in nn/transformer.py)."""

# ruff: noqa: F401 - the imports are the re-exports (__all__ lists them)

from ..transformer import (
    Transformer,
    TransformerDecoder,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

# Every name imported above (a new layer is one more name in the import).
__all__ = sorted(name for name in dir() if not name.startswith("_"))
