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

import numpy as np

from .api import Transformed, _built, _check_differentiable, _check_tangent, _wrt_names, vjp
from .errors import AdjointError, WrtError
from .passes.kinds import argument_rank


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
    """A derivative of ``fun`` with respect to one argument; compiled code cached per argument ranks."""

    def __init__(self, fun, wrt):
        functools.update_wrapper(self, fun)
        self._fun = fun
        (self._name,), _ = _wrt_names(fun, wrt)
        self._signature = inspect.signature(fun)
        self._position = list(self._signature.parameters).index(self._name)
        self._last = None

    def _args(self, args, kwargs):
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        args = tuple(bound.arguments.values())
        _check_differentiable(self._name, args[self._position])
        return args

    def _tangent_fn(self, mode, args):
        """The forward-mode function of ``fun``'s derivative in ``mode``, for these argument ranks."""
        ranks = tuple(map(argument_rank, args))
        inner = _built(self._fun, (self._name,), mode, ranks=ranks)
        generated = inner.entry["main"]
        outer = _built(generated, (self._name,), "jvp", ranks=ranks)
        self._last = outer
        return outer.entry["main"]

    @property
    def source(self) -> str:
        """The generated forward-over-reverse module (for the arguments of the latest call)."""
        if self._last is None:
            raise AdjointError("call the function once first: the source depends on the arguments")
        return self._last.source


class _HVP(_Derivative):
    def __call__(self, *args):
        *args, v = args
        args = self._args(args, {})
        x = args[self._position]
        _check_tangent(self._name, x, v)
        _, hv = self._tangent_fn("grad", args)(*args, v)
        return _like(hv, x)


class _Hessian(_Derivative):
    def __call__(self, *args, **kwargs):
        args = self._args(args, kwargs)
        x = args[self._position]
        _plain(x, self._name, "hessian")
        tangent = self._tangent_fn("grad", args)
        rows = [np.asarray(tangent(*args, e)[1]) for e in _basis(x)]
        return _stack(rows, np.shape(x), np.shape(x), x)


class _GradOfGrad(_Derivative):
    """``grad`` of a gradient function: forward mode over its generated source, one sweep per entry."""

    def __init__(self, inner, wrt):
        super().__init__(inner._fun, wrt)
        self._inner = inner
        functools.update_wrapper(self, inner)

    def _tangent_fn(self, mode, args):
        ranks = tuple(map(argument_rank, args))
        inner = _built(self._inner._fun, self._inner._wrt, self._inner._mode, self._inner._aux,
                       ranks)
        outer = _built(inner.entry["main"], (self._name,), "jvp", ranks=ranks)
        self._last = outer
        return outer.entry["main"]

    def __call__(self, *args, **kwargs):
        args = self._args(args, kwargs)
        x = args[self._position]
        _plain(x, self._name, "grad of a gradient")
        tangent = self._tangent_fn(None, args)
        out = None
        parts = []
        for e in _basis(x):
            out, out_dot = tangent(*args, e)
            if np.ndim(out) != 0:
                raise AdjointError(
                    f"grad(grad({self._fun.__name__})) needs a gradient that is a scalar, but it "
                    f"has shape {np.shape(out)}; use adjoint.hessian or adjoint.hvp")
            parts.append(out_dot)
        return _like(np.reshape(np.array(parts, dtype=float), np.shape(x)), x)


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
    def __init__(self, fun, wrt, mode):
        super().__init__(fun, wrt)
        if mode not in ("auto", "forward", "reverse"):
            raise AdjointError(f"jacobian mode must be 'auto', 'forward' or 'reverse', not {mode!r}")
        self._mode = mode

    def __call__(self, *args, **kwargs):
        args = self._args(args, kwargs)
        x = args[self._position]
        _plain(x, self._name, "jacobian")
        out = self._fun(*args)
        _plain(out, "the output", "jacobian")
        n_in, n_out = int(np.size(x)), int(np.size(out))
        forward = self._mode == "forward" or (self._mode == "auto" and n_in <= n_out)
        if forward:
            from .api import jvp
            tangent = jvp(self._fun, self._name)
            rows = [tangent(args, (e,))[1] for e in _basis(x)]
            self._last = _built(self._fun, (self._name,), "jvp",
                                ranks=tuple(map(argument_rank, args)))
            return _stack(rows, np.shape(out), np.shape(x), x)
        _, pullback = vjp(self._fun, self._name)(*args)
        self._last = _built(self._fun, (self._name,), "split", ranks=tuple(map(argument_rank, args)))
        table = np.array([np.asarray(pullback(e)) for e in _basis(out)], dtype=float)
        return table.reshape(np.shape(out) + np.shape(x))


def hvp(fun, wrt=0):
    """``hvp(fun)(*args, v)``: the Hessian of scalar ``fun`` times ``v``, by forward-over-reverse.

    One forward-mode sweep over the generated gradient: no Hessian is formed.
    """
    return _HVP(fun, wrt)


def hessian(fun, wrt=0):
    """``hessian(fun)(*args)``: the matrix of second derivatives, shape ``x.shape + x.shape``.

    Built column by column from Hessian-vector products (forward over reverse).
    """
    return _Hessian(fun, wrt)


def jacobian(fun, wrt=0, mode="auto"):
    """``jacobian(fun)(*args)``: ``d out / d x`` with shape ``out.shape + x.shape``.

    ``mode="auto"`` uses forward mode (one jvp per input entry) when the input
    has no more entries than the output, otherwise reverse mode (one pullback
    per output entry from a single forward sweep).
    """
    return _Jacobian(fun, wrt, mode)


def grad_of_grad(inner: Transformed, wrt):
    """``grad`` applied to a gradient function (see ``adjoint.grad``)."""
    if not isinstance(inner, Transformed) or inner._mode != "grad" or inner._aux:
        raise AdjointError("grad can be applied to a gradient made by adjoint.grad (without "
                           "has_aux), once; for other derivatives use jvp, hvp, hessian or "
                           "jacobian")
    return _GradOfGrad(inner, wrt)
