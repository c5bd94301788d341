"""Rules for ``scipy.integrate``, loaded on first need (see ``registry.OPTIONAL``).

``odeint(func, y0, t, args)`` is differentiated in ``y0``, the output times and
``args`` by the adjoint method (``runtime/integrate.py``): the adjoint ODE
``lam' = -f_y^T lam`` integrated backwards gives ``y0_bar = lam(t0)`` and
``args_bar = integral of f_args^T lam``; ``func`` itself is differentiated by
adjoint. Second derivatives run the backward system's forward sensitivities beside it
(``odeint_grad_dot``), whose right-hand side takes ``func``'s second derivatives from
``runtime/calls.py``. The times are the third positional argument (the template calls them
``times``: ``t`` is the name of a tangent).
"""
import scipy.integrate as si

from .. import runtime as rt
from .generated import _second
from .registry import structural

GRADS = "odeint_grad(g, func, y0, times, args, ans, rtol, atol)"
structural(si.odeint, "func, y0, times, args=(), rtol=None, atol=None",
           y0=f"{GRADS}[0]", times=f"{GRADS}[1]", args=f"{GRADS}[2]",
           jvp={"y0": "odeint_jvp(func, y0, times, args, ans, t, None, None, rtol, atol)",
                "times": "odeint_jvp(func, y0, times, args, ans, None, t, None, rtol, atol)",
                "args": "odeint_jvp(func, y0, times, args, ans, None, None, t, rtol, atol)"},
           notes="in y0, the times and args, by the adjoint ODE; func is differentiated by adjoint;"
                 " second order by the backward system's forward sensitivities (real values)")

# second order: the tangent of the adjoint-ODE gradient along the times, args and the stored
# solution is its *_dot twin, forward sensitivities of the backward system (runtime/integrate.py)
_second(rt.odeint_grad, "cot, func, y0, times, args, ans_, rtol=None, atol=None",
        ["times", "args", "ans_"])
