"""Pictures of the graph (make_dot, torchviz-compatible, no system install needed) and the
step-by-step explanation of the backward pass."""
