"""Derivatives built from the others: jacobian, hessian, hvp and gradients of gradients.

Second derivatives are forward-over-reverse: adjoint generates the gradient's
source, then runs the forward-mode transformation over that generated code,
which is ordinary Python. A Hessian-vector product costs one such sweep (a
small multiple of the gradient), a full Hessian one sweep per entry of the
argument. Every transformed function is cached like the first-order ones.
"""
from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any, Callable, Literal

import numpy as np

from .api import (Transformed, _as_partial, _bound, _built, _check_differentiable, _check_tangent,
                  _wrt_names, vjp)
from .errors import AdjointError, NotDifferentiableError, WrtError, public
from .passes.kinds import argument_rank
from .passes.objects import argument_classes

if TYPE_CHECKING:
    from ._typing import Derivative, P, Wrt
from .pytree import tree_flatten, tree_leaves, tree_unflatten


def _plain(value, name, what):
    """Refuse pytree arguments where a flat basis is needed."""
    if isinstance(value, (dict, list, tuple)):
        raise WrtError(f"{what} needs '{name}' to be an array or a float; for a dict or list of "
                       "parameters, flatten it with adjoint.tree_ravel")


def _basis(x):
    """Unit tangents e_0, e_1, ... shaped like ``x``."""
    shape, dtype = np.shape(x), np.result_type(x, np.float64)
    for i in range(int(np.prod(shape, dtype=int))):
        e = np.zeros(shape, dtype=dtype)
        e.flat[i] = 1.0
        yield e if shape else float(e)


class _Derivative:
    """A derivative of ``fun`` with respect to some arguments; compiled code cached per argument ranks."""

    def __init__(self, fun, wrt):
        functools.update_wrapper(self, fun)
        self._fun = fun
        self._names, self._single = _wrt_names(fun, wrt)
        self._signature = inspect.signature(fun)
        params = list(self._signature.parameters)
        self._positions = [params.index(n) for n in self._names]
        self._name, self._position = self._names[0], self._positions[0]
        self._last = None

    def _one_argument(self, what):
        """Refuse a tuple ``wrt`` where only one argument is supported."""
        if len(self._names) != 1 or not self._single:
            raise WrtError(f"{what} takes one argument to differentiate (wrt=0 or a name), not "
                           f"{self._names}; for several, use adjoint.hessian(f, wrt=(0, 1)) or "
                           "flatten them with adjoint.tree_ravel")

    def _args(self, args, kwargs):
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        args = tuple(bound.arguments.values())
        for n, p in zip(self._names, self._positions):
            _check_differentiable(n, args[p])
        return args

    def _tangent_fn(self, mode, args):
        """The forward-mode function of ``fun``'s derivative in ``mode``, for these argument ranks."""
        ranks = tuple(map(argument_rank, args))
        inner = _built(self._fun, self._names, mode, ranks=ranks, classes=argument_classes(args))
        generated = inner.entry["main"]
        outer = _built(generated, self._names, "jvp", ranks=ranks)
        self._last = outer
        return outer.entry["main"]

    @property
    def source(self) -> str:
        """The generated forward-over-reverse module (for the arguments of the latest call)."""
        if self._last is None:
            raise AdjointError("call the function once first: the source depends on the arguments")
        return self._last.source


class _HVP(_Derivative):
    @public
    def __call__(self, *args):
        *args, v = args
        args = self._args(args, {})
        xs = [args[p] for p in self._positions]
        vs = [v] if self._single else list(v) if isinstance(v, (tuple, list)) else None
        if vs is None or len(vs) != len(xs):
            raise WrtError(f"hvp with wrt={self._names} takes one vector per argument, as a tuple")
        for n, x, t in zip(self._names, xs, vs):
            _check_tangent(n, x, t)
        _, hv = self._tangent_fn("grad", args)(*args, *vs)
        hv = _per_argument(hv, xs)
        hv = [_like(h, x) for h, x in zip(hv, xs)]
        return hv[0] if self._single else tuple(hv)


class _Hessian(_Derivative):
    """Blocks ``d2f / dx_i dx_j`` of shape ``x_i.shape + x_j.shape``; column j from tangents
    along x_j. Pytree arguments give nested blocks as ``jax.hessian`` does: the structure of
    ``x_i`` holding, at each leaf, the structure of ``x_j``."""

    @public
    def __call__(self, *args, **kwargs):
        args = self._args(args, kwargs)
        xs = [args[p] for p in self._positions]
        tangent = self._tangent_fn("grad", args)
        leaves = [tree_flatten(x) for x in xs]
        blocks = {}
        for j, (xj, _) in enumerate(leaves):
            for l, leaf in enumerate(xj):
                columns = [[tree_leaves(h) for h in _per_argument(
                    tangent(*args, *_unit_tangents(xs, j, l, e))[1], xs)] for e in _basis(leaf)]
                for i, (xi, _) in enumerate(leaves):
                    for m, row_leaf in enumerate(xi):
                        rows = [np.asarray(c[i][m]) for c in columns]
                        blocks[i, m, j, l] = _stack(rows, np.shape(row_leaf), np.shape(leaf),
                                                    row_leaf)
        nested = [[_nest(blocks, leaves, i, j) for j in range(len(xs))] for i in range(len(xs))]
        return nested[0][0] if self._single else tuple(tuple(row) for row in nested)


def _nest(blocks, leaves, i, j):
    """Block (i, j) as the structure of argument i holding the structure of argument j."""
    (xi, td_i), (xj, td_j) = leaves[i], leaves[j]
    return tree_unflatten(td_i, [tree_unflatten(td_j, [blocks[i, m, j, l] for l in range(len(xj))])
                                 for m in range(len(xi))])


def _unit_tangents(xs, j, l, e):
    """Tangents for every argument: ``e`` at leaf ``l`` of argument ``j``, zeros elsewhere."""
    return [_unit_tree(*tree_flatten(x), l if k == j else None, e) for k, x in enumerate(xs)]


def _unit_tree(leaves, td, l, e):
    """Zeros shaped like the tree's leaves, with ``e`` at leaf ``l`` (none when ``l`` is None)."""
    return tree_unflatten(td, [e if k == l else _zero(v) for k, v in enumerate(leaves)])


def _zero(x):
    return np.zeros_like(x, dtype=np.result_type(x, np.float64)) if isinstance(x, np.ndarray) \
        else 0.0


def _per_argument(value, xs):
    """A generated gradient's result as one entry per argument (it is bare for one)."""
    return [value] if len(xs) == 1 else list(value)


class _GradOfGrad(_Derivative):
    """``grad`` of a gradient function: forward mode over its generated source, one sweep per
    entry. Applied again (third order and beyond), forward mode runs over that forward code
    in turn, for scalar arguments: each level adds one tangent parameter and nests the result
    as ``(value, tangent)``."""

    def __init__(self, inner, wrt):
        super().__init__(inner._fun, wrt)
        self._one_argument("grad of a gradient")
        functools.update_wrapper(self, inner, updated=())  # not inner's __dict__: its state
        self._inner = inner
        self._order = inner._order + 1 if isinstance(inner, _GradOfGrad) else 2

    def _tangent_fn(self, mode, args):
        ranks = tuple(map(argument_rank, args))
        if isinstance(self._inner, _GradOfGrad):
            base = self._inner._tangent_fn(None, args)
        else:
            base = _built(self._inner._fun, self._inner._wrt, self._inner._mode,
                          self._inner._aux, ranks, classes=argument_classes(args),
                          memory=self._inner._memory).entry["main"]
        try:
            outer = _built(base, (self._name,), "jvp", ranks=ranks + (0,) * (self._order - 2))
        except NotDifferentiableError as exc:
            raise self._checkpointed(exc) from None
        self._last = outer
        return outer.entry["main"]

    def _checkpointed(self, exc):
        """``exc``, saying why the loop is checkpointed when ``checkpoint_memory`` chose it
        (the user marked no loop, so the refusal must name the option)."""
        memory = getattr(self._inner, "_memory", None)
        if memory is None or "checkpoint_forward" not in exc.message:
            return exc
        return NotDifferentiableError(
            f"{exc.message}; its loop is checkpointed because the gradient was made with "
            f"checkpoint_memory={memory}: take higher derivatives of a gradient made without it",
            exc.filename, exc.lineno)

    @public
    def __call__(self, *args, **kwargs):
        args = self._args(args, kwargs)
        x = args[self._position]
        _plain(x, self._name, "grad of a gradient")
        if self._order > 2:
            return self._higher(args)
        tangent = self._tangent_fn(None, args)
        out = None
        parts = []
        for e in _basis(x):
            out, out_dot = tangent(*args, e)
            self._check_scalar(out)
            parts.append(out_dot)
        return _like(np.reshape(np.array(parts, dtype=float), np.shape(x)), x)

    def _higher(self, args):
        """A third or higher derivative: one sweep with unit tangents, for scalar arguments."""
        for level in self._levels():
            value = args[level._position]
            if np.ndim(value) != 0 or np.iscomplexobj(value):
                raise AdjointError(f"derivatives beyond the second are for real scalar "
                                   f"arguments; '{level._name}' has shape {np.shape(value)}: "
                                   "use adjoint.hvp or adjoint.hessian")
        value = result = self._tangent_fn(None, args)(*args, *([1.0] * (self._order - 1)))
        for _ in range(self._order - 1):
            result, value = result[0], value[1]
        self._check_scalar(result)  # the gradient itself, innermost
        return float(value)

    def _levels(self):
        """This grad of a gradient and the ones inside it."""
        level = self
        while isinstance(level, _GradOfGrad):
            yield level
            level = level._inner

    def _check_scalar(self, out):
        if np.ndim(out) != 0:
            raise AdjointError(
                f"grad(grad({self._fun.__name__})) needs a gradient that is a scalar, but it "
                f"has shape {np.shape(out)}; use adjoint.hessian or adjoint.hvp")


def _like(value, x):
    from .runtime import grad_like
    return grad_like(value, x)


def _stack(rows, out_shape, in_shape, x):
    """Jacobian entries ``d out / d x[i]`` (one per row) as an array ``out_shape + in_shape``."""
    dtype = np.result_type(np.float64 if isinstance(x, float) else x, np.float32)
    table = np.array([np.broadcast_to(r, out_shape) for r in rows], dtype=dtype)
    table = table.reshape((len(rows),) + tuple(out_shape))
    return np.moveaxis(table, 0, -1).reshape(tuple(out_shape) + tuple(in_shape))


class _Jacobian(_Derivative):
    """``d out / d x``: for arrays, shape ``out.shape + x.shape``; for pytrees (and a tuple
    ``wrt``), nested as ``jax.jacobian`` nests them: the output's structure holding, at each
    leaf, the argument's structure (a tuple of them for a tuple ``wrt``)."""

    def __init__(self, fun, wrt, mode):
        super().__init__(fun, wrt)
        if mode not in ("auto", "forward", "reverse"):
            raise AdjointError(f"jacobian mode must be 'auto', 'forward' or 'reverse', not {mode!r}")
        self._mode = mode

    @public
    def __call__(self, *args, **kwargs):
        args = self._args(args, kwargs)
        xs = [args[p] for p in self._positions]
        out = self._fun(*args)
        in_leaves = [tree_flatten(x) for x in xs]
        out_leaves, out_td = tree_flatten(out)
        n_in = sum(int(np.size(v)) for x, _ in in_leaves for v in x)
        n_out = sum(int(np.size(v)) for v in out_leaves)
        ranks = tuple(map(argument_rank, args))
        if self._mode == "forward" or (self._mode == "auto" and n_in <= n_out):
            blocks = self._forward(args, xs, in_leaves, out_leaves)
            self._last = _built(self._fun, self._names, "jvp", ranks=ranks)
        else:
            blocks = self._reverse(args, xs, in_leaves, out_leaves, out_td)
            self._last = _built(self._fun, self._names, "split", ranks=ranks)
        per_out = []
        for o in range(len(out_leaves)):
            parts = [tree_unflatten(td, [blocks[o, i, l] for l in range(len(x))])
                     for i, (x, td) in enumerate(in_leaves)]
            per_out.append(parts[0] if self._single else tuple(parts))
        return tree_unflatten(out_td, per_out)

    def _forward(self, args, xs, in_leaves, out_leaves):
        """One jvp per input entry: column ``l`` of each block."""
        from .api import jvp
        tangent = jvp(self._fun, self._names if not self._single else self._name)
        blocks = {}
        for i, (x, _) in enumerate(in_leaves):
            for l, leaf in enumerate(x):
                columns = [tree_leaves(tangent(args, tuple(_unit_tangents(xs, i, l, e)))[1])
                           for e in _basis(leaf)]
                for o, out in enumerate(out_leaves):
                    rows = [np.asarray(c[o]) for c in columns]
                    blocks[o, i, l] = _stack(rows, np.shape(out), np.shape(leaf), leaf)
        return blocks

    def _reverse(self, args, xs, in_leaves, out_leaves, out_td):
        """One forward sweep and a pullback per output entry: row ``o`` of each block."""
        _, pullback = vjp(self._fun, self._names if not self._single else self._name)(*args)
        blocks = {}
        for o, out in enumerate(out_leaves):
            rows = [[tree_leaves(g) for g in _per_argument(
                pullback(_unit_tree(out_leaves, out_td, o, e)), xs)]
                for e in _basis(out)]
            for i, (x, _) in enumerate(in_leaves):
                for l, leaf in enumerate(x):
                    table = np.array([np.asarray(r[i][l]) for r in rows], dtype=float)
                    blocks[o, i, l] = table.reshape(np.shape(out) + np.shape(leaf))
        return blocks


@public
def hvp(fun: Callable[..., Any], wrt: Wrt = 0) -> Derivative[..., Any]:
    """``hvp(fun)(*args, v)``: the Hessian of scalar ``fun`` times ``v``, by forward-over-reverse.

    One forward-mode sweep over the generated gradient: no Hessian is formed.
    With a tuple ``wrt``, ``v`` is a tuple of one vector per argument and so is
    the result.
    """
    return _maybe_bound(fun, wrt, _HVP)


@public
def hessian(fun: Callable[P, Any], wrt: Wrt = 0) -> Derivative[P, Any]:
    """``hessian(fun)(*args)``: the matrix of second derivatives, shape ``x.shape + x.shape``.

    Built column by column from Hessian-vector products (forward over reverse).
    With a tuple ``wrt=(0, 1)`` the result is the tuple of blocks
    ``((H00, H01), (H10, H11))``, ``Hij`` of shape ``x_i.shape + x_j.shape``.
    """
    return _maybe_bound(fun, wrt, _Hessian)


@public
def jacobian(fun: Callable[P, Any], wrt: Wrt = 0,
             mode: Literal["auto", "forward", "reverse"] = "auto") -> Derivative[P, Any]:
    """``jacobian(fun)(*args)``: ``d out / d x`` with shape ``out.shape + x.shape``.

    ``mode="auto"`` uses forward mode (one jvp per input entry) when the input
    has no more entries than the output, otherwise reverse mode (one pullback
    per output entry from a single forward sweep).
    """
    return _maybe_bound(fun, wrt, lambda f, w: _Jacobian(f, w, mode))


def _maybe_bound(fun, wrt, make):
    """``make(fun, wrt)``; for a bound method or a partial, of its function with the bound
    arguments (``self``) passed on, ``wrt`` counting the remaining parameters."""
    fun = _as_partial(fun)
    if isinstance(fun, functools.partial):
        return _bound(fun, wrt, make)
    return make(fun, wrt)


def grad_of_grad(inner: Transformed, wrt):
    """``grad`` applied to a gradient function (see ``adjoint.grad``)."""
    if isinstance(inner, _GradOfGrad):
        return _GradOfGrad(inner, wrt)
    if not isinstance(inner, Transformed) or inner._mode != "grad" or inner._aux:
        raise AdjointError("grad can be applied to a gradient made by adjoint.grad (without "
                           "has_aux) or to such a grad of a gradient; for other derivatives use "
                           "jvp, hvp, hessian or jacobian")
    return _GradOfGrad(inner, wrt)
