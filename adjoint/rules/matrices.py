"""Rules for ``scipy.linalg``, loaded on first need (see ``registry.OPTIONAL``).

The identities are those of ``rules/linalg.py`` (Giles 2008): for ``X = A^-1 B``,
``B_bar = A^-H g`` and ``A_bar = -B_bar X^H``; a factorisation passes its adjoint
back through the product it factors. Functions that read one triangle
(``cholesky``, ``eigh``, ``solve_triangular``, the factor of ``cho_solve``) have
their adjoint on that triangle. ``sqrtm`` and ``solve_sylvester`` are Sylvester
equations: ``X X = A`` gives ``X dX + dX X = dA``. Parameters not listed
(``eigh``'s ``b``, ``inv``'s ``assume_a``) are refused.
"""
import scipy.linalg as sl

from .. import runtime as rt
from .generated import _second
from .registry import inactive, structural

SOLVE_T = "scipy.linalg.solve_triangular"
BACK_T = f"{SOLVE_T}(a, g, adjoint_trans(trans, a), lower, unit_diagonal)"

structural(sl.inv, "a, overwrite_a=False, check_finite=True", a="-mH(ans) @ g @ mH(ans)",
           jvp={"a": "-ans @ t @ ans"})
structural(sl.det, "a, overwrite_a=False, check_finite=True", a="det_grad(g, a, ans)",
           jvp={"a": "ans * np.trace(np.linalg.solve(a, t))"}, notes="invertible a")
structural(sl.solve_triangular,
           "a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, check_finite=True",
           b=BACK_T, a=f"triangle_grad({BACK_T}, ans, trans, lower, unit_diagonal)",
           jvp={"b": f"{SOLVE_T}(a, t, trans, lower, unit_diagonal)",
                "a": f"-{SOLVE_T}(a, triangle_op(t, trans, lower, unit_diagonal) @ ans, trans, lower,"
                     " unit_diagonal)"},
           notes="on the triangle read")
inactive(rt.adjoint_trans)
# -(op of the triangle of G) is the adjoint of the outer product -gb x^T (real values)
structural(rt.triangle_grad, "gb, x, trans=0, lower=False, unit_diagonal=False", jvp="linear",
           gb="-triangle_op(g, trans, lower, unit_diagonal) @ x",
           x="-mT(triangle_op(g, trans, lower, unit_diagonal)) @ gb")

# -- factorisations -------------------------------------------------------------------------------
structural(sl.cholesky, "a, lower=False, overwrite_a=False, check_finite=True",
           a="cholesky_grad(g, ans, not lower)", jvp={"a": "cholesky_jvp(t, ans, not lower)"},
           notes="on the triangle read")
structural(sl.cho_factor, "a, lower=False, overwrite_a=False, check_finite=True",
           a="cho_factor_grad(g, a, ans, lower)", jvp={"a": "cho_factor_jvp(t, a, ans, lower)"},
           notes="the other triangle keeps a's entries")
structural(sl.cho_solve, "c_and_lower, b, overwrite_b=False, check_finite=True",
           b="scipy.linalg.cho_solve(c_and_lower, g)",
           c_and_lower="cho_solve_grad(g, c_and_lower, b, ans)",
           jvp={"b": "scipy.linalg.cho_solve(c_and_lower, t)",
                "c_and_lower": "cho_solve_jvp(t, c_and_lower, ans)"})
structural(sl.lu_factor, "a, overwrite_a=False, check_finite=True", a="lu_factor_grad(g, a, ans)",
           jvp={"a": "lu_factor_jvp(t, a, ans)"})
structural(sl.lu_solve, "lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True",
           b="scipy.linalg.lu_solve(lu_and_piv, g, adjoint_trans(trans, lu_and_piv[0]))",
           lu_and_piv="lu_solve_grad(g, lu_and_piv, b, ans, trans)",
           jvp={"b": "scipy.linalg.lu_solve(lu_and_piv, t, trans)",
                "lu_and_piv": "lu_solve_jvp(t, lu_and_piv, ans, trans)"})
structural(sl.eigh, "a, *, lower=True, eigvals_only=False",
           a="eigh_grad(g, a, ans, 'L' if lower else 'U')",
           jvp={"a": "eigh_jvp(t, a, ans, 'L' if lower else 'U')"},
           notes="standard problem (no b); eigenvectors need distinct eigenvalues")

# -- matrix functions and Sylvester equations ------------------------------------------------------
structural(sl.expm, "A", A="frechet_expm(mH(A), g)", jvp={"A": "frechet_expm(A, t)"},
           notes="the Frechet derivative")
# L(A, E) is linear in E, with adjoint L(A^T, .); in A its derivative D2(A)[E, t] is symmetric in
# E and t, so that its adjoint is D2(A^T)[G, E^T] (real values)
structural(rt.frechet_expm, "a, e", jvp={"e": "frechet_expm(a, t)", "a": "frechet_expm2(a, e, t)"},
           e="frechet_expm(mT(a), g)", a="frechet_expm2(mT(a), g, mT(e))")
structural(sl.sqrtm, "A", A="scipy.linalg.solve_sylvester(mH(ans), mH(ans), g)",
           jvp={"A": "scipy.linalg.solve_sylvester(ans, ans, t)"}, notes="X dX + dX X = dA")
SYL_BACK = "scipy.linalg.solve_sylvester(mH(a), mH(b), g)"
structural(sl.solve_sylvester, "a, b, q", q=SYL_BACK, a=f"-{SYL_BACK} @ mH(ans)",
           b=f"-mH(ans) @ {SYL_BACK}",
           jvp={"q": "scipy.linalg.solve_sylvester(a, b, t)",
                "a": "scipy.linalg.solve_sylvester(a, b, -t @ ans)",
                "b": "scipy.linalg.solve_sylvester(a, b, -ans @ t)"},
           notes="a x + x b = q")

# -- the factorisations' adjoints, for second order: each helper's tangent along the factors it
# reads is its ``*_dot`` twin (runtime/matrices.py), as for ``solve_grad`` (rules/generated.py)
_second(rt.cho_factor_grad, "cot, a, ans_, lower=False", ["ans_"])
_second(rt.cho_solve_grad, "cot, c_and_lower, b, ans_", ["c_and_lower", "ans_"])
_second(rt.lu_factor_grad, "cot, a, ans_", ["ans_"])
_second(rt.lu_solve_grad, "cot, lu_and_piv, b, ans_, trans=0", ["lu_and_piv", "ans_"])
