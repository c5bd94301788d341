"""Benchmark workloads: each loss written once as plain NumPy, plus each engine's gradient.

A workload provides ``data(size)`` (the arguments), ``loss`` (what a user would
write for adjoint), ``wrt`` (the differentiated positions) and one gradient
maker per engine, each returning a function of the same arguments that
returns the gradients as a tuple. Peers are imported lazily, so a missing
peer only removes its column.
"""
from __future__ import annotations

import math
import time

import numpy as np


# -- the losses, as a user writes them ---------------------------------------------------
def mlp_loss(W1, b1, W2, b2, X, Y):
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    m = np.max(z, axis=1, keepdims=True)
    logp = z - m - np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))
    return -np.sum(Y * logp) / X.shape[0]


def logreg_loss(w, X, y, lam):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z) + lam * np.sum(w * w)


def recurrence_loss(a, b, x0, n):
    x = x0
    for i in range(n):
        x = a * x + b * np.sin(x)
    return x


def logsumexp_loop_loss(x):
    m = np.max(x)
    s = 0.0
    for i in range(x.shape[0]):
        s += np.exp(x[i] - m)
    return m + np.log(s)


def tiny_loss(x):
    return np.sin(x) * x ** 2


# -- hand-written NumPy gradients ----------------------------------------------------------
def mlp_hand(W1, b1, W2, b2, X, Y):
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    dz = (e / np.sum(e, axis=1, keepdims=True) - Y) / n
    dh = (dz @ W2.T) * (1 - h * h)
    return X.T @ dh, dh.sum(0), h.T @ dz, dz.sum(0)


def logreg_hand(w, X, y, lam):
    z = X @ w
    p = 1.0 / (1.0 + np.exp(-z))
    return (X.T @ (p - y) / X.shape[0] + 2 * lam * w,)


def recurrence_hand(a, b, x0, n):
    xs = [0.0] * n
    x = x0
    for i in range(n):
        xs[i] = x
        x = a * x + b * np.sin(x)
    ga = gb = 0.0
    gx = 1.0
    for i in range(n - 1, -1, -1):
        x = xs[i]
        ga += gx * x
        gb += gx * np.sin(x)
        gx = gx * (a + b * np.cos(x))
    return ga, gb


def logsumexp_loop_hand(x):
    m = np.max(x)
    n = x.shape[0]
    e = np.empty(n)
    s = 0.0
    for i in range(n):
        e[i] = np.exp(x[i] - m)
        s += e[i]
    g = np.empty(n)
    for i in range(n):
        g[i] = e[i] / s
    return (g,)


def tiny_hand(x):
    return (math.cos(x) * x * x + math.sin(x) * 2 * x,)


# -- hand-written Numba gradients (compiled on first use) -------------------------------------
_NUMBA = {}


def numba_hand(name):
    if name not in _NUMBA:
        import numba
        _NUMBA.update({
            "mlp": numba.njit(_mlp_numba), "logreg": numba.njit(logreg_hand),
            "recurrence": numba.njit(_recurrence_numba), "logsumexp_loop": numba.njit(_lse_numba),
            "tiny": numba.njit(tiny_hand),
        })
    return _NUMBA[name]


def _mlp_numba(W1, b1, W2, b2, X, Y):
    n = X.shape[0]
    h = np.tanh(X @ W1 + b1)
    z = h @ W2 + b2
    dz = np.empty_like(z)
    for r in range(n):
        m = z[r].max()
        e = np.exp(z[r] - m)
        dz[r] = (e / e.sum() - Y[r]) / n
    dh = (dz @ W2.T) * (1 - h * h)
    return X.T @ dh, np.sum(dh, axis=0), h.T @ dz, np.sum(dz, axis=0)


def _recurrence_numba(a, b, x0, n):
    xs = np.empty(n)
    x = x0
    for i in range(n):
        xs[i] = x
        x = a * x + b * math.sin(x)
    ga = gb = 0.0
    gx = 1.0
    for i in range(n - 1, -1, -1):
        x = xs[i]
        ga += gx * x
        gb += gx * math.sin(x)
        gx = gx * (a + b * math.cos(x))
    return ga, gb


def _lse_numba(x):
    m = x[0]
    for v in x:
        m = max(m, v)
    s = 0.0
    for v in x:
        s += math.exp(v - m)
    g = np.empty_like(x)
    for i in range(x.shape[0]):
        g[i] = math.exp(x[i] - m) / s
    return (g,)


# -- peers -------------------------------------------------------------------------------------
def autograd_grad(name):
    import autograd
    import autograd.numpy as anp

    def mlp(W1, b1, W2, b2, X, Y):
        h = anp.tanh(anp.dot(X, W1) + b1)
        z = anp.dot(h, W2) + b2
        m = anp.max(z, axis=1, keepdims=True)
        logp = z - m - anp.log(anp.sum(anp.exp(z - m), axis=1, keepdims=True))
        return -anp.sum(Y * logp) / X.shape[0]

    def logreg(w, X, y, lam):
        z = anp.dot(X, w)
        return anp.mean(anp.logaddexp(0.0, z) - y * z) + lam * anp.sum(w * w)

    def recurrence(a, b, x0, n):
        x = x0
        for _ in range(n):
            x = a * x + b * anp.sin(x)
        return x

    def lse(x):
        m = anp.max(x)
        s = 0.0
        for i in range(x.shape[0]):
            s = s + anp.exp(x[i] - m)
        return m + anp.log(s)

    def tiny(x):
        return anp.sin(x) * x ** 2

    fn = {"mlp": mlp, "logreg": logreg, "recurrence": recurrence, "logsumexp_loop": lse,
          "tiny": tiny}[name]
    g = autograd.grad(fn, WORKLOADS[name].wrt)
    return lambda *args: tuple(g(*args))


def jax_grad(name):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def mlp(W1, b1, W2, b2, X, Y):
        h = jnp.tanh(X @ W1 + b1)
        z = h @ W2 + b2
        m = jnp.max(z, axis=1, keepdims=True)
        logp = z - m - jnp.log(jnp.sum(jnp.exp(z - m), axis=1, keepdims=True))
        return -jnp.sum(Y * logp) / X.shape[0]

    def logreg(w, X, y, lam):
        z = X @ w
        return jnp.mean(jnp.logaddexp(0.0, z) - y * z) + lam * jnp.sum(w * w)

    def recurrence(a, b, x0, n):
        return jax.lax.fori_loop(0, n, lambda i, x: a * x + b * jnp.sin(x), x0)

    def lse(x):
        m = jnp.max(x)
        s = jax.lax.fori_loop(0, x.shape[0], lambda i, s: s + jnp.exp(x[i] - m), 0.0)
        return m + jnp.log(s)

    def tiny(x):
        return jnp.sin(x) * x ** 2

    fn = {"mlp": mlp, "logreg": logreg, "recurrence": recurrence, "logsumexp_loop": lse,
          "tiny": tiny}[name]
    static = (3,) if name == "recurrence" else ()
    g = jax.jit(jax.grad(fn, WORKLOADS[name].wrt), static_argnums=static)

    def call(*args):
        out = g(*args)
        jax.block_until_ready(out)
        return tuple(np.asarray(o) for o in out)
    return call


def torch_grad(name):
    import torch
    torch.set_num_threads(1)
    wrt = WORKLOADS[name].wrt

    def mlp(W1, b1, W2, b2, X, Y):
        h = torch.tanh(X @ W1 + b1)
        z = h @ W2 + b2
        m = torch.amax(z, dim=1, keepdim=True)
        logp = z - m - torch.log(torch.sum(torch.exp(z - m), dim=1, keepdim=True))
        return -torch.sum(Y * logp) / X.shape[0]

    def logreg(w, X, y, lam):
        z = X @ w
        return torch.mean(torch.logaddexp(torch.zeros(()), z) - y * z) + lam * torch.sum(w * w)

    def recurrence(a, b, x0, n):
        x = x0
        for _ in range(n):
            x = a * x + b * torch.sin(x)
        return x

    def lse(x):
        m = torch.max(x)
        s = torch.zeros((), dtype=x.dtype)
        for i in range(x.shape[0]):
            s = s + torch.exp(x[i] - m)
        return m + torch.log(s)

    def tiny(x):
        return torch.sin(x) * x ** 2

    fn = {"mlp": mlp, "logreg": logreg, "recurrence": recurrence, "logsumexp_loop": lse,
          "tiny": tiny}[name]

    def call(*args):
        targs = [torch.tensor(a, dtype=torch.float64, requires_grad=i in wrt)
                 if isinstance(a, (float, np.ndarray)) else a for i, a in enumerate(args)]
        fn(*targs).backward()
        return tuple(targs[i].grad.numpy() for i in wrt)
    return call


# -- the registry -------------------------------------------------------------------------------
class Workload:
    """A loss and its sizes. ``engines`` adds or replaces engine makers for this workload (a
    zero-argument maker; None drops the engine); ``reference`` replaces ``hand`` as the gradient
    every engine is checked against (within ``tol``); ``cost(size)`` scales the estimates from
    one size to the next; ``memory`` asks for each engine's peak memory."""

    def __init__(self, name, loss, hand, wrt, sizes, data, label, engines=None, reference=None,
                 tol=(1e-6, 1e-9), cost=None, memory=False):
        self.name, self.loss, self.hand, self.wrt = name, loss, hand, wrt
        self.sizes, self.data, self.label = sizes, data, label
        self.reference = reference or hand
        self.tol, self.memory = tol, memory
        self.cost = cost or (lambda size: float(np.prod(size)))
        self._engines = engines or {}

    def engines(self):
        """{engine name: maker of its gradient function}, in table order."""
        out = {e: (lambda e=e: ENGINES[e](self.name)) for e in ENGINES}
        out.update(self._engines)
        return {e: maker for e, maker in out.items() if maker is not None}


def _mlp_data(size):
    batch, inp, hidden, out = size
    rng = np.random.default_rng(0)
    return (rng.normal(size=(inp, hidden)) / np.sqrt(inp), np.zeros(hidden),
            rng.normal(size=(hidden, out)) / np.sqrt(hidden), np.zeros(out),
            rng.normal(size=(batch, inp)), np.eye(out)[rng.integers(0, out, batch)])


def _logreg_data(n):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 10))
    y = (rng.random(n) < 0.5).astype(float)
    return (rng.normal(size=10) * 0.1, X, y, 1e-3)


WORKLOADS = {
    "mlp": Workload("mlp", mlp_loss, mlp_hand, (0, 1, 2, 3),
                    [(32, 16, 32, 4), (256, 64, 256, 10), (2048, 256, 512, 10)], _mlp_data,
                    lambda s: "x".join(map(str, s))),
    "logreg": Workload("logreg", logreg_loss, logreg_hand, (0,), [100, 10_000, 1_000_000],
                       _logreg_data, lambda n: f"n={n:,}"),
    "recurrence": Workload("recurrence", recurrence_loss, recurrence_hand, (0, 1), [1_000, 100_000],
                           lambda n: (0.9, 0.3, 0.5, n), lambda n: f"n={n:,}", memory=True),
    "logsumexp_loop": Workload("logsumexp_loop", logsumexp_loop_loss, logsumexp_loop_hand, (0,),
                               [10_000, 1_000_000],
                               lambda n: (np.random.default_rng(2).normal(size=n),),
                               lambda n: f"n={n:,}", memory=True),
    "tiny": Workload("tiny", tiny_loss, tiny_hand, (0,), [None], lambda _: (0.7,),
                     lambda _: "scalar"),
}


def adjoint_grad(name, backend):
    import adjoint
    w = WORKLOADS[name]
    g = adjoint.grad(w.loss, wrt=w.wrt if len(w.wrt) > 1 else w.wrt[0], backend=backend)
    if len(w.wrt) > 1:
        return g
    return lambda *args: (g(*args),)


ENGINES = {
    "numpy": lambda name: WORKLOADS[name].hand,
    "function": lambda name: WORKLOADS[name].loss,
    "adjoint-numpy": lambda name: adjoint_grad(name, "numpy"),
    "adjoint-numba": lambda name: adjoint_grad(name, "numba"),
    "numba": numba_hand,
    "autograd": autograd_grad,
    "jax": jax_grad,
    "torch": torch_grad,
}


# -- the AD benchmark suites' problems: GMM and bundle adjustment (see gmm.py, ba.py) -------------
import ba  # noqa: E402
import gmm  # noqa: E402


class Skip(Exception):
    """An engine not run on this size, with the reason (an estimate of what it would take)."""


def _adjoint(loss, backend, wrt=(0, 1, 2)):
    import adjoint
    return adjoint.grad(loss, wrt=wrt, backend=backend)


def _tensors(args, wrt):
    import torch
    return [torch.from_numpy(a).requires_grad_(i in wrt) if isinstance(a, np.ndarray) else a
            for i, a in enumerate(args)]


def _torch_grad_of(objective, wrt=(0, 1, 2)):
    def call(*args):
        targs = _tensors(args, wrt)
        objective(*targs).backward()
        return tuple(targs[i].grad.numpy() for i in wrt)
    return call


def _torch_value_of(objective):
    import torch

    def call(*args):
        with torch.no_grad():
            return float(objective(*_tensors(args, ())))
    return call


def _jax_jit(fun):
    import jax
    jax.config.update("jax_enable_x64", True)

    def call(*args):
        out = fun(*args)
        jax.block_until_ready(out)
        return tuple(np.asarray(o) for o in out) if isinstance(out, tuple) else float(out)
    return call


def _jax_grad_of(objective, wrt=(0, 1, 2)):
    import jax
    jax.config.update("jax_enable_x64", True)
    return _jax_jit(jax.jit(jax.grad(objective, wrt)))


def _jax_value_of(objective):
    import jax
    jax.config.update("jax_enable_x64", True)
    return _jax_jit(jax.jit(objective))


def _autograd_of(objective, wrt=(0, 1, 2)):
    import autograd
    g = autograd.grad(objective, wrt)
    return lambda *args: tuple(g(*args))


def _per_point_estimate(make):
    """A maker that times the engine on the first point only and reports, as a skip, what the
    1,000 points would take (engines that trace every scalar operation of the loops in Python)."""
    def maker():
        fn = make()

        def estimate(*args):
            one = args[:3] + (args[3][:1],) + args[4:]
            start = time.perf_counter()
            fn(*one)
            seconds = time.perf_counter() - start
            raise Skip(f"~{seconds * args[3].shape[0]:.0f} s per call (one point took "
                       f"{seconds * 1e3:.0f} ms; every scalar operation is traced in Python)")
        return estimate
    return maker


def _gmm_engines():
    return {
        "numba": None,
        "function (jax)": lambda: _jax_value_of(gmm.jax_vec()),
        "function (torch)": lambda: _torch_value_of(gmm.torch_vec()),
        "autograd": lambda: _autograd_of(gmm.autograd_vec()),
        "jax": lambda: _jax_grad_of(gmm.jax_vec()),
        "torch": lambda: _torch_grad_of(gmm.torch_vec()),
    }


def _gmm_loop_engines():
    return {
        "numba": lambda: __import__("numba").njit(gmm.gmm_loop_hand),
        "function (numba)": lambda: __import__("numba").njit(gmm.gmm_loop),
        "adjoint-numba (initialised)": lambda: _adjoint(gmm.gmm_loop_initialised, "numba"),
        "adjoint-numpy (vectorised)": lambda: _adjoint(gmm.gmm_vec, "numpy"),
        "function (jax)": lambda: _jax_value_of(gmm.jax_loop()),
        "autograd": _per_point_estimate(lambda: _autograd_of(gmm.scalar_loop("autograd.numpy"))),
        "jax": lambda: _jax_grad_of(gmm.jax_loop()),
        "torch": _per_point_estimate(lambda: _torch_grad_of(gmm.scalar_loop("torch"))),
    }


def _ba_engines():
    return {
        "numpy": None, "numba": None,
        "adjoint-numpy": lambda: ba.per_observation(ba.adjoint_block("numpy")),
        "adjoint-numba": lambda: ba.per_observation(ba.adjoint_block("numba")),
        "function (jax)": ba.jax_objective,
        "function (torch)": ba.torch_objective,
        "autograd": lambda: ba.per_observation(ba.autograd_block()),
        "jax": ba.jax_jacobian,
        "torch": ba.torch_jacobian,
    }


def _gmm_label(size):
    d, K, n = size
    return f"d={d} K={K} n={n:,}"


def _gmm_data(size):
    d, K, n = size
    args = gmm.gmm_data((d, K))
    return args[:3] + (args[3][:n],) + args[4:]


def _gmm_cost(size):
    d, K, n = size
    return float(n * K * d * d)


WORKLOADS.update({
    "gmm": Workload("gmm", gmm.gmm_vec, gmm.gmm_hand, (0, 1, 2), [(10, 25, 1000), (64, 100, 1000)],
                    _gmm_data, _gmm_label, engines=_gmm_engines(), cost=_gmm_cost),
    "gmm_loop": Workload("gmm_loop", gmm.gmm_loop, gmm.gmm_hand, (0, 1, 2),
                         [(10, 25, 1000), (64, 100, 50), (64, 100, 1000)], _gmm_data, _gmm_label,
                         engines=_gmm_loop_engines(), cost=_gmm_cost, memory=True),
    "ba": Workload("ba", ba.ba_objective, None, (0, 1), [1000], ba.ba_data,
                   lambda m: f"{m:,} observations", engines=_ba_engines(),
                   reference=ba.per_observation(ba.numerical_block), tol=(1e-5, 1e-8),
                   cost=float),
})
