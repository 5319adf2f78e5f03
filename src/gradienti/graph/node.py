"""Graph nodes: Node, AccumulateGrad, and Op, the base of every built-in differentiable op.

The graph mirrors PyTorch's. A Tensor does not point at its inputs; its ``grad_fn`` (a Node)
points at the nodes of its inputs through ``next_functions``, a tuple of ``(node, output_nr)``,
one per forward input: ``(None, 0)`` for a constant, an ``AccumulateGrad`` for a leaf that
requires grad. So an intermediate array dies as soon as no node saves it, and there are no
reference cycles (an AccumulateGrad refers to its leaf weakly).

Internally an edge is stored compactly: the node itself when the node has one output (nearly
every edge), ``(node, output_nr)`` for any output of a multi-output node, ``None`` for no
gradient. So the engine knows from the edge alone whether a node has one gradient buffer.
A deep graph then holds one Python object fewer per op, which is what Python's cyclic garbage
collector spends its time walking.

A node whose first input is its only one that can carry a gradient (a one-input op, or
``x * 2``) is *compact*: it keeps that edge in ``_sole`` and makes no ``_next`` tuple until
something reads ``_next`` (``Node.__getattr__`` builds it then, once). That tuple would hold a
node, so the collector would track it for the graph's whole life: without it a scalar chain
holds one tracked object per op instead of two, and the full collections that a growing graph
triggers come half as often and walk half as much.

An op's VJP is written once, with operators and ``xp`` functions that exist for raw arrays and
for Tensors alike. The engine runs it on raw arrays when no graph of the backward pass is
wanted (fast), and on Tensors when ``create_graph=True`` (so the VJP itself is recorded and
higher derivatives need nothing extra). ``saved_tensors`` hands out whichever the engine asks for
(autograd/schedule.py's ``run_recorded`` turns the saved arrays into Tensors for that).
"""

from __future__ import annotations

import weakref
from itertools import count

from ..beginner_hints import BACKWARD_TWICE_HINT, with_hint

# Creation order of nodes: every consumer of a node is created after it, so running nodes in
# decreasing order is a topological order (the engine's schedule).
next_sequence_number = count().__next__

# The edge of a tensor that does not require grad.
NO_EDGE = None


def edge_parts(edge) -> tuple:
    """An internal edge as PyTorch's ``(node, output_nr)`` pair."""
    if edge is None:
        return (None, 0)
    return edge if type(edge) is tuple else (edge, 0)


# PyTorch's text, then what retain_graph=True is for and the usual real cause (a hint).
SAVED_RELEASED_MESSAGE = with_hint(
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed when "
    "you call .backward() or autograd.grad(). Specify retain_graph=True if you need to backward "
    "through the graph a second time or if you need to access saved tensors after calling "
    "backward.",
    BACKWARD_TWICE_HINT,
)


class RemovableHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook (twice is harmless)."""

    __slots__ = ("_hooks", "_key")

    def __init__(self, hooks: dict, key: int) -> None:
        self._hooks = hooks
        self._key = key

    @property
    def id(self) -> int:
        """The hook's key in its dict (PyTorch's ``RemovableHandle.id``)."""
        return self._key

    def remove(self) -> None:
        self._hooks.pop(self._key, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()


class NodeHooks:
    """The hooks of one node. Rare, so they live outside the node's hot slots.

    ``tensor_hooks[output_nr]``: hooks registered on the tensor that is that output (for a leaf,
    on its AccumulateGrad). ``retained[output_nr]``: a weak reference to a non-leaf tensor whose
    ``.grad`` is kept (``retain_grad``); it runs after the tensor hooks, as in PyTorch.
    ``pre``/``post``: hooks registered on the node itself. ``post_accumulate``: on an
    AccumulateGrad, the leaf's ``register_post_accumulate_grad_hook`` hooks (run, as the ``post``
    hooks of an AccumulateGrad, once its ``.grad`` is written: autograd/leaves.py).
    """

    __slots__ = ("tensor_hooks", "retained", "pre", "post", "post_accumulate")

    _next_key = 0

    def __init__(self) -> None:
        self.tensor_hooks: dict[int, dict[int, object]] = {}
        self.retained: dict[int, weakref.ref] = {}
        self.pre: dict[int, object] = {}
        self.post: dict[int, object] = {}
        self.post_accumulate: dict[int, object] = {}

    @classmethod
    def new_key(cls) -> int:
        cls._next_key += 1
        return cls._next_key


# The ``_hooks`` of a node that has no hooks but whose gradients the engine must conform to its
# inputs' shapes and dtypes (``_input_meta``): not None, so that the engine needs one test per
# node, ``_hooks is not None``, for everything beyond calling the VJP. Shared, never mutated.
CONFORM_ONLY = NodeHooks()


class Node:
    """A backward function: the gradient of one forward op with respect to its inputs.

    Slots: ``_next`` (the compact edges to the inputs' nodes), ``_sole`` (a compact node's one
    edge, see the module's docstring; None otherwise), ``_saved`` (the raw arrays the VJP
    needs; ``None`` once released), ``_input_meta`` (``None`` unless an input's shape or dtype
    differs from the output's: then ``(shape, dtype)`` per input, used by the engine to undo
    broadcasting and promotion in one place) and ``_hooks`` (``None``, ``CONFORM_ONLY`` when
    there is ``_input_meta`` but no hook, or the node's ``NodeHooks``). ``_special``: set only by
    the special modes (unset otherwise: one slot, so that a plain node is no bigger), a dict of
    what they keep (``special_entry``): ``"tangents"``, the forward-AD tangents of the saved
    values, so that a backward pass run under a dual level carries them (forward over reverse);
    ``"trace"``, under anomaly detection, the stack of the forward call.
    """

    __slots__ = (
        "_next",
        "_sole",
        "_saved",
        "_input_meta",
        "_hooks",
        "_seq",
        "_versions",
        "_special",
    )

    num_outputs = 1
    # Whether the output is a view of the (first) input: in-place ops treat it as its base.
    is_view = False
    # For the views a custom Function makes (an input returned as is), the Function's name:
    # PyTorch refuses to modify such a view in place.
    view_function_name = None
    # Whether reading the saved values raises once they are released (a custom Function's
    # ``ctx.saved_tensors``): then the engine lets a released node run again, as PyTorch
    # does when its backward reads nothing it saved.
    checks_saved_on_read = False
    # The inputs after the first that a compact node's op has, all constants: its ``_next`` is
    # ``(_sole,) + compact_tail``. ``(None,)`` for a two-input op recorded compact (``x * 2``).
    compact_tail = ()

    def __getattr__(self, name: str):
        # Called only for a slot that is unset. A compact node's ``_next`` is made on the first
        # read and kept; a node made without a recorder (a custom Function's) has no ``_sole``:
        # it is not compact.
        if name == "_next":
            try:
                sole = object.__getattribute__(self, "_sole")
            except AttributeError:
                sole = None
            if sole is not None:
                edges = self._next = (sole,) + self.compact_tail
                return edges
        elif name == "_sole":
            self._sole = None
            return None
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def name(self) -> str:
        return type(self).__name__

    @property
    def next_functions(self) -> tuple:
        return tuple(edge_parts(edge) for edge in self._next)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {id(self):#x}>"

    # -- hooks on the node itself (PyTorch's grad_fn.register_hook / register_prehook) --
    def _node_hooks(self) -> NodeHooks:
        hooks = self._hooks
        if hooks is None or hooks is CONFORM_ONLY:
            hooks = self._hooks = NodeHooks()
        return hooks

    def register_hook(self, fn) -> RemovableHandle:
        """``fn(grad_inputs, grad_outputs)`` runs after this node; it may return new grad_inputs."""
        post = self._node_hooks().post
        key = NodeHooks.new_key()
        post[key] = fn
        return RemovableHandle(post, key)

    def register_prehook(self, fn) -> RemovableHandle:
        """``fn(grad_outputs)`` runs before this node; it may return new grad_outputs."""
        pre = self._node_hooks().pre
        key = NodeHooks.new_key()
        pre[key] = fn
        return RemovableHandle(pre, key)


def special_entry(node, key: str):
    """What a special mode kept on ``node`` under ``key`` (see Node), or None."""
    record = getattr(node, "_special", None)
    return None if record is None else record.get(key)


def set_special_entry(node, key: str, value) -> None:
    record = getattr(node, "_special", None)
    if record is None:
        node._special = record = {}
    record[key] = value


class AccumulateGrad(Node):
    """The node of a leaf that requires grad: it adds the incoming gradient to ``leaf.grad``."""

    __slots__ = ("_variable",)

    # Whether any AccumulateGrad ever got a hook that runs after its ``.grad`` is written (a node
    # post-hook, a post-accumulate-grad hook of its leaf): until then, writing the leaves'
    # gradients looks at no leaf's hooks (autograd/leaves.commit_all).
    hooked_after_accumulation = False

    def __init__(self, variable) -> None:
        self._next = ()
        self._sole = None
        self._saved = ()
        self._input_meta = None
        self._hooks = None
        self._seq = next_sequence_number()
        # Weak, so that leaf -> its edge -> this node -> leaf is not a reference cycle.
        self._variable = weakref.ref(variable)

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    @property
    def variable(self):
        return self._variable()

    def register_hook(self, fn) -> RemovableHandle:
        """``fn((), (grad,))`` runs once the leaf's ``.grad`` is written; it may return None
        or ``()`` (an AccumulateGrad passes no gradient on)."""
        AccumulateGrad.hooked_after_accumulation = True
        return Node.register_hook(self, fn)

    def post_accumulate_hooks(self) -> dict:
        """The leaf's post-accumulate-grad hooks, to register one in."""
        AccumulateGrad.hooked_after_accumulation = True
        return self._node_hooks().post_accumulate


# What an op's backward needs, declared beside it: nothing, its inputs, its output, or both.
SAVE_NOTHING, SAVE_INPUTS, SAVE_OUTPUT, SAVE_BOTH = 0, 1, 2, 3


class Op(Node):
    """Base of the built-in ops: a static ``forward`` on arrays and a static ``backward`` (VJP).

    ``forward(ctx, *arrays)`` computes the output array; static parameters (an exponent, a
    dimension) are kept on ``ctx`` in the subclass's slots. An op whose forward is one array
    function of its inputs names it in ``function`` instead (``function = operator.add``): the
    op then runs without a Python frame of its own, which is most of an elementwise op's cost
    on small tensors.
    ``backward(ctx, grad)`` returns one gradient per input (``None`` for an input that gets
    none), or a bare value: the gradient of the first input, the others getting none (a
    one-input op; a two-input op whose second input is a constant). The bare form takes the
    engine's short path, which is most of the backward time of a scalar graph.
    ``save`` says what ``ctx.saved_tensors`` holds: the inputs in order, then the output.
    """

    __slots__ = ()

    save = SAVE_NOTHING
    function = None
    # Whether an integral input is first converted to the default float dtype (exp, log, ...).
    promotes_integers = False
    # Two-input ops that keep an input only for the other input's gradient (see ops/apply.py).
    lean_inputs = 0
    # The forward-mode derivative: ``jvp(ctx, primals, out, tangents)`` returns the output's
    # tangent (see ops/forward_tangents.py); None: the op has none (forward AD through it
    # raises PyTorch's NotImplementedError).
    jvp = None

    @staticmethod
    def forward(ctx, *arrays):
        return ctx.function(*arrays)

    @property
    def saved_tensors(self) -> tuple:
        """What the VJP needs: raw arrays, or Tensors while the engine records the backward
        pass (see autograd/schedule.py's ``run_recorded``). The hot VJPs read ``ctx._saved``
        directly, which the engine has checked is not released (a property call is a Python
        frame per node)."""
        saved = self._saved
        if saved is None:
            raise RuntimeError(SAVED_RELEASED_MESSAGE)
        return saved

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(edge is not None for edge in self._next)
