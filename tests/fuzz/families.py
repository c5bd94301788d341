"""The construct families the generator can use, and which ones CI switches on.

Each family is one kind of construct (or one kind of check). A program uses
the families the generator drew for it; a failure is reported with the set of
families its program used, so a class of bugs shows up as a family.

``PENDING`` is the one place that says which families CI leaves off because the
compiler has a known bug there (issue 10 lists the classes). When a class is
fixed, delete its entry: CI then generates those constructs too.
"""

CONSTRUCTS = (
    "arith",            # + - * / ** unary -, broadcasting (always on)
    "floor_mod",        # // and %
    "ufuncs",           # sin, cos, tanh, exp, log, sqrt, abs, maximum, minimum, arctan, square
    "reductions",       # sum/mean/max/min/prod with and without axis, keepdims
    "shifts",           # a max/min subtracted before exp: softmax, log-softmax, log-sum-exp, near misses
    "linalg",           # dot, @, outer
    "shapes",           # reshape, .T, concatenate, stack, where, flip, [::-1]
    "cumsum",           # np.cumsum (class 11: false refusals after it)
    "index_reads",      # v[i], A[i, j], A[0], A[:, j], v[1:], v[[0, 2]], masks under sum
    "loops",            # for i in range(n), stepped and triangular ranges, while k < n
    "loop_iterables",   # for row in A, enumerate, zip, reversed (class 10)
    "jumps",            # break, continue inside loops
    "early_return",     # return inside loops
    "branches",         # if/else on comparisons, x if c else y
    "bool_conds",       # and / or / not / chained comparisons in if and while (class 4)
    "element_writes",   # a[i] = s, A[i, j] += s into arrays the function created
    "slice_writes",     # rows, columns, slices, broadcast slice writes (class 1)
    "loop_writes",      # an array created and written inside a loop body (class 10)
    "settled_reads",    # an array filled element by element, then read by elements in a later loop
    "carried_writes",   # subscript writes into an array whose name is bound again (often by a loop)
    "self_reads",       # a write whose value reads the array written into (d[2] -= d[1:] @ d[:2])
    "mask_writes",      # v[v > c] = s, v[mask] *= s
    "index_writes",     # v[[0, 2]] = w, v[[0, 2]] += w
    "broadcast_writes", # v[[0, 2]] = s, A[[1, 0]] = row: a value broadcast into an index-array write
    "repeated_indices", # v[[0, 0, 2]] += w, v[[1, 1]] = w (class 7)
    "param_writes",     # writes into a parameter (README: a private copy; class 11)
    "aug_assign",       # s += e, v *= e on arrays the name owns alone
    "aliasing",         # b = a, row = A[0], z = y; z += 1, writes seen through views (class 2)
    "tuple_unpack",     # p, q = e1, e2 and swaps of equal shapes
    "rebind_self",      # x = x[0], x = x[:, 1], x = x, swaps of different shapes (class 5)
    "shape_rebind",     # a name bound again (after its block) to a value of another shape
    "helpers",          # calls to module-level helper functions
    "closures",         # nested defs and lambdas reading the enclosing locals, called at once
    "pytrees",          # dict / tuple / list parameters
    "list_append",      # acc.append(v) in a loop, then np.stack(acc)
    "comprehensions",   # list/dict comprehensions and generator expressions feeding sum, max, np.stack
    "name_hygiene",     # user names like seed, saved, x_bar, t1, cond1, x_tape, trips1 (class 6)
    "complex",          # real values through complex ones: exp(1j*e), np.fft, abs, real, imag, conj
)

CHECKS = (
    "grad",             # adjoint.grad against central finite differences (always on)
    "value_and_grad",   # value equals the function's, gradient equals grad's
    "vjp_twice",        # vjp's pullback called twice gives grad both times (class 10)
    "forward_mode",     # adjoint.jvp's tangent equals <grad, v> (class 8)
    "hvp",              # adjoint.hvp against finite differences of grad
    "numba",            # the Numba backend's gradient equals the NumPy backend's
    "hashseed",         # byte-identical source under two PYTHONHASHSEEDs
    "no_mutation",      # the caller's arrays are unchanged by every call
)

FAMILIES = CONSTRUCTS + CHECKS

# Families CI leaves off until their issue-10 class is fixed (family -> the class).
PENDING = {  # every family is on: the issue-10 classes behind the old entries are fixed
}

CI = tuple(f for f in FAMILIES if f not in PENDING)
ALL = FAMILIES


def parse(text):
    """A family set from the command line: 'all', 'ci', or comma-separated names (``-name`` removes)."""
    chosen = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if part in ("all", "ci"):
            chosen += list(ALL if part == "all" else CI)
        elif part.startswith("-"):
            chosen = [f for f in chosen if f != part[1:]]
        elif part in FAMILIES:
            chosen.append(part)
        else:
            raise ValueError(f"unknown family {part!r}; known: {', '.join(FAMILIES)}")
    return tuple(dict.fromkeys(chosen))
