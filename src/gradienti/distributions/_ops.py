"""The functions the distributions compute with, under PyTorch's names (``ops.sigmoid``,
``ops.broadcast_tensors``, ...): the declared ops' public functions, plus the creation and
random functions that are not ops. One namespace, so that a distribution's code reads as
PyTorch's ``torch.<name>`` calls do.
"""

from __future__ import annotations

from types import SimpleNamespace

from ..backend import get_default_dtype
from ..creation import (
    arange,
    as_tensor,
    empty,
    eye,
    full,
    full_like,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from ..graph.grad_mode import enable_grad, no_grad
from ..nn.functional import one_hot, softplus
from ..ops.api import FUNCTIONS
from ..random import rand, randn
from ..tensor import Tensor
from ..type_info import finfo

ops = SimpleNamespace(
    **FUNCTIONS,
    arange=arange,
    as_tensor=as_tensor,
    empty=empty,
    eye=eye,
    full=full,
    full_like=full_like,
    ones_like=ones_like,
    zeros=zeros,
    zeros_like=zeros_like,
    tensor=tensor,
    rand=rand,
    randn=randn,
    finfo=finfo,
    get_default_dtype=get_default_dtype,
    no_grad=no_grad,
    enable_grad=enable_grad,
    one_hot=one_hot,
    softplus=softplus,
    Tensor=Tensor,
)
