"""Custom Functions as PyTorch's current docs teach them: ``forward`` without ctx with
``setup_context``, ``vjp``, ``once_differentiable``, the class options of "Extending PyTorch"
(``clear_saved_tensors_on_access``, ``boxed_grads_call``), and the examples of "Extending
PyTorch" and of the tutorial "Double Backward with Custom Functions", run unchanged with
gradienti and with torch. Forward AD (``jvp``): tests/test_function_jvp.py."""

import numpy as np
import pytest
from same_outcome import same_outcome

import gradienti
import gradienti.viz


def _random(lib, *shape, seed=0):
    data = np.random.default_rng(seed + len(shape)).standard_normal(shape)
    return lib.tensor(data, dtype=lib.float64, requires_grad=True)


def _rounded(tensors):
    return [np.round(np.asarray(t.detach().numpy(), dtype=float), 10).tolist() for t in tensors]


# ---------------------------------------------------------------- forward + setup_context
def _linear_function(lib):
    """The LinearFunction of "Extending PyTorch", separate forward and setup_context."""

    class LinearFunction(lib.autograd.Function):
        @staticmethod
        def forward(input, weight, bias):
            output = input.mm(weight.t())
            if bias is not None:
                output += bias.unsqueeze(0).expand_as(output)
            return output

        @staticmethod
        def setup_context(ctx, inputs, output):
            input, weight, bias = inputs
            ctx.save_for_backward(input, weight, bias)

        @staticmethod
        def backward(ctx, grad_output):
            input, weight, bias = ctx.saved_tensors
            grad_input = grad_weight = grad_bias = None
            if ctx.needs_input_grad[0]:
                grad_input = grad_output.mm(weight)
            if ctx.needs_input_grad[1]:
                grad_weight = grad_output.t().mm(input)
            if bias is not None and ctx.needs_input_grad[2]:
                grad_bias = grad_output.sum(0)
            return grad_input, grad_weight, grad_bias

    return LinearFunction


def test_linear_function_separate_style_matches_torch_and_gradcheck():
    def action(lib):
        linear = _linear_function(lib).apply
        x, w, b = _random(lib, 5, 4), _random(lib, 3, 4), _random(lib, 3)
        out = linear(x, w, b)
        grads = lib.autograd.grad(out.pow(2).sum(), (x, w, b))
        assert lib.autograd.gradcheck(linear, (x, w, b), eps=1e-6, atol=1e-4)
        return type(out.grad_fn).__name__, _rounded((out, *grads))

    assert same_outcome(action)[1][0] == "LinearFunctionBackward"


def test_the_docs_alias_without_bias_fails_as_in_torch():
    # ``linear = LinearFunction.apply`` has no default for bias: binding refuses two arguments.
    def action(lib):
        x, w = _random(lib, 2, 4), _random(lib, 3, 4)
        return _linear_function(lib).apply(x, w)

    assert same_outcome(action) == ("TypeError", "missing a required argument: 'bias'")


def test_setup_context_receives_the_bound_inputs_and_the_raw_output():
    def action(lib):
        seen = []

        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(x, k=3):
                seen.append(("forward", lib.is_grad_enabled()))
                return x * k, k

            @staticmethod
            def setup_context(ctx, inputs, output):
                seen.append((len(inputs), inputs[1], type(output).__name__, output[1]))
                seen.append(("needs", ctx.needs_input_grad, lib.is_grad_enabled()))
                ctx.k = inputs[1]

            @staticmethod
            def backward(ctx, grad, _grad_k):
                return grad * ctx.k, None

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        values = [Scale.apply(x)[0], Scale.apply(x, k=4)[0], Scale.apply(k=5, x=x)[0]]
        grads = [lib.autograd.grad(v.sum(), x)[0].tolist() for v in values]
        names = [type(v.grad_fn).__name__ for v in values]
        return seen, grads, names

    seen, grads, names = same_outcome(action)[1]
    assert grads == [[3.0, 3.0], [4.0, 4.0], [5.0, 5.0]] and names == ["ScaleBackward"] * 3
    assert seen[1] == (2, 3, "tuple", 3) and seen[2] == ("needs", (True, False), False)


def _keywords(lib, separate):
    class Keywords(lib.autograd.Function):
        @staticmethod
        def forward(*args):
            x, y, k, *_ = args[1:] if not separate else args
            return x * k if y is None else x * y * k

        @staticmethod
        def backward(ctx, grad):
            return grad, grad, None

    def forward(x, y=None, k=3, *rest, note="n"):
        return x * k if y is None else x * y * k

    def forward_with_ctx(ctx, x, y=None, k=3, *rest, note="n"):
        return forward(x, y, k)

    Keywords.forward = staticmethod(forward if separate else forward_with_ctx)
    if separate:
        Keywords.setup_context = staticmethod(lambda ctx, inputs, output: None)
    return Keywords


@pytest.mark.parametrize("separate", [False, True])
@pytest.mark.parametrize(
    ("positional", "keywords"),
    [
        ("x", {"k": 2}),
        ("x", {"y": "y"}),
        ("", {"x": "x"}),
        ("", {"k": 2, "x": "x"}),  # a gap at y
        ("x", {"x": "x", "a": 1}),  # a duplicate before an unknown keyword: seen first
        ("x", {"a": 1, "x": "x"}),
        ("x", {"note": "m"}),  # keyword-only: refused
        ("", {"y": "y", "x": "x", "k": 2}),
    ],
)
def test_keyword_arguments_take_their_parameters_place_as_in_torch(separate, positional, keywords):
    def action(lib):
        values = {
            "x": lib.tensor([1.0, 2.0], requires_grad=True),
            "y": lib.tensor([3.0, 4.0], requires_grad=True),
        }
        args = [values[name] for name in positional]
        kwargs = {name: values.get(value, value) for name, value in keywords.items()}
        out = _keywords(lib, separate).apply(*args, **kwargs)
        return out.tolist(), len(out.grad_fn.next_functions)

    outcome = same_outcome(action)
    if not separate and keywords == {"y": "y", "x": "x", "k": 2}:
        assert outcome == ("ok", ([6.0, 16.0], 2))  # y became an input: two edges
    if separate and not positional:
        # the default of the keyword-only ``note`` is bound, then refused
        assert outcome == ("TypeError", "forward() got an unexpected keyword argument 'note'")


def _style(lib, forward_takes_ctx, has_setup_context):
    namespace = {
        "backward": staticmethod(lambda ctx, grad: grad * 2),
        "forward": staticmethod((lambda ctx, x: x * 2) if forward_takes_ctx else (lambda x: x * 2)),
    }
    if has_setup_context:
        namespace["setup_context"] = staticmethod(lambda ctx, inputs, output: None)
    return type("Styled", (lib.autograd.Function,), namespace)


@pytest.mark.parametrize(
    ("forward_takes_ctx", "has_setup_context", "args", "kwargs"),
    [
        (True, False, 1, {}),  # combined: works
        (False, True, 1, {}),  # separate: works
        (True, True, 1, {}),  # forward(ctx, x) beside setup_context: x is missing
        (False, False, 1, {}),  # forward(x) without setup_context: is given ctx too
        (False, True, 2, {}),  # too many positional arguments for forward
        (False, True, 1, {"y": 1}),  # an unknown keyword
    ],
)
def test_mixing_the_styles_fails_as_in_torch(forward_takes_ctx, has_setup_context, args, kwargs):
    def action(lib):
        fn = _style(lib, forward_takes_ctx, has_setup_context)
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        out = fn.apply(*(x,) * args, **kwargs)
        return out.tolist(), lib.autograd.grad(out.sum(), x)[0].tolist()

    outcome = same_outcome(action)
    if forward_takes_ctx != has_setup_context and args == 1 and not kwargs:
        assert outcome == ("ok", ([2.0, 4.0], [2.0, 2.0]))
    else:
        assert outcome[0] == "TypeError"


@pytest.mark.parametrize(
    "call",
    [
        lambda F: F.forward(1),
        lambda F: F.setup_context(None, (), None),
        lambda F: F.backward(None, 1),
        lambda F: F.vjp(None, 1),
        lambda F: F.jvp(None, 1),
        lambda F: F.vmap(None, (None,), 1),
    ],
)
def test_the_base_staticmethods_raise_torchs_errors(call):
    assert same_outcome(lambda lib: call(lib.autograd.Function))[0] == "NotImplementedError"


def test_instantiating_a_function_warns_and_calling_it_raises():
    torch = pytest.importorskip("torch")
    texts = []
    for lib in (gradienti, torch):

        class Legacy(lib.autograd.Function):
            pass

        with pytest.warns(DeprecationWarning, match="should not be instantiated") as caught:
            legacy = Legacy()
        with pytest.raises(RuntimeError) as info:
            legacy(lib.ones(1))
        texts.append((str(caught[0].message).split(">", 1)[1], str(info.value)))
    assert texts[0] == texts[1]


# ---------------------------------------------------------------- vjp, the class options
def _doubling(lib, *, backward=False, vjp=False):
    namespace = {"forward": staticmethod(lambda ctx, x: x * 2)}
    if backward:
        namespace["backward"] = staticmethod(lambda ctx, grad: grad * 2)
    if vjp:
        namespace["vjp"] = staticmethod(lambda ctx, grad: grad * 3)
    return type("Doubling", (lib.autograd.Function,), namespace)


@pytest.mark.parametrize(
    ("backward", "vjp"), [(True, False), (False, True), (True, True), (False, False)]
)
def test_vjp_is_backward_under_another_name(backward, vjp):
    def action(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        out = _doubling(lib, backward=backward, vjp=vjp).apply(x)
        return lib.autograd.grad(out.sum(), x)[0].tolist()

    outcome = same_outcome(action)
    assert outcome[0] == (
        "ok" if backward != vjp else ("RuntimeError" if vjp else "NotImplementedError")
    )


def _two_matmuls(lib):
    class TwoMatmuls(lib.autograd.Function):
        clear_saved_tensors_on_access = True

        @staticmethod
        def forward(ctx, x, weight1, weight2):
            inter = x.mm(weight1)
            ctx.save_for_backward(x, weight1, inter, weight2)
            return inter.mm(weight2)

        @staticmethod
        def backward(ctx, grad_output):
            x, weight1, inter, weight2 = ctx.saved_tensors
            grad_weight2 = inter.t().mm(grad_output)
            grad_inter = grad_output.mm(weight2.t())
            del inter, weight2
            grad_weight1 = x.t().mm(grad_inter)
            grad_x = grad_inter.mm(weight1.t())
            return grad_x, grad_weight1, grad_weight2

    return TwoMatmuls


def test_clear_saved_tensors_on_access_reads_once():
    def action(lib):
        x, w1, w2 = _random(lib, 4, 3), _random(lib, 3, 5), _random(lib, 5, 2)
        y = _two_matmuls(lib).apply(x, w1, w2)
        y.sum().backward(retain_graph=True)
        outcome = [_rounded((x.grad, w1.grad, w2.grad))]
        for again in (lambda: y.sum().backward(), lambda: y.grad_fn.saved_tensors):
            try:
                again()
            except RuntimeError as error:
                outcome.append(str(error))
        return outcome

    outcome = same_outcome(action)[1]
    assert len(outcome) == 3 and outcome[1] == outcome[2]
    assert outcome[1].startswith("saved_tensors can only be accessed once")


def test_clear_saved_tensors_on_access_fails_gradcheck_as_in_torch():
    # gradcheck runs backward once per output element on one graph: the second read raises
    def action(lib):
        x, w1, w2 = _random(lib, 4, 3), _random(lib, 3, 5), _random(lib, 5, 2)
        return lib.autograd.gradcheck(_two_matmuls(lib).apply, (x, w1, w2))

    assert same_outcome(action)[0] == "RuntimeError"


def _qkv_projection(lib):
    class QKVProjection(lib.autograd.Function):
        boxed_grads_call = True

        @staticmethod
        def forward(ctx, x, w_q, w_k, w_v):
            ctx.save_for_backward(x, w_q, w_k, w_v)
            return x.mm(w_q), x.mm(w_k), x.mm(w_v)

        @staticmethod
        def backward(ctx, grads):
            assert type(grads) is list and len(grads) == 3
            x, w_q, w_k, w_v = ctx.saved_tensors
            grad_x = lib.zeros_like(x)
            grad_weights = []
            for i, w in enumerate((w_q, w_k, w_v)):
                grad_out = grads[i]
                grads[i] = None
                grad_x += grad_out.mm(w.t())
                grad_weights.append(x.t().mm(grad_out))
                del grad_out
            return grad_x, *grad_weights

    return QKVProjection


def test_boxed_grads_call_hands_backward_one_list():
    def action(lib):
        x, *ws = _random(lib, 4, 3), _random(lib, 3, 2), _random(lib, 3, 2), _random(lib, 3, 2)
        q, k, v = _qkv_projection(lib).apply(x, *ws)
        grads = lib.autograd.grad((q * 1 + k * 2 + v * 3).sum(), (x, *ws))
        assert lib.autograd.gradcheck(_qkv_projection(lib).apply, (x, *ws))
        return _rounded(grads)

    same_outcome(action)


# ---------------------------------------------------------------- "Extending PyTorch" examples
def _mul_constant(lib, materialize):
    class MulConstant(lib.autograd.Function):
        @staticmethod
        def forward(tensor, constant):
            return tensor * constant

        @staticmethod
        def setup_context(ctx, inputs, output):
            tensor, constant = inputs
            if not materialize:
                ctx.set_materialize_grads(False)
            ctx.constant = constant

        @staticmethod
        def backward(ctx, grad_output):
            if grad_output is None:
                return None, None
            return grad_output * ctx.constant, None

    return MulConstant


@pytest.mark.parametrize("materialize", [True, False])
def test_mul_constant_examples(materialize):
    def action(lib):
        x = _random(lib, 3)
        out = _mul_constant(lib, materialize).apply(x, 3.0)
        return _rounded((out, *lib.autograd.grad(out.sum(), x)))

    same_outcome(action)


def _my_cube(lib, generate_vmap_rule=False):
    class MyCube(lib.autograd.Function):
        @staticmethod
        def forward(x):
            dx = 3 * x**2
            result = x**3
            return result, dx

        @staticmethod
        def setup_context(ctx, inputs, output):
            (x,) = inputs
            result, dx = output
            ctx.save_for_backward(x, dx)

        @staticmethod
        def backward(ctx, grad_output, grad_dx):
            x, dx = ctx.saved_tensors
            return grad_output * dx + grad_dx * 6 * x

    MyCube.generate_vmap_rule = generate_vmap_rule
    return MyCube


def test_my_cube_second_derivative_through_an_intermediate_output():
    def action(lib):
        def my_cube(x):
            result, dx = _my_cube(lib).apply(x)
            return result

        x = lib.tensor([0.5, -1.5], dtype=lib.float64, requires_grad=True)
        assert lib.autograd.gradgradcheck(my_cube, x)
        (g,) = lib.autograd.grad(my_cube(x).sum(), x, create_graph=True)
        return _rounded((g, *lib.autograd.grad(g.sum(), x)))

    assert same_outcome(action)[1] == [[0.75, 6.75], [3.0, -9.0]]


def test_a_module_built_on_a_function():
    def action(lib):
        nn = lib.nn
        linear_function = _linear_function(lib)

        class Linear(nn.Module):
            def __init__(self, input_features, output_features, bias=True):
                super().__init__()
                self.input_features = input_features
                self.output_features = output_features
                self.weight = nn.Parameter(lib.empty(output_features, input_features))
                if bias:
                    self.bias = nn.Parameter(lib.empty(output_features))
                else:
                    self.register_parameter("bias", None)
                nn.init.uniform_(self.weight, -0.1, 0.1)
                if self.bias is not None:
                    nn.init.uniform_(self.bias, -0.1, 0.1)

            def forward(self, input):
                return linear_function.apply(input, self.weight, self.bias)

            def extra_repr(self):
                return "input_features={}, output_features={}, bias={}".format(  # noqa: UP032
                    self.input_features, self.output_features, self.bias is not None
                )

        module = Linear(4, 3)
        with lib.no_grad():
            module.weight.copy_(_random(lib, 3, 4).float())
            module.bias.copy_(_random(lib, 3).float())
        module(_random(lib, 2, 4).detach().float()).pow(2).sum().backward()
        grad = np.round(module.weight.grad.numpy().astype(float), 4).tolist()  # float32 sums
        return repr(module), repr(Linear(4, 3, bias=False)), grad

    same_outcome(action)


# ---------------------------------------------------------------- the double backward tutorial
def _tutorial_functions(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**2

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * 2 * x

    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = lib.exp(x)
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad_out):
            (result,) = ctx.saved_tensors
            return result * grad_out

    class Sinh(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            expx = lib.exp(x)
            expnegx = lib.exp(-x)
            ctx.save_for_backward(expx, expnegx)
            return (expx - expnegx) / 2, expx, expnegx

        @staticmethod
        def backward(ctx, grad_out, _grad_out_exp, _grad_out_negexp):
            expx, expnegx = ctx.saved_tensors
            grad_input = grad_out * (expx + expnegx) / 2
            grad_input += _grad_out_exp * expx
            grad_input -= _grad_out_negexp * expnegx
            return grad_input

    class SinhBad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            expx = lib.exp(x)
            expnegx = lib.exp(-x)
            ctx.expx = expx
            ctx.expnegx = expnegx
            return (expx - expnegx) / 2

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out * (ctx.expx + ctx.expnegx) / 2

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return CubeBackward.apply(grad_out, x)

    class CubeBackward(lib.autograd.Function):
        @staticmethod
        def forward(ctx, grad_out, x):
            ctx.save_for_backward(x, grad_out)
            return grad_out * 3 * x**2

        @staticmethod
        def backward(ctx, grad_out):
            x, sav_grad_out = ctx.saved_tensors
            dx = grad_out * sav_grad_out * 6 * x
            dgrad_out = grad_out * 3 * x**2
            return dgrad_out, dx

    return {
        "Square": Square.apply,
        "Exp": Exp.apply,
        "Sinh": lambda x: Sinh.apply(x)[0],
        "SinhBad": SinhBad.apply,
        "Cube": Cube.apply,
    }


def _graph_names(tensors) -> list:
    """The node names below ``tensors``, as torchviz draws them (each node once)."""
    names, seen = [], set()
    stack = [t.grad_fn for t in tensors if t.grad_fn is not None]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        names.append(node.name())
        stack.extend(next_node for next_node, _ in node.next_functions)
    return sorted(names)


@pytest.mark.parametrize("name", ["Square", "Exp", "Sinh", "SinhBad", "Cube"])
def test_double_backward_tutorial(name):
    def action(lib):
        function = _tutorial_functions(lib)[name]
        x = lib.tensor([[0.3, 0.7], [0.2, 0.9]], dtype=lib.float64, requires_grad=True)
        checks = None
        if name != "SinhBad":  # its second derivative is wrong: the tutorial's point
            checks = (
                lib.autograd.gradcheck(function, x),
                lib.autograd.gradgradcheck(function, x),
            )
        out = function(x)
        (grad_x,) = lib.autograd.grad(out.sum(), x, create_graph=True)
        if lib is gradienti:  # torchviz's drawing: gradienti.viz.make_dot stands in for it
            gradienti.viz.make_dot((grad_x, x, out), params={"grad_x": grad_x, "x": x})
        second = None
        if grad_x.requires_grad:
            second = _rounded(lib.autograd.grad(grad_x.sum(), x))
        return checks, grad_x.requires_grad, _graph_names((grad_x, x, out)), second

    checks, differentiable, _names, second = same_outcome(action)[1]
    assert differentiable == (name != "SinhBad") and (checks is None or checks == (True, True))
    assert second is not None or name == "SinhBad"


# ---------------------------------------------------------------- once_differentiable
def _once_cube(lib, record):
    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            record.append((lib.is_grad_enabled(), grad.requires_grad))
            return grad * 3 * x**2

    return Cube


def test_once_differentiable_runs_backward_without_grad():
    def action(lib):
        record = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = _once_cube(lib, record).apply(x)
        first = lib.autograd.grad(y.sum(), x, retain_graph=True)
        # create_graph with a gradient that does not require grad: a plain result
        (second,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        name = _once_cube(lib, record).backward.__name__
        return record, _rounded(first), second.requires_grad, second.grad_fn is None, name

    record, first, requires_grad, no_grad_fn, name = same_outcome(action)[1]
    assert record == [(False, False), (False, False)] and first == [[3.0, 12.0]]
    assert (requires_grad, no_grad_fn, name) == (False, True, "backward")


def test_double_backward_through_once_differentiable_raises():
    def action(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        v = lib.ones(2, requires_grad=True)
        y = _once_cube(lib, []).apply(x)
        (g,) = lib.autograd.grad(y, x, v, create_graph=True)
        node = g.grad_fn
        described = (
            repr(g).split("grad_fn=")[1],
            node.name(),
            type(node).__name__,
            [n.name() for n, _ in node.next_functions],
            g.requires_grad,
            g.is_leaf,
            _rounded((g,)),
        )
        outcome = [described]
        for attempt in (
            lambda: g.sum().backward(retain_graph=True),
            lambda: lib.autograd.grad(g.sum(), v),  # the Error node leads nowhere near v
        ):
            try:
                attempt()
            except RuntimeError as error:
                outcome.append(str(error))
        return outcome

    described, raised, unused = same_outcome(action)[1]
    assert described[:2] == ("<Error>)", "torch::autograd::Error")
    assert raised == (
        "trying to differentiate twice a function that was marked with @once_differentiable"
    )
    assert unused.startswith("The differentiated Tensor at index 0 appears to not have been used")


def test_once_differentiable_with_several_outputs_and_none():
    def action(lib):
        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b):
                return a * 2, b * 3

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, grad_a, grad_b):
                return grad_a * 2, None

        a, b = lib.ones(2, requires_grad=True), lib.ones(2, requires_grad=True)
        v = lib.ones(2, requires_grad=True)
        first, second = Two.apply(a, b)
        grads = lib.autograd.grad(
            (first, second), (a, b), (v, v), create_graph=True, allow_unused=True
        )
        return grads[1], grads[0].grad_fn.name(), _rounded(grads[:1])

    assert same_outcome(action)[1] == (None, "torch::autograd::Error", [[2.0, 2.0]])


# ---------------------------------------------------------------- outputs and inputs
def test_an_input_returned_as_is_is_a_new_tensor_without_a_graph():
    def action(lib):
        class Identity(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, grad):
                return grad

        x = lib.ones(2)
        with lib.no_grad():
            w = lib.ones(2, requires_grad=True)
            out = Identity.apply(w)
        return Identity.apply(x) is x, out is w, out.requires_grad

    assert same_outcome(action)[1] == (False, False, False)


def test_forward_may_hand_an_input_that_requires_grad_to_numpy():
    # mark_dirty's docstring: forward changes x through NumPy; backward then sees the change.
    def action(lib):
        class Inplace(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                x_npy = x.numpy()  # x_npy shares storage with x
                x_npy += 1
                ctx.mark_dirty(x)
                return x

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, grad_output):
                return grad_output

        a = lib.tensor([1.0], requires_grad=True, dtype=lib.double).clone()
        b = a * a
        out = Inplace.apply(a)
        try:
            b.backward()
        except RuntimeError as error:
            return out is a, repr(out), str(error)

    same, text, error = same_outcome(action)[1]
    assert same and text.endswith("grad_fn=<InplaceBackward>)")
    assert "which is output 0 of Inplace, is at version 1; expected version 0" in error
