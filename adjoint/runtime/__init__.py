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
from .checkpoint import *  # noqa: F401,F403
from . import core, ufuncs, reductions, shapes, linalg, builders, checkpoint

__all__ = [*core.__all__, *ufuncs.__all__, *reductions.__all__, *shapes.__all__, *linalg.__all__, *builders.__all__,
           *checkpoint.__all__]


def _public_home():
    """Name every helper ``adjoint.runtime.<name>``, where users and rule tables find it,
    whichever family module defines it."""
    for name in __all__:
        obj = globals()[name]
        if getattr(obj, "__module__", "").startswith(__name__ + "."):
            obj.__module__ = __name__


_public_home()
