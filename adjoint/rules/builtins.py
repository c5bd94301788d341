"""Python's built-ins on numbers, NumPy's scalar types, and calls that carry no derivative.

``abs``, ``pow``, ``round`` and ``math`` are with the ufuncs they match
(``ufuncs.py``); ``float`` and ``len``-like built-ins are in ``core.py``.
"""
import builtins
import math

import numpy as np

from .registry import inactive, structural

structural([builtins.max, builtins.min], "a, b=None", a="pick_grad(g, ans, a, b)",
           b="pick_grad(g, ans, b, a)",
           jvp={"a": "pick_jvp(t, ans, a, b)", "b": "pick_jvp(t, ans, b, a)"},
           notes="max(a, b) or max(iterable); ties split g equally")
structural(builtins.sum, "iterable, start=0", iterable="sum_grad(g, iterable)", start="g",
           jvp={"iterable": "sum(t)", "start": "t"})
structural([np.float64, np.float32, np.float16], "x", x="g", jvp="linear",
           notes="the gradient keeps the argument's dtype")

inactive([np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
          np.isclose, np.isreal, np.iscomplex, np.iscomplexobj, np.isrealobj, np.isscalar,
          np.signbit, np.isneginf, np.isposinf, np.count_nonzero, np.flatnonzero, np.argwhere,
          np.argpartition, np.searchsorted, np.digitize, np.result_type, np.tril_indices,
          np.triu_indices, np.diag_indices, np.indices, np.unravel_index, np.ravel_multi_index,
          np.logical_xor, np.linalg.matrix_rank, np.broadcast_shapes, np.ndarray.nonzero,
          math.isnan, math.isinf, math.isfinite, math.isclose, builtins.type,
          builtins.hasattr, builtins.callable, builtins.str, builtins.repr, builtins.id])

# -- comprehensions and iteration (passes/comprehensions.py lowers to these) -----------------
from .. import runtime as rt  # noqa: E402

structural(builtins.tuple, "iterable=()", iterable="AdjointList(g)", jvp="linear",
           notes="of a list: comprehensions lower tuple(xs) to tuple([x for x in xs])")
# tuple's adjoint is a list of adjoints that adds item by item; it is linear in the items
structural(rt.AdjointList, "items=()", items="g", jvp="linear", name="adjoint.runtime.AdjointList")
# Python's + and * of lists (passes/lists.py lowers the ones it can prove to these)
structural(rt.joined, "a, b", a="first_items(g, a)", b="last_items(g, b)",
           jvp={"a": "padded_after(t, b)", "b": "padded_before(a, t)"}, notes="a + b of two lists")
structural(rt.repeated, "a, count", static="count", a="repeats_summed(g, a)", jvp="linear",
           notes="a * count of a list and an int")
structural(math.fsum, "seq", seq="sum_grad(g, seq)", jvp={"seq": "sum(t)"})
structural(rt.dict_from, "keys, values", static="keys", values="dict_from_grad(g, keys, values)",
           jvp="linear", notes="dict comprehensions and dict(...)")
structural(rt.items_of, "x", x="items_of_grad(g, x)", jvp={"x": "items_of(tangent_like(t, x))"},
           notes="what loops, list(x), tuple(x) and sorted(x) iterate")
inactive([builtins.any, builtins.all, rt.sort_order])
# closure cells the function rebinds (passes/cells.py) and attributes of module-level objects
# it writes (passes/objects.py) hold values without a derivative (an active value written is
# refused); binding **keywords checks keys only (passes/closures.py)
inactive([rt.cell_value, rt.set_cell, rt.attribute_value, rt.set_attribute, rt.check_keywords])
