"""explain(y): the backward pass told step by step, checked against the engine and PyTorch."""

import warnings

import numpy as np
import pytest

import gradienti
from gradienti.autograd import Function
from gradienti.viz.explain import Explanation, explain


# ---------------------------------------------------------------------- helpers
def lesson(lib):
    x = lib.tensor(2.0, requires_grad=True)
    y = 5 * x**3 + 2 * x**2 + 4 * x + 8
    return x, y


def graph_nodes(tensor) -> list:
    """Every node below ``tensor`` (iteratively), each once."""
    seen = []
    stack = [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if any(node is other for other in seen):
            continue
        seen.append(node)
        stack.extend(child for child, _ in node.next_functions if child is not None)
    return seen


def engine_order(lib, tensor) -> list:
    """The nodes in the order ``backward()`` runs them, recorded with node pre-hooks."""
    order = []
    for node in graph_nodes(tensor):
        node.register_prehook(lambda grads, node=node: order.append(node))
    tensor.backward()
    return order


def vector_example(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    e = x.exp()
    m = e * x
    y = m.sum()
    return {"x": x, "e": e, "m": m}, y


def broadcast_example(lib):
    w = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], requires_grad=True)
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = lib.tensor([[0.1], [-0.2]], requires_grad=True)
    p = w * x
    q = p + b
    t = q.tanh()
    s = t / x
    y = s.mean()
    return {"w": w, "x": x, "b": b, "p": p, "q": q, "t": t, "s": s}, y


def lesson_parts(lib):
    x = lib.tensor(2.0, requires_grad=True)
    cube = x**3
    five_cube = 5 * cube
    square = x**2
    two_square = 2 * square
    first = five_cube + two_square
    four_x = 4 * x
    second = first + four_x
    y = second + 8
    tensors = {
        "x": x,
        "cube": cube,
        "five_cube": five_cube,
        "square": square,
        "two_square": two_square,
        "first": first,
        "four_x": four_x,
        "second": second,
    }
    return tensors, y


def diamond_example(lib):
    a = lib.tensor(1.5, requires_grad=True)
    b = lib.tensor(-2.0, requires_grad=True)
    h = a * b
    u = h + h.tanh()
    v = u / b
    y = v - (1 - a).sigmoid()
    return {"a": a, "b": b, "h": h, "u": u, "v": v}, y


EXAMPLES = [lesson_parts, vector_example, broadcast_example, diamond_example]


def step_of(explanation, tensor):
    for step in explanation.steps:
        if step.node is tensor.grad_fn:
            return step
    raise AssertionError(f"no step for {tensor.grad_fn}")


# ---------------------------------------------------------------------- the lesson
def test_lesson_adds_60_8_and_4_to_72_at_x():
    x, y = lesson(gradienti)
    explanation = explain(y, names={"x": x, "y": y})
    text = str(explanation)
    assert "60 + 8 + 4 = 72" in text
    contributions, total = explanation.leaf_totals["x"]
    assert [float(value) for value in contributions] == [60.0, 8.0, 4.0]
    assert float(total) == 72.0
    leaf_step = explanation.steps[-1]
    assert leaf_step.name == "AccumulateGrad"
    assert [consumer for _index, consumer, _value in leaf_step.grad_in_parts] == ["x³", "x²", "4·x"]
    assert "∂y/∂x = 72" in text


def test_lesson_steps_follow_the_engine_order():
    x, y = lesson(gradienti)
    explanation = explain(y, names={"x": x, "y": y})
    assert len(explanation.steps) == len(graph_nodes(y)) == 9
    assert explanation.steps[0].name == "AddBackward0"
    assert explanation.steps[0].node is y.grad_fn
    assert explanation.steps[-1].name == "AccumulateGrad"
    assert [step.index for step in explanation.steps] == list(range(1, 10))
    assert [step.node for step in explanation.steps] == engine_order(gradienti, y)
    assert "Step 1 of 9 · AddBackward0 · y = 5·x³ + 2·x² + 4·x + 8 = 64" in str(explanation)


def test_engine_order_matches_pytorch():
    torch = pytest.importorskip("torch")
    _x, y = lesson(gradienti)
    names = [step.name for step in explain(y).steps]
    _tx, ty = lesson(torch)
    torch_names = [node.name() for node in engine_order(torch, ty)]
    torch_names = [name.replace("torch::autograd::", "") for name in torch_names]
    assert names == torch_names


@pytest.mark.parametrize("build", [diamond_example, broadcast_example])
def test_step_order_is_the_engines(build):
    _tensors, y = build(gradienti)
    explanation = explain(y)
    assert len(explanation.steps) == len(graph_nodes(y))
    assert [step.node for step in explanation.steps] == engine_order(gradienti, y)


@pytest.mark.parametrize("build", EXAMPLES, ids=lambda build: build.__name__)
def test_every_gradient_equals_pytorchs(build):
    torch = pytest.importorskip("torch")
    tensors, y = build(gradienti)
    explanation = explain(y, names=tensors)
    torch_tensors, torch_y = build(torch)
    for tensor in torch_tensors.values():
        if not tensor.is_leaf:
            tensor.retain_grad()
    torch_y.backward()
    checked = 0
    for name, tensor in tensors.items():
        expected = torch_tensors[name].grad.numpy()
        if tensor.is_leaf:
            got = explanation.leaf_totals[name][1]
        else:
            got = step_of(explanation, tensor).grad_in
        np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6, atol=1e-7)
        checked += 1
    assert checked == len(tensors)
    # and what each step passes on adds up to what its inputs receive
    for step in explanation.steps:
        if step.name == "AccumulateGrad":
            continue
        for contribution in step.contributions:
            if contribution.node is not None:
                assert contribution.value is not None


def test_gradients_equal_the_engines_bit_for_bit():
    tensors, y = broadcast_example(gradienti)
    explanation = explain(y, names=tensors)
    y.backward()
    for name in ("w", "x", "b"):
        np.testing.assert_array_equal(
            np.asarray(explanation.leaf_totals[name][1]), tensors[name].grad.numpy()
        )


# ---------------------------------------------------------------------- nothing changes
def test_explain_changes_no_grad():
    x, y = lesson(gradienti)
    z = gradienti.tensor(1.0, requires_grad=True)
    z.grad = gradienti.tensor(3.0)
    before = z.grad
    w = y * z
    middle = x * 4
    middle.retain_grad()
    total = w + middle
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        explanation = explain(total, names=locals())
    assert x.grad is None
    assert z.grad is before
    assert float(z.grad) == 3.0
    assert middle._grad is None
    assert "x.grad:" in str(explanation) and "None now" in str(explanation)
    assert "3 now; backward() would add: 3 + 64 = 67" in str(explanation)


def test_explain_does_not_consume_the_graph():
    x, y = lesson(gradienti)
    first = str(explain(y, names={"x": x, "y": y}))
    second = str(explain(y, names={"x": x, "y": y}))
    assert first == second
    y.backward()
    assert float(x.grad) == 72.0


def test_hooks_are_not_run():
    calls = []
    x = gradienti.tensor(2.0, requires_grad=True)
    y = x * 3
    y.register_hook(lambda grad: calls.append(1) or grad * 10)
    explanation = explain(y * 1, names={"x": x})
    assert calls == []
    assert float(explanation.leaf_totals["x"][1]) == 3.0
    assert "explain does not run them" in str(explanation)


# ---------------------------------------------------------------------- after backward
def test_after_backward_the_values_are_freed_but_the_steps_remain():
    x, y = lesson(gradienti)
    y.backward()
    explanation = explain(y, names={"x": x, "y": y})
    text = str(explanation)
    assert explanation.freed
    assert "call explain before backward(), or use retain_graph=True" in text
    assert len(explanation.steps) == 9
    assert [step.name for step in explanation.steps][:2] == ["AddBackward0", "AddBackward0"]
    assert all(
        step.grad_in is None and step.missing == "values freed" for step in explanation.steps
    )
    assert explanation.leaf_totals["x"] == ([None, None, None], None)
    pow3 = explanation.steps[7]
    assert pow3.formula == "x³" and pow3.local_formulas == ["3·x²"]
    assert "∂y/∂x: values freed" in text
    assert float(x.grad) == 72.0  # unchanged by explain


def test_after_backward_with_retain_graph_the_values_are_there():
    x, y = lesson(gradienti)
    y.backward(retain_graph=True)
    explanation = explain(y, names={"x": x})
    assert not explanation.freed
    assert float(explanation.leaf_totals["x"][1]) == 72.0
    assert "backward() would add: 72 + 72 = 144" in str(explanation)


def test_a_saved_value_modified_in_place_is_told_not_raised():
    a = gradienti.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    c = b * b
    b.mul_(2)
    explanation = explain(c)
    assert explanation.freed
    assert "backward() would fail on this graph" in str(explanation)
    assert explanation.steps[0].missing == "not computed"
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()


# ---------------------------------------------------------------------- formulas
def test_formula_texts_for_pow_mul_and_add():
    x, y = lesson(gradienti)
    steps = {step.expression: step for step in explain(y, names={"x": x}).steps}
    cube = steps["x³"]
    assert cube.name == "PowBackward0"
    assert cube.formula == "x³"
    assert cube.operation == "power with exponent 3"
    assert cube.local_formulas == ["3·x²"]
    assert cube.derivatives[0].text == "3·x² = 3·2² = 12"
    assert float(cube.derivatives[0].value) == 12.0
    assert cube.contributions[0].text == "5 × 12 = 60"
    assert float(cube.contributions[0].value) == 60.0
    square = steps["x²"]
    assert square.local_formulas == ["2·x"]
    assert square.derivatives[0].text == "2·x = 2·2 = 4"
    five = steps["5·x³"]
    assert five.name == "MulBackward0"
    assert five.formula == "a·b"
    assert five.local_formulas == ["b", "a"]
    assert five.derivatives[0].text == "b = 5"
    assert five.bindings == "a = x³, b = 5 (a constant)"
    add = steps["5·x³ + 2·x²"]
    assert add.formula == "a + b"
    assert add.local_formulas == ["1", "1"]
    root = explain(y, names={"x": x, "y": y}).steps[0]
    assert root.expression == "y = 5·x³ + 2·x² + 4·x + 8"


@pytest.mark.parametrize(
    ("make", "name", "formula", "local"),
    [
        (lambda x: x - 1.0, "SubBackward0", "a - b", ["1", "-1"]),
        (lambda x: x / 3.0, "DivBackward0", "a/b", ["1/b", "-a/b²"]),
        (lambda x: -x, "NegBackward0", "-x", ["-1"]),
        (lambda x: x.exp(), "ExpBackward0", "exp(x)", ["exp(x)"]),
        (lambda x: x.log(), "LogBackward0", "log(x)", ["1/x"]),
        (lambda x: x.sqrt(), "SqrtBackward0", "sqrt(x)", ["1/(2·sqrt(x))"]),
        (lambda x: x.sin(), "SinBackward0", "sin(x)", ["cos(x)"]),
        (lambda x: x.cos(), "CosBackward0", "cos(x)", ["-sin(x)"]),
        (lambda x: x.tanh(), "TanhBackward0", "tanh(x)", ["1 - tanh(x)²"]),
        (lambda x: x.sigmoid(), "SigmoidBackward0", "sigmoid(x)", ["sigmoid(x)·(1 - sigmoid(x))"]),
        (lambda x: x.relu(), "ReluBackward0", "relu(x)", ["1 if x > 0, else 0"]),
        (lambda x: x.abs(), "AbsBackward0", "|x|", ["sign(x)"]),
        (lambda x: x.reciprocal(), "ReciprocalBackward0", "1/x", ["-1/x²"]),
        (lambda x: 1 - x, "RsubBackward1", "1 - x", ["-1"]),
        (lambda x: 2**x, "PowBackward2", "2^x", ["2^x·log(2)"]),
        (lambda x: x**-1, "PowBackward0", "x⁻¹", ["-1·x⁻²"]),
        (lambda x: x**0.5, "PowBackward0", "x^0.5", ["0.5·x^(-0.5)"]),
    ],
)
def test_formula_table(make, name, formula, local):
    x = gradienti.tensor(0.5, requires_grad=True)
    step = explain(make(x), names={"x": x}).steps[0]
    assert step.name == name
    assert step.formula == formula
    assert step.local_formulas == local
    # the local derivative's value is the one the engine's VJP gives for a gradient of one
    expected = gradienti.autograd.grad(make(x), x)[0]
    value = step.derivatives[0].value
    np.testing.assert_allclose(np.asarray(value), expected.numpy(), rtol=1e-6)


def test_tensor_power_with_a_tensor_exponent():
    a = gradienti.tensor(2.0, requires_grad=True)
    b = gradienti.tensor(3.0, requires_grad=True)
    step = explain(a**b, names={"a": a, "b": b}).steps[0]
    assert step.name == "PowBackward1"
    assert step.formula == "a^b"
    assert [derivative.text for derivative in step.derivatives] == [
        "b·a^(b - 1) = 3·2^(3 - 1) = 12",
        "a^b·log(a) = 2^3·log(2) = 5.54518",
    ]
    assert float(step.contributions[0].value) == 12.0


def test_sum_and_mean_say_what_they_pass():
    x = gradienti.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    step = explain(x.mean(), names={"x": x}).steps[0]
    assert step.contributions[0].text == (
        "the gradient divided by n = 4, copied to every element = [0.25, 0.25, 0.25, 0.25]"
    )
    step = explain(x.sum(dim=0), names={"x": x}).steps[0]
    assert step.formula == "sum(x, dim=(0,))"
    assert step.contributions[0].text == "the gradient, copied along dim (0,) = [1, 1, 1, 1]"


def test_unknown_nodes_fall_back_to_their_name():
    class Cube(Function):
        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a**3

        @staticmethod
        def backward(ctx, grad):
            (a,) = ctx.saved_tensors
            return 3 * a * a * grad

    x = gradienti.tensor(2.0, requires_grad=True)
    explanation = explain(Cube.apply(x) + x, names={"x": x})
    assert "∂ computed by CubeBackward = 12" in str(explanation)
    assert float(explanation.leaf_totals["x"][1]) == 13.0


# ---------------------------------------------------------------------- tensors
def test_small_tensors_are_shown_in_full():
    tensors, y = vector_example(gradienti)
    text = str(explain(y, names=tensors))
    assert "leaf x = [1, 2, 3]" in text
    assert "∂/∂b = a = e = [2.71828, 7.38906, 20.0855]" in text
    assert "sum:          [5.43656, 22.1672, 80.3421]" in text


def test_large_tensors_are_summarised():
    x = gradienti.arange(100.0, requires_grad=True)
    y = (x * 2).sum()
    explanation = explain(y, names={"x": x})
    text = str(explanation)
    assert "leaf x = (shape (100,): mean 49.5, min 0, max 99)" in text
    assert "(shape (100,): all 2)" in text
    assert "[0, 1, 2" not in text
    assert explanation.leaf_totals["x"][1].shape == (100,)


def test_broadcasting_is_undone_and_said():
    tensors, y = broadcast_example(gradienti)
    explanation = explain(y, names=tensors)
    notes = [
        (contribution.input, contribution.note, contribution.value.shape)
        for step in explanation.steps
        for contribution in step.contributions
        if contribution.note
    ]
    assert ("x", "summed over the broadcast dimensions (2, 3) -> (3,)", (3,)) in notes
    assert ("b", "summed over the broadcast dimensions (2, 3) -> (2, 1)", (2, 1)) in notes
    assert "summed over the broadcast dimensions" in str(explanation)


def test_a_non_scalar_output_starts_with_ones_or_the_given_gradient():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    explanation = explain(y, names={"x": x, "y": y})
    assert "the start gradient is ones" in str(explanation)
    np.testing.assert_array_equal(np.asarray(explanation.leaf_totals["x"][1]), [3.0, 3.0])
    explanation = explain(y, gradient=gradienti.tensor([1.0, -1.0]), names={"x": x})
    np.testing.assert_array_equal(np.asarray(explanation.leaf_totals["x"][1]), [3.0, -3.0])
    y.backward(gradienti.tensor([1.0, -1.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, -3.0])


def test_several_outputs_of_one_node():
    torch = pytest.importorskip("torch")

    def build(lib):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        p, q = x.split(1, dim=0)
        return x, (p * 2 + q.sin()).sum()

    x, y = build(gradienti)
    explanation = explain(y, names={"x": x})
    tx, ty = build(torch)
    ty.backward()
    np.testing.assert_allclose(np.asarray(explanation.leaf_totals["x"][1]), tx.grad.numpy())
    assert explanation.steps[-2].name == "SplitBackward0"


# ---------------------------------------------------------------------- options and names
def test_inputs_restrict_the_steps_like_autograd_grad():
    x = gradienti.tensor(2.0, requires_grad=True)
    w = gradienti.tensor(3.0, requires_grad=True)
    h = x * w
    y = h * h + h
    explanation = explain(y, inputs=[h], names=locals())
    names = [step.name for step in explanation.steps]
    assert names == ["AddBackward0", "MulBackward0", "MulBackward0"]
    assert all(step.name != "AccumulateGrad" for step in explanation.steps)
    (expected,) = gradienti.autograd.grad(y, h, retain_graph=True)
    assert float(explanation.leaf_totals["h"][1]) == float(expected) == 13.0
    only_x = explain(y, inputs=x, names=locals())
    assert list(only_x.leaf_totals) == ["x"]
    assert float(only_x.leaf_totals["x"][1]) == 39.0


def test_leaves_are_named_x0_x1_without_names_and_underscores_are_skipped():
    a = gradienti.tensor(1.0, requires_grad=True)
    b = gradienti.tensor(2.0, requires_grad=True)
    y = a * b
    assert set(explain(y).leaf_totals) == {"x0", "x1"}
    names = {"_": a, "_1": b, "a": a, "b": b}
    assert set(explain(y, names=names).leaf_totals) == {"a", "b"}


def test_long_expressions_get_short_names():
    x = gradienti.tensor(0.5, requires_grad=True)
    y = x
    for _ in range(12):
        y = y.tanh()
    explanation = explain(y, names={"x": x})
    assert any("tanh₁" in step.expression for step in explanation.steps)
    assert all(len(line) <= 100 for line in str(explanation).splitlines())


def test_max_steps_limits_the_text_not_the_steps():
    tensors, y = diamond_example(gradienti)
    explanation = explain(y, names=tensors, max_steps=3)
    text = str(explanation)
    assert "Step 3 of 9" in text and "Step 4 of 9" not in text
    assert "6 more steps not shown" in text
    assert len(explanation.steps) == 9
    assert "∂output/∂a = " in text


def test_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        explain(gradienti.tensor(1.0))
    with pytest.raises(TypeError):
        explain(1.0)
    x = gradienti.tensor(1.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        explain(x * 2, gradient=gradienti.tensor([1.0, 2.0]))


def test_a_deep_graph_is_walked_without_recursion():
    x = gradienti.tensor(0.1, requires_grad=True)
    y = x
    for _ in range(3000):
        y = y * 1.0001
    explanation = explain(y, names={"x": x}, max_steps=2)
    assert len(explanation.steps) == 3001
    (expected,) = gradienti.autograd.grad(y, x)
    assert float(explanation.leaf_totals["x"][1]) == float(expected)


# ---------------------------------------------------------------------- text and picture
def test_text_repr_and_pretty_printing():
    x, y = lesson(gradienti)
    explanation = explain(y, names={"x": x, "y": y})
    assert isinstance(explanation, Explanation)
    assert repr(explanation) == str(explanation) == explanation.text
    printed = []

    class Printer:
        def text(self, value):
            printed.append(value)

    explanation._repr_pretty_(Printer(), False)
    assert printed == [str(explanation)]
    assert all(len(line) <= 100 for line in str(explanation).splitlines())


def test_node_notes_for_the_picture():
    x, y = lesson(gradienti)
    explanation = explain(y, names={"x": x, "y": y})
    notes = explanation.node_notes
    assert set(map(id, notes)) == {id(node) for node in graph_nodes(y)}
    cube_node = y.grad_fn
    for _ in range(4):  # + 8, + 4·x, + 2·x², 5·x³: the first input each time
        cube_node = cube_node.next_functions[0][0]
    assert cube_node.name() == "PowBackward0"
    assert notes[cube_node] == "grad in: 5\n∂/∂x: 3·x² = 12\nout: 60"
    leaf = cube_node.next_functions[0][0]
    assert notes[leaf] == "grad in: 60 + 8 + 4 = 72"
    assert notes[y.grad_fn] == "grad in: 1\n∂/∂a: 1\nout: 1"
    assert explanation.to_graph_notes() == notes


# ---------------------------------------------------------------------- every op
def _op_cases():
    import test_ops  # the op-case table (and the modules it gathers)

    return [pytest.param(case, id=case.name) for case in test_ops.DIFFERENTIABLE]


@pytest.mark.parametrize("case", _op_cases())
def test_every_op_is_explained_with_the_engines_gradients(case):
    xs = [gradienti.tensor(array, requires_grad=True) for array in case.arrays()]
    out = case.fn(gradienti, *xs)
    rng = np.random.default_rng(0)
    upstream = gradienti.tensor(rng.uniform(0.5, 1.5, tuple(out.shape)))
    names = {f"in{i}": x for i, x in enumerate(xs)}
    explanation = explain(out, gradient=upstream, names=names)
    text = str(explanation)
    assert all(len(line) <= 100 for line in text.splitlines()), case.name
    assert not explanation.freed
    expected = gradienti.autograd.grad(out, xs, upstream, allow_unused=True)
    for i, (x, grad) in enumerate(zip(xs, expected)):
        if grad is None:
            assert f"in{i}" not in explanation.leaf_totals
            continue
        np.testing.assert_array_equal(
            np.asarray(explanation.leaf_totals[f"in{i}"][1]), grad.numpy(), err_msg=case.name
        )
        assert x.grad is None


def test_linear_and_cross_entropy_nodes_have_their_own_wording():
    import gradienti.nn.functional as F

    x = gradienti.tensor([[1.0, 2.0, 3.0], [0.5, -1.0, 2.0]], requires_grad=True)
    w = gradienti.tensor([[0.1, -0.2, 0.3], [0.0, 0.5, -0.5]], requires_grad=True)
    b = gradienti.tensor([0.1, -0.1], requires_grad=True)
    text = str(explain(F.cross_entropy(F.linear(x, w, b), gradienti.tensor([0, 1]))))
    assert "AddmmBackward0" in text and "matrix product plus a bias" in text
    assert "NllLossBackward0" in text and "negative log-likelihood" in text
    assert "gradient @ cᵀ" in text and "bᵀ @ gradient" in text
