"""Every op-table case through ``gradienti.compile`` gives eager gradienti's results, bit for bit.

Each case of the table (test_ops.CASES, the op_cases_*.py lists) and each dtype-promotion case
is wrapped in ``gradienti.compile`` and called three times with fresh input tensors of one
signature: the first call traces, the second replays (``compiler.stats`` must say so), the
third replays with *different values* (a value frozen into the trace shows there). Outputs and
the gradients of every input for a non-uniform upstream gradient must equal eager gradienti's
for the same inputs bitwise (same bytes, same dtype, same shape), and so must requires_grad.

A case may instead break the graph (it then runs eagerly, with the same results) only when its
reason names an op listed in ``EXPECTED_BREAKS``: an op compile-core lists as unsupported. Any
other fallback fails the test, so a new silent fallback is seen.
"""

from __future__ import annotations

import importlib
import re
import warnings
import zlib

import numpy as np
import op_cases
import pytest
import test_ops

import gradienti

# Why a case may fall back to eager (compile-core's list of what is not compiled, by design):
# 1. An op that is not replayed: "<node name> is not supported by gradienti.compile".
UNSUPPORTED_OPS = frozenset(
    {
        "ConvolutionBackward0",
        "IndexAddBackward0",
        "IndexPutBackward0",
        "KthvalueBackward0",
        "LinalgDetBackward0",
        "LinalgHouseholderProductBackward0",
        "LinalgInvExBackward0",
        "LinalgLstsqBackward0",
        "LinalgLuBackward0",
        "LinalgLuFactorExBackward0",
        "LinalgMatrixExpBackward0",
        "LinalgSlogdetBackward0",
        "LinalgSolveTriangularBackward0",
        "MaxBackward0",
        "MaxPool2DWithIndicesBackward0",
        "MedianBackward1",
        "MinBackward0",
        "ModeBackward0",
        "NanmedianBackward1",
        "NativeBatchNormBackward0",
        "NativeGroupNormBackward0",
        "NativeLayerNormBackward0",
        "NllLoss2DBackward0",
        "NllLossBackward0",
        "ScaledDotProductAttentionBackward0",
        "ScatterAddBackward0",
        "ScatterBackward0",
        "SortBackward0",
        "SortBackward1",
        "TopkBackward0",
        "TriangularSolveBackward0",
        "torch::autograd::CopySlices",
    }
)
UNSUPPORTED = re.compile(r"^(\S+) is not supported by gradienti\.compile")
# 2. A tensor the trace did not see being made (a comparison, detach(), a creation function
#    such as eye/zeros/tensor(...), a cast to an integer dtype: in the case or inside the op's
#    own code) is used by an op or returned; 3. an in-place write; 4. a value read into Python
#    (bool(tensor)) inside the op's own code.
BY_DESIGN = (
    "by an operation gradienti.compile does not record",
    "an in-place write to a tensor",
    "reads a tensor",
)
# At most this many of the cases fall back (checked when the whole file runs): a new silent
# fallback of a by-design kind raises the count. Lower it as compile-core records more.
MAX_FALLING_BACK = 368

# Known bugs (notes/h18/compile_bugs/NN_*.md), expected to fail until compile-core fixes them.
KNOWN_BUGS: dict[str, str] = {}
# Cases that must replay, whatever the reason given: arithmetic that lifts an integer input to
# float (compile_bugs/02, fixed: the lift is a cast replayed with the same astype).
MUST_COMPILE = frozenset(
    f"promotion: {name}"
    for name in (
        "int64 / int64",
        "int32 / 2",
        "3 / int64",
        "1.5 - int64",
        "int64 ** 0.5",
        "2.5 ** int64",
        "int64.exp()",
        "int64.sqrt()",
        "int64.sigmoid()",
        "int64.reciprocal()",
    )
)

FALLING_BACK: dict[str, str] = {}  # case name -> reason, filled as the cases run
RAN: set[str] = set()


def compiler():
    """``gradienti.compiler``, imported when a test uses it (so that a missing package fails the
    test that needs it, not the collection of the file)."""
    return importlib.import_module("gradienti.compiler")


# ---------------------------------------------------------------------------- inputs per call
def _domains(case) -> tuple:
    domains = case.domains
    return domains if isinstance(domains, tuple) else (domains,) * len(case.shapes)


def table_arrays(case, call: int) -> list[np.ndarray]:
    """The case's float32 inputs for call 0 and 1 (the table's own values), other values of the
    same domains for call 2."""
    if call < 2:
        return case.arrays(np.float32)
    rng = np.random.default_rng(zlib.crc32(case.name.encode()) + 7919)
    return [
        op_cases._sample(rng, domain, shape).astype(np.float32)
        for domain, shape in zip(_domains(case), case.shapes)
    ]


def _other_values(array: np.ndarray) -> np.ndarray:
    """The same dtype and shape, other values (rolled; a 0-d number moved by one)."""
    if array.ndim:
        return np.roll(array, 1, axis=0)
    if array.dtype == np.bool_:
        return np.logical_not(array)
    return (array + 1).astype(array.dtype)


def promotion_arrays(case, call: int) -> list[np.ndarray]:
    arrays = [np.array(a) for a in case.arrays]
    return arrays if call < 2 else [_other_values(a) for a in arrays]


class TableCase:
    """One op-table case: its function and how to build its inputs for a call."""

    def __init__(self, case) -> None:
        self.name = case.name
        self.function = case.fn
        self.differentiable = case.differentiable
        self.arrays = lambda call: table_arrays(case, call)


class PromotionCase:
    """A dtype-promotion case: fixed arrays of mixed dtypes; floating inputs require grad."""

    def __init__(self, case) -> None:
        self.name = f"promotion: {case.name}"
        self.function = case.fn
        self.differentiable = True
        self.arrays = lambda call: promotion_arrays(case, call)


ALL_CASES = [TableCase(c) for c in test_ops.CASES] + [
    PromotionCase(c) for c in test_ops.PROMOTION_CASES
]
assert len({c.name for c in ALL_CASES}) == len(ALL_CASES)


def make_inputs(case, call: int) -> list:
    inputs = []
    for array in case.arrays(call):
        floating = np.issubdtype(array.dtype, np.floating)
        inputs.append(gradienti.tensor(array, requires_grad=case.differentiable and floating))
    return inputs


# ---------------------------------------------------------------------------- one call's results
def upstream(out) -> np.ndarray:
    """A non-uniform upstream gradient for ``out`` (the same for eager and compiled)."""
    rng = np.random.default_rng(3)
    return rng.uniform(0.5, 1.5, tuple(out.shape)).astype(out.detach().numpy().dtype)


def results(function, case, call: int) -> dict:
    """Output bytes and the gradient of every input that requires grad."""
    inputs = make_inputs(case, call)
    gradienti.manual_seed(0)
    out = function(*inputs)
    found = {"output": out.detach().numpy().copy(), "requires_grad": out.requires_grad}
    wanted = [x for x in inputs if x.requires_grad]
    if out.requires_grad and wanted:
        grads = gradienti.autograd.grad(
            out, wanted, grad_outputs=gradienti.tensor(upstream(out)), allow_unused=True
        )
        for i, g in enumerate(grads):
            found[f"gradient of input {i}"] = None if g is None else g.numpy().copy()
    return found


def assert_bitwise_equal(ours: dict, eager: dict, where: str) -> None:
    assert ours.keys() == eager.keys(), f"{where}: {sorted(ours)} != {sorted(eager)}"
    for key, expected in eager.items():
        got = ours[key]
        if not isinstance(expected, np.ndarray):
            assert got == expected, f"{where}: {key} {got!r} != {expected!r}"
            continue
        assert isinstance(got, np.ndarray), f"{where}: {key} is {got!r}"
        assert got.dtype == expected.dtype, f"{where}: {key} dtype {got.dtype} != {expected.dtype}"
        assert got.shape == expected.shape, f"{where}: {key} shape {got.shape} != {expected.shape}"
        assert got.tobytes() == expected.tobytes(), (
            f"{where}: {key} differs from eager:\n{got}\n!=\n{expected}"
        )


def unexpected_break(case_name: str, reason: str) -> str | None:
    """Why falling back is not allowed for this case and reason, or None when it is."""
    if case_name in MUST_COMPILE:
        return "this case must compile"
    unsupported = UNSUPPORTED.match(reason)
    if unsupported:
        op = unsupported.group(1)
        return None if op in UNSUPPORTED_OPS else f"{op} is not in UNSUPPORTED_OPS"
    if any(kind in reason for kind in BY_DESIGN):
        return None
    return "not a by-design reason"


# ---------------------------------------------------------------------------- the tests
def _param(case):
    bug = KNOWN_BUGS.get(case.name)
    marks = [pytest.mark.xfail(strict=True, reason=f"compile_bugs/{bug}")] if bug else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in ALL_CASES])
def test_case_through_compile_equals_eager_bitwise(case):
    stats = compiler().stats

    def eager(*xs):
        return case.function(gradienti, *xs)

    compiled = gradienti.compile(eager)
    with warnings.catch_warnings():
        # a case's own warnings are eager's; a graph break's warning is tested in
        # test_compile_behaviour.py
        warnings.simplefilter("ignore")
        for call in range(3):
            expected = results(eager, case, call)
            got = results(compiled, case, call)
            assert_bitwise_equal(got, expected, f"[{case.name}] call {call + 1}")
            state = stats(compiled)
            if state.graph_break is not None:
                FALLING_BACK[case.name] = state.graph_break
                why = unexpected_break(case.name, state.graph_break)
                assert why is None, f"[{case.name}] fell back to eager ({why}): {state.graph_break}"
                assert state.compiled_calls == 0
                continue  # later calls run eagerly: their results are still compared
            assert state.traces == 1, f"[{case.name}] call {call + 1}: {state}"
            assert state.recompiles == 0, f"[{case.name}] call {call + 1}: {state}"
            assert state.compiled_calls == call, f"[{case.name}] call {call + 1}: {state}"
            assert state.eager_calls == 0, f"[{case.name}] call {call + 1}: {state}"
    RAN.add(case.name)


def test_fallbacks_stay_within_the_count_and_the_unsupported_list_is_current():
    """Run after the cases (file order): at most MAX_FALLING_BACK cases fall back, and every
    op of UNSUPPORTED_OPS still falls back in some case (an op that compiles now is taken off
    the list, so that it is held to compiling)."""
    if len(RAN) + len(KNOWN_BUGS) < len(ALL_CASES):
        pytest.skip("needs every case of this file to have run first")
    assert len(FALLING_BACK) <= MAX_FALLING_BACK, (len(FALLING_BACK), sorted(FALLING_BACK))
    named = {m.group(1) for m in map(UNSUPPORTED.match, FALLING_BACK.values()) if m}
    assert named >= UNSUPPORTED_OPS, sorted(UNSUPPORTED_OPS - named)
