"""``torch.compile``: ``compile`` hands back a callable that traces the model or function on
its first call per signature and replays the recorded ops as one generated forward and one
backward function of arrays afterwards (gradienti/compiler/: the same values and gradients
as eager, bit for bit, without the per-op bookkeeping); where the function reads a tensor's
value into Python or does what a trace cannot replay, it runs eagerly (one warning names the
line; ``fullgraph=True`` raises instead).

Its shape is PyTorch's, so that code written for ``torch.compile`` runs unchanged: a Module
comes back wrapped in an ``OptimizedModule`` (its state_dict keys start with ``_orig_mod.``,
as PyTorch's do), a function as a function of the same name; ``@compile`` and
``@compile(mode=...)`` decorate; ``disable=True`` returns the model itself.
"""

from __future__ import annotations

import functools

from .compiler.compiled import CompiledState
from .nn.module import Module

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


class OptimizedModule(Module):
    """What ``compile(module)`` returns: it runs ``_orig_mod`` through its compiled call
    (traced per signature: arguments, grad mode, the modules' ``training`` and their
    parameters' identities), and its attributes are the original module's: read, set and
    deleted there (as PyTorch's, so that ``compiled.flag = x`` changes what the model runs
    with)."""

    # The wrapper's own attributes; any other attribute lives on the original module.
    _OWN_ATTRIBUTES = frozenset({"_orig_mod", "forward", "__dict__"})

    def __init__(self, module: Module, fullgraph: bool = False) -> None:
        super().__init__()
        self._orig_mod = module
        name = type(module).__name__
        self.__dict__["_gradienti_compiled"] = CompiledState(module, name, fullgraph, module)
        self.__dict__["_wrapping"] = True  # from here on, attributes go to _orig_mod

    @property
    def training(self) -> bool:
        return self._orig_mod.training

    @training.setter
    def training(self, mode: bool) -> None:
        if "_orig_mod" in self.__dict__.get("_modules", {}):  # (not Module.__init__'s)
            self._orig_mod.training = mode

    def _is_own(self, name: str) -> bool:
        return (
            "_wrapping" not in self.__dict__
            or hasattr(type(self), name)  # a class attribute may be patched over here
            or name in self._OWN_ATTRIBUTES
        )

    def __setattr__(self, name: str, value) -> None:
        if self._is_own(name):
            super().__setattr__(name, value)
        else:
            setattr(self._orig_mod, name, value)

    def __delattr__(self, name: str) -> None:
        if self._is_own(name):
            super().__delattr__(name)
        else:
            delattr(self._orig_mod, name)

    def __dir__(self):
        inner = self._orig_mod.__dir__()
        return inner + [name for name in super().__dir__() if name not in inner]

    def forward(self, *args, **kwargs):
        return self.__dict__["_gradienti_compiled"](*args, **kwargs)

    def __getattr__(self, name: str):
        try:
            return super().__getattr__(name)
        except AttributeError:
            modules = self.__dict__.get("_modules")
            if not modules or "_orig_mod" not in modules:
                raise
            return getattr(modules["_orig_mod"], name)


def compile(  # noqa: A001 - PyTorch's name
    model=None,
    *,
    fullgraph: bool = False,
    dynamic=None,
    backend="inductor",
    mode=None,
    options=None,
    disable: bool = False,
    **kwargs,
):
    """``model`` compiled: a Module comes back as an ``OptimizedModule`` around it, a function
    as a function of the same name; without ``model``, a decorator. ``fullgraph=True``: a
    graph break raises ``gradienti.compiler.GraphBreakError`` instead of running eagerly.
    ``dynamic``, ``backend`` and the mode or options are accepted and checked: there is one
    compiled path (see gradienti/compiler/)."""
    if mode is not None and options is not None:
        raise RuntimeError(
            "Either mode or options can be specified, but both can't be specified at the same time."
        )
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if model is None:
        return functools.partial(
            compile,
            fullgraph=fullgraph,
            dynamic=dynamic,
            backend=backend,
            mode=mode,
            options=options,
            disable=disable,
            **kwargs,
        )
    if not callable(model):
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    if disable:
        return model
    if isinstance(model, Module):
        return OptimizedModule(model, fullgraph)
    return _compiled_function(model, fullgraph)


def compile_in_place(self: Module, *args, **kwargs) -> None:
    """``Module.compile(...)``: PyTorch compiles the module's own call in place (its
    state_dict keys stay); here it checks the arguments as ``compile`` does and changes
    nothing: the module keeps running eagerly (``compile(module)`` compiles it)."""
    compile(self.__call__, *args, **kwargs)


def _compiled_function(function, fullgraph: bool):
    name = getattr(function, "__name__", type(function).__name__)
    state = CompiledState(function, name, fullgraph)
    call = state.call  # (the arguments as packed here: no second packing)

    @functools.wraps(function)
    def compiled(*args, **kwargs):
        return call(args, kwargs)

    compiled._gradienti_compiled = state
    return compiled
