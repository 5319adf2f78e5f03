"""PyTorch's in-place functions at the top level: ``torch.exp_(x)`` is ``x.exp_()``.

``gradienti/__init__.py`` binds each name below whose Tensor method gradienti has, so an
in-place method added to an ``ops/`` module's ``DECLARATIONS`` becomes ``gradienti.<name>`` too.
"""

from __future__ import annotations

# Every public name of torch 2.13 that ends in "_" (``[n for n in dir(torch) if
# n.endswith("_") and not n.startswith("_")]``).
PYTORCH_TOP_LEVEL_IN_PLACE = (
    "abs_",
    "acos_",
    "acosh_",
    "addmv_",
    "alpha_dropout_",
    "arccos_",
    "arccosh_",
    "arcsin_",
    "arcsinh_",
    "arctan_",
    "arctanh_",
    "as_strided_",
    "asin_",
    "asinh_",
    "atan_",
    "atanh_",
    "ceil_",
    "celu_",
    "clamp_",
    "clamp_max_",
    "clamp_min_",
    "clip_",
    "conj_physical_",
    "cos_",
    "cosh_",
    "deg2rad_",
    "detach_",
    "dropout_",
    "embedding_renorm_",
    "erf_",
    "erfc_",
    "exp2_",
    "exp_",
    "expm1_",
    "feature_alpha_dropout_",
    "feature_dropout_",
    "fill_",
    "fix_",
    "floor_",
    "frac_",
    "gcd_",
    "i0_",
    "index_put_",
    "lcm_",
    "ldexp_",
    "log10_",
    "log1p_",
    "log2_",
    "log_",
    "logit_",
    "nan_to_num_",
    "neg_",
    "negative_",
    "rad2deg_",
    "reciprocal_",
    "relu_",
    "resize_as_",
    "resize_as_sparse_",
    "round_",
    "rrelu_",
    "rsqrt_",
    "selu_",
    "sigmoid_",
    "sin_",
    "sinc_",
    "sinh_",
    "sqrt_",
    "square_",
    "tan_",
    "tanh_",
    "threshold_",
    "trunc_",
    "xlogy_",
    "zero_",
)


def top_level_functions(tensor_class) -> dict:
    """``name -> Tensor.<name>`` for the names above that ``tensor_class`` has as methods."""
    return {
        name: getattr(tensor_class, name)
        for name in PYTORCH_TOP_LEVEL_IN_PLACE
        if hasattr(tensor_class, name)
    }
