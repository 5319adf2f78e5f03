"""gradienti: automatic differentiation on NumPy, with PyTorch's API.

``import gradienti as torch`` runs tutorial code unchanged and prints the same text.

The layers import one way (docs/architecture.md): backend -> graph (nodes, versions, grad mode)
-> tensor -> creation -> ops -> autograd (the backward pass) -> nn, optim, viz, cli. Tensor's
methods that belong to a higher layer (every declared op and operator, ``backward``, copying)
are attached here, once those layers are imported.
"""

import math as _math

from . import (
    accelerator,
    amp,
    autograd,
    backends,
    compiler,
    cuda,
    distributed,
    distributions,
    func,
    legacy_tensors,
    linalg,
    nn,
    optim,
    special,
    tensor_copy,
    utils,
    viz,
)
from ._compile import compile  # noqa: A004 - PyTorch's public name
from ._compile import compile_in_place as _compile_in_place
from ._printing import get_printoptions, set_printoptions
from .amp import autocast
from .amp.autocast_mode import get_autocast_dtype, is_autocast_enabled
from .autograd.anomaly_mode import (
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    set_anomaly_enabled,
)
from .autograd.engine import tensor_backward as _tensor_backward
from .autograd.error_hints import is_explain_errors_enabled, set_explain_errors
from .backend import (
    bfloat16,
    device,
    dtype,
    float16,
    float32,
    float64,
    get_default_dtype,
    int8,
    int16,
    int32,
    int64,
    set_default_dtype,
    uint8,
)
from .backend import (
    bool_ as bool,  # noqa: A004 - PyTorch's public name
)
from .backends import get_float32_matmul_precision, set_float32_matmul_precision
from .creation import (
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    is_tensor,
    linspace,
    numel,
    ones,
    ones_like,
    tensor,
    zeros,
    zeros_like,
)
from .devices import get_default_device, set_default_device
from .func import vmap
from .graph.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from .in_place_functions import top_level_functions as _in_place_functions
from .legacy_tensors import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
)
from .ops import api as _ops
from .ops.extrema import return_types
from .random import (
    Generator,
    get_rng_state,
    initial_seed,
    manual_seed,
    rand,
    randint,
    randn,
    randperm,
    seed,
    set_rng_state,
)
from .serialization import load, save
from .size import Size
from .tensor import Tensor
from .type_info import finfo, iinfo
from .utils.dlpack import from_dlpack
from .viz.explain import explain

# The op modules' public functions (gradienti.log1p, gradienti.matmul, ...), see ops/api.py.
globals().update(_ops.FUNCTIONS)
# Tensor's methods from the layers above it: the declared ops (x.exp(), x + y, ...), NumPy's
# ufuncs on Tensors, backward, and copy.deepcopy / pickle as PyTorch does them.
_ops.install_tensor_methods(Tensor)
Tensor.backward = _tensor_backward
Tensor.__deepcopy__ = tensor_copy.deepcopy_tensor
Tensor.__reduce_ex__ = tensor_copy.reduce_tensor
del tensor_copy
# DLPack: torch.from_dlpack(t) and numpy.from_dlpack(t) share the tensor's memory.
Tensor.__dlpack__ = utils.dlpack.tensor_dlpack
Tensor.__dlpack_device__ = utils.dlpack.tensor_dlpack_device
# The legacy constructor Tensor(2, 3) / Tensor([1, 2]), type(), new_zeros and friends.
for _name, _method in legacy_tensors.TENSOR_METHODS.items():
    setattr(Tensor, _name, _method)
del legacy_tensors, _name, _method
nn.Module.compile = _compile_in_place  # model.compile(): compile's layer is above nn's
# torch.exp_(x), torch.relu_(x), ...: the in-place methods PyTorch also has as functions.
globals().update(_in_place_functions(Tensor))

half = float16
float = float32  # noqa: A001
double = float64
short = int16
int = int32  # noqa: A001
long = int64

# PyTorch's constants: Python floats, and None for indexing (x[:, newaxis]).
inf = _math.inf
nan = _math.nan
pi = _math.pi
e = _math.e
newaxis = None

__version__ = "0.1.0"
