"""Op cases: padding (nn.functional.pad's four modes, torch.constant_pad_nd), upsampling
(nn.functional.interpolate's modes), bilinear and the further activations of nn.functional
(ops/padding.py, ops/upsample.py, ops/bilinear.py, ops/activation_more.py).

Kinks are kept away from: hardshrink/softshrink's ±lambd, threshold's threshold, softsign's 0
(NONZERO inputs are ±[0.5, 2]); reflect and replicate read edge elements more than once, so
their gradients add up there, which the non-uniform upstream gradient checks. hardsigmoid is
tested in test_nn_layers_more.py: PyTorch has no double backward for it.
"""

from op_cases import NONZERO, POS, Case


def F(lib):  # noqa: N802 - reads as PyTorch's ``F``
    return lib.nn.functional


def _pad(pad, mode="constant", value=None):
    return lambda lib, x: F(lib).pad(x, pad, mode=mode, value=value)


def _interp(**kwargs):
    return lambda lib, x: F(lib).interpolate(x, **kwargs)


_PAD = [
    Case("pad constant (1,2)", _pad((1, 2)), ((2, 3, 4),)),
    Case("pad constant value=1.5 last 3 dims", _pad((1, 0, 2, 1, 0, 1), value=1.5), ((2, 3, 4),)),
    Case("pad constant negative crops", _pad((-1, 2, 1, -2)), ((2, 4, 5),)),
    Case("pad constant all dims of 1-d", _pad((2, 1)), ((3,),)),
    Case(
        "constant_pad_nd(x,(1,1,0,2),-1)",
        lambda lib, x: lib.constant_pad_nd(x, (1, 1, 0, 2), -1.0),
        ((2, 3),),
    ),
    Case("pad reflect 1d", _pad((2, 3), "reflect"), ((2, 3, 5),)),
    Case("pad reflect 1d unbatched negative", _pad((3, -1), "reflect"), ((2, 5),)),
    Case("pad reflect 2d", _pad((1, 2, 2, 1), "reflect"), ((1, 2, 4, 3),)),
    Case("pad reflect 3d", _pad((1, 1, 1, 0, 0, 1), "reflect"), ((1, 2, 2, 3, 3),)),
    Case("pad replicate 1d", _pad((3, 1), "replicate"), ((2, 2, 3),)),
    Case("pad replicate 2d", _pad((2, 1, 0, 3), "replicate"), ((2, 3, 3),)),
    Case("pad replicate 3d negative", _pad((1, -1, 2, 0, 1, 1), "replicate"), ((1, 1, 2, 3, 3),)),
    Case("pad circular 1d", _pad((2, 1), "circular"), ((2, 2, 4),)),
    Case("pad circular 2d", _pad((1, 2, 1, 1), "circular"), ((1, 2, 3, 4),)),
    Case("pad circular negative", _pad((2, -1), "circular"), ((2, 5),)),
]

_UPSAMPLE = [
    Case("interpolate nearest 1d x2", _interp(scale_factor=2), ((2, 2, 3),)),
    Case("interpolate nearest 2d size", _interp(size=(5, 3)), ((1, 2, 3, 4),)),
    Case("interpolate nearest 2d scale 1.7", _interp(scale_factor=1.7), ((1, 2, 3, 4),)),
    Case("interpolate nearest 3d", _interp(scale_factor=(1, 2, 1.5)), ((1, 1, 2, 2, 3),)),
    Case(
        "interpolate nearest-exact 2d", _interp(size=(4, 7), mode="nearest-exact"), ((1, 2, 3, 4),)
    ),
    Case("interpolate linear 1d", _interp(scale_factor=2.5, mode="linear"), ((2, 2, 4),)),
    Case(
        "interpolate linear align_corners",
        _interp(size=7, mode="linear", align_corners=True),
        ((2, 2, 4),),
    ),
    Case("interpolate bilinear x2", _interp(scale_factor=2, mode="bilinear"), ((1, 2, 3, 3),)),
    Case(
        "interpolate bilinear down, align_corners",
        _interp(size=(2, 3), mode="bilinear", align_corners=True),
        ((1, 2, 4, 5),),
    ),
    Case(
        "interpolate bilinear recompute_scale_factor",
        _interp(scale_factor=(1.3, 1.6), mode="bilinear", recompute_scale_factor=True),
        ((2, 1, 3, 4),),
    ),
    Case("interpolate bicubic", _interp(size=(5, 6), mode="bicubic"), ((1, 2, 3, 4),)),
    Case(
        "interpolate bicubic align_corners",
        _interp(scale_factor=1.5, mode="bicubic", align_corners=True),
        ((1, 1, 4, 3),),
    ),
    Case("interpolate trilinear", _interp(scale_factor=2, mode="trilinear"), ((1, 1, 2, 2, 3),)),
    Case("interpolate area", _interp(size=(2, 3), mode="area"), ((1, 2, 4, 5),)),
]

_BILINEAR = [
    Case(
        "bilinear(x1,x2,w,b)",
        lambda lib, x1, x2, w, b: F(lib).bilinear(x1, x2, w, b),
        ((4, 3), (4, 2), (5, 3, 2), (5,)),
    ),
    Case(
        "bilinear batch dims, no bias",
        lambda lib, x1, x2, w: F(lib).bilinear(x1, x2, w),
        ((2, 3, 3), (2, 3, 2), (4, 3, 2)),
    ),
]

_ACTIVATIONS = [
    Case("mish", lambda lib, x: F(lib).mish(x), ((2, 3),)),
    Case("hardswish", lambda lib, x: F(lib).hardswish(x * 2.5), ((3, 4),)),
    Case("celu alpha=0.7", lambda lib, x: F(lib).celu(x, 0.7), ((2, 3),)),
    Case("selu", lambda lib, x: F(lib).selu(x), ((2, 3),)),
    Case("threshold", lambda lib, x: F(lib).threshold(x, 0.1, -3.0), ((2, 3),), NONZERO),
    Case("hardshrink", lambda lib, x: F(lib).hardshrink(x, 0.3), ((2, 3),), NONZERO),
    Case("softshrink", lambda lib, x: F(lib).softshrink(x, 0.3), ((2, 3),), NONZERO),
    Case("softsign", lambda lib, x: F(lib).softsign(x), ((2, 3),), NONZERO),
    Case("tanhshrink", lambda lib, x: F(lib).tanhshrink(x), ((2, 3),)),
    Case("softmin dim 1", lambda lib, x: F(lib).softmin(x, dim=1), ((2, 3),)),
    Case("glu", lambda lib, x: F(lib).glu(x), ((2, 4),)),
    Case("glu dim 0", lambda lib, x: F(lib).glu(x, 0), ((4, 3),)),
    Case("prelu channels", lambda lib, x, w: F(lib).prelu(x, w), ((2, 3, 2), (3,)), (NONZERO, POS)),
    Case("prelu one weight", lambda lib, x, w: F(lib).prelu(x, w), ((4,), (1,)), (NONZERO, POS)),
    Case("prelu 0-d weight", lambda lib, x, w: F(lib).prelu(x, w), ((2, 3), ()), (NONZERO, POS)),
]

CASES = _PAD + _UPSAMPLE + _BILINEAR + _ACTIVATIONS
