"""Nested containers of values ("pytrees"), as PyTorch's ``torch.utils._pytree``.

The function transforms (``gradienti.func``) take and return tensors nested in tuples, lists,
dicts and named tuples: ``tree_flatten`` lists the leaves (every value that is not one of those
containers; ``None`` included, as in PyTorch) in order, with a ``TreeSpec`` that
``tree_unflatten`` rebuilds the same structure from. Two structures are the same when their
specs are equal; ``TreeSpec``'s repr and ``treespec_pprint`` print as PyTorch's do, since
the transforms' error messages show them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

__all__ = [
    "LeafSpec",
    "TreeSpec",
    "tree_flatten",
    "tree_leaves",
    "tree_map",
    "tree_structure",
    "tree_unflatten",
    "treespec_pprint",
]


def _is_namedtuple_type(kind: type) -> bool:
    return issubclass(kind, tuple) and hasattr(kind, "_fields")


def _node_kind(tree) -> tuple | None:
    """(type, context, children) of a container; None for a leaf."""
    kind = type(tree)
    if kind is tuple or kind is list:
        return kind, None, list(tree)
    if kind is dict:
        return dict, list(tree), list(tree.values())
    if kind is OrderedDict:
        return OrderedDict, list(tree), list(tree.values())
    if _is_namedtuple_type(kind):
        return kind, kind, list(tree)
    return None


class TreeSpec:
    """The structure of a pytree: a container's type, its context (a dict's keys, a named
    tuple's class) and the specs of its children."""

    __slots__ = ("type", "context", "children_specs", "num_leaves")

    def __init__(self, kind, context, children_specs: list) -> None:
        self.type = kind
        self.context = context
        self.children_specs = children_specs
        self.num_leaves = sum(child.num_leaves for child in children_specs)

    @property
    def num_children(self) -> int:
        return len(self.children_specs)

    def is_leaf(self) -> bool:
        return False

    def _type_name(self) -> str:
        return "namedtuple" if _is_namedtuple_type(self.type) else self.type.__name__

    def __repr__(self, indent: int = 0) -> str:
        children = ""
        if self.children_specs:
            indent += 2
            children = self.children_specs[0].__repr__(indent)
            children += "," if len(self.children_specs) > 1 else ""
            children += ",".join(
                "\n" + " " * indent + child.__repr__(indent) for child in self.children_specs[1:]
            )
        return f"TreeSpec({self._type_name()}, {self._context_repr()}, [{children}])"

    def _context_repr(self) -> str:
        if _is_namedtuple_type(self.type):
            return repr(self.type)
        return repr(self.context)

    def __eq__(self, other) -> bool:
        if self is other:
            return True
        if not isinstance(other, TreeSpec) or isinstance(other, LeafSpec):
            return False
        return (
            self.type is other.type
            and self.context == other.context
            and self.children_specs == other.children_specs
        )

    def __hash__(self) -> int:
        return hash((self.type, len(self.children_specs)))


class LeafSpec(TreeSpec):
    """The spec of a leaf: ``*``."""

    __slots__ = ()

    def __init__(self) -> None:
        self.type = None
        self.context = None
        self.children_specs = []
        self.num_leaves = 1

    def is_leaf(self) -> bool:
        return True

    def __repr__(self, indent: int = 0) -> str:
        return "*"

    def __eq__(self, other) -> bool:
        return isinstance(other, LeafSpec)

    def __hash__(self) -> int:
        return 0


_LEAF = LeafSpec()


def tree_flatten(tree, is_leaf: Callable[[Any], bool] | None = None) -> tuple[list, TreeSpec]:
    """The leaves of ``tree`` in order, and its structure."""
    leaves: list = []
    return leaves, _flatten_into(tree, leaves, is_leaf)


def _flatten_into(tree, leaves: list, is_leaf) -> TreeSpec:
    node = None if is_leaf is not None and is_leaf(tree) else _node_kind(tree)
    if node is None:
        leaves.append(tree)
        return _LEAF
    kind, context, children = node
    return TreeSpec(kind, context, [_flatten_into(child, leaves, is_leaf) for child in children])


def tree_leaves(tree, is_leaf: Callable[[Any], bool] | None = None) -> list:
    return tree_flatten(tree, is_leaf)[0]


def tree_structure(tree, is_leaf: Callable[[Any], bool] | None = None) -> TreeSpec:
    return tree_flatten(tree, is_leaf)[1]


def tree_unflatten(leaves, treespec: TreeSpec):
    """The pytree of ``treespec``'s structure holding ``leaves`` (in flattening order)."""
    leaves = list(leaves)
    if len(leaves) != treespec.num_leaves:
        raise ValueError(
            f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} "
            f"but the spec refers to a pytree that holds {treespec.num_leaves} items "
            f"({treespec})."
        )
    return _build(iter(leaves), treespec)


def _build(leaves, spec: TreeSpec):
    if spec.is_leaf():
        return next(leaves)
    children = [_build(leaves, child) for child in spec.children_specs]
    kind = spec.type
    if kind is dict or kind is OrderedDict:
        return kind(zip(spec.context, children))
    if _is_namedtuple_type(kind):
        return kind(*children)
    return kind(children)


def tree_map(func: Callable, tree, *rests, is_leaf: Callable[[Any], bool] | None = None):
    """``tree`` with each leaf replaced by ``func(leaf, *the same leaf of each of rests)``."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [tree_flatten(rest, is_leaf)[0] for rest in rests]
    return tree_unflatten([func(*values) for values in zip(leaves, *others)], spec)


class _Asterisk(str):
    """A leaf printed as ``*`` (no quotes) by ``treespec_pprint``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "*"


def treespec_pprint(treespec: TreeSpec) -> str:
    """The structure as Python prints it with ``*`` for each leaf: ``(*, *)``, ``{'a': *}``."""
    return repr(tree_unflatten([_Asterisk("*")] * treespec.num_leaves, treespec))
