"""Op cases: the softmax family through ``nn.functional`` and the losses whose graph is
PyTorch's (ops/softmax.py, nll_loss.py, binary_cross_entropy.py, regression_losses.py;
cross_entropy, l1_loss in nn/functional.py and nn/functional_losses.py). Run by test_ops.py
(finite differences; PyTorch's forward, graph, gradient, double backward) and
test_forward_ad_ops.py (forward AD, forward over reverse).

Class targets, class weights and probability targets that are not differentiable inputs are
constants made inside a case's function, the same for both libraries. The fused losses of
ops/regression_losses.py (mse, huber, smooth_l1, soft_margin) and
binary_cross_entropy_with_logits are one node each, as PyTorch's, for every reduction; the
composed ones record ATen's compositions node for node (ops/composite_nodes.py holds the
Tensor-and-Scalar nodes they need).
"""

import numpy as np
from op_cases import ANY, POS, Case

N, C = 3, 5  # a batch of rows, the classes


def F(lib):  # noqa: N802 - reads as PyTorch's ``F``
    return lib.nn.functional


def _classes(lib, *shape, seed=0):
    """Class targets in [0, C), the same for both libraries."""
    return lib.tensor(np.random.default_rng(seed).integers(0, C, shape))


def _weight(lib, like):
    """Class weights, in the input's dtype."""
    return lib.tensor([0.5, 2.0, 1.0, 0.25, 1.5], dtype=like.dtype)


def _probabilities(lib, like, shape, seed=1):
    """A constant in (0, 1), in the input's dtype (binary targets, element weights)."""
    values = np.random.default_rng(seed).uniform(0.1, 0.9, shape)
    return lib.tensor(values, dtype=like.dtype)


_TARGETS = [0, 4, 1]  # one per row: class 1 twice below, for ignore_index
_TARGETS_IGNORED = [1, 4, 1]

ROWS = (N, C)
SPATIAL = (2, C, 2, 3)  # (N, C, H, W): nll_loss2d
SEQUENCE = (2, C, 4)  # (N, C, L): folded into nll_loss2d

# -- the softmax family, nn.functional's forms (Tensor methods: op_cases_reduction.py)
_SOFTMAX = [
    Case("F.softmax(x,1)", lambda lib, x: F(lib).softmax(x, 1), ((2, 3, 4),)),
    Case("F.softmax(x,dim=0)", lambda lib, x: F(lib).softmax(x, dim=0), (ROWS,)),
    Case(
        "F.softmax(x,-1,float64)", lambda lib, x: F(lib).softmax(x, -1, dtype=lib.float64), (ROWS,)
    ),
    Case("F.log_softmax(x,1)", lambda lib, x: F(lib).log_softmax(x, 1), ((2, 3, 4),)),
    Case("F.log_softmax(x,dim=-1)", lambda lib, x: F(lib).log_softmax(x, dim=-1), (ROWS,)),
    Case("F.log_softmax(x,0) 1-d", lambda lib, x: F(lib).log_softmax(x, 0), ((C,),)),
    Case(
        "F.log_softmax(x*y,1)*y",
        lambda lib, x, y: F(lib).log_softmax(x * y, 1) * y,
        (ROWS, ROWS),
    ),
]

# -- cross_entropy with class indices: log_softmax, then nll_loss
_CROSS_ENTROPY = [
    Case(
        "F.cross_entropy(x,t)",
        lambda lib, x: F(lib).cross_entropy(x, lib.tensor(_TARGETS)),
        (ROWS,),
    ),
    Case(
        "F.cross_entropy(x,t,sum)",
        lambda lib, x: F(lib).cross_entropy(x, lib.tensor(_TARGETS), reduction="sum"),
        (ROWS,),
    ),
    Case(
        "F.cross_entropy(x,t,none)",
        lambda lib, x: F(lib).cross_entropy(x, lib.tensor(_TARGETS), reduction="none"),
        (ROWS,),
    ),
    Case(
        "F.cross_entropy(x,t,weight)",
        lambda lib, x: F(lib).cross_entropy(x, lib.tensor(_TARGETS), weight=_weight(lib, x)),
        (ROWS,),
    ),
    Case(
        "F.cross_entropy(x,t,ignore_index=1)",
        lambda lib, x: F(lib).cross_entropy(x, lib.tensor(_TARGETS_IGNORED), ignore_index=1),
        (ROWS,),
    ),
    Case(
        "F.cross_entropy(x,t,weight,ignore_index,none)",
        lambda lib, x: F(lib).cross_entropy(
            x, lib.tensor(_TARGETS_IGNORED), _weight(lib, x), ignore_index=1, reduction="none"
        ),
        (ROWS,),
    ),
    Case(
        "F.cross_entropy(x,t) 1-d",
        lambda lib, x: F(lib).cross_entropy(x, lib.tensor(3)),
        ((C,),),
    ),
    Case(
        "F.cross_entropy(x,t) spatial",
        lambda lib, x: F(lib).cross_entropy(x, _classes(lib, 2, 2, 3), weight=_weight(lib, x)),
        (SPATIAL,),
    ),
    Case(
        "F.cross_entropy(x,t,none) sequence",
        lambda lib, x: F(lib).cross_entropy(x, _classes(lib, 2, 4), reduction="none"),
        (SEQUENCE,),
    ),
]

# -- nll_loss on any values (it is linear in its input)
_NLL = [
    Case("F.nll_loss(x,t)", lambda lib, x: F(lib).nll_loss(x, lib.tensor(_TARGETS)), (ROWS,)),
    Case(
        "F.nll_loss(x,t,sum)",
        lambda lib, x: F(lib).nll_loss(x, lib.tensor(_TARGETS), reduction="sum"),
        (ROWS,),
    ),
    Case(
        "F.nll_loss(x,t,weight,none)",
        lambda lib, x: F(lib).nll_loss(x, lib.tensor(_TARGETS), _weight(lib, x), reduction="none"),
        (ROWS,),
    ),
    Case(
        "F.nll_loss(x,t,weight,ignore_index=1)",
        lambda lib, x: F(lib).nll_loss(
            x, lib.tensor(_TARGETS_IGNORED), _weight(lib, x), ignore_index=1
        ),
        (ROWS,),
    ),
    Case(
        "F.nll_loss(x*x,t)",
        lambda lib, x: F(lib).nll_loss(x * x, lib.tensor(_TARGETS)),
        (ROWS,),
    ),
    Case(
        "F.nll_loss(x,t,ignore_index=2) spatial",
        lambda lib, x: F(lib).nll_loss(x, _classes(lib, 2, 2, 3, seed=2), ignore_index=2),
        (SPATIAL,),
    ),
    Case(
        "F.nll_loss(x,t,none) spatial",
        lambda lib, x: F(lib).nll_loss(x, _classes(lib, 2, 2, 3), reduction="none"),
        (SPATIAL,),
    ),
    Case(
        "F.nll_loss(x,t,weight) sequence",
        lambda lib, x: F(lib).nll_loss(x, _classes(lib, 2, 4), _weight(lib, x)),
        (SEQUENCE,),
    ),
]

# -- binary_cross_entropy of probabilities (sigmoid of the input, or a POS input scaled into
# (0, 1)), against a constant target or a differentiable one
_BCE = [
    Case(
        "F.binary_cross_entropy(sigmoid(x),t)",
        lambda lib, x: F(lib).binary_cross_entropy(x.sigmoid(), _probabilities(lib, x, ROWS)),
        (ROWS,),
    ),
    Case(
        "F.binary_cross_entropy(p,t,sum)",
        lambda lib, x: F(lib).binary_cross_entropy(
            x / 2.5, _probabilities(lib, x, ROWS), reduction="sum"
        ),
        (ROWS,),
        POS,
    ),
    Case(
        "F.binary_cross_entropy(p,t,weight,none)",
        lambda lib, x: F(lib).binary_cross_entropy(
            x.sigmoid(),
            _probabilities(lib, x, ROWS),
            weight=_probabilities(lib, x, (C,), seed=2),
            reduction="none",
        ),
        (ROWS,),
    ),
    Case(
        "F.binary_cross_entropy(p,t,weight)",
        lambda lib, x: F(lib).binary_cross_entropy(
            x.sigmoid(), _probabilities(lib, x, ROWS), _probabilities(lib, x, ROWS, seed=3)
        ),
        (ROWS,),
    ),
    Case(
        "F.binary_cross_entropy(sigmoid(x),sigmoid(y))",
        lambda lib, x, y: F(lib).binary_cross_entropy(x.sigmoid(), y.sigmoid()),
        (ROWS, ROWS),
    ),
    Case(
        "F.binary_cross_entropy(sigmoid(x),sigmoid(y),none)",
        lambda lib, x, y: F(lib).binary_cross_entropy(x.sigmoid(), y.sigmoid(), reduction="none"),
        (ROWS, ROWS),
    ),
]

# -- l1_loss: PyTorch composes it too (mean of abs of the difference)
_L1 = [
    Case(
        "F.l1_loss(x,t)",
        lambda lib, x: F(lib).l1_loss(x, _probabilities(lib, x, ROWS) * 5 - 2.5),
        (ROWS,),
    ),
    Case(
        "F.l1_loss(x,y,sum)", lambda lib, x, y: F(lib).l1_loss(x, y, reduction="sum"), (ROWS, ROWS)
    ),
    Case(
        "F.l1_loss(x,y,none)",
        lambda lib, x, y: F(lib).l1_loss(x, y, reduction="none"),
        (ROWS, ROWS),
    ),
]

CASES = _SOFTMAX + _CROSS_ENTROPY + _NLL + _BCE + _L1


# -- the fused losses of a difference (ops/regression_losses.py): one node of (input, target)
# for every reduction; the target differentiable or a constant, broadcast (ExpandBackward0)
def _signs(lib, like, shape, seed=4):
    """A constant target of ±1 (soft_margin_loss), in the input's dtype."""
    values = np.random.default_rng(seed).choice([-1.0, 1.0], shape)
    return lib.tensor(values, dtype=like.dtype)


_REGRESSION = [
    Case("F.mse_loss(x,y)", lambda lib, x, y: F(lib).mse_loss(x, y), (ROWS, ROWS)),
    Case(
        "F.mse_loss(x,y,sum)",
        lambda lib, x, y: F(lib).mse_loss(x, y, reduction="sum"),
        (ROWS, ROWS),
    ),
    Case(
        "F.mse_loss(x,y,none)",
        lambda lib, x, y: F(lib).mse_loss(x, y, reduction="none"),
        (ROWS, ROWS),
    ),
    Case(
        "F.mse_loss(x,t) constant target",
        lambda lib, x: F(lib).mse_loss(x, _probabilities(lib, x, ROWS)),
        (ROWS,),
    ),
    Case(
        "F.mse_loss(x*x,y) broadcast target",
        lambda lib, x, y: F(lib).mse_loss(x * x, y.expand(N, C)),
        (ROWS, (C,)),
    ),
    Case(
        "F.mse_loss(x,y,weight)",
        lambda lib, x, y: F(lib).mse_loss(x, y, weight=_probabilities(lib, x, ROWS, seed=2)),
        (ROWS, ROWS),
    ),
    Case(
        "F.mse_loss(x,y,weight,none)",
        lambda lib, x, y: F(lib).mse_loss(
            x, y, weight=_probabilities(lib, x, ROWS, seed=2), reduction="none"
        ),
        (ROWS, ROWS),
    ),
    Case("F.huber_loss(x,y)", lambda lib, x, y: F(lib).huber_loss(x, y), (ROWS, ROWS)),
    Case(
        "F.huber_loss(x,y,sum,delta=0.5)",
        lambda lib, x, y: F(lib).huber_loss(x, y, reduction="sum", delta=0.5),
        (ROWS, ROWS),
    ),
    Case(
        "F.huber_loss(x,y,none,delta=2)",
        lambda lib, x, y: F(lib).huber_loss(x, y, reduction="none", delta=2.0),
        (ROWS, ROWS),
    ),
    Case(
        "F.huber_loss(x,y,weight)",
        lambda lib, x, y: F(lib).huber_loss(x, y, weight=_probabilities(lib, x, ROWS, seed=2)),
        (ROWS, ROWS),
    ),
    Case("F.smooth_l1_loss(x,y)", lambda lib, x, y: F(lib).smooth_l1_loss(x, y), (ROWS, ROWS)),
    Case(
        "F.smooth_l1_loss(x,y,sum,beta=0.5)",
        lambda lib, x, y: F(lib).smooth_l1_loss(x, y, reduction="sum", beta=0.5),
        (ROWS, ROWS),
    ),
    Case(
        "F.smooth_l1_loss(x,y,none,beta=2)",
        lambda lib, x, y: F(lib).smooth_l1_loss(x, y, reduction="none", beta=2.0),
        (ROWS, ROWS),
    ),
    Case(
        "F.smooth_l1_loss(x,y,beta=0) is l1",
        lambda lib, x, y: F(lib).smooth_l1_loss(x, y, beta=0.0),
        (ROWS, ROWS),
    ),
    Case(
        "F.l1_loss(x,y,weight)",
        lambda lib, x, y: F(lib).l1_loss(x, y, weight=_probabilities(lib, x, ROWS, seed=2)),
        (ROWS, ROWS),
    ),
    Case(
        "F.soft_margin_loss(x,t)",
        lambda lib, x: F(lib).soft_margin_loss(x, _signs(lib, x, ROWS)),
        (ROWS,),
    ),
    Case(
        "F.soft_margin_loss(x,t,sum)",
        lambda lib, x: F(lib).soft_margin_loss(x, _signs(lib, x, ROWS), reduction="sum"),
        (ROWS,),
    ),
    Case(
        "F.soft_margin_loss(x,t,none)",
        lambda lib, x: F(lib).soft_margin_loss(x, _signs(lib, x, ROWS), reduction="none"),
        (ROWS,),
    ),
]

# -- binary_cross_entropy_with_logits: one node, weights and pos_weight constants
_BCE_LOGITS = [
    Case(
        "F.bce_with_logits(x,sigmoid(y))",
        lambda lib, x, y: F(lib).binary_cross_entropy_with_logits(x, y.sigmoid()),
        (ROWS, ROWS),
    ),
    Case(
        "F.bce_with_logits(x,t,sum)",
        lambda lib, x: F(lib).binary_cross_entropy_with_logits(
            x, _probabilities(lib, x, ROWS), reduction="sum"
        ),
        (ROWS,),
    ),
    Case(
        "F.bce_with_logits(x,y,none)",
        lambda lib, x, y: F(lib).binary_cross_entropy_with_logits(x, y, reduction="none"),
        (ROWS, ROWS),
    ),
    Case(
        "F.bce_with_logits(x,y,weight,pos_weight)",
        lambda lib, x, y: F(lib).binary_cross_entropy_with_logits(
            x,
            y,
            weight=_probabilities(lib, x, (C,), seed=2),
            pos_weight=_probabilities(lib, x, (C,), seed=3) * 3,
        ),
        (ROWS, ROWS),
    ),
    Case(
        "F.bce_with_logits(x,y,pos_weight,none)",
        lambda lib, x, y: F(lib).binary_cross_entropy_with_logits(
            x, y, pos_weight=_probabilities(lib, x, ROWS, seed=3) * 3, reduction="none"
        ),
        (ROWS, ROWS),
    ),
    Case(
        "F.bce_with_logits(x,t,weight,sum)",
        lambda lib, x: F(lib).binary_cross_entropy_with_logits(
            x, _probabilities(lib, x, ROWS), _probabilities(lib, x, ROWS, seed=2), reduction="sum"
        ),
        (ROWS,),
    ),
]

CASES += _REGRESSION + _BCE_LOGITS


# -- distances and the composed losses (nn/functional_distance.py, functional_margin_losses.py,
# functional_likelihood_losses.py): PyTorch 2.13's compositions, so its graphs; constants
# (targets of ±1, variances) made inside the functions
def _row_signs(lib, like, seed=5):
    """One target of ±1 per row, in the input's dtype."""
    return lib.tensor(np.random.default_rng(seed).choice([-1.0, 1.0], N), dtype=like.dtype)


_DISTANCES = [
    Case("F.normalize(x)", lambda lib, x: F(lib).normalize(x), (ROWS,)),
    Case("F.normalize(x,p=1,dim=0)", lambda lib, x: F(lib).normalize(x, p=1, dim=0), (ROWS,)),
    Case("F.normalize(x,dim=0) 1-d", lambda lib, x: F(lib).normalize(x, dim=0), ((C,),)),
    Case(
        "F.cosine_similarity(x,y)", lambda lib, x, y: F(lib).cosine_similarity(x, y), (ROWS, ROWS)
    ),
    Case(
        "F.cosine_similarity(x,y,dim=0,eps)",
        lambda lib, x, y: F(lib).cosine_similarity(x, y, dim=0, eps=1e-3),
        (ROWS, ROWS),
    ),
    Case(
        "F.cosine_similarity(x,y) broadcast",
        lambda lib, x, y: F(lib).cosine_similarity(x, y),
        (ROWS, (1, C)),
    ),
    Case(
        "F.pairwise_distance(x,y)", lambda lib, x, y: F(lib).pairwise_distance(x, y), (ROWS, ROWS)
    ),
    Case(
        "F.pairwise_distance(x,y,p=1,keepdim)",
        lambda lib, x, y: F(lib).pairwise_distance(x, y, p=1, keepdim=True),
        (ROWS, ROWS),
    ),
    Case(
        "F.pairwise_distance(x,y,p=3) broadcast",
        lambda lib, x, y: F(lib).pairwise_distance(x, y, p=3.0, eps=1e-3),
        (ROWS, (C,)),
    ),
]

_MARGIN_LOSSES = [
    Case(
        "F.margin_ranking_loss(x,y,t)",
        lambda lib, x, y: F(lib).margin_ranking_loss(x, y, _row_signs(lib, x), margin=0.3),
        ((N,), (N,)),
    ),
    Case(
        "F.margin_ranking_loss(x,y,z,none)",
        lambda lib, x, y, z: F(lib).margin_ranking_loss(x, y, z, reduction="none"),
        (ROWS, ROWS, ROWS),
    ),
    Case(
        "F.margin_ranking_loss(x,y,z,sum)",
        lambda lib, x, y, z: F(lib).margin_ranking_loss(x, y, z, reduction="sum"),
        ((N,), (N,), (N,)),
    ),
    Case(
        "F.triplet_margin_loss(a,p,n)",
        lambda lib, a, p, n: F(lib).triplet_margin_loss(a, p, n),
        (ROWS, ROWS, ROWS),
    ),
    Case(
        "F.triplet_margin_loss(a,p,n,swap,p=1,none)",
        lambda lib, a, p, n: F(lib).triplet_margin_loss(
            a, p, n, margin=2.0, p=1, swap=True, reduction="none"
        ),
        (ROWS, ROWS, ROWS),
    ),
    Case(
        "F.triplet_margin_loss(a,p,n,sum) 1-d",
        lambda lib, a, p, n: F(lib).triplet_margin_loss(a, p, n, margin=3.0, reduction="sum"),
        ((C,), (C,), (C,)),
    ),
    Case(
        "F.hinge_embedding_loss(x,t)",
        lambda lib, x: F(lib).hinge_embedding_loss(x, _signs(lib, x, ROWS), margin=0.5),
        (ROWS,),
    ),
    Case(
        "F.hinge_embedding_loss(x,t,none)",
        lambda lib, x: F(lib).hinge_embedding_loss(x, _signs(lib, x, ROWS), reduction="none"),
        (ROWS,),
    ),
    Case(
        "F.cosine_embedding_loss(x,y,t)",
        lambda lib, x, y: F(lib).cosine_embedding_loss(x, y, _row_signs(lib, x), margin=0.2),
        (ROWS, ROWS),
    ),
    Case(
        "F.cosine_embedding_loss(x,y,t,none)",
        lambda lib, x, y: F(lib).cosine_embedding_loss(
            x, y, _row_signs(lib, x, seed=6), reduction="none"
        ),
        (ROWS, ROWS),
    ),
    Case(
        "F.cosine_embedding_loss(x,y,t,sum) 1-d",
        lambda lib, x, y: F(lib).cosine_embedding_loss(
            x, y, lib.tensor(-1.0, dtype=x.dtype), margin=-0.5, reduction="sum"
        ),
        ((C,), (C,)),
    ),
    Case(
        "F.multilabel_soft_margin_loss(x,t)",
        lambda lib, x: F(lib).multilabel_soft_margin_loss(x, _probabilities(lib, x, ROWS)),
        (ROWS,),
    ),
    Case(
        "F.multilabel_soft_margin_loss(x,sigmoid(y),weight,none)",
        lambda lib, x, y: F(lib).multilabel_soft_margin_loss(
            x, y.sigmoid(), weight=_weight(lib, x), reduction="none"
        ),
        (ROWS, ROWS),
    ),
]

_LIKELIHOOD_LOSSES = [
    Case(
        "F.gaussian_nll_loss(x,y,var)",
        lambda lib, x, y: F(lib).gaussian_nll_loss(x, y, _probabilities(lib, x, ROWS) * 2),
        (ROWS, ROWS),
    ),
    Case(
        "F.gaussian_nll_loss(x,y,var,full,eps,sum)",
        lambda lib, x, y: F(lib).gaussian_nll_loss(
            x, y, _probabilities(lib, x, ROWS), full=True, eps=0.3, reduction="sum"
        ),
        (ROWS, ROWS),
    ),
    Case(
        "F.gaussian_nll_loss(x,y,var per row,none)",
        lambda lib, x, y: F(lib).gaussian_nll_loss(
            x, y, _probabilities(lib, x, (N,)), reduction="none"
        ),
        (ROWS, ROWS),
    ),
    Case(
        "F.gaussian_nll_loss(x,y,var (N,1))",
        lambda lib, x, y: F(lib).gaussian_nll_loss(x, y, _probabilities(lib, x, (N, 1))),
        (ROWS, ROWS),
    ),
    Case(
        "F.gaussian_nll_loss(x,y,0.5)",
        lambda lib, x, y: F(lib).gaussian_nll_loss(x, y, 0.5),
        (ROWS, ROWS),
    ),
    Case("F.poisson_nll_loss(x,y)", lambda lib, x, y: F(lib).poisson_nll_loss(x, y), (ROWS, ROWS)),
    Case(
        "F.poisson_nll_loss(x,t,full,none)",
        lambda lib, x: F(lib).poisson_nll_loss(
            x, _probabilities(lib, x, ROWS) * 3, full=True, reduction="none"
        ),
        (ROWS,),
    ),
    Case(
        "F.poisson_nll_loss(p,y,log_input=False,full,sum)",
        lambda lib, x, y: F(lib).poisson_nll_loss(
            x, y, log_input=False, full=True, eps=1e-3, reduction="sum"
        ),
        (ROWS, ROWS),
        POS,
    ),
]

CASES += _DISTANCES + _MARGIN_LOSSES + _LIKELIHOOD_LOSSES

# -- kl_div: xlogy(t, t) - t·x (exp(t)·(t - x) for a log target), reduced; 'batchmean' divides
# the sum by the batch size
_KL = [
    Case(
        "F.kl_div(x,y,batchmean)",
        lambda lib, x, y: F(lib).kl_div(x, y, reduction="batchmean"),
        (ROWS, ROWS),
        (ANY, POS),
    ),
    Case(
        "F.kl_div(x,t,sum)",
        lambda lib, x: F(lib).kl_div(x, _probabilities(lib, x, ROWS), reduction="sum"),
        (ROWS,),
    ),
    Case(
        "F.kl_div(x,y,none,log_target)",
        lambda lib, x, y: F(lib).kl_div(x, y, reduction="none", log_target=True),
        (ROWS, ROWS),
    ),
    Case(
        "F.kl_div(log_softmax(x),y,batchmean,log_target) 1-d",
        lambda lib, x, y: F(lib).kl_div(
            x.log_softmax(0), y, reduction="batchmean", log_target=True
        ),
        ((C,), (C,)),
    ),
]

CASES += _KL

# -- cross_entropy with class probabilities or label smoothing: ATen's composition, its
# Tensor-and-Scalar nodes included (MulBackward1, AddBackward1, DivBackward1)
_CROSS_ENTROPY_SMOOTHED = [
    Case(
        "F.cross_entropy(x,softmax(y)) probabilities",
        lambda lib, x, y: F(lib).cross_entropy(x, y.softmax(1)),
        (ROWS, ROWS),
    ),
    Case(
        "F.cross_entropy(x,p,weight,none) probabilities",
        lambda lib, x: F(lib).cross_entropy(
            x, _probabilities(lib, x, ROWS).softmax(1), _weight(lib, x), reduction="none"
        ),
        (ROWS,),
    ),
    Case(
        "F.cross_entropy(x,p,label_smoothing,sum) probabilities",
        lambda lib, x, y: F(lib).cross_entropy(
            x, y.softmax(1), reduction="sum", label_smoothing=0.2
        ),
        (ROWS, ROWS),
    ),
    Case(
        "F.cross_entropy(x,t,label_smoothing)",
        lambda lib, x: F(lib).cross_entropy(x, lib.tensor(_TARGETS), label_smoothing=0.1),
        (ROWS,),
    ),
    Case(
        "F.cross_entropy(x,t,weight,ignore_index,label_smoothing,sum)",
        lambda lib, x: F(lib).cross_entropy(
            x,
            lib.tensor(_TARGETS_IGNORED),
            _weight(lib, x),
            ignore_index=1,
            reduction="sum",
            label_smoothing=0.3,
        ),
        (ROWS,),
    ),
    Case(
        "F.cross_entropy(x,t,weight,label_smoothing,none)",
        lambda lib, x: F(lib).cross_entropy(
            x, lib.tensor(_TARGETS), _weight(lib, x), reduction="none", label_smoothing=0.3
        ),
        (ROWS,),
    ),
]

CASES += _CROSS_ENTROPY_SMOOTHED
