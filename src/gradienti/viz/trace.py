"""PyTorchViz's ``make_dot_from_trace``, absent on purpose.

torchviz draws a ``torch.jit.trace`` with it; gradienti has no JIT tracer, so there is no trace
to draw. The same picture of a model comes from its autograd graph:
``make_dot(model(x), params=dict(model.named_parameters()))``.
"""

from __future__ import annotations

__all__ = ["make_dot_from_trace"]


def make_dot_from_trace(trace, *args, **kwargs):
    """Always raises: gradienti has no JIT tracer (see the module's docstring)."""
    raise NotImplementedError(
        "make_dot_from_trace draws a torch.jit trace, and gradienti has no JIT tracer; "
        "draw the autograd graph instead: make_dot(model(x), "
        "params=dict(model.named_parameters()))"
    )
