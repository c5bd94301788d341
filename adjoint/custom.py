"""Custom derivative rules, stop_gradient and no_grad.

``custom_vjp`` is the counterpart of subclassing ``torch.autograd.Function``:

    @adjoint.custom_vjp
    def clip_gradient(x, limit):
        return x

    @clip_gradient.defvjp
    def clip_gradient_vjp(g, ans, x, limit):
        return (np.clip(g, -limit, limit), None)

The rule receives the output's adjoint ``g``, the output ``ans`` and the
arguments, and returns one adjoint per argument (None for an argument with no
derivative). ``defvjp`` turns it into an entry of the rule registry whose
template calls the rule by its own name, so the generated source reads
``x_bar = clip_gradient_vjp(y_bar, y, x, limit)[0]``. ``custom_jvp`` and
``defjvp`` do the same for forward mode with ``rule(ans, x, ..., x_dot, ...)``
returning the output's tangent.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
from typing import Any, Callable, Generic, Iterator, TypeVar

from ._typing import F, P, R

from .rules import inactive, register
from .rules.registry import CUSTOM

__all__ = ["custom_vjp", "custom_jvp", "stop_gradient", "no_grad", "RULE_FUNCTIONS"]

# Names the generated code may call: every custom rule, by the name it was registered under.
RULE_FUNCTIONS: dict = {}


def _rule_name(fn) -> str:
    base = getattr(fn, "__name__", "rule")
    base = base if base.isidentifier() else "rule"  # a lambda's "<lambda>" is no name
    name, k = base, 1
    while name in RULE_FUNCTIONS and RULE_FUNCTIONS[name] is not fn:
        k += 1
        name = f"{base}{k}"
    RULE_FUNCTIONS[name] = fn
    return name


T = TypeVar("T")


class _Custom(Generic[P, R]):
    """A function with a user-given derivative; calling it calls the function."""

    def __init__(self, fun: Callable[P, R]) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.params = list(inspect.signature(fun).parameters)
        self.vjp_rule = None
        self.jvp_rule = None

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.fun(*args, **kwargs)

    def _register(self):
        params = ", ".join(self.params)
        grads, jvp = {}, None
        if self.vjp_rule is not None:
            name = _rule_name(self.vjp_rule)
            grads = {p: f"none_to_zero({name}(g, ans, {params})[{k}])"
                     for k, p in enumerate(self.params)}
        if self.jvp_rule is not None:
            name = _rule_name(self.jvp_rule)
            tangents = ", ".join(f"{p}_dot" for p in self.params)
            jvp = {"*": f"{name}(ans, {params}, {tangents})"}
        register(self, params, "structural", notes=CUSTOM, jvp=jvp,
                 name=getattr(self.fun, "__qualname__", "custom"), **grads)


class custom_vjp(_Custom[P, R]):
    """Decorate a function whose reverse-mode rule you give with ``.defvjp(rule)``."""

    def defvjp(self, rule: F) -> F:
        """Register ``rule(g, ans, *args)``, returning one adjoint per argument (None: none)."""
        self.vjp_rule = rule
        self._register()
        return rule


class custom_jvp(_Custom[P, R]):
    """Decorate a function whose forward-mode rule you give with ``.defjvp(rule)``."""

    def defjvp(self, rule: F) -> F:
        """Register ``rule(ans, *args, *tangents)``, returning the output's tangent."""
        self.jvp_rule = rule
        self._register()
        return rule

    def defvjp(self, rule: F) -> F:
        """Register a reverse-mode rule too, as ``custom_vjp.defvjp``."""
        self.vjp_rule = rule
        self._register()
        return rule


def stop_gradient(x: T) -> T:
    """``x`` itself, seen by differentiation as a constant (like ``tensor.detach()``)."""
    return x


inactive(stop_gradient, notes="the value passes, its derivative does not")


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Statements inside ``with adjoint.no_grad():`` compute values but carry no derivative."""
    yield
