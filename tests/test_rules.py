"""Every registered derivative rule, checked against central finite differences.

The tests iterate over ``adjoint.rules.all_rules()``: each differentiable rule
(and each ``zero`` rule) needs an entry in ``CASES``, and every function the
rule covers must be called by one of its cases, so a rule is tested the moment
it is registered. A case is an expression in the arguments it names; it is
written into a real module as ``def f(a, b): return np.sum((EXPR) * w)`` with
a fixed random projection ``w``, differentiated with ``adjoint.grad`` and
compared with central differences (in float64) of the same function, for
float64 and float32 inputs (complex128 and complex64 for complex cases). The
gradient of float32 input must be float32 *inside* the generated code too: the
test runs the generated source with the final cast removed.

``test_jvp`` checks the forward-mode half of every entry the same way.
"""
from __future__ import annotations

import ast
import importlib.util
import itertools
import math
import operator
import re

import numpy as np
import pytest

import adjoint
from adjoint import runtime
from adjoint.passes.kinds import keeps_real
from adjoint.passes.normalize import ATTRIBUTES, METHODS
from adjoint.rules import all_rules
from adjoint.rules.registry import display_name

from .scipy_cases import IMPORTS as SCIPY_IMPORTS, NAMES as SCIPY_NAMES


# -- argument generators --------------------------------------------------------------------------
def R(*shape, lo=-1.0, hi=1.0):
    """A random array (complex for complex dtypes) with entries in [lo, hi]."""
    def make(rng, dtype):
        x = rng.uniform(lo, hi, shape)
        if np.issubdtype(dtype, np.complexfloating):
            x = x + 1j * rng.uniform(-1.0, 1.0, shape)
        return x.astype(dtype)
    return make


def P(*shape):
    return R(*shape, lo=0.5, hi=1.5)


def S(lo=-1.0, hi=1.0):
    """A Python float."""
    return lambda rng, dtype: float(rng.uniform(lo, hi))


def Distinct(*shape):
    """Entries far apart from each other (no ties for max, sort, abs-max norms)."""
    def make(rng, dtype):
        n = int(np.prod(shape))
        return ((rng.permutation(n) - n / 2) * 0.3 + rng.uniform(0, 0.05, n)).reshape(shape).astype(dtype)
    return make


def Well(*shape):
    """Well-conditioned square matrices: random plus 3 times the identity."""
    return lambda rng, dtype: (R(*shape)(rng, dtype) + 3 * np.eye(shape[-1])).astype(dtype)


def Spd(*shape):
    """Symmetric positive definite matrices."""
    def make(rng, dtype):
        b = R(*shape)(rng, dtype)
        return (b @ np.conj(np.swapaxes(b, -1, -2)) + shape[-1] * np.eye(shape[-1])).astype(dtype)
    return make


REAL = ("float64", "float32")
CPLX = ("complex128", "complex64")
F64 = ("float64",)


class Case:
    def __init__(self, expr, dtypes=REAL, rtol=None, eps=1e-6, **args):
        self.expr, self.dtypes, self.rtol, self.eps, self.args = expr, dtypes, rtol, eps, args

    def __repr__(self):
        return self.expr


C = Case
Z = R(3, 4)  # the default argument

# -- the table: rule name -> cases ----------------------------------------------------------------
CASES = {
    # arithmetic
    "operator.add": [C("a + b", a=R(3, 4), b=R(4)), C("np.add(a, b)", a=R(2, 1, 3), b=R(3)),
                     C("s + a", s=S(), a=R(3)), C("a + b", dtypes=CPLX, a=R(3), b=R(2, 1))],
    "operator.sub": [C("a - b", a=R(3, 4), b=R(3, 1)), C("np.subtract(a, b)", a=R(3), b=R(2, 3)),
                     C("a - b", dtypes=CPLX, a=R(3), b=R(3))],
    "operator.mul": [C("a * b", a=R(3, 1), b=R(1, 4)), C("np.multiply(a, b)", a=R(3), b=R()),
                     C("a * b", dtypes=CPLX, a=R(3), b=R(2, 3)), C("s * t", s=S(), t=S(), dtypes=F64)],
    "operator.truediv": [C("a / b", a=R(3, 4), b=P(4)), C("np.divide(a, b)", a=R(3), b=P(2, 1)),
                         C("np.true_divide(a, b)", a=R(2), b=P(2)),
                         C("a / b", dtypes=CPLX, a=R(3), b=P(3))],
    "operator.neg": [C("-a", a=Z), C("np.negative(a)", a=Z), C("-a", a=R(3), dtypes=CPLX)],
    "operator.pos": [C("+a", a=Z), C("np.positive(a)", a=Z)],
    "operator.pow": [C("a ** b", a=P(3, 4), b=R(4)), C("np.power(a, b)", a=P(3), b=R(2, 1)),
                     C("a ** 3", a=R(5)), C("np.float_power(a, b)", a=P(3), b=R(3), dtypes=F64),
                     C("pow(s, t)", s=S(0.5, 2), t=S(), dtypes=F64),
                     C("math.pow(s, t)", s=S(0.5, 2), t=S(), dtypes=F64),
                     C("a ** 2 + a ** b", a=P(3), b=R(3), dtypes=CPLX)],
    "operator.mod": [C("a % b", a=R(5), b=P(5)), C("np.remainder(a, 0.3)", a=R(3, 2))],
    "numpy.fmod": [C("np.fmod(a, b)", a=R(5), b=P(5)), C("math.fmod(s, 0.3)", s=S(), dtypes=F64)],
    "numpy.square": [C("np.square(a)", a=Z), C("np.square(a)", a=R(3), dtypes=CPLX)],
    "numpy.sqrt": [C("np.sqrt(a)", a=P(3, 4)), C("math.sqrt(s)", s=S(0.5, 2), dtypes=F64),
                   C("np.sqrt(a)", a=P(3), dtypes=CPLX)],
    "numpy.cbrt": [C("np.cbrt(a)", a=P(3, 4))],
    "numpy.reciprocal": [C("np.reciprocal(a)", a=P(3, 4)), C("np.reciprocal(a)", a=P(3), dtypes=CPLX)],
    # exponentials and logarithms
    "numpy.exp": [C("np.exp(a)", a=Z), C("math.exp(s)", s=S(), dtypes=F64),
                  C("np.exp(a)", a=R(3), dtypes=CPLX)],
    "numpy.exp2": [C("np.exp2(a)", a=Z)],
    "numpy.expm1": [C("np.expm1(a)", a=Z), C("math.expm1(s)", s=S(), dtypes=F64)],
    "numpy.log": [C("np.log(a)", a=P(3, 4)), C("np.log(a)", a=P(3), dtypes=CPLX)],
    "math.log": [C("math.log(s)", s=S(0.5, 2), dtypes=F64),
                 C("math.log(s, 3.0)", s=S(0.5, 2), dtypes=F64)],
    "numpy.log2": [C("np.log2(a)", a=P(3, 4)), C("math.log2(s)", s=S(0.5, 2), dtypes=F64)],
    "numpy.log10": [C("np.log10(a)", a=P(3, 4)), C("math.log10(s)", s=S(0.5, 2), dtypes=F64)],
    "numpy.log1p": [C("np.log1p(a)", a=P(3, 4)), C("math.log1p(s)", s=S(), dtypes=F64)],
    "numpy.logaddexp": [C("np.logaddexp(a, b)", a=R(3, 4), b=R(4))],
    "numpy.logaddexp2": [C("np.logaddexp2(a, b)", a=R(3, 1), b=R(4))],
    "math.erf": [C("math.erf(s)", s=S(), dtypes=F64)],
    "math.erfc": [C("math.erfc(s)", s=S(), dtypes=F64)],
    # trigonometric and hyperbolic
    "numpy.sin": [C("np.sin(a)", a=Z), C("math.sin(s)", s=S(), dtypes=F64),
                  C("np.sin(a)", a=R(3), dtypes=CPLX)],
    "numpy.cos": [C("np.cos(a)", a=Z), C("math.cos(s)", s=S(), dtypes=F64),
                  C("np.cos(a)", a=R(3), dtypes=CPLX)],
    "numpy.tan": [C("np.tan(a)", a=Z), C("math.tan(s)", s=S(), dtypes=F64)],
    "numpy.arcsin": [C("np.arcsin(a)", a=R(3, 4, lo=-0.8, hi=0.8)),
                     C("math.asin(s)", s=S(-0.8, 0.8), dtypes=F64)],
    "numpy.arccos": [C("np.arccos(a)", a=R(3, 4, lo=-0.8, hi=0.8)),
                     C("math.acos(s)", s=S(-0.8, 0.8), dtypes=F64)],
    "numpy.arctan": [C("np.arctan(a)", a=Z), C("math.atan(s)", s=S(), dtypes=F64)],
    "numpy.arctan2": [C("np.arctan2(a, b)", a=R(3, 4), b=P(4)),
                      C("math.atan2(s, t)", s=S(), t=S(0.5, 1), dtypes=F64)],
    "numpy.hypot": [C("np.hypot(a, b)", a=R(3, 4), b=R(3, 1)),
                    C("math.hypot(s, t)", s=S(), t=S(), dtypes=F64)],
    "numpy.sinh": [C("np.sinh(a)", a=Z), C("math.sinh(s)", s=S(), dtypes=F64)],
    "numpy.cosh": [C("np.cosh(a)", a=Z), C("math.cosh(s)", s=S(), dtypes=F64)],
    "numpy.tanh": [C("np.tanh(a)", a=Z), C("math.tanh(s)", s=S(), dtypes=F64),
                   C("np.tanh(a)", a=R(3), dtypes=CPLX)],
    "numpy.arcsinh": [C("np.arcsinh(a)", a=Z), C("math.asinh(s)", s=S(), dtypes=F64)],
    "numpy.arccosh": [C("np.arccosh(a)", a=R(3, 4, lo=1.2, hi=2.0)),
                      C("math.acosh(s)", s=S(1.2, 2.0), dtypes=F64)],
    "numpy.arctanh": [C("np.arctanh(a)", a=R(3, 4, lo=-0.8, hi=0.8)),
                      C("math.atanh(s)", s=S(-0.8, 0.8), dtypes=F64)],
    "numpy.deg2rad": [C("np.deg2rad(a) + np.radians(a)", a=Z), C("math.radians(s)", s=S(), dtypes=F64)],
    "numpy.rad2deg": [C("np.rad2deg(a) + np.degrees(a)", a=Z), C("math.degrees(s)", s=S(), dtypes=F64)],
    "numpy.sinc": [C("np.sinc(a)", a=R(3, 4, lo=-2.0, hi=2.0))],
    # piecewise
    "numpy.absolute": [C("np.abs(a) + np.absolute(a)", a=Z), C("abs(s)", s=S(), dtypes=F64),
                       C("np.abs(a)", a=R(3), dtypes=CPLX)],
    "numpy.fabs": [C("np.fabs(a)", a=Z), C("math.fabs(s)", s=S(), dtypes=F64)],
    "numpy.maximum": [C("np.maximum(a, b)", a=R(3, 4), b=R(4)), C("np.minimum(a, b)", a=R(3, 1), b=R(4)),
                      C("np.fmax(a, b) + np.fmin(a, b) * 2", a=R(3), b=R(2, 3))],
    "numpy.clip": [C("np.clip(a, -0.4, 0.5)", a=Z), C("a.clip(min=-0.3)", a=Z),
                   C("np.clip(a, lo, hi)", a=R(3, 4), lo=R(4, lo=-0.6, hi=-0.2), hi=R(3, 1, lo=0.2, hi=0.6)),
                   C("np.clip(a, None, hi)", a=R(3, 4), hi=R(3, 1, lo=-0.5, hi=0.5)),
                   C("np.clip(a, min=lo, max=hi)", a=R(3, 4), lo=R(4, lo=-0.6, hi=-0.2), hi=R(4, lo=0.2, hi=0.6))],
    "numpy.where": [C("np.where(a > 0, a, b)", a=R(3, 4), b=R(4)),
                    C("np.where(a > 0, a, b)", a=R(3), b=R(3), dtypes=CPLX)],
    "numpy.real": [C("np.real(a) + a.real", a=Z), C("np.real(a)", a=R(3), dtypes=CPLX)],
    "numpy.imag": [C("np.imag(a) + a", a=Z), C("np.imag(a) + a.imag", a=R(3), dtypes=CPLX)],
    "numpy.conjugate": [C("np.conj(a) * a.conj()", a=Z),
                        C("np.conj(a) + np.conjugate(a) * a", a=R(3), dtypes=CPLX)],
    "numpy.angle": [C("np.angle(a)", a=Z), C("np.angle(a) + np.angle(a, deg=True)", a=R(3), dtypes=CPLX)],
    # zero derivative
    "numpy.sign": [C("np.sign(a)", a=Z)],
    "numpy.floor": [C("np.floor(a)", a=Z)],
    "numpy.ceil": [C("np.ceil(a)", a=Z)],
    "numpy.round": [C("np.round(a, 1)", a=Z)],
    "numpy.around": [C("np.around(a)", a=Z)],
    "numpy.rint": [C("np.rint(a)", a=Z)],
    "numpy.trunc": [C("np.trunc(a)", a=Z)],
    "numpy.fix": [C("np.fix(a)", a=Z)],
    "numpy.heaviside": [C("np.heaviside(a, 0.5)", a=Z)],
    "numpy.floor_divide": [C("np.floor_divide(a, 0.3)", a=Z)],
    "operator.floordiv": [C("a // 0.3", a=Z)],
    "math.floor": [C("math.floor(s) * s", s=S(), dtypes=F64)],
    "math.ceil": [C("math.ceil(s) * s", s=S(), dtypes=F64)],
    "math.trunc": [C("math.trunc(s) * s", s=S(), dtypes=F64)],
    "round": [C("round(s) * s", s=S(), dtypes=F64)],
    # reductions
    "numpy.sum": [C("np.sum(a)", a=Z), C("np.sum(a, axis=1)", a=R(2, 3, 4)),
                  C("np.sum(a, axis=(0, 2), keepdims=True)", a=R(2, 3, 4)), C("a.sum(-1)", a=Z),
                  C("np.sum(a, axis=0)", a=R(3, 2), dtypes=CPLX)],
    "numpy.mean": [C("np.mean(a)", a=Z), C("np.mean(a, axis=(0, 1))", a=R(2, 3, 4)),
                   C("a.mean(axis=1, keepdims=True)", a=Z), C("np.mean(a)", a=R(3), dtypes=CPLX)],
    "numpy.max": [C("np.max(a)", a=Distinct(3, 4)), C("np.max(a, axis=0)", a=Distinct(3, 4)),
                  C("np.amax(a, axis=1, keepdims=True)", a=Distinct(3, 4)),
                  C("np.min(a, axis=(0, 1))", a=Distinct(2, 3, 2)), C("np.amin(a)", a=Distinct(5)),
                  C("a.max(1) + a.min(0).sum()", a=Distinct(3, 4))],
    "numpy.prod": [C("np.prod(a)", a=P(3, 4)), C("np.prod(a, axis=1, keepdims=True)", a=R(3, 4)),
                   C("a.prod(axis=(0, 2))", a=P(2, 3, 2))],
    "numpy.var": [C("np.var(a)", a=Z), C("np.var(a, axis=0, ddof=1)", a=Z),
                  C("a.var(axis=1, keepdims=True)", a=Z), C("np.var(a)", a=R(4), dtypes=CPLX)],
    "numpy.std": [C("np.std(a)", a=Z), C("np.std(a, axis=1, ddof=1)", a=Z),
                  C("a.std(axis=0, keepdims=True)", a=Z)],
    "numpy.cumsum": [C("np.cumsum(a)", a=Z), C("np.cumsum(a, axis=1)", a=Z), C("a.cumsum(0)", a=Z)],
    "numpy.cumprod": [C("np.cumprod(a)", a=P(5)), C("np.cumprod(a, axis=1)", a=R(3, 4)),
                      C("a.cumprod(0)", a=P(3, 2))],
    "numpy.nansum": [C("np.nansum(a, axis=0)", a=Z),
                     C("np.nansum(np.where(a > 0, a, np.nan), axis=1)", a=Z)],
    "numpy.average": [C("np.average(a)", a=Z), C("np.average(a, axis=1, weights=b)", a=R(3, 4), b=P(4)),
                      C("np.average(a, weights=b)", a=R(3, 4), b=P(3, 4)),
                      C("np.average(a, axis=0, weights=b, keepdims=True)", a=R(3, 4), b=P(3))],
    "numpy.trace": [C("np.trace(a)", a=R(3, 4)), C("np.trace(a, 1)", a=R(3, 3)),
                    C("np.trace(a, axis1=1, axis2=2)", a=R(2, 3, 3)), C("a.trace()", a=R(3, 3))],
    "numpy.linalg.norm": [
        C("np.linalg.norm(a)", a=R(4)), C("np.linalg.norm(a)", a=R(3, 4)),
        C("np.linalg.norm(a, 1)", a=R(4)), C("np.linalg.norm(a, np.inf)", a=Distinct(4)),
        C("np.linalg.norm(a, -np.inf)", a=Distinct(4)), C("np.linalg.norm(a, 3)", a=R(4)),
        C("np.linalg.norm(a, axis=1)", a=R(3, 4)),
        C("np.linalg.norm(a, axis=0, keepdims=True)", a=R(3, 4)),
        C("np.linalg.norm(a, 'fro')", a=R(3, 4)), C("np.linalg.norm(a, 1)", a=Distinct(3, 4)),
        C("np.linalg.norm(a, np.inf)", a=Distinct(3, 4)), C("np.linalg.norm(a, -1)", a=Distinct(3, 4)),
        C("np.linalg.norm(a, 2)", a=R(3, 4)), C("np.linalg.norm(a, -2)", a=R(4, 3)),
        C("np.linalg.norm(a, 'nuc')", a=R(3, 4)), C("np.linalg.norm(a, 2, axis=(1, 2))", a=R(2, 3, 3)),
        C("np.linalg.norm(a, 1, axis=(1, 0))", a=Distinct(3, 4)),
        C("np.linalg.norm(a)", a=R(3), dtypes=CPLX)],
    "numpy.linalg.vector_norm": [C("np.linalg.vector_norm(a)", a=R(3, 4)),
                                 C("np.linalg.vector_norm(a, ord=1, axis=1)", a=R(3, 4)),
                                 C("np.linalg.vector_norm(a, ord=np.inf)", a=Distinct(3, 4))],
    "numpy.linalg.matrix_norm": [C("np.linalg.matrix_norm(a)", a=R(3, 4)),
                                 C("np.linalg.matrix_norm(a, ord=2)", a=R(2, 3, 3))],
    # shapes
    "numpy.transpose": [C("np.transpose(a)", a=Z), C("np.transpose(a, (1, 2, 0))", a=R(2, 3, 4)),
                        C("a.T", a=Z), C("a.transpose(2, 0, 1)", a=R(2, 3, 4)),
                        C("np.transpose(a, (0, -1, 1))", a=R(3, 3, 3))],  # axes from the end
    "numpy.reshape": [C("np.reshape(a, (4, 3))", a=Z), C("a.reshape(2, 6)", a=Z), C("a.reshape(-1)", a=Z)],
    "numpy.ravel": [C("np.ravel(a)", a=Z), C("a.flatten()", a=Z), C("np.squeeze(a)", a=R(3, 1, 4)),
                    C("np.squeeze(a, axis=1)", a=R(3, 1, 4)), C("np.expand_dims(a, 0)", a=Z),
                    C("a.ravel() + a.squeeze().ravel()", a=Z)],
    "numpy.copy": [C("np.copy(a) + a.copy()", a=Z), C("np.asarray(a)", a=Z),
                   C("np.array([s, t * 2.0])", s=S(), t=S(), dtypes=F64),
                   C("np.array([a, b])", a=R(3), b=R(3))],
    "float": [C("float(s) * 2.0", s=S(), dtypes=F64), C("float(np.sum(a))", a=R(3), dtypes=F64),
              C("np.sum(a).item()", a=R(3), dtypes=F64)],
    "ndarray.astype": [C("a.astype(np.float32)", a=Z, rtol=1e-2, eps=1e-3), C("a.astype(float)", a=Z)],
    "numpy.swapaxes": [C("np.swapaxes(a, 0, 2)", a=R(2, 3, 4)), C("a.swapaxes(1, 2)", a=R(2, 3, 4))],
    "numpy.moveaxis": [C("np.moveaxis(a, 0, -1)", a=R(2, 3, 4)),
                       C("np.moveaxis(a, [0, 1], [2, 0])", a=R(2, 3, 4))],
    "numpy.broadcast_to": [C("np.broadcast_to(a, (2, 3, 4))", a=R(3, 1))],
    "numpy.atleast_1d": [C("np.atleast_1d(s)", s=S(), dtypes=F64),
                         C("np.concatenate(np.atleast_1d(s, a, b))", s=S(), a=R(3), b=R(2), dtypes=F64),
                         C("np.atleast_1d(a, b)[1]", a=R(3), b=R(2, 2), dtypes=CPLX)],
    "numpy.atleast_2d": [C("np.atleast_2d(a)", a=R(3)),
                         C("np.atleast_2d(a, b)[0] * np.atleast_2d(a, b)[1]", a=R(3), b=R(2, 3)),
                         C("np.atleast_2d(s, a)[0] + 0.0", s=S(), a=R(3), dtypes=F64)],
    "numpy.atleast_3d": [C("np.atleast_3d(a)", a=Z),
                         C("np.atleast_3d(a, b)[1] * np.atleast_3d(a, b)[0]", a=R(4), b=R(2, 4))],
    "adjoint.runtime.atleast_item": [C("rt.atleast_item([c, d], 1, (a, b), b)", c=R(1, 3), d=R(2, 1, 3),
                                       a=R(3), b=R(2, 3), dtypes=F64),
                                     C("rt.atleast_item(c, 0, a, a)", c=R(1, 3), a=R(3), dtypes=F64),
                                     C("rt.atleast_item([c, 0.0], 1, (a, b), b)", c=R(1, 3), a=R(3), b=R(2),
                                       dtypes=F64)],
    "adjoint.runtime.atleast_tangent": [C("rt.atleast_tangent(c, 1, (a, b))[1]", c=R(2, 3), a=R(3), b=R(2, 3),
                                          dtypes=F64),
                                        C("rt.atleast_tangent(c, 0, a)", c=R(1, 3), a=R(1, 3), dtypes=F64)],
    "numpy.ascontiguousarray": [C("np.ascontiguousarray(a.T)", a=Z), C("np.asfortranarray(a)", a=Z)],
    "numpy.concatenate": [C("np.concatenate([a, b])", a=R(2, 3), b=R(4, 3)),
                          C("np.concatenate([a, b], axis=1)", a=R(3, 2), b=R(3, 4)),
                          C("np.concatenate((a, b), axis=None)", a=R(2, 2), b=R(3))],
    "numpy.stack": [C("np.stack([a, b])", a=R(2, 3), b=R(2, 3)),
                    C("np.stack((a, b), axis=-1)", a=R(3), b=R(3))],
    "numpy.vstack": [C("np.vstack([a, b])", a=R(3), b=R(2, 3))]
    + ([C("np.row_stack((a, b * 2.0))", a=R(2, 3), b=R(3))] if hasattr(np, "row_stack") else []),
    "numpy.hstack": [C("np.hstack([a, b])", a=R(3), b=R(2)), C("np.hstack([a, b])", a=R(2, 3), b=R(2, 1))],
    "numpy.dstack": [C("np.dstack([a, b])", a=R(3, 4), b=R(3, 4))],
    "numpy.append": [C("np.append(a, b)", a=R(2, 2), b=R(3)),
                     C("np.append(a, b, axis=0)", a=R(2, 3), b=R(1, 3))],
    "numpy.split": [C("np.split(a, 3)[1] * np.split(a, 3)[2]", a=R(6)),
                    C("np.split(a, [1, 3], axis=1)[2]", a=R(2, 5)), C("np.array_split(a, 3)[0]", a=R(7))],
    "numpy.vsplit": [C("np.vsplit(a, 2)[1]", a=R(4, 3))],
    "numpy.hsplit": [C("np.hsplit(a, 2)[0]", a=R(3, 4)), C("np.hsplit(a, 2)[1]", a=R(4))],
    "numpy.dsplit": [C("np.dsplit(a, [1])[1]", a=R(2, 2, 3))],
    "numpy.tile": [C("np.tile(a, 2)", a=R(3)), C("np.tile(a, (2, 1, 3))", a=R(2, 3))],
    "numpy.repeat": [C("np.repeat(a, 2)", a=R(2, 2)), C("np.repeat(a, [1, 0, 2], axis=0)", a=R(3, 2)),
                     C("a.repeat(3, axis=1)", a=R(2, 2))],
    "numpy.flip": [C("np.flip(a)", a=Z), C("np.flip(a, 1)", a=Z)],
    "numpy.fliplr": [C("np.fliplr(a)", a=Z)],
    "numpy.flipud": [C("np.flipud(a)", a=Z)],
    "numpy.roll": [C("np.roll(a, 2)", a=Z), C("np.roll(a, (1, -1), axis=(0, 1))", a=Z)],
    "numpy.pad": [C("np.pad(a, 1)", a=Z), C("np.pad(a, ((1, 0), (2, 1)), constant_values=0.5)", a=Z),
                  C("np.pad(a, 2, mode='reflect')", a=Z), C("np.pad(a, 1, mode='edge')", a=Z),
                  C("np.pad(a, (1, 2), mode='wrap')", a=R(4))],
    "numpy.sort": [C("np.sort(a)", a=Distinct(3, 4)), C("np.sort(a, axis=0)", a=Distinct(3, 4)),
                   C("np.sort(a, axis=None)", a=Distinct(3, 4))],
    "numpy.diag": [C("np.diag(a)", a=R(3)), C("np.diag(a, 1)", a=R(3)), C("np.diag(a)", a=R(3, 4)),
                   C("np.diag(a, -1)", a=R(3, 4))],
    "numpy.diagonal": [C("np.diagonal(a)", a=R(3, 4)), C("np.diagonal(a, 1, 1, 2)", a=R(2, 3, 4)),
                       C("a.diagonal()", a=R(3, 3))],
    "numpy.triu": [C("np.triu(a)", a=Z), C("np.triu(a, 1)", a=R(2, 3, 3))],
    "numpy.tril": [C("np.tril(a, -1)", a=Z)],
    "numpy.take": [C("np.take(a, [0, 2, 2])", a=Z), C("np.take(a, [[0, 1], [1, 1]], axis=1)", a=R(2, 3)),
                   C("a.take([3, 0], axis=0)", a=R(4, 2)), C("np.take(a, [5, -1], mode='wrap')", a=R(4))],
    "numpy.take_along_axis": [C("np.take_along_axis(a, np.argsort(a, axis=1), axis=1)", a=Distinct(3, 4)),
                              C("np.take_along_axis(a, np.array([[0, 0], [1, 0]]), axis=0)", a=R(2, 2))],
    # building arrays from values
    "numpy.full": [C("np.full((2, 3), s)", s=S(), dtypes=F64), C("np.full((2, 3), a)", a=R(3)),
                   C("np.full(3, s, dtype=int) * s + np.full(3, s, np.float64)", s=S(), dtypes=F64)],
    "numpy.full_like": [C("np.full_like(a, s)", a=R(2, 3), s=S(), dtypes=F64),
                        C("np.full_like(a, b)", a=R(2, 3), b=R(3)),
                        C("np.full_like(np.arange(3), s) * s", s=S(), dtypes=F64)],
    "numpy.linspace": [C("np.linspace(s, t, 5)", s=S(), t=S(), dtypes=F64),
                       C("np.linspace(a, b, 4, axis=1)", a=R(3), b=R(2, 3)),
                       C("np.linspace(s, t, 4, endpoint=False)", s=S(), t=S(), dtypes=F64),
                       C("np.linspace(a, s, 3, axis=-1)", a=R(2), s=S(), dtypes=F64),
                       C("np.linspace(s, t, 3, retstep=True)[0] * np.linspace(s, t, 3, retstep=True)[1]",
                         s=S(), t=S(), dtypes=F64),
                       C("np.linspace(s, t, 4, dtype=int) * s", s=S(-3, 3), t=S(5, 9), dtypes=F64)],
    "numpy.arange": [C("np.arange(s, 3.0)", s=S(), dtypes=F64),
                     C("np.arange(0.0, 2.0, s) + np.arange(s)", s=S(0.3, 0.6), dtypes=F64),
                     C("np.arange(s, t, 0.5)", s=S(), t=S(3, 4), dtypes=F64)],
    "adjoint.runtime.scatter_add": [C("rt.scatter_add(a, [0, 2, 0], b)", a=R(3, 4), b=R(3, 4), dtypes=F64),
                                    C("rt.scatter_add(a, 1, s)", a=R(3), s=S(), dtypes=F64),
                                    C("rt.scatter_add(a, (np.array([0, 1, 1]), 2), b)", a=R(2, 3),
                                      b=R(3), dtypes=F64)],
    "adjoint.runtime.put_into": [C("rt.put_into(a, [0, 5, 0], b)", a=R(2, 3), b=R(3), dtypes=F64),
                                 C("rt.put_into(a, [1, 2, 3], b)", a=R(4), b=R(2), dtypes=F64),
                                 C("rt.put_into(a, [7, -1], s, 'wrap')", a=R(2, 3), s=S(), dtypes=F64)],
    "adjoint.runtime.as_column": [C("rt.as_column(a)", a=R(3), dtypes=F64),
                                  C("rt.as_column(s)", s=S(), dtypes=F64),
                                  C("rt.as_column(a)", a=R(2, 3), dtypes=F64)],
    "adjoint.runtime.integer_cut": [C("rt.integer_cut(a, a)", a=R(3), dtypes=F64),
                                    C("rt.integer_cut(a, np.arange(3)) + b", a=R(3), b=R(3), dtypes=F64)],
    # products
    "numpy.dot": [C("np.dot(a, b)", a=R(3), b=R(3)), C("np.dot(a, b)", a=R(2, 3), b=R(3)),
                  C("np.dot(a, b)", a=R(3), b=R(3, 2)), C("a.dot(b)", a=R(2, 3), b=R(3, 4)),
                  C("np.dot(a, b)", a=R(2, 3), b=R(4, 3, 2)), C("np.dot(s, a)", s=S(), a=R(3), dtypes=F64),
                  C("np.dot(a, b)", a=R(2, 3), b=R(3), dtypes=CPLX), C("np.dot(a, b)", a=R(3), b=R(2, 3, 4)),
                  C("np.dot(a, b)", a=R(3), b=R(2, 3, 2), dtypes=CPLX)],
    "operator.matmul": [C("a @ b", a=R(2, 3), b=R(3, 4)), C("a @ b", a=R(3), b=R(3, 4)),
                        C("np.matmul(a, b)", a=R(2, 3), b=R(3)), C("a @ b", a=R(2, 2, 3), b=R(3, 4)),
                        C("a @ b", a=R(2, 1, 2, 3), b=R(3, 3, 2)), C("a @ b", a=R(2, 3), b=R(3, 2), dtypes=CPLX)],
    "numpy.vdot": [C("np.vdot(a, b)", a=R(2, 3), b=R(6)), C("np.vdot(a, b)", a=R(3), b=R(3), dtypes=CPLX)],
    "numpy.inner": [C("np.inner(a, b)", a=R(3), b=R(3)), C("np.inner(a, b)", a=R(2, 3), b=R(4, 3)),
                    C("np.inner(a, b)", a=R(3), b=R(2, 3), dtypes=CPLX)],
    "numpy.outer": [C("np.outer(a, b)", a=R(3), b=R(2, 2)), C("np.outer(a, b)", a=R(2), b=R(3), dtypes=CPLX)],
    "numpy.tensordot": [C("np.tensordot(a, b)", a=R(2, 3, 4), b=R(3, 4, 2)),
                        C("np.tensordot(a, b, axes=([0, 2], [2, 0]))", a=R(2, 3, 4), b=R(4, 5, 2)),
                        C("np.tensordot(a, b, 0)", a=R(2), b=R(3)),
                        C("np.tensordot(a, b, 1)", a=R(2, 3), b=R(3), dtypes=CPLX)],
    "numpy.einsum": [
        C("np.einsum('ij,jk->ik', a, b)", a=R(2, 3), b=R(3, 4)), C("np.einsum('ii->i', a)", a=R(3, 3)),
        C("np.einsum('ii', a)", a=R(3, 3)), C("np.einsum('i,i', a, b)", a=R(3), b=R(3)),
        C("np.einsum('...ij,...jk', a, b)", a=R(2, 3, 4), b=R(4, 2)), C("np.einsum('ij->', a)", a=Z),
        C("np.einsum('ij,kj->ikj', a, b)", a=R(2, 3), b=R(4, 3)),
        C("np.einsum('bij,bjk,bkl->bil', a, b, c)", a=R(2, 2, 3), b=R(2, 3, 2), c=R(2, 2, 2)),
        C("np.einsum('iij->j', a)", a=R(3, 3, 2)), C("np.einsum('i,j', a, b)", a=R(3), b=R(2)),
        C("np.einsum('ij->j', a)", a=Z), C("np.einsum('...i,...i->...', a, b)", a=R(2, 1, 3), b=R(4, 3)),
        C("np.einsum('ij,j,k,k->i', a, b, c, d)", a=R(2, 3), b=R(3), c=R(2), d=R(2)),
        C("np.einsum('i,i,i,i,i->', a, b, c, d, e)", a=R(2), b=R(2), c=R(2), d=R(2), e=R(2)),
        C("np.einsum('ij,j->i', a, b, optimize=True)", a=R(2, 3), b=R(3), dtypes=CPLX)],
    "numpy.kron": [C("np.kron(a, b)", a=R(2, 3), b=R(2, 2)), C("np.kron(a, b)", a=R(3), b=R(2)),
                   C("np.kron(a, b)", a=R(2, 2), b=R(3)), C("np.kron(a, b)", a=R(2), b=R(2, 2), dtypes=CPLX)],
    "numpy.linalg.matrix_transpose": [C("np.linalg.matrix_transpose(a)", a=R(2, 3, 4)),
                                      C("np.matrix_transpose(a)", a=R(3, 2))],
    # linear algebra
    "numpy.linalg.inv": [C("np.linalg.inv(a)", a=Well(3, 3)), C("np.linalg.inv(a)", a=Well(2, 3, 3)),
                         C("np.linalg.inv(a)", a=Well(2, 2), dtypes=CPLX)],
    "numpy.linalg.solve": [C("np.linalg.solve(a, b)", a=Well(3, 3), b=R(3)),
                           C("np.linalg.solve(a, b)", a=Well(3, 3), b=R(3, 2)),
                           C("np.linalg.solve(a, b)", a=Well(2, 3, 3), b=R(2, 3, 2)),
                           C("np.linalg.solve(a, b)", a=Well(2, 2), b=R(2), dtypes=CPLX)],
    "numpy.linalg.pinv": [C("np.linalg.pinv(a)", a=R(4, 3)), C("np.linalg.pinv(a)", a=R(2, 4)),
                          C("np.linalg.pinv(a)", a=Well(3, 3))],
    "numpy.linalg.lstsq": [C("np.linalg.lstsq(a, b)[0]", a=R(5, 3), b=R(5)),
                           C("np.linalg.lstsq(a, b, rcond=None)[0]", a=R(4, 2), b=R(4, 2)),
                           C("np.linalg.lstsq(a, b)[1] + np.linalg.lstsq(a, b)[3][0]", a=R(4, 2), b=R(4, 2)),
                           C("np.linalg.lstsq(a, b)[1]", a=R(4, 2), b=R(4))],
    "numpy.linalg.matrix_power": [C("np.linalg.matrix_power(a, 3)", a=R(3, 3)),
                                  C("np.linalg.matrix_power(a, -2)", a=Well(3, 3)),
                                  C("np.linalg.matrix_power(a, 1) + np.linalg.matrix_power(a, 0)", a=R(2, 2))],
    "numpy.linalg.det": [C("np.linalg.det(a)", a=Well(3, 3)), C("np.linalg.det(a)", a=Well(2, 3, 3)),
                         C("np.linalg.det(a)", a=Well(2, 2), dtypes=CPLX)],
    "numpy.linalg.slogdet": [C("np.linalg.slogdet(a)[1]", a=Well(3, 3)),
                             C("np.linalg.slogdet(a)[0] * np.linalg.slogdet(a)[1]", a=Well(2, 3, 3)),
                             C("np.linalg.slogdet(a)[1]", a=Well(2, 2), dtypes=CPLX)],
    "numpy.linalg.cholesky": [C("np.linalg.cholesky(a)", a=Spd(3, 3)),
                              C("np.linalg.cholesky(a, upper=True)", a=Spd(3, 3)),
                              C("np.linalg.cholesky(a)", a=Spd(2, 3, 3)),
                              C("np.linalg.cholesky(a @ a.T + np.eye(3, dtype=a.dtype))", a=R(3, 3))],
    "numpy.linalg.eigh": [C("np.linalg.eigh(a)[0]", a=R(3, 3)), C("np.linalg.eigh(a)[1] ** 2", a=R(3, 3)),
                          C("np.linalg.eigh(a, UPLO='U')[1] ** 2", a=R(2, 3, 3)),
                          C("np.linalg.eigvalsh(a + a.T)", a=R(3, 3)),
                          C("np.linalg.eigh(a)[0]", a=R(3, 3), dtypes=CPLX)],
    "numpy.linalg.qr": [C("np.linalg.qr(a)[1]", a=R(4, 3)), C("np.linalg.qr(a)[0]", a=R(4, 3)),
                        C("np.linalg.qr(a)[0] * np.linalg.qr(a)[1][0, 1]", a=R(3, 3)),
                        C("np.linalg.qr(a)[0]", a=R(2, 4)), C("np.linalg.qr(a)[1]", a=R(2, 4)),
                        C("np.linalg.qr(a, mode='r')", a=R(4, 3))],
    "numpy.linalg.svd": [C("np.linalg.svd(a)[1]", a=R(4, 3)), C("np.linalg.svd(a, compute_uv=False)", a=R(2, 4)),
                         C("np.linalg.svd(a, full_matrices=False)[0] ** 2", a=R(4, 3)),
                         C("np.linalg.svd(a, full_matrices=False)[2] ** 2", a=R(3, 4)),
                         C("np.linalg.svd(a)[0] ** 2 + np.linalg.svd(a)[2] ** 2", a=R(3, 3)),
                         C("np.linalg.svd(a)[0][:, :3] ** 2", a=R(4, 3)),  # full_matrices' u, in part
                         C("np.linalg.svd(a)[1]", a=R(3, 2), dtypes=CPLX)],
    "numpy.linalg.svdvals": [C("np.linalg.svdvals(a)", a=R(3, 4))],
    # built-ins
    "max": [C("max(s, t)", s=S(), t=S(), dtypes=F64), C("max(s, t)", s=S(-1, -0.5), t=S(0.5, 1), dtypes=F64), C("min(s, t) * s", s=S(), t=S(), dtypes=F64),
            C("max([s, t, 0.25])", s=S(), t=S(), dtypes=F64), C("min(a)", a=Distinct(4))],
    "sum": [C("sum([s, t, s * t])", s=S(), t=S(), dtypes=F64), C("sum(a)", a=R(3, 4)),
            C("sum([s, t], u)", s=S(), t=S(), u=S(), dtypes=F64)],
    "adjoint.runtime.piecewise_grad": [
        C("rt.piecewise_grad(c, a, [a < 0], [np.sin, np.exp])", c=R(3, 4), a=R(3, 4), dtypes=F64)],
    "adjoint.runtime.AdjointList": [C("np.stack(rt.AdjointList([a, b]))", a=R(3), b=R(3), dtypes=F64)],
    "tuple": [C("tuple(a)[1] * tuple([s, t])[0]", a=R(3), s=S(), t=S(), dtypes=F64),
              C("np.stack(tuple(a))", a=R(2, 3))],
    "math.fsum": [C("math.fsum([s, t * s])", s=S(), t=S(), dtypes=F64),
                  C("math.fsum(a)", a=R(4), dtypes=F64)],
    "adjoint.runtime.dict_from": [C("rt.dict_from(['p', 'q', 'p'], [a, b, s])['p'] * "
                                    "rt.dict_from(['p', 'q', 'p'], [a, b, s])['q']",
                                    a=R(3), b=R(3), s=S(), dtypes=F64)],
    "adjoint.runtime.joined": [C("np.stack(rt.joined([a, b], [a * b]))", a=R(3), b=R(3), dtypes=F64),
                               C("np.array(rt.joined([s], [t, s * t]))", s=S(), t=S(), dtypes=F64)],
    "adjoint.runtime.repeated": [C("np.stack(rt.repeated([a, b], 3)) * np.arange(6.0)[:, None]",
                                   a=R(2), b=R(2), dtypes=F64)],
    "adjoint.runtime.items_of": [C("np.array(rt.items_of(a))", a=R(2, 3), dtypes=F64),
                                 C("rt.items_of([s, t])[1] * s", s=S(), t=S(), dtypes=F64)],
    "numpy.float64": [C("np.float64(s)", s=S(), dtypes=F64),
                      C("np.float32(np.sum(a))", a=R(3), dtypes=F64, rtol=1e-2, eps=1e-3),
                      C("np.float16(s)", s=S(), dtypes=F64, rtol=0.05, eps=1e-2)],
    # runtime helpers of generated code (second derivatives transform generated code again)
    "adjoint.runtime.unreduce": [C("rt.unreduce(c, a, 1, False)", c=R(3), a=R(3, 4), dtypes=F64),
                                 C("rt.unreduce(c, a, None, False)", c=S(), a=R(2, 3), dtypes=F64),
                                 C("rt.unreduce(c, a, 0, True)", c=R(1, 4), a=R(3, 4), dtypes=F64)],
    "adjoint.runtime.unbroadcast": [C("rt.unbroadcast(c, a)", c=R(3, 4), a=R(4), dtypes=F64),
                                    C("rt.unbroadcast(c, a)", c=R(2, 3, 4), a=R(3, 1), dtypes=F64)],
    "adjoint.runtime.grad_like": [C("rt.grad_like(c, a)", c=R(4), a=R(3, 4), dtypes=F64)],
    "adjoint.runtime.sum_grad": [C("np.array(rt.sum_grad(s, [s, t]))", s=S(), t=S(), dtypes=F64),
                                 C("rt.sum_grad(c, a)", c=R(4), a=R(3, 4), dtypes=F64)],
    "adjoint.runtime.first_items": [C("np.stack(rt.first_items([a, b, a * b], [a, a]))", a=R(3), b=R(3),
                                      dtypes=F64)],
    "adjoint.runtime.last_items": [C("np.array(rt.last_items([s, t, s * t], [s, s]))", s=S(), t=S(),
                                     dtypes=F64)],
    "adjoint.runtime.repeats_summed": [C("np.stack(rt.repeats_summed([a, b, a * b, b], [a, a]))", a=R(3),
                                         b=R(3), dtypes=F64)],
    "adjoint.runtime.padded_after": [C("np.stack(rt.padded_after([a, a * b], [b]))", a=R(3), b=R(3),
                                       dtypes=F64)],
    "adjoint.runtime.padded_before": [C("np.array(rt.padded_before([t], [s, s * t]))", s=S(), t=S(),
                                        dtypes=F64)],
    "adjoint.runtime.items_of_grad": [C("rt.items_of_grad(c, a)", c=R(3), a=R(3), dtypes=F64)],
    "adjoint.runtime.dict_from_grad": [C("np.array(rt.dict_from_grad({'p': a, 'q': b}, ['p', 'q', 'p'], "
                                         "[a, b, a]))", a=R(3), b=R(3), dtypes=F64)],
    "adjoint.runtime.tangent_like": [C("rt.tangent_like(c, a)", c=R(4), a=R(3, 4), dtypes=F64)],
    "adjoint.runtime.writable_copy": [C("rt.writable_copy(a) + rt.snapshot(a) * a", a=Z, dtypes=F64)],
    "adjoint.runtime.unstack_like": [C("np.array(rt.unstack_like(c, [s, t, s]))", c=R(3), s=S(), t=S(),
                                       dtypes=F64)],
    "adjoint.runtime.conj": [C("rt.conj(a) * a", a=Z, dtypes=F64)],
    "adjoint.runtime.reserve": [C("rt.reserve(a, 5) * 2.0", a=R(3), dtypes=F64),
                                C("rt.reserve(a, 2) ** 2", a=R(3), dtypes=F64)],
    "adjoint.runtime.real_part": [C("rt.real_part(a * (1.0 + 2.0j)) * a", a=R(3)),
                                  C("rt.real_part(a) ** 2", a=R(2, 3), dtypes=CPLX)],
    "adjoint.runtime.real_like": [C("rt.real_like(a * (1.0 + 2.0j), np.zeros(3)) * a", a=R(3)),
                                  C("rt.real_like(a, np.zeros(3, complex)) ** 2", a=R(3), dtypes=CPLX)],
    "adjoint.runtime.cumsum_grad": [C("rt.cumsum_grad(c, a, None)", c=R(6), a=R(2, 3), dtypes=F64),
                                    C("rt.cumsum_grad(c, a, 1)", c=R(2, 3), a=R(2, 3), dtypes=F64)],
    "adjoint.runtime.unstack": [C("np.array(rt.unstack(c, [a, b], 1))", c=R(3, 2), a=R(3), b=R(3),
                                  dtypes=F64)],
    "adjoint.runtime.unconcatenate": [
        C("np.concatenate(rt.unconcatenate(c, [a, b], 0))", c=R(5), a=R(2), b=R(3), dtypes=F64),
        C("np.array(rt.unconcatenate(c, [a, b], None))", c=R(4), a=R(2), b=R(2), dtypes=F64),
        C("np.sum(rt.unconcatenate(c, [a, b], 0, np.atleast_2d)[1])", c=R(3, 2), a=R(2, 2), b=R(2),
          dtypes=F64)],
    "adjoint.runtime.reconcatenate": [
        C("rt.reconcatenate([a, b], c, [a, b], 0)", a=R(2), b=R(3), c=R(5), dtypes=F64),
        C("rt.reconcatenate([a, b], c, [a, b], None)", a=R(2, 2), b=R(3), c=R(7), dtypes=F64),
        C("rt.reconcatenate([a, b], c, [a, b], 0, np.atleast_2d)", a=R(2, 2), b=R(2), c=R(3, 2),
          dtypes=F64)],
    "adjoint.runtime.transpose_grad": [C("rt.transpose_grad(a, (1, 2, 0))", a=R(2, 3, 4), dtypes=F64),
                                       C("rt.transpose_grad(a)", a=Z, dtypes=F64)],
    "adjoint.runtime.mT": [C("rt.mT(a)", a=R(2, 3, 4), dtypes=F64)],
    "adjoint.runtime.mH": [C("rt.mH(a)", a=R(2, 3, 4), dtypes=F64)],
    "adjoint.runtime.extremum_grad": [
        C("rt.extremum_grad(c, x, np.max(x, axis=1), 1, False)", c=R(3), x=Distinct(3, 4), dtypes=F64),
        C("rt.extremum_grad(c, x, np.min(x), None, False)", c=S(), x=Distinct(3, 4), dtypes=F64)],
    "adjoint.runtime.extremum_jvp": [
        C("rt.extremum_jvp(c, x, np.max(x, axis=0), 0, False)", c=R(3, 4), x=Distinct(3, 4), dtypes=F64)],
    "adjoint.runtime.dot_grad_a": [C("rt.dot_grad_a(c, a, b)", c=R(2), a=R(2, 3), b=R(3), dtypes=F64),
                                   C("rt.dot_grad_a(c, a, b)", c=R(2, 4), a=R(2, 3), b=R(3, 4), dtypes=F64)],
    "adjoint.runtime.dot_grad_b": [C("rt.dot_grad_b(c, a, b)", c=R(2), a=R(2, 3), b=R(3), dtypes=F64),
                                   C("rt.dot_grad_b(c, a, b)", c=R(2, 4), a=R(2, 3), b=R(3, 4), dtypes=F64)],
    "adjoint.runtime.matmul_grad_a": [
        C("rt.matmul_grad_a(c, a, b)", c=R(2, 4), a=R(2, 3), b=R(3, 4), dtypes=F64),
        C("rt.matmul_grad_a(c, a, b)", c=R(5, 2, 4), a=R(5, 2, 3), b=R(3, 4), dtypes=F64),
        C("rt.matmul_grad_a(c, a, b)", c=R(2), a=R(2, 3), b=R(3), dtypes=F64)],
    "adjoint.runtime.matmul_grad_b": [
        C("rt.matmul_grad_b(c, a, b)", c=R(2, 4), a=R(2, 3), b=R(3, 4), dtypes=F64),
        C("rt.matmul_grad_b(c, a, b)", c=R(5, 2, 4), a=R(5, 2, 3), b=R(3, 4), dtypes=F64),
        C("rt.matmul_grad_b(c, a, b)", c=R(2), a=R(2, 3), b=R(3), dtypes=F64)],
    "adjoint.runtime.add_at": [C("rt.add_at(a * 1.0, 1, b)", a=R(3, 4), b=R(4), dtypes=F64),
                               C("rt.add_at(a * 1.0, [0, 2, 0], b)", a=R(3, 4), b=R(3, 4), dtypes=F64)],
    "adjoint.runtime.det_grad": [C("rt.det_grad(c, a, np.linalg.det(a))", c=S(), a=Well(3, 3), dtypes=F64),
                                 C("rt.det_grad(c, a, s)", c=R(2), a=Well(2, 3, 3), s=R(2), dtypes=F64)],
    "adjoint.runtime.safe_log": [C("rt.safe_log(a)", a=P(3, 4), dtypes=F64)],
    "adjoint.runtime.logistic": [C("rt.logistic(a)", a=R(3, 4), dtypes=F64), C("rt.logistic(a)", a=S(), dtypes=F64)],
    "adjoint.runtime.safe_div": [C("rt.safe_div(a, b)", a=R(3, 4), b=P(4), dtypes=F64)],
    # helpers linear in their cotangent (second order through every NumPy rule)
    "adjoint.runtime.unsplit": [C("rt.unsplit([c, d], [a, b], 1)", c=R(2, 1), d=R(2, 3), a=R(2, 1),
                                  b=R(2, 3), dtypes=F64),
                                C("rt.unsplit([c, 0.0], [a, b])", c=R(2), a=R(2), b=R(3), dtypes=F64)],
    "adjoint.runtime.linspace_grad": [
        C("rt.linspace_grad(c, s, t, 4, True, False, None, 0, 1)", c=R(4), s=S(), t=S(), dtypes=F64),
        C("rt.linspace_grad(c, a, b, 3, False, False, None, 1, 0)", c=R(2, 3), a=R(2), b=R(2),
          dtypes=F64)],
    "adjoint.runtime.pick_grad": [C("rt.pick_grad(c, max(s, t), s, t)", c=S(), s=S(), t=S(), dtypes=F64),
                                  C("rt.pick_grad(c, np.max(x), x)", c=S(), x=Distinct(4), dtypes=F64)],
    "adjoint.runtime.clip_grad": [C("rt.clip_grad(c, a, -0.3, 0.5)", c=R(3, 4), a=R(3, 4), dtypes=F64),
                                  C("rt.clip_grad(c, a, b)", c=R(3, 4), a=R(3, 4), b=R(4), dtypes=F64)],
    "adjoint.runtime.pad_grad": [C("rt.pad_grad(c, a, 1)", c=R(4, 5), a=R(2, 3), dtypes=F64),
                                 C("rt.pad_grad(c, a, 2, 'reflect')", c=R(7), a=R(3), dtypes=F64)],
    "adjoint.runtime.diag_grad": [C("rt.diag_grad(c, a, 1)", c=R(4, 4), a=R(3), dtypes=F64),
                                  C("rt.diag_grad(c, a)", c=R(3), a=R(3, 3), dtypes=F64)],
    "adjoint.runtime.put_grad": [C("rt.put_grad(c, a, [0, 4, 0], b, 'raise', 'v')", c=R(2, 3), a=R(2, 3),
                                   b=R(3), dtypes=F64),
                                 C("rt.put_grad(c, a, [1, 2], b)", c=R(4), a=R(4), b=R(2), dtypes=F64)],
    "adjoint.runtime.diagonal_grad": [C("rt.diagonal_grad(c, a, 1, 1, 2)", c=R(2, 2), a=R(2, 3, 3),
                                        dtypes=F64)],
    "adjoint.runtime.repeat_grad": [C("rt.repeat_grad(c, a, 2)", c=R(12), a=R(2, 3), dtypes=F64),
                                    C("rt.repeat_grad(c, a, [1, 0, 2], 0)", c=R(3, 2), a=R(3, 2),
                                      dtypes=F64)],
    "adjoint.runtime.sort_grad": [C("rt.sort_grad(c, a, 0)", c=R(3, 4), a=Distinct(3, 4), dtypes=F64),
                                  C("rt.sort_grad(c, a, None)", c=R(6), a=Distinct(2, 3), dtypes=F64)],
    "adjoint.runtime.sum_grad": [C("rt.sum_grad(c, a)", c=R(4), a=R(3, 4), dtypes=F64),
                                 C("np.array(rt.sum_grad(c, [s, t]))", c=S(), s=S(), t=S(), dtypes=F64)],
    "adjoint.runtime.broadcast_like": [C("rt.broadcast_like(c, a)", c=R(4), a=R(3, 4), dtypes=F64)],
    "adjoint.runtime.imag_grad": [C("rt.imag_grad(c, a)", c=R(3), a=R(3), dtypes=F64),
                                  C("np.real(rt.imag_grad(c, a * 1j))", c=R(3), a=R(3), dtypes=F64)],
    "adjoint.runtime.take_along_axis_grad": [
        C("rt.take_along_axis_grad(c, a, np.array([[0, 2], [1, 1]]), 1)", c=R(2, 2), a=R(2, 3),
          dtypes=F64)],
    "adjoint.runtime.tile_grad": [C("rt.tile_grad(c, a, (2, 1, 3))", c=R(2, 2, 9), a=R(2, 3),
                                    dtypes=F64)],
    "adjoint.runtime.take_grad": [C("rt.take_grad(c, a, [[0, 1], [1, 1]], 1)", c=R(3, 2, 2), a=R(3, 4),
                                    dtypes=F64),
                                  C("rt.take_grad(c, a, [0, 2, 2])", c=R(3), a=R(3, 4), dtypes=F64)],
    "adjoint.runtime.trace_grad": [C("rt.trace_grad(c, a, 1)", c=S(), a=R(3, 4), dtypes=F64),
                                   C("rt.trace_grad(c, a, 0, 1, 2)", c=R(2), a=R(2, 3, 3), dtypes=F64)],
    "adjoint.runtime.mH": [C("rt.mH(a)", a=R(2, 3, 4), dtypes=F64)],
    "adjoint.runtime.tangent_fit": [C("rt.tangent_fit(c, a)", c=R(4), a=R(3, 4), dtypes=F64),
                                    C("rt.tangent_fit(c, a)", c=R(3, 4), a=R(3, 4), dtypes=F64)],
    "adjoint.runtime.scattered": [C("rt.scattered(c, a, [0, 2, 0])", c=R(3, 4), a=R(3, 4), dtypes=F64),
                                  C("rt.scattered(s, a, 1)", s=S(), a=R(3), dtypes=F64)],
    "adjoint.runtime.log_base": [C("rt.log_base(s)", s=S(0.5, 2), dtypes=F64)],
    "adjoint.runtime.qr_grad": [
        C("rt.qr_grad([c, d], a, (q, r))", c=R(4, 3), d=R(3, 3), a=R(4, 3), q=R(4, 3), r=Well(3, 3),
          dtypes=F64),
        C("rt.qr_grad([c, d], a, (q, r + 3 * np.eye(2, 3)))", c=R(2, 2), d=R(2, 3), a=R(2, 3), q=R(2, 2),
          r=R(2, 3),
          dtypes=F64),
        C("rt.qr_grad(c, a, np.linalg.qr(a, 'r'), 'r')", c=R(3, 3), a=Well(3, 3), dtypes=F64)],
    "adjoint.runtime.lstsq_grad": [
        C("rt.lstsq_grad([c, d, 0, e], a, b, np.linalg.lstsq(a, b), 'a')", c=R(3), d=R(1), e=R(3),
          a=R(5, 3), b=R(5), dtypes=F64),
        C("rt.lstsq_grad([c, d, 0, e], a, b, np.linalg.lstsq(a, b), 'b')", c=R(3, 2), d=R(2), e=R(3),
          a=R(5, 3), b=R(5, 2), dtypes=F64)],
    "adjoint.runtime.svd_grad": [
        C("rt.svd_grad(c, a, np.linalg.svdvals(a))", c=R(3), a=R(4, 3), dtypes=F64),
        C("rt.svd_grad([c, d, e], a, (u, s, v), False)", c=R(4, 3), d=R(3), e=R(3, 3), a=R(4, 3),
          u=R(4, 3), s=Distinct(3), v=R(3, 3), dtypes=F64),
        C("rt.svd_grad([c, d, e], a, (u, s, v), False)", c=R(2, 2), d=R(2), e=R(2, 3), a=R(2, 3),
          u=R(2, 2), s=Distinct(2), v=R(2, 3), dtypes=F64)],
    "adjoint.runtime.angle_grad": [C("rt.angle_grad(c, z)", c=R(3), z=R(3), dtypes=F64),
                                   C("np.real(rt.angle_grad(c, z * (1 + 2j), True))", c=R(3), z=P(3),
                                     dtypes=F64)],
    "adjoint.runtime.solve_grad": [
        C("rt.solve_grad(c, a, b, x, 'a')", c=R(3, 2), a=Well(3, 3), b=R(3, 2), x=R(3, 2), dtypes=F64),
        C("rt.solve_grad(c, a, b, x, 'a')", c=R(3), a=Well(3, 3), b=R(3), x=R(3), dtypes=F64),
        C("rt.solve_grad(c, a, b, x)", c=R(3), a=Well(3, 3), b=R(3), x=R(3), dtypes=F64)],
    "adjoint.runtime.matrix_power_grad": [C("rt.matrix_power_grad(c, a, 3)", c=R(3, 3), a=R(3, 3), dtypes=F64),
                                          C("rt.matrix_power_grad(c, a, -2)", c=R(3, 3), a=Well(3, 3),
                                            dtypes=F64)],
    "adjoint.runtime.cholesky_grad": [C("rt.cholesky_grad(c, l)", c=R(3, 3), l=Well(3, 3), dtypes=F64),
                                      C("rt.cholesky_grad(c, l, True)", c=R(3, 3), l=Well(3, 3), dtypes=F64)],
    "adjoint.runtime.eigh_grad": [
        C("rt.eigh_grad(c, a, np.linalg.eigvalsh(a))", c=R(3), a=Spd(3, 3), dtypes=F64),
        C("rt.eigh_grad([c, d], a, (w, v))", c=R(3), d=R(3, 3), a=R(3, 3), w=Distinct(3), v=R(3, 3),
          dtypes=F64),
        C("rt.eigh_grad([c, d], a, (w, v), 'U')", c=R(3), d=R(3, 3), a=R(3, 3), w=Distinct(3), v=R(3, 3),
          dtypes=F64)],
    "adjoint.runtime.pinv_grad": [C("rt.pinv_grad(c, a, x)", c=R(3, 2), a=R(2, 3), x=R(3, 2), dtypes=F64)],
    "adjoint.runtime.prod_grad": [C("rt.prod_grad(c, a, 1)", c=R(3), a=R(3, 4), dtypes=F64),
                                  C("rt.prod_grad(c, a * np.array([1.0, 0.0, 1.0]))", c=S(), a=R(3),
                                    dtypes=F64)],
    "adjoint.runtime.cumprod_grad": [C("rt.cumprod_grad(c, a, p, 1)", c=R(2, 3), a=P(2, 3), p=R(2, 3),
                                       dtypes=F64)],
    "adjoint.runtime.average_grad": [
        C("rt.average_grad(c, a, 1, b, False, 'a')", c=R(3), a=R(3, 4), b=P(4), dtypes=F64),
        C("rt.average_grad(c, a, None, b, False, 'weights', m)", c=S(), a=R(3, 4), b=P(3, 4), m=S(),
          dtypes=F64),
        C("rt.average_grad(c, a)", c=S(), a=R(3, 4), dtypes=F64)],
    "adjoint.runtime.einsum_grad": [
        C("rt.einsum_grad(c, 0, 'ij,jk->ik', a, b)", c=R(2, 4), a=R(2, 3), b=R(3, 4), dtypes=F64),
        C("rt.einsum_grad(c, 1, 'ij,j,jk->ik', a, b, d)", c=R(2, 4), a=R(2, 3), b=R(3), d=R(3, 4),
          dtypes=F64),
        C("rt.einsum_grad(c, 0, 'ii->i', a)", c=R(3), a=R(3, 3), dtypes=F64)],
    "adjoint.runtime.tensordot_grad": [
        C("rt.tensordot_grad(c, 1, a, b, 1)", c=R(2, 4), a=R(2, 3), b=R(3, 4), dtypes=F64),
        C("rt.tensordot_grad(c, 0, a, b, ([0], [1]))", c=R(3, 2), a=R(4, 3), b=R(2, 4), dtypes=F64)],
    "adjoint.runtime.inner_grad": [C("rt.inner_grad(c, 0, a, b)", c=R(2, 3), a=R(2, 4), b=R(3, 4),
                                     dtypes=F64),
                                   C("rt.inner_grad(c, 1, a, b)", c=S(), a=R(4), b=R(4), dtypes=F64)],
    "adjoint.runtime.kron_grad": [C("rt.kron_grad(c, 0, a, b)", c=R(4, 6), a=R(2, 3), b=R(2, 2),
                                    dtypes=F64),
                                  C("rt.kron_grad(c, 1, a, b)", c=R(6), a=R(2), b=R(3), dtypes=F64)],
    "adjoint.runtime.norm_grad": [
        C("rt.norm_grad(c, x, s)", c=S(), x=R(3, 4), s=P(), dtypes=F64),
        C("rt.norm_grad(c, x, np.linalg.norm(x, axis=1), None, 1)", c=R(3), x=R(3, 4), dtypes=F64),
        C("rt.norm_grad(c, x, n, 3, 0, True)", c=R(1, 4), x=R(3, 4), n=P(1, 4), dtypes=F64),
        C("rt.norm_grad(c, x, np.max(np.abs(x), axis=1), np.inf, 1)", c=R(3), x=Distinct(3, 4),
          dtypes=F64)],
}
from .scipy_cases import no_derivative as scipy_no_derivative, scipy_cases  # noqa: E402

CASES.update(scipy_cases())
NAMESPACE = {"np": np, "math": math, "rt": runtime, **SCIPY_NAMES}


# -- machinery -----------------------------------------------------------------------------------
MODULE = """import math
import numpy as np
""" + SCIPY_IMPORTS + """from adjoint import runtime as rt

w = None


def f({params}):
    return np.sum({loss})
"""
_counter = itertools.count()


@pytest.fixture(scope="module")
def module_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("rule_cases")


def make_function(case, directory, complex_out):
    """Write ``case`` into a fresh module file and return its ``f``."""
    loss = f"np.real(({case.expr}) * w)" if complex_out else f"({case.expr}) * w"
    source = MODULE.format(params=", ".join(case.args), loss=loss)
    path = directory / f"rule_case_{next(_counter)}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def inputs(case, dtype, seed):
    rng = np.random.default_rng(seed)
    return [make(rng, np.dtype(dtype)) for make in case.args.values()]


def evaluate(expr, names, values):
    return eval(expr, {**NAMESPACE, **dict(zip(names, values))})


def numeric_grad(fun, args, k, eps):
    """Central differences of ``fun`` (in float64) with respect to ``args[k]``.

    Complex arguments get ``dL/dx + i dL/dy``, the convention adjoint follows.
    """
    x = args[k]
    steps = [1.0, 1j] if np.iscomplexobj(x) else [1.0]
    flat = np.array(x, dtype=np.result_type(x, np.float64)).ravel()
    out = np.zeros(flat.shape, dtype=flat.dtype)
    for i in range(flat.size):
        for unit in steps:
            h = eps * max(1.0, abs(flat[i]))
            vals = []
            for sign in (1, -1):
                moved = flat.copy()
                moved[i] += sign * h * unit
                new = list(args)
                new[k] = moved.reshape(np.shape(x)) if isinstance(x, np.ndarray) else moved[0].real
                vals.append(float(np.real(fun(*new))))
            out[i] += unit * (vals[0] - vals[1]) / (2 * h)
    return out.reshape(np.shape(x))


def raw_gradients(grad_fn, module, args):
    """The generated gradient without its final ``grad_like`` cast (to see its dtypes)."""
    ns = dict(vars(module))
    exec(compile(grad_fn.source, "<generated>", "exec"), ns)
    ns["grad_like"] = lambda bar, x: bar
    name = re.search(r"^def (f_\w*)\(", grad_fn.source, re.M).group(1)
    return ns[name](*args)


def check_case(case, directory, failures):
    names = list(case.args)
    for dtype in case.dtypes:
        is_complex = np.issubdtype(np.dtype(dtype), np.complexfloating)
        args = inputs(case, dtype, seed=sum(map(ord, case.expr)))
        out = evaluate(case.expr, names, args)
        module = make_function(case, directory, is_complex or np.iscomplexobj(out))
        rng = np.random.default_rng(7)
        w = rng.choice([-1.0, 1.0], np.shape(out)) * rng.uniform(0.5, 1.5, np.shape(out))
        if is_complex or np.iscomplexobj(out):
            w = w + 1j * rng.uniform(-1.0, 1.0, np.shape(out))
        w_dtype = np.result_type(dtype, np.complex64) if np.iscomplexobj(w) else dtype  # fft(real)
        module.w = np.asarray(w).astype(w_dtype)
        grad_fn = adjoint.grad(module.f, tuple(range(len(names))))
        got = grad_fn(*args)  # a tuple, as wrt is a tuple
        wide = [np.asarray(a, dtype=np.result_type(a, np.float64)) if isinstance(a, np.ndarray) else a
                for a in args]
        module.w = np.asarray(w)
        want = [numeric_grad(module.f, wide, k, case.eps) for k in range(len(args))]
        low = np.dtype(dtype).itemsize < 8 or np.dtype(dtype) == np.complex64
        rtol = case.rtol or (2e-3 if low else 1e-5)
        module.w = np.asarray(w).astype(w_dtype)
        raw = raw_gradients(grad_fn, module, args) if low else (None,) * len(args)
        raw = raw if len(names) > 1 else (raw,)
        for name, a, g, ref, r in zip(names, args, got, want, raw):
            where = f"{case.expr} [{dtype}] d/d{name}"
            if isinstance(a, np.ndarray):
                if np.shape(g) != a.shape or np.asarray(g).dtype != a.dtype:
                    failures.append(f"{where}: gradient {np.shape(g)} {np.asarray(g).dtype}, "
                                    f"argument {a.shape} {a.dtype}")
                    continue
                if r is not None and isinstance(r, (np.ndarray, np.generic)) \
                        and np.asarray(r).dtype.itemsize > a.dtype.itemsize:
                    failures.append(f"{where}: the generated code upcasts to {np.asarray(r).dtype}")
            scale = max(1e-2, float(np.max(np.abs(ref), initial=0.0)))
            if not np.allclose(g, ref, rtol=rtol, atol=rtol * scale):
                failures.append(f"{where}:\n  adjoint   {np.ravel(g)}\n  numerical {np.ravel(ref)}")


def differentiable_rules():
    return [r for r in all_rules() if r.kind in ("elementwise", "structural", "zero")]


RULE_NAMES = sorted(r.name for r in differentiable_rules())


def test_every_rule_has_cases():
    missing = sorted(set(RULE_NAMES) - set(CASES))
    stale = sorted(set(CASES) - set(RULE_NAMES))
    assert not missing, f"rules without test cases in tests/test_rules.py CASES: {missing}"
    assert not stale, f"CASES entries for no registered rule: {stale}"


# -- which functions a case calls -----------------------------------------------------------------
OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
       ast.Pow: operator.pow, ast.MatMult: operator.matmul, ast.Mod: operator.mod,
       ast.FloorDiv: operator.floordiv, ast.USub: operator.neg, ast.UAdd: operator.pos}


def _root(node):
    while isinstance(node, ast.Attribute):
        node = node.value
    return getattr(node, "id", None)


def called(expr, names):
    """(function, node, argument nodes, keyword nodes) for each operation in ``expr``."""
    out = []
    for node in ast.walk(ast.parse(expr, mode="eval")):
        if isinstance(node, ast.BinOp):
            out.append((OPS[type(node.op)], node, [node.left, node.right], []))
        elif isinstance(node, ast.UnaryOp) and type(node.op) in OPS:
            out.append((OPS[type(node.op)], node, [node.operand], []))
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and _root(func) not in NAMESPACE:
                fn, packs = (runtime.astype, False) if func.attr == "astype" else \
                    (float, False) if func.attr == "item" else METHODS.get(func.attr, (None, False))
                args = [ast.Tuple(elts=node.args, ctx=ast.Load())] if packs and len(node.args) > 1 \
                    else node.args
                out.append((fn, node, [func.value] + args, node.keywords))
            else:
                out.append((eval(ast.unparse(func), NAMESPACE), node, node.args,
                            node.keywords))
        elif isinstance(node, ast.Attribute) and node.attr in ATTRIBUTES:
            out.append((ATTRIBUTES[node.attr], node, [node.value], []))
    return out


def test_every_function_of_every_rule_is_called():
    uncalled = []
    for rule in differentiable_rules():
        seen = []  # compared with ==: a bound method (scipy.stats.norm.logpdf) is a new object each time
        for case in CASES.get(rule.name, []):
            seen += [fn for fn, *_ in called(case.expr, list(case.args))]
        uncalled += [f"{rule.name}: {getattr(fn, '__name__', fn)}" for fn in rule.fns if fn not in seen]
    assert not uncalled, f"functions no case calls: {uncalled}"


# NumPy 2.5 deprecates np.fix and 2.0 np.row_stack; their rules stay for code that still calls them
@pytest.mark.filterwarnings("ignore:numpy.fix is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:`row_stack` alias is deprecated:DeprecationWarning")
@pytest.mark.parametrize("name", RULE_NAMES)
def test_rule_matches_finite_differences(name, module_dir):
    failures = []
    for case in CASES.get(name, []):
        try:
            check_case(case, module_dir, failures)
        except Exception as exc:  # report every case of the rule, not just the first
            failures.append(f"{case.expr}: {type(exc).__name__}: {exc}")
    assert CASES.get(name), f"no cases for {name}"
    assert not failures, "\n".join(failures)


@pytest.mark.filterwarnings("ignore:numpy.fix is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:`row_stack` alias is deprecated:DeprecationWarning")
def test_complex_results_of_real_arguments_are_known():
    """A case whose real arguments give a complex value calls a function that ``infer_real``
    knows can (or writes a complex constant): the reverse pass drops ``conj`` of real values,
    and a complex one taken for real is a wrong gradient."""
    unknown = []
    for name, cases in CASES.items():
        for case in cases:
            if not set(case.dtypes) & set(REAL) or any(
                    isinstance(n, ast.Constant) and isinstance(n.value, complex)
                    for n in ast.walk(ast.parse(case.expr))):
                continue
            dtype = next(d for d in case.dtypes if d in REAL)
            values = inputs(case, dtype, seed=sum(map(ord, case.expr)))
            if any(np.iscomplexobj(v) for v in values) \
                    or not np.iscomplexobj(evaluate(case.expr, list(case.args), values)):
                continue
            rules = [adjoint.rules.lookup(fn) for fn, *_ in called(case.expr, list(case.args))]
            if all(r is None or keeps_real(r) for r in rules):
                unknown.append(case.expr)
    assert not unknown, f"complex results kinds.infer_real takes for real: {unknown}"


# -- functions without a derivative: the registry's inactive and zero entries ------------------------
# One expression per function, calling it on the active values ``a`` (a 3x4 array of distinct
# entries) and ``s`` (a float in (0.1, 0.9)). Its derivative must be zero by finite differences
# and adjoint's gradient zero, or adjoint must refuse the call: a zero never comes from a
# missing rule, so an entry here whose output follows its arguments fails.
NO_DERIVATIVE = {
    "adjoint.runtime.last_writes": "rt.last_writes(a, [0, 2, 0])",
    "adjoint.custom.stop_gradient": None,  # by design: the value passes, its derivative does not
    # by design: a cell the function rebinds holds no active value (writing one is refused)
    "adjoint.runtime.cell_value": None, "adjoint.runtime.set_cell": None,
    "adjoint.runtime.attribute_value": None, "adjoint.runtime.set_attribute": None,
    "adjoint.runtime.check_keywords": "rt.check_keywords({'k': s}, 'f', ('k',), ()) is None",
    "adjoint.runtime.arange_partial": "rt.arange_partial(a, s, 4.0, 'step')",
    "adjoint.runtime.count": "rt.count(a, 1)",
    "adjoint.runtime.elementwise_shape": "rt.elementwise_shape(a, s)",
    "adjoint.runtime.keys_of": "len(rt.keys_of({'p': a, 'q': s}))",
    "adjoint.runtime.sort_order": "rt.sort_order([s, 0.5, -s])[0]",
    "any": "any([s > 0.5, s < 0.2])", "all": "all([s > 0.5, s < 0.2])",
    "adjoint.runtime.unit_seed": "rt.unit_seed(s)",
    "adjoint.runtime.zeros_like": "rt.zeros_like(a)",
    "bool": "bool(s)", "callable": "callable(a)", "hasattr": "hasattr(a, 'shape')",
    "id": "id(a) > 0", "int": "int(s * 3.0)", "isinstance": "isinstance(s, float)", "len": "len(a)",
    "math.isclose": "math.isclose(s, 0.5)", "math.isfinite": "math.isfinite(s)",
    "math.isinf": "math.isinf(s)", "math.isnan": "math.isnan(s)",
    "nonzero": "np.ndarray.nonzero(a)[1]", "numpy.all": "np.all(a)", "numpy.any": "np.any(a)",
    "numpy.allclose": "np.allclose(a, s)", "numpy.argmax": "np.argmax(a, 1)",
    "numpy.argmin": "np.argmin(a)", "numpy.argpartition": "np.argpartition(a, 1)",
    "numpy.argsort": "np.argsort(a)", "numpy.argwhere": "np.argwhere(a)",
    "numpy.array_equal": "np.array_equal(a, a)",
    "numpy.broadcast_shapes": "np.broadcast_shapes(np.shape(a), (1, 4))[0]",
    "numpy.count_nonzero": "np.count_nonzero(a)", "numpy.diag_indices": "np.diag_indices(len(a))[0]",
    "numpy.digitize": "np.digitize(a, [-0.5, 0.0, 0.5])", "numpy.empty": "np.empty(len(a)).size",
    "numpy.empty_like": "np.empty_like(a).size", "numpy.equal": "np.equal(a, s)",
    "numpy.flatnonzero": "np.flatnonzero(a)",
    "numpy.eye": "np.eye(len(a))", "numpy.greater": "np.greater(a, s)",
    "numpy.greater_equal": "np.greater_equal(a, s)", "numpy.identity": "np.identity(len(a))",
    "numpy.indices": "np.indices(np.shape(a))[1]", "numpy.isclose": "np.isclose(a, s)",
    "numpy.iscomplex": "np.iscomplex(a)", "numpy.iscomplexobj": "np.iscomplexobj(a)",
    "numpy.isfinite": "np.isfinite(a)", "numpy.isinf": "np.isinf(a)", "numpy.isnan": "np.isnan(a)",
    "numpy.isneginf": "np.isneginf(a)", "numpy.isposinf": "np.isposinf(a)",
    "numpy.isreal": "np.isreal(a)", "numpy.isrealobj": "np.isrealobj(a)",
    "numpy.isscalar": "np.isscalar(s)", "numpy.less": "np.less(a, s)",
    "numpy.less_equal": "np.less_equal(a, s)", "numpy.linalg.matrix_rank": "np.linalg.matrix_rank(a)",
    "numpy.logical_and": "np.logical_and(a, s)", "numpy.logical_not": "np.logical_not(a)",
    "numpy.logical_or": "np.logical_or(a, s)", "numpy.logical_xor": "np.logical_xor(a, s)",
    "numpy.ndim": "np.ndim(a)", "numpy.nonzero": "np.nonzero(a)[0]",
    "numpy.not_equal": "np.not_equal(a, s)", "numpy.ones": "np.ones(len(a))",
    "numpy.ones_like": "np.ones_like(a)",
    "numpy.ravel_multi_index": "np.ravel_multi_index(np.nonzero(a), (3, 4))",
    "numpy.result_type": "np.result_type(a, s) == np.float64",
    "numpy.searchsorted": "np.searchsorted(np.sort(a[0]), s)", "numpy.shape": "np.shape(a)[0]",
    "numpy.signbit": "np.signbit(a)", "numpy.size": "np.size(a)",
    "numpy.tril_indices": "np.tril_indices(len(a))[0]",
    "numpy.triu_indices": "np.triu_indices(len(a))[1]",
    "numpy.unravel_index": "np.unravel_index(np.argmax(a), np.shape(a))[0]",
    "numpy.zeros": "np.zeros(len(a))", "numpy.zeros_like": "np.zeros_like(a)",
    "print": "print(s, end='') is None", "range": "range(len(a))[1]",
    "repr": "len(repr(s)) > 0", "str": "isinstance(str(a), str)", "type": "type(s) is float",
    # zero derivative almost everywhere
    "math.ceil": "math.ceil(s * 3.0)", "math.floor": "math.floor(s * 3.0)",
    "math.trunc": "math.trunc(s * 3.0)", "numpy.around": "np.around(a * 3.0)",
    "numpy.ceil": "np.ceil(a * 3.0)", "numpy.fix": "np.fix(a * 3.0)",
    "numpy.floor": "np.floor(a * 3.0)", "numpy.floor_divide": "np.floor_divide(a, 0.3)",
    "numpy.heaviside": "np.heaviside(a, 0.5)", "numpy.rint": "np.rint(a * 3.0)",
    "numpy.round": "np.round(a * 3.0)", "numpy.sign": "np.sign(a)", "numpy.trunc": "np.trunc(a * 3.0)",
    "operator.floordiv": "a // 0.3", "round": "round(s * 3.0)",
}
NO_DERIVATIVE.update(scipy_no_derivative())

# numpy.fft and the NumPy functions beyond the core set have their table in a module of their own
from .numpy_rule_cases import CASES as NUMPY_CASES, NO_DERIVATIVE as NUMPY_NO_DERIVATIVE  # noqa: E402

for _name, _cases in NUMPY_CASES.items():
    CASES[_name] = CASES.get(_name, []) + _cases
NO_DERIVATIVE.update(NUMPY_NO_DERIVATIVE)


def no_derivative_functions():
    """Display name of every function registered as ``inactive`` or ``zero``."""
    return sorted({display_name(fn) for r in all_rules() if r.kind in ("inactive", "zero")
                   for fn in r.fns})


def test_every_function_without_a_derivative_has_a_case():
    names = no_derivative_functions()
    missing = sorted(set(names) - set(NO_DERIVATIVE))
    stale = sorted(set(NO_DERIVATIVE) - set(names))
    assert not missing, f"inactive or zero functions without a case in NO_DERIVATIVE: {missing}"
    assert not stale, f"NO_DERIVATIVE entries for no inactive or zero function: {stale}"


@pytest.mark.filterwarnings("ignore:numpy.fix is deprecated:DeprecationWarning")
@pytest.mark.parametrize("name", [n for n in sorted(NO_DERIVATIVE) if NO_DERIVATIVE[n]])
def test_no_derivative_is_really_zero(name, module_dir):
    """Finite differences agree that the output does not move, and adjoint's gradient is zero
    (or adjoint refuses the call with NotDifferentiableError)."""
    expr = NO_DERIVATIVE[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    args = [Distinct(3, 4)(rng, np.float64) / 4.0, float(rng.uniform(0.1, 0.9))]
    out = evaluate(expr, ["a", "s"], args)
    case = Case(expr, a=None, s=None)
    module = make_function(case, module_dir, False)
    module.w = rng.uniform(0.5, 1.5, np.shape(out))
    want = [numeric_grad(module.f, args, k, 1e-6) for k in range(2)]
    try:
        got = adjoint.grad(module.f, (0, 1))(*args)
    except adjoint.NotDifferentiableError:
        return  # refused clearly
    for k, (g, ref) in enumerate(zip(got, want)):
        np.testing.assert_allclose(ref, 0.0, atol=1e-9, err_msg=f"{name}: d/d{'as'[k]} is not zero")
        np.testing.assert_array_equal(g, np.zeros_like(ref), err_msg=f"{name}: d/d{'as'[k]}")


# -- forward mode ----------------------------------------------------------------------------------

def _tangent_sum(parts):
    total = parts[0]
    for p in parts[1:]:
        total = tuple(a + b for a, b in zip(total, p)) if isinstance(total, tuple) else total + p
    return total


def _shifted(src, names, values, direction, h, keep=False):
    """Central difference of expression ``src`` along ``direction`` (item by item for sequences:
    a tuple of them, or with ``keep`` (an argument) nested lists and tuples as they are)."""
    hi = evaluate(src, names, [v + h * d for v, d in zip(values, direction)])
    lo = evaluate(src, names, [v - h * d for v, d in zip(values, direction)])
    if isinstance(hi, dict):  # dict_from
        return {k: (np.asarray(hi[k]) - np.asarray(lo[k])) / (2 * h) for k in hi}
    return _difference(hi, lo, h, keep)


def _difference(hi, lo, h, keep):
    """``(hi - lo) / 2h`` (item by item for sequences); zero for a flag (``cho_factor``'s ``lower``)."""
    if isinstance(hi, (list, tuple)):
        items = [_difference(x, y, h, keep) if keep else _difference(np.asarray(x), np.asarray(y), h, False)
                 for x, y in zip(hi, lo)]
        return type(hi)(items) if keep else tuple(items)
    hi, lo = np.asarray(hi), np.asarray(lo)
    return np.zeros(hi.shape) if hi.dtype == bool else (hi - lo) / (2 * h)


def rule_tangent(rule, fn, arg_nodes, kw_nodes, names, values, direction, h):
    """The tangent of one call as the rule's entry gives it (None if no argument is active)."""
    env = dict(zip(names, values))
    nodes = list(arg_nodes) + [k.value for k in kw_nodes]
    vals = [evaluate(ast.unparse(n), names, values) for n in nodes]
    npos = len(arg_nodes)
    keys = [k.arg for k in kw_nodes]
    ans = fn(*vals[:npos], **dict(zip(keys, vals[npos:])))
    params = rule.signature.bind(*vals[:npos], **dict(zip(keys, vals[npos:])))
    params.apply_defaults()
    where = rule.signature.bind(*range(npos), **{k: npos + i for i, k in enumerate(keys)})
    if isinstance(rule.jvp, dict) and "*" in rule.jvp:  # one template for every argument
        tangents = {f"{p}_dot": 0.0 for p in rule.signature.parameters}
        for p, i in where.arguments.items():
            if {n.id for n in ast.walk(nodes[i]) if isinstance(n, ast.Name)} & set(env):
                tangents[f"{p}_dot"] = _shifted(ast.unparse(nodes[i]), names, values, direction, h, True)
        ns = {**vars(runtime), **NAMESPACE, **params.arguments, "ans": ans, **tangents}
        return eval(rule.jvp["*"], ns)
    parts = []
    for param, index in where.arguments.items():
        used = {n.id for n in ast.walk(nodes[index]) if isinstance(n, ast.Name)}
        if not used & set(env) or param not in rule.grads:
            continue
        t = _shifted(ast.unparse(nodes[index]), names, values, direction, h, True)
        ns = {**vars(runtime), **NAMESPACE, **params.arguments, "ans": ans, "t": t, "g": t}
        if rule.kind == "elementwise" and not (isinstance(rule.jvp, dict) and param in rule.jvp):
            parts.append(eval(rule.grads[param], ns))
        elif rule.jvp == "linear":
            moved = list(vals)
            moved[index] = t
            parts.append(fn(*moved[:npos], **dict(zip(keys, moved[npos:]))))
        else:
            parts.append(eval(rule.jvp[param], ns))
    return _tangent_sum(parts) if parts else None


@pytest.mark.filterwarnings("ignore:numpy.fix is deprecated:DeprecationWarning")
@pytest.mark.filterwarnings("ignore:`row_stack` alias is deprecated:DeprecationWarning")
@pytest.mark.parametrize("name", RULE_NAMES)
def test_jvp(name):
    """Each rule's forward-mode entry against central differences along a random direction."""
    rule = next(r for r in all_rules() if r.name == name)
    if rule.kind == "zero":
        return
    assert rule.kind == "elementwise" or rule.jvp == "linear" or isinstance(rule.jvp, dict), \
        f"structural rule {name} has no jvp"
    if isinstance(rule.jvp, dict) and rule.kind == "structural" and "*" not in rule.jvp:
        assert set(rule.jvp) == set(rule.grads), f"{name}: jvp and adjoint cover different parameters"
    failures = []
    for case in CASES[name]:
        if "float64" not in case.dtypes:
            continue
        names = list(case.args)
        values = inputs(case, "float64", seed=sum(map(ord, case.expr)))
        rng = np.random.default_rng(3)
        direction = [rng.standard_normal(np.shape(v)) if isinstance(v, np.ndarray) else rng.standard_normal()
                     for v in values]
        for fn, node, arg_nodes, kw_nodes in called(case.expr, names):
            if not any(fn is f or fn == f for f in rule.fns):
                continue
            src = ast.unparse(node)
            try:
                got = rule_tangent(rule, fn, arg_nodes, kw_nodes, names, values, direction, case.eps)
            except Exception as exc:
                failures.append(f"{src}: {type(exc).__name__}: {exc}")
                continue
            if got is None:
                continue
            want = _shifted(src, names, values, direction, case.eps)
            got, want = (tuple(v.values()) if isinstance(v, dict) else v for v in (got, want))
            got, want = (list(got), list(want)) if isinstance(want, tuple) else ([got], [want])
            for k, (gv, wv) in enumerate(zip(got, want)):
                if np.issubdtype(np.asarray(wv).dtype, np.integer):
                    continue
                gv = np.array(np.broadcast_to(gv, np.shape(wv)))
                undefined = np.isnan(gv)  # a tangent that does not exist (svd's extra vectors)
                gv[undefined] = np.asarray(wv)[undefined]
                scale = max(1e-2, float(np.max(np.abs(wv), initial=0.0)))
                tol = case.rtol or 1e-5
                if not np.allclose(gv, wv, rtol=tol, atol=tol * scale):
                    failures.append(f"{src} output {k}:\n  jvp       {np.ravel(gv)}\n"
                                    f"  numerical {np.ravel(wv)}")
    assert not failures, "\n".join(failures)


# -- beyond the table: errors, kinks, indexing, multi-output functions -------------------------------
def load(source, directory):
    """Import ``source`` as a fresh module file (adjoint reads functions from real files)."""
    path = directory / f"rule_extra_{next(_counter)}.py"
    path.write_text("import math\nimport numpy as np\n\n" + source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, path


def test_unregistered_function_names_itself_and_the_line(module_dir):
    module, path = load("def f(x):\n    y = x * 2.0\n    return np.sum(np.abs(np.unwrap(y)))\n",
                        module_dir)
    with pytest.raises(adjoint.NotDifferentiableError) as err:
        adjoint.grad(module.f)(np.ones(4))
    text = str(err.value)
    assert "unwrap" in text and ":6: " in text and path.name in text, text
    assert err.value.lineno == 6 and err.value.filename.endswith(path.name)


def test_inactive_results_pass_through(module_dir):
    module, _ = load(
        "def f(x):\n"
        "    i = np.argmax(x)\n"
        "    n = len(x) + x.shape[0] + np.ndim(x)\n"
        "    k = np.argsort(x)\n"
        "    big = x > 0.5\n"
        "    return x[i] * n + np.sum(x[k][:2]) + np.sum(np.where(big, x, 0.0)) + np.sum(np.ones_like(x))\n",
        module_dir)
    x = np.array([0.3, 0.9, 0.1, 0.6])
    expected = np.array([1.0, 10.0, 1.0, 1.0])  # x[1] * 9, the two smallest, the two above 0.5
    np.testing.assert_allclose(adjoint.grad(module.f)(x), expected)


def test_logsumexp_with_max_shift(module_dir):
    module, _ = load(
        "def logsumexp(x):\n"
        "    m = np.max(x, axis=1, keepdims=True)\n"
        "    return np.sum(m[:, 0] + np.log(np.sum(np.exp(x - m), axis=1)))\n",
        module_dir)
    x = np.random.default_rng(0).normal(size=(3, 4)) * 10
    x[0, :2] = 5.0  # a tie at the maximum must not matter
    softmax = np.exp(x - x.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    np.testing.assert_allclose(adjoint.grad(module.logsumexp)(x), softmax, rtol=1e-12, atol=1e-14)


KINKS = [
    ("np.sum(np.abs(x))", [0.0, -2.0, 3.0], [0.0, -1.0, 1.0]),
    ("abs(x[0]) + np.sum(np.fabs(x))", [0.0, 1.0], [0.0, 1.0]),
    ("np.sum(np.maximum(x, 1.0))", [1.0, 2.0, 0.0], [0.5, 1.0, 0.0]),
    ("np.sum(np.minimum(x, x[::-1]))", [1.0, 1.0], [1.0, 1.0]),
    ("np.sum(np.clip(x, 0.0, 1.0))", [0.0, 1.0, 0.5, 2.0], [0.5, 0.5, 1.0, 0.0]),
    ("np.max(x)", [2.0, 2.0, 1.0], [0.5, 0.5, 0.0]),
    ("np.sum(np.sort(x) * np.array([1.0, 2.0, 3.0]))", [2.0, 1.0, 3.0], [2.0, 1.0, 3.0]),
    ("np.prod(x)", [0.0, 2.0, 3.0], [6.0, 0.0, 0.0]),
    ("np.sum(np.cumprod(x))", [2.0, 0.0, 3.0], [1.0, 2.0 + 6.0, 0.0]),
    ("np.linalg.norm(x)", [0.0, 0.0], [0.0, 0.0]),
    ("np.std(x)", [1.0, 1.0], [0.0, 0.0]),
    ("np.sum(np.sqrt(x))", [0.0, 4.0], [np.inf, 0.25]),
    ("np.sum(np.sign(x) + np.floor(x) + np.round(x))", [0.3, -1.2], [0.0, 0.0]),
    ("np.sum(x ** 2.5 + x ** x[1])", [0.0, 2.0], [0.0, 2.5 * 2 ** 1.5 + 2 * 2 + 4 * math.log(2)]),
]


@pytest.mark.parametrize("expr,x,expected", KINKS, ids=[k[0] for k in KINKS])
def test_subgradients_at_kinks(expr, x, expected, module_dir):
    """The documented subgradient choices (those of JAX and autograd)."""
    module, _ = load(f"def f(x):\n    return {expr}\n", module_dir)
    with np.errstate(divide="ignore"):
        got = adjoint.grad(module.f)(np.array(x))
    np.testing.assert_allclose(got, expected)


INDEXING = [
    ("np.sum(x[1:, ::2] ** 2)", (3, 4)), ("np.sum(x[..., 1] * x[0, ...])", (3, 3)),
    ("np.sum(x[:, None, :] * x[None])", (2, 3)), ("np.sum(x[np.array([0, 2, 2])] ** 2)", (4,)),
    ("np.sum(x[x > 0] ** 3)", (5,)), ("np.sum(x[[0, 1], [2, 0]] * 3.0)", (2, 3)),
    ("np.sum(x[np.argsort(x)] * np.arange(4.0))", (4,)), ("np.sum(x[1, [0, 0, 2]] ** 2)", (2, 3)),
    ("x[-1, -1] * x[0, 0]", (2, 2)),
    ("np.sum(x[:, np.array([True, False, True])] ** 2)", (2, 3)),
    ("np.sum(x[:, [0, 2]] ** 2)", (2, 3)),
]


@pytest.mark.parametrize("expr,shape", INDEXING)
def test_indexing(expr, shape, module_dir):
    module, _ = load(f"def f(x):\n    return {expr}\n", module_dir)
    x = np.random.default_rng(1).permutation(np.prod(shape)).reshape(shape) * 0.37 - 1.0
    got = adjoint.grad(module.f)(x)
    want = numeric_grad(module.f, [x], 0, 1e-6)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_multi_output_functions_with_unused_outputs(module_dir):
    """Only one output of eigh/qr/svd/slogdet/split used: the others' adjoints are 0.0."""
    module, _ = load(
        "def f(a):\n"
        "    w, v = np.linalg.eigh(a)\n"
        "    q, r = np.linalg.qr(a)\n"
        "    sign, logdet = np.linalg.slogdet(a + 3.0 * np.eye(3))\n"
        "    parts = np.split(a, 3)\n"
        "    s = np.linalg.svd(a)[1]\n"
        "    return np.sum(w) + np.sum(r ** 2) + logdet + np.sum(parts[2]) + np.sum(s)\n",
        module_dir)
    a = np.random.default_rng(2).normal(size=(3, 3))
    np.testing.assert_allclose(adjoint.grad(module.f)(a), numeric_grad(module.f, [a], 0, 1e-6),
                               rtol=1e-6, atol=1e-8)


def test_user_names_do_not_shadow_runtime_helpers(module_dir):
    module, _ = load("def f(x):\n    conj = x * 2.0\n    count = conj * x\n    return np.sum(count)\n",
                     module_dir)
    np.testing.assert_allclose(adjoint.grad(module.f)(np.ones(3)), 4.0 * np.ones(3))


def test_primitives_doc_is_fresh():
    pytest.importorskip("scipy", reason="docs/primitives.md lists the SciPy rules too")
    import pathlib
    import subprocess
    import sys
    root = pathlib.Path(__file__).resolve().parent.parent
    fresh = subprocess.run([sys.executable, str(root / "scripts" / "gen_primitives.py"), "--stdout"],
                           capture_output=True, text=True, check=True, cwd=root).stdout
    current = (root / "docs" / "primitives.md").read_text()
    assert current == fresh, "docs/primitives.md is stale: run python scripts/gen_primitives.py"


@pytest.mark.parametrize("g_shape,x_shape", [
    ((4, 2, 3), (2, 3)), ((4, 2, 3), (1, 3)), ((2, 3), (2, 1)), ((2, 3), ()), ((2, 3), (2, 3)),
])
def test_unbroadcast_is_the_adjoint_of_broadcasting(g_shape, x_shape):
    """<unbroadcast(g, x), v> == <g, broadcast_to(v)> for v of x's shape."""
    rng = np.random.default_rng(5)
    g, v = rng.normal(size=g_shape), rng.normal(size=x_shape)
    out = runtime.unbroadcast(g, np.zeros(x_shape))
    assert np.shape(out) == x_shape
    np.testing.assert_allclose(np.sum(out * v), np.sum(g * np.broadcast_to(v, g_shape)))


def test_unbroadcast_aligns_fewer_axes_at_the_right():
    g = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(runtime.unbroadcast(g, np.zeros((1, 1, 3))), [[[3.0, 5.0, 7.0]]])
