"""adjoint: source-transformation automatic differentiation for Python and NumPy.

Decorate a NumPy loss with ``@adjoint.grad`` to get its gradient function; the
generated derivative is plain Python you can read with ``.source``.
"""
from .api import grad, source, value_and_grad, vjp
from .testing import check_grad
from .errors import (AdjointError, NonScalarOutputError, NotDifferentiableError,
                     SourceUnavailableError, UnsupportedSyntaxError, WrtError)

__version__ = "0.1.0"

__all__ = [
    "grad", "value_and_grad", "vjp", "source", "check_grad",
    "AdjointError", "NonScalarOutputError", "NotDifferentiableError", "SourceUnavailableError",
    "UnsupportedSyntaxError", "WrtError",
]
