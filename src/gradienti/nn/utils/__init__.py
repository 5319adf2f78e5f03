"""``nn.utils``: gradient clipping, parameters as one flat vector, and ``stateless``."""

from . import rnn, stateless
from .clip_grad import (
    __all__,
    clip_grad_norm,
    clip_grad_norm_,
    clip_grad_value_,
    clip_grads_with_norm_,
    get_total_norm,
    parameters_to_vector,
    vector_to_parameters,
)
