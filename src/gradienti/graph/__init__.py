"""The graph's building blocks, below Tensor: nodes and edges (node.py), version counters
(versions.py) and the grad mode (grad_mode.py). They know nothing of Tensor, so tensor.py builds
on them; the backward pass that runs a graph is in gradienti.autograd."""
