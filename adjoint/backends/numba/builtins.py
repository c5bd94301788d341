"""Numba twins of ``adjoint/runtime/builtins.py``: iterating a loop's sequence, dict comprehensions;
and the built-in ``sum`` of a list of arrays."""
from __future__ import annotations

from numba.extending import overload

from ... import runtime
from .kinds import Rows, RowsType, array, dict_of, integer, left_out, list_of, twin


@twin(runtime.items_of)
def _items_of(x):
    """An array or a list is its own sequence of items; a dict's are its keys."""
    if array(x) or list_of(x):
        return lambda x: x
    if dict_of(x):
        return lambda x: [k for k in x.keys()]


@twin(runtime.items_of_grad)
def _items_of_grad(g, x):
    """The adjoint of an array's or a list's items is the items' adjoint; a dict's keys carry none.
    A list's is added into the list's adjoint item by item (``Rows``): Numba's ``list += list``
    would append it."""
    if array(x):
        return lambda g, x: g
    if list_of(x):
        return lambda g, x: Rows(g)
    if dict_of(x):
        return lambda g, x: runtime.zeros_like(x)


@twin(runtime.joined)
def _joined(a, b):
    if list_of(a) and list_of(b):
        return lambda a, b: a + b


@twin(runtime.first_items)
def _first_items(g, a):
    """As ``Rows``, which a list's adjoint adds item by item (Numba's ``list += list`` appends);
    ``g`` a list's adjoint, or ``Rows`` (a helper's: its data, a list or an array's rows)."""
    if isinstance(g, RowsType) and list_of(a):
        return lambda g, a: runtime.first_items(g.data, a)
    if (list_of(g) or array(g)) and list_of(a):
        return lambda g, a: Rows(g[:len(a)])


@twin(runtime.last_items)
def _last_items(g, b):
    if isinstance(g, RowsType) and list_of(b):
        return lambda g, b: runtime.last_items(g.data, b)
    if (list_of(g) or array(g)) and list_of(b):
        return lambda g, b: Rows(g[len(g) - len(b):])


@twin(runtime.repeated)
def _repeated(a, count):
    if list_of(a) and integer(count):
        return lambda a, count: a * count


@twin(runtime.repeats_summed)
def _repeats_summed(g, a):
    if isinstance(g, RowsType) and list_of(a):
        return lambda g, a: runtime.repeats_summed(g.data, a)
    if (list_of(g) or array(g)) and list_of(a):
        def impl(g, a):
            out = [runtime.zeros_like(v) for v in a]
            for j in range(len(g)):
                out[j % len(a)] = out[j % len(a)] + g[j]
            return Rows(out)
        return impl


@twin(runtime.dict_from)
def _dict_from(keys, values):
    """A dict comprehension's dict, typed from its first item: a later key wins, in first-seen
    order (a typed dict keeps a key where it was first set)."""
    if list_of(keys) and list_of(values):
        def impl(keys, values):
            out = dict()
            for i in range(len(keys)):
                out[keys[i]] = values[i]
            return out
        return impl


@twin(runtime.dict_from_grad)
def _dict_from_grad(g, keys, values):
    """Each value gets its key's adjoint unless a later value with that key replaced it: a
    list's adjoint, added item by item (``Rows``)."""
    if dict_of(g) and list_of(keys) and list_of(values):
        def impl(g, keys, values):
            last = dict()
            for i in range(len(keys)):
                last[keys[i]] = i
            return Rows([g[keys[i]] if last[keys[i]] == i and keys[i] in g
                         else runtime.zeros_like(values[i]) for i in range(len(keys))])
        return impl


@overload(sum)
def _sum_of_arrays(items, start=0):
    """The built-in ``sum`` of a list of arrays (Numba's takes numbers): ``0 + a0 + a1 + ...``
    in Python's order. An empty list's sum, Python's ``0``, is no array: refused when it runs,
    and the NumPy twin answers."""
    if not (list_of(items) and array(items.dtype) and left_out(start, 0)):
        return None

    def impl(items, start=0):
        if len(items) == 0:
            raise ValueError("the sum of an empty list is the number 0, not an array")
        total = 0 + items[0]
        for k in range(1, len(items)):
            total = total + items[k]
        return total
    return impl
