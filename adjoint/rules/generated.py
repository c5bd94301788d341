"""Rules for the runtime helpers that generated derivative code calls.

With these, adjoint can transform its own output again: the forward mode run
over a generated gradient gives Hessian-vector products, ``hessian`` and
``grad(grad(f))``. Each helper is linear in its cotangent (``cot``) or
tangent (``tan``) argument; the other arguments only supply shapes, masks or
indices (``static``) or enter bilinearly (the ``dot``/``matmul`` adjoints).
The adjoint of a linear map is its transpose, which is how each entry below
pairs with the helper it undoes (the adjoint of ``unreduce`` is a sum).
Real values only: the conjugate convention for complex values is not carried
into second derivatives.
"""
from .. import runtime as rt
from .registry import elementwise, inactive, structural

inactive([rt.unit_seed, rt.count, rt.zeros_like, rt.last_writes, rt.elementwise_shape])

structural(rt.unreduce, "cot, x, axis=None, keepdims=False", static="x", jvp="linear",
           cot="np.reshape(np.sum(g, axis=axis, keepdims=keepdims), np.shape(cot))")
structural(rt.unbroadcast, "cot, x", static="x", jvp="linear", cot="broadcast_like(g, cot)")
structural(rt.grad_like, "cot, x", static="x", jvp="linear", cot="unbroadcast(g, cot)")
structural(rt.tangent_like, "tan, x", static="x", jvp="linear", tan="unbroadcast(g, tan)")
structural([rt.writable_copy, rt.snapshot], "x", jvp="linear", x="g")
structural(rt.unstack_like, "cot, x", static="x", jvp="linear",
           cot="np.reshape(np.asarray(g), np.shape(cot))")
structural(rt.conj, "x", jvp="linear", x="conj(g)")
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
structural(rt.mH, "x", jvp="linear", x="mH(g)")

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

elementwise(rt.safe_log, "x", x="safe_div(g, conj(x))")
elementwise(rt.safe_div, "a, b", a="safe_div(g, conj(b))", b="-safe_div(g * conj(ans), conj(b))")
structural(rt.integer_cut, "cot, like", static="like", jvp="linear", cot="integer_cut(g, like)")

# comprehensions and iteration (passes/comprehensions.py): a sum over a list, dict_from, items_of
structural(rt.sum_grad, "cot, x", static="x", jvp="linear", cot="sum(g)")
structural(rt.items_of_grad, "cot, x", static="x", jvp="linear", cot="items_of_grad(g, x)")
structural(rt.dict_from_grad, "cot, keys, values", static="keys, values", jvp="linear",
           cot="dict_from(keys, g)")
