"""The peer engines, each optional: imported if installed, set up for one thread and float64.

A missing peer leaves its module here as ``None``; ``need`` turns that into ``Missing``,
which the harness reports as a skipped engine rather than a failure.
"""
import importlib
import importlib.metadata
import warnings


class Missing(Exception):
    """The package an engine needs is not installed."""


def _optional(name):
    try:
        return importlib.import_module(name)
    except Exception:  # not installed, or broken in a way that makes it unusable
        return None


numba = _optional("numba")
autograd = _optional("autograd")
anp = _optional("autograd.numpy")
jax = _optional("jax")
torch = _optional("torch")

jnp = lax = None
if jax is not None:
    jax.config.update("jax_enable_x64", True)
    jnp, lax = jax.numpy, jax.lax
if torch is not None:
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
if numba is not None:
    warnings.simplefilter("ignore", numba.NumbaPerformanceWarning)

PACKAGES = {"numba": numba, "autograd": autograd, "jax": jax, "torch": torch}


def need(name):
    """The peer module ``name``, or ``Missing`` when it is not installed."""
    module = PACKAGES[name]
    if module is None:
        raise Missing(f"{name} not installed")
    return module


def njit(fun):
    """``numba.njit(fun)``; without Numba, a stand-in that raises ``Missing`` when called."""
    if numba is not None:
        return numba.njit(fun)

    def missing(*args):
        raise Missing("numba not installed")
    return missing


def versions():
    """Installed version of numpy and of each peer (None when missing)."""
    out = {}
    for name in ("numpy", "numba", "autograd", "jax", "torch"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out
