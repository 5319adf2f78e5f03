"""Backward hooks against PyTorch: a leaf's post-accumulate-grad hooks, the hooks of a graph node
(``grad_fn.register_hook`` / ``register_prehook``, also on an AccumulateGrad), where
``autograd.grad`` and ``backward(inputs=)`` take their gradients relative to the hooks, and
``autograd.graph.increment_version``. Module hooks: tests/test_module_hooks.py.

Each scenario runs on gradienti and on torch and records what the hooks saw, in order
(tests/oracle_records.py); the two records must be equal.
"""

import importlib

import pytest
from oracle_records import close, same_as_torch


# ---------------------------------------------------------------------- post-accumulate-grad
def test_post_accumulate_hook_runs_after_the_tensor_hooks_and_sees_the_accumulated_grad():
    def scenario(lib, record):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: record("tensor hook", g, x.grad))
        x.register_post_accumulate_grad_hook(lambda t: record("post 1", t is x, t.grad))
        x.register_post_accumulate_grad_hook(lambda t: record("post 2", t.grad))
        (x * 3).sum().backward()
        (x * x).sum().backward()  # the second one sees the sum

    events = same_as_torch(scenario)
    assert events[2] == ("post 2", [3.0, 3.0])
    assert events[-1] == ("post 2", [5.0, 7.0])


def test_post_accumulate_hooks_run_leaf_by_leaf_in_the_order_the_leaves_are_reached():
    def scenario(lib, record):
        w1 = lib.tensor([1.0, 2.0], requires_grad=True)
        w2 = lib.tensor([3.0, 4.0], requires_grad=True)
        w1.register_post_accumulate_grad_hook(lambda t: record("w1", w2.grad))
        w2.register_post_accumulate_grad_hook(lambda t: record("w2", w1.grad))
        ((w1 * 2).exp() * w2).sum().backward()

    assert same_as_torch(scenario)[0] == ("w2", None)


def test_post_accumulate_hook_can_step_the_parameter_in_place():
    def scenario(lib, record):
        v = lib.tensor([1.0, 2.0], requires_grad=True)

        def sgd(p):
            with lib.no_grad():
                p.add_(p.grad, alpha=-0.1)

        v.register_post_accumulate_grad_hook(sgd)
        (v * v).sum().backward()
        record(v)

    assert close(same_as_torch(scenario), [([0.8, 1.6],)])


def test_post_accumulate_hook_grad_mode_and_which_passes_run_it():
    def scenario(lib, record):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        w.register_post_accumulate_grad_hook(lambda t: record("ran", lib.is_grad_enabled()))
        (w * 2).sum().backward()
        lib.autograd.grad((w * 3).sum(), w)  # no AccumulateGrad runs: no call
        (w * 3).sum().backward(inputs=[w])
        gw = lib.autograd.grad((w * w).sum(), w, create_graph=True)[0]
        gw.sum().backward(create_graph=True)
        w.grad = None

    assert same_as_torch(scenario) == [("ran", False), ("ran", False), ("ran", True)]


def test_post_accumulate_hook_removed_by_its_handle():
    def scenario(lib, record):
        w = lib.tensor([1.0], requires_grad=True)
        handle = w.register_post_accumulate_grad_hook(lambda t: record("removed one ran"))
        w.register_post_accumulate_grad_hook(lambda t: record("kept", t.grad))
        handle.remove()
        handle.remove()
        (w * 2).sum().backward()

    assert same_as_torch(scenario) == [("kept", [2.0])]


@pytest.mark.parametrize("case", ["non-leaf", "no grad", "returns a value", "raises"])
def test_post_accumulate_hook_errors(case):
    def scenario(lib, record):
        x = lib.tensor([1.0, 2.0], requires_grad=case != "no grad")
        if case == "non-leaf":
            (x * 2).register_post_accumulate_grad_hook(lambda t: None)
        if case == "no grad":
            x.register_post_accumulate_grad_hook(lambda t: None)
        if case == "returns a value":
            x.register_post_accumulate_grad_hook(lambda t: t.grad * 2)
        if case == "raises":
            x.register_post_accumulate_grad_hook(lambda t: 1 / 0)
        try:
            (x * 2).sum().backward()
        finally:
            record("grad", x.grad)  # written before the hook ran

    events = same_as_torch(scenario)
    assert events[-1][0] == "raised"


# ---------------------------------------------------------------------- node hooks
def test_hooks_of_an_accumulate_grad_node_in_order():
    def scenario(lib, record):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        accumulate = y.grad_fn.next_functions[0][0]
        x.register_hook(lambda g: record("tensor hook", g))
        accumulate.register_prehook(lambda grads: record("node pre", grads))
        accumulate.register_hook(lambda inputs, outputs: record("node post", inputs, outputs))
        x.register_post_accumulate_grad_hook(lambda t: record("post accumulate", t.grad))
        y.sum().backward()
        record("grad", x.grad)

    assert [event[0] for event in same_as_torch(scenario)] == [
        "tensor hook",
        "node pre",
        "post accumulate",
        "node post",
        "grad",
    ]


@pytest.mark.parametrize(
    "returned",
    ["prehook scales", "post returns empty", "post returns one", "post returns list"],
)
def test_what_an_accumulate_grad_hook_may_return(returned):
    def scenario(lib, record):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        accumulate = y.grad_fn.next_functions[0][0]
        if returned == "prehook scales":
            accumulate.register_prehook(lambda grads: (grads[0] * 10,))
        if returned == "post returns empty":
            accumulate.register_hook(lambda inputs, outputs: ())
        if returned == "post returns one":
            accumulate.register_hook(lambda inputs, outputs: (outputs[0] * 10,))
        if returned == "post returns list":
            accumulate.register_hook(lambda inputs, outputs: [])
        try:
            y.sum().backward()
        finally:
            record("grad", x.grad)

    same_as_torch(scenario)


def test_node_hooks_see_and_replace_the_gradients():
    def scenario(lib, record):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        c = lib.tensor([5.0, 6.0])
        y = a * b
        y.grad_fn.register_prehook(lambda grads: record("pre", grads) or (grads[0] + 1,))
        y.grad_fn.register_hook(lambda inputs, outputs: record("post 1", inputs, outputs))
        y.grad_fn.register_hook(lambda inputs, outputs: (inputs[0] * 2, None))
        y.grad_fn.register_hook(lambda inputs, outputs: record("post 3", inputs))
        y.register_hook(lambda g: g * 3)
        z = a * c  # an input that does not require grad gets None
        z.grad_fn.register_hook(lambda inputs, outputs: record("constant", inputs))
        (y.sum() + z.sum()).backward()
        record(a.grad, b.grad)

    events = same_as_torch(scenario)
    assert ("pre", ([3.0, 3.0],)) in events


def test_node_hooks_of_a_multi_output_node():
    def scenario(lib, record):
        a = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        p, _q = a.split(2)
        p.grad_fn.register_prehook(lambda grads: record("pre", grads))
        p.grad_fn.register_hook(lambda inputs, outputs: record("post", inputs, outputs))
        (p * 2).sum().backward()

    assert same_as_torch(scenario)[0] == ("pre", ([2.0, 2.0], None))


@pytest.mark.parametrize(
    "hook",
    [
        "pre returns a list",
        "pre returns two",
        "pre changes the dtype",
        "pre fills a None",
        "post returns a tensor",
        "post returns one of two",
        "post changes the size",
    ],
)
def test_node_hook_results_refused_as_pytorch(hook):
    def scenario(lib, record):
        a = lib.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
        y = a * 2
        node = y.grad_fn
        if hook == "pre returns a list":
            node.register_prehook(lambda grads: [grads[0]])
        if hook == "pre returns two":
            node.register_prehook(lambda grads: (grads[0], grads[0]))
        if hook == "pre changes the dtype":
            node.register_prehook(lambda grads: (grads[0].double(),))
        if hook == "pre fills a None":
            y, _rest = a.split(2)
            y.grad_fn.register_prehook(lambda grads: (grads[0], lib.ones(2)))
        if hook == "post returns a tensor":
            node.register_hook(lambda inputs, outputs: inputs[0])
        if hook == "post returns one of two":
            node.register_hook(lambda inputs, outputs: (inputs[0],))
        if hook == "post changes the size":
            node.register_hook(lambda inputs, outputs: (lib.ones(3), None))
        y.sum().backward()

    assert same_as_torch(scenario)[-1][0] == "raised"


def test_node_hooks_grad_mode_retain_graph_and_handles():
    def scenario(lib, record):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        y = a * a
        node = y.grad_fn
        node.register_prehook(lambda grads: record("pre", lib.is_grad_enabled()))
        post = node.register_hook(lambda inputs, outputs: record("post", lib.is_grad_enabled()))
        removed = node.register_hook(lambda inputs, outputs: record("removed"))
        removed.remove()
        record(type(post).__name__, isinstance(post.id, int))
        lib.autograd.grad(y.sum(), a, create_graph=True, retain_graph=True)
        y.sum().backward(retain_graph=True)
        post.remove()
        y.sum().backward()

    assert len(same_as_torch(scenario)) == 6


# ---------------------------------------------------------------------- captured gradients
def test_autograd_grad_of_a_node_that_need_not_run_runs_its_tensor_hooks_only():
    def scenario(lib, record):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        y = a * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 100)
        y.grad_fn.register_prehook(lambda grads: record("pre ran") or (grads[0] + 1,))
        y.grad_fn.register_hook(lambda inputs, outputs: record("post ran"))
        record(lib.autograd.grad((y * 3).sum(), y), y.grad)
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: g * 100)
        z = x * 3
        z.grad_fn.next_functions[0][0].register_prehook(lambda grads: record("acc pre ran"))
        record(lib.autograd.grad(z.sum(), x))

    assert same_as_torch(scenario) == [(([300.0, 300.0],), [300.0, 300.0]), (([300.0, 300.0],),)]


def test_autograd_grad_of_a_node_that_runs_anyway_takes_its_gradient_as_it_arrived():
    def scenario(lib, record):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        y = a * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 100)
        y.grad_fn.register_prehook(lambda grads: (grads[0] + 1,))
        record(lib.autograd.grad((y * 3).sum(), [y, a]), y.grad)

    assert same_as_torch(scenario) == [(([3.0, 3.0], [602.0, 602.0]), [300.0, 300.0])]


def test_backward_inputs_take_the_gradient_after_tensor_hooks_and_run_node_prehooks():
    def scenario(lib, record):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        y = a * 2
        y.register_hook(lambda g: g * 100)
        y.grad_fn.register_prehook(lambda grads: record("pre ran") or (grads[0] + 1,))
        (y * 3).sum().backward(inputs=[y, a])
        record(y.grad, a.grad)
        b = lib.tensor([1.0, 2.0], requires_grad=True)
        w = b * 2
        w.register_hook(lambda g: g * 100)
        w.grad_fn.register_prehook(lambda grads: record("pre ran") or (grads[0] + 1,))
        (w * 3).sum().backward(inputs=[w])
        record(w.grad, b.grad)
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        z = x * 3
        x.register_hook(lambda g: g * 100)
        z.grad_fn.next_functions[0][0].register_prehook(lambda grads: (grads[0] + 1,))
        z.sum().backward(inputs=[x])
        record(x.grad)

    assert same_as_torch(scenario)[-1] == ([301.0, 301.0],)


# ---------------------------------------------------------------------- increment_version
def increment_version(lib):
    return importlib.import_module(f"{lib.__name__}.autograd.graph").increment_version


@pytest.mark.parametrize(
    "bumped",
    ["a saved output", "an input and an output", "a view of a saved input", "unsaved", "list"],
)
def test_increment_version_makes_a_node_that_saved_the_tensor_refuse(bumped):
    def scenario(lib, record):
        bump = increment_version(lib)
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        if bumped == "a saved output":
            z = (x * 2).exp()
            record(z._version)
            bump(z)
            record(z._version)
        if bumped == "an input and an output":
            z = x.sin()
            bump([x, z])
            record(x._version, z._version)
        if bumped == "a view of a saved input":
            base = x * 1
            z = base.sin()
            bump(base[1:])  # the view shares its base's count
            record(base._version)
        if bumped == "unsaved":
            z = x * 3  # x * 3 saves nothing of x
            bump(x)
        if bumped == "list":
            z = x.cos()
            bump(t for t in [x])
        z.sum().backward()
        record(x.grad)

    same_as_torch(scenario)


@pytest.mark.parametrize("argument", ["a number", "a list with a number", "None"])
def test_increment_version_refuses_what_is_not_tensors(argument):
    def scenario(lib, record):
        x = lib.ones(2)
        value = {"a number": 3, "a list with a number": [x, 3], "None": None}[argument]
        try:
            increment_version(lib)(value)
        finally:
            record(x._version)

    events = same_as_torch(scenario)
    assert events[-1][0] == "raised"
