"""The Numba backend: the same generated source, compiled with ``numba.njit``.

This is the only module that imports numba, and it does so lazily. The
generated module is written to a file in the disk cache (``adjoint.cache``:
the user cache directory, or ``ADJOINT_CACHE``) named by the hash of its text, imported from
there and each function wrapped in ``njit`` — from a real file, so Numba's
on-disk cache can reuse the machine code in the next process. The runtime
helpers the generated code calls are given Numba implementations here with
``numba.extending.overload``, so the source stays identical on both backends.

Numba resolves globals once, at compilation; values the code reads from the
user's module are therefore frozen, and the on-disk cache is used only when
the code reads no such values (only modules and functions).

A function Numba cannot compile is not an error: the caller falls back to the
NumPy backend with one ``BackendWarning`` naming the function and Numba's reason.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
import types as pytypes
import warnings

import numpy as np

from .. import cache, runtime
from ..errors import BackendWarning

_REGISTERED = False
_REGISTER_LOCK = threading.Lock()


def available() -> bool:
    """Whether numba can be imported (without importing it twice)."""
    if "numba" in sys.modules:
        return True
    return importlib.util.find_spec("numba") is not None


def cache_dir() -> str:
    """This environment's folder of the disk cache (see ``adjoint.cache``)."""
    return cache.environment_dir()


def _write_once(path: str, source: str) -> None:
    """Put ``source`` at ``path`` atomically: readers see no file or the whole file.

    Each writer (thread or process) writes its own temporary file in the same
    directory and renames it into place; equal names mean equal text, so the
    last rename wins harmlessly.
    """
    if os.path.exists(path):
        return
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=os.path.basename(path) + ".",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(source)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _module_from_file(source: str, values: dict):
    """A fresh module of ``source``, from its file, with ``values`` bound before its code runs."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:20]
    name = f"adjoint_generated_{digest}"
    path = os.path.join(cache_dir(), name + ".py")
    if not os.path.exists(path):
        _write_once(path, source)
        cache.prune(keep=name)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    module.__dict__.update(values)  # defaults in signatures read them as the module runs
    spec.loader.exec_module(module)
    sys.modules[name] = module
    return module


def compile_functions(source: str, names: list, user_values: dict, cacheable: bool) -> dict:
    """njit-compiled functions of the module ``source``; compilation happens at the first call."""
    import numba
    _register()
    module = _module_from_file(source, user_values)
    jitted = {}
    for fname in names:
        jitted[fname] = numba.njit(cache=cacheable)(getattr(module, fname))
    for fname, fn in jitted.items():
        setattr(module, fname, fn)  # calls between generated functions reach the compiled ones
    return jitted


class Fallback:
    """Call the compiled function; if Numba cannot compile it, warn once and use NumPy for good.

    Numba compiles per argument types, so a refusal can come at any call (a
    float32 array after float64 ones), not only the first.
    """

    def __init__(self, jitted, plain, label):
        self.jitted = jitted
        self.plain = plain
        self.label = label
        self.call = jitted
        self._lock = threading.Lock()

    def __call__(self, *args):
        try:
            return self.call(*args)
        except _refusals() as exc:
            self._give_up(exc)
        return self.plain(*args)

    def _give_up(self, exc):
        """Use NumPy from now on; the first thread to get here warns."""
        with self._lock:
            if self.call is self.plain:
                return
            self.call = self.plain
        reason = str(exc).strip().splitlines()
        warnings.warn(BackendWarning(
            f"Numba cannot compile {self.label}; using the NumPy backend. "
            f"Numba said: {reason[0] if reason else type(exc).__name__}"), stacklevel=4)


def _refusals():
    """The exceptions by which Numba says it cannot compile or run a function.

    A ``TypeError`` is one too: compiled code checks the types a name takes at
    run time (``expected array(float64, 1d, C), got None`` for a name that is an
    array on one path and unbound on another). The NumPy twin then runs the
    call again, and raises the user's own ``TypeError`` if it was one. An
    ``ImportError`` is Numba missing an optional dependency (``np.dot`` needs SciPy).
    ``UnsupportedBytecodeError`` (not a ``NumbaError``) and ``AttributeError`` are Numba failing
    on a try of the forward sweep (``except E as e``, ``except (A, B)``).
    """
    import numba
    errors = numba.core.errors
    return (errors.NumbaError, errors.UnsupportedBytecodeError, NotImplementedError, TypeError,
            ImportError, AttributeError)


# -- runtime helpers inside njit ------------------------------------------------------
def _register():
    """Give each runtime helper generated loop code calls an implementation Numba can compile."""
    with _REGISTER_LOCK:
        if not _REGISTERED:
            _register_overloads()


def _register_overloads():
    global _REGISTERED
    from numba import types
    from numba.extending import overload

    def number(t):
        return isinstance(t, (types.Float, types.Integer, types.Boolean))

    def array(t):
        return isinstance(t, types.Array)

    def none(t):
        return t is None or isinstance(t, (types.NoneType, types.Omitted))

    @overload(runtime.unit_seed)
    def _unit_seed(y):
        if number(y):
            return lambda y: 1.0

    @overload(runtime.conj)
    def _conj(x):
        if number(x) or (array(x) and not isinstance(x.dtype, types.Complex)):
            return lambda x: x

    def real_array(t):
        return array(t) and not isinstance(t.dtype, types.Complex)

    @overload(runtime.safe_div)
    def _safe_div(a, b):
        if number(a) and number(b):
            return lambda a, b: 0.0 if b == 0 else a / b
        if real_array(a) and real_array(b) and a.ndim == b.ndim:
            def impl(a, b):
                zero = b == 0
                return np.where(zero, 0.0, a / np.where(zero, 1.0, b))
            return impl

    @overload(runtime.zeros_like)
    def _zeros_like(x):
        if number(x):
            return lambda x: 0.0
        if array(x):
            return lambda x: np.zeros(x.shape)

    @overload(runtime.snapshot)
    def _snapshot(v):
        if number(v):
            return lambda v: v
        if array(v):
            return lambda v: v.copy()

    @overload(runtime.writable_copy)
    def _writable_copy(x):
        if array(x):
            return lambda x: x.copy()

    @overload(runtime.grad_like)
    def _grad_like(x_bar, x):
        if number(x) and number(x_bar):
            return lambda x_bar, x: float(x_bar)
        if array(x) and array(x_bar):
            def impl(x_bar, x):
                out = np.empty(x.shape, x.dtype)
                out[...] = x_bar
                return out
            return impl
        if array(x) and number(x_bar):
            def impl(x_bar, x):
                out = np.empty(x.shape, x.dtype)
                out[...] = x_bar
                return out
            return impl

    @overload(runtime.unbroadcast)
    def _unbroadcast(g, x):
        if number(x) and number(g):
            return lambda g, x: g
        if number(x) and array(g):
            return lambda g, x: g.sum()
        if array(x) and number(g):
            return lambda g, x: np.full(x.shape, g)
        if array(x) and array(g) and g.ndim == x.ndim == 1:
            def impl(g, x):
                if g.shape == x.shape:
                    return g
                return np.full(x.shape, g.sum())
            return impl

    @overload(runtime.unreduce)
    def _unreduce(g, x, axis=None, keepdims=False):
        if none(axis) and number(g) and array(x):
            return lambda g, x, axis=None, keepdims=False: np.full(x.shape, g)
        if none(axis) and number(g) and number(x):
            return lambda g, x, axis=None, keepdims=False: g

    @overload(runtime.count)
    def _count(x, axis=None):
        if none(axis) and array(x):
            return lambda x, axis=None: x.size
        if none(axis) and number(x):
            return lambda x, axis=None: 1

    @overload(runtime.extremum_grad)
    def _extremum_grad(g, x, ans, axis=None, keepdims=False):
        if none(axis) and number(g) and array(x):
            def impl(g, x, ans, axis=None, keepdims=False):
                flat = x.ravel()
                hits = 0
                for v in flat:
                    if v == ans:
                        hits += 1
                out = np.zeros(x.shape)
                spread = out.ravel()  # a view: ``out`` is new and contiguous
                share = g / hits
                for k in range(flat.size):
                    if flat[k] == ans:
                        spread[k] = share
                return out
            return impl

    @overload(runtime.add_at)
    def _add_at(x_bar, index, g):
        if array(x_bar) and isinstance(index, types.Integer):
            def impl(x_bar, index, g):
                x_bar[index] += g
                return x_bar
            return impl

    _REGISTERED = True


def user_values(live, names) -> tuple[dict, bool]:
    """The values of the user's globals the generated code reads, and whether caching is safe."""
    values, cacheable = {}, True
    for n in names:
        try:
            value = live[n]
        except KeyError:
            continue
        values[n] = value
        if not isinstance(value, (pytypes.ModuleType, pytypes.FunctionType, pytypes.BuiltinFunctionType)) \
                and not callable(value):
            cacheable = False
    return values, cacheable
