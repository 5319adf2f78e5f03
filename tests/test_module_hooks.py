"""``nn.Module``'s full backward hooks and pre-hooks (own and global) against PyTorch.

Each scenario runs on gradienti and on torch and records what the hooks saw, in order
(tests/oracle_records.py); the two records must be equal.
"""

import pytest
from oracle_records import same_as_torch


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
    assert events[-1][0] == "warned" and events[-1][2] == "test_module_hooks.py"


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


def test_always_called_forward_hooks_run_when_the_call_fails():
    def scenario(lib, record):
        class Failing(lib.nn.Module):
            def forward(self, x, scale=1.0):
                if scale < 0:
                    raise ValueError("forward fails")
                return x * scale

        def failing_hook(module, args, output):
            raise KeyError("this hook fails too")

        def failing_pre_hook(module, args):
            raise LookupError("pre-hook fails")

        module = Failing()
        module.register_forward_hook(lambda m, args, out: record("plain", out))
        module.register_forward_hook(lambda m, args, out: record("always", out), always_call=True)
        module.register_forward_hook(failing_hook, always_call=True)
        module.register_forward_hook(
            lambda m, args, kwargs, out: record("with kwargs", kwargs, out),
            with_kwargs=True,
            always_call=True,
        )
        removed = module.register_forward_hook(lambda *a: record("removed"), always_call=True)
        removed.remove()
        for scale in (-1.0, 2.0):  # fails in forward; then in failing_hook, after 'always' ran
            try:
                module(lib.ones(2), scale=scale)
            except Exception as error:  # noqa: BLE001 - recorded
                record("raised", type(error).__name__, str(error))
        module.register_forward_pre_hook(failing_pre_hook)
        module(lib.ones(2))

    events = same_as_torch(scenario)
    assert events[:3] == [
        ("always", None),
        ("with kwargs", {"scale": -1.0}, None),
        ("raised", "ValueError", "forward fails"),
    ]
    assert events[-3] == ("raised", "LookupError", "pre-hook fails")
    # failing_hook, run after forward failed and after the pre-hook failed: warnings
    assert [event[0] for event in events[-2:]] == ["warned", "warned"]
    assert "always_call=True`` raised an exception that was silenced" in events[-1][1]
