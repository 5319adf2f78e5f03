"""Op cases: group, RMS and instance normalisation (ops/group_norm.py).

``CASES`` are run by test_ops.py (finite differences, and PyTorch's forward, graph, gradient
and double backward) and by the op-table tests that import it (forward AD, vmap, saved-tensor
hooks). Running statistics are constants made inside a case, the same for both libraries.
"""

import numpy as np
from op_cases import Case


def F(lib):  # noqa: N802 - reads as PyTorch's ``F``
    return lib.nn.functional


def _running(lib, like, channels, seed):
    """(running_mean, running_var) constants in the dtype of ``like``."""
    rng = np.random.default_rng(seed)
    mean = lib.tensor(rng.uniform(-1.0, 1.0, channels), dtype=like.dtype)
    var = lib.tensor(rng.uniform(0.5, 2.0, channels), dtype=like.dtype)
    return mean, var


def _instance_norm_tracked(lib, x, w, b, use_input_stats):
    mean, var = _running(lib, x, x.shape[1], 7)
    return F(lib).instance_norm(x, mean, var, w, b, use_input_stats, 0.2)


_GROUP = [
    Case(
        "group_norm(x,2,w,b)",
        lambda lib, x, w, b: F(lib).group_norm(x, 2, w, b),
        ((2, 4, 3), (4,), (4,)),
    ),
    Case("group_norm(x,3) 4-d", lambda lib, x: F(lib).group_norm(x, 3), ((2, 6, 2, 2),)),
    Case(
        "group_norm(x,1,w,eps=1e-3) 2-d",
        lambda lib, x, w: F(lib).group_norm(x, 1, w, eps=1e-3),
        ((3, 4), (4,)),
    ),
    Case(
        # (PyTorch's backward fails for a bias without a weight: "tensor does not have a device")
        "torch.group_norm(x,4,w) groups of one channel",
        lambda lib, x, w: lib.group_norm(x, 4, w),
        ((2, 4, 3), (4,)),
    ),
]

_RMS = [
    Case("rms_norm(x,(4,))", lambda lib, x: F(lib).rms_norm(x, (4,)), ((2, 3, 4),)),
    Case(
        "rms_norm(x,(3,4),w,eps=1e-3)",
        lambda lib, x, w: F(lib).rms_norm(x, (3, 4), w, eps=1e-3),
        ((2, 3, 4), (3, 4)),
    ),
    Case("torch.rms_norm(x,[3],w)", lambda lib, x, w: lib.rms_norm(x, [3], w), ((3,), (3,))),
]

_INSTANCE = [
    Case("instance_norm(x)", lambda lib, x: F(lib).instance_norm(x), ((2, 3, 4),)),
    Case(
        "instance_norm(x,w,b) 4-d",
        lambda lib, x, w, b: F(lib).instance_norm(x, weight=w, bias=b, eps=1e-3),
        ((2, 2, 3, 2), (2,), (2,)),
    ),
    Case(
        "instance_norm(x,running,w,b) input stats",
        lambda lib, x, w, b: _instance_norm_tracked(lib, x, w, b, True),
        ((2, 3, 4), (3,), (3,)),
    ),
    Case(
        "instance_norm(x,running,w,b) running stats",
        lambda lib, x, w, b: _instance_norm_tracked(lib, x, w, b, False),
        ((2, 3, 4), (3,), (3,)),
    ),
    Case(
        "torch.instance_norm(x,w,None,...) 2-d spatial",
        lambda lib, x, w: lib.instance_norm(x, w, None, None, None, True, 0.1, 1e-5, False),
        ((1, 2, 2, 3), (2,)),
    ),
]

CASES = _GROUP + _RMS + _INSTANCE
