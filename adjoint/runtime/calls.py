"""Derivatives of the user's functions that rules receive as values (``np.piecewise``'s
``funclist``, ``odeint``'s ``func``), taken when the helper runs, with adjoint's own
transforms.

A vector-Jacobian product of ``func`` with ``cot`` is the gradient of the pairing
``sum(real(func(x0, ...) * conj(cot)))``, and the tangent of that product (what second derivatives
need) is the pairing's Hessian applied to the tangents of ``x`` and ``cot``. The pairing
is a small function made once per ``func`` and read by adjoint like any other (its tree
is given, not its source); ``func`` itself is differentiated as the user's code always
is. Second derivatives take real values only.
"""
from __future__ import annotations

import gast
import numpy as np

_MADE: dict = {}  # (func, number of arguments, pairing) -> the function made for it


def pairing(func, nargs):
    """``pair(x0, ..., cot) = sum(real(func(x0, ...) * conj(cot)))`` for ``func`` of ``nargs``
    positional arguments (made once per function and count): its gradient is the adjoint
    ``cot`` sends back to ``x``, in adjoint's convention for complex values too."""
    return _made(func, nargs, True)


def calling(func, nargs):
    """``call(x0, ...) = func(x0, ...)``: a function adjoint reads whatever ``func`` is (a
    ufunc or another function with a rule, which has no source to read)."""
    return _made(func, nargs, False)


def _made(func, nargs, paired):
    key = (func, nargs, paired)
    if key not in _MADE:
        _MADE[key] = _make(func, nargs, paired)
    return _MADE[key]


def _make(func, nargs, paired):
    from ..frontend import seed_parsed
    names = [f"x{k}" for k in range(nargs)]
    call = f"func({', '.join(names)})"
    label = getattr(func, "__qualname__", None) or getattr(func, "__name__", "func")
    filename = f"<adjoint: {'pairing' if paired else 'call'} of {label}>"
    source = (f"def pair({', '.join(names + ['cot'])}):\n"
              f"    return np.sum(np.real(np.asarray({call}) * np.conj(cot)))\n" if paired else
              f"def call({', '.join(names)}):\n    return {call}\n")
    namespace = {"np": np, "func": func}
    exec(compile(source, filename, "exec"), namespace)
    made = namespace["pair" if paired else "call"]
    seed_parsed(made, gast.parse(source).body[0], filename)
    return made


def jvp_of(func, args, tangents):
    """``(func(*args), its tangent)`` along ``tangents`` (one per argument)."""
    from ..api import jvp
    return jvp(calling(func, len(args)))(tuple(args), tuple(tangents))


def vjp_of(func, args, cot, wrt):
    """``func``'s vector-Jacobian products with ``cot`` at ``args``: one per position in
    ``wrt`` (a tuple)."""
    from ..api import grad
    return grad(pairing(func, len(args)), tuple(wrt))(*args, cot)


def vjp_tangent(func, args, cot, wrt, tangents, cot_tangent=None, with_jvp=False):
    """The tangents of ``vjp_of(func, args, cot, wrt)`` along ``tangents`` (one per argument,
    None for one held fixed) and ``cot_tangent`` (None: fixed): the pairing's Hessian in
    ``wrt``, the moving arguments and ``cot``, applied to those tangents, on the ``wrt`` rows.
    With ``with_jvp``, also its row of ``cot``: ``func``'s own tangent along ``tangents``."""
    from ..transforms import hvp
    moving = sorted(set(wrt) | {k for k, t in enumerate(tangents) if t is not None})
    every = (*moving, len(args))
    vs = [_zero_if_none(tangents[k], args[k]) for k in moving] + [_zero_if_none(cot_tangent, cot)]
    hv = hvp(pairing(func, len(args)), every)(*args, cot, tuple(vs))
    rows = tuple(hv[moving.index(k)] for k in wrt)
    return (rows, hv[-1]) if with_jvp else rows


def _zero_if_none(t, like):
    if t is None:
        return np.zeros(np.shape(like)) if np.ndim(like) else 0.0
    return np.broadcast_to(t, np.shape(like)) if np.ndim(like) else t
