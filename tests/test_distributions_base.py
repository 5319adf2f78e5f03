"""The framework of gradienti.distributions against torch.distributions: constraints (repr,
check, attributes), utils (broadcast_all, logits/probs), Distribution's validation switch and
the KL registry's dispatch."""

from __future__ import annotations

import numpy as np
import pytest

import gradienti
from gradienti.distributions import Distribution, constraints, kl, kl_divergence, register_kl
from gradienti.distributions import utils as dist_utils

torch = pytest.importorskip("torch")

CONSTRAINT_NAMES = [
    "boolean",
    "one_hot",
    "nonnegative_integer",
    "positive_integer",
    "real",
    "real_vector",
    "positive",
    "nonnegative",
    "unit_interval",
    "simplex",
    "lower_triangular",
    "lower_cholesky",
    "corr_cholesky",
    "square",
    "symmetric",
    "positive_semidefinite",
    "positive_definite",
    "dependent",
]


@pytest.mark.parametrize("name", CONSTRAINT_NAMES)
def test_constraint_instances_print_and_classify_as_pytorch(name):
    ours = getattr(constraints, name)
    theirs = getattr(torch.distributions.constraints, name)
    assert repr(ours) == repr(theirs)
    if name != "dependent":
        assert ours.is_discrete == theirs.is_discrete
        assert ours.event_dim == theirs.event_dim


@pytest.mark.parametrize(
    "factory, args",
    [
        ("interval", (0.0, 2)),
        ("half_open_interval", (-1, 1.5)),
        ("greater_than", (2,)),
        ("greater_than_eq", (0.5,)),
        ("less_than", (3.0,)),
        ("integer_interval", (0, 4)),
        ("multinomial", (5,)),
    ],
)
def test_parameterised_constraints_print_and_check_as_pytorch(factory, args):
    ours = getattr(constraints, factory)(*args)
    theirs = getattr(torch.distributions.constraints, factory)(*args)
    if factory != "multinomial":  # PyTorch's _Multinomial prints no bound
        assert repr(ours) == repr(theirs)
    values = np.array([[-1.0, 0.0, 0.5, 1.0], [1.5, 2.0, 3.0, 4.0]])
    if factory == "multinomial":
        values = np.abs(values)
    result = ours.check(gradienti.tensor(values))
    expected = theirs.check(torch.tensor(values))
    assert result.dtype == gradienti.bool
    np.testing.assert_array_equal(result.numpy(), expected.numpy())


MATRICES = [
    np.eye(3),
    [[2.0, 0.5], [0.5, 1.0]],
    [[1.0, 2.0], [2.0, 1.0]],  # symmetric, not positive definite
    [[1.0, 0.0], [1.0, 1.0]],  # lower triangular, not symmetric
    [[0.6, 0.0], [0.8, 0.0]],
    [[1.0, 0.0], [0.6, 0.8]],  # a correlation Cholesky factor
    np.stack([np.eye(2), [[1.0, 3.0], [3.0, 1.0]]]),
]


@pytest.mark.parametrize("matrix", MATRICES, ids=range(len(MATRICES)))
@pytest.mark.parametrize(
    "name",
    [
        "lower_triangular",
        "lower_cholesky",
        "corr_cholesky",
        "square",
        "symmetric",
        "positive_semidefinite",
        "positive_definite",
    ],
)
def test_matrix_constraints_check_as_pytorch(name, matrix):
    values = np.asarray(matrix)
    result = getattr(constraints, name).check(gradienti.tensor(values))
    expected = getattr(torch.distributions.constraints, name).check(torch.tensor(values))
    np.testing.assert_array_equal(result.numpy(), expected.numpy())


def test_vector_constraints_check_events_as_pytorch():
    values = np.array([[0.2, 0.8], [0.5, 0.6], [1.0, 0.0], [-0.1, 1.1]])
    for name in ("simplex", "one_hot", "real_vector"):
        result = getattr(constraints, name).check(gradienti.tensor(values))
        expected = getattr(torch.distributions.constraints, name).check(torch.tensor(values))
        np.testing.assert_array_equal(result.numpy(), expected.numpy())
    nan = np.array([[1.0, np.nan], [0.0, 1.0]])
    np.testing.assert_array_equal(
        constraints.real.check(gradienti.tensor(nan)).numpy(), ~np.isnan(nan)
    )


def test_independent_cat_and_stack_constraints_as_pytorch():
    ours = constraints.independent(constraints.positive, 2)
    theirs = torch.distributions.constraints.independent(
        torch.distributions.constraints.positive, 2
    )
    assert repr(ours) == repr(theirs)
    assert ours.event_dim == theirs.event_dim == 2
    values = np.array([[[1.0, 2.0], [3.0, 4.0]], [[1.0, -2.0], [3.0, 4.0]]])
    np.testing.assert_array_equal(
        ours.check(gradienti.tensor(values)).numpy(), theirs.check(torch.tensor(values)).numpy()
    )
    with pytest.raises(ValueError, match=r"^Expected value.dim\(\) >= 2 but got 1$"):
        constraints.independent(constraints.real, 2).check(gradienti.tensor([1.0]))
    tc = torch.distributions.constraints
    cat_ours = constraints.cat([constraints.positive, constraints.real], dim=-1, lengths=[1, 2])
    cat_theirs = tc.cat([tc.positive, tc.real], dim=-1, lengths=[1, 2])
    data = np.array([[1.0, -1.0, np.nan], [-1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(
        cat_ours.check(gradienti.tensor(data)).numpy(), cat_theirs.check(torch.tensor(data)).numpy()
    )
    stack_ours = constraints.stack(
        [constraints.positive, constraints.real, constraints.real], dim=1
    )
    stack_theirs = tc.stack([tc.positive, tc.real, tc.real], dim=1)
    np.testing.assert_array_equal(
        stack_ours.check(gradienti.tensor(data)).numpy(),
        stack_theirs.check(torch.tensor(data)).numpy(),
    )
    assert stack_ours.is_discrete == stack_theirs.is_discrete


def test_dependent_constraints_refuse_as_pytorch():
    assert constraints.is_dependent(constraints.dependent)
    assert not constraints.is_dependent(constraints.real)
    with pytest.raises(ValueError, match="^Cannot determine validity of dependent constraint$"):
        constraints.dependent.check(gradienti.tensor(1.0))
    with pytest.raises(
        NotImplementedError, match=r"^.is_discrete cannot be determined statically$"
    ):
        constraints.dependent.is_discrete  # noqa: B018 - the property raises
    with pytest.raises(NotImplementedError, match=r"^.event_dim cannot be determined statically$"):
        constraints.dependent.event_dim  # noqa: B018
    made = constraints.dependent(is_discrete=True, event_dim=1)
    assert made.is_discrete and made.event_dim == 1


def test_broadcast_all_as_pytorch():
    ours = dist_utils.broadcast_all(gradienti.tensor([1.0, 2.0], dtype=gradienti.float64), 3)
    theirs = torch.distributions.utils.broadcast_all(
        torch.tensor([1.0, 2.0], dtype=torch.float64), 3
    )
    assert [str(t.dtype) for t in ours] == [str(t.dtype) for t in theirs]
    np.testing.assert_array_equal(ours[1].numpy(), theirs[1].numpy())
    numbers = dist_utils.broadcast_all(1.0, 2)
    assert numbers[0].dtype == gradienti.float32 and numbers[1].shape == ()
    message = (
        "Input arguments must all be instances of Number, "
        "torch.Tensor or objects implementing __torch_function__."
    )
    with pytest.raises(ValueError) as ours_error:
        dist_utils.broadcast_all([1.0], 2.0)
    with pytest.raises(ValueError) as theirs_error:
        torch.distributions.utils.broadcast_all([1.0], 2.0)
    assert str(ours_error.value) == str(theirs_error.value) == message


@pytest.mark.parametrize("is_binary", [True, False])
def test_probs_and_logits_conversions_as_pytorch(is_binary):
    probs = np.array([[0.0, 0.25, 0.75], [1.0, 0.5, 1e-9]], dtype=np.float32)
    ours = dist_utils.probs_to_logits(gradienti.tensor(probs), is_binary)
    theirs = torch.distributions.utils.probs_to_logits(torch.tensor(probs), is_binary)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    logits = np.array([[-2.0, 0.0, 3.0], [10.0, -1.0, 0.5]], dtype=np.float32)
    ours = dist_utils.logits_to_probs(gradienti.tensor(logits), is_binary)
    theirs = torch.distributions.utils.logits_to_probs(torch.tensor(logits), is_binary)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    clamped = dist_utils.clamp_probs(gradienti.tensor(probs))
    np.testing.assert_array_equal(
        clamped.numpy(), torch.distributions.utils.clamp_probs(torch.tensor(probs)).numpy()
    )


def test_tril_vector_round_trip_as_pytorch():
    matrix = np.arange(16.0).reshape(4, 4)
    for diag in (0, -1, 1):
        ours = dist_utils.tril_matrix_to_vec(gradienti.tensor(matrix), diag)
        theirs = torch.distributions.utils.tril_matrix_to_vec(torch.tensor(matrix), diag)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        back = dist_utils.vec_to_tril_matrix(ours, diag)
        np.testing.assert_array_equal(
            back.numpy(), torch.distributions.utils.vec_to_tril_matrix(theirs, diag).numpy()
        )
    with pytest.raises(ValueError, match=r"^diag \(4\) provided is outside \[-4, 3\]\.$"):
        dist_utils.tril_matrix_to_vec(gradienti.tensor(matrix), 4)
    with pytest.raises(ValueError, match="^The size of last dimension is 5 which cannot"):
        dist_utils.vec_to_tril_matrix(gradienti.zeros(5))


def test_lazy_property_computes_once_with_grad_enabled():
    class Holder:
        def __init__(self, x):
            self.x = x

        @dist_utils.lazy_property
        def doubled(self):
            return self.x * 2

    x = gradienti.tensor(1.5, requires_grad=True)
    holder = Holder(x)
    with gradienti.no_grad():
        value = holder.doubled
    assert value.requires_grad  # computed with grad enabled, as PyTorch's
    assert holder.__dict__["doubled"] is value and holder.doubled is value
    assert isinstance(Holder.doubled, dist_utils.lazy_property)
    assert isinstance(Holder.doubled, property)


def test_set_default_validate_args_as_pytorch():
    assert Distribution._validate_args is True
    with pytest.raises(ValueError) as ours:
        Distribution.set_default_validate_args(1.5)
    with pytest.raises(ValueError) as theirs:
        torch.distributions.Distribution.set_default_validate_args(1.5)
    assert str(ours.value) == str(theirs.value) == ""
    try:
        Distribution.set_default_validate_args(False)
        assert Distribution._validate_args is False
    finally:
        Distribution.set_default_validate_args(True)


def test_base_distribution_shapes_and_abstract_methods():
    dist = Distribution(gradienti.Size([3]), gradienti.Size([2]), validate_args=False)
    assert dist.batch_shape == (3,) and dist.event_shape == (2,)
    assert repr(dist._extended_shape((4,))) == "torch.Size([4, 3, 2])"
    with pytest.raises(NotImplementedError, match="does not implement mode"):
        dist.mode  # noqa: B018
    for method in ("rsample", "entropy", "enumerate_support"):
        with pytest.raises(NotImplementedError):
            getattr(dist, method)()
    with pytest.warns(UserWarning, match="does not define `arg_constraints`"):
        Distribution(validate_args=True)


class _P(Distribution):
    arg_constraints: dict = {}


class _Q(Distribution):
    arg_constraints: dict = {}


class _SubP(_P):
    pass


class _SubQ(_Q):
    pass


def test_kl_dispatch_prefers_the_most_specific_pair_and_warns_when_ambiguous():
    saved = dict(kl._KL_REGISTRY)
    try:
        register_kl(_P, _Q)(lambda p, q: "P,Q")
        register_kl(_SubP, _Q)(lambda p, q: "SubP,Q")
        p, q = _SubP(validate_args=False), _SubQ(validate_args=False)
        assert kl_divergence(p, q) == "SubP,Q"
        assert kl_divergence(_P(validate_args=False), q) == "P,Q"
        register_kl(_P, _SubQ)(lambda p, q: "P,SubQ")
        with pytest.warns(
            RuntimeWarning,
            match=r"^Ambiguous kl_divergence\(_SubP, _SubQ\)\. Please register_kl\(_SubP, _SubQ\)$",
        ):
            assert kl_divergence(p, q) == "SubP,Q"
        with pytest.raises(NotImplementedError) as error:
            kl_divergence(q, p)
        assert str(error.value) == "No KL(p || q) is implemented for p type _SubQ and q type _SubP"
        with pytest.raises(TypeError):
            register_kl(1, _Q)
    finally:
        kl._KL_REGISTRY.clear()
        kl._KL_REGISTRY.update(saved)
        kl._KL_MEMOIZE.clear()
