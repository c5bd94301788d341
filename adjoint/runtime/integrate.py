"""Helpers of the ``scipy.integrate`` rules (``rules/integrate.py``).

``odeint``'s derivatives come from two more integrations of the ODE, with
SciPy's ``odeint`` itself. The user's ``func(y, t, *args)`` is differentiated
by adjoint: its vector-Jacobian products (``adjoint.vjp``) drive the adjoint
ODE, integrated backwards; its Jacobian-vector products (``adjoint.jvp``) drive
the sensitivity ODE, integrated forwards. Nothing here imports SciPy or the
rest of adjoint until it runs.
"""
from __future__ import annotations

import numpy as np

from .core import AdjointList

__all__ = ["odeint_grad", "odeint_jvp", "odeint_grad_dot"]


def _odeint(*args, **kwargs):
    from scipy.integrate import odeint
    return odeint(*args, **kwargs)


def _adjoint_dynamics(func, args, size):
    """The backward system of ``z = (y, lam, mu)``: ``y' = f``, ``lam' = -f_y^T lam``,
    ``mu' = -f_args^T lam``, where ``lam`` is the adjoint of ``y`` and ``mu`` gathers the
    adjoints of ``args``."""
    from ..api import vjp
    pullback_of = vjp(func, tuple([0] + [2 + k for k in range(len(args))]))

    def dynamics(z, t):
        y, lam = z[:size], z[size:2 * size]
        out, pullback = pullback_of(y, t, *args)
        grads = pullback(-lam)
        return np.concatenate([np.ravel(out)] + [np.ravel(gk) for gk in grads])
    return dynamics


def odeint_grad(g, func, y0, times, args, ans, rtol=None, atol=None):
    """The adjoints ``(y0_bar, times_bar, args_bar)`` of ``odeint(func, y0, times, args)``.

    Between two output times the adjoint ODE runs backwards from the stored solution;
    at each output time the output's adjoint ``g[i]`` is added to ``lam``. A later
    output time ``t_i`` moves its output by ``f(y_i, t_i)``; the first time moves the
    whole solution by ``-f(y0, t0)``, through ``lam(t0)`` without ``g[0]``.
    """
    g = np.broadcast_to(g, np.shape(ans))
    size = ans.shape[1]
    dynamics = _adjoint_dynamics(func, args, size)
    lam = np.array(g[-1], dtype=float)
    mu = np.zeros(sum(np.size(a) for a in args))
    times_bar = np.zeros(len(times))
    for i in range(len(times) - 1, 0, -1):
        times_bar[i] = np.dot(np.ravel(func(ans[i], times[i], *args)), g[i])
        z = _odeint(dynamics, np.concatenate([ans[i], lam, mu]), [times[i], times[i - 1]],
                    rtol=rtol, atol=atol)[1]
        lam, mu = z[size:2 * size] + g[i - 1], z[2 * size:]
    times_bar[0] = -np.dot(np.ravel(func(ans[0], times[0], *args)), lam - g[0])
    return AdjointList([np.reshape(lam, np.shape(y0)), times_bar, _unflatten(mu, args)])


def _unflatten(flat, args):
    out, k = [], 0
    for a in args:
        n = np.size(a)
        part = flat[k:k + n]
        out.append(np.reshape(part, np.shape(a)) if isinstance(a, np.ndarray) else float(part[0]))
        k += n
    return AdjointList(out)


def odeint_jvp(func, y0, times, args, ans, t_y0=None, t_times=None, t_args=None, rtol=None,
               atol=None):
    """The tangent of ``odeint``'s solution: ``s' = f_y s + f_args t_args`` from
    ``s(t0) = t_y0 - f(y0, t0) t_times[0]``, plus ``f(y_i, t_i) t_times[i]`` at each output."""
    from ..api import jvp
    size = ans.shape[1]
    tangent_of = jvp(func, tuple([0] + [2 + k for k in range(len(args))]))
    moving = [np.zeros(np.shape(a)) for a in args] if t_args is None else list(t_args)

    def dynamics(z, t):
        out, out_dot = tangent_of((z[:size], t, *args), (z[size:], *moving))
        return np.concatenate([np.ravel(out), np.ravel(out_dot)])
    slopes = np.array([np.ravel(func(y, s, *args)) for y, s in zip(ans, times)])
    start = np.zeros(size) if t_y0 is None else np.ravel(t_y0).astype(float)
    if t_times is not None:
        start = start - slopes[0] * t_times[0]
    s = _odeint(dynamics, np.concatenate([np.ravel(y0).astype(float), start]), times,
                rtol=rtol, atol=atol)[:, size:]
    return s + slopes * np.reshape(t_times, (-1, 1)) if t_times is not None else s


# -- second order: the tangent of odeint_grad, by forward sensitivities of the backward system --
def _backward_tangent_dynamics(func, args, t_args, size):
    """The backward system ``z = (y, lam, mu)`` with its tangent ``s`` beside it:
    ``s' = D_z s + D_args t_args``, where ``D = (f, -f_y^T lam, -f_args^T lam)``. The
    tangents of the vector-Jacobian products are ``func``'s second derivatives
    (``calls.vjp_tangent``); their row of the cotangent is ``f_y s_y + f_args t_args``."""
    from .calls import vjp_tangent
    base = _adjoint_dynamics(func, args, size)
    wrt = tuple([0] + [2 + k for k in range(len(args))])
    width = 2 * size + sum(np.size(a) for a in args)

    def dynamics(w, t):
        z, s = w[:width], w[width:]
        rows, slope = vjp_tangent(func, (z[:size], t, *args), -z[size:2 * size], wrt,
                                  (s[:size], None, *t_args), -s[size:2 * size], with_jvp=True)
        return np.concatenate([base(z, t), np.ravel(slope)] + [np.ravel(r) for r in rows])
    return dynamics, base


def _arg_tangents(args, t_args):
    """One tangent per item of ``args`` (zeros for ``0.0``)."""
    if isinstance(t_args, (list, tuple)):
        return [np.broadcast_to(t, np.shape(a)) if np.ndim(a) else float(t) for t, a in zip(t_args, args)]
    return [np.zeros(np.shape(a)) if np.ndim(a) else 0.0 for a in args]


def odeint_grad_dot(g, func, y0, times, args, ans, rtol=None, atol=None, times_dot=0.0,
                    args_dot=0.0, ans_dot=0.0):
    """Tangent of ``odeint_grad`` along the tangents of the times, ``args`` and the stored
    solution (it is linear in ``g``, whose tangent is ``odeint_grad`` itself).

    Each backward stretch from ``t_i`` to ``t_(i-1)`` is integrated with its sensitivity:
    it starts at the tangent of ``(y_i, lam, mu)`` less ``D dt_i`` (a later start) and ends
    plus ``D dt_(i-1)`` (a later end); ``times_bar``'s terms move with ``f``'s own tangent.
    """
    from .calls import jvp_of
    g = np.broadcast_to(g, np.shape(ans))
    size, n = ans.shape[1], len(times)
    d_times = np.broadcast_to(times_dot, np.shape(times))
    d_ans = np.broadcast_to(ans_dot, np.shape(ans))
    t_args = _arg_tangents(args, args_dot)
    dynamics, base = _backward_tangent_dynamics(func, args, t_args, size)

    def slope_dot(i):
        return np.ravel(jvp_of(func, (ans[i], times[i], *args), (d_ans[i], d_times[i], *t_args))[1])
    m = sum(np.size(a) for a in args)
    width = 2 * size + m
    z = np.concatenate([np.array(g[-1], dtype=float), np.zeros(m)])  # (lam, mu)
    s = np.zeros(size + m)
    d_times_bar = np.zeros(n)
    for i in range(n - 1, 0, -1):
        d_times_bar[i] = np.dot(slope_dot(i), g[i])
        start = np.concatenate([ans[i], z])
        d_start = np.concatenate([d_ans[i], s]) - base(start, times[i]) * d_times[i]
        w = _odeint(dynamics, np.concatenate([start, d_start]), [times[i], times[i - 1]],
                    rtol=rtol, atol=atol)[1]
        end = w[:width]
        z = end[size:] + np.concatenate([g[i - 1], np.zeros(m)])
        s = (w[width:] + base(end, times[i - 1]) * d_times[i - 1])[size:]
    lam, d_lam = z[:size], s[:size]
    d_times_bar[0] = -np.dot(slope_dot(0), lam - g[0]) \
        - np.dot(np.ravel(func(ans[0], times[0], *args)), d_lam)
    return AdjointList([np.reshape(d_lam, np.shape(y0)), d_times_bar, _unflatten(s[size:], args)])
