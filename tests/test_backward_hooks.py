"""Backward hooks against PyTorch: a leaf's post-accumulate-grad hooks, the hooks of a graph node
(``grad_fn.register_hook`` / ``register_prehook``, also on an AccumulateGrad), where
``autograd.grad`` and ``backward(inputs=)`` take their gradients relative to the hooks, and
``nn.Module``'s full backward hooks and pre-hooks (own and global).

Each scenario runs on gradienti and on torch and records what the hooks saw, in order, as plain
Python values (and the warnings, and the error raised: its class and message); the two records
must be equal.
"""

import os
import warnings

import pytest

import gradienti

torch = pytest.importorskip("torch")


def plain(value):
    """A record entry without tensors: tensors become rounded lists, containers recurse."""
    if isinstance(value, (gradienti.Tensor, torch.Tensor)):
        return [round(float(v), 4) for v in value.detach().reshape(-1).tolist()]
    if isinstance(value, (tuple, list)):
        return type(value)(plain(v) for v in value)
    return value


def outcome(scenario, lib):
    """What ``scenario(lib, record)`` recorded, the warnings (and the file they point at), and
    the error it raised."""
    events = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            scenario(lib, lambda *entry: events.append(plain(entry)))
        except Exception as error:  # noqa: BLE001 - the error is the outcome being compared
            events.append(("raised", type(error).__name__, str(error)))
    for warning in caught:
        message = str(warning.message)
        if warning.category is UserWarning and "will create a reference cycle" not in message:
            where = os.path.basename(warning.filename)
            events.append(("warned", message, where))
    return events


def same_as_torch(scenario):
    ours = outcome(scenario, gradienti)
    assert ours == outcome(scenario, torch)
    return ours


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

    assert same_as_torch(scenario) == [([0.8, 1.6],)]


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


# ---------------------------------------------------------------------- module hooks
def two_in_two_out(lib):
    """A module with two positional tensor inputs, a keyword, and two outputs."""

    class TwoInTwoOut(lib.nn.Module):
        def forward(self, a, b, scale=2.0):
            return a * b * scale, a + b

    return TwoInTwoOut()


def test_module_hooks_see_the_gradients_of_the_positional_inputs_and_of_the_outputs():
    def scenario(lib, record):
        module = two_in_two_out(lib)
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        module.register_full_backward_pre_hook(lambda m, go: record("pre", m is module, go))
        module.register_full_backward_hook(lambda m, gi, go: record("hook", gi, go))
        first, second = module(a, b, scale=3.0)
        record(first.grad_fn.name(), first.grad_fn.next_functions[0][0].name())
        (first.sum() + (second * 2).sum()).backward()
        record(a.grad, b.grad)
        first, second = module(a, b=b)  # a tensor given by keyword is no grad_input
        (first.sum() + second.sum()).backward()

    events = same_as_torch(scenario)
    assert events[0] == ("BackwardHookFunctionBackward", "MulBackward0")
    assert events[2] == ("hook", ([11.0, 14.0], [5.0, 8.0]), ([1.0, 1.0], [2.0, 2.0]))


def test_module_hook_entries_for_inputs_without_grad_and_outputs_without_gradient():
    def scenario(lib, record):
        module = two_in_two_out(lib)
        module.register_full_backward_hook(lambda m, gi, go: record(gi, go))
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        first, _unused = module(a, lib.tensor([3.0, 4.0]))
        first.sum().backward()  # zeros for b (as from PyTorch's node), None for the 2nd output

        class Mixed(lib.nn.Module):
            def forward(self, index, weights):
                return weights[index] * 2, (weights > 0).float(), 3

        mixed = Mixed()
        mixed.register_full_backward_hook(lambda m, gi, go: record(gi, go))
        w = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
        doubled, positive, three = mixed(lib.tensor([0, 2]), w)
        record(positive.requires_grad, three)
        doubled.sum().backward()

    assert same_as_torch(scenario)[0] == (([6.0, 8.0], [0.0, 0.0]), ([1.0, 1.0], None))


def test_module_hooks_fire_at_the_outputs_when_no_input_requires_grad():
    def scenario(lib, record):
        linear = lib.nn.Linear(2, 3)
        linear.register_full_backward_pre_hook(lambda m, go: record("pre", go))
        linear.register_full_backward_hook(lambda m, gi, go: record("hook", gi, go))
        linear(lib.tensor([[1.0, 2.0]])).sum().backward()
        record(linear.weight.grad is not None)
        linear.register_full_backward_hook(lambda m, gi, go: (lib.ones(1, 2),))
        linear(lib.tensor([[1.0, 2.0]])).sum().backward()

    events = same_as_torch(scenario)
    assert events[1] == ("hook", (None,), ([1.0, 1.0, 1.0],))
    assert events[-1][0] == "warned" and events[-1][2] == "test_backward_hooks.py"


def test_module_hooks_replace_grad_output_and_grad_input_in_turn():
    def scenario(lib, record):
        tanh = lib.nn.Tanh()
        tanh.register_full_backward_pre_hook(lambda m, go: (go[0] * 10,))
        tanh.register_full_backward_hook(lambda m, gi, go: (gi[0] + 1,))
        tanh.register_full_backward_hook(lambda m, gi, go: record(gi, go))
        tanh.register_full_backward_hook(lambda m, gi, go: [gi[0] * 2])  # any sequence
        tanh.register_full_backward_hook(lambda m, gi, go: (None,))  # no gradient on
        x = lib.tensor([0.5, -1.0], requires_grad=True)
        (tanh(x) * 1 + x * 3).sum().backward()
        record(x.grad)

        linear = lib.nn.Linear(2, 2)
        with lib.no_grad():
            linear.weight.copy_(lib.tensor([[1.0, 2.0], [3.0, 4.0]]))
            linear.bias.zero_()
        linear.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
        x = lib.tensor([[1.0, -2.0]], requires_grad=True)
        (linear(x) ** 2).sum().backward()
        record(x.grad, linear.weight.grad)  # the parameters' gradients are untouched

    assert same_as_torch(scenario)[1] == ([3.0, 3.0],)


def test_module_hooks_order_prepend_and_removal():
    def scenario(lib, record):
        tanh = lib.nn.Tanh()
        tanh.register_full_backward_hook(lambda m, gi, go: record("a"))
        tanh.register_full_backward_hook(lambda m, gi, go: record("b"), prepend=True)
        tanh.register_full_backward_pre_hook(lambda m, go: record("pa"))
        tanh.register_full_backward_pre_hook(lambda m, go: record("pb"), prepend=True)
        handle = tanh.register_full_backward_hook(lambda m, gi, go: record("removed"))
        handle.remove()
        pre_handle = tanh.register_full_backward_pre_hook(lambda m, go: record("removed pre"))
        pre_handle.remove()
        record(type(handle).__name__, isinstance(handle.id, int), tanh._is_full_backward_hook)
        tanh(lib.tensor([0.5], requires_grad=True)).sum().backward()

        seq = lib.nn.Sequential(lib.nn.Linear(2, 2), lib.nn.Tanh(), lib.nn.Linear(2, 1))
        for name, module in seq.named_modules():
            module.register_full_backward_hook(lambda m, gi, go, name=name: record("hook", name))
            module.register_full_backward_pre_hook(lambda m, go, name=name: record("pre", name))
        seq(lib.tensor([[1.0, 2.0]], requires_grad=True)).sum().backward()

    assert same_as_torch(scenario)[1:5] == [("pb",), ("pa",), ("b",), ("a",)]


def test_global_module_hooks_run_before_the_modules_own():
    def scenario(lib, record):
        hooks = lib.nn.modules.module
        handles = [
            hooks.register_module_full_backward_hook(lambda m, gi, go: record("global hook")),
            hooks.register_module_full_backward_pre_hook(lambda m, go: record("global pre")),
        ]
        try:
            tanh = lib.nn.Tanh()
            tanh.register_full_backward_hook(lambda m, gi, go: record("own hook"))
            tanh.register_full_backward_pre_hook(lambda m, go: record("own pre"))
            x = lib.tensor([0.5], requires_grad=True)
            tanh(x).sum().backward()
        finally:
            for handle in handles:
                handle.remove()
        tanh(x).sum().backward()

    assert same_as_torch(scenario) == [
        ("global pre",),
        ("own pre",),
        ("global hook",),
        ("own hook",),
        ("own pre",),
        ("own hook",),
    ]


@pytest.mark.parametrize(
    "returned",
    [
        "hook returns two",
        "pre hook returns two",
        "pre hook returns a tensor",
        "hook returns a tensor",
        "pre hook changes the size",
        "hook changes the size",
    ],
)
def test_module_hook_results_refused_as_pytorch(returned):
    def scenario(lib, record):
        tanh = lib.nn.Tanh()
        if returned == "hook returns two":
            tanh.register_full_backward_hook(lambda m, gi, go: (gi[0], gi[0]))
        if returned == "pre hook returns two":
            tanh.register_full_backward_pre_hook(lambda m, go: (go[0], go[0]))
        if returned == "pre hook returns a tensor":
            tanh.register_full_backward_pre_hook(lambda m, go: go[0])
        if returned == "hook returns a tensor":
            tanh.register_full_backward_hook(lambda m, gi, go: gi[0])
        if returned == "pre hook changes the size":
            tanh.register_full_backward_pre_hook(lambda m, go: (lib.ones(3),))
        if returned == "hook changes the size":
            tanh.register_full_backward_hook(lambda m, gi, go: (lib.ones(3),))
        tanh(lib.tensor([0.5, -1.0], requires_grad=True)).sum().backward()

    assert same_as_torch(scenario)[-1][0] == "raised"


@pytest.mark.parametrize("where", ["after the module", "inside forward", "under no_grad"])
def test_in_place_on_what_a_hooked_module_passes_on(where):
    def scenario(lib, record):
        class Doubles(lib.nn.Module):
            def forward(self, x):
                if where == "inside forward":
                    x.mul_(2)
                return x * 1

        module = Doubles()
        module.register_full_backward_hook(lambda m, gi, go: None)
        x = lib.tensor([0.5, 1.5], requires_grad=True)
        y = module(x * 1)
        if where == "after the module":
            y.mul_(2)
        if where == "under no_grad":
            with lib.no_grad():
                y.mul_(2)
        record(y)

    same_as_torch(scenario)


def test_module_hooks_outside_grad_mode_and_with_a_dict_output():
    def scenario(lib, record):
        tanh = lib.nn.Tanh()
        tanh.register_full_backward_hook(lambda m, gi, go: record("hook ran"))
        x = lib.tensor([0.5, -1.0], requires_grad=True)
        with lib.no_grad():
            y = tanh(x)
        record(y.requires_grad, y.grad_fn is None)

        class AsDict(lib.nn.Module):
            def forward(self, x):
                return {"y": x * 2}

        as_dict = AsDict()
        as_dict.register_full_backward_hook(lambda m, gi, go: record("dict hook ran"))
        as_dict(x)["y"].sum().backward()  # warned; the hook cannot run
        record(x.grad)

    events = same_as_torch(scenario)
    assert events[0] == (False, True)
    assert events[2][0] == "warned" and events[2][2] == "module.py"  # Module.__call__, as PyTorch


def test_module_hooks_through_several_calls_retain_graph_double_backward_and_grad():
    def scenario(lib, record):
        tanh = lib.nn.Tanh()
        tanh.register_full_backward_hook(lambda m, gi, go: record("hook", gi, go))
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        y = tanh(tanh(x))  # two calls, two sets of hooks
        y.sum().backward(retain_graph=True)
        y.sum().backward()
        (g,) = lib.autograd.grad(tanh(x).sum(), x, create_graph=True)
        record("first order", g)
        g.sum().backward()  # reaches the inputs without passing the outputs: no call
        record(x.grad)

        class Twice(lib.nn.Module):
            def forward(self, a, b):
                y = a * b
                return y, y

        twice = Twice()
        twice.register_full_backward_hook(lambda m, gi, go: record("twice", gi, go))
        p, q = twice(x, x)  # one tensor as both inputs, one tensor as both outputs
        (p * 3 + q).sum().backward()

    same_as_torch(scenario)


def test_module_hooks_grad_mode_under_create_graph():
    def scenario(lib, record):
        tanh = lib.nn.Tanh()
        tanh.register_full_backward_hook(
            lambda m, gi, go: record(
                gi[0].requires_grad, go[0].requires_grad, lib.is_grad_enabled()
            )
        )
        tanh.register_full_backward_pre_hook(
            lambda m, go: record("pre", go[0].requires_grad, lib.is_grad_enabled())
        )
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        lib.autograd.grad(tanh(x).sum(), x, create_graph=True)
        tanh(x).sum().backward()

    assert same_as_torch(scenario)[1] == (True, False, True)


def test_forward_hooks_change_the_output_that_the_backward_hooks_see():
    def scenario(lib, record):
        tanh = lib.nn.Tanh()
        tanh.register_forward_hook(lambda m, args, out: out * 10)
        tanh.register_full_backward_hook(lambda m, gi, go: record(gi, go))
        x = lib.tensor([0.5], requires_grad=True)
        tanh(x).sum().backward()
        record(x.grad)

    same_as_torch(scenario)


def test_a_hooked_module_under_forward_ad():
    def scenario(lib, record):
        forward_ad = lib.autograd.forward_ad
        tanh = lib.nn.Tanh()
        tanh.register_full_backward_hook(lambda m, gi, go: None)
        with forward_ad.dual_level():
            dual = forward_ad.make_dual(lib.tensor([0.5, 1.0]), lib.ones(2))
            record(forward_ad.unpack_dual(tanh(dual)).tangent)  # no hook node: no input needs one
            needs = lib.tensor([0.5, 1.0], requires_grad=True)
            tanh(forward_ad.make_dual(needs, lib.ones(2)))  # PyTorch's node has no jvp

    assert same_as_torch(scenario)[-1][1] == "NotImplementedError"
