"""``torch.compile``: gradienti has no compiled path yet, so ``compile`` hands back a callable
that runs the model or function eagerly (the same results, at eager speed) and says so once.

Its shape is PyTorch's, so that code written for ``torch.compile`` runs unchanged: a Module
comes back wrapped in an ``OptimizedModule`` (its state_dict keys start with ``_orig_mod.``,
as PyTorch's do), a function as a function of the same name; ``@compile`` and
``@compile(mode=...)`` decorate; ``disable=True`` returns the model itself.
"""

from __future__ import annotations

import functools
import warnings

from .nn.module import Module

EAGER_NOTE = (
    "gradienti.compile: there is no compiled path yet, so the model runs eagerly "
    "(the same results as without compile, at eager speed)."
)
_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")
_noted = False


def _note_once() -> None:
    """The one-time UserWarning that compile compiles nothing (once per process)."""
    global _noted
    if not _noted:
        _noted = True
        warnings.warn(EAGER_NOTE, UserWarning, stacklevel=3)


class OptimizedModule(Module):
    """What ``compile(module)`` returns: it runs ``_orig_mod`` eagerly (gradienti compiles
    nothing yet), and its attributes are the original module's: read, set and deleted there
    (as PyTorch's, so that ``compiled.flag = x`` changes what the model runs with)."""

    # The wrapper's own attributes; any other attribute lives on the original module.
    _OWN_ATTRIBUTES = frozenset({"_orig_mod", "forward", "__dict__"})

    def __init__(self, module: Module) -> None:
        super().__init__()
        self._orig_mod = module
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
        return self._orig_mod(*args, **kwargs)

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
    """Returns ``model`` to be run eagerly (gradienti has no compiled path yet: the result is
    the same callable's, at eager speed, and a one-time UserWarning says so). A Module comes
    back as an ``OptimizedModule`` around it, a function as a function; without ``model``,
    a decorator."""
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
    _note_once()
    if isinstance(model, Module):
        return OptimizedModule(model)
    return _eager_function(model)


def compile_in_place(self: Module, *args, **kwargs) -> None:
    """``Module.compile(...)``: PyTorch compiles the module's own call in place (its
    state_dict keys stay); here it checks the arguments as ``compile`` does, says once that
    the model runs eagerly, and changes nothing."""
    compile(self.__call__, *args, **kwargs)


def _eager_function(function):
    @functools.wraps(function)
    def run_eagerly(*args, **kwargs):
        return function(*args, **kwargs)

    note = "(gradienti.compile: runs eagerly; there is no compiled path yet.)"
    doc = function.__doc__
    run_eagerly.__doc__ = note if not doc else f"{doc}\n\n{note}"
    return run_eagerly
