"""Rules for functions that move, copy, join, cut or pick entries.

Each of them is linear in its array argument, so forward mode applies the
function itself to the tangent (``jvp="linear"``); the adjoint puts every
entry of ``g`` back where it came from, adding where an entry was used twice.
``reshape``, ``transpose``, ``ravel``, ``squeeze``, ``expand_dims`` and
``copy`` are in ``core.py``. Functions that return several arrays (``split``)
receive ``g`` as a list with one adjoint per piece (0.0 for an unused piece).
"""
import numpy as np

from .registry import structural

structural(np.swapaxes, "a, axis1, axis2", a="np.swapaxes(g, axis1, axis2)", jvp="linear")
structural(np.moveaxis, "a, source, destination", a="np.moveaxis(g, destination, source)",
           jvp="linear")
structural(np.broadcast_to, "array, shape, subok=False", array="unbroadcast(g, array)",
           jvp="linear")
# atleast_Nd of several arrays returns a tuple of them (a list before NumPy 2.0)
ATLEAST_ARGS = 8
ATLEAST_PARAMS = ", ".join(["a0"] + [f"a{k}=None" for k in range(1, ATLEAST_ARGS)])
for _fn in (np.atleast_1d, np.atleast_2d, np.atleast_3d):
    structural(_fn, ATLEAST_PARAMS, notes=f"up to {ATLEAST_ARGS} arguments",
               jvp={f"a{k}": f"atleast_tangent(np.{_fn.__name__}(t), {k}, ans)"
                    for k in range(ATLEAST_ARGS)},
               **{f"a{k}": f"atleast_item(g, {k}, ans, a{k})" for k in range(ATLEAST_ARGS)})
structural([np.ascontiguousarray, np.asfortranarray], "a, dtype=None", a="g", jvp="linear")

# -- joining and cutting -------------------------------------------------------------------
structural(np.concatenate, "arrays, axis=0, out=None, dtype=None, casting='same_kind'",
           arrays="unconcatenate(g, arrays, axis)", jvp="linear")
structural(np.stack, "arrays, axis=0, out=None, dtype=None, casting='same_kind'",
           arrays="unstack(g, arrays, axis)", jvp="linear")
# np.row_stack is vstack under a name NumPy 2.0 deprecates (and later releases remove)
ROW_STACK = [np.row_stack] if hasattr(np, "row_stack") else []
structural([np.vstack] + ROW_STACK, "tup, dtype=None, casting='same_kind'",
           tup="unconcatenate(g, tup, 0, np.atleast_2d)", jvp="linear")
structural(np.hstack, "tup, dtype=None, casting='same_kind'",
           tup="unconcatenate(g, tup, 0 if np.ndim(tup[0]) <= 1 else 1, np.atleast_1d)",
           jvp="linear")
structural(np.dstack, "tup", tup="unconcatenate(g, tup, 2, np.atleast_3d)", jvp="linear")
structural(np.append, "arr, values, axis=None",
           arr="unconcatenate(g, [arr, values], axis)[0]",
           values="unconcatenate(g, [arr, values], axis)[1]",
           jvp={"arr": "np.append(t, np.zeros_like(values), axis)",
                "values": "np.append(np.zeros_like(arr), t, axis)"})
structural([np.split, np.array_split], "ary, indices_or_sections, axis=0",
           ary="unsplit(g, ans, axis)", jvp="linear", notes="g is one adjoint per piece")
structural(np.vsplit, "ary, indices_or_sections", ary="unsplit(g, ans, 0)", jvp="linear")
structural(np.hsplit, "ary, indices_or_sections",
           ary="unsplit(g, ans, 1 if np.ndim(ary) > 1 else 0)", jvp="linear")
structural(np.dsplit, "ary, indices_or_sections", ary="unsplit(g, ans, 2)", jvp="linear")

# -- copying and rearranging ---------------------------------------------------------------
structural(np.tile, "A, reps", A="tile_grad(g, A, reps)", jvp="linear")
structural(np.repeat, "a, repeats, axis=None", a="repeat_grad(g, a, repeats, axis)", jvp="linear")
structural(np.flip, "m, axis=None", m="np.flip(g, axis)", jvp="linear")
structural(np.fliplr, "m", m="np.fliplr(g)", jvp="linear")
structural(np.flipud, "m", m="np.flipud(g)", jvp="linear")
structural(np.roll, "a, shift, axis=None", a="np.roll(g, np.negative(shift), axis)", jvp="linear")
structural(np.pad, "array, pad_width, mode='constant', constant_values=0",
           array="pad_grad(g, array, pad_width, mode)", jvp={"array": "np.pad(t, pad_width, mode)"},
           notes="modes constant, edge, reflect, symmetric, wrap")
structural(np.sort, "a, axis=-1, kind=None, order=None", a="sort_grad(g, a, axis)",
           jvp={"a": "sort_jvp(t, a, axis)"}, notes="ties in a stable order")

# -- diagonals, triangles and gathers ----------------------------------------------------------
structural(np.diag, "v, k=0", v="diag_grad(g, v, k)", jvp="linear")
structural(np.diagonal, "a, offset=0, axis1=0, axis2=1",
           a="diagonal_grad(g, a, offset, axis1, axis2)", jvp="linear")
structural(np.triu, "m, k=0", m="np.triu(g, k)", jvp="linear")
structural(np.tril, "m, k=0", m="np.tril(g, k)", jvp="linear")
structural(np.take, "a, indices, axis=None, out=None, mode='raise'",
           a="take_grad(g, a, indices, axis, mode)", jvp="linear")
structural(np.take_along_axis, "arr, indices, axis=-1",
           arr="take_along_axis_grad(g, arr, indices, axis)", jvp="linear")

# -- building arrays from values -----------------------------------------------------------
# Their values follow the arguments, so they are rules, not pass-throughs: a zero here would be
# a missing rule. ``integer_cut`` gives the derivative 0 of an integer result.
structural(np.full, "shape, fill_value, dtype=None, order='C', *, device=None, like=None",
           static="shape", fill_value="unbroadcast(g, fill_value)",
           jvp={"fill_value": "integer_cut(broadcast_like(t, ans), ans)"})
structural(np.full_like, "a, fill_value, dtype=None, order='K', subok=True, shape=None, *, device=None",
           static="a, shape", fill_value="unbroadcast(integer_cut(g, ans), fill_value)",
           jvp={"fill_value": "integer_cut(broadcast_like(t, ans), ans)"})
structural(np.linspace,
           "start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0, *, device=None",
           start="linspace_grad(g, start, stop, num, endpoint, retstep, dtype, axis, 0)",
           stop="linspace_grad(g, start, stop, num, endpoint, retstep, dtype, axis, 1)",
           jvp={"*": "linspace_jvp(start_dot, stop_dot, start, stop, num, endpoint, retstep, dtype,"
                     " axis)"},
           notes="retstep's step too")
structural(np.arange, "start=None, stop=None, step=None, dtype=None, *, device=None, like=None",
           start="np.sum(g * arange_partial(ans, start, stop, 'start'))",
           step="np.sum(g * arange_partial(ans, start, stop, 'step'))",
           stop="np.zeros(np.shape(stop))",
           jvp={"start": "t * arange_partial(ans, start, stop, 'start')",
                "stop": "np.zeros(np.shape(ans))",
                "step": "t * arange_partial(ans, start, stop, 'step')"},
           notes="start + k * step; stop only sets the length")

# -- calls that change an array in place, as normalisation lowers them -----------------------
from .. import runtime as rt  # noqa: E402
from .registry import inactive  # noqa: E402

structural(rt.scatter_add, "a, index, v", static="index", a="g",
           v="unbroadcast(g[index], v)", jvp={"a": "t", "v": "scattered(t, a, index)"},
           notes="np.add.at as a pure function; repeated indices add up")
structural(rt.put_into, "a, ind, v, mode='raise'", static="ind",
           a="put_grad(g, a, ind, v, mode, 'a')", v="put_grad(g, a, ind, v, mode, 'v')",
           jvp={"a": "put_into(t, ind, 0.0, mode)",
                "v": "put_into(np.zeros(np.shape(a)), ind, t, mode)"},
           notes="np.put as a pure function; the last value put at a position wins")
structural(rt.as_column, "x", x="np.reshape(g, np.shape(x))", jvp="linear",
           notes="an operand of np.c_")
inactive([rt.keys_of, rt.arange_partial])

# -- numpy functions beyond the core set (issue 12) -----------------------------------------------
# Linear maps of one axis are written as a matrix (``apply_along``), whose adjoint is its
# transpose; functions that copy entries run entry numbers through themselves (``entry_ids``)
# and send each output's adjoint back to the entry it copies (``routed``).
structural(np.column_stack, "tup", tup="unconcatenate(g, tup, 1, as_column)", jvp="linear")
structural(np.rot90, "m, k=1, axes=(0, 1)", m="np.rot90(g, -k, axes)", jvp="linear")
structural(np.rollaxis, "a, axis, start=0",
           a="np.moveaxis(g, rollaxis_target(a, axis, start), axis)", jvp="linear")
INSERTED = "np.insert(entry_ids(arr, 0), obj, entry_ids(values, np.size(arr)), axis)"
structural(np.insert, "arr, obj, values, axis=None", static="obj",
           arr=f"routed(g, {INSERTED}, arr, 0)", values=f"routed(g, {INSERTED}, values, np.size(arr))",
           jvp={"arr": "np.insert(t, obj, np.zeros_like(values), axis)",
                "values": "np.insert(np.zeros_like(arr), obj, t, axis)"})
structural(np.delete, "arr, obj, axis=None", static="obj",
           arr="routed(g, np.delete(entry_ids(arr), obj, axis), arr)", jvp="linear")
structural(np.partition, "a, kth, axis=-1, kind='introselect', order=None", static="kth",
           a="sort_grad(sort_jvp(g, ans, axis), a, axis)",
           jvp={"a": "sort_grad(sort_jvp(t, a, axis), ans, axis)"},
           notes="the entries in sorted order are a's; ties in a stable order")
structural(np.diff, "a, n=1, axis=-1, prepend=None, append=None",
           a="apply_along(np.transpose(diff_matrix(a, n, axis, prepend, append)), g, axis)",
           jvp={"a": "apply_along(diff_matrix(a, n, axis, prepend, append), t, axis)"},
           notes="in a; prepend and append constant")
structural(np.ediff1d, "ary, to_end=None, to_begin=None",
           ary="np.reshape(apply_along(np.transpose(diff_matrix(np.ravel(ary))),"
               " g[ediff1d_core(g, to_begin, to_end)]), np.shape(ary))",
           jvp={"ary": "np.ediff1d(t, zeros_or_none(to_end), zeros_or_none(to_begin))"},
           notes="in ary; to_end and to_begin constant")
structural(np.gradient, "f, spacing=1.0, *, axis=None, edge_order=1",
           f="gradient_grad(g, f, spacing, axis, edge_order)", jvp="linear",
           notes="in f; one spacing (a step or the coordinates), constant")
structural(np.nan_to_num, "x, *, nan=0.0, posinf=None, neginf=None", x="finite_parts(g, x)",
           jvp={"x": "finite_parts(t, x)"}, notes="in x; copy=False is refused (it writes into x)")
structural(np.real_if_close, "a, tol=100", a="unbroadcast(g, ans)",
           jvp={"a": "unbroadcast(t, ans)"}, notes="the real part when the result is real")
structural(np.select, "condlist, choicelist, default=0", static="condlist",
           choicelist="select_grad(g, condlist, choicelist)",
           default="unbroadcast(np.where(select_none(condlist), g, 0), default)",
           jvp={"choicelist": "np.select(condlist, t, 0)",
                "default": "np.where(select_none(condlist), t, 0)"})
structural(np.interp, "x, xp, fp, left=None, right=None",
           x="g * conj(np.take(np.diff(fp) / np.diff(xp), interp_segment(x, xp)))"
             " * interp_inside(x, xp)",
           fp="np.tensordot(g, interp_matrix(x, xp, left, right), np.ndim(g))",
           jvp={"x": "t * np.take(np.diff(fp) / np.diff(xp), interp_segment(x, xp))"
                     " * interp_inside(x, xp)",
                "fp": "interp_matrix(x, xp, left, right) @ t"},
           notes="in x and fp (xp, left and right constant; no period); at a knot, the slope of"
                 " the segment on its right (on its left at the last)")

GRID = ("np.reshape(np.sum(np.broadcast_to(g[{k}], np.shape(ans[{k}])),"
        " axis=grid_others(ans, {k}, indexing), keepdims=True), np.shape(x{n}))")
structural(np.meshgrid, "x1, x2=None, x3=None, *, copy=True, sparse=False, indexing='xy'",
           jvp={f"x{k + 1}": f"grid_tangent(t, {k}, ans, indexing)" for k in range(3)},
           notes="up to 3 inputs", **{f"x{k + 1}": GRID.format(k=k, n=k + 1) for k in range(3)})
# np.block before NumPy 2.3 reads a list subclass (a list of tangents) as one array
structural(np.block, "arrays", arrays="unblock(g, arrays)", jvp={"arrays": "np.block(plain_lists(t))"})

structural(np.piecewise, "x, condlist, funclist", static="condlist, funclist",
           x="piecewise_grad(g, x, condlist, funclist)",
           jvp={"x": "piecewise_jvp(t, x, condlist, funclist)"},
           notes="in x, through each piece's function (applied to the piece; one reading no "
                 "local of the caller); no extra arguments")

# the helpers' own rules, for second derivatives
structural(rt.routed, "cot, ids, x, base=0", static="ids, x", cot="unrouted(g, ids, x, base)",
           jvp="linear")
structural(rt.unrouted, "cot, ids, x, base=0", static="ids, x", cot="routed(g, ids, x, base)",
           jvp="linear")
structural(rt.apply_along, "m, x, axis=-1", static="m", x="apply_along(np.transpose(m), g, axis)",
           jvp="linear")
structural(rt.gradient_grad, "cot, f, spacing=1.0, axis=None, edge_order=1", static="f",
           cot="np.gradient(g, spacing, axis=axis, edge_order=edge_order)", jvp="linear")
structural(rt.finite_parts, "cot, x", static="x", cot="finite_parts(g, x)", jvp="linear")
structural(rt.select_grad, "cot, condlist, choicelist", static="condlist, choicelist",
           cot="np.select(condlist, g, 0)", jvp="linear")
structural(rt.interp_matrix, "x, xp, left=None, right=None", static="xp, left, right",
           x="np.sum(g * interp_slopes(x, xp), axis=-1)",
           jvp={"x": "np.expand_dims(t, -1) * interp_slopes(x, xp)"},
           notes="W is piecewise linear in x: its slopes are piecewise constant")
structural(rt.sort_grad, "cot, a, axis=-1", static="a", cot="sort_jvp(g, a, axis)", jvp="linear")
structural(rt.sort_jvp, "tan, a, axis=-1", static="a", tan="sort_grad(g, a, axis)", jvp="linear")
structural(rt.unblock, "cot, arrays", static="arrays", cot="np.block(plain_lists(g))", jvp="linear")
structural(rt.plain_lists, "x", x="g", jvp="linear")
structural(rt.atleast_item, "cot, k, ans_, like", static="k, ans_, like", jvp="linear",
           cot="linear_transpose(atleast_item, g, 0, cot, k, ans_, like)")
structural(rt.atleast_tangent, "tan, k, ans_", static="k, ans_", jvp="linear",
           tan="atleast_item(g, k, ans_, tan)")
inactive([rt.rollaxis_target, rt.entry_ids, rt.diff_matrix, rt.gradient_matrix, rt.ediff1d_core,
          rt.zeros_or_none, rt.select_none, rt.interp_segment, rt.interp_inside, rt.interp_slopes,
          rt.grid_axis, rt.grid_others])

from .generated import _second  # noqa: E402

_second(rt.piecewise_grad, "cot, x, condlist, funclist", ["x"])
