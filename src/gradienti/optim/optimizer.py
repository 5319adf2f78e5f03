"""Optimizer: the base class of gradienti.optim, with PyTorch's param groups and state_dict,
the per-parameter loop and the constructor-argument checks that the optimizers share (the
array-level steps of their update rules are in ``_single_tensor.py``).
"""

from __future__ import annotations

import copy
import functools
import warnings
from collections import defaultdict
from itertools import chain
from typing import Any, ClassVar

from ..backend import xp
from ..graph.grad_mode import enable_grad, no_grad
from ..tensor import Tensor, wrap
from ._single_tensor import _array


class _RequiredParameter:
    """Singleton class representing a required parameter for an Optimizer."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


# The flags that Adadelta, Adamax, ASGD and Rprop give a group loaded from a state saved without
# them (their __setstate__ in PyTorch, in its order).
_FLAGS_DEFAULTS_FOR_OLD_STATE = {
    "foreach": None,
    "maximize": False,
    "differentiable": False,
    "capturable": False,
}


def _check_lr(lr) -> None:
    """PyTorch's check of ``lr``, a number or a one-element tensor."""
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not lr >= 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_non_negative(value, what: str) -> None:
    """PyTorch's ``if not value >= 0.0`` argument check (a NaN fails it too)."""
    if not value >= 0.0:
        raise ValueError(f"Invalid {what}: {value}")


def _check_betas(betas) -> None:
    for index in (0, 1):
        if not 0.0 <= betas[index] < 1.0:
            raise ValueError(f"Invalid beta parameter at index {index}: {betas[index]}")


def _check_adam_arguments(lr, eps, betas, weight_decay) -> None:
    """The checks PyTorch's Adam family (Adamax, NAdam, RAdam) makes, in its order."""
    _check_lr(lr)
    _check_non_negative(eps, "epsilon value")
    _check_betas(betas)
    _check_non_negative(weight_decay, "weight_decay value")


def _typename(obj) -> str:
    if isinstance(obj, Tensor):
        return obj.type()
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module in ("builtins", None) else f"{module}.{name}"


class Optimizer:
    """Base class for all optimizers (PyTorch's ``torch.optim.Optimizer``)."""

    # The group options a state saved before they existed lacks, with the values they get on
    # loading (``__setstate__``), in the order PyTorch's ``__setstate__`` of the class sets them.
    _defaults_for_old_state: ClassVar[dict[str, Any]] = {}

    def __init__(self, params, defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be "
                "an iterable of Tensors or dicts, but got " + _typename(params)
            )
        self.state: defaultdict[Tensor, Any] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    def __getstate__(self) -> dict[str, Any]:
        return {
            "defaults": self.defaults,
            "state": self.state,
            "param_groups": self.param_groups,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for group in self.param_groups:
            for name, default in self._defaults_for_old_state.items():
                group.setdefault(name, default)

    def __repr__(self) -> str:
        format_string = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            format_string += "\n"
            format_string += f"Parameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    format_string += f"    {key}: {group[key]}\n"
        format_string += ")"
        return format_string

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but "
                "the ordering of tensors in sets will change between runs. "
                "Please use a list instead."
            )
        else:
            param_group["params"] = list(params)

        tensors = []
        names = []
        for param in param_group["params"]:
            if isinstance(param, tuple):
                names.append(param[0])
                tensors.append(param[1])
            else:
                tensors.append(param)
        param_group["params"] = tensors
        if names:
            if len(names) == len(tensors):
                param_group["param_names"] = names
            else:
                raise ValueError(
                    "all optimizer params should be with/without names. "
                    "Some param names are missing"
                )

        for param in param_group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, "
                    "but one of the params is " + _typename(param)
                )
            if not self.defaults.get("differentiable", None) and not (
                param.is_leaf or param.retains_grad
            ):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)

        params = param_group["params"]
        if len(params) != len({id(p) for p in params}):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; "
                "in future, this will cause an error; "
                "see github.com/pytorch/pytorch/issues/40967 for more information",
                stacklevel=3,
            )

        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {txt} to the optimizer"
                )
        if any(id(p) in seen for p in param_group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ gradients
    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p._grad is None:
                    p.grad  # noqa: B018 (PyTorch's warning for a non-leaf's missing .grad)
                    continue
                if set_to_none:
                    p._grad = None  # (setting None needs none of the .grad setter's checks)
                else:
                    grad = p.grad
                    if grad.grad_fn is not None:
                        grad.detach_()
                    else:
                        grad.requires_grad_(False)
                    with no_grad():
                        grad.zero_()

    def step(self, closure=None):
        raise NotImplementedError

    def _params_with_grad(self, group: dict[str, Any]):
        """The parameters of ``group`` that have a gradient, each with its state, which
        ``_init_state`` fills at the parameter's first step (PyTorch's ``_init_group``)."""
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if len(state) == 0:
                self._init_state(state, p, group)
            yield p, state

    def _init_state(self, state: dict[str, Any], param: Tensor, group: dict[str, Any]) -> None:
        """Fill the empty ``state`` of ``param`` at its first step; the optimizers whose state
        starts then override it (Adagrad's starts in its constructor)."""

    @staticmethod
    def _run_closure(closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ------------------------------------------------------------------ state_dict
    def state_dict(self) -> dict[str, Any]:
        param_mappings: dict[int, int] = {}
        start_index = 0

        def pack_group(group: dict[str, Any]) -> dict[str, Any]:
            nonlocal start_index
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start_index):
                param_mappings.setdefault(id(p), i)
            packed["params"] = [param_mappings[id(p)] for p in group["params"]]
            start_index += len(packed["params"])
            return packed

        param_groups = [pack_group(g) for g in self.param_groups]
        packed_state = {
            (param_mappings[id(k)] if isinstance(k, Tensor) else k): v
            for k, v in self.state.items()
        }
        return {"state": packed_state, "param_groups": param_groups}

    @staticmethod
    def _cast(param, value, key=None):
        """A deep copy of ``value``; floating tensors take the parameter's dtype, except
        ``step`` (PyTorch's policy)."""
        if isinstance(value, Tensor):
            data = xp.array(value._data, copy=True)
            if key != "step" and data.dtype.kind == "f" and _array(param).dtype.kind == "f":
                data = data.astype(_array(param).dtype)
            return wrap(data, None)
        if isinstance(value, dict):
            return {k: Optimizer._cast(param, v, key=k) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(Optimizer._cast(param, v) for v in value)
        return copy.deepcopy(value)

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = state_dict.copy()
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError(
                "loaded state dict contains a parameter group "
                "that doesn't match the size of optimizer's group"
            )
        id_map = dict(
            zip(
                chain.from_iterable(g["params"] for g in saved_groups),
                chain.from_iterable(g["params"] for g in groups),
            )
        )
        state: defaultdict[Tensor, Any] = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = self._cast(param, v)
            else:
                state[k] = v

        def update_group(group, new_group):
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        self.__setstate__(
            {
                "state": state,
                "param_groups": [update_group(g, ng) for g, ng in zip(groups, saved_groups)],
            }
        )


def _use_grad(step):
    """Run ``step`` under no_grad (the closure inside re-enables grad)."""

    @functools.wraps(step)
    def wrapper(self, closure=None):
        loss = Optimizer._run_closure(closure)
        with no_grad():
            step(self)
        return loss

    return wrapper
