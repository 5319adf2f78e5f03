"""Op cases: elementwise math, clamp, erf, activations, logical ops (ops/pointwise.py, clamp.py,
special.py, activation.py, logical.py). Run by test_ops.py.

Domains keep finite differences away from kinks (clamp's bounds, relu-like zeros) and poles;
the values and gradients at those points are checked against PyTorch in test_pointwise.py.
"""

from op_cases import ANY, NONZERO, POS, S3, SMALL_INT, UNIT, Case, S  # noqa: F401

from gradienti.ops import activation as _activation


def F(lib):
    """torch.nn.functional, or the module that holds gradienti's activation functions."""
    return lib.nn.functional if lib.__name__ == "torch" else _activation


def _unary(name, domain=ANY, shape=S):
    """The method and function forms of a one-input op."""
    return [
        Case(f"x.{name}()", lambda lib, x: getattr(x, name)(), (shape,), domain),
        Case(f"{name}(x)", lambda lib, x: getattr(lib, name)(x), (shape,), domain),
    ]


def _bool(name, fn, shapes):
    """A forward-only case with a bool result, on small integers (ties, zeros)."""
    return Case(name, fn, shapes, SMALL_INT, differentiable=False)


B = (3, 1)  # broadcasts against (4,) and (1, 4)

CASES: list[Case] = [
    *_unary("log1p", POS),
    Case("log1p(x) near 0", lambda lib, x: lib.log1p(x), (S,), UNIT),
    *_unary("expm1"),
    *_unary("log2", POS),
    *_unary("log10", POS),
    *_unary("exp2"),
    *_unary("rsqrt", POS),
    *_unary("tan", UNIT),
    *_unary("asin", UNIT),
    *_unary("acos", UNIT),
    *_unary("atan"),
    *_unary("sinh"),
    *_unary("cosh"),
    *_unary("erf"),
    *_unary("erfc"),
    *_unary("square"),
    Case("x.arcsin()", lambda lib, x: x.arcsin(), (S,), UNIT),
    Case("arccos(x)", lambda lib, x: lib.arccos(x), (S,), UNIT),
    Case("arctan(x)", lambda lib, x: lib.arctan(x), (S,)),
    Case("x.log1p() 0-d", lambda lib, x: x.log1p(), ((),), POS),
    Case("x.erf() 0-d", lambda lib, x: x.erf(), ((),)),
    Case("erf(x) wide", lambda lib, x: lib.erf(x * 3), (S3,)),
    Case("erfc(x) wide", lambda lib, x: lib.erfc(x * 3), (S3,)),
    Case("x.sinh()*x.cosh()", lambda lib, x: x.sinh() * x.cosh(), (S,)),
    # -- atan2, both argument orders, broadcasting
    Case("x.atan2(y)", lambda lib, x, y: x.atan2(y), (S, S)),
    Case("atan2(x,y)", lambda lib, x, y: lib.atan2(x, y), (S, S), (ANY, NONZERO)),
    Case("arctan2(x,y)", lambda lib, x, y: lib.arctan2(x, y), (S, S)),
    Case("atan2 (3,1),(4,)", lambda lib, x, y: lib.atan2(x, y), (B, (4,))),
    Case("atan2 (),(2,3)", lambda lib, x, y: lib.atan2(x, y), ((), S), NONZERO),
    # -- rounding: zero gradients (domains avoid the jumps)
    *_unary("floor"),
    *_unary("ceil"),
    *_unary("trunc"),
    *_unary("round"),
    *_unary("frac"),
    Case("x.fix()", lambda lib, x: x.fix(), (S,)),
    Case("x.round(decimals=1)", lambda lib, x: x.round(decimals=1), (S,)),
    Case("round(x, decimals=-1)", lambda lib, x: lib.round(x * 40, decimals=-1), (S,)),
    Case("x*x.floor()+x.frac()", lambda lib, x: x * x.floor() + x.frac(), (S,)),
    # -- clamp with number bounds
    Case("x.clamp(-0.5,0.5)", lambda lib, x: x.clamp(-0.5, 0.5), (S3,)),
    Case("clamp(x,min=0.25)", lambda lib, x: lib.clamp(x, min=0.25), (S,)),
    Case("clamp(x,max=-0.25)", lambda lib, x: lib.clamp(x, max=-0.25), (S,)),
    Case("x.clamp(1,-1) min>max", lambda lib, x: x.clamp(1.0, -1.0), (S,)),
    Case("x.clip(-1,1)", lambda lib, x: x.clip(-1, 1), (S,)),
    Case("clip(x,max=1)", lambda lib, x: lib.clip(x, max=1), (S,)),
    Case("x.clamp_min(0.3)", lambda lib, x: x.clamp_min(0.3), (S,)),
    Case("clamp_max(x,-0.3)", lambda lib, x: lib.clamp_max(x, -0.3), (S,)),
    Case("clamp(x*x,0.5,2) composite", lambda lib, x: lib.clamp(x * x, 0.5, 2.0) * x, (S,)),
    # -- clamp with tensor bounds: the bounds get gradients too
    Case("clamp(x,lo,hi)", lambda lib, x, lo, hi: lib.clamp(x, lo, hi - 1 + lo), (S, S, S)),
    Case("x.clamp(min=lo)", lambda lib, x, lo: x.clamp(min=lo), (S, S)),
    Case("clamp(x,max=hi)", lambda lib, x, hi: lib.clamp(x, max=hi), (S, S)),
    Case("clamp(x,lo,hi) min>max", lambda lib, x, lo, hi: lib.clamp(x, lo + 3, hi), (S, S, S)),
    Case("clamp (3,1),(4,),(1,4)", lambda lib, x, lo, hi: lib.clamp(x, lo, hi), (B, (4,), (1, 4))),
    Case("clamp (2,3),min=()", lambda lib, x, lo: lib.clamp(x, min=lo), (S, ())),
    Case("clamp (3,),min=(2,3)", lambda lib, x, lo: lib.clamp(x, min=lo), ((3,), S)),
    Case("clip(x,lo,hi)", lambda lib, x, lo, hi: lib.clip(x, lo - 1, hi + 1), (S, S, S)),
    Case("x.clamp_min(t)", lambda lib, x, lo: x.clamp_min(lo), (S, S)),
    Case("clamp_min (2,3),(3,)", lambda lib, x, lo: lib.clamp_min(x, lo), (S, (3,))),
    Case("clamp_max(x,t)", lambda lib, x, hi: lib.clamp_max(x, hi), (S, S)),
    Case("x.clamp_max (3,1),(4,)", lambda lib, x, hi: x.clamp_max(hi), (B, (4,))),
    Case("clamp(x, constant lo)", lambda lib, x: lib.clamp(x, min=lib.tensor(0.5)), (S,)),
    # -- maximum / minimum
    Case("maximum(x,y)", lambda lib, x, y: lib.maximum(x, y), (S, S)),
    Case("x.maximum(y)", lambda lib, x, y: x.maximum(y), (S, S)),
    Case("maximum (3,1),(4,)", lambda lib, x, y: lib.maximum(x, y), (B, (4,))),
    Case("maximum (),(2,3)", lambda lib, x, y: lib.maximum(x, y), ((), S)),
    Case("minimum(x,y)", lambda lib, x, y: lib.minimum(x, y), (S, S)),
    Case("x.minimum(y)", lambda lib, x, y: x.minimum(y), (S, S)),
    Case("minimum (2,3),(3,)", lambda lib, x, y: lib.minimum(x, y), (S, (3,))),
    Case(
        "maximum(x*x,y)*minimum",
        lambda lib, x, y: lib.maximum(x * x, y) * lib.minimum(x, y),
        (S, S),
    ),
    # -- nan_to_num (finite inputs: the identity, with gradient one)
    *_unary("nan_to_num"),
    Case("nan_to_num(x, nan=1)", lambda lib, x: lib.nan_to_num(x * x, nan=1.0), (S,)),
    # -- activations (torch.nn.functional's names)
    Case("softplus(x)", lambda lib, x: F(lib).softplus(x), (S3,)),
    Case("softplus(x,beta=2,threshold=10)", lambda lib, x: F(lib).softplus(x, 2, 10), (S,)),
    Case("softplus(x,beta=0.5)", lambda lib, x: F(lib).softplus(x * 5, beta=0.5), (S,)),
    Case(
        "softplus(x,threshold=1) above",
        lambda lib, x: F(lib).softplus(x + 3, threshold=1),
        (S,),
        POS,
    ),
    Case("gelu(x)", lambda lib, x: F(lib).gelu(x), (S3,)),
    Case("gelu(3x)", lambda lib, x: F(lib).gelu(x * 3), (S,)),
    Case("gelu(x, tanh)", lambda lib, x: F(lib).gelu(x, approximate="tanh"), (S3,)),
    Case("gelu(x, none)", lambda lib, x: F(lib).gelu(x, approximate="none"), (S,)),
    Case("gelu(x) 0-d", lambda lib, x: F(lib).gelu(x), ((),)),
    Case("silu(x)", lambda lib, x: F(lib).silu(x), (S3,)),
    Case("silu(4x)", lambda lib, x: F(lib).silu(x * 4), (S,)),
    Case("leaky_relu(x)", lambda lib, x: F(lib).leaky_relu(x), (S3,), NONZERO),
    Case("leaky_relu(x,0.2)", lambda lib, x: F(lib).leaky_relu(x, 0.2), (S,), NONZERO),
    Case(
        "leaky_relu(x,slope=-1.5)",
        lambda lib, x: F(lib).leaky_relu(x, negative_slope=-1.5),
        (S,),
        NONZERO,
    ),
    Case("elu(x)", lambda lib, x: F(lib).elu(x), (S3,), NONZERO),
    Case("elu(x,alpha=0.5)", lambda lib, x: F(lib).elu(x, alpha=0.5), (S,), NONZERO),
    Case("elu(x,2)", lambda lib, x: F(lib).elu(x * 3, 2.0), (S,), NONZERO),
    Case("logsigmoid(x)", lambda lib, x: F(lib).logsigmoid(x), (S3,)),
    Case("logsigmoid(5x)", lambda lib, x: F(lib).logsigmoid(x * 5), (S,)),
    Case("hardtanh(x)", lambda lib, x: F(lib).hardtanh(x), (S3,)),
    Case("hardtanh(x,-0.5,1.5)", lambda lib, x: F(lib).hardtanh(x, -0.5, 1.5), (S,)),
    Case("hardtanh(x,min_val=0)", lambda lib, x: F(lib).hardtanh(x, min_val=0.0), (S,), NONZERO),
    Case("relu6(x)", lambda lib, x: F(lib).relu6(x * 4), (S,), NONZERO),
    Case(
        "gelu(silu(x))+softplus",
        lambda lib, x: F(lib).gelu(F(lib).silu(x)) + F(lib).softplus(x),
        (S,),
    ),
    # -- where with NaN in the branch not taken (sqrt of a negative; gradient NaN, as torch)
    Case("where(x>0,x.sqrt(),0) on pos", lambda lib, x: lib.where(x > 0, x.sqrt(), 0.0), (S,), POS),
    Case("where(x>0,x,x.exp())", lambda lib, x: lib.where(x > 0, x, x.exp()), (S,), NONZERO),
    # -- boolean results: forward only (SMALL_INT gives zeros, so x/y holds NaN and infinities)
    _bool("isnan(x/y)", lambda lib, x, y: lib.isnan(x / y), (S, S)),
    _bool("(x/y).isnan()", lambda lib, x, y: (x / y).isnan(), (S, S)),
    _bool("isinf(x/y)", lambda lib, x, y: lib.isinf(x / y), (S, S)),
    _bool("(x/y).isinf()", lambda lib, x, y: (x / y).isinf(), (S, S)),
    _bool("isfinite(x/y)", lambda lib, x, y: lib.isfinite(x / y), (S, S)),
    _bool("(x/y).isfinite()", lambda lib, x, y: (x / y).isfinite(), (S, S)),
    _bool("isposinf(x/y)", lambda lib, x, y: lib.isposinf(x / y), (S, S)),
    _bool("(x/y).isneginf()", lambda lib, x, y: (x / y).isneginf(), (S, S)),
    _bool("logical_and(x,y)", lambda lib, x, y: lib.logical_and(x, y), (S, S)),
    _bool("x.logical_and(y) (3,1),(4,)", lambda lib, x, y: x.logical_and(y), (B, (4,))),
    _bool("logical_or(x,y)", lambda lib, x, y: lib.logical_or(x, y), (S, S)),
    _bool("x.logical_or(y)", lambda lib, x, y: x.logical_or(y), (S, (3,))),
    _bool("logical_xor(x,y)", lambda lib, x, y: lib.logical_xor(x, y), (S, S)),
    _bool("x.logical_xor(y)", lambda lib, x, y: x.logical_xor(y), ((), S)),
    _bool("logical_not(x)", lambda lib, x: lib.logical_not(x), (S,)),
    _bool("x.logical_not()", lambda lib, x: x.logical_not(), (S,)),
    _bool("logical_and(x>0,y<0)", lambda lib, x, y: lib.logical_and(x > 0, y < 0), (S, S)),
    _bool("x.any()", lambda lib, x: x.any(), (S3,)),
    _bool("any(x==3)", lambda lib, x: lib.any(x == 3), (S3,)),
    _bool("x.all()", lambda lib, x: x.all(), (S3,)),
    _bool("all(x!=3)", lambda lib, x: lib.all(x != 3), (S3,)),
    _bool("x.any(1)", lambda lib, x: x.any(1), (S3,)),
    _bool("any(x,-1,keepdim)", lambda lib, x: lib.any(x, -1, keepdim=True), (S3,)),
    _bool("x.all(dim=0)", lambda lib, x: x.all(dim=0), (S3,)),
    _bool("all(x,(0,2))", lambda lib, x: lib.all(x, (0, 2)), (S3,)),
    _bool("x.all((0,-1),keepdim)", lambda lib, x: x.all((0, -1), keepdim=True), (S3,)),
    _bool("x.any(dim=()) no reduction", lambda lib, x: x.any(dim=()), (S,)),
    _bool("x.any() 0-d", lambda lib, x: x.any(), ((),)),
    _bool("all(x,0) 0-d", lambda lib, x: lib.all(x, 0), ((),)),
    Case("+x", lambda lib, x: +x, (S,)),
    Case("logaddexp(x,y)", lambda lib, x, y: lib.logaddexp(x, y), (S, (3,))),
    Case("sign(x)", lambda lib, x: lib.sign(x), (S,), NONZERO),
]

# -- rounded division and remainders (ops/integer_division.py). Domains keep a/b away from the
# jumps of floor and trunc; floor_divide and number % x have no derivative in PyTorch (forward
# only here: their NotImplemented node is tested in test_integer_ops.py).
_DIVISION = (ANY, NONZERO)
CASES += [
    Case("remainder(x,y)", lambda lib, x, y: lib.remainder(x * 3, y), (S, S), _DIVISION),
    Case("x.remainder(y) (3,1),(4,)", lambda lib, x, y: x.remainder(y), (B, (4,)), _DIVISION),
    Case("x mod y (operator)", lambda lib, x, y: (x * 3) % y, (S, S), _DIVISION),
    Case("x mod 2.5 (operator)", lambda lib, x: (x * 4) % 2.5, (S,)),
    Case("x.remainder(-1.5)", lambda lib, x: x.remainder(-1.5), (S,)),
    Case("fmod(x,y)", lambda lib, x, y: lib.fmod(x * 3, y), (S, S), _DIVISION),
    Case("x.fmod(y) (),(2,3)", lambda lib, x, y: x.fmod(y), ((), S), _DIVISION),
    Case("fmod(x,-1.5)", lambda lib, x: lib.fmod(x * 4, -1.5), (S,)),
    Case(
        "div(x,y,floor)", lambda lib, x, y: lib.div(x, y, rounding_mode="floor"), (S, S), _DIVISION
    ),
    Case("x.div(y,trunc)", lambda lib, x, y: x.div(y, rounding_mode="trunc"), (S, S), _DIVISION),
    Case("divide(x,2,floor)", lambda lib, x: lib.divide(x, 0.75, rounding_mode="floor"), (S,)),
    Case(
        "x*div(x,y,trunc)",
        lambda lib, x, y: x * lib.div(x, y, rounding_mode="trunc"),
        (S, S),
        _DIVISION,
    ),
    # (detached: with a gradient their NotImplemented node would fail the table's backward)
    Case(
        "x floordiv y (operator)",
        lambda lib, x, y: x.detach() // y.detach(),
        (S, S),
        _DIVISION,
        differentiable=False,
    ),
    Case(
        "floor_divide(x,2)",
        lambda lib, x: lib.floor_divide(x.detach() * 4, 2),
        (S,),
        differentiable=False,
    ),
    Case(
        "3 floordiv x (operator)",
        lambda lib, x: 3 // x.detach(),
        (S,),
        NONZERO,
        differentiable=False,
    ),
    Case("3 mod x (operator)", lambda lib, x: 3 % x.detach(), (S,), NONZERO, differentiable=False),
    Case(
        "x.floor_divide(y)",
        lambda lib, x, y: x.detach().floor_divide(y.long()),
        (S, S),
        _DIVISION,
        differentiable=False,
    ),
    # -- xlogy (ops/xlogy.py), logaddexp2
    Case("xlogy(x,y)", lambda lib, x, y: lib.xlogy(x, y), (S, S), (ANY, POS)),
    Case("x.xlogy(y) (3,1),(4,)", lambda lib, x, y: x.xlogy(y), (B, (4,)), (ANY, POS)),
    Case("xlogy(x,2.5)", lambda lib, x: lib.xlogy(x, 2.5), (S,)),
    Case("xlogy(2,y)", lambda lib, y: lib.xlogy(2, y), (S,), POS),
    Case("logaddexp2(x,y)", lambda lib, x, y: lib.logaddexp2(x, y), (S, (3,))),
    Case("x.logaddexp2(y)", lambda lib, x, y: x.logaddexp2(y * 3), (S, S)),
    # -- the gamma family (ops/gamma.py) and erfinv: poles and ±1 are in test_special_functions.py
    *_unary("lgamma", POS),
    Case("lgamma(x) negative", lambda lib, x: lib.lgamma(x * 0.4 - 1.5), (S,), UNIT),
    Case("lgamma(x) wide", lambda lib, x: lib.lgamma(x * 4 + 9), (S3,)),
    *_unary("digamma", POS),
    Case("digamma(x) negative", lambda lib, x: lib.digamma(x * 0.4 - 2.5), (S,), UNIT),
    Case("polygamma(1,x)", lambda lib, x: lib.polygamma(1, x), (S,), POS),
    Case("x.polygamma(2)", lambda lib, x: x.polygamma(2), (S,), POS),
    Case("polygamma(3,x) negative", lambda lib, x: lib.polygamma(3, x * 0.4 - 1.5), (S,), UNIT),
    Case("polygamma(0,x)", lambda lib, x: lib.polygamma(0, x * 5), (S,), POS),
    *_unary("erfinv", UNIT),
    Case("erfinv(x) tails", lambda lib, x: lib.erfinv(x * 0.05 + x.sign() * 0.88), (S3,), NONZERO),
]
