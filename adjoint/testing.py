"""Checking derivatives against central finite differences.

``check_grad`` is what adjoint's own tests use for every construct and rule,
and what users run on their custom rules (the counterpart of
``torch.autograd.gradcheck``).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from .pytree import tree_ravel

if TYPE_CHECKING:
    from ._typing import Wrt

__all__ = ["check_grad", "numerical_grad", "numerical_vjp"]


def _wrt_positions(fun, args, wrt):
    import inspect
    params = list(inspect.signature(fun).parameters)
    items = list(wrt) if isinstance(wrt, (tuple, list)) else [wrt]
    return [params.index(w) if isinstance(w, str) else w % len(args) for w in items]


def numerical_vjp(fun: Callable[..., Any], args: Sequence[Any], positions: Sequence[int],
                  seed: Any, eps: float = 1e-6) -> list[Any]:
    """Central differences of ``<seed, fun(*args)>`` with respect to ``args[p]`` for each p."""
    out = []
    for p in positions:
        flat, unravel = tree_ravel(args[p])
        flat = flat.astype(np.float64)
        g = np.zeros_like(flat)
        for i in range(flat.size):
            step = eps * max(1.0, abs(flat[i]))
            vals = []
            for sign in (1.0, -1.0):
                moved = flat.copy()
                moved[i] += sign * step
                new_args = list(args)
                new_args[p] = unravel(moved)
                y = fun(*new_args)
                vals.append(np.sum(np.asarray(seed) * np.asarray(y, dtype=np.float64)))
            g[i] = (vals[0] - vals[1]) / (2 * step)
        out.append(unravel(g))
    return out


def numerical_grad(fun: Callable[..., Any], args: Sequence[Any], positions: Sequence[int],
                   eps: float = 1e-6) -> list[Any]:
    """Central-difference gradient of a scalar ``fun`` with respect to ``args[p]`` for each p."""
    return numerical_vjp(fun, args, positions, 1.0, eps)


def _flat(tree):
    return tree_ravel(tree)[0].astype(np.float64)


def check_grad(fun: Callable[..., Any], *args: Any, wrt: Wrt = 0, eps: float = 1e-6,
               rtol: float = 1e-5, atol: float = 1e-6, seed: Any = None) -> bool:
    """Assert that adjoint's derivative of ``fun`` at ``args`` matches finite differences.

    For a scalar output this checks ``adjoint.grad``; otherwise ``adjoint.vjp``
    with ``seed`` (random when not given). Returns True, or raises
    AssertionError saying which argument and entries differ.
    """
    from .api import grad, vjp
    positions = _wrt_positions(fun, args, wrt)
    single = not isinstance(wrt, (tuple, list))
    out = fun(*args)
    if np.ndim(out) == 0 and seed is None:
        got = grad(fun, wrt)(*args)
        want = numerical_grad(fun, args, positions, eps)
    else:
        if seed is None:
            seed = np.random.default_rng(0).standard_normal(np.shape(out))
        _, pullback = vjp(fun, wrt)(*args)
        got = pullback(seed)
        want = numerical_vjp(fun, args, positions, seed, eps)
    got = [got] if single else list(got)
    for k, (g, w) in enumerate(zip(got, want)):
        gf, wf = _flat(g), _flat(w)
        if gf.shape != wf.shape or not np.allclose(gf, wf, rtol=rtol, atol=atol):
            worst = int(np.argmax(np.abs(gf - wf))) if gf.shape == wf.shape else None
            raise AssertionError(
                f"gradient of {getattr(fun, '__name__', fun)} with respect to argument "
                f"{positions[k]} does not match finite differences\n adjoint:   {gf}\n numerical: {wf}"
                + (f"\n worst entry: {worst}" if worst is not None else ""))
    return True
