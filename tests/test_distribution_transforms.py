"""gradienti.distributions.transforms and the constraint registry against PyTorch's: forward,
inverse, log_abs_det_jacobian and their gradients, shapes, sign, repr, equality, caching,
biject_to/transform_to."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gradienti
from gradienti.distributions import constraint_registry, constraints, transforms

torch = pytest.importorskip("torch")

LIBRARIES = {"gradienti": gradienti, "torch": torch}

X_SCALARS = [[-1.5, -0.2, 0.0], [0.4, 1.0, 2.5]]
X_POSITIVE = [[0.3, 1.0, 2.0], [0.5, 4.0, 1.5]]
X_MATRIX = [[[0.5, 0.3], [-0.2, 0.1]], [[1.0, -1.0], [0.4, -0.3]]]

# name -> (factory of (transforms module), input values)
TRANSFORMS = {
    "Exp": (lambda T, lib: T.ExpTransform(), X_SCALARS),
    "Power(2.5)": (lambda T, lib: T.PowerTransform(2.5), X_POSITIVE),
    "Power(tensor)": (
        lambda T, lib: T.PowerTransform(lib.tensor([0.5, -1.0, 3.0], dtype=lib.float64)),
        X_POSITIVE,
    ),
    "Sigmoid": (lambda T, lib: T.SigmoidTransform(), X_SCALARS),
    "Softplus": (lambda T, lib: T.SoftplusTransform(), X_SCALARS),
    "Tanh": (lambda T, lib: T.TanhTransform(), X_SCALARS),
    "Affine(numbers)": (lambda T, lib: T.AffineTransform(1.5, -2.0), X_SCALARS),
    "Affine(tensors, event_dim=1)": (
        lambda T, lib: T.AffineTransform(
            lib.tensor([0.0, 1.0, -1.0], dtype=lib.float64),
            lib.tensor([2.0, 0.5, -3.0], dtype=lib.float64),
            event_dim=1,
        ),
        X_SCALARS,
    ),
    "StickBreaking": (lambda T, lib: T.StickBreakingTransform(), X_SCALARS),
    "Softmax": (lambda T, lib: T.SoftmaxTransform(), X_SCALARS),
    "LowerCholesky": (lambda T, lib: T.LowerCholeskyTransform(), X_MATRIX),
    "PositiveDefinite": (lambda T, lib: T.PositiveDefiniteTransform(), X_MATRIX),
    "CorrCholesky": (lambda T, lib: T.CorrCholeskyTransform(), X_SCALARS),
    "Compose(Exp, Affine)": (
        lambda T, lib: T.ComposeTransform([T.ExpTransform(), T.AffineTransform(1.0, 3.0)]),
        X_SCALARS,
    ),
    "Compose(Affine, StickBreaking)": (
        lambda T, lib: T.ComposeTransform(
            [T.AffineTransform(0.5, 2.0), T.StickBreakingTransform()]
        ),
        X_SCALARS,
    ),
    "Independent(Sigmoid, 1)": (
        lambda T, lib: T.IndependentTransform(T.SigmoidTransform(), 1),
        X_SCALARS,
    ),
    "Reshape": (lambda T, lib: T.ReshapeTransform((3,), (3, 1)), X_SCALARS),
    "Cat": (
        lambda T, lib: T.CatTransform(
            [T.ExpTransform(), T.SigmoidTransform()], dim=-1, lengths=[1, 2]
        ),
        X_SCALARS,
    ),
    "Stack": (
        lambda T, lib: T.StackTransform([T.ExpTransform(), T.TanhTransform()], dim=0),
        X_SCALARS,
    ),
    "Abs": (lambda T, lib: T.AbsTransform(), X_SCALARS),
    "Inverse(Sigmoid)": (
        lambda T, lib: T.SigmoidTransform().inv,
        [[0.1, 0.5, 0.9], [0.2, 0.3, 0.99]],
    ),
}


def _both(name):
    factory, values = TRANSFORMS[name]
    ours = factory(transforms, gradienti)
    theirs = factory(torch.distributions.transforms, torch)
    x_ours = gradienti.tensor(np.asarray(values), requires_grad=True)
    x_theirs = torch.tensor(np.asarray(values), requires_grad=True)
    return ours, theirs, x_ours, x_theirs


def _close(ours, theirs, rtol=1e-9):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(
        ours.detach().numpy(), theirs.detach().numpy(), rtol=rtol, atol=1e-12
    )


def _gradient(out, x, lib):
    weights = np.linspace(0.5, 1.5, int(np.prod(tuple(out.shape)))).reshape(tuple(out.shape))
    (gradient,) = lib.autograd.grad((out * lib.tensor(weights)).sum(), [x], retain_graph=True)
    return gradient


@pytest.mark.parametrize("name", TRANSFORMS)
def test_forward_inverse_and_log_det_as_pytorch(name):
    ours, theirs, x_ours, x_theirs = _both(name)
    y_ours, y_theirs = ours(x_ours), theirs(x_theirs)
    _close(y_ours, y_theirs)
    _close(_gradient(y_ours, x_ours, gradienti), _gradient(y_theirs, x_theirs, torch), rtol=1e-8)
    y_values = y_theirs.detach().numpy()
    inverse_ours = ours.inv(gradienti.tensor(y_values))
    inverse_theirs = theirs.inv(torch.tensor(y_values))
    _close(inverse_ours, inverse_theirs, rtol=1e-7)
    try:
        det_theirs = theirs.log_abs_det_jacobian(x_theirs, y_theirs)
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ours.log_abs_det_jacobian(x_ours, y_ours)
        return
    det_ours = ours.log_abs_det_jacobian(x_ours, y_ours)
    _close(det_ours, det_theirs, rtol=1e-8)
    assert det_ours.requires_grad == det_theirs.requires_grad
    if det_theirs.requires_grad:
        _close(
            _gradient(det_ours, x_ours, gradienti),
            _gradient(det_theirs, x_theirs, torch),
            rtol=1e-7,
        )


@pytest.mark.parametrize("name", TRANSFORMS)
def test_attributes_shapes_and_repr_as_pytorch(name):
    ours, theirs, _, _ = _both(name)
    for transform_ours, transform_theirs in [(ours, theirs), (ours.inv, theirs.inv)]:
        assert repr(transform_ours) == repr(transform_theirs)
        assert transform_ours.bijective == transform_theirs.bijective
        assert repr(transform_ours.domain) == repr(transform_theirs.domain)
        assert repr(transform_ours.codomain) == repr(transform_theirs.codomain)
        assert transform_ours.domain.event_dim == transform_theirs.domain.event_dim
        assert transform_ours.codomain.event_dim == transform_theirs.codomain.event_dim
        for shape in [(2, 3), (4, 2, 3)]:
            try:
                expected = tuple(transform_theirs.forward_shape(torch.Size(shape)))
            except ValueError as error:
                with pytest.raises(ValueError, match=re.escape(str(error))):
                    transform_ours.forward_shape(gradienti.Size(shape))
            else:
                assert tuple(transform_ours.forward_shape(gradienti.Size(shape))) == expected
            try:
                expected = tuple(transform_theirs.inverse_shape(torch.Size(shape)))
            except ValueError as error:
                with pytest.raises(ValueError, match=re.escape(str(error))):
                    transform_ours.inverse_shape(gradienti.Size(shape))
            else:
                assert tuple(transform_ours.inverse_shape(gradienti.Size(shape))) == expected
    try:
        their_sign = theirs.sign
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ours.sign  # noqa: B018
    else:
        our_sign = ours.sign
        if isinstance(their_sign, int):
            assert our_sign == their_sign
        else:
            np.testing.assert_array_equal(our_sign.numpy(), their_sign.numpy())


def test_inverse_is_one_object_and_round_trips():
    exp = transforms.ExpTransform()
    assert exp.inv is exp.inv and exp.inv.inv is exp
    compose = transforms.ComposeTransform([exp, transforms.AffineTransform(1.0, 2.0)])
    assert compose.inv.inv is compose
    assert repr(compose.inv) == repr(
        torch.distributions.ComposeTransform(
            [torch.distributions.ExpTransform(), torch.distributions.AffineTransform(1.0, 2.0)]
        ).inv
    )


def test_equality_as_pytorch():
    T = transforms
    assert T.ExpTransform() == T.ExpTransform()
    assert T.ExpTransform() != T.SigmoidTransform()
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0)
    assert T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    assert T.AffineTransform(gradienti.tensor([1.0]), 2.0) == T.AffineTransform(
        gradienti.tensor([1.0]), 2.0
    )
    assert T.PowerTransform(2.0) == T.PowerTransform(2.0)
    assert T.ExpTransform().inv == T.ExpTransform().inv
    assert T.ComposeTransform([T.ExpTransform()]) == T.ComposeTransform([T.ExpTransform()])
    with pytest.raises(TypeError, match="unhashable type: 'ExpTransform'"):
        hash(T.ExpTransform())


def test_cache_returns_the_same_tensors():
    exp = transforms.ExpTransform(cache_size=1)
    x = gradienti.tensor([0.5, 1.0])
    y = exp(x)
    assert exp(x) is y
    assert exp.inv(y) is x
    uncached = transforms.ExpTransform()
    assert uncached(x) is not uncached(x)
    assert exp.with_cache(1) is exp
    assert uncached.with_cache(1)._cache_size == 1
    affine = transforms.AffineTransform(1.0, 2.0).with_cache()
    assert affine._cache_size == 1 and affine.loc == 1.0
    with pytest.raises(ValueError, match="^cache_size must be 0 or 1$"):
        transforms.ExpTransform(cache_size=2)

    class Custom(transforms.Transform):
        def __init__(self, parameter):
            super().__init__()
            self.parameter = parameter

    with pytest.raises(NotImplementedError) as ours:
        Custom(1).with_cache(1)
    assert str(ours.value).endswith(".with_cache is not implemented")


def test_event_dim_of_a_rank_changing_transform_refuses_as_pytorch():
    with pytest.raises(
        ValueError, match=r"^Please use either .domain.event_dim or .codomain.event_dim$"
    ):
        transforms.ReshapeTransform((3,), (3, 1)).event_dim  # noqa: B018
    with pytest.raises(
        ValueError, match="^in_shape, out_shape have different numbers of elements$"
    ):
        transforms.ReshapeTransform((3,), (2,))


def test_cumulative_distribution_transform_as_pytorch():
    D = gradienti.distributions
    loc = gradienti.tensor([0.0, 1.0], requires_grad=True)
    their_loc = torch.tensor([0.0, 1.0], requires_grad=True)
    ours = transforms.CumulativeDistributionTransform(D.Normal(loc, 2.0))
    theirs = torch.distributions.transforms.CumulativeDistributionTransform(
        torch.distributions.Normal(their_loc, 2.0)
    )
    x = [0.5, -1.0]
    _close(ours(gradienti.tensor(x)), theirs(torch.tensor(x)), rtol=1e-6)
    _close(ours.inv(gradienti.tensor([0.3, 0.9])), theirs.inv(torch.tensor([0.3, 0.9])), rtol=1e-6)
    _close(
        ours.log_abs_det_jacobian(gradienti.tensor(x), None),
        theirs.log_abs_det_jacobian(torch.tensor(x), None),
        rtol=1e-6,
    )
    assert repr(ours.domain) == repr(theirs.domain)


CONSTRAINTS = [
    ("real", ()),
    ("positive", ()),
    ("nonnegative", ()),
    ("greater_than", (2.0,)),
    ("greater_than_eq", (-1.0,)),
    ("less_than", (3.0,)),
    ("unit_interval", ()),
    ("interval", (-2.0, 5.0)),
    ("half_open_interval", (0.0, 1.0)),
    ("simplex", ()),
    ("real_vector", ()),
    ("lower_cholesky", ()),
    ("positive_definite", ()),
    ("corr_cholesky", ()),
]


@pytest.mark.parametrize("name, args", CONSTRAINTS, ids=[c[0] for c in CONSTRAINTS])
@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
def test_constraint_registry_as_pytorch(registry, name, args):
    ours_constraint = getattr(constraints, name)
    theirs_constraint = getattr(torch.distributions.constraints, name)
    if args:
        ours_constraint, theirs_constraint = ours_constraint(*args), theirs_constraint(*args)
    registry_ours = getattr(constraint_registry, registry)
    registry_theirs = getattr(torch.distributions.constraint_registry, registry)
    try:
        theirs = registry_theirs(theirs_constraint)
    except NotImplementedError as error:
        with pytest.raises(NotImplementedError) as ours_error:
            registry_ours(ours_constraint)
        assert str(ours_error.value) == str(error)
        return
    ours = registry_ours(ours_constraint)
    assert repr(ours) == repr(theirs)
    values = np.asarray(X_MATRIX if "cholesky" in name or "definite" in name else X_SCALARS)
    if name == "corr_cholesky":
        values = np.asarray(X_SCALARS)
    y_ours, y_theirs = ours(gradienti.tensor(values)), theirs(torch.tensor(values))
    _close(y_ours, y_theirs, rtol=1e-8)
    assert bool(ours_constraint.check(y_ours).all())


def test_registry_refuses_what_is_not_a_constraint():
    registry = constraint_registry.ConstraintRegistry()
    with pytest.raises(
        TypeError,
        match="^Expected constraint to be either a Constraint subclass or instance, but got 3$",
    ):
        registry.register(3, lambda c: None)
    registry.register(constraints.positive)(lambda c: "made")
    assert registry(constraints.greater_than(1.0)) == "made"  # keyed by the class
