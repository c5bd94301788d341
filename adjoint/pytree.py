"""Pytrees: nested dicts, lists and tuples of arrays and numbers.

Model parameters are rarely one array; they are ``{"W1": ..., "b1": ...}`` or
a list of ``(W, b)`` pairs. These helpers let optimizers, ``check_grad`` and
users treat such a structure as one value. Containers are dict, list and
tuple (named tuples too); everything else is a leaf, and None is an empty
subtree. Dicts are traversed in sorted-key order so flattening is
deterministic; rebuilt dicts keep the original key order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = ["tree_map", "tree_leaves", "tree_flatten", "tree_unflatten", "tree_structure",
           "tree_zeros_like", "tree_add", "tree_scale", "tree_vdot", "tree_ravel", "TreeDef"]


@dataclass(frozen=True)
class TreeDef:
    """The shape of a pytree without its leaves."""
    kind: type | None  # None for a leaf
    keys: tuple = ()  # dict keys in original order
    children: tuple = ()

    @property
    def num_leaves(self) -> int:
        if self.kind is None:
            return 1
        return sum(c.num_leaves for c in self.children)


def _children(tree):
    """(kind, keys, children in traversal order) of a container, or None for a leaf."""
    if isinstance(tree, dict):
        keys = tuple(tree)
        return dict, keys, [tree[k] for k in sorted(keys, key=_sort_key)]
    if isinstance(tree, (list, tuple)):
        return type(tree), (), list(tree)
    if tree is None:
        return type(None), (), []
    return None


def _sort_key(key):
    return (type(key).__name__, key)


def tree_flatten(tree: Any) -> tuple[list[Any], TreeDef]:
    """(leaves, treedef) of ``tree``; ``tree_unflatten(treedef, leaves)`` rebuilds it."""
    leaves = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree, leaves):
    parts = _children(tree)
    if parts is None:
        leaves.append(tree)
        return TreeDef(None)
    kind, keys, children = parts
    return TreeDef(kind, keys, tuple(_flatten(c, leaves) for c in children))


def tree_unflatten(treedef: TreeDef, leaves: Any) -> Any:
    """The pytree of structure ``treedef`` with ``leaves`` in traversal order."""
    it = iter(leaves)
    return _build(treedef, it)


def _build(td, it):
    if td.kind is None:
        return next(it)
    children = [_build(c, it) for c in td.children]
    if td.kind is dict:
        by_key = dict(zip(sorted(td.keys, key=_sort_key), children))
        return {k: by_key[k] for k in td.keys}
    if td.kind is type(None):
        return None
    if hasattr(td.kind, "_fields"):
        return td.kind(*children)
    return td.kind(children)


def tree_leaves(tree: Any) -> list[Any]:
    """The leaves of ``tree`` in traversal order (dicts by sorted key)."""
    return tree_flatten(tree)[0]


def tree_structure(tree: Any) -> TreeDef:
    """The structure of ``tree`` without its leaves."""
    return tree_flatten(tree)[1]


def tree_map(f: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    """Apply ``f`` leafwise to ``tree`` and the trees in ``rest``, which share its structure."""
    leaves, td = tree_flatten(tree)
    others = []
    for r in rest:
        r_leaves, r_td = tree_flatten(r)
        if r_td != td:
            raise ValueError(f"tree_map: structures differ:\n  {td}\n  {r_td}")
        others.append(r_leaves)
    return tree_unflatten(td, [f(*xs) for xs in zip(leaves, *others)])


def tree_zeros_like(tree: Any) -> Any:
    """Zeros with each leaf's shape (float dtype); 0.0 for number leaves."""
    def zero(x):
        if isinstance(x, np.ndarray):
            dtype = x.dtype if np.issubdtype(x.dtype, np.inexact) else np.float64
            return np.zeros(x.shape, dtype)
        return 0.0
    return tree_map(zero, tree)


def tree_add(a: Any, b: Any) -> Any:
    """Leafwise ``a + b`` of two trees of one structure."""
    return tree_map(lambda x, y: x + y, a, b)


def tree_scale(tree: Any, s: Any) -> Any:
    """Every leaf times ``s``."""
    return tree_map(lambda x: x * s, tree)


def tree_vdot(a: Any, b: Any) -> float:
    """The sum over all leaves of the elementwise products of ``a`` and ``b``."""
    return float(sum(np.sum(np.asarray(x) * np.asarray(y)) for x, y in
                     zip(tree_leaves(a), _same_leaves(b, a))))


def _same_leaves(b, a):
    b_leaves, b_td = tree_flatten(b)
    if b_td != tree_structure(a):
        raise ValueError("tree_vdot: structures differ")
    return b_leaves


def tree_ravel(tree: Any) -> tuple[np.ndarray, Callable[[Any], Any]]:
    """(1-D float array of every leaf, function mapping such an array back to the tree)."""
    leaves, td = tree_flatten(tree)
    shapes = [np.shape(x) for x in leaves]
    scalars = [not isinstance(x, np.ndarray) for x in leaves]
    dtypes = [np.result_type(x) if isinstance(x, np.ndarray) else None for x in leaves]
    sizes = [int(np.prod(s, dtype=np.int64)) for s in shapes]
    flat = np.concatenate([np.ravel(np.asarray(x, dtype=np.result_type(x, np.float64)))
                           for x in leaves]) if leaves else np.zeros(0)

    def unravel(vector):
        out, start = [], 0
        for shape, size, scalar, dtype in zip(shapes, sizes, scalars, dtypes):
            piece = np.asarray(vector[start:start + size])
            start += size
            if scalar:
                out.append(piece.reshape(()).item())
            else:
                keep = dtype if np.issubdtype(dtype, np.inexact) else np.float64
                out.append(piece.reshape(shape).astype(np.result_type(keep, piece.dtype), copy=True))
        return tree_unflatten(td, out)

    return flat, unravel
