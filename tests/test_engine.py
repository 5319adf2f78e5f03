"""The backward engine: graph structure, scheduling, freeing, autograd.grad, hooks, errors."""

import gc
import inspect
import threading
import warnings
import weakref

import numpy as np
import pytest
from same_outcome import pytorch_text

import gradienti
from gradienti import autograd

SECOND_BACKWARD_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed when "
    "you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward."
)
NON_LEAF_GRAD_WARNING_START = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed."
)


def values(t):
    """A tensor's values as a float64 NumPy array (a copy)."""
    return np.array(t.detach().numpy(), dtype=np.float64)


def lesson(lib):
    x = lib.tensor(2.0, requires_grad=True)
    y = 5 * x**3 + 2 * x**2 + 4 * x + 8
    return x, y


# ---------------------------------------------------------------------- the lesson
def test_lesson_prints_like_the_tutorial(capsys):
    x, y = lesson(gradienti)
    print(x)
    print(f"Function output: {y}")
    y.backward()
    print(f"Gradient of x: {x.grad}")
    assert capsys.readouterr().out == (
        "tensor(2., requires_grad=True)\nFunction output: 64.0\nGradient of x: 72.0\n"
    )
    assert repr(y) == "tensor(64., grad_fn=<AddBackward0>)"
    assert str(y) == "tensor(64., grad_fn=<AddBackward0>)"
    assert repr(x.grad) == "tensor(72.)"


def test_lesson_text_matches_torch():
    torch = pytest.importorskip("torch")
    texts = []
    for lib in (gradienti, torch):
        x, y = lesson(lib)
        before = (repr(x), str(x), repr(y), f"Function output: {y}")
        y.backward()
        texts.append(before + (f"Gradient of x: {x.grad}", repr(x.grad), repr(y)))
    assert texts[0] == texts[1]


def _walk_pair(ours, theirs, seen_leaves, path="y.grad_fn"):
    if theirs is None:
        assert ours is None, path
        return
    assert ours is not None, path
    assert type(ours).__name__ == type(theirs).__name__, path
    assert ours.name() == theirs.name(), path
    assert len(ours.next_functions) == len(theirs.next_functions), path
    if type(theirs).__name__ == "AccumulateGrad":
        seen_leaves.append((ours, theirs))
    for index, ((our_child, our_nr), (their_child, their_nr)) in enumerate(
        zip(ours.next_functions, theirs.next_functions)
    ):
        assert isinstance(ours.next_functions[index], tuple)
        assert our_nr == their_nr, f"{path}.next_functions[{index}]"
        _walk_pair(our_child, their_child, seen_leaves, f"{path}.next_functions[{index}][0]")


def test_lesson_graph_matches_torch():
    torch = pytest.importorskip("torch")
    our_x, our_y = lesson(gradienti)
    their_x, their_y = lesson(torch)
    leaves = []
    _walk_pair(our_y.grad_fn, their_y.grad_fn, leaves)
    assert len(leaves) == 3  # x appears in three terms
    for ours, theirs in leaves:
        assert ours.variable is our_x
        assert theirs.variable is their_x
    # One accumulator per leaf, in both libraries.
    assert len({id(ours) for ours, _ in leaves}) == 1
    assert len({id(theirs) for _, theirs in leaves}) == 1


def test_lesson_graph_structure():
    x, y = lesson(gradienti)
    node = y.grad_fn
    assert type(node).__name__ == "AddBackward0"
    assert node.next_functions[1] == (None, 0)  # the constant 8
    mul = node.next_functions[0][0].next_functions[1][0]  # 4 * x
    assert type(mul).__name__ == "MulBackward0"
    accumulate, output_nr = mul.next_functions[0]
    assert output_nr == 0
    assert type(accumulate).__name__ == "AccumulateGrad"
    assert accumulate.name() == "torch::autograd::AccumulateGrad"
    assert accumulate.next_functions == ()
    assert accumulate.variable is x
    assert mul.next_functions[1] == (None, 0)
    assert x.grad_fn is None
    assert x.is_leaf and not y.is_leaf


# ---------------------------------------------------------------------- graph shapes
def test_diamond():
    x = gradienti.tensor([1.0, 2.0, 3.0], requires_grad=True)
    a = x * 2
    b = x * 3
    y = (a * b).sum()  # 6 x**2
    y.backward()
    np.testing.assert_array_equal(values(x.grad), [12.0, 24.0, 36.0])


def test_diamond_matches_torch():
    torch = pytest.importorskip("torch")
    grads = []
    for lib in (gradienti, torch):
        x = lib.tensor([0.5, -1.25, 3.0], requires_grad=True)
        a = x.exp()
        b = x * x
        y = (a * b + a / (b + 1)).sum()
        y.backward()
        grads.append(x.grad.detach().numpy().copy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_x_times_x():
    x = gradienti.tensor(3.0, requires_grad=True)
    (x * x).backward()
    assert x.grad.item() == 6.0


def test_fan_out():
    x = gradienti.tensor([1.0, -2.0], requires_grad=True)
    y = x * 1
    for i in range(2, 11):
        y = y + x * i
    y.sum().backward()
    np.testing.assert_array_equal(values(x.grad), [55.0, 55.0])


def test_fan_out_of_an_intermediate():
    x = gradienti.tensor(2.0, requires_grad=True)
    h = x * x  # used by three consumers
    y = h + h * 3 + h.exp()
    y.backward()
    assert x.grad.item() == pytest.approx(2 * 2.0 * (4 + np.exp(4.0)), rel=1e-6)


def test_accumulation_across_two_backward_calls():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(values(x.grad), [3.0, 3.0])
    (x * 4).sum().backward()
    np.testing.assert_array_equal(values(x.grad), [7.0, 7.0])


def test_retain_graph_allows_second_backward():
    x = gradienti.tensor(2.0, requires_grad=True)
    y = x**3
    y.backward(retain_graph=True)
    assert x.grad.item() == 12.0
    y.backward()
    assert x.grad.item() == 24.0


def test_second_backward_without_retain_graph_raises():
    x = gradienti.tensor(2.0, requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(RuntimeError) as info:
        y.backward()
    assert pytorch_text(str(info.value)) == SECOND_BACKWARD_MESSAGE


@pytest.mark.parametrize(
    "build",
    [lambda x: x * x, lambda x: x * 2, lambda x: (x * 2).exp(), lambda x: x**3],
    ids=["x*x", "x*2", "exp", "pow"],
)
def test_second_backward_message_matches_torch(build):
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (gradienti, torch):
        x = lib.tensor(2.0, requires_grad=True)
        y = build(x)
        y.backward()
        with pytest.raises(RuntimeError) as info:
            y.backward()
        messages.append(str(info.value))
    assert pytorch_text(messages[0]) == messages[1] == SECOND_BACKWARD_MESSAGE


def test_graph_that_saved_nothing_runs_twice():
    x = gradienti.tensor(2.0, requires_grad=True)
    y = x + 1
    y.backward()
    y.backward()  # torch allows this too: AddBackward0 saves nothing
    assert x.grad.item() == 2.0


def test_graph_that_saved_nothing_runs_twice_in_torch_too():
    torch = pytest.importorskip("torch")
    for lib in (gradienti, torch):
        x = lib.tensor(2.0, requires_grad=True)
        y = (x + 1) - 3
        y.backward()
        y.backward()
        assert x.grad.item() == 2.0


def test_deep_chain_has_no_recursion_limit():
    x = gradienti.tensor(1.5, requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y + 1
    y.backward()
    assert x.grad.item() == 1.0
    assert y.item() == 1_000_001.5
    del y  # tearing down a million nodes must not overflow the C stack either


def test_deep_multiplicative_chain():
    x = gradienti.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(200_000):
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0


def test_exponentially_many_paths_each_node_runs_once():
    x = gradienti.tensor(1.0, dtype=gradienti.float64, requires_grad=True)
    y = x
    for _ in range(60):
        y = y + y
    y.backward()
    assert x.grad.dtype == gradienti.float64
    assert x.grad.item() == 2.0**60
    assert y.item() == 2.0**60


# ---------------------------------------------------------------------- freeing
def test_intermediate_tensor_dies_without_gc():
    gc.disable()
    try:
        x = gradienti.tensor([1.0, 2.0], requires_grad=True)
        h = x * 2
        y = h.exp()  # exp saves its output, not its input
        ref = weakref.ref(h)
        del h
        assert ref() is None
        del y
    finally:
        gc.enable()


@pytest.mark.parametrize("retain", [False, True])
def test_saved_arrays_are_released_by_backward(retain):
    gc.disable()
    try:
        x = gradienti.tensor([1.0, 2.0, 3.0], requires_grad=True)
        h = x * 2
        p = h * h  # saves h (its input)
        e = p.exp()  # saves its output
        z = e.sum()
        h_ref = weakref.ref(h.detach().numpy())
        e_ref = weakref.ref(e.detach().numpy())
        del h, p, e
        assert h_ref() is not None  # still needed by the graph
        assert e_ref() is not None
        z.backward(retain_graph=retain)
        if retain:
            assert h_ref() is not None
            assert e_ref() is not None
        else:
            assert h_ref() is None
            assert e_ref() is None
        del z
        assert h_ref() is None
        assert e_ref() is None
    finally:
        gc.enable()


def test_whole_graph_dies_without_gc():
    gc.disable()
    try:
        x = gradienti.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).exp() + x
        y_ref = weakref.ref(y)
        data_ref = weakref.ref(y.detach().numpy())
        del y
        assert y_ref() is None
        assert data_ref() is None
        x_ref = weakref.ref(x)
        del x
        assert x_ref() is None
    finally:
        gc.enable()


# ---------------------------------------------------------------------- autograd.grad
def test_grad_signature():
    parameters = inspect.signature(autograd.grad).parameters
    names = list(parameters)
    assert names[:5] == ["outputs", "inputs", "grad_outputs", "retain_graph", "create_graph"]
    assert parameters["grad_outputs"].default is None
    assert parameters["retain_graph"].default is None
    assert parameters["create_graph"].default is False
    assert "allow_unused" in parameters
    assert gradienti.autograd.grad is autograd.grad


def test_grad_returns_gradients_and_leaves_grad_untouched():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    w = gradienti.tensor([3.0, 4.0], requires_grad=True)
    existing = gradienti.tensor([10.0, 20.0])
    w.grad = existing
    result = autograd.grad((x * w).sum(), [x, w])
    assert isinstance(result, tuple) and len(result) == 2
    np.testing.assert_array_equal(values(result[0]), [3.0, 4.0])
    np.testing.assert_array_equal(values(result[1]), [1.0, 2.0])
    assert not result[0].requires_grad and result[0].grad_fn is None
    assert x.grad is None
    assert w.grad is existing
    np.testing.assert_array_equal(values(w.grad), [10.0, 20.0])


def test_grad_single_tensor_input_gives_one_tuple():
    x = gradienti.tensor(3.0, requires_grad=True)
    (g,) = autograd.grad(x * x, x)
    assert g.item() == 6.0


def test_grad_unused_input():
    a = gradienti.tensor([1.0, 2.0], requires_grad=True)
    b = gradienti.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        autograd.grad((a * 2).sum(), [a, b])
    assert str(info.value) == (
        "The differentiated Tensor at index 1 appears to not have been used in the graph. "
        "Set allow_unused=True if this is the desired behavior."
    )
    ga, gb = autograd.grad((a * 2).sum(), [a, b], allow_unused=True)
    np.testing.assert_array_equal(values(ga), [2.0, 2.0])
    assert gb is None
    assert a.grad is None and b.grad is None


def test_grad_unused_input_message_matches_torch():
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (gradienti, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.raises(RuntimeError) as info:
            lib.autograd.grad((a * 2).sum(), [a, b])
        messages.append(str(info.value))
    assert messages[0] == messages[1]


def test_grad_non_leaf_input():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    (gh,) = autograd.grad(y, h)
    np.testing.assert_array_equal(values(gh), [6.0, 12.0])
    assert x.grad is None


def test_grad_non_uniform_grad_outputs():
    x = gradienti.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    (g,) = autograd.grad(y, x, grad_outputs=gradienti.tensor([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(values(g), [2.0, 40.0, 600.0])


def test_grad_frees_graph_unless_retained():
    x = gradienti.tensor(2.0, requires_grad=True)
    y = x * x
    autograd.grad(y, x, retain_graph=True)
    (g,) = autograd.grad(y, x)
    assert g.item() == 4.0
    with pytest.raises(RuntimeError) as info:
        autograd.grad(y, x)
    assert pytorch_text(str(info.value)) == SECOND_BACKWARD_MESSAGE


def test_grad_input_that_does_not_require_grad():
    x = gradienti.tensor(2.0, requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        autograd.grad(x * 2, gradienti.tensor(1.0))
    assert str(info.value) == "One of the differentiated Tensors does not require grad"


# ---------------------------------------------------------------------- backward(inputs=)
def test_backward_inputs_accumulates_only_into_given_tensors():
    a = gradienti.tensor([1.0, 2.0], requires_grad=True)
    b = gradienti.tensor([3.0, 4.0], requires_grad=True)
    y = (a * b).sum()
    y.backward(inputs=[a])
    np.testing.assert_array_equal(values(a.grad), [3.0, 4.0])
    assert b.grad is None


def test_backward_inputs_single_tensor_and_function_form():
    a = gradienti.tensor([1.0, 2.0], requires_grad=True)
    b = gradienti.tensor([3.0, 4.0], requires_grad=True)
    autograd.backward((a * b).sum(), inputs=b)
    np.testing.assert_array_equal(values(b.grad), [1.0, 2.0])
    assert a.grad is None


def test_backward_inputs_empty_raises():
    a = gradienti.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError) as info:
        (a * 2).sum().backward(inputs=[])
    assert str(info.value) == "`inputs` argument to `backward()` cannot be empty."
    assert a.grad is None


# ---------------------------------------------------------------------- no aliasing
def test_add_gives_each_leaf_its_own_gradient():
    a = gradienti.tensor([1.0, 2.0], requires_grad=True)
    b = gradienti.tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    assert a.grad is not b.grad
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    a.grad.numpy()[0] = 99.0
    np.testing.assert_array_equal(values(b.grad), [1.0, 1.0])


def test_add_with_explicit_gradient_does_not_alias_it():
    a = gradienti.tensor([1.0, 2.0], requires_grad=True)
    b = gradienti.tensor([3.0, 4.0], requires_grad=True)
    g = gradienti.tensor([5.0, 6.0])
    (a + b).backward(g)
    grads = [a.grad.numpy(), b.grad.numpy(), g.numpy()]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not np.shares_memory(grads[i], grads[j])
    g.numpy()[:] = -1.0
    a.grad.numpy()[0] = 99.0
    np.testing.assert_array_equal(values(b.grad), [5.0, 6.0])
    np.testing.assert_array_equal(values(a.grad), [99.0, 6.0])


def test_leaf_backward_does_not_alias_users_gradient():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    g = gradienti.tensor([5.0, 6.0])
    x.backward(g)
    assert not np.shares_memory(x.grad.numpy(), g.numpy())
    g.numpy()[0] = 99.0
    np.testing.assert_array_equal(values(x.grad), [5.0, 6.0])
    x.grad.numpy()[1] = -7.0
    np.testing.assert_array_equal(values(g), [99.0, 6.0])


def test_broadcast_add_does_not_alias_users_gradient():
    a = gradienti.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    b = gradienti.tensor([1.0, 2.0, 3.0], requires_grad=True)
    g = gradienti.ones(2, 3)
    (a + b).backward(g)
    assert not np.shares_memory(a.grad.numpy(), g.numpy())
    g.numpy()[:] = 7.0
    np.testing.assert_array_equal(values(a.grad), np.ones((2, 3)))
    np.testing.assert_array_equal(values(b.grad), [2.0, 2.0, 2.0])


def test_a_plus_clone_of_a():
    a = gradienti.tensor([1.0, 2.0], requires_grad=True)
    c = a.clone()
    b = gradienti.tensor([0.0, 0.0], requires_grad=True)
    (a + c + b).backward(gradienti.tensor([1.0, 1.0]))
    np.testing.assert_array_equal(values(a.grad), [2.0, 2.0])
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    b.grad.numpy()[0] = 50.0
    np.testing.assert_array_equal(values(a.grad), [2.0, 2.0])


def test_grad_results_do_not_alias_each_other():
    # (torch returns grad_outputs itself for both; gradienti promises distinct arrays)
    a = gradienti.tensor([1.0, 2.0], requires_grad=True)
    b = gradienti.tensor([3.0, 4.0], requires_grad=True)
    g = gradienti.tensor([1.0, 1.0])
    ga, gb = autograd.grad(a + b, [a, b], grad_outputs=g)
    assert not np.shares_memory(ga.numpy(), gb.numpy())
    np.testing.assert_array_equal(values(g), [1.0, 1.0])


def test_users_gradient_is_never_modified():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    g = gradienti.tensor([1.0, 3.0])
    y = x * 2 + x
    y.backward(g, retain_graph=True)
    y.backward(g)
    np.testing.assert_array_equal(values(g), [1.0, 3.0])
    np.testing.assert_array_equal(values(x.grad), [6.0, 18.0])
    x.backward(g)  # accumulation into an existing .grad
    np.testing.assert_array_equal(values(g), [1.0, 3.0])
    np.testing.assert_array_equal(values(x.grad), [7.0, 21.0])


# ---------------------------------------------------------------------- higher order
def test_second_and_third_derivative():
    x = gradienti.tensor(2.0, requires_grad=True)
    y = x**3
    (d1,) = autograd.grad(y, x, create_graph=True)
    assert d1.item() == 12.0
    assert d1.requires_grad and d1.grad_fn is not None
    (d2,) = autograd.grad(d1, x, create_graph=True)
    assert d2.item() == 12.0  # 6x
    (d3,) = autograd.grad(d2, x)
    assert d3.item() == 6.0


def test_second_derivative_vector():
    x = gradienti.tensor([1.0, 2.0, -3.0], requires_grad=True)
    (g,) = autograd.grad((x**3).sum(), x, create_graph=True)
    np.testing.assert_allclose(values(g), [3.0, 12.0, 27.0])
    (h,) = autograd.grad(g.sum(), x)
    np.testing.assert_allclose(values(h), [6.0, 12.0, -18.0])


def test_backward_with_create_graph_gives_grad_a_grad_fn():
    x = gradienti.tensor(2.0, requires_grad=True)
    (x**3).backward(create_graph=True)
    assert x.grad.item() == 12.0
    assert x.grad.grad_fn is not None
    assert x.grad.requires_grad
    (d2,) = autograd.grad(x.grad, x)
    assert d2.item() == 12.0


def test_backward_through_grad_result():
    x = gradienti.tensor(2.0, requires_grad=True)
    (g,) = autograd.grad(x**3, x, create_graph=True)
    assert x.grad is None
    g.backward()
    assert x.grad.item() == 12.0


def test_higher_order_matches_torch():
    torch = pytest.importorskip("torch")
    results = []
    for lib in (gradienti, torch):
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        y = (x.sin() * x.exp()).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        results.append((g.detach().numpy().copy(), h.numpy().copy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6)


# ---------------------------------------------------------------------- hooks
def test_hook_on_leaf_sees_gradient():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: seen.append(values(g)))
    (x * 3).sum().backward()
    assert len(seen) == 1
    np.testing.assert_array_equal(seen[0], [3.0, 3.0])


def test_hook_on_non_leaf_sees_gradient():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    seen = []
    h.register_hook(lambda g: seen.append(values(g)))
    (h * h).sum().backward()
    np.testing.assert_array_equal(seen[0], [4.0, 8.0])
    np.testing.assert_array_equal(values(x.grad), [8.0, 16.0])


def test_hook_return_value_replaces_gradient():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.register_hook(lambda g: g * 10)
    h.sum().backward()
    np.testing.assert_array_equal(values(x.grad), [20.0, 20.0])


def test_leaf_hook_return_value_replaces_gradient():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g + 1)
    (x * 3).sum().backward()
    np.testing.assert_array_equal(values(x.grad), [4.0, 4.0])


def test_hook_handle_remove():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1) or g * 0)
    handle.remove()
    (x * 3).sum().backward()
    assert calls == []
    np.testing.assert_array_equal(values(x.grad), [3.0, 3.0])


def test_retain_grad_fills_non_leaf_grad():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    h.retain_grad()
    assert h.retains_grad
    (h * h).sum().backward()
    np.testing.assert_array_equal(values(h.grad), [4.0, 8.0])


def test_non_leaf_grad_warns_and_is_none():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    with pytest.warns(UserWarning) as record:
        assert h.grad is None
    assert str(record[0].message).startswith(NON_LEAF_GRAD_WARNING_START)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None  # a leaf: no warning


def test_non_leaf_grad_warning_matches_torch():
    torch = pytest.importorskip("torch")
    messages = []
    for lib in (gradienti, torch):
        h = lib.tensor([1.0], requires_grad=True) * 2
        with pytest.warns(UserWarning) as record:
            assert h.grad is None
        messages.append(str(record[0].message))
    # torch appends "(Triggered internally at ...)"
    assert messages[1].startswith(pytorch_text(messages[0]))


# ---------------------------------------------------------------------- errors
def _backward_no_grad(lib):
    lib.tensor(1.0).backward()


def _non_scalar(lib):
    (lib.ones(2, requires_grad=True) * 2).backward()


def _wrong_shape(lib):
    (lib.ones(2, requires_grad=True) * 2).backward(lib.ones(3))


def _int_tensor_requires_grad(lib):
    lib.tensor([1, 2], requires_grad=True)


def _int_requires_grad_(lib):
    lib.tensor([1, 2]).requires_grad_()


def _int_requires_grad_attribute(lib):
    lib.tensor([1, 2]).requires_grad = True


def _non_leaf_requires_grad_false(lib):
    (lib.ones(2, requires_grad=True) * 2).requires_grad = False


def _non_leaf_requires_grad_true_attribute(lib):
    (lib.ones(2, requires_grad=True) * 2).requires_grad = True


def _retain_grad_no_grad(lib):
    lib.tensor(1.0).retain_grad()


def _hook_no_grad(lib):
    lib.tensor(1.0).register_hook(lambda g: g)


def _empty_inputs(lib):
    (lib.ones(2, requires_grad=True) * 2).sum().backward(inputs=[])


def _grad_of_constant_input(lib):
    lib.autograd.grad(lib.ones(1, requires_grad=True) * 2, lib.ones(1))


ERROR_CASES = [
    (
        _backward_no_grad,
        RuntimeError,
        "element 0 of tensors does not require grad and does not have a grad_fn",
    ),
    (_non_scalar, RuntimeError, "grad can be implicitly created only for scalar outputs"),
    (
        _wrong_shape,
        RuntimeError,
        "Mismatch in shape: grad_output[0] has a shape of torch.Size([3]) and output[0] has a "
        "shape of torch.Size([2]).",
    ),
    (
        _int_tensor_requires_grad,
        RuntimeError,
        "Only Tensors of floating point and complex dtype can require gradients",
    ),
    (
        _int_requires_grad_,
        RuntimeError,
        "only Tensors of floating point dtype can require gradients",
    ),
    (
        _int_requires_grad_attribute,
        RuntimeError,
        "only Tensors of floating point and complex dtype can require gradients",
    ),
    (
        _non_leaf_requires_grad_false,
        RuntimeError,
        "you can only change requires_grad flags of leaf variables. If you want to use a "
        "computed variable in a subgraph that doesn't require differentiation use "
        "var_no_grad = var.detach().",
    ),
    (
        _non_leaf_requires_grad_true_attribute,
        RuntimeError,
        "you can only change requires_grad flags of leaf variables.",
    ),
    (
        _retain_grad_no_grad,
        RuntimeError,
        "can't retain_grad on Tensor that has requires_grad=False",
    ),
    (
        _hook_no_grad,
        RuntimeError,
        "cannot register a hook on a tensor that doesn't require gradient",
    ),
    (_empty_inputs, RuntimeError, "`inputs` argument to `backward()` cannot be empty."),
    (
        _grad_of_constant_input,
        RuntimeError,
        "One of the differentiated Tensors does not require grad",
    ),
]
ERROR_IDS = [case[0].__name__.strip("_") for case in ERROR_CASES]


@pytest.mark.parametrize(("action", "kind", "message"), ERROR_CASES, ids=ERROR_IDS)
def test_error(action, kind, message):
    with pytest.raises(Exception) as info:
        action(gradienti)
    assert type(info.value) is kind
    # PyTorch's text, then possibly gradienti's hint (autograd/error_hints.with_hint)
    assert str(info.value).split("\n\ngradienti: ")[0] == message


@pytest.mark.parametrize(("action", "kind", "message"), ERROR_CASES, ids=ERROR_IDS)
def test_error_text_is_torchs(action, kind, message):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as info:
        action(torch)
    assert type(info.value) is kind
    assert str(info.value) == message


def test_requires_grad_true_on_non_leaf_via_method_is_allowed():
    x = gradienti.ones(2, requires_grad=True)
    h = x * 2
    assert h.requires_grad_() is h
    assert h.requires_grad and not h.is_leaf


def test_failed_backward_changes_no_grad():
    b = gradienti.tensor([1.0, 2.0], requires_grad=True)
    m = b * b  # saves its inputs
    a = gradienti.tensor([3.0, 4.0], requires_grad=True)  # created after the failing node
    y = m.sum() + (a * 5).sum()
    y.backward()
    a_grad, b_grad = a.grad, b.grad
    np.testing.assert_array_equal(values(a_grad), [5.0, 5.0])
    np.testing.assert_array_equal(values(b_grad), [2.0, 4.0])
    with pytest.raises(RuntimeError) as info:
        y.backward()
    assert pytorch_text(str(info.value)) == SECOND_BACKWARD_MESSAGE
    assert a.grad is a_grad and b.grad is b_grad
    np.testing.assert_array_equal(values(a.grad), [5.0, 5.0])
    np.testing.assert_array_equal(values(b.grad), [2.0, 4.0])


def test_failed_backward_leaves_none_grads_none():
    b = gradienti.tensor([1.0, 2.0], requires_grad=True)
    a = gradienti.tensor([3.0, 4.0], requires_grad=True)
    h = b * 2

    def explode(grad):
        raise ValueError("boom")

    h.register_hook(explode)
    y = (a * 5).sum() + h.sum()
    with pytest.raises(ValueError, match="boom"):
        y.backward()
    assert a.grad is None
    assert b.grad is None


def test_failed_backward_with_retained_non_leaf():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    y = (h * h).sum()
    with pytest.raises(RuntimeError):
        y.backward(gradienti.ones(2))  # wrong shape: fails before running anything
    assert x.grad is None
    assert h.grad is None


def test_grad_mode_is_restored_after_failed_backward():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError):
        y.backward()
    assert gradienti.is_grad_enabled()
    assert (x * 2).requires_grad


def test_backward_in_another_thread():
    results = []

    def work():
        x = gradienti.tensor(3.0, requires_grad=True)
        (x * x).backward()
        results.append(x.grad.item())

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert results == [6.0]


@pytest.mark.parametrize(
    "make", [lambda x: x * 5, lambda x: x + 5, lambda x: x - 5, lambda x: x / 5]
)
def test_node_post_hook_of_an_op_with_a_constant_sees_both_inputs_as_torch(make):
    # The VJP of x (op) constant returns x's gradient bare (the engine's short path); hooks
    # still see one entry per input, None for the constant, as in PyTorch.
    torch = pytest.importorskip("torch")
    seen = {}
    for name, lib in (("ours", gradienti), ("torch", torch)):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = make(x)

        def record(grad_inputs, grad_outputs, name=name):
            seen[name] = [None if g is None else g.tolist() for g in grad_inputs]

        y.grad_fn.register_hook(record)
        y.sum().backward()
    assert seen["ours"] == seen["torch"]
    assert len(seen["ours"]) == 2 and seen["ours"][1] is None


def _shares(a, b) -> bool:
    return np.shares_memory(np.asarray(a), np.asarray(b))


def test_a_gradient_view_is_kept_only_when_no_one_else_holds_its_memory():
    # The engine keeps a view that is the whole of a fresh array (a transposed product) as a
    # leaf's .grad, without a copy; it must still never alias two gradients or the caller's.
    a = gradienti.ones(3, 2, requires_grad=True)
    b = gradienti.ones(2, 3, requires_grad=True)
    (a.t() + b).backward(gradienti.ones(2, 3))  # a's gradient is a view of b's
    assert not _shares(a.grad.numpy(), b.grad.numpy())

    m = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    x = gradienti.ones(2, 3, requires_grad=True)
    x.view(6).backward(gradienti.from_numpy(m).view(6))  # the caller's array, as a view
    assert not _shares(x.grad.numpy(), m)
    np.testing.assert_array_equal(x.grad.numpy(), m.reshape(2, 3))

    hooked = gradienti.ones(2, 3, requires_grad=True)
    hooked.register_hook(lambda g: gradienti.from_numpy(m).t())
    (hooked * 2).sum().backward()
    assert not _shares(hooked.grad.numpy(), m)

    w = gradienti.ones(4, 5, requires_grad=True)
    (gradienti.ones(3, 5) @ w.t()).sum().backward()  # w's gradient: the whole of a fresh array
    assert w.grad.shape == (4, 5)
    np.testing.assert_array_equal(w.grad.numpy(), np.full((4, 5), 3.0, np.float32))


def test_a_custom_backward_returning_a_view_of_its_own_tensor_gives_the_leaf_a_copy():
    held = gradienti.ones(3, 2)

    class Fixed(gradienti.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            return held.t()  # a view of a tensor the Function keeps

    x = gradienti.zeros(2, 3, requires_grad=True)
    Fixed.apply(x).sum().backward()
    assert not _shares(x.grad.numpy(), held.numpy())
    x.grad.zero_()
    assert held.numpy().all()  # clearing the gradient left the held tensor alone
