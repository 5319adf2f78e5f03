"""Custom differentiable operations: ``Function`` and its backward node, ``FunctionCtx``.

What the user's methods hand back is checked as PyTorch checks it (torch/csrc/autograd/
python_function.cpp, custom_function.cpp), with PyTorch's exception classes and messages:
the tensors given to ``save_for_backward``, ``mark_dirty`` and ``mark_non_differentiable``
when ``apply`` returns, and what ``backward`` returns before the engine sees it (one gradient
per forward argument: None or a Tensor, summed to its input's shape when it was broadcast,
cast to its dtype). Nothing is changed before those checks pass.

A saved tensor that is modified in place before backward reads it is refused, as PyTorch's
SavedVariable does on unpacking: ``saved_tensors`` compares the version counts it recorded.
The check runs only here, so the built-in ops pay nothing for it.
"""

from __future__ import annotations

import warnings

from .. import batching
from ..backend import from_numpy_dtype, xp
from ..graph import versions
from ..graph.anomaly import ANOMALY, forward_trace
from ..graph.dual import FORWARD, suspended
from ..graph.grad_mode import MODES, grad_state, no_grad
from ..graph.node import (
    NO_EDGE,
    SAVED_RELEASED_MESSAGE,
    AccumulateGrad,
    Node,
    edge_parts,
    next_sequence_number,
    set_special_entry,
)
from ..graph.provenance import PROVENANCE, note_op
from ..graph.versions import MODIFIED
from ..ops.inplace import _refuse_in_place_on_leaf_or_view
from ..ops.saved_tensors import SavedVariable, current_hooks, pack_function_saved
from ..ops.shape import sum_to
from ..tensor import Tensor, wrap
from .function_call import bound_arguments, positional_arguments, run_forward
from .function_forward_ad import compute_output_tangents, set_tangents
from .function_vmap import RUN_AS_IS, routed

# The ``output_meta`` entry of a forward output that is not a tensor: the engine may make a
# zero gradient from it, which ``FunctionCtx.backward`` replaces by None.
_NOT_A_TENSOR_OUTPUT = ((), xp.dtype(xp.float32))

# The ``_argument_meta`` entry of a tensor argument that does not require grad: its gradient
# is dropped unchecked (PyTorch validates only the gradients that flow somewhere).
_NO_GRADIENT_WANTED = ()


class FunctionCtx(Node):
    """The backward node of a custom ``Function`` call, and the ``ctx`` its methods receive.

    Users keep anything on it (``ctx.k = k``), so it has a ``__dict__``. Gradients and saved
    tensors are Tensors here (the user's backward is ordinary Tensor code), wrapped and
    unwrapped at the boundary when the engine runs on raw arrays.

    ``_saved`` holds one entry per saved tensor: the Tensor itself (an input, or any tensor
    that is not a differentiable output), a ``_SavedOutput`` for a differentiable output, or
    None; ``_saved_versions`` holds their version counts when saved (None while every count is
    0). As in PyTorch the node has one output per forward output, tensor or not (the
    ``output_nr`` of the third of ``(t, 3, u)`` is 2); ``_non_tensor_outputs`` lists the
    positions that are not tensors, whose gradient is None.
    """

    _function = None  # the Function subclass, set on each generated node class
    checks_saved_on_read = True  # ``saved_tensors`` raises once released
    _non_tensor_outputs: tuple = ()
    # What forward gave ``save_for_forward``; ``saved_tensors`` returns it while ``jvp`` runs.
    _saved_for_forward: tuple = ()
    _in_jvp = False

    def __init__(self) -> None:
        self._hooks = None
        self._input_meta = None
        self._saved = ()  # what forward sees in saved_tensors, as in PyTorch
        self._saved_versions = None
        self._to_save = ()
        self._non_differentiable = ()
        self._dirty = ()
        self.materialize_grads = True
        self.needs_input_grad = ()

    # -- what forward calls (checked when apply returns, as in PyTorch)
    def save_for_backward(self, *tensors) -> None:
        self._to_save = tensors

    def save_for_forward(self, *tensors) -> None:
        if not all(tensor is None or isinstance(tensor, Tensor) for tensor in tensors):
            raise AssertionError(
                "save_for_forward expects all arguments to be tensors; you should save "
                "non-tensors as attributes on ctx."
            )
        self._saved_for_forward = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable = tensors

    def mark_dirty(self, *tensors) -> None:
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    @property
    def saved_tensors(self) -> tuple:
        if self._in_jvp:
            return self._saved_for_forward
        saved = self._saved
        if saved is None:
            raise RuntimeError(SAVED_RELEASED_MESSAGE)

        check = MODIFIED or self._saved_versions is not None
        tensors = []
        for position, entry in enumerate(saved):
            if type(entry) is SavedVariable:  # packed by hooks: unpacked at each read
                tensors.append(entry.unpack_tensor(self))
                continue
            if type(entry) is _SavedOutput:
                # An output is kept as its position and data: holding the output Tensor itself
                # would be a reference cycle (output -> this node -> output).
                output_nr, array = entry
                tensor = wrap(array, self if self.num_outputs == 1 else (self, output_nr))
            else:
                tensor = entry
                array = None if entry is None else entry._data
            if check and array is not None:
                self._check_version(position, entry, array)
            tensors.append(tensor)
        return tuple(tensors)

    def _check_version(self, position: int, entry, array) -> None:
        """PyTorch's error when a saved tensor was modified in place since it was saved."""
        now = versions.version(array)
        recorded = self._saved_versions
        was = 0 if recorded is None else recorded[position]
        if now == was:
            return
        # PyTorch names the op that made the tensor: this node for an output, else the
        # tensor's grad_fn now (the op that last wrote it, if recorded; none for a leaf).
        if type(entry) is _SavedOutput:
            producer, output_nr = self, entry[0]
        else:
            producer, output_nr = edge_parts(entry._edge)
        description = versions.tensor_text(array)
        if producer is not None and type(producer) is not AccumulateGrad:
            description += f", which is output {output_nr} of {versions.forward_name(producer)},"
        raise versions.modified_error(description, now, was)

    # -- what the engine calls
    @staticmethod
    def backward(ctx, *grads):
        recorded = bool(grads) and any(type(g) is Tensor for g in grads)
        as_tensors = tuple(g if g is None or type(g) is Tensor else wrap(g, NO_EDGE) for g in grads)
        if ctx._non_tensor_outputs:
            skipped = ctx._non_tensor_outputs
            as_tensors = tuple(
                None if position in skipped else grad for position, grad in enumerate(as_tensors)
            )
        function = ctx._function
        user_backward = function._vjp_function()
        if function.boxed_grads_call:  # one mutable list, so backward can drop each as used
            as_tensors = (list(as_tensors),)
        if recorded:
            results = user_backward(ctx, *as_tensors)
        else:  # a plain pass: the user's backward records nothing (the engine leaves grad mode)
            with no_grad():
                results = user_backward(ctx, *as_tensors)
        results = _check_function_gradients(ctx, results)
        if recorded:
            return results
        # The user's backward may return a view of a tensor it holds (``w.t()``): the engine
        # keeps a whole-array view as a leaf's .grad, so such a view is copied here.
        return tuple(
            None if r is None else (r._data if r._data.base is None else r._data.copy())
            for r in results
        )

    def run_recorded(self, grads: tuple):
        return self.backward(self, *grads)


class _SavedOnceCtx(FunctionCtx):
    """The node of a Function with ``clear_saved_tensors_on_access = True``: the first read of
    ``saved_tensors`` releases them (only the reader's references keep them alive); a second
    read raises PyTorch's error."""

    _saved_read = False

    @property
    def saved_tensors(self) -> tuple:
        if self._in_jvp:
            return self._saved_for_forward
        if self._saved_read:
            raise RuntimeError(
                "saved_tensors can only be accessed once when clear_saved_tensors_on_access=True "
                "is set on the autograd.Function. Either access saved_tensors only once, or set "
                "clear_saved_tensors_on_access=False."
            )
        tensors = FunctionCtx.saved_tensors.fget(self)
        self._saved_read = True
        self._saved = None
        return tensors


class _SavedOutput(tuple):
    """(output position, data) of a differentiable output a Function saved."""

    __slots__ = ()


def _type_name(value) -> str:
    """The name PyTorch's messages give a Python object's type (CPython's ``tp_name``):
    ``float``, ``numpy.ndarray``, or a class's own name when it is defined in Python."""
    cls = type(value)
    if cls.__flags__ & _HEAP_TYPE or cls.__module__ == "builtins":
        return cls.__name__
    return f"{cls.__module__}.{cls.__name__}"


_HEAP_TYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class created by a class statement


def _check_function_gradients(ctx, results) -> tuple:
    """PyTorch's checks of what a Function's backward returned; one gradient per tensor input.

    First the count (extra trailing Nones are dropped) and the kind of each value, then the
    shape and dtype of the gradients of the inputs that require grad, in PyTorch's order, so
    that the same error comes first. A gradient that broadcasts to its input is summed back
    to the input's shape, one of another dtype is cast to the input's.
    """
    if not isinstance(results, tuple):
        results = (results,)
    name = type(ctx).__name__
    metas = ctx._argument_meta
    expected = len(metas)
    if len(results) > expected and all(extra is None for extra in results[expected:]):
        results = results[:expected]
    if len(results) != expected:
        raise RuntimeError(
            f"function {name} returned an incorrect number of gradients "
            f"(expected {expected}, got {len(results)})"
        )
    for position, (meta, result) in enumerate(zip(metas, results)):
        if meta is None:  # not a tensor argument
            if result is not None:
                raise RuntimeError(
                    f"function {name} returned a gradient different than None at position "
                    f"{position + 1}, but the corresponding forward input was not a Variable"
                )
        elif result is not None and not isinstance(result, Tensor):
            raise RuntimeError(f"expected Variable or None (got {_type_name(result)})")
    gradients = []
    for meta, result in zip(metas, results):
        if meta is None:
            continue
        index = len(gradients)  # PyTorch counts the tensor inputs only
        if result is None or meta is _NO_GRADIENT_WANTED:
            gradients.append(None)
            continue
        shape, dtype = meta
        if tuple(result.shape) != shape:
            if not _broadcasts_to(shape, tuple(result.shape)):
                raise RuntimeError(
                    f"Function {name} returned an invalid gradient at index {index} - got "
                    f"{list(result.shape)} but expected shape compatible with {list(shape)}"
                )

            result = sum_to(result, shape)
        if result._data.dtype != dtype:
            result = result.to(from_numpy_dtype(dtype))  # PyTorch casts to the input's
        gradients.append(result)
    return tuple(gradients)


def _broadcasts_to(shape: tuple, grad_shape: tuple) -> bool:
    """Whether ``shape`` expands to ``grad_shape`` (then the gradient is summed back)."""
    if len(shape) > len(grad_shape):
        return False
    for size, grad_size in zip(reversed(shape), reversed(grad_shape)):
        if size != 1 and size != grad_size:
            return False
    return True


class Function:
    """A custom differentiable operation, as ``torch.autograd.Function``.

    Subclass it with static ``forward`` and ``backward(ctx, *grad_outputs)`` and call
    ``MyFunction.apply(*args)``. Either ``forward(ctx, *args)`` sets up ``ctx`` itself, or
    ``forward(*args)`` computes and a static ``setup_context(ctx, inputs, output)`` sets up
    ``ctx`` (PyTorch 2's separate style; ``apply`` then binds the arguments to forward's
    signature, defaults included, and ``inputs`` is that tuple). ``forward`` runs under no_grad
    on Tensors; ``backward`` (or its alias ``vjp``) returns one gradient per forward argument
    (``None`` for non-tensors) and may use any Tensor ops, so it can itself be differentiated
    (``create_graph=True``; see ``once_differentiable`` for a backward that cannot). The node is
    ``<Name>Backward``. A forward that modifies an input in place says so with
    ``ctx.mark_dirty(input)`` and returns it: that tensor object becomes the output. Forward
    AD calls the static ``jvp(ctx, *tangents)`` (autograd/function_forward_ad.py); under
    ``gradienti.func.vmap``, ``generate_vmap_rule`` or a static ``vmap(info, in_dims, *args)``
    says how it batches (autograd/function_vmap.py).
    """

    # Class options, as PyTorch's: ``backward`` receives its gradients as one list that it may
    # empty as it goes; ``ctx.saved_tensors`` can be read once, and then lets the tensors go.
    boxed_grads_call = False
    clear_saved_tensors_on_access = False
    # Whether ``gradienti.func.vmap`` may run forward and backward on batched tensors as they
    # are (instead of a ``vmap`` staticmethod).
    generate_vmap_rule = False

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        base = _SavedOnceCtx if cls.clear_saved_tensors_on_access else FunctionCtx
        cls._backward_cls = type(f"{cls.__name__}Backward", (base,), {"_function": cls})

    def __init__(self, *args, **kwargs) -> None:
        warnings.warn(
            f"{type(self)} should not be instantiated. Methods on autograd functions are all "
            "static, so you should invoke them on the class itself. Instantiating an autograd "
            "function will raise an error in a future version of PyTorch.",
            DeprecationWarning,
            stacklevel=2,
        )

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use "
            "new-style autograd function with static forward method. (Example: "
            "https://pytorch.org/docs/stable/autograd.html#torch.autograd.Function)"
        )

    @staticmethod
    def forward(*args, **kwargs):
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward  # the same method under its other name: define one of the two

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError(
            "You must implement the jvp function for custom autograd.Function to use it with "
            "forward mode AD."
        )

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError(
            "To use autograd.Function with vmap, you must either override the vmap "
            "staticmethod or set generate_vmap_rule=True."
        )

    @classmethod
    def _vjp_function(cls):
        """The user's backward formula: ``backward`` or ``vjp``, not both (PyTorch's error)."""
        backward, vjp = cls.backward, cls.vjp
        if vjp is Function.vjp:
            return backward
        if backward is not Function.backward:
            raise RuntimeError(
                "Implementing both 'backward' and 'vjp' for a custom Function is not allowed. "
                "You should only implement one of them."
            )
        return vjp

    @classmethod
    def apply(cls, *args, **kwargs):
        separate = cls.setup_context is not Function.setup_context
        if separate:
            args, kwargs = bound_arguments(cls.forward, args, kwargs)
        if kwargs:
            args = positional_arguments(cls.forward, args, kwargs, not separate)
        if batching.ACTIVE.levels:  # under vmap: PyTorch's rules (autograd/function_vmap.py)
            outputs = routed(cls, args, separate, cls.vmap is not Function.vmap)
            if outputs is not RUN_AS_IS:
                return outputs
        ctx = cls._backward_cls()
        ctx.needs_input_grad = tuple(
            isinstance(argument, Tensor) and argument._edge is not None for argument in args
        )
        previous = grad_state.enabled
        grad_state.enabled = False
        dual = MODES.special != 0 and FORWARD.token is not None  # (the count first: a plain read)
        try:
            if not dual:
                outputs = run_forward(cls, ctx, args, separate)
            else:
                with suspended():  # forward's ops compute no tangents: jvp gives them
                    outputs = run_forward(cls, ctx, args, separate)
        finally:
            grad_state.enabled = previous
        recording = previous and any(ctx.needs_input_grad)
        single = not isinstance(outputs, tuple)
        items = (outputs,) if single else outputs
        dirty = _checked_marks(ctx, args, items, recording)
        for tensor in dirty:  # PyTorch counts the forward's in-place change once more
            versions.bump(tensor._as_array(), by=ctx if recording else None)
        tangents = None
        if dual:
            tangents = compute_output_tangents(ctx, cls, args, items, dirty)
        if ctx._saved_for_forward:
            ctx._saved_for_forward = ()  # only jvp reads them, as in PyTorch
        if not recording and PROVENANCE.active:
            # Why the outputs have no graph (error hints): the Function's inputs, not the
            # no_grad() its forward always runs under (what its own ops recorded).
            note_op(ctx, args, tuple(item for item in items if isinstance(item, Tensor)))
        if recording:
            results = _record(ctx, args, items, dirty)
        elif any(isinstance(item, Tensor) and _is_argument(item, args) for item in items):
            results = _unrecorded(args, items, dirty)
        elif tangents is None:
            return outputs
        else:
            results = items
        if tangents is not None:
            set_tangents(results, tangents)
        return results[0] if single else tuple(results)


def _is_argument(tensor, args: tuple) -> bool:
    return any(tensor is argument for argument in args)


def _unrecorded(args: tuple, items: tuple, dirty: list) -> list:
    """The outputs when no graph is recorded: an input returned as is (not modified in place)
    is a new tensor on its data, as PyTorch's view of it."""
    return [
        wrap(item._data, NO_EDGE)
        if isinstance(item, Tensor) and _is_argument(item, args) and not _is_argument(item, dirty)
        else item
        for item in items
    ]


def _checked_marks(ctx, args: tuple, items: tuple, recording: bool) -> list:
    """PyTorch's checks of what forward passed to ``mark_non_differentiable``, ``mark_dirty``
    and (when a graph is recorded) ``save_for_backward``; the dirty tensors, each once."""
    # Both texts end where PyTorch 2.13's do.
    if not all(isinstance(tensor, Tensor) for tensor in ctx._non_differentiable):
        raise RuntimeError("mark_non_differentiable only accepts variable arguments, but got ")
    dirty = []
    for tensor in ctx._dirty:
        if not isinstance(tensor, Tensor):
            raise RuntimeError("mark_dirty can only accept variables, but argument ")
        if not any(tensor is seen for seen in dirty):
            dirty.append(tensor)
    if not all(any(tensor is item for item in items) for tensor in dirty):
        raise RuntimeError(
            "Some elements marked as dirty during the forward method were not returned as "
            "output. The inputs that are modified inplace must all be outputs of the Function."
        )
    if not recording:
        return dirty
    dirty_inputs = [tensor for tensor in dirty if any(tensor is argument for argument in args)]
    for tensor in dirty_inputs:
        _refuse_dirty_leaf_or_view(tensor)
    for position, tensor in enumerate(ctx._to_save):
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                "save_for_backward can only save variables, but argument "
                f"{position} is of type {_type_name(tensor)}"
            )
    if len(dirty_inputs) != len(dirty):
        warnings.warn(
            "ctx.mark_dirty() received a tensor that was not an input. Only input Tensors "
            "that have been mutated should be passed to ctx.mark_dirty().",
            UserWarning,
            stacklevel=3,
        )
    return dirty


def _refuse_dirty_leaf_or_view(tensor) -> None:
    """An input modified in place by a recorded Function: not a leaf that requires grad, and
    not (yet) a view of a tensor that requires grad, as for the built-in in-place ops."""
    node = edge_parts(tensor._edge)[0]
    if node is None:
        return
    if type(node) is AccumulateGrad:
        raise RuntimeError(
            "a leaf Variable that requires grad has been used in an in-place operation."
        )

    _refuse_in_place_on_leaf_or_view(node)


def _record(ctx, args: tuple, items: tuple, dirty: list) -> list:
    """Make ``ctx`` the grad_fn of the tensor outputs and keep what backward needs."""
    ctx._argument_meta = tuple(_argument_meta(argument) for argument in args)
    ctx._next = tuple(argument._edge for argument in args if isinstance(argument, Tensor))
    ctx._sole = None  # not compact (graph/node.py): the engine reads _sole first
    ctx._seq = next_sequence_number()
    ctx.num_outputs = len(items)
    ctx.output_meta = tuple(
        (item._data.shape, item._data.dtype) if isinstance(item, Tensor) else _NOT_A_TENSOR_OUTPUT
        for item in items
    )
    non_tensor = tuple(
        position for position, item in enumerate(items) if not isinstance(item, Tensor)
    )
    if non_tensor:
        ctx._non_tensor_outputs = non_tensor
    results = []
    for position, item in enumerate(items):
        if isinstance(item, Tensor):
            edge = ctx if len(items) == 1 else (ctx, position)
            if any(item is marked for marked in ctx._non_differentiable):
                edge = NO_EDGE
            if any(item is tensor for tensor in dirty):
                item._edge = edge  # modified in place: the input itself becomes the output
            elif any(item is argument for argument in args):
                item = wrap(item._data, edge)  # an input returned as is: a new tensor
            else:
                item._edge = edge
        results.append(item)
    ctx._saved = saved = tuple(_saved_entry(tensor, results) for tensor in ctx._to_save)
    if MODIFIED:
        ctx._saved_versions = tuple(versions.version(_saved_array(entry)) for entry in saved)
    if MODES.special:
        if ANOMALY.enabled:
            set_special_entry(ctx, "trace", forward_trace())
        hooks = current_hooks()
        if hooks is not None:  # saved-tensor hooks: one pack call per saved tensor
            ctx._saved = pack_function_saved(saved, results, hooks)
    ctx._to_save = ctx._non_differentiable = ctx._dirty = ()
    return results


def _argument_meta(argument):
    """What the gradient for ``argument`` is checked against (see _check_function_gradients)."""
    if not isinstance(argument, Tensor):
        return None
    if argument._edge is None:
        return _NO_GRADIENT_WANTED
    return (tuple(argument._data.shape), argument._data.dtype)


def _saved_entry(tensor, outputs: list):
    """How ``saved_tensors`` keeps ``tensor``: a differentiable output as a ``_SavedOutput``
    (its memory, as a 0-d array rather than an immutable NumPy scalar, so that an in-place
    change of the output is seen), anything else as itself."""
    for position, output in enumerate(outputs):
        if tensor is output and tensor._edge is not None:
            return _SavedOutput((position, output._as_array()))
    return tensor


def _saved_array(entry):
    if entry is None:
        return None
    return entry[1] if type(entry) is _SavedOutput else entry._data
