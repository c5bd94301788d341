"""adjoint: source-transformation automatic differentiation for Python and NumPy.

Decorate a NumPy loss with ``@adjoint.grad`` to get its gradient function; the
generated derivative is plain Python you can read with ``.source``.
"""
__version__ = "0.1.0"  # the one place: pyproject.toml reads it

from .api import grad, jvp, source, value_and_grad, vjp
from .transforms import hessian, hvp, jacobian
from .testing import check_grad
from .checkpoint import CheckpointWarning, checkpointed
from .custom import custom_jvp, custom_vjp, no_grad, stop_gradient
from . import optim
from .pytree import (register_pytree, tree_add, tree_flatten, tree_leaves, tree_map, tree_ravel, tree_scale,
                     tree_structure, tree_unflatten, tree_vdot, tree_zeros_like)
from .errors import (AdjointError, BackendWarning, InternalError, NonScalarOutputError,
                     NotDifferentiableError, SourceUnavailableError, UnsupportedSyntaxError, WrtError)


__all__ = [
    "grad", "value_and_grad", "vjp", "jvp", "jacobian", "hessian", "hvp", "source", "check_grad", "optim",
    "checkpointed", "CheckpointWarning", "custom_vjp", "custom_jvp", "stop_gradient", "no_grad",
    "register_pytree", "tree_add", "tree_flatten", "tree_leaves", "tree_map", "tree_ravel", "tree_scale",
    "tree_structure", "tree_unflatten", "tree_vdot", "tree_zeros_like",
    "AdjointError", "BackendWarning", "InternalError", "NonScalarOutputError",
    "NotDifferentiableError", "SourceUnavailableError", "UnsupportedSyntaxError", "WrtError",
]
