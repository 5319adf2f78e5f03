"""``torch.autograd.graph``: the graph's public tools.

- ``Node``: the base of every backward node (graph/node.py).
- Saved-tensor hooks: ``saved_tensors_hooks(pack_hook, unpack_hook)``, ``save_on_cpu``,
  ``disable_saved_tensors_hooks`` (to come in this module).

Room is left below for ``increment_version`` and the hook helpers (another section of this
module, kept by their own developer).
"""

from __future__ import annotations

from ..graph.node import Node

__all__ = ["Node"]
