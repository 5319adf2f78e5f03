"""``torch.nn.modules``' paths: ``nn.modules.linear.Linear`` and its siblings are the very
classes of ``gradienti.nn`` (they live in nn/layers.py, nn/loss.py, ...; each file here
re-exports its share, so a new layer is one more name in one import). As in PyTorch, the
package itself also holds every layer."""

from . import (
    activation,
    batchnorm,
    container,
    conv,
    distance,
    dropout,
    flatten,
    instancenorm,
    lazy,
    linear,
    loss,
    module,
    normalization,
    padding,
    pooling,
    rnn,
    sparse,
    transformer,
    upsampling,
)
from .activation import *  # noqa: F403 - each file's __all__
from .batchnorm import *  # noqa: F403
from .container import *  # noqa: F403
from .conv import *  # noqa: F403
from .distance import *  # noqa: F403
from .dropout import *  # noqa: F403
from .flatten import *  # noqa: F403
from .instancenorm import *  # noqa: F403
from .linear import *  # noqa: F403
from .loss import *  # noqa: F403
from .module import Module
from .normalization import *  # noqa: F403
from .padding import *  # noqa: F403
from .pooling import *  # noqa: F403
from .rnn import *  # noqa: F403
from .sparse import *  # noqa: F403
from .transformer import *  # noqa: F403
from .upsampling import *  # noqa: F403

SUBMODULES = (
    activation,
    batchnorm,
    container,
    conv,
    distance,
    dropout,
    flatten,
    instancenorm,
    linear,
    loss,
    normalization,
    padding,
    pooling,
    rnn,
    sparse,
    transformer,
    upsampling,
)
__all__ = [
    "Module",
    "module",
    *(module_.__name__.rsplit(".", 1)[1] for module_ in SUBMODULES),
    *(name for module_ in SUBMODULES for name in module_.__all__),
]
