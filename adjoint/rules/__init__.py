"""Derivative rules: one registry, filled by the modules imported here."""
from .registry import (Rule, all_rules, carries_no_derivative, elementwise, inactive, lookup,
                       register, structural, zero)
from . import core  # noqa: F401  (registers the rules)
from . import ufuncs, reductions, shapes, linalg, builtins, generated, fft  # noqa: F401,E402

__all__ = ["Rule", "all_rules", "carries_no_derivative", "elementwise", "inactive", "lookup",
           "register", "structural", "zero"]
