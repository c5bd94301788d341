"""Pytrees: nested dicts, lists and tuples of arrays and numbers.

Model parameters are rarely one array; they are ``{"W1": ..., "b1": ...}`` or
a list of ``(W, b)`` pairs. These helpers let optimizers, ``check_grad`` and
users treat such a structure as one value. Containers are dict, list and
tuple; everything else is a leaf, and None is an empty subtree. Dicts are
traversed in sorted-key order so flattening is deterministic; rebuilt dicts
keep the original key order.

Objects are pytrees too (*records*): named tuples and dataclasses by their
fields, user classes by ``register_pytree``. A field holding an array, a
float, a complex number, a container or another record is a child; any
other field (an int, a string, a function, a config object) is *static*: it
is part of the structure, carries no derivative, and is copied as it is
when the record is rebuilt. Dataclasses are rebuilt without calling
``__init__`` (a gradient need not pass the class's checks).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import dataclasses

import numpy as np

__all__ = ["register_pytree", "tree_map", "tree_leaves", "tree_flatten", "tree_unflatten", "tree_structure",
           "tree_zeros_like", "tree_add", "tree_scale", "tree_vdot", "tree_ravel", "TreeDef"]
C = TypeVar("C")


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


_REGISTERED = {}  # class -> (flatten, unflatten)


def register_pytree(cls: type[C], flatten: Callable[[C], tuple[Any, Any]],
                    unflatten: Callable[[Any, Any], C]) -> type[C]:
    """Make instances of ``cls`` pytrees, as ``jax.tree_util.register_pytree_node`` does.

    ``flatten(obj)`` returns ``(children, aux)``: the values derivatives flow
    through and whatever else rebuilding needs (hashable, compared by ``==``);
    ``unflatten(aux, children)`` returns a new object. Gradients with respect to
    such an object come back as one, built by ``unflatten``. Returns ``cls``.
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_pytree takes a class, not {cls!r}")
    _REGISTERED[cls] = (flatten, unflatten)
    return cls


def is_record(x) -> bool:
    """Whether ``x`` is an object pytree: a registered class, a dataclass or a named tuple."""
    return record_class(type(x))


def record_class(kind) -> bool:
    """Whether instances of ``kind`` are object pytrees (see ``is_record``)."""
    return kind in _REGISTERED or _is_dataclass(kind) or (issubclass(kind, tuple)
                                                           and hasattr(kind, "_fields"))


def _is_dataclass(kind):
    return dataclasses.is_dataclass(kind) and isinstance(kind, type)


def _dynamic(value) -> bool:
    """Whether a field of a dataclass or named tuple is a child (else it is static)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    return isinstance(value, (float, complex, np.ndarray, np.inexact, dict, list, tuple)) \
        or is_record(value)


def field_names(kind) -> tuple:
    """Every field of a dataclass or named tuple class, in order."""
    if _is_dataclass(kind):
        return tuple(f.name for f in dataclasses.fields(kind))
    return tuple(kind._fields)


def generated_constructor(kind) -> bool:
    """Whether building a ``kind`` only stores its arguments as fields: a named tuple, or a
    dataclass whose ``__init__`` Python generated and which has no ``__post_init__``. A
    constructor of the user's own may compute anything from the values."""
    if not isinstance(kind, type):
        return False
    if issubclass(kind, tuple) and hasattr(kind, "_fields"):
        made = kind.__new__
    elif _is_dataclass(kind) and kind.__dataclass_params__.init and not hasattr(kind, "__post_init__"):
        made = kind.__init__
    else:
        return False
    return getattr(getattr(made, "__code__", None), "co_filename", None) == "<string>"


def record_flatten(x):
    """(children, aux) of a record; aux holds what rebuilding needs besides the children."""
    kind = type(x)
    if kind in _REGISTERED:
        children, aux = _REGISTERED[kind][0](x)
        return list(children), aux
    values = [(n, getattr(x, n)) for n in field_names(kind)]
    children = [v for _, v in values if _dynamic(v)]
    aux = tuple((n, None, False) if _dynamic(v) else (n, v, True) for n, v in values)
    return children, aux


def record_unflatten(kind, aux, children):
    """The record of class ``kind`` with ``children`` (see ``record_flatten``)."""
    if kind in _REGISTERED:
        return _REGISTERED[kind][1](aux, list(children))
    it = iter(children)
    values = {n: (v if static else next(it)) for n, v, static in aux}
    if not _is_dataclass(kind):
        return kind(**values)
    new = object.__new__(kind)
    for n, v in values.items():
        object.__setattr__(new, n, v)  # frozen dataclasses too; __init__ is not run
    return new


def child_names(x, children, aux) -> tuple:
    """The attribute through which each child of record ``x`` is read (None where unknown).

    Fields name their children; for a registered class the attribute whose
    value is the child itself (by identity) names it, so ``obj.W`` finds its
    child whatever the order ``flatten`` gives. A child that is the same
    object as another (two fields holding one float) is named by neither:
    reading it through an attribute is refused rather than guessed.
    """
    if type(x) not in _REGISTERED:
        return tuple(n for n, _, static in aux if not static)
    attrs = dict(vars(x)) if hasattr(x, "__dict__") else {}
    for slot in getattr(type(x), "__slots__", ()):
        if hasattr(x, slot):
            attrs[slot] = getattr(x, slot)
    ids = [id(c) for c in children]
    shared = {i for i in ids if ids.count(i) > 1}  # one object twice: its reads are ambiguous
    return tuple(None if id(c) in shared else next((a for a, v in attrs.items() if v is c), None)
                 for c in children)


def static_names(x, aux) -> frozenset:
    """The attributes of record ``x`` that carry no derivative: its static fields, or, for a
    registered class, what its class holds (class attributes, methods)."""
    if type(x) in _REGISTERED:  # plain class attributes; a property may read the children
        own = set(vars(x)) if hasattr(x, "__dict__") else set()
        return frozenset(a for a in dir(type(x)) if a not in own
                         and not hasattr(getattr(type(x), a), "__get__"))
    return frozenset(n for n, _, static in aux if static)


def _children(tree):
    """(kind, keys, children in traversal order) of a container, or None for a leaf."""
    if is_record(tree):
        children, aux = record_flatten(tree)
        return _Record(type(tree)), aux, children
    if isinstance(tree, dict):
        keys = tuple(tree)
        return dict, keys, [tree[k] for k in sorted(keys, key=_sort_key)]
    if isinstance(tree, (list, tuple)):
        return type(tree), (), list(tree)
    if tree is None:
        return type(None), (), []
    return None


@dataclass(frozen=True)
class _Record:
    """The kind of a record node in a TreeDef (its class)."""
    cls: type


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
    if isinstance(td.kind, _Record):
        return record_unflatten(td.kind.cls, td.keys, children)
    if td.kind is dict:
        by_key = dict(zip(sorted(td.keys, key=_sort_key), children))
        return {k: by_key[k] for k in td.keys}
    if td.kind is type(None):
        return None
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
