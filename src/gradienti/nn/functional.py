"""``nn.functional``: activations, ``linear`` and the losses, composed of differentiable ops."""

from __future__ import annotations

from ..backend import SCALAR_TYPE_NAMES, xp
from ..beginner_hints import linear_input_size_hint, pytorch_text, with_hint
from ..creation import zeros_like as _zeros_like
from ..ops import activation as _act
from ..ops import binary_cross_entropy as _bce
from ..ops import composite_nodes as _composite
from ..ops import nll_loss as _nll
from ..ops import pooling as _pool
from ..ops import pooling_1d as _pool_1d
from ..ops.apply import tensor_argument as _tensor_argument
from ..ops.attention import scaled_dot_product_attention
from ..ops.conv import conv1d, conv2d
from ..ops.elementwise import where as _where
from ..ops.embedding import embedding
from ..ops.index_builders import one_hot
from ..ops.normalization import batch_norm, layer_norm
from ..ops.products import addmm_tensors as _addmm_tensors
from .dropout import dropout
from .functional_attention import multi_head_attention_forward
from .functional_distance import (
    cosine_similarity,
    normalize,
    pairwise_distance,
)
from .functional_layers import (
    bilinear,
    celu,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    interpolate,
    mish,
    pad,
    prelu,
    selu,
    softmin,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)
from .functional_likelihood_losses import (
    gaussian_nll_loss,
    kl_div,
    poisson_nll_loss,
)
from .functional_losses import (
    binary_cross_entropy_with_logits,
    huber_loss,
    l1_loss,
    legacy_reduction,
    mse_loss,
    reduction_name,
    smooth_l1_loss,
    soft_margin_loss,
)
from .functional_margin_losses import (
    cosine_embedding_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multilabel_soft_margin_loss,
    triplet_margin_loss,
)
from .functional_norms import group_norm, instance_norm, rms_norm

__all__ = [
    "relu",
    "relu6",
    "leaky_relu",
    "gelu",
    "silu",
    "elu",
    "softplus",
    "logsigmoid",
    "hardtanh",
    "tanh",
    "sigmoid",
    "softmax",
    "log_softmax",
    "linear",
    "mse_loss",
    "l1_loss",
    "smooth_l1_loss",
    "huber_loss",
    "cross_entropy",
    "nll_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "soft_margin_loss",
    "cosine_similarity",
    "normalize",
    "pairwise_distance",
    "gaussian_nll_loss",
    "kl_div",
    "poisson_nll_loss",
    "cosine_embedding_loss",
    "hinge_embedding_loss",
    "margin_ranking_loss",
    "multilabel_soft_margin_loss",
    "triplet_margin_loss",
    "conv1d",
    "conv2d",
    "batch_norm",
    "layer_norm",
    "group_norm",
    "instance_norm",
    "rms_norm",
    "dropout",
    "scaled_dot_product_attention",
    "multi_head_attention_forward",
    "embedding",
    "one_hot",
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    # functional_layers.py: padding, resizing, bilinear, further activations
    "pad",
    "interpolate",
    "upsample",
    "upsample_nearest",
    "upsample_bilinear",
    "bilinear",
    "prelu",
    "mish",
    "hardswish",
    "hardsigmoid",
    "softmin",
    "glu",
    "softsign",
    "tanhshrink",
    "threshold",
    "celu",
    "selu",
    "hardshrink",
    "softshrink",
]


# ---------------------------------------------------------------------- activations
def relu(input, inplace: bool = False):
    return input.relu()


def relu6(input, inplace: bool = False):
    return _act.hardtanh(input, 0.0, 6.0)


def leaky_relu(input, negative_slope: float = 0.01, inplace: bool = False):
    return _act.leaky_relu(input, negative_slope)


def gelu(input, approximate: str = "none"):
    return _act.gelu(input, approximate=approximate)


def silu(input, inplace: bool = False):
    return _act.silu(input)


def elu(input, alpha: float = 1.0, inplace: bool = False):
    return _act.elu(input, alpha)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    return _act.softplus(input, beta, threshold)


def logsigmoid(input):
    return _act.logsigmoid(input)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
    return _act.hardtanh(input, min_val, max_val)


def tanh(input):
    return input.tanh()


def sigmoid(input):
    return input.sigmoid()


def _softmax_dim(ndim: int) -> int:
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    if dim is None:
        dim = _softmax_dim(input.dim())
    return input.softmax(dim) if dtype is None else input.to(dtype).softmax(dim)


def log_softmax(input, dim=None, _stacklevel: int = 3, dtype=None):
    if dim is None:
        dim = _softmax_dim(input.dim())
    return input.log_softmax(dim) if dtype is None else input.to(dtype).log_softmax(dim)


def linear(input, weight, bias=None):
    """``input @ weight^T + bias``, decomposed as PyTorch's ``at::linear`` so that the graph is
    its graph: one AddmmBackward0 for a batch of rows; a contiguous batch of any shape folded
    into rows around it (ViewBackward0) when the bias is vector-like; else matmul, then add."""
    _tensor_argument(input, "linear", "input", 1)
    _tensor_argument(weight, "linear", "weight", 2)
    if bias is not None:
        _tensor_argument(bias, "linear", "bias", 3)
    x_ndim, w_ndim = input._data.ndim, weight._data.ndim
    if x_ndim == 0 or w_ndim == 0:
        raise RuntimeError(
            f"both arguments to linear need to be at least 1D, but they are {x_ndim}D and {w_ndim}D"
        )
    weight_t = weight.t()
    try:
        if bias is None:
            return input.matmul(weight_t)
        if x_ndim == 2:
            return _addmm_tensors(bias, input, weight_t)
        shape = tuple(input.shape)
        if input.is_contiguous() and _vector_like(bias.shape):
            rows = 1
            for size in shape[:-1]:
                rows *= size  # (not -1: it cannot be inferred when a size is 0)
            out = _addmm_tensors(bias, input.reshape(rows, shape[-1]), weight_t)
            return out.view(*shape[:-1], out.shape[-1])
        out = input.matmul(weight_t)
        try:
            widened = xp.broadcast_shapes(tuple(out.shape), tuple(bias.shape))
        except ValueError:
            widened = None  # the addition below raises PyTorch's error
        if widened is not None and widened != tuple(out.shape):
            # PyTorch adds the bias in place: the result cannot grow.
            raise RuntimeError(
                f"output with shape {list(out.shape)} doesn't match the broadcast shape "
                f"{list(widened)}"
            )
        return out + bias
    except RuntimeError as error:
        _refuse_input_size(error, input, weight)
        raise


def _refuse_input_size(error: RuntimeError, input, weight) -> None:
    """Raises ``error``'s PyTorch text again with the hint for a layer given inputs of the
    wrong size (``input``'s last size is not the weight's in_features); else returns."""
    text = pytorch_text(str(error))
    if (
        weight.dim() == 2
        and text.startswith("mat1 and mat2 shapes cannot be multiplied")
        and (input.shape[-1] if input.dim() else 1) != weight.shape[1]
    ):
        hint = linear_input_size_hint(tuple(input.shape), tuple(weight.shape))
        raise RuntimeError(with_hint(text, hint)) from None


def _vector_like(shape) -> bool:
    """A bias that is a vector, or one whose other dimensions are all 1 (PyTorch folds the
    batch into rows for these)."""
    return len(shape) == 1 or sum(size != 1 for size in shape) == 1


# ---------------------------------------------------------------------- losses
def _check_reduction(size_average, reduce, reduction: str) -> str:
    """The reduction PyTorch applies: ``reduction``, or what the deprecated ``size_average`` and
    ``reduce`` say when either is given (nn/functional_losses.py)."""
    return reduction_name(legacy_reduction(size_average, reduce, reduction))


def nll_loss(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
):
    reduction = _check_reduction(size_average, reduce, reduction)
    return _nll.nll_loss(input, target, weight, ignore_index, reduction)


def cross_entropy(
    input,
    target,
    weight=None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
):
    """PyTorch's ``cross_entropy_loss``: a target of the input's shape holds class
    probabilities; any other holds class indices (see ``nll_loss``)."""
    reduction = _check_reduction(size_average, reduce, reduction)
    _tensor_argument(input, "cross_entropy_loss", "input", 1)
    _tensor_argument(target, "cross_entropy_loss", "target", 2)
    if input._data.shape == target._data.shape:
        if not target.is_floating_point():
            raise RuntimeError(
                "Expected floating point type for target with class probabilities, got "
                f"{SCALAR_TYPE_NAMES[target.dtype.name]}"
            )
        if ignore_index >= 0:
            raise RuntimeError("ignore_index is not supported for floating point target")
        return _cross_entropy_probabilities(input, target, weight, reduction, label_smoothing)
    if label_smoothing > 0.0:  # (a negative one is no smoothing, as in PyTorch)
        _check_label_smoothing(label_smoothing)
        return _cross_entropy_smoothed(
            input, target, weight, ignore_index, reduction, label_smoothing
        )
    class_dim = 0 if input._data.ndim == 1 else 1
    # (the ops' nll_loss: the reduction is checked above)
    return _nll.nll_loss(input.log_softmax(class_dim), target, weight, ignore_index, reduction)


def _check_label_smoothing(label_smoothing: float) -> None:
    if label_smoothing > 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")


def _class_weight_view(weight, ndim: int, class_dim: int):
    """The class weights shaped to broadcast along the class dimension of an input."""
    shape = [1] * ndim
    shape[class_dim] = weight.shape[0]
    return weight.reshape(shape)


def _cross_entropy_probabilities(input, target, weight, reduction: str, label_smoothing: float):
    class_dim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[class_dim]
    if weight is not None and (weight.dim() != 1 or weight.numel() != n_classes):
        raise RuntimeError(
            f"cross_entropy: weight tensor should be defined either for all {n_classes} classes "
            f"or no classes but got weight tensor of shape: {list(weight.shape)}"
        )
    logp = input.log_softmax(class_dim)
    if label_smoothing > 0.0:
        _check_label_smoothing(label_smoothing)
        smoothed = _composite.mul_scalar(target, 1 - label_smoothing)
        target = _composite.add_scalar(smoothed, label_smoothing / n_classes)
    terms = logp * target
    if weight is not None:
        terms = terms * (weight if input.dim() == 1 else _class_weight_view(weight, input.dim(), 1))
    if reduction == "none":
        return -terms.sum(class_dim)
    if reduction == "sum":
        return -terms.sum()
    if input.numel() == 0:
        return -terms.sum().fill_(float("nan"))  # PyTorch fills the mean of nothing with NaN
    return _composite.div_scalar(-terms.sum(), input.numel() / n_classes)


def _cross_entropy_smoothed(input, target, weight, ignore_index, reduction, label_smoothing):
    """Class indices with label smoothing: ``(1 - s) * nll + s / C * (the loss against the
    uniform distribution)``, positions whose target is ``ignore_index`` left out of both."""
    class_dim = 0 if input.dim() == 1 else 1
    n_classes = input.shape[class_dim]
    logp = input.log_softmax(class_dim)
    nll = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    ignore_mask = target == ignore_index
    if weight is not None:
        smooth = -(logp * _class_weight_view(weight, input.dim(), class_dim)).sum(class_dim)
    else:
        smooth = -logp.sum(class_dim)
    smooth = smooth.masked_fill(ignore_mask, 0.0)
    if reduction == "mean":
        if weight is not None:
            safe = _where(ignore_mask, _zeros_like(target), target)
            denom = (weight[safe] * (~ignore_mask).to(weight.dtype)).sum()
            ret = smooth.sum() / denom
        else:
            ret = smooth.sum() / (~ignore_mask).sum()
    elif reduction == "sum":
        ret = smooth.sum()
    else:
        ret = smooth
    smoothing = _composite.mul_scalar(ret, label_smoothing / n_classes)
    return _composite.mul_scalar(nll, 1 - label_smoothing) + smoothing


def binary_cross_entropy(
    input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"
):
    reduction = _check_reduction(size_average, reduce, reduction)
    return _bce.binary_cross_entropy(input, target, weight, reduction)


# ------------------------------------------------ pooling (ops/pooling.py, ops/pooling_1d.py)
def max_pool1d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    return _pool_1d.max_pool1d(
        input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def max_pool2d(
    input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    return _pool.max_pool2d(
        input, kernel_size, stride, padding, dilation, ceil_mode, return_indices
    )


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    return _pool_1d.avg_pool1d(input, kernel_size, stride, padding, ceil_mode, count_include_pad)


def avg_pool2d(
    input,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    return _pool.avg_pool2d(
        input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
    )


def adaptive_avg_pool1d(input, output_size):
    return _pool_1d.adaptive_avg_pool1d(input, output_size)


def adaptive_avg_pool2d(input, output_size):
    return _pool.adaptive_avg_pool2d(input, output_size)
