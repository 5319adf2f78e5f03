"""Every differentiable primitive: forward and VJP side by side."""
