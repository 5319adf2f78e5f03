"""The "does not require grad" error says why: gradienti's hint after PyTorch's exact text.

Each cause of a loss without a graph (a) made without requires_grad=True, (b) computed under
no_grad()/inference_mode(), (c) .detach()ed or taken from .data, (d) rebuilt from .item(),
.numpy(), float() or .tolist(), (e) of an integer dtype, (f) built from frozen parameters, runs
the same code with gradienti and with torch: the first line is torch's text, the exception
class torch's; then the hint, which with ``set_explain_errors(True)`` names this file's line.
"""

from __future__ import annotations

import operator
import sys
import threading
import warnings

import numpy as np
import pytest

import gradienti
from gradienti.autograd.error_hints import with_hint
from gradienti.graph.grad_mode import MODES
from gradienti.graph.provenance import PROVENANCE
from gradienti.tensor import Tensor

torch = pytest.importorskip("torch")

TORCH_TEXT = "element 0 of tensors does not require grad and does not have a grad_fn"
GENERIC = "the tensor does not require grad: it, or every tensor it was computed from"
SWITCH_ADVICE = "call gradienti.set_explain_errors(True)"
PLAIN_TENSOR_METHODS = {
    name: Tensor.__dict__[name]
    for name in ("detach", "detach_", "data", "grad", "item", "tolist", "numpy", "__float__")
}


@pytest.fixture(autouse=True)
def switch_off():
    """Every test starts and ends with the recording off and Tensor's plain methods."""
    count = MODES.count
    gradienti.set_explain_errors(False)
    yield
    gradienti.set_explain_errors(False)
    gradienti.autograd.set_detect_anomaly(False)
    assert not PROVENANCE.active
    assert MODES.count == count
    for name, method in PLAIN_TENSOR_METHODS.items():
        assert Tensor.__dict__[name] is method


def previous_line() -> str:
    """``file:line`` of the caller's previous line (the statement the test points at)."""
    frame = sys._getframe(1)
    return f"{frame.f_code.co_filename}:{frame.f_lineno - 1}"


def failure(action, lib=gradienti) -> BaseException:
    with pytest.raises(Exception) as info:
        action(lib)
    return info.value


def pytorch_text(error: BaseException) -> str:
    return str(error).split("\n\ngradienti: ")[0]


def hint(error: BaseException) -> str:
    text = str(error)
    assert text.startswith(TORCH_TEXT + "\n\ngradienti: ")
    lines = text.split("\n")[2:]
    assert lines and all(line.startswith("gradienti: ") for line in lines)
    return "\n".join(lines)


# ---------------------------------------------------------------------- the causes
# Each returns (on failure) after calling backward on a loss without a graph; lib is gradienti
# or torch. The line each test points at is marked with previous_line() right after it.
def created_without_requires_grad(lib):
    x = lib.tensor(2.0)
    y = x**2
    y.backward()


def computed_under_no_grad(lib):
    x = lib.tensor(2.0, requires_grad=True)
    with lib.no_grad():
        y = x * 3
    (y * 2).backward()


def computed_under_inference_mode(lib):
    x = lib.tensor(2.0, requires_grad=True)
    with lib.inference_mode():
        y = x * 3
    lib.autograd.grad(y * 2, x)


def detached(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).detach()
    (y * 2).sum().backward()


def taken_from_data(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 3).data
    (y * 2).sum().backward()


def through_item(lib):
    x = lib.tensor(2.0, requires_grad=True)
    y = lib.tensor((x * 3).item())
    (y * 2).backward()


def through_float(lib):
    x = lib.tensor(2.0, requires_grad=True)
    y = lib.tensor(float(x * 3))
    (y * 2).backward()


def through_tolist(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor((x * 3).tolist())
    (y * 2).sum().backward()


def through_numpy(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    y = lib.tensor((x * 3).detach().numpy())
    (y * 2).sum().backward()


def integer_result(lib):
    x = lib.tensor([1.0, 3.0, 2.0], requires_grad=True)
    (x * 2).argmax().backward()


def from_integer_result(lib):
    x = lib.tensor([1.0, 3.0, 2.0], requires_grad=True)
    ((x * 2) > 3).float().sum().backward()


def frozen_parameters(lib):
    layer = lib.nn.Linear(2, 1)
    for parameter in layer.parameters():
        parameter.requires_grad_(False)
    layer(lib.tensor([1.0, 2.0])).sum().backward()


def from_a_grad(lib):
    x = lib.tensor(2.0, requires_grad=True)
    (x**2).backward()
    (x.grad * 2).backward()


CAUSES = [
    created_without_requires_grad,
    computed_under_no_grad,
    computed_under_inference_mode,
    detached,
    taken_from_data,
    through_item,
    through_float,
    through_tolist,
    through_numpy,
    integer_result,
    from_integer_result,
    frozen_parameters,
    from_a_grad,
]


@pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True")
@pytest.mark.parametrize("cause", CAUSES, ids=lambda cause: cause.__name__)
@pytest.mark.parametrize("explain", [False, True], ids=["switch_off", "switch_on"])
def test_first_line_and_class_are_torchs(cause, explain):
    expected = failure(cause, torch)
    with gradienti.set_explain_errors(explain):
        error = failure(cause)
    assert type(error) is type(expected) is RuntimeError
    assert pytorch_text(error) == str(expected) == TORCH_TEXT
    hint(error)  # and a hint follows


@pytest.mark.parametrize(
    "cause",
    [cause for cause in CAUSES if cause not in (integer_result,)],
    ids=lambda cause: cause.__name__,
)
def test_without_the_switch_the_hint_is_generic_and_says_how_to_turn_it_on(cause):
    text = hint(failure(cause))
    assert GENERIC in text
    assert SWITCH_ADVICE in text
    assert __file__ not in text


def test_an_inference_tensor_says_so_itself():
    x = gradienti.tensor(2.0, requires_grad=True)
    with gradienti.inference_mode():
        y = x * 3
    text = hint(failure(lambda lib: y.backward()))
    assert "the tensor was created inside inference_mode(), which records no graph" in text


def test_float_warns_at_the_users_line_while_recording(monkeypatch):
    # (the module, not gradienti.tensor the factory)
    monkeypatch.setattr(sys.modules["gradienti.tensor"], "_SCALAR_WARNING_SAID", [])
    x = gradienti.tensor(2.0, requires_grad=True)
    with gradienti.set_explain_errors(True), pytest.warns(UserWarning) as caught:
        assert float(x * 3) == 6.0
    assert [warning.filename for warning in caught] == [__file__]


def test_an_integer_loss_is_explained_by_its_dtype_alone():
    text = hint(failure(integer_result))
    assert "the tensor is of dtype torch.int64: only floating point and complex" in text
    assert SWITCH_ADVICE not in text


# ---------------------------------------------------------------------- with the switch
def explained(action) -> str:
    gradienti.set_explain_errors(True)
    try:
        return hint(failure(action))
    finally:
        gradienti.set_explain_errors(False)


def test_created_without_requires_grad_names_both_lines():
    def action(lib):
        x = lib.tensor(2.0)
        action.created = previous_line()
        y = x**2
        action.computed = previous_line()
        y.backward()

    text = explained(action)
    assert f"the tensor was computed by pow at {action.computed} from tensors none of which" in text
    assert (
        f"the tensor it came from was created by tensor() at {action.created} without "
        "requires_grad=True" in text
    )


def test_computed_under_no_grad_names_the_line():
    def action(lib):
        x = lib.tensor(2.0, requires_grad=True)
        with lib.no_grad():
            y = x * 3
            action.line = previous_line()
        (y * 2).backward()

    text = explained(action)
    assert f"was computed by mul at {action.line} while grad mode was off" in text


def test_computed_under_inference_mode_names_the_line():
    def action(lib):
        x = lib.tensor(2.0, requires_grad=True)
        with lib.inference_mode():
            y = x.exp()
            action.line = previous_line()
        lib.autograd.grad(y * 2, x)

    text = explained(action)
    assert f"was computed by exp at {action.line} inside inference_mode()" in text


@pytest.mark.parametrize(("attribute", "words"), [("detach", ".detach()"), ("data", ".data")])
def test_detached_names_the_line(attribute, words):
    def action(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y = y.detach() if attribute == "detach" else y.data
        action.line = previous_line()
        (y * 2).sum().backward()

    text = explained(action)
    assert f"was cut from the graph by {words} at {action.line}" in text


# C callables: no Python frame of their own, so the line taking the values is the test's.
TAKE = {
    ".item()": operator.methodcaller("item"),
    "float()": float,
    ".tolist()": operator.methodcaller("tolist"),
    ".numpy()": operator.methodcaller("numpy", force=True),
}


@pytest.mark.parametrize("words", TAKE)
def test_values_taken_out_and_back_name_both_lines(words):
    def action(lib):
        x = lib.tensor([2.0], requires_grad=True)
        values = TAKE[words](x * 3)
        action.taken = previous_line()
        y = lib.tensor(values)
        action.created = previous_line()
        (y * 2).sum().backward()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # float() of a tensor that requires grad warns
        text = explained(action)
    assert (
        f"was created by tensor() at {action.created} without requires_grad=True, probably "
        f"from the values that {words} took out of a tensor with a graph at {action.taken}" in text
    )


def test_a_constant_equal_to_values_taken_out_is_only_probably_from_them():
    # The guess rests on equal values: a constant that happens to equal a logged loss must
    # not be said, for sure, to be that loss.
    def action(lib):
        x = lib.tensor(2.0, requires_grad=True)
        print((x * 0.5).item())  # 1.0, logged
        action.taken = previous_line()
        one = lib.tensor(1.0)
        action.created = previous_line()
        (one * 3).backward()

    text = explained(action)
    assert f"created by tensor() at {action.created} without requires_grad=True, probably" in text
    assert f"took out of a tensor with a graph at {action.taken} (they are equal)" in text


def test_values_of_a_tensor_without_graph_are_not_blamed():
    def action(lib):
        x = lib.tensor(2.0)
        y = lib.tensor(x.item())
        action.created = previous_line()
        (y * 2).backward()

    text = explained(action)
    assert f"created by tensor() at {action.created} without requires_grad=True" in text
    assert "took out of" not in text


def test_an_integer_intermediate_is_named():
    def action(lib):
        x = lib.tensor([1.0, 3.0, 2.0], requires_grad=True)
        mask = (x * 2) > 3
        loss = mask.float().sum()
        action.line = previous_line()
        loss.backward()

    text = explained(action)
    assert f"at {action.line}" in text
    assert "is of dtype torch.bool, which cannot require grad" in text


def test_indices_of_an_op_with_a_graph_are_explained_by_their_dtype():
    def action(lib):
        x = lib.tensor([1.0, 3.0], requires_grad=True)
        values, indices = lib.max(x * 2, 0)
        assert values.requires_grad
        indices.backward()

    expected = failure(action, torch)
    gradienti.set_explain_errors(True)
    error = failure(action)
    assert pytorch_text(error) == str(expected)
    text = hint(error)
    assert text.startswith("gradienti: the tensor is of dtype torch.int64: only floating point")
    assert "from tensors none of which requires grad" not in text


def test_frozen_parameters_are_named():
    def action(lib):
        layer = lib.nn.Linear(2, 1)
        layer.requires_grad_(False)
        loss = layer(lib.ones(3, 2)).sum()
        action.line = previous_line()
        loss.backward()

    text = explained(action)
    assert f"the tensor was computed by sum at {action.line}" in text
    assert "parameters with requires_grad=False (frozen) went into it" in text


def test_a_grad_names_the_line():
    def action(lib):
        x = lib.tensor(2.0, requires_grad=True)
        (x**2).backward()
        loss = x.grad * 2
        action.line = previous_line()
        loss.backward()

    text = explained(action)
    assert f"the tensor it came from is a .grad (last read by your code at {action.line})" in text


def test_a_grad_read_by_an_optimizer_first_names_the_users_read():
    # clip_grad_norm_ and the optimizer read .grad before the user does: their reads are not
    # the line that took the gradient.
    def action(lib):
        layer = lib.nn.Linear(2, 1)
        optimizer = lib.optim.SGD(layer.parameters(), lr=0.1)
        layer(lib.ones(1, 2)).sum().backward()
        lib.nn.utils.clip_grad_norm_(layer.parameters(), 1.0)
        optimizer.step()
        gradient = layer.weight.grad
        action.line = previous_line()
        (gradient * 2).sum().backward()

    text = explained(action)
    assert f"is a .grad (last read by your code at {action.line})" in text


def test_grad_warns_at_the_users_line_while_recording():
    x = gradienti.tensor(2.0, requires_grad=True)
    y = x * 2
    with gradienti.set_explain_errors(True), pytest.warns(UserWarning) as caught:
        assert y.grad is None
    assert [warning.filename for warning in caught] == [__file__]
    assert str(caught[0].message).startswith("The .grad attribute of a Tensor that is not a leaf")


def test_a_tensor_made_before_the_switch_says_its_history_is_unknown():
    x = gradienti.tensor(2.0)
    gradienti.set_explain_errors(True)
    text = hint(failure(lambda lib: x.backward()))
    assert "before gradienti.set_explain_errors(True) was on" in text
    assert SWITCH_ADVICE not in text


def test_anomaly_detection_records_too():
    def action(lib):
        x = lib.tensor(2.0, requires_grad=True)
        y = x.detach()
        action.line = previous_line()
        (y * 2).backward()

    enabled_warning = pytest.warns(UserWarning, match="Anomaly Detection has been enabled")
    with enabled_warning, gradienti.autograd.detect_anomaly():
        assert PROVENANCE.active
        text = hint(failure(action))
    assert not PROVENANCE.active
    assert f"by .detach() at {action.line}" in text


# ---------------------------------------------------------------------- the switch itself
def test_the_switch_is_set_at_once_and_a_context_restores_it():
    assert not gradienti.is_explain_errors_enabled()
    gradienti.set_explain_errors(True)
    assert gradienti.is_explain_errors_enabled() and PROVENANCE.active
    with gradienti.set_explain_errors(False):
        assert not gradienti.is_explain_errors_enabled() and not PROVENANCE.active
        assert Tensor.__dict__["detach"] is PLAIN_TENSOR_METHODS["detach"]
    assert gradienti.is_explain_errors_enabled()
    assert Tensor.__dict__["detach"] is not PLAIN_TENSOR_METHODS["detach"]
    gradienti.set_explain_errors(False)
    with gradienti.set_explain_errors(True):
        assert PROVENANCE.active
    assert not PROVENANCE.active


def test_the_switch_restores_after_an_exception():
    with pytest.raises(ValueError), gradienti.set_explain_errors(True):
        raise ValueError
    assert not gradienti.is_explain_errors_enabled()


def test_the_switch_and_anomaly_mode_together_count_once():
    count = MODES.count
    gradienti.set_explain_errors(True)
    gradienti.autograd.set_detect_anomaly(True)
    gradienti.set_explain_errors(False)
    assert PROVENANCE.active  # anomaly mode still records
    gradienti.autograd.set_detect_anomaly(False)
    assert not PROVENANCE.active
    assert MODES.count == count


def test_the_switch_is_global_as_anomaly_mode():
    seen = {}

    def action(lib):
        x = lib.tensor(2.0, requires_grad=True)
        y = x.detach()
        action.line = previous_line()
        (y * 2).backward()

    def in_thread():
        seen["text"] = hint(failure(action))

    gradienti.set_explain_errors(True)
    thread = threading.Thread(target=in_thread)
    thread.start()
    thread.join()
    assert f"by .detach() at {action.line}" in seen["text"]


def test_results_and_gradients_are_unchanged_while_recording():
    def run():
        x = gradienti.tensor([1.0, 2.0], requires_grad=True)
        with gradienti.no_grad():
            scale = x.detach() * 2
        y = (x * scale).sum()
        y.backward()
        return y.item(), x.grad.tolist(), scale.tolist()

    plain = run()
    with gradienti.set_explain_errors(True):
        assert run() == plain == (10.0, [2.0, 4.0], [2.0, 4.0])


def test_a_failed_backward_changes_no_grad():
    x = gradienti.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * 2).sum()
    with gradienti.set_explain_errors(True), pytest.raises(RuntimeError):
        gradienti.autograd.backward([loss, loss.detach()])
    assert x.grad is None


@pytest.mark.parametrize("explain", [False, True], ids=["switch_off", "switch_on"])
def test_no_hint_text_leaks_into_other_errors(explain):
    def actions(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        yield lambda: (x * 2).backward()  # not a scalar
        yield lambda: lib.autograd.grad((x * 2).sum(), lib.ones(2))  # input without grad
        yield lambda: (x * 2).sum().backward(lib.ones(3))  # gradient of the wrong shape

    with gradienti.set_explain_errors(explain):
        for ours, theirs in zip(actions(gradienti), actions(torch)):
            with pytest.raises(Exception) as mine:
                ours()
            with pytest.raises(Exception) as expected:
                theirs()
            assert type(mine.value) is type(expected.value)
            assert str(mine.value) == str(expected.value)


def test_the_second_output_is_named_by_its_index():
    def action(lib):
        x = lib.tensor(2.0, requires_grad=True)
        lib.autograd.backward([x * 2, lib.tensor(1.0)])

    error, expected = failure(action), failure(action, torch)
    assert pytorch_text(error) == str(expected)
    assert str(expected).startswith("element 1 of tensors")


# ---------------------------------------------------------------------- the formatter
def test_with_hint_appends_prefixed_lines_after_a_blank_line():
    message = with_hint("PyTorch's text", ["why it failed", "gradienti: how to fix it"])
    assert message == "PyTorch's text\n\ngradienti: why it failed\ngradienti: how to fix it"


def test_with_hint_without_lines_is_the_message_itself():
    assert with_hint("PyTorch's text", []) == "PyTorch's text"


def test_values_taken_out_meanwhile_by_another_thread_do_not_break_a_factory():
    # The factory compares with the values taken out so far while another thread may take more
    # out: iterating the live deque raised "deque mutated during iteration" in the factory.
    from gradienti.graph import provenance

    class TakenOutMeanwhile:
        """A value that compares like an array, and meanwhile values are taken out again."""

        shape = (2,)

        def __eq__(self, other):
            provenance.note_extraction(".item()", 0.0)
            return np.zeros(2, dtype=bool)

    gradienti.set_explain_errors(True)
    provenance._EXTRACTIONS.append(provenance.Extraction(".item()", None, 5.0))
    provenance._EXTRACTIONS.append(provenance.Extraction(".numpy()", None, TakenOutMeanwhile()))
    made = gradienti.tensor([1.0, 2.0])
    assert made.tolist() == [1.0, 2.0]


def test_a_buffer_a_module_made_is_named_by_its_factory_not_by_init():
    def action(lib):
        norm = lib.nn.BatchNorm1d(3)
        action.line = previous_line()
        (norm.running_mean * 2).sum().backward()

    text = explained(action)
    assert f"created by zeros() at {action.line} without requires_grad=True" in text
    assert "__init__" not in text


def test_values_taken_out_are_not_kept_alive_by_the_recording():
    # A model's outputs taken out every step (.detach().numpy(), .tolist() for a log): the
    # last 32 were held, arrays sharing the outputs' memory, lists copies of any size.
    import weakref

    from gradienti.graph import provenance

    gradienti.set_explain_errors(True)
    x = gradienti.ones(100_000, requires_grad=True)
    array = (x * 2).detach().numpy()
    taken = weakref.ref(array)
    del array
    assert taken() is None
    kept = len(provenance._EXTRACTIONS)
    assert len((x * 2).tolist()) == 100_000
    assert len(provenance._EXTRACTIONS) == kept


def test_detached_in_place_names_the_line():
    # y.detach_() cut y off in place: it was said to be "created without requires_grad=True".
    def action(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.detach_()
        action.line = previous_line()
        (y * 2).sum().backward()

    text = explained(action)
    assert f"was cut from the graph by .detach_() at {action.line}" in text
    assert "created without requires_grad" not in text


def test_records_go_with_their_tensors_in_a_long_loop():
    # A training loop with the switch on: evaluation under no_grad, values logged, .grad read.
    import gc
    import weakref

    from gradienti.graph import provenance

    gradienti.set_explain_errors(True)
    gradienti.manual_seed(0)
    layer = gradienti.nn.Linear(4, 2)
    optimizer = gradienti.optim.SGD(layer.parameters(), lr=0.01)
    inputs, targets = gradienti.randn(8, 4), gradienti.randint(0, 2, (8,))

    def step():
        optimizer.zero_grad()
        loss = gradienti.nn.functional.cross_entropy(layer(inputs), targets)
        loss.backward()
        optimizer.step()
        with gradienti.no_grad():
            accuracy = (layer(inputs).argmax(1) == targets).float().mean()
        logged = gradienti.tensor(loss.item()) + accuracy
        return weakref.ref(logged), layer.weight.grad

    step()
    gc.collect()
    records = len(provenance._RECORDS)
    for _ in range(300):
        logged, _grad = step()
        assert logged() is None  # the record keeps no tensor alive
    gc.collect()
    assert len(provenance._RECORDS) <= records + 1


def test_inference_tensors_are_marked_exactly_as_without_the_switch():
    # The switch counts in MODES.inference (the factories' one test): only inference_mode's
    # tensors may be marked, in every thread, and the count returns after it.
    def marks() -> list:
        outside = gradienti.zeros(2)
        with gradienti.inference_mode():
            inside, computed = gradienti.zeros(2), outside * 2
            with gradienti.inference_mode(False):
                switched_back = gradienti.zeros(2)
        in_thread = []
        thread = threading.Thread(target=lambda: in_thread.append(gradienti.ones(2)))
        thread.start()
        thread.join()
        made = (outside, inside, computed, switched_back, outside + 1, in_thread[0])
        return [tensor.is_inference() for tensor in made]

    plain = marks()
    inference_count = MODES.inference
    with gradienti.set_explain_errors(True):
        assert marks() == plain == [False, True, True, False, False, False]
    assert MODES.inference == inference_count


def test_a_custom_functions_output_names_its_input_not_the_no_grad_of_its_forward():
    # A Function's forward always runs under no_grad: its own ops were blamed ("computed by mul
    # while grad mode was off ... compute the loss outside that block"), not the input.
    def action(lib):
        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, 3

            @staticmethod
            def backward(ctx, gradient, _):
                return gradient * 2

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y, _ = Double.apply(x.detach())
        action.line = previous_line()
        y.sum().backward()

    text = explained(action)
    assert f"cut from the graph by .detach() at {action.line}" in text
    assert "grad mode was off" not in text


def test_a_method_called_with_no_python_caller_still_works_while_recording(monkeypatch):
    # A thread started on t.item itself has no caller's frame: looking for the user's line
    # raised "call stack is not deep enough" from .item().
    import _thread

    from gradienti.graph.provenance import user_location

    assert user_location(10_000) == (None, None)
    unraised = []
    monkeypatch.setattr(sys, "unraisablehook", unraised.append)  # (where _thread reports)
    gradienti.set_explain_errors(True)
    y = gradienti.tensor(2.0, requires_grad=True) * 3
    lock = _thread.allocate_lock()
    lock.acquire()
    _thread.start_new_thread(lambda: (y.item(), lock.release()), ())  # (a frame: a control)
    assert lock.acquire(timeout=10)
    finished = threading.Event()
    _thread.start_new_thread(y.item, ())
    _thread.start_new_thread(finished.set, ())
    assert finished.wait(10)
    for _ in range(100):  # the frame-less call has ended once the count of threads is back
        if threading.active_count() == 1 and _thread._count() == 0:
            break
        threading.Event().wait(0.01)
    assert unraised == []
