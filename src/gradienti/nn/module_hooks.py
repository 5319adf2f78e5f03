"""A module call with hooks: forward pre-hooks and hooks, and the full backward hooks.

``Module.__call__`` runs ``forward`` directly while a module has no hook (and no global backward
hook exists); otherwise ``call_with_hooks`` below, which follows PyTorch's ``_call_impl``.

The backward hooks work as PyTorch's (``torch/utils/hooks.py``, ``BackwardHook``): the tensor
inputs that reach ``forward`` and the tensor outputs it returns pass through an identity node,
``BackwardHookFunctionBackward`` (so ``forward`` receives, and the caller gets, a new tensor on
the same data: PyTorch's view). A post-hook on the outputs' node collects ``grad_output`` and
runs the backward pre-hooks, which may replace it; a post-hook on the inputs' node then has
``grad_input`` (the gradients with respect to the positional tensor inputs; None for the other
arguments) and runs the backward hooks, which may replace it. If no input requires grad, the
hooks run at the outputs with ``grad_input`` all None, with PyTorch's warning.
"""

from __future__ import annotations

import sys
import warnings
from collections import OrderedDict

from ..graph.anomaly import PACKAGE_DIR
from ..graph.dual import tangent_of
from ..graph.grad_mode import grad_state
from ..graph.node import NO_EDGE, Node
from ..ops.api import EXPLAIN_RULES
from ..ops.apply import record_node
from ..ops.explain_rule import Rule
from ..tensor import Tensor, wrap


class RemovableHandle:
    """Returned by the Module hook registrations; ``remove()`` unregisters the hook."""

    next_id = 0

    def __init__(self, *dicts) -> None:
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self._dicts = dicts

    def remove(self) -> None:
        for d in self._dicts:
            d.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()


def new_handle(hooks: dict, hook, *extra: dict, prepend: bool = False) -> RemovableHandle:
    """Register ``hook`` in ``hooks`` (an OrderedDict), first if ``prepend``; removing the
    handle also removes its key from the ``extra`` dicts."""
    handle = RemovableHandle(hooks, *extra)
    hooks[handle.id] = hook
    if prepend:
        hooks.move_to_end(handle.id, last=False)
    return handle


# PyTorch's global module hooks (torch.nn.modules.module): they run before each module's own.
GLOBAL_BACKWARD_PRE_HOOKS: dict = OrderedDict()
GLOBAL_BACKWARD_HOOKS: dict = OrderedDict()


def register_module_full_backward_pre_hook(hook) -> RemovableHandle:
    """A backward pre-hook for every module: ``hook(module, grad_output)``."""
    return new_handle(GLOBAL_BACKWARD_PRE_HOOKS, hook)


def register_module_full_backward_hook(hook) -> RemovableHandle:
    """A backward hook for every module: ``hook(module, grad_input, grad_output)``."""
    return new_handle(GLOBAL_BACKWARD_HOOKS, hook)


class _Call:
    """One module call with hooks: its arguments and output as the hooks changed them, and
    the ``always_call`` forward hooks that ran (the others run if the call fails)."""

    __slots__ = ("args", "kwargs", "output", "always_called")

    def __init__(self, args: tuple, kwargs: dict) -> None:
        self.args = args
        self.kwargs = kwargs
        self.output = None
        self.always_called: set = set()


def call_with_hooks(module, args: tuple, kwargs: dict):
    """``module(*args, **kwargs)`` with its hooks, in PyTorch's order."""
    call = _Call(args, kwargs)
    try:
        return _run(module, call)
    except Exception:
        if module._forward_hooks_always_called:
            _run_always_called_hooks(module, call)
        raise


def _run(module, call: _Call):
    backward_pre_hooks = [*GLOBAL_BACKWARD_PRE_HOOKS.values(), *module._backward_pre_hooks.values()]
    backward_hooks = [*GLOBAL_BACKWARD_HOOKS.values(), *module._backward_hooks.values()]
    with_kwargs = module._forward_pre_hooks_with_kwargs
    for key, hook in list(module._forward_pre_hooks.items()):
        if with_kwargs.get(key):
            result = hook(module, call.args, call.kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        "forward pre-hook must return None or a tuple of (new_args, "
                        f"new_kwargs), but got {result}."
                    )
                call.args, call.kwargs = result
        else:
            result = hook(module, call.args)
            if result is not None:
                call.args = result if isinstance(result, tuple) else (result,)
    backward_hook = None
    if backward_hooks or backward_pre_hooks:
        backward_hook = BackwardHook(module, backward_hooks, backward_pre_hooks)
        call.args = backward_hook.setup_input_hook(call.args)
    call.output = module.forward(*call.args, **call.kwargs)
    always_call = module._forward_hooks_always_called
    for key, hook in list(module._forward_hooks.items()):
        if key in always_call:
            call.always_called.add(key)
        _run_forward_hook(module, key, hook, call)
    output = call.output
    if backward_hook is not None:
        if not isinstance(output, (Tensor, tuple)):
            warnings.warn(
                "For backward hooks to be called, module output should be a Tensor or a tuple "
                f"of Tensors but received {type(output)}",
                stacklevel=3,  # as PyTorch's: Module.__call__
            )
        output = backward_hook.setup_output_hook(output)
    return output


def _run_forward_hook(module, key, hook, call: _Call) -> None:
    """One forward hook: with the kwargs if it was registered ``with_kwargs``; what it returns
    (not None) becomes the output."""
    if module._forward_hooks_with_kwargs.get(key):
        result = hook(module, call.args, call.kwargs, call.output)
    else:
        result = hook(module, call.args, call.output)
    if result is not None:
        call.output = result


def _run_always_called_hooks(module, call: _Call) -> None:
    """The call failed: the ``always_call`` forward hooks that did not run yet run now, in
    order, with the output so far (None if forward did not return); what one of them raises
    is a warning, as in PyTorch."""
    always_call = module._forward_hooks_always_called
    for key, hook in list(module._forward_hooks.items()):
        if key not in always_call or key in call.always_called:
            continue
        try:
            _run_forward_hook(module, key, hook, call)
        except Exception as error:  # noqa: BLE001 - PyTorch silences it: the call's error goes on
            warnings.warn(
                "module forward hook with ``always_call=True`` raised an exception that was "
                f"silenced as another error was raised in forward: {error}",
                stacklevel=3,  # as PyTorch's: Module.__call__
            )


class BackwardHookFunctionBackward(Node):
    """The identity on a hooked module's tensor inputs (or outputs): one output per tensor, a
    new tensor on its data (PyTorch's BackwardHookFunction). Its post-hook sees their
    gradients. A tensor that does not require grad passes as one that does not either; a
    gradient that reaches none of its outputs arrives as zeros, as from PyTorch's node."""

    # Its outputs are views made by a custom Function: PyTorch refuses to modify them in place.
    is_view = True
    view_function_name = "BackwardHookFunction"

    def __init__(self, tensors: list) -> None:
        # Saves nothing (it may run again, as PyTorch's); recorded as every node is, so that
        # anomaly detection keeps where the module was called.
        record_node(self, tuple(tensor._edge for tensor in tensors), ())
        self.num_outputs = len(tensors)
        self.output_meta = tuple((tensor._data.shape, tensor._data.dtype) for tensor in tensors)

    @staticmethod
    def backward(ctx, *grads):
        return grads if ctx.num_outputs > 1 else grads[0]


def _identity_rule(node) -> Rule:
    return Rule(
        "the identity, where a module's backward hooks see the gradients",
        "{x:9}",
        passes=("the gradient, unchanged (or what a module's backward hook returned)",),
    )


# The node is nn's, not an op's: its explain rule joins the ops' here.
EXPLAIN_RULES[BackwardHookFunctionBackward.__name__] = _identity_rule


def apply_identity(tensors: list) -> tuple:
    """The tensors through one BackwardHookFunctionBackward: new tensors on the same data."""
    if any(tangent_of(tensor) is not None for tensor in tensors):
        # PyTorch's BackwardHookFunction is a custom Function without a jvp.
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )
    node = BackwardHookFunctionBackward(tensors)
    several = len(tensors) > 1
    return node, tuple(
        wrap(tensor._data, NO_EDGE if tensor._edge is None else (node, n) if several else node)
        for n, tensor in enumerate(tensors)
    )


class BackwardHook:
    """The backward hooks of one module call (PyTorch's ``torch.utils.hooks.BackwardHook``)."""

    def __init__(self, module, user_hooks: list, user_pre_hooks: list) -> None:
        self.module = module
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        self.grad_outputs = None
        self.n_outputs = -1
        self.output_tensors_index = None
        self.n_inputs = -1
        self.input_tensors_index = None

    @staticmethod
    def _pack_with_none(indices, values, size: int) -> tuple:
        packed = [None] * size
        for index, value in zip(indices, values):
            packed[index] = value
        return tuple(packed)

    @staticmethod
    def _unpack_none(indices, values) -> tuple:
        return tuple(values[index] for index in indices)

    def _apply_on_tensors(self, register, args: tuple):
        """Pass the tensors among ``args`` through one identity node (if any requires grad
        and grad mode is on) and ``register`` the node's hook: new args, the tensors' places."""
        places = [position for position, arg in enumerate(args) if isinstance(arg, Tensor)]
        tensors = [args[position] for position in places]
        if not (any(tensor._edge is not None for tensor in tensors) and grad_state.enabled):
            return args, None
        node, new_tensors = apply_identity(tensors)
        register(node)
        arguments = list(args)
        for position, tensor in zip(places, new_tensors):
            arguments[position] = tensor
        return (tuple(arguments) if type(args) is tuple else type(args)(*arguments)), places

    def setup_input_hook(self, args: tuple) -> tuple:
        args, places = self._apply_on_tensors(self._set_user_hook, args)
        self.n_inputs = len(args)
        self.input_tensors_index = places
        return args

    def _set_user_hook(self, node) -> None:
        def hook(grad_input, _grad_output):
            if self.grad_outputs is None:
                # The gradient reached the inputs without passing the outputs (a double
                # backward): no grad_output to show.
                return None
            packed = self._pack_with_none(self.input_tensors_index, grad_input, self.n_inputs)
            for user_hook in self.user_hooks:
                result = user_hook(self.module, packed, self.grad_outputs)
                if result is None:
                    continue
                if len(result) != len(packed):
                    raise RuntimeError(
                        "Backward hook returned an invalid number of grad_input, got "
                        f"{len(result)}, but expected {len(packed)}"
                    )
                packed = result
            self.grad_outputs = None
            return self._unpack_none(self.input_tensors_index, packed)

        node.register_hook(hook)

    def setup_output_hook(self, output):
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        outputs, places = self._apply_on_tensors(self._set_output_hook, outputs)
        self.n_outputs = len(outputs)
        self.output_tensors_index = places
        return outputs[0] if single else outputs

    def _set_output_hook(self, node) -> None:
        def hook(_grad_input, grad_output):
            self.grad_outputs = self._pack_with_none(
                self.output_tensors_index, grad_output, self.n_outputs
            )
            expected = len(self.grad_outputs)
            for user_pre_hook in self.user_pre_hooks:
                result = user_pre_hook(self.module, self.grad_outputs)
                if result is None:
                    continue
                if len(result) != expected:
                    raise RuntimeError(
                        "Backward pre hook returned an invalid number of grad_output, got "
                        f"{len(result)}, but expected {expected}"
                    )
                self.grad_outputs = result
            grad_outputs = self.grad_outputs
            if self.input_tensors_index is None:
                self._run_hooks_without_grad_input()
            return tuple(grad_outputs[index] for index in self.output_tensors_index)

        node.register_hook(hook)

    def _run_hooks_without_grad_input(self) -> None:
        """No input requires grad: the hooks run now, with grad_input all None."""
        warnings.warn(
            "Full backward hook is firing when gradients are computed with respect to module "
            "outputs since no inputs require gradients. See https://docs.pytorch.org/docs/main/"
            "generated/torch.nn.Module.html#torch.nn.Module.register_full_backward_hook for "
            "more details.",
            stacklevel=_callers_level(),
        )
        grad_inputs = (None,) * self.n_inputs
        for user_hook in self.user_hooks:
            result = user_hook(self.module, grad_inputs, self.grad_outputs)
            if result is not None and not (
                isinstance(result, tuple) and all(entry is None for entry in result)
            ):
                raise RuntimeError(
                    "Backward hook for Modules where no input requires gradient should always "
                    "return None or None for all gradients."
                )
        self.grad_outputs = None


def _callers_level() -> int:
    """The ``stacklevel`` that names the first frame outside gradienti (the user's
    ``backward()`` call, where PyTorch's warning points)."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    return level
