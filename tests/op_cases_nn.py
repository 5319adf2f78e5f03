"""Op cases: the nn.functional ops (convolution, pooling, normalization, embedding, linear) and
matmul's broadcast variants that op_cases_linalg.py lacks.

``CASES`` are run by test_ops.py (finite differences, and PyTorch's forward, graph, gradient
and double backward) and by test_forward_ad_ops.py (forward AD against finite differences and
PyTorch, forward over reverse). Constants that are not differentiable inputs of a case
(running statistics, embedding indices) are made inside its function, the same for both
libraries; max pooling's inputs are random, so no two values of a window tie.
"""

import numpy as np
from op_cases import Case


def _const(lib, like, shape, seed, low=-2.0, high=2.0):
    """A constant (not requiring grad) in the dtype of ``like``."""
    values = np.random.default_rng(seed).uniform(low, high, shape)
    return lib.tensor(values, dtype=like.dtype)


def _indices(lib):
    """Embedding indices: repeated (their gradients add up), one row (4) never read."""
    return lib.tensor([[0, 2, 1], [2, 3, 0]])


def F(lib):  # noqa: N802 - reads as PyTorch's ``F``
    return lib.nn.functional


# -- convolution: stride, padding, dilation, groups, with and without bias
_CONV = [
    Case("conv1d(x,w)", lambda lib, x, w: F(lib).conv1d(x, w), ((2, 3, 6), (4, 3, 2))),
    Case(
        "conv1d(x,w,b,stride=2,padding=2,dilation=2)",
        lambda lib, x, w, b: F(lib).conv1d(x, w, b, stride=2, padding=2, dilation=2),
        ((2, 2, 7), (3, 2, 3), (3,)),
    ),
    Case(
        "conv1d(x,w,groups=2)",
        lambda lib, x, w: F(lib).conv1d(x, w, groups=2),
        ((1, 4, 5), (6, 2, 2)),
    ),
    Case(
        "conv1d(x,w,b,padding='same') unbatched",
        lambda lib, x, w, b: F(lib).conv1d(x, w, b, padding="same", dilation=2),
        ((2, 7), (3, 2, 3), (3,)),
    ),
    Case("conv2d(x,w)", lambda lib, x, w: F(lib).conv2d(x, w), ((2, 2, 4, 4), (3, 2, 2, 2))),
    Case(
        "conv2d(x,w,b,stride=(2,1),padding=(1,0))",
        lambda lib, x, w, b: F(lib).conv2d(x, w, b, stride=(2, 1), padding=(1, 0)),
        ((1, 2, 5, 4), (2, 2, 3, 2), (2,)),
    ),
    Case(
        "conv2d(x,w,b,dilation=2,groups=2)",
        lambda lib, x, w, b: F(lib).conv2d(x, w, b, dilation=2, groups=2),
        ((2, 4, 5, 5), (4, 2, 2, 2), (4,)),
    ),
    Case(
        "conv2d(x,w,padding=1) unbatched",
        lambda lib, x, w: F(lib).conv2d(x, w, padding=1),
        ((2, 3, 3), (2, 2, 3, 3)),
    ),
    Case(
        "conv2d depthwise (groups=channels)",
        lambda lib, x, w, b: F(lib).conv2d(x, w, b, groups=3),
        ((1, 3, 4, 4), (3, 1, 2, 2), (3,)),
    ),
    Case(
        "conv2d(conv2d(x,w),v)",
        lambda lib, x, w, v: F(lib).conv2d(F(lib).conv2d(x, w), v),
        ((1, 2, 5, 5), (3, 2, 2, 2), (2, 3, 2, 2)),
    ),
]

# -- pooling (max pooling gathers at the winners; average pooling is linear)
_POOL = [
    Case("max_pool2d(x,2)", lambda lib, x: F(lib).max_pool2d(x, 2), ((2, 2, 4, 4),)),
    Case(
        "max_pool2d(x,3,stride=2,padding=1)",
        lambda lib, x: F(lib).max_pool2d(x, 3, stride=2, padding=1),
        ((1, 2, 5, 5),),
    ),
    Case(
        "max_pool2d(x,2,dilation=2,ceil_mode)",
        lambda lib, x: F(lib).max_pool2d(x, 2, stride=2, dilation=2, ceil_mode=True),
        ((1, 1, 6, 7),),
    ),
    Case(
        "max_pool2d(x,(2,3),return_indices)[0] 3-d",
        lambda lib, x: F(lib).max_pool2d(x, (2, 3), return_indices=True)[0],
        ((2, 4, 6),),
    ),
    Case("max_pool1d(x,2)", lambda lib, x: F(lib).max_pool1d(x, 2), ((2, 3, 6),)),
    Case(
        "max_pool1d(x,3,stride=1,padding=1)",
        lambda lib, x: F(lib).max_pool1d(x, 3, stride=1, padding=1),
        ((2, 5),),
    ),
    Case("avg_pool2d(x,2)", lambda lib, x: F(lib).avg_pool2d(x, 2), ((2, 2, 4, 4),)),
    Case(
        "avg_pool2d(x,3,stride=2,padding=1,count_include_pad=False)",
        lambda lib, x: F(lib).avg_pool2d(x, 3, stride=2, padding=1, count_include_pad=False),
        ((1, 2, 5, 5),),
    ),
    Case(
        "avg_pool2d(x,2,ceil_mode,divisor_override=3)",
        lambda lib, x: F(lib).avg_pool2d(x, 2, ceil_mode=True, divisor_override=3),
        ((1, 1, 5, 5),),
    ),
    Case(
        "avg_pool2d(x,(1,3),padding=(0,1),ceil_mode) 3-d",
        lambda lib, x: F(lib).avg_pool2d(x, (1, 3), stride=2, padding=(0, 1), ceil_mode=True),
        ((2, 3, 6),),
    ),
    Case("avg_pool1d(x,3,stride=2)", lambda lib, x: F(lib).avg_pool1d(x, 3, stride=2), ((2, 7),)),
    Case(
        "avg_pool1d(x,2,padding=1)",
        lambda lib, x: F(lib).avg_pool1d(x, 2, padding=1, count_include_pad=False),
        ((1, 2, 5),),
    ),
    Case(
        "adaptive_avg_pool2d(x,(2,3))",
        lambda lib, x: F(lib).adaptive_avg_pool2d(x, (2, 3)),
        ((2, 2, 5, 4),),
    ),
    Case(
        "adaptive_avg_pool2d(x,1)", lambda lib, x: F(lib).adaptive_avg_pool2d(x, 1), ((1, 3, 4, 4),)
    ),
    Case("adaptive_avg_pool1d(x,3)", lambda lib, x: F(lib).adaptive_avg_pool1d(x, 3), ((2, 3, 7),)),
]

# -- normalization (running statistics are constants made in the case)
_NORM = [
    Case(
        "batch_norm training, affine",
        lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True),
        ((4, 3), (3,), (3,)),
    ),
    Case(
        "batch_norm training 4-d",
        lambda lib, x: F(lib).batch_norm(x, None, None, training=True),
        ((2, 3, 2, 2),),
    ),
    Case(
        "batch_norm training, running stats, affine 3-d",
        lambda lib, x, w, b: F(lib).batch_norm(
            x, lib.zeros(3, dtype=x.dtype), lib.ones(3, dtype=x.dtype), w, b, True, 0.3
        ),
        ((2, 3, 4), (3,), (3,)),
    ),
    Case(
        "batch_norm training, weight only",
        lambda lib, x, w: F(lib).batch_norm(x, None, None, w, training=True, eps=1e-3),
        ((3, 2, 3), (2,)),
    ),
    Case(
        "batch_norm eval, affine",
        lambda lib, x, w, b: F(lib).batch_norm(
            x, _const(lib, x, (3,), 1), _const(lib, x, (3,), 2, 0.5, 2.0), w, b
        ),
        ((2, 3, 2, 2), (3,), (3,)),
    ),
    Case(
        "batch_norm eval",
        lambda lib, x: F(lib).batch_norm(
            x, _const(lib, x, (4,), 3), _const(lib, x, (4,), 4, 0.5, 2.0), training=False
        ),
        ((3, 4),),
    ),
    Case(
        "layer_norm(x,(4,),w,b)",
        lambda lib, x, w, b: F(lib).layer_norm(x, (4,), w, b),
        ((2, 3, 4), (4,), (4,)),
    ),
    Case("layer_norm(x,(3,4))", lambda lib, x: F(lib).layer_norm(x, (3, 4)), ((2, 3, 4),)),
    Case(
        "layer_norm(x,(2,3),w,eps=1e-3)",
        lambda lib, x, w: F(lib).layer_norm(x, (2, 3), w, eps=1e-3),
        ((2, 3), (2, 3)),
    ),
]

# -- embedding (the weight is the differentiable input, the indices a constant)
_EMBEDDING = [
    Case("embedding(i,w)", lambda lib, w: F(lib).embedding(_indices(lib), w), ((5, 3),)),
    Case(
        "embedding(i,w).tanh().sum(1)",
        lambda lib, w: F(lib).embedding(_indices(lib), w).tanh().sum(1),
        ((5, 3),),
    ),
]

# -- linear, and matmul's broadcasts that op_cases_linalg.py lacks
_LINEAR = [
    Case("linear(x,w,b)", lambda lib, x, w, b: F(lib).linear(x, w, b), ((2, 3), (4, 3), (4,))),
    Case("linear(x,w)", lambda lib, x, w: F(lib).linear(x, w), ((2, 3), (4, 3))),
    Case(
        "linear(x,w,b) 3-d", lambda lib, x, w, b: F(lib).linear(x, w, b), ((2, 2, 3), (4, 3), (4,))
    ),
    Case("linear(x,w) 1-d", lambda lib, x, w: F(lib).linear(x, w), ((3,), (2, 3))),
    Case(
        "linear(x,w,b) bias (2,4)",
        lambda lib, x, w, b: F(lib).linear(x, w, b),
        ((2, 2, 3), (4, 3), (2, 4)),
    ),
    Case(
        "linear(linear(x,w,b),v)",
        lambda lib, x, w, b, v: F(lib).linear(F(lib).linear(x, w, b), v),
        ((2, 3), (4, 3), (4,), (2, 4)),
    ),
    Case("x@y (1,3,4)@(2,1,4,5)", lambda lib, x, y: x @ y, ((1, 3, 4), (2, 1, 4, 5))),
    Case("x@y (4,)@(2,2,4,3)", lambda lib, x, y: x @ y, ((4,), (2, 2, 4, 3))),
    Case("x@y (2,1,3,4)@(4,)", lambda lib, x, y: x @ y, ((2, 1, 3, 4), (4,))),
    Case(
        "addmm(b,x,y,beta,alpha)",
        lambda lib, b, x, y: lib.addmm(b, x, y, beta=0.5, alpha=2.0),
        ((2, 4), (2, 3), (3, 4)),
    ),
    Case(
        "addmm(b,x,y,beta=0)",
        lambda lib, b, x, y: lib.addmm(b, x, y, beta=0),
        ((1, 4), (2, 3), (3, 4)),
    ),
]

CASES: list[Case] = _CONV + _POOL + _NORM + _EMBEDDING + _LINEAR
