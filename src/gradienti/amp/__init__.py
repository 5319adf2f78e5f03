"""``torch.amp``: automatic mixed precision. gradienti computes in its tensors' own dtypes, so
``autocast`` casts nothing (it keeps PyTorch's arguments, checks and warnings); ``GradScaler``
is PyTorch's, disabled for the absent CUDA device."""

from .autocast_mode import autocast, is_autocast_available
from .custom_functions import custom_bwd, custom_fwd
from .grad_scaler import GradScaler

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd", "is_autocast_available"]
