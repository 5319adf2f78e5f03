"""A custom Function's saved tensors modified in place before backward reads them: PyTorch's
error (or, through ``.data``, no error), the same scenario run with gradienti and with torch."""

import pytest
from same_outcome import pytorch_text

import gradienti


def _functions(lib):
    class Square(lib.autograd.Function):  # saves its input
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    class Exp(lib.autograd.Function):  # saves its output
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad):
            (out,) = ctx.saved_tensors
            return grad * out

    class Scale(lib.autograd.Function):  # saves a tensor argument that does not require grad
        @staticmethod
        def forward(ctx, x, factor):
            ctx.save_for_backward(factor)
            return x * factor

        @staticmethod
        def backward(ctx, grad):
            (factor,) = ctx.saved_tensors
            return grad * factor, None

    class Pair(lib.autograd.Function):  # two outputs, both saved
        @staticmethod
        def forward(ctx, x):
            double, triple = x * 2, x * 3
            ctx.save_for_backward(double, triple)
            return double, triple

        @staticmethod
        def backward(ctx, grad_double, grad_triple):
            double, triple = ctx.saved_tensors
            return grad_double * double + grad_triple * triple

    class TripleInPlace(lib.autograd.Function):  # modifies its input, saves it (an output)
        @staticmethod
        def forward(ctx, x):
            x.mul_(3)
            ctx.mark_dirty(x)
            ctx.save_for_backward(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * x

    return {
        "Square": Square,
        "Exp": Exp,
        "Scale": Scale,
        "Pair": Pair,
        "TripleInPlace": TripleInPlace,
    }


def _leaf(lib, values=(1.0, 2.0, 3.0)):
    return lib.tensor(list(values), requires_grad=True)


# Each scenario builds a graph through a custom Function, modifies something in place, runs
# backward and returns the leaves: the test compares the error (or the gradients) with torch's.
def _input_leaf_under_no_grad(lib, fns):
    x = _leaf(lib)
    y = fns["Square"].apply(x)
    with lib.no_grad():
        x.mul_(11)
    return [x], y


def _input_view_under_no_grad(lib, fns):
    x = _leaf(lib)
    y = fns["Square"].apply(x)
    with lib.no_grad():
        x[1:].mul_(11)
    return [x], y


def _input_through_detach(lib, fns):
    x = _leaf(lib)
    y = fns["Square"].apply(x)
    x.detach().mul_(11)
    return [x], y


def _input_non_leaf_recorded(lib, fns):
    a = _leaf(lib)
    x = a * 1
    y = fns["Square"].apply(x)
    x.add_(1)  # PyTorch names the op that wrote it last: Add
    return [a], y


def _input_non_leaf_under_no_grad(lib, fns):
    a = _leaf(lib)
    x = a.sigmoid()
    y = fns["Square"].apply(x)
    with lib.no_grad():
        x.add_(1)  # the tensor's grad_fn is still Sigmoid's
    return [a], y


def _input_zero_dim(lib, fns):
    a = _leaf(lib)
    x = a.sum()
    y = fns["Square"].apply(x)
    with lib.no_grad():
        x.mul_(2)
    return [a], y


def _constant_input(lib, fns):
    x = _leaf(lib)
    factor = lib.tensor([2.0, 2.0, 2.0])
    y = fns["Scale"].apply(x, factor)
    factor.add_(1)
    return [x], y


def _output_under_no_grad(lib, fns):
    x = _leaf(lib)
    y = fns["Exp"].apply(x)
    with lib.no_grad():
        y.mul_(2)
    return [x], y


def _output_recorded(lib, fns):
    x = _leaf(lib)
    y = fns["Exp"].apply(x)
    y.mul_(2)  # the output now has Mul's grad_fn, PyTorch still names the Function
    return [x], y


def _zero_dim_output(lib, fns):
    x = _leaf(lib)
    y = fns["Exp"].apply(x.sum())
    with lib.no_grad():
        y.mul_(2)
    return [x], y


def _second_output(lib, fns):
    x = _leaf(lib)
    double, triple = fns["Pair"].apply(x)
    with lib.no_grad():
        triple.add_(1)
    return [x], double + triple


def _closure_tensor(lib, fns):
    a = _leaf(lib)
    z = a * 5

    class UsesClosure(lib.autograd.Function):  # saves a tensor that is not an argument
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(z)
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            (saved,) = ctx.saved_tensors
            return grad * saved

    x = _leaf(lib)
    y = UsesClosure.apply(x)
    z.add_(1)
    return [a, x], y


def _dirty_output_modified_again(lib, fns):
    a = _leaf(lib)
    x = a * 1
    y = fns["TripleInPlace"].apply(x)
    with lib.no_grad():
        y.add_(1)  # at version 3; the Function saved it at version 2
    return [a], y


def _leaf_and_other_paths(lib, fns):
    # Other leaves reached before and after the failing node: none gets a .grad.
    x, w = _leaf(lib), _leaf(lib)
    hidden = w * 2
    hidden.retain_grad()
    y = fns["Square"].apply(x) + hidden + x  # Add saves nothing: only Square's node can fail
    with lib.no_grad():
        x.mul_(11)
    return [x, w], y


def _modified_before_saving(lib, fns):
    a = _leaf(lib)
    x = a * 1
    x.add_(1)
    y = fns["Square"].apply(x)
    return [a], y


def _input_through_data(lib, fns):
    x = _leaf(lib)
    y = fns["Square"].apply(x)
    x.data.mul_(11)  # .data does not share the version counter: the new values are used
    return [x], y


def _output_through_data(lib, fns):
    x = _leaf(lib)
    y = fns["Exp"].apply(x)
    y.data.mul_(2)
    return [x], y


def _data_assigned_then_under_no_grad(lib, fns):
    x = _leaf(lib)
    y = fns["Square"].apply(x)
    x.data -= 1  # not counted, and x keeps its own counter ...
    with lib.no_grad():
        x.add_(1)  # ... which this counts
    return [x], y


def _dirty_input(lib, fns):
    a = _leaf(lib)
    x = a * 1
    y = fns["TripleInPlace"].apply(x)
    assert y is x and x._version == 2  # PyTorch counts mark_dirty once more
    return [a], y


SCENARIOS = [
    _input_leaf_under_no_grad,
    _input_view_under_no_grad,
    _input_through_detach,
    _input_non_leaf_recorded,
    _input_non_leaf_under_no_grad,
    _input_zero_dim,
    _constant_input,
    _output_under_no_grad,
    _output_recorded,
    _zero_dim_output,
    _second_output,
    _closure_tensor,
    _dirty_output_modified_again,
    _leaf_and_other_paths,
    _modified_before_saving,
    _input_through_data,
    _output_through_data,
    _data_assigned_then_under_no_grad,
    _dirty_input,
]


def _outcome(lib, scenario, create_graph=False):
    leaves, y = scenario(lib, _functions(lib))
    try:
        y.sum().backward(create_graph=create_graph)
    except RuntimeError as error:
        assert all(leaf.grad is None for leaf in leaves)  # the failed backward changed nothing
        return "error", str(error)
    return "ok", [[round(v, 4) for v in leaf.grad.tolist()] for leaf in leaves]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.__name__[1:])
def test_modified_saved_tensor_matches_torch(scenario):
    torch = pytest.importorskip("torch")
    assert _outcome(gradienti, scenario) == _outcome(torch, scenario)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
@pytest.mark.parametrize("scenario", [_input_leaf_under_no_grad, _output_recorded])
def test_modified_saved_tensor_is_refused_with_create_graph(scenario):
    torch = pytest.importorskip("torch")
    outcome = _outcome(gradienti, scenario, create_graph=True)
    assert outcome[0] == "error"
    assert outcome == _outcome(torch, scenario, create_graph=True)


def _messages(action):
    """What ``action(lib, fns)`` returns or raises, with gradienti and with torch."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (gradienti, torch):
        try:
            results.append(("ok", action(lib, _functions(lib))))
        except RuntimeError as error:
            results.append(("error", pytorch_text(str(error))))
    return results


def test_saved_tensors_read_outside_backward_are_checked_too():
    def read(lib, fns):
        x = _leaf(lib)
        y = fns["Square"].apply(x)
        with lib.no_grad():
            x.mul_(2)
        return len(y.grad_fn.saved_tensors)

    gradienti_result, torch_result = _messages(read)
    assert gradienti_result[0] == "error"
    assert gradienti_result == torch_result


def test_saved_tensors_not_read_by_backward_are_not_checked():
    def unread(lib, fns):
        class SavesButIgnores(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2

        x = _leaf(lib)
        y = SavesButIgnores.apply(x)
        with lib.no_grad():
            x.mul_(2)
        y.sum().backward()
        return x.grad.tolist()

    gradienti_result, torch_result = _messages(unread)
    assert gradienti_result == ("ok", [2.0, 2.0, 2.0]) == torch_result


@pytest.mark.parametrize("retain_graph", [False, True])
def test_saved_tensors_after_backward_match_torch(retain_graph):
    def read_after(lib, fns):
        x = _leaf(lib)
        y = fns["Square"].apply(x)
        y.sum().backward(retain_graph=retain_graph)
        return [t.tolist() for t in y.grad_fn.saved_tensors]

    gradienti_result, torch_result = _messages(read_after)
    assert gradienti_result[0] == ("ok" if retain_graph else "error")
    assert gradienti_result == torch_result


def test_second_backward_after_a_modification_is_refused_and_keeps_the_first_grad():
    def twice(lib, fns):
        x = _leaf(lib)
        y = fns["Square"].apply(x).sum()
        y.backward(retain_graph=True)
        with lib.no_grad():
            x.mul_(2)
        try:
            y.backward()
        finally:
            assert x.grad.tolist() == [2.0, 4.0, 6.0]  # the first pass's, unchanged

    gradienti_result, torch_result = _messages(twice)
    assert gradienti_result[0] == "error"
    assert gradienti_result == torch_result


def test_saved_tensors_inside_forward_are_empty():
    def inside(lib, fns):
        seen = []

        class Peeks(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                seen.append(ctx.saved_tensors)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad

        Peeks.apply(_leaf(lib))
        return seen

    gradienti_result, torch_result = _messages(inside)
    assert gradienti_result == ("ok", [()]) == torch_result


def test_data_of_a_builtin_op_is_not_tracked():
    def through_data(lib, fns):
        x = _leaf(lib)
        y = x.sigmoid()
        y.data.mul_(2)  # SigmoidBackward0 saved y; .data writes are not counted
        view = x.data[1:]
        view.add_(1)
        versions = (x._version, y._version, view._version)
        y.sum().backward()
        return versions, [round(v, 6) for v in x.grad.tolist()]

    gradienti_result, torch_result = _messages(through_data)
    assert gradienti_result[0] == "ok"
    assert gradienti_result == torch_result
