"""The checklists of docs/architecture.md, enforced: a step forgotten when adding an op, a node
class or a public name fails here.

1. Every node class has an explain rule (declared with its op), or is told generically on purpose.
2. Every public op declared in ``ops/`` is run by the op table (tests/test_ops.py and the
   op_cases_*.py modules: gradcheck, gradgradcheck and PyTorch comparisons), or is listed below
   with the test file that covers it instead (and that file must name it).
3. Every public name of gradienti's PyTorch-shaped modules exists in PyTorch at the same path, or
   is listed as gradienti's own.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import pathlib
import sys
import types

import pytest

import gradienti
from gradienti.autograd.custom_function import FunctionCtx
from gradienti.graph.node import AccumulateGrad, Node, Op
from gradienti.ops import api
from gradienti.ops.explain_rule import GENERIC
from gradienti.ops.inplace_math import ONE_INPUT

TESTS = pathlib.Path(__file__).parent


# ---------------------------------------------------------------------- 1. explain rules
def _node_classes() -> list:
    """Every concrete node class gradienti defines (bases and the leaves' node excluded)."""
    seen, stack = [], [Node]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                stack.append(sub)
    # The bases, the leaves' node (explain tells leaves itself) and the nodes of custom
    # Functions (named after the Function, gradienti's own ones included: CheckpointFunction).
    abstract = {Op, AccumulateGrad}
    return sorted(
        (
            cls
            for cls in seen
            if cls.__module__.startswith("gradienti.")
            and not cls.__name__.startswith("_")
            and cls not in abstract
            and not issubclass(cls, FunctionCtx)
        ),
        key=lambda cls: cls.__name__,
    )


def test_every_node_class_has_an_explain_rule_or_is_generic_on_purpose():
    missing = [cls.__name__ for cls in _node_classes() if cls.__name__ not in api.EXPLAIN_RULES]
    assert missing == [], (
        "node classes without an explain rule: declare one with the op (explain={Node: rule}, "
        "ops/explain_rule.py) or mark it GENERIC"
    )


def test_explain_rules_name_existing_node_classes():
    names = {cls.__name__ for cls in _node_classes()}
    assert sorted(set(api.EXPLAIN_RULES) - names) == []
    generic = sorted(name for name, rule in api.EXPLAIN_RULES.items() if rule is GENERIC)
    assert len(generic) < len(api.EXPLAIN_RULES) / 4, "GENERIC is for the few without wording"


# ---------------------------------------------------------------------- 2. op-table coverage
# Public ops that the op table does not run (in-place, not differentiable, or bitwise): the test
# file that covers each instead, and the text by which that file calls it.
COVERED_ELSEWHERE: dict[str, tuple[str, str]] = {
    # integral results (bitwise) and in-place forms: against PyTorch over dtypes and operands
    **{
        name: ("test_integer_ops.py", call)
        for name, call in (
            ("__ifloordiv__", "x //= "),
            ("__imod__", "z %= "),
            ("floor_divide_", ".floor_divide_("),
            ("remainder_", ".remainder_("),
            ("fmod_", ".fmod_("),
            ("true_divide", ".true_divide("),
            ("divide_", ".divide_("),
            ("true_divide_", ".true_divide_("),
            ("__iand__", '"__iand__"'),
            ("__ior__", '"__ior__"'),
            ("__ixor__", '"__ixor__"'),
            ("__ilshift__", '"__ilshift__"'),
            ("__irshift__", '"__irshift__"'),
            ("__lshift__", "a << b"),
            ("__rshift__", "a >> b"),
            ("__rlshift__", "BITWISE[op](number, "),
            ("__rrshift__", "BITWISE[op](number, "),
            ("bitwise_and", '"bitwise_and"'),
            ("bitwise_or", '"bitwise_or"'),
            ("bitwise_xor", '"bitwise_xor"'),
            ("bitwise_left_shift", '"bitwise_left_shift"'),
            ("bitwise_right_shift", '"bitwise_right_shift"'),
            ("bitwise_not", ".bitwise_not("),
            ("bitwise_not_", ".bitwise_not_("),
            ("bitwise_and_", '"bitwise_and_"'),
            ("bitwise_or_", '"bitwise_or_"'),
            ("bitwise_xor_", '"bitwise_xor_"'),
            ("bitwise_left_shift_", '"bitwise_left_shift_"'),
            ("bitwise_right_shift_", '"bitwise_right_shift_"'),
        )
    },  # fmt: skip
    **{
        name: ("test_special_functions.py", f".{name}(")
        for name in ("lgamma_", "digamma_", "polygamma_", "erfinv_", "xlogy_")
    },
    **{
        name: ("test_inplace.py", f".{name}(")
        for name in ("add_", "sub_", "mul_", "div_", "pow_", "exp_", "relu_", "fill_", "zero_")
    },
    **{name: ("test_inplace.py", f".{name}(") for name in ("uniform_", "normal_", "copy_")},
    **{name + "_": ("test_inplace_math.py", "for name in ONE_INPUT") for name in ONE_INPUT},
    **{
        name + "_": ("test_inplace_math.py", f'"{name}_"')
        for name in ("clamp_min", "clamp_max", "round", "cumsum", "cumprod", "nan_to_num")
        + ("multiply", "subtract", "atan2", "arctan2")
    },
    "lerp_": ("test_inplace_math.py", ".lerp_("),
    **{
        name: ("test_inplace_math.py", f'"{name}"')
        for name in ("addmm_", "scatter_", "scatter_add_", "index_add_", "index_put_")
        + ("eq_", "ne_", "lt_", "le_", "gt_", "ge_")
        + ("logical_and_", "logical_or_", "logical_xor_")
    },
    **{
        name: ("test_inplace_shape.py", f'"{name}"')
        for name in ("squeeze_", "unsqueeze_", "transpose_", "swapaxes_", "swapdims_")
    },
    "t_": ("test_inplace_shape.py", ".t_()"),
    "clamp_": ("test_operators.py", ".clamp_("),
    "clip_": ("test_operators.py", ".clip_("),
    "__iadd__": ("test_inplace.py", "+="),
    "__isub__": ("test_inplace.py", "-="),
    "__imul__": ("test_inplace.py", "*="),
    "__itruediv__": ("test_operators.py", "/="),
    "__and__": ("test_operators.py", "a & b"),
    "__rand__": ("test_operators.py", "True & b"),
    "__or__": ("test_operators.py", "a | b"),
    "__ror__": ("test_operators.py", "1 | b"),
    "__xor__": ("test_operators.py", "a ^ b"),
    "__rxor__": ("test_operators.py", "3 ^ b"),
    "__invert__": ("test_operators.py", "~a"),
    "equal": ("test_operators.py", ".equal("),
    "isclose": ("test_isclose.py", ".isclose("),
    "allclose": ("test_isclose.py", ".allclose("),
    "detach": ("test_tensor.py", ".detach()"),
    "short": ("test_cast.py", ".short()"),
    "char": ("test_cast.py", ".char()"),
    "byte": ("test_cast.py", ".byte()"),
    # sampling: bit-for-bit against PyTorch's streams; the gradients are zero (or raise)
    **{
        name: ("test_random_sampling.py", f".{name}(")
        for name in (
            *("normal", "bernoulli", "poisson", "multinomial"),
            *("rand_like", "randn_like", "randint_like"),
            *("random_", "exponential_", "geometric_", "cauchy_", "log_normal_", "bernoulli_"),
        )
    },
    # gamma, Dirichlet, binomial samplers: PyTorch's streams; their gradient approximations
    **{
        name: ("test_gamma_sampling.py", f".{name}(")
        for name in (
            *("_standard_gamma", "_sample_dirichlet", "binomial"),
            *("_standard_gamma_grad", "_dirichlet_grad"),
        )
    },
    # PyTorch does not differentiate them in their first input: no gradcheck of both inputs
    **{
        name: ("test_incomplete_gamma.py", f"{name}(")
        for name in ("igamma", "igammac", "igamma_", "igammac_")
    },
    "cdist": ("test_cdist.py", "lib.cdist("),  # PyTorch has no double backward to compare
    # index builders (not differentiable)
    **{
        name: ("test_index_builders.py", f"lib.{name}(")
        for name in ("nonzero", "argwhere", "tril_indices", "triu_indices", "unravel_index")
    },
    **{
        name: ("test_shape_misc.py", f"lib.{name}(")
        for name in ("broadcast_shapes", "column_stack")
    },
    **{
        name: ("test_in_place_fills.py", f".{name}(")
        for name in ("masked_fill_", "index_fill_", "tril_", "triu_")
    },
    "argsort": ("test_sorting.py", "lib.argsort("),  # indices: not differentiable
    **{
        name: ("test_counting.py", f"lib.{name}(")
        for name in (
            "unique",
            "unique_consecutive",
            "bincount",
            "histc",
            "histogram",
            "searchsorted",
            "bucketize",
        )
    },
    # PyTorch's legacy cholesky has no forward AD (linalg.cholesky's cases run the table)
    "cholesky": ("test_linalg_solve.py", "gradienti.cholesky("),
}


def _op_table_cases() -> list:
    """The op table: test_ops.py's cases and einsum's (run by test_linalg.py, the same checks)."""
    sys.path.insert(0, str(TESTS))
    try:
        return [
            *importlib.import_module("test_ops").CASES,
            *importlib.import_module("op_cases_linalg").EINSUM_CASES,
        ]
    finally:
        sys.path.remove(str(TESTS))


def _called_ops(cases) -> set:
    """The declared names that the op table's cases call, found by wrapping each declared
    function and Tensor method while the cases run."""
    called: set = set()
    patched = []

    def spy(name, function):
        if isinstance(function, property):  # x.T, x.mT
            return property(spy(name, function.fget))

        def call(*args, **kwargs):
            called.add(name)
            return function(*args, **kwargs)

        return call

    for name, function in api.TENSOR_METHODS.items():
        patched.append((gradienti.Tensor, name, function))
        setattr(gradienti.Tensor, name, spy(name, function))
    for name, function in api.FUNCTIONS.items():
        patched.append((gradienti, name, getattr(gradienti, name)))
        setattr(gradienti, name, spy(name, function))
    try:
        for case in cases:
            tensors = [gradienti.tensor(array, requires_grad=True) for array in case.arrays()]
            with contextlib.suppress(Exception):  # a case's own test reports its failures
                case.fn(gradienti, *tensors)
    finally:
        for owner, name, original in patched:
            setattr(owner, name, original)
    return called


def _declared_as(name: str) -> list:
    """The method and function declared under ``name``."""
    return [table[name] for table in (api.TENSOR_METHODS, api.FUNCTIONS) if name in table]


def test_every_public_op_is_run_by_the_op_table_or_covered_elsewhere():
    declared = {**api.TENSOR_METHODS, **api.FUNCTIONS}
    called = _called_ops(_op_table_cases())
    # An alias (subtract, absolute) is covered by its op's cases under any of its names.
    run = {id(f) for name in called for f in _declared_as(name)}
    uncovered = sorted(
        name
        for name in declared
        if name not in called
        and not any(id(f) in run for f in _declared_as(name))
        and name not in COVERED_ELSEWHERE
    )
    assert uncovered == [], (
        "public ops the op table never runs: add a Case (tests/op_cases_*.py) or list the op "
        "in COVERED_ELSEWHERE with the test file that covers it"
    )


@pytest.mark.parametrize("name", sorted(COVERED_ELSEWHERE))
def test_the_file_said_to_cover_an_op_calls_it(name):
    file, call = COVERED_ELSEWHERE[name]
    assert call in (TESTS / file).read_text()
    assert name in {**api.TENSOR_METHODS, **api.FUNCTIONS}, f"{name} is no longer declared"


# ---------------------------------------------------------------------- 3. PyTorch paths
MODULES = (
    "",
    ".nn",
    ".nn.functional",
    ".special",
    ".linalg",
    ".nn.init",
    ".nn.utils",
    ".nn.modules",
    ".nn.modules.module",
    ".optim",
    ".optim.lr_scheduler",
    ".autograd",
    ".autograd.functional",
    ".autograd.graph",
    ".utils",
    ".utils.data",
    ".utils.checkpoint",
    ".amp",
    ".distributed",
    ".nn.parallel",
)
# Public names that are gradienti's own, with no PyTorch counterpart at that path.
GRADIENTI_OWN = {
    "gradienti": {
        "explain",  # the backward pass told step by step
        "viz",  # the picture of the graph (make_dot) without Graphviz
        "get_printoptions",  # PyTorch keeps it private (torch._tensor_str.get_printoptions)
        "set_explain_errors",  # "does not require grad" errors say where (error_hints.py)
        "is_explain_errors_enabled",
    },
    # PyTorch has these one level down (torch.autograd.function.FunctionCtx, .graph.Node,
    # .gradcheck.GradcheckError) or at the top (torch.is_grad_enabled); gradienti also offers
    # them on the autograd namespace.
    "gradienti.autograd": {
        "FunctionCtx",
        "GradcheckError",
        "Node",
        "is_grad_enabled",
        "is_inference_mode_enabled",
    },
}


def _public_names(module) -> list:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [name for name in dir(module) if not name.startswith("_")]
    return [
        name
        for name in names
        if name != "annotations"  # from __future__ import annotations
        and not _private_submodule(module, getattr(module, name))
    ]


def _private_submodule(module, value) -> bool:
    """An implementation module that is visible only because it was imported (gradienti.backend)."""
    return (
        isinstance(value, types.ModuleType)
        and value.__name__.startswith(module.__name__ + ".")
        and value.__name__.rsplit(".", 1)[1] not in _TORCH_SUBMODULES.get(module.__name__, ())
    )


_TORCH_SUBMODULES = {
    "gradienti": (
        *("autograd", "nn", "optim", "utils", "random", "serialization"),
        *("amp", "distributed"),
    ),
    "gradienti.nn": ("functional", "init", "utils", "parameter", "modules", "parallel"),
    "gradienti.optim": ("lr_scheduler", "optimizer"),
    "gradienti.autograd": ("functional", "grad_mode", "function", "gradcheck", "graph"),
    "gradienti.nn.modules": ("module",),
    "gradienti.utils": ("data", "checkpoint"),
}


@pytest.mark.parametrize("path", MODULES)
def test_every_public_name_exists_in_pytorch_at_the_same_path(path):
    torch = pytest.importorskip("torch")
    ours = importlib.import_module("gradienti" + path)
    theirs = importlib.import_module("torch" + path)
    own = GRADIENTI_OWN.get("gradienti" + path, set())
    missing = sorted(
        name for name in _public_names(ours) if not hasattr(theirs, name) and name not in own
    )
    assert torch is not None
    assert missing == [], f"not in torch{path}: list as gradienti's own or rename"


def test_the_own_names_exist():
    for path, names in GRADIENTI_OWN.items():
        module = importlib.import_module(path)
        for name in names:
            assert hasattr(module, name), f"{path}.{name} is listed as own but does not exist"
    assert inspect.ismodule(gradienti.viz)


def test_every_op_class_has_a_forward_mode_rule():
    """Each built-in op's JVP (``Op.jvp``): tests/test_forward_ad_ops.py checks their values."""
    missing = [cls.__name__ for cls in _node_classes() if issubclass(cls, Op) and cls.jvp is None]
    assert missing == [], "op classes without a forward-mode rule (Op.jvp)"
