"""``torch.utils.checkpoint``: trade compute for memory by recomputing a segment in backward.

``checkpoint(function, *args, use_reentrant=...)`` runs ``function`` without keeping the values
its ops save for backward; backward recomputes them (with the random state of the forward, so
dropout draws the same mask) and gets the gradients it would have got without checkpointing.
Two variants, as PyTorch's, with PyTorch 2.13's default (``use_reentrant`` not given: a warning,
then the reentrant one):

- ``use_reentrant=False`` (recommended): the graph is the ordinary graph of ``function``, but
  every value an op saves inside it is packed by a saved-tensor hook (autograd.graph) into an
  empty holder. Unpacking a holder in backward recomputes the segment once, under a hook that
  fills the holders (and stops as soon as all are filled), and checks that the recomputed
  values have the shapes and dtypes of the originals. Works with ``autograd.grad``, keyword
  arguments, nested checkpoints (an inner checkpoint's inputs are saved through the outer's
  hooks, so they are recomputed too), and inputs that do not require grad.
- ``use_reentrant=True``: a custom Function (``CheckpointFunction``) runs ``function`` under
  no_grad; its backward recomputes it with grad on and runs a backward pass of its own. Its
  outputs' grad_fn is ``CheckpointFunctionBackward``; without an input that requires grad the
  output does not require grad either; it refuses keyword arguments, ``autograd.grad`` and
  ``backward(inputs=)``.
"""

from __future__ import annotations

import contextlib
import warnings
import weakref

from ..autograd.custom_function import Function
from ..autograd.engine import backward as run_backward
from ..autograd.graph import saved_tensors_hooks
from ..autograd.schedule import is_checkpoint_valid
from ..graph.anomaly import forward_trace
from ..graph.grad_mode import enable_grad, grad_state, no_grad
from ..nn.container import Sequential
from ..ops.saved_tensors import current_hooks
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor, wrap

__all__ = [
    "CheckpointError",
    "CheckpointFunction",
    "check_backward_validity",
    "checkpoint",
    "checkpoint_sequential",
    "detach_variable",
    "noop_context_fn",
    "set_checkpoint_debug_enabled",
    "set_checkpoint_early_stop",
]

_DEFAULT_DETERMINISM_MODE = "default"
_checkpoint_debug_enabled: bool | None = None
_enable_checkpoint_early_stop: bool | None = None


class CheckpointError(RuntimeError):
    """The recomputation saved other tensors than the forward did."""


@contextlib.contextmanager
def set_checkpoint_debug_enabled(enabled: bool | None):
    """Inside, ``checkpoint``'s ``debug`` is ``enabled`` (None: each call's own)."""
    global _checkpoint_debug_enabled
    previous = _checkpoint_debug_enabled
    _checkpoint_debug_enabled = enabled
    try:
        yield
    finally:
        _checkpoint_debug_enabled = previous


@contextlib.contextmanager
def set_checkpoint_early_stop(enable: bool):
    """Whether the checkpoints made inside stop recomputing once every saved value is back."""
    global _enable_checkpoint_early_stop
    previous = _enable_checkpoint_early_stop
    _enable_checkpoint_early_stop = enable
    try:
        yield
    finally:
        _enable_checkpoint_early_stop = previous


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs: tuple) -> tuple:
    """Each tensor detached, keeping its ``requires_grad``."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(
            "Only tuple of tensors is supported. Got Unsupported input type: "
            f"{type(inputs).__name__}"
        )
    detached = []
    for value in inputs:
        if isinstance(value, Tensor):
            tensor = value.detach()
            tensor.requires_grad = value.requires_grad
            value = tensor
        detached.append(value)
    return tuple(detached)


def check_backward_validity(inputs) -> None:
    if not any(value.requires_grad for value in inputs if isinstance(value, Tensor)):
        warnings.warn(
            "None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2
        )


@contextlib.contextmanager
def _random_state(state):
    """Run with the random state ``state`` (None: as it is), then put back the state outside."""
    if state is None:
        yield
        return
    outside = get_rng_state()
    set_rng_state(state)
    try:
        yield
    finally:
        set_rng_state(outside)


# ---------------------------------------------------------------------- use_reentrant=True
class CheckpointFunction(Function):
    """The reentrant variant: forward under no_grad, backward recomputes and runs backward."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.preserve_rng_state = preserve_rng_state
        if preserve_rng_state:
            ctx.fwd_cpu_state = get_rng_state()
        # The non-tensor arguments are kept as they are, the tensors as saved tensors.
        ctx.inputs = []
        ctx.tensor_indices = []
        tensor_inputs = []
        for position, value in enumerate(args):
            if isinstance(value, Tensor):
                tensor_inputs.append(value)
                ctx.tensor_indices.append(position)
                ctx.inputs.append(None)
            else:
                ctx.inputs.append(value)
        ctx.save_for_backward(*tensor_inputs)
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *grads):
        if not is_checkpoint_valid():
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() "
                "or passing an `inputs` parameter to .backward(). To resolve this error, you "
                "can either set use_reentrant=False, or call .backward() without passing the "
                "`inputs` argument."
            )
        inputs = list(ctx.inputs)
        for position, tensor in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[position] = tensor
        with _random_state(ctx.fwd_cpu_state if ctx.preserve_rng_state else None):
            detached_inputs = detach_variable(tuple(inputs))
            with enable_grad():
                outputs = ctx.run_function(*detached_inputs)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        outputs_with_grad = []
        grads_with_grad = []
        for output, grad in zip(outputs, grads):
            if isinstance(output, Tensor) and output.requires_grad:
                outputs_with_grad.append(output)
                grads_with_grad.append(grad)
        if not outputs_with_grad:
            raise RuntimeError(
                "none of output has requires_grad=True, this checkpoint() is not necessary"
            )
        run_backward(outputs_with_grad, grads_with_grad)
        gradients = tuple(
            value.grad if isinstance(value, Tensor) else None for value in detached_inputs
        )
        return (None, None) + gradients


# ---------------------------------------------------------------------- use_reentrant=False
class _Holder:
    """What a checkpointed op keeps instead of a saved tensor: filled by a recomputation,
    emptied when backward reads it (so a recomputed value lives only until it is used)."""

    __slots__ = ("value", "__weakref__")

    def __init__(self) -> None:
        self.value = None


class _StopRecomputation(Exception):
    """Every holder is filled: the rest of the recomputation is not needed."""


_DEBUG_TIP = """
Tip: To see a more detailed error message, either pass `debug=True` to
`torch.utils.checkpoint.checkpoint(...)` or wrap the code block
with `with torch.utils.checkpoint.set_checkpoint_debug_enabled(True):` to
enable checkpoint\u2011debug mode globally.

If this error occurs under torch.compile with automatic_dynamic_shapes enabled,
it may be because the recomputation selected a different compiled graph than the
forward pass (e.g., a dynamic graph instead of the original static graph).
To fix this, either:
  - Use torch._dynamo.mark_dynamic() to explicitly mark varying dimensions as
    dynamic upfront, avoiding the static-to-dynamic transition.
  - Call torch._C._dynamo.eval_frame._set_lru_cache(False) to disable LRU cache
    reordering, which can change which graph is checked first between forward
    and recompute.
See https://github.com/pytorch/pytorch/issues/166926 for more details and
workaround examples.
"""  # PyTorch's text, word for word (gradienti has no torch.compile)


def _metadata(tensor) -> dict:
    return {"shape": tensor.shape, "dtype": tensor.dtype, "device": tensor.device}


_METADATA = {_DEFAULT_DETERMINISM_MODE: _metadata, "none": lambda _tensor: None}


class _SavedInput:
    """A tensor argument of a checkpoint, saved as PyTorch saves it: through the saved-tensor
    hooks in force (an outer checkpoint's, which recomputes it), else as itself. Unpacked, it
    has the argument's grad_fn again (as a SavedVariable), so that its recomputation records."""

    __slots__ = ("tensor", "packed", "unpack_hook", "edge")

    def __init__(self, tensor) -> None:
        hooks = current_hooks()
        self.tensor = tensor if hooks is None else None
        self.unpack_hook = None if hooks is None else hooks[1]
        self.edge = tensor._edge
        if hooks is not None:
            with no_grad():
                self.packed = hooks[0](tensor)

    def unpack(self):
        if self.unpack_hook is None:
            return self.tensor
        return wrap(self.unpack_hook(self.packed)._data, self.edge)


class _CheckpointFrame:
    """One ``checkpoint`` call without reentrance: its inputs, the holders its ops got, and
    the recomputation that fills them."""

    def __init__(self, recompute_fn, early_stop: bool, metadata_fn, debug_log) -> None:
        self.recompute_fn = recompute_fn
        self.early_stop = early_stop
        self.metadata_fn = metadata_fn
        self.debug_log = debug_log  # (forward's saves, recomputation's saves), or None
        self.saved_args: list = []
        self.weak_holders: list = []
        self.x_metadatas: list = []
        self.forward_completed = False
        self.ignore_saved_mismatch = False

    def save_inputs(self, args: tuple) -> None:
        self.saved_args = [_SavedInput(a) if isinstance(a, Tensor) else a for a in args]

    def get_inputs(self) -> list:
        return [a.unpack() if isinstance(a, _SavedInput) else a for a in self.saved_args]

    # -- the forward's hooks: a holder for each saved tensor
    def pack(self, tensor) -> _Holder:
        holder = _Holder()
        self.weak_holders.append(weakref.ref(holder))
        if self.metadata_fn is not None:
            self.x_metadatas.append(self.metadata_fn(tensor))
        if self.debug_log is not None:
            self.debug_log[0].append(_debug_entry(tensor))
        return holder

    def unpack(self, holder: _Holder):
        if holder.value is None:
            self.recompute()
        value = holder.value
        if value is None:
            raise CheckpointError(
                "torch.utils.checkpoint: Unpack is being triggered for a tensor that was "
                "already unpacked once. If you are calling ctx.saved_tensors in backward, make "
                "sure to do so only once. Otherwise please open an issue with details on your "
                "use case."
            )
        holder.value = None
        return value

    # -- the recomputation's hooks: fill the holders in order
    def recompute(self) -> None:
        recomputed: list = []
        if self.debug_log is not None:
            self.debug_log[1].clear()

        def pack(tensor):
            tensor = tensor.detach() if tensor.requires_grad else tensor
            index = len(recomputed)
            recomputed.append(tensor)
            if self.debug_log is not None:
                self.debug_log[1].append(_debug_entry(tensor))
            if index >= len(self.weak_holders):
                if not self.forward_completed:  # a backward inside the checkpointed function
                    self.ignore_saved_mismatch = True
                    return tensor
                raise CheckpointError(
                    "torch.utils.checkpoint: trying to save more tensors during recomputation "
                    f"than during the original forward pass.\n{_DEBUG_TIP}"
                )
            holder = self.weak_holders[index]()
            if holder is not None:  # (a holder dies with a node that is done with it)
                holder.value = tensor
            if self.early_stop and len(recomputed) == len(self.weak_holders):
                raise _StopRecomputation
            return tensor

        try:
            with saved_tensors_hooks(pack, _unchanged), enable_grad():
                self.recompute_fn(*self.get_inputs())
        except _StopRecomputation:
            pass
        self.check_recomputed(recomputed)

    def check_recomputed(self, recomputed: list) -> None:
        """PyTorch's determinism check: as many saved tensors, with the same metadata."""
        if self.ignore_saved_mismatch:
            return
        if len(self.weak_holders) != len(recomputed):
            self.fail(
                "torch.utils.checkpoint: A different number of tensors was saved during the "
                "original forward and recomputation.\n"
                f"Number of tensors saved during forward: {len(self.weak_holders)}\n"
                f"Number of tensors saved during recomputation: {len(recomputed)}.\n"
                f"{_DEBUG_TIP}"
            )
        different = ""
        for index, (weak_holder, tensor) in enumerate(zip(self.weak_holders, recomputed)):
            if weak_holder() is None:
                continue
            saved, now = self.x_metadatas[index], self.metadata_fn(tensor)
            if saved != now:
                different += (
                    f"tensor at position {index}:\nsaved metadata: {saved}\n"
                    f"recomputed metadata: {now}\n"
                )
        if different:
            self.fail(
                "torch.utils.checkpoint: Recomputed values for the following tensors have "
                f"different metadata than during the forward pass.\n{different}.\n{_DEBUG_TIP}"
            )

    def fail(self, message: str):
        if self.debug_log is None:
            raise CheckpointError(message)
        forward, recomputation = self.debug_log
        raise CheckpointError(
            "An error happened while unpacking tensors; dumping logs of latest computation "
            "because you passed `debug=True` to `torch.utils.checkpoint.checkpoint()`.\n\n"
            "Tensors saved during the original forward (where each was saved):\n"
            f"{_debug_listing(forward)}\n"
            "Tensors saved during recomputation:\n"
            f"{_debug_listing(recomputation)}\n"
            f"ERROR: Detected non-determinism while running activation checkpointing\n{message}"
        )


def _unchanged(value):
    return value


def _debug_entry(tensor) -> tuple:
    """A saved tensor as debug mode logs it: its metadata and the user's line that saved it."""
    frames = forward_trace().frames  # the stack without gradienti's frames, the user's last
    where = "{}:{}:{}".format(*frames[-1]) if frames else "?"
    return _metadata(tensor), where


def _debug_listing(entries: list) -> str:
    return "".join(
        f"  {index}: {metadata}   ({where})\n" for index, (metadata, where) in enumerate(entries)
    )


def _checkpoint_without_reentrant(
    function, preserve, context_fn, determinism_check, debug, early_stop, args, kwargs
):
    debug = _checkpoint_debug_enabled if _checkpoint_debug_enabled is not None else debug
    if debug and context_fn is not noop_context_fn:
        raise ValueError("debug=True is incompatible with non-default context_fn")
    if determinism_check not in _METADATA:
        raise ValueError(
            f"determinism_check should be one of {list(_METADATA)}, but got {determinism_check}"
        )
    forward_context, recompute_context = context_fn()
    forward_state = get_rng_state() if preserve else None

    def recompute_fn(*inputs) -> None:
        with _random_state(forward_state), recompute_context:
            function(*inputs, **kwargs)

    if _enable_checkpoint_early_stop is not None:
        early_stop = _enable_checkpoint_early_stop
    frame = _CheckpointFrame(
        recompute_fn, early_stop, _METADATA[determinism_check], ([], []) if debug else None
    )
    if not grad_state.enabled:
        return function(*args, **kwargs)
    frame.save_inputs(args)
    suppressed = True
    with saved_tensors_hooks(frame.pack, frame.unpack), forward_context:
        output = function(*args, **kwargs)
        suppressed = False
    if suppressed:
        raise RuntimeError(
            "torch.utils.checkpoint: the forward context provided by context_fn suppressed an "
            "exception raised during the checkpointed forward. This is not supported because "
            "checkpoint cannot return a value for a failed forward."
        )
    frame.forward_completed = True
    return output


# ---------------------------------------------------------------------- the public functions
def checkpoint(
    function,
    *args,
    use_reentrant: bool | None = None,
    context_fn=noop_context_fn,
    determinism_check: str = _DEFAULT_DETERMINISM_MODE,
    debug: bool = False,
    early_stop: bool = True,
    **kwargs,
):
    """``function(*args, **kwargs)``, its saved values recomputed in backward."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. "
            "Starting in PyTorch 2.9, calling checkpoint without use_reentrant will raise an "
            "exception. use_reentrant=False is recommended, but if you need to preserve the "
            "current default behavior, you can pass use_reentrant=True. Refer to docs for more "
            "details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError(
                "Passing `context_fn` or `debug` is only supported when use_reentrant=False."
            )
        return CheckpointFunction.apply(function, preserve, *args)
    return _checkpoint_without_reentrant(
        function, preserve, context_fn, determinism_check, debug, early_stop, args, kwargs
    )


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):  # noqa: A002
    """Run ``functions`` in turn on ``input``, all segments but the last checkpointed."""
    if use_reentrant is None:
        warnings.warn(
            "torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should "
            "be passed explicitly. In version 2.9 we will raise an exception if use_reentrant "
            "is not passed. use_reentrant=False is recommended, but if you need to preserve "
            "the current default behavior, you can pass use_reentrant=True. Refer to docs for "
            "more details on the differences between the two variants.",
            stacklevel=2,
        )
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))

    def run_function(start, end, functions):
        def forward(input):  # noqa: A002
            for j in range(start, end + 1):
                input = functions[j](input)
            return input

        return forward

    if isinstance(functions, Sequential):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1  # the last segment is not checkpointed: its values are used right away
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(  # noqa: A001
            run_function(start, end, functions),
            input,
            use_reentrant=use_reentrant,
            preserve_rng_state=preserve,
        )
    return run_function(end + 1, len(functions) - 1, functions)(input)
