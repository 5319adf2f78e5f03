"""How ``Function.apply`` calls the user's ``forward``: PyTorch's two styles, its arguments.

Combined: ``forward(ctx, *args)`` computes and sets up ``ctx`` (saves tensors, marks outputs).
Separate (PyTorch 2): ``forward(*args)`` only computes, and ``setup_context(ctx, inputs,
output)`` sets up ``ctx`` from the inputs and whatever forward returned; ``apply`` first binds
the arguments to forward's signature with its defaults, as PyTorch's ``bind_default_args``, so
``inputs`` holds every positional parameter. Mixing the styles wrongly fails where it fails in
PyTorch: with Python's own TypeError from the call or the binding (a ``forward(ctx, x)``
beside a ``setup_context`` misses ``x``; a ``forward(x)`` without one is given ``ctx`` too).

Keyword arguments reach forward as PyTorch 2.13's ``apply`` passes them: each is put in the
place of forward's positional parameter of that name (then it is an input like any other:
a tensor there is differentiated), and one that names no positional parameter (a keyword-only
one included), names a place already taken, or leaves a gap before it, is refused with
PyTorch's TypeError.
"""

from __future__ import annotations

import functools
import inspect


def run_forward(cls, ctx, args: tuple, separate: bool):
    """``forward(ctx, *args)``, or ``forward(*args)`` then ``setup_context(ctx, args, output)``."""
    if not separate:
        return cls.forward(ctx, *args)
    output = cls.forward(*args)
    cls.setup_context(ctx, args, output)
    return output


@functools.lru_cache(maxsize=512)
def _signature(forward) -> inspect.Signature:
    return inspect.signature(forward)


def bound_arguments(forward, args: tuple, kwargs: dict) -> tuple:
    """(args, kwargs) as forward's signature binds them, defaults filled in: a keyword argument
    that can be positional becomes positional, so setup_context and the graph see it."""
    bound = _signature(forward).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.args, bound.kwargs


@functools.lru_cache(maxsize=512)
def _positional_names(forward, takes_ctx: bool) -> tuple:
    parameters = inspect.signature(forward).parameters.values()
    names = tuple(
        parameter.name
        for parameter in parameters
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
    )
    return names[1:] if takes_ctx else names


def positional_arguments(forward, args: tuple, kwargs: dict, takes_ctx: bool) -> tuple:
    """``args`` with each keyword argument put in its parameter's place (module docstring)."""
    names = _positional_names(forward, takes_ctx)
    slots = dict(enumerate(args))
    for name, value in kwargs.items():
        if name not in names:
            raise TypeError(f"forward() got an unexpected keyword argument '{name}'")
        position = names.index(name)
        if position in slots:
            raise TypeError(f"forward() got multiple values for argument '{name}'")
        slots[position] = value
    for position in range(max(slots) + 1):
        if position not in slots:
            raise TypeError(
                f"forward() missing required argument: '{names[position]}' (position {position})"
            )
    return tuple(slots[position] for position in range(len(slots)))
