"""Types of the public API, for type checkers (the package ships ``py.typed``).

A derivative keeps its function's parameters (``ParamSpec``), so a checker
flags a wrong call of ``grad(loss)`` as it would of ``loss``; what it returns
follows the transformation: ``value_and_grad(loss)`` returns ``(value, grads)``
with ``value`` of ``loss``'s return type. Gradients are typed ``Any``: their
structure is the argument's (an array, a float or a pytree of them).
"""
from __future__ import annotations

from typing import Any, Callable, Literal, ParamSpec, Protocol, TypeVar, Union

P = ParamSpec("P")
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)
A = TypeVar("A")
F = TypeVar("F", bound=Callable[..., Any])

#: A parameter's position or name, or a tuple of them.
Wrt = Union[int, str, "tuple[Union[int, str], ...]"]
#: Where the generated derivative runs.
Backend = Literal["auto", "numpy", "numba"]
#: The generated code's kind, as ``adjoint.source`` and the command line name it.
Mode = Literal["grad", "value_and_grad", "vjp", "jvp"]
#: Gradients, tangents and seeds: an array, a number or a pytree of them.
Tree = Any
#: A pullback: the output's adjoint in, the adjoints of the ``wrt`` arguments out.
Pullback = Callable[[Any], Any]


class Derivative(Protocol[P, R_co]):
    """A generated derivative: called like its function, with its source to read."""

    @property
    def source(self) -> str:
        """The generated Python module, as text."""
        ...

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R_co:
        ...
