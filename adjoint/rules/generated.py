"""Rules for the runtime helpers that generated derivative code calls.

With these, adjoint can transform its own output again: the forward mode run
over a generated gradient gives Hessian-vector products, ``hessian`` and
``grad(grad(f))``. Each helper is linear in its cotangent (``cot``) or
tangent (``tan``) argument; the other arguments only supply shapes, masks or
indices (``static``), enter bilinearly (the ``dot``/``matmul``/``einsum``
adjoints), or enter through values, where the tangent is the helper's
``*_dot`` twin in the runtime module beside it. The adjoint of a linear map is
its transpose, which is how each entry below pairs with the helper it undoes
(the adjoint of ``unreduce`` is a sum); where no closed form is at hand,
``linear_transpose`` builds it exactly. Real values only: the conjugate
convention for complex values is not carried into second derivatives.
"""
import ast
import builtins
import importlib

import numpy as np

from .. import runtime as rt
from .registry import elementwise, inactive, lookup, structural

inactive([rt.unit_seed, rt.count, rt.zeros_like, rt.last_writes, rt.elementwise_shape])

structural(rt.unreduce, "cot, x, axis=None, keepdims=False", static="x", jvp="linear",
           cot="np.reshape(np.sum(g, axis=axis, keepdims=keepdims), np.shape(cot))")
structural(rt.unbroadcast, "cot, x", static="x", jvp="linear", cot="broadcast_like(g, cot)")
structural(rt.grad_like, "cot, x", static="x", jvp="linear", cot="unbroadcast(g, cot)")
structural(rt.tangent_like, "tan, x", static="x", jvp="linear", tan="unbroadcast(g, tan)")
structural(rt.tangent_fit, "tan, y", static="y", jvp="linear", tan="unbroadcast(g, tan)")
structural(rt.scattered, "tan, like, index", static="like, index", jvp="linear",
           tan="unbroadcast(g[index], tan)")
structural([rt.writable_copy, rt.snapshot], "x", jvp="linear", x="g")
structural(rt.reserve, "tape, size", jvp="linear", tape="g[:np.shape(tape)[0]]")
structural(rt.unstack_like, "cot, x", static="x", jvp="linear",
           cot="np.reshape(np.asarray(g), np.shape(cot))")
structural(rt.conj, "x", jvp="linear", x="conj(g)")
structural(rt.real_part, "x", jvp="linear", x="g")
structural(rt.real_like, "x, like", static="like", jvp="linear", x="real_like(g, x)")
structural(rt.cumsum_grad, "cot, a, axis=None", static="a", jvp="linear",
           cot="np.reshape(np.cumsum(g, axis=axis), np.shape(cot))")
structural(rt.unstack, "cot, arrays, axis=0", static="arrays", jvp="linear",
           cot="np.moveaxis(np.reshape(np.asarray(g), np.shape(np.moveaxis(cot, axis, 0))), 0, axis)")
structural(rt.unconcatenate, "cot, arrays, axis=0, promote=None", static="arrays, promote",
           jvp="linear", cot="reconcatenate(g, cot, arrays, axis, promote)")
structural(rt.reconcatenate, "parts, cot, arrays, axis=0, promote=None",
           static="cot, arrays, promote", jvp="linear",
           parts="unconcatenate(g, arrays, axis, promote)")
structural(rt.transpose_grad, "cot, axes=None", jvp="linear", cot="np.transpose(g, axes)")
structural(rt.mT, "x", jvp="linear", x="mT(g)")

structural(rt.extremum_grad, "cot, x, ans_, axis=None, keepdims=False", static="x, ans_",
           jvp="linear", cot="extremum_jvp(g, x, ans_, axis, keepdims)",
           notes="the entries that attain the extremum do not move under small changes")
structural(rt.extremum_jvp, "tan, x, ans_, axis=None, keepdims=False", static="x, ans_",
           jvp="linear", tan="extremum_grad(g, x, ans_, axis, keepdims)")

# Bilinear: linear in the cotangent and in the other factor; the first factor gives a shape.
structural(rt.dot_grad_a, "cot, a, b", static="a", jvp="linear",
           cot="np.dot(g, b)", b="dot_grad_b(cot, g, b)")
structural(rt.dot_grad_b, "cot, a, b", static="b", jvp="linear",
           cot="np.dot(a, g)", a="dot_grad_a(cot, a, g)")
structural(rt.matmul_grad_a, "cot, a, b", static="a", jvp="linear",
           cot="np.matmul(g, b)", b="matmul_grad_b(cot, g, b)")
structural(rt.matmul_grad_b, "cot, a, b", static="b", jvp="linear",
           cot="np.matmul(a, g)", a="matmul_grad_a(cot, a, g)")

# Scatter-add into an adjoint: linear in both the accumulator and the added value.
structural(rt.add_at, "acc, index, val", static="index",
           jvp={"acc": "t", "val": "scattered(t, acc, index)"},
           acc="g", val="unbroadcast(g[index], val)")

# The adjoint of det is bilinear in its cotangent and det itself, given as a third argument.
structural(rt.det_grad, "cot, a, ans_",
           cot="ans_ * np.sum(g * mT(np.linalg.inv(a)), axis=(-2, -1))",
           ans_="cot * np.sum(g * mT(np.linalg.inv(a)), axis=(-2, -1))",
           a="-np.expand_dims(cot * ans_, (-2, -1)) * mT(np.linalg.inv(a) @ g @ np.linalg.inv(a))",
           jvp={"cot": "det_grad(t, a, ans_)", "ans_": "det_grad(cot, a, t)",
                "a": "-np.expand_dims(cot * conj(ans_), (-2, -1))"
                     " * mH(np.linalg.solve(a, t) @ np.linalg.inv(a))"},
           notes="invertible a")

elementwise(rt.log_base, "base", base="g / conj(base)")
elementwise(rt.logistic, "x", x="g * conj(ans * (1 - ans))")
elementwise(rt.safe_log, "x", x="safe_div(g, conj(x))")
elementwise(rt.safe_div, "a, b", a="safe_div(g, conj(b))", b="-safe_div(g * conj(ans), conj(b))")
structural(rt.integer_cut, "cot, like", static="like", jvp="linear", cot="integer_cut(g, like)")

# comprehensions and iteration (passes/comprehensions.py): dict_from, items_of
structural(rt.items_of_grad, "cot, x", static="x", jvp="linear", cot="items_of_grad(g, x)")
structural(rt.dict_from_grad, "cot, keys, values", static="keys, values", jvp="linear",
           cot="dict_from(keys, g)")
# lists joined and repeated (passes/lists.py): the adjoints and tangents of joined, repeated
structural(rt.first_items, "cot, a", static="a", jvp="linear", cot="padded_after(g, cot[len(a):])")
structural(rt.last_items, "cot, b", static="b", jvp="linear",
           cot="padded_before(cot[:len(cot) - len(b)], g)")
structural(rt.repeats_summed, "cot, a", static="a", jvp="linear", cot="repeated(g, len(cot) // len(a))")
structural(rt.padded_after, "t, b", static="b", jvp="linear", t="first_items(g, t)")
structural(rt.padded_before, "a, t", static="a", jvp="linear", t="last_items(g, t)")


# -- linear in the cotangent, the other arguments give shapes, masks or indices ------------
# The transpose of each (its reverse rule, run only when reverse mode differentiates
# derivative code again) is built exactly, column by column, by linear_transpose.
_LINEAR = {
    rt.unsplit: "cot, ans_, axis=0",
    rt.linspace_grad: "cot, start, stop, num=50, endpoint=True, retstep=False, dtype=None, "
                      "axis=0, wrt=0",
    rt.pick_grad: "cot, ans_, x, other=None",
    rt.clip_grad: "cot, x, lo=None, hi=None, lo_kw=None, hi_kw=None",
    rt.pad_grad: "cot, array, pad_width, mode='constant'",
    rt.diag_grad: "cot, v, k=0",
    rt.put_grad: "cot, a, ind, v, mode='raise', wrt='a'",
    rt.diagonal_grad: "cot, a, offset=0, axis1=0, axis2=1",
    rt.repeat_grad: "cot, a, repeats, axis=None",
    rt.sum_grad: "cot, x",
    rt.broadcast_like: "cot, x",
    rt.imag_grad: "cot, x",
    rt.take_along_axis_grad: "cot, arr, indices, axis=-1",
    rt.tile_grad: "cot, a, reps",
    rt.take_grad: "cot, a, indices, axis=None, mode='raise'",
    rt.trace_grad: "cot, a, offset=0, axis1=0, axis2=1",
}


def _names(params):
    """The parameter names of a rule's signature text."""
    return [p.split("=")[0].strip() for p in params.split(",")]


def _transposed(fn, params, k=0):
    """``linear_transpose(fn, g, k, <params>)``: the reverse template of a helper linear in
    its parameter ``k``."""
    return f"linear_transpose({fn.__name__}, g, {k}, {', '.join(_names(params))})"


for _fn, _params in _LINEAR.items():
    structural(_fn, _params, static=" ".join(_names(_params)[1:]), jvp="linear",
               cot=_transposed(_fn, _params))
structural(rt.mH, "x", jvp="linear", x="mH(g)")


# -- adjoints of products: linear in the cotangent and in every operand but operand k, whose
# value gives only a shape (its term is multiplied by k != i, zero for operand k itself).
def _bilinear(fn, params, operands, first=0):
    """Register the adjoint ``fn`` of a product of ``operands`` (numbered from ``first``): operand
    k (the one it is the adjoint for) contributes no tangent, each other one a copy of ``fn``
    along its tangent."""
    names = _names(params)
    jvp = {"cot": f"{fn.__name__}({', '.join('t' if n == 'cot' else n for n in names)})"}
    grads = {"cot": _transposed(fn, params)}
    for i, op in enumerate(operands, first):
        call = ", ".join("t" if n == op else n for n in names)
        jvp[op] = f"{fn.__name__}({call}) * (k != {i})"
        grads[op] = f"{_transposed(fn, params, names.index(op))} * (k != {i})"
    structural(fn, params, static="k", jvp=jvp, **grads)


# in einsum's interleaved form the first operand sits where the subscripts do (k = -1)
_bilinear(rt.einsum_grad, "cot, k, subscripts, a=None, b=None, c=None, d=None, e=None",
          ["subscripts", *"abcde"], first=-1)
_bilinear(rt.tensordot_grad, "cot, k, a, b, axes=2", "ab")
_bilinear(rt.inner_grad, "cot, k, a, b", "ab")
_bilinear(rt.kron_grad, "cot, k, a, b", "ab")


# -- adjoints that depend on the values (not only the shapes) of their other arguments: the
# tangent along those is the helper's ``*_dot`` twin (one tangent per moving parameter, 0.0
# for the others), and the reverse rule is that twin's transpose.
def _second(fn, params, moving, notes=""):
    """Register ``fn`` with its ``*_dot`` twin as the tangent along each of ``moving``;
    ``fn``'s other parameters give only shapes and flags."""
    names = _names(params)
    args, dot = ", ".join(names), f"{fn.__name__}_dot"
    jvp = {"cot": f"{fn.__name__}({', '.join('t' if n == 'cot' else n for n in names)})"}
    grads = {"cot": _transposed(fn, params)}
    for i, p in enumerate(moving):
        zeros = ["0.0"] * len(moving)
        jvp[p] = f"{dot}({args}, {', '.join(zeros[:i] + ['t'] + zeros[i + 1:])})"
        grads[p] = (f"linear_transpose({dot}, g, {len(names) + i}, {args}, "
                    f"{', '.join(zeros[:i] + [p] + zeros[i + 1:])})")
    static = " ".join(n for n in names[1:] if n not in moving)
    structural(fn, params, static=static, jvp=jvp, notes=notes, **grads)


_second(rt.solve_grad, "cot, a, b, ans_, wrt='b'", ["a", "ans_"])
_second(rt.matrix_power_grad, "cot, a, n", ["a"])
_second(rt.cholesky_grad, "cot, ans_, upper=False", ["ans_"])
_second(rt.eigh_grad, "cot, a, ans_, UPLO='L'", ["a", "ans_"], notes="distinct eigenvalues")
_second(rt.pinv_grad, "cot, a, ans_", ["a", "ans_"])
_second(rt.prod_grad, "cot, a, axis=None, keepdims=False", ["a"])
_second(rt.cumprod_grad, "cot, a, ans_, axis=None", ["a", "ans_"],
        notes="no second derivative where the input has zeros")
_second(rt.average_grad, "cot, a, axis=None, weights=None, keepdims=False, wrt='a', ans_=None",
        ["a", "weights", "ans_"])
_second(rt.norm_grad, "cot, x, ans_, ord=None, axis=None, keepdims=False, vector=False",
        ["x", "ans_"], notes="spectral and nuclear norms: distinct singular values")
_second(rt.svd_grad, "cot, a, ans_, full_matrices=True, compute_uv=True", ["a", "ans_"],
        notes="distinct nonzero singular values")
_second(rt.angle_grad, "cot, z, deg=False", ["z"], notes="0 at z == 0")
_second(rt.qr_grad, "cot, a, ans_, mode='reduced'", ["a", "ans_"], notes="full-rank leading block")
_second(rt.lstsq_grad, "cot, a, b, ans_, wrt='a'", ["a", "b", "ans_"],
        notes="real input, constant rank")


# -- which rules second derivatives pass through ------------------------------------------
def second_order(rule) -> bool:
    """Whether ``hvp``, ``hessian`` and ``grad(grad(f))`` work through ``rule``: forward mode
    runs over the gradient, so the rule needs a tangent (elementwise partials or ``jvp``)
    and every function its reverse templates call needs a rule with one too."""
    if not rule.carries_derivative:
        return True
    if rule.kind == "structural" and not rule.jvp:
        return False
    return all(_has_tangent(fn) for template in rule.grads.values() for fn in _called(template))


def _has_tangent(fn) -> bool:
    rule = lookup(fn)
    return rule is not None and (not rule.carries_derivative or rule.kind == "elementwise"
                                 or bool(rule.jvp))


def _called(template):
    """The functions a template calls: runtime helpers and builtins by name, NumPy as ``np.``,
    SciPy by its dotted path (``scipy.special.digamma``, ``scipy.stats.t.logpdf``)."""
    for node in ast.walk(ast.parse(template, mode="eval")):
        if isinstance(node, ast.Call):
            yield _resolve(ast.unparse(node.func).split("."))


def _resolve(parts):
    """The object a dotted name in a template names, or None."""
    head, *rest = parts
    if head == "scipy":
        return _scipy_attribute(parts)
    fn = np if head == "np" else getattr(rt, head, None) if head in rt.__all__ \
        else getattr(builtins, head, None)
    for part in rest:
        fn = getattr(fn, part, None)
    return fn


def _scipy_attribute(parts):
    """``scipy.a.b.c`` from the longest prefix that is a module (SciPy's submodules load on
    import, not as attributes of ``scipy``)."""
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for part in parts[k:]:
            obj = getattr(obj, part, None)
        return obj
    return None
