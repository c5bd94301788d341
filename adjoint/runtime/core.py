"""Broadcasting, accumulation, seeds, copies and containers: what every generated
function may call, whatever its rules.
"""
from __future__ import annotations

import math

import numpy as np

from ..errors import NonScalarOutputError

__all__ = [
    "unbroadcast", "unreduce", "zeros_like", "add_at", "last_writes", "grad_like", "unit_seed",
    "snapshot", "reserve", "astype", "none_to_zero", "extremum_grad", "add_extremum_grad", "dot_grad_a", "dot_grad_b",
    "matmul_grad_a", "matmul_grad_b", "transpose_grad", "count", "unstack_like",
    "writable_copy", "AdjointList", "AdjointDict", "extremum_jvp", "tangent_like",
    "broadcast_like", "scattered", "tangent_fit", "conj", "real_part", "real_like", "by_items", "elementwise_shape",
    "linear_transpose",
]


def unbroadcast(g, x):
    """Sum ``g`` over the axes along which ``x`` was broadcast, giving ``x``'s shape.

    A real ``x`` gets the real part of a complex ``g``: the adjoint of a real
    value is real (its imaginary part is meaningless, see ``conj``).
    """
    if type(g) is np.ndarray and type(x) is np.ndarray and \
            (g.dtype.kind != "c" or x.dtype.kind == "c"):
        # the common case, called for every broadcasting operand: no conversions
        return g if g.shape == x.shape else _sum_to(g, x.shape)
    if isinstance(g, (list, tuple)) and isinstance(x, (list, tuple)):
        _refuse_list_arithmetic()
    shape = np.shape(x)
    if _is_complex(g) and not _is_complex(x):
        g = np.real(g)
    g = np.asarray(g)
    return g if g.shape == shape else _sum_to(g, shape)


def _sum_to(g, shape):
    lead = g.ndim - len(shape)
    if lead > 0:
        g = np.add.reduce(g, axis=0 if lead == 1 else tuple(range(lead)))
    elif lead < 0:  # fewer axes than x: they align at the right, as in broadcasting
        g = g.reshape((1,) * -lead + g.shape)
    axes = tuple([i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1])
    if axes:
        g = np.add.reduce(g, axis=axes, keepdims=True)
    if g.shape != shape:
        g = np.array(np.broadcast_to(g, shape))  # writable: generated code may add to it in place
    return g


SMALL = 1 << 14  # below this many elements a materialised array is cheaper than a broadcast view


def _broadcast(g, shape):
    """``g`` broadcast to ``shape``: a fresh array when small (cheap to make), else a view."""
    size = 1
    for n in shape:
        size *= n
    if size <= SMALL:
        out = np.empty(shape, dtype=np.result_type(g))
        out[...] = g
        return out
    return np.broadcast_to(g, shape)


def unreduce(g, x, axis=None, keepdims=False):
    """Spread the adjoint of a reduction of ``x`` over ``axis`` back to ``x``'s shape."""
    shape = x.shape if type(x) is np.ndarray else np.shape(x)
    return _broadcast(_restore_axes(g, x, axis, keepdims), shape)


def _restore_axes(g, x, axis, keepdims):
    """The result ``g`` of a reduction of ``x`` with the reduced axes back (length 1)."""
    if axis is None or keepdims:
        return g
    return np.expand_dims(g, _axes(x, axis))


def count(x, axis=None):
    """How many elements a reduction over ``axis`` combines."""
    if axis is None:
        return x.size if type(x) is np.ndarray else int(np.size(x))
    shape = np.shape(x)
    total = 1
    for a in _axes(x, axis):
        total *= shape[a]
    return total


def extremum_grad(g, x, ans, axis=None, keepdims=False):
    """Adjoint of max/min: ``g`` shared equally among the entries that attain the extremum."""
    g, ans = _restore_axes(g, x, axis, keepdims), _restore_axes(ans, x, axis, keepdims)
    hit = np.asarray(x) == ans  # g and ans broadcast against x: nothing is spread out
    if type(g) is np.ndarray and g.dtype.kind == "f" and _no_ties(hit, ans):
        return hit * g
    dtype = g.dtype if type(g) is np.ndarray and g.dtype.kind in "fc" else \
        _float_dtype(np.result_type(g))
    ties = np.add.reduce(hit, axis=axis, keepdims=True, dtype=dtype)
    return hit * (g / ties)


def _no_ties(hit, ans):
    """Whether each reduced slice has exactly one hit, so every share is ``g`` itself (skips
    counting per slice): as many hits as slices, and no NaN extremum (a slice without a hit)."""
    return type(ans) is np.ndarray and ans.dtype.kind == "f" \
        and np.count_nonzero(hit) == ans.size and not math.isnan(np.add.reduce(ans, None))


def add_extremum_grad(x_bar, g, x, ans, axis=None, keepdims=False):
    """``x_bar += extremum_grad(g, x, ans, axis, keepdims)``, adding only where ``x`` attains
    its extremum: no array of shares is made, and over all of ``x`` only the hits are read."""
    if type(x_bar) is np.ndarray and type(x) is np.ndarray and x_bar.shape == x.shape \
            and x_bar.dtype.kind == "f" and not np.iscomplexobj(g):
        share, peak = _restore_axes(g, x, axis, keepdims), _restore_axes(ans, x, axis, keepdims)
        hit = x == peak
        ties = np.count_nonzero(hit) if axis is None and np.ndim(share) == 0 else 0
        if ties:
            x_bar[hit] += share / ties
            return x_bar
        if axis is not None and type(share) is np.ndarray and _no_ties(hit, peak):
            np.add(x_bar, share, out=x_bar, where=hit)
            return x_bar
    x_bar += extremum_grad(g, x, ans, axis, keepdims)
    return x_bar


def extremum_jvp(t, x, ans, axis=None, keepdims=False):
    """Tangent of max/min: the mean of ``t`` over the entries that attain the extremum."""
    hit = np.asarray(x) == unreduce(ans, x, axis, keepdims)
    ties = np.sum(hit, axis=axis, keepdims=keepdims)
    return np.sum(np.where(hit, t, 0.0), axis=axis, keepdims=keepdims) / ties


def dot_grad_a(g, a, b):
    """Adjoint of ``np.dot(a, b)`` with respect to ``a``."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 0 or b_nd == 0:
        return unbroadcast(g * np.conj(b), a)
    if b_nd == 1:
        return np.multiply.outer(g, np.conj(b)) if a_nd > 1 else g * np.conj(b)
    if a_nd == 1:  # every axis of b but the contracted one meets g
        if b_nd == 2:
            return np.dot(np.conj(b), g)
        return np.tensordot(np.conj(b), g, axes=([i for i in range(b_nd) if i != b_nd - 2],
                                                  list(range(g.ndim))))
    contracted = tuple(range(a_nd - 1, g.ndim))
    b_axes = [i for i in range(b_nd) if i != b_nd - 2]
    return np.tensordot(g, np.conj(b), axes=(contracted, b_axes))


def dot_grad_b(g, a, b):
    """Adjoint of ``np.dot(a, b)`` with respect to ``b``."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 0 or b_nd == 0:
        return unbroadcast(g * np.conj(a), b)
    if a_nd == 1 and b_nd == 1:
        return g * np.conj(a)
    if b_nd == 1:
        return np.tensordot(np.conj(a), g, axes=(list(range(a_nd - 1)), list(range(g.ndim))))
    if a_nd == 1:
        return np.multiply.outer(np.conj(a), g) if b_nd == 2 else np.moveaxis(
            np.multiply.outer(np.conj(a), g), 0, b_nd - 2)
    g_axes = list(range(a_nd - 1))
    out = np.tensordot(np.conj(a), g, axes=(g_axes, g_axes))
    return np.moveaxis(out, 0, b_nd - 2)


def matmul_grad_a(g, a, b):
    """Adjoint of ``a @ b`` with respect to ``a`` (1-D operands and stacks included)."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 2 and b.ndim == 2:
        return g @ conj(b).T
    if a.ndim == 1 and b.ndim == 1:
        return g * conj(b)
    if a.ndim == 2 and b.ndim == 1:
        return np.outer(g, conj(b))
    if a.ndim == 1 and b.ndim == 2:
        return conj(b) @ g
    a2, b2, g2 = _matrices(g, a, b)
    return unbroadcast(g2 @ conj(np.swapaxes(b2, -1, -2)), a2).reshape(a.shape)


def matmul_grad_b(g, a, b):
    """Adjoint of ``a @ b`` with respect to ``b``."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 2 and b.ndim == 2:
        return conj(a).T @ g
    if a.ndim == 1 and b.ndim == 1:
        return g * conj(a)
    if a.ndim == 2 and b.ndim == 1:
        return conj(a).T @ g
    if a.ndim == 1 and b.ndim == 2:
        return np.outer(conj(a), g)
    a2, b2, g2 = _matrices(g, a, b)
    return unbroadcast(conj(np.swapaxes(a2, -1, -2)) @ g2, b2).reshape(b.shape)


def _matrices(g, a, b):
    """``a``, ``b`` promoted to matrices as matmul does, and ``g`` shaped like their product."""
    a2 = a if a.ndim > 1 else a.reshape(1, -1)
    b2 = b if b.ndim > 1 else b.reshape(-1, 1)
    batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    return a2, b2, np.reshape(g, batch + (a2.shape[-2], b2.shape[-1]))


def transpose_grad(g, axes=None):
    """Adjoint of ``np.transpose(x, axes)``: the inverse permutation."""
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort(np.mod(axes, np.ndim(g))))  # axes may count from the end


def unstack_like(g, x):
    """Adjoint of ``np.array(x)``: ``g`` split to match a list or tuple ``x``."""
    if isinstance(x, (list, tuple)):
        return AdjointList(unstack_like(g[i], v) for i, v in enumerate(x))
    return g


def astype(x, dtype):
    """``x.astype(dtype)``, as a function the rule registry can name."""
    return np.asarray(x).astype(dtype)


def unit_seed(y):
    """The seed 1 of a scalar output; refuses an output that is not a scalar."""
    kind = type(y)
    if kind is float or kind is np.float64:
        return 1.0
    if np.ndim(y) != 0:
        raise NonScalarOutputError(
            f"grad needs a function that returns a scalar, but it returned shape {np.shape(y)}; "
            "use adjoint.vjp for vector outputs, or reduce the output (e.g. with np.sum)")
    if isinstance(y, (list, tuple, dict)):
        raise NonScalarOutputError("grad needs a scalar output, not a container; use has_aux=True "
                                   "to return (loss, aux)")
    return np.ones_like(y) if isinstance(y, np.ndarray) or isinstance(y, np.generic) else 1.0


def none_to_zero(v):
    """A custom rule's None (no derivative) as a zero adjoint."""
    return 0.0 if v is None else v


def snapshot(v):
    """A copy of ``v`` that later in-place writes cannot change."""
    return v.copy() if isinstance(v, np.ndarray) else v


def reserve(tape, size):
    """``tape`` (an array tape of numbers, see passes/tapes.py) with room for ``size``
    entries: itself, or a copy at least twice as long, so that pushes cost O(1) each as
    on a list. The new room is zeros."""
    if size <= tape.shape[0]:
        return tape
    grown = np.zeros(max(size, 2 * tape.shape[0]), tape.dtype)
    grown[:tape.shape[0]] = tape
    return grown


def writable_copy(x, keep_objects=False):
    """A private copy of a value the function writes into, so the caller's data never changes:
    arrays are copied, containers and pytrees rebuilt around copies of their items, numbers kept.

    An object that is not a pytree cannot be copied faithfully, so a function
    writing into an array it holds is refused; ``keep_objects`` passes such
    objects on unchanged instead (``vjp`` re-running a forward sweep that
    writes into none of them).
    """
    if isinstance(x, np.ndarray):
        return x.copy()
    if _is_record(x) or isinstance(x, AdjointRecord):
        return _record_map(lambda v: writable_copy(v, keep_objects), x)
    if isinstance(x, dict):
        return type(x)((k, writable_copy(v, keep_objects)) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        items = [writable_copy(v, keep_objects) for v in x]
        return type(x)(*items) if hasattr(x, "_fields") else type(x)(items)
    if not keep_objects and _plain_object(x):
        _refuse_object_write(x)
    return x


def broadcast_like(g, x):
    """``g`` broadcast to ``x``'s shape, as a new writable array (the adjoint of ``unbroadcast``)."""
    return np.array(np.broadcast_to(g, np.shape(x)))


def scattered(t, like, index):
    """Zeros shaped like ``like`` with ``t`` added at ``index`` (repeated indices add up)."""
    if isinstance(like, (dict, list, tuple)):  # an item of a dict or list of arrays
        return add_at(zeros_like(like), index, t)
    out = np.zeros(np.shape(like), dtype=np.result_type(_float_dtype(np.result_type(like)), t))
    return add_at(out, index, t)


def tangent_like(t, x):
    """A private, writable tangent shaped like ``x`` (a scalar ``t`` such as 0.0 is broadcast)."""
    if _is_record(x) or isinstance(x, AdjointRecord):
        return record_tangent(t, x, tangent_like)
    if isinstance(x, dict):
        return {k: tangent_like(t[k] if isinstance(t, dict) else t, v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        items = [tangent_like(t[i] if isinstance(t, (list, tuple)) else t, v)
                 for i, v in enumerate(x)]
        return items if isinstance(x, list) else tuple(items)
    if isinstance(x, np.ndarray):
        dtype = np.result_type(_float_dtype(x.dtype), np.asarray(t).dtype)
        return np.array(np.broadcast_to(t, x.shape), dtype=dtype)
    return t


def tangent_fit(t, y):
    """The tangent ``t`` of an elementwise result ``y`` with ``y``'s shape.

    An operand that carries no tangent may still broadcast the result
    (``c + x[0]`` with ``c`` of shape (4, 3)): ``t`` is then spread to every
    entry it moves, as a new array. ``t`` itself when it has the shape already.
    """
    shape = np.shape(y)
    if np.shape(t) == shape:
        return t
    return np.array(np.broadcast_to(t, shape))


def zeros_like(x):
    """A zero adjoint shaped like ``x``; containers become mutable adjoint containers."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=_float_dtype(x.dtype))
    if _is_record(x) or isinstance(x, AdjointRecord):
        return record_zeros(x)
    if isinstance(x, dict):
        return AdjointDict((k, zeros_like(v)) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return AdjointList(zeros_like(v) for v in x)
    if isinstance(x, np.generic):
        return np.zeros((), dtype=_float_dtype(x.dtype))[()]
    if isinstance(x, complex):
        return 0j
    if _plain_object(x):
        return ObjectAdjoint(x)
    return 0.0


def _float_dtype(dtype):
    return dtype if np.issubdtype(dtype, np.inexact) else np.float64


def add_at(x_bar, index, g):
    """``x_bar[index] += g``, adding every contribution where an index repeats."""
    if isinstance(x_bar, np.ndarray) and _has_int_array(index):
        np.add.at(x_bar, index, g)
    else:
        x_bar[index] += g
    return x_bar


def last_writes(x, index):
    """A mask over ``x[index]``: True where ``x[index] = v`` keeps that position's value.

    Where an index array repeats an element, NumPy keeps one of the writes and
    only that one reaches the result. Which one is found by repeating the write
    with position labels, so the answer is NumPy's own whatever its order.
    """
    labels = np.arange(np.size(x[index])).reshape(np.shape(x[index]))
    winner = np.full(np.shape(x), -1)
    winner[index] = labels
    return winner[index] == labels


def _has_int_array(index):
    if isinstance(index, tuple):
        return any(_has_int_array(i) for i in index)
    if isinstance(index, list):
        return True
    return isinstance(index, np.ndarray) and index.dtype != np.bool_ and index.ndim > 0


def grad_like(x_bar, x):
    """The gradient as the user expects it: ``x``'s structure, shape and dtype."""
    if type(x) is np.ndarray and type(x_bar) is np.ndarray:  # the usual case, checked first
        if x_bar.base is None and x_bar.dtype == x.dtype and x_bar.shape == x.shape \
                and x_bar.flags.writeable:  # no base: it owns its data
            return x_bar
    if type(x) is float:
        kind = type(x_bar)
        if kind is float or kind is np.float64:
            return float(x_bar)
    if _is_record(x):
        return record_grad(x_bar, x)
    if isinstance(x_bar, ObjectAdjoint):
        x_bar.refuse()
    if isinstance(x, dict):
        bar = x_bar if isinstance(x_bar, dict) else {}
        return {k: grad_like(bar.get(k, 0.0), v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        bar = x_bar if isinstance(x_bar, (list, tuple)) else [0.0] * len(x)
        items = [grad_like(b, v) for b, v in zip(bar, x)]
        return type(x)(items) if not hasattr(x, "_fields") else type(x)(*items)
    if isinstance(x, np.ndarray):
        if type(x_bar) is np.ndarray and x_bar.dtype == x.dtype and x_bar.shape == x.shape \
                and x_bar.flags.writeable and x_bar.flags.owndata:
            return x_bar
        dtype = _float_dtype(x.dtype)
        if dtype.kind != "c" and _is_complex(x_bar):
            x_bar = np.real(x_bar)  # a real argument's gradient is real
        if np.shape(x_bar) != x.shape:
            x_bar = np.broadcast_to(x_bar, x.shape)
        out = np.asarray(x_bar, dtype=dtype)
        return out.copy() if not out.flags.writeable or not out.flags.owndata else out
    if isinstance(x, np.generic):
        dtype = _float_dtype(x.dtype)
        return np.asarray(x_bar if dtype.kind == "c" else np.real(x_bar), dtype=dtype)[()]
    if isinstance(x, complex):
        return complex(x_bar)
    return float(np.real(x_bar))


def _refuse_list_arithmetic():
    """A list's adjoint met an arithmetic rule: the ``+`` or ``*`` it comes from joined or
    repeated lists whose kind the compiler did not know (``passes/lists.py`` lowers the ones it
    knows); adding the adjoints as numbers would give a wrong gradient."""
    from ..errors import NotDifferentiableError, generated_caller
    raise NotDifferentiableError(
        "'+' or '*' here joins or repeats lists that adjoint could not prove are lists (a list "
        "parameter, a helper's result, a count not known to be an int), so it cannot split their "
        "derivative; write list(a) + list(b), or [v for _ in range(n) for v in a] for a * n",
        *generated_caller())


class AdjointList(list):
    """A list of adjoints that adds elementwise (``+`` on lists would concatenate; ``*`` would
    repeat, which only a repetition the compiler did not lower asks for)."""

    def __mul__(self, other):
        _refuse_list_arithmetic()

    __rmul__ = __mul__

    def __iadd__(self, other):
        if isinstance(other, (int, float)) and other == 0:
            return self
        for i, o in enumerate(other):
            self[i] = self[i] + o
        return self

    def __add__(self, other):
        return AdjointList(self).__iadd__(other)

    __radd__ = __add__


class AdjointDict(dict):
    """A dict of adjoints that adds key by key."""

    def __iadd__(self, other):
        if isinstance(other, (int, float)) and other == 0:
            return self
        for k, o in other.items():
            self[k] = self[k] + o
        return self

    def __add__(self, other):
        return AdjointDict(self).__iadd__(other)

    __radd__ = __add__


def _is_complex(v):
    """Whether ``v`` is a complex number or array (used by ``unbroadcast`` and ``grad_like``)."""
    return isinstance(v, complex) or getattr(getattr(v, "dtype", None), "kind", None) == "c"


def conj(x):
    """Complex conjugate; real values (and their dtype) pass through unchanged."""
    kind = type(x)
    if kind is float or kind is np.float64 or (kind is np.ndarray and x.dtype.kind != "c"):
        return x
    if kind is complex:  # a Python number stays one: NumPy's own would promote float32 arrays
        return x.conjugate()
    return np.conj(x) if np.iscomplexobj(x) else x


def real_part(g):
    """The real part of a contribution to a real value's adjoint (of each item of a list or
    tuple of them): the adjoint of a real value is real."""
    if isinstance(g, (list, tuple)):
        return type(g)(real_part(v) for v in g)
    return np.real(g) if np.iscomplexobj(g) else g


def real_like(g, like):
    """``g`` as a contribution to the adjoint ``like``: its real part where ``like`` is real (the
    value may be real though adjoint could not prove it), so that ``like += g`` keeps its dtype."""
    real = like.dtype.kind != "c" if isinstance(like, np.ndarray) else \
        isinstance(like, (float, int, np.floating, np.integer))
    return np.real(g) if real and _is_complex(g) else g  # else complex, a container, an object


def by_items(g):
    """``g``, a whole adjoint added into another one, as the items it adds one by one. On this
    backend ``g`` itself: a list's adjoint is an ``AdjointList``, whose ``+`` and ``+=`` add
    item by item. Numba's lists concatenate on ``+`` and ``+=``; its twin gives ``Rows``."""
    return g


# -- reductions -----------------------------------------------------------------------
def _axes(x, axis):
    nd = np.ndim(x)
    if axis is None:
        return tuple(range(nd))
    return tuple(sorted(a % nd for a in ((axis,) if np.ndim(axis) == 0 else axis)))


def _tie_share(x, ext, axis):
    """1/k on each of the k entries equal to the extremum ``ext``, 0 elsewhere."""
    hit = x == ext
    return hit / np.sum(hit, axis=axis, keepdims=True, dtype=_float_dtype(np.result_type(x)))


# -- dead primal values (area: Numba and speed, issue 14) -------------------------------
def elementwise_shape(*operands):
    """A stand-in for an elementwise result the backward sweep reads only for its shape:
    a zero-stride view with the operands' broadcast shape and the dtype a float ufunc of
    them gives, so the result itself is never computed (``passes/dead_values.py``)."""
    shape = np.broadcast_shapes(*[np.shape(o) for o in operands])
    dtype = np.result_type(*[o for o in operands if o is not None], 0.0)
    return np.broadcast_to(np.zeros((), dtype=dtype), shape)


# -- second order: transposes of linear helpers -------------------------------------------
def linear_transpose(fn, g, k, *args):
    """The transpose of the linear map ``args[k] -> fn(*args)``, applied to ``g``.

    Reverse rules of the helpers that are linear in their cotangent use it. They run only
    when reverse mode differentiates derivative code again (the rule tests); ``hvp``,
    ``hessian`` and ``grad(grad(f))`` are forward over reverse and never call it, so it is
    built column by column: exact, one call of ``fn`` per entry of ``args[k]``.
    """
    leaves = _leaves(args[k])
    size = sum(np.size(v) for v in leaves)
    complex_in = any(np.iscomplexobj(v) for v in leaves)
    flat_g = None
    out = np.zeros(size, dtype=complex if complex_in else float)
    for i in range(size):
        for unit in ((1.0, 1j) if complex_in else (1.0,)):
            column = fn(*args[:k], _unit_like(leaves, i, unit, args[k]), *args[k + 1:])
            parts = _leaves(column)
            if flat_g is None:
                flat_g = _flat(g, parts)
            out[i] += unit * np.real(np.vdot(_flat(column, parts), flat_g))
    return _shaped_like(out, leaves, args[k])


def _leaves(x):
    """The arrays of ``x``: its items when it is a list or tuple, else ``x`` itself."""
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _flat(value, like):
    """``value``'s leaves broadcast to the shapes of ``like`` and joined into one vector."""
    return np.concatenate([np.ravel(np.broadcast_to(v, np.shape(p)))
                           for v, p in zip(_leaves(value), like)] + [np.zeros(0)])


def _unit_like(leaves, i, unit, x):
    """Zeros shaped like ``x`` with ``unit`` at flat entry ``i`` of its leaves."""
    flat = np.zeros(sum(np.size(v) for v in leaves), dtype=complex if unit == 1j else float)
    flat[i] = unit
    return _shaped_like(flat, leaves, x)


def _shaped_like(flat, leaves, x):
    """A flat vector cut into ``x``'s leaves (Python floats for scalars, a list for a list)."""
    out, start = [], 0
    for v in leaves:
        n = int(np.size(v))
        piece = flat[start:start + n].reshape(np.shape(v))
        start += n
        out.append(piece if np.ndim(v) else piece[()].item())
    return AdjointList(out) if isinstance(x, (list, tuple)) else out[0]


# records' adjoints build on the containers above, which hand records to them
from ..pytree import is_record as _is_record  # noqa: E402
from .records import (AdjointRecord, ObjectAdjoint, _plain_object, _record_map,  # noqa: E402
                      _refuse_object_write, record_grad, record_tangent, record_zeros)
