"""The helpers generated code calls, one module per rule family.

Each helper is small, pure NumPy and free of adjoint's internals, so the
generated source can be pasted into a file and run with the imports it
names (``from adjoint.runtime import unbroadcast, ...``). Broadcasting and
accumulation live here once, never in individual rules. The modules mirror
``adjoint/rules/``: a rule and the helper it calls are found side by side.
"""
from .core import *  # noqa: F401,F403
from .ufuncs import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
from .shapes import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .builders import *  # noqa: F401,F403
from .fft import *  # noqa: F401,F403
from .checkpoint import *  # noqa: F401,F403
from .records import *  # noqa: F401,F403
from .builtins import *  # noqa: F401,F403
from .special import *  # noqa: F401,F403
from .stats import *  # noqa: F401,F403
from .matrices import *  # noqa: F401,F403
from .signal import *  # noqa: F401,F403
from .integrate import *  # noqa: F401,F403
from . import (core, ufuncs, reductions, shapes, linalg, builders, fft, checkpoint, records, builtins, special, stats,
               matrices, signal, integrate)

__all__ = [*core.__all__, *ufuncs.__all__, *reductions.__all__, *shapes.__all__, *linalg.__all__,
           *builders.__all__, *fft.__all__, *checkpoint.__all__, *records.__all__, *builtins.__all__, *special.__all__, *stats.__all__,
           *matrices.__all__, *signal.__all__, *integrate.__all__]


def _public_home():
    """Name every helper function ``adjoint.runtime.<name>``, where users and rule tables find
    it, whichever family module defines it (classes keep their module: ``inspect`` finds a
    class's source through it)."""
    for name in __all__:
        obj = globals()[name]
        if callable(obj) and not isinstance(obj, type) and \
                getattr(obj, "__module__", "").startswith(__name__ + "."):
            obj.__module__ = __name__


_public_home()
