"""Numba twins of ``adjoint/runtime/builtins.py``: iterating a loop's sequence."""
from __future__ import annotations


from ... import runtime
from .kinds import array, list_of, twin


@twin(runtime.items_of)
def _items_of(x):
    """An array or a list is its own sequence of items (a dict never reaches compiled code)."""
    if array(x) or list_of(x):
        return lambda x: x


@twin(runtime.items_of_grad)
def _items_of_grad(g, x):
    """The adjoint of an array's or a list's items is the items' adjoint."""
    if array(x) or list_of(x):
        return lambda g, x: g
