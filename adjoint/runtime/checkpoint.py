"""The revolve driver of checkpointed loops (``passes/checkpoint.py``).

A checkpointed loop's body is a generated step function, state in, state
out, differentiated in split mode (``step_fwd``/``step_bwd``). The forward
sweep runs the trips and keeps only the state the loop started from; the
backward sweep reverses the trips by Griewank's binomial schedule: it holds
at most ``snapshots`` states at once (the starting one included), recomputes
forward from the nearest one, and runs each trip's backward sweep once, last
trip first. The adjoints of the values the body only reads are summed over
the trips in arrays revolve owns, which each trip's ``step_bwd`` takes and
adds its contribution into in place (``add_into``, ``add_matmul_grad_a``):
no array of a read's size is made per trip.
"""
from __future__ import annotations

import math
import numbers
import re

import numpy as np

from .core import conj, matmul_grad_a, matmul_grad_b, zeros_like

__all__ = ["checkpoint_forward", "checkpoint_forward_while", "revolve", "revolve_split",
           "default_snapshots", "add_into", "add_matmul_grad_a", "add_matmul_grad_b"]


def default_snapshots(n):
    """About sqrt(n) snapshots when the loop names none."""
    return max(1, math.isqrt(max(n, 0)))


def checkpoint_forward(step_fwd, bounds, state, reads):
    """Run the loop's trips without a tape; return the final state and what ``revolve``
    needs: the trips, the number of snapshots, the starting state and the values read."""
    start, stop, stride, snapshots, memory = bounds
    trips = range(start, stop, stride)
    k = _snapshots(len(trips), snapshots, memory, state)
    first = state
    for t in trips:
        state, _ = step_fwd(t, *state, *reads)
    return state, (trips, k, first, reads, 5)


def checkpoint_forward_while(step_fwd, cond, limits, state, reads):
    """``checkpoint_forward`` for ``while checkpointed(test):``: ``cond`` evaluates the test
    on the state. The trip count is known once this sweep ends, before the backward sweep
    begins, so revolve's binomial schedule applies to it as to a counted loop."""
    first = state
    count = 0
    while cond(*state, *reads):
        state, _ = step_fwd(count, *state, *reads)
        count += 1
    return state, (range(count), _snapshots(count, *limits, first), first, reads, 2)


def _snapshots(count, snapshots, memory, state):
    """``snapshots`` if given, else as many copies of ``state`` as fit in ``memory`` (bytes,
    or a string such as "256MB"), else about sqrt(count)."""
    if snapshots is not None:
        k = int(snapshots)
    elif memory is not None:
        k = memory_bytes(memory) // max(1, _size(state))
    else:
        k = default_snapshots(count)
    if k < 1:
        raise ValueError(f"a checkpointed loop needs at least 1 snapshot, not {k}"
                         + (f" (the memory budget {memory!r} holds no copy of its state, which "
                            f"takes {_size(state)} bytes)" if memory is not None else ""))
    return k


_UNITS = {"": 1, "B": 1, "KB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}


def memory_bytes(memory):
    """A memory budget in bytes: a number, or "512KB", "256MB", "1.5GB" (powers of 1024)."""
    if isinstance(memory, numbers.Real) and not isinstance(memory, bool) and memory >= 0:
        return int(memory)
    found = re.fullmatch(r"\s*(\d+(?:\.\d*)?)\s*([KMGT]?)(?:I?B)?\s*", memory.upper()) \
        if isinstance(memory, str) else None
    if found is None:
        raise ValueError(f"a memory budget (checkpoint_memory=, or memory= of checkpointed) is "
                         f"a number of bytes or a size like '256MB', not {memory!r}")
    return int(float(found.group(1)) * _UNITS[found.group(2) + "B" if found.group(2) else ""])


def _size(value):
    """The bytes one stored copy of ``value`` (a loop's state) takes."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_size(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_size(v) for v in value)
    return 8


def revolve_split(length, free):
    """Where the binomial schedule stores its next snapshot in ``length`` trips with ``free``
    snapshots to spare: after beta(free, r - 1) trips, r the fewest recomputations for which
    beta(free, r) = C(free + r, r) >= length (Griewank's bound)."""
    r = 1
    while math.comb(free + r, r) < length:
        r += 1
    return max(1, min(math.comb(free + r - 1, r - 1), length - 1))


def add_into(total, g):
    """``total + g``, in place into ``total`` (the sum of a read's adjoints over the trips, an
    array revolve owns) where its shape and dtype hold the sum: no new array per trip. The
    first contribution to a read that is no array (``total`` None) is copied: the sum owns it."""
    if total is None:
        return g.copy() if isinstance(g, np.ndarray) else g
    if _holds(total, g):
        total += g
        return total
    return total + g


def _holds(total, g):
    return isinstance(total, np.ndarray) and isinstance(g, np.ndarray) \
        and total.shape == g.shape and np.can_cast(g.dtype, total.dtype)


_BLOCK = 8192  # elements of the outer product made at once by _add_outer (64 KiB of float64)


def _add_outer(total, u, v):
    """``total + np.outer(u, v)``, in place a block of rows at a time where ``total`` holds it
    (the same sums as ``total += np.outer(u, v)``, without a temporary of ``total``'s size)."""
    product = np.result_type(u, v)
    if not (isinstance(total, np.ndarray) and u.ndim == 1 and v.ndim == 1
            and total.shape == (u.size, v.size) and np.can_cast(product, total.dtype)):
        return add_into(total, np.outer(u, v))
    rows = max(1, _BLOCK // max(1, v.size))
    block = np.empty((min(rows, u.size), v.size), product)
    for i in range(0, u.size, rows):
        part = block[:min(rows, u.size - i)]
        _outer(u[i:i + rows], v, part)
        total[i:i + rows] += part
    return total


def _outer(u, v, out):
    """``np.outer(u, v)`` into ``out``, the same numbers: einsum for floats (NumPy's broadcast
    multiply would buffer two blocks more), np.outer's own multiply for others (complex)."""
    if out.dtype.kind == "f":
        np.einsum("i,j->ij", u, v, out=out)
    else:
        np.multiply(u[:, None], v[None, :], out=out)


def add_matmul_grad_a(total, g, a, b):
    """``add_into(total, matmul_grad_a(g, a, b))``; a matrix times a vector's (an outer
    product) is added in place without being made whole."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 2 and b.ndim == 1:
        return _add_outer(total, np.asarray(g), conj(b))
    return add_into(total, matmul_grad_a(g, a, b))


def add_matmul_grad_b(total, g, a, b):
    """``add_into(total, matmul_grad_b(g, a, b))``; a vector times a matrix's (an outer
    product) is added in place without being made whole."""
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim == 1 and b.ndim == 2:
        return _add_outer(total, conj(a), np.asarray(g))
    return add_into(total, matmul_grad_b(g, a, b))


def revolve(step_fwd, step_bwd, saved, seed):
    """The adjoints of the loop's arguments (bounds, state, reads) from its output's adjoint.

    Segments still to reverse wait on a stack, each with the state at its first
    trip and the snapshots it may use beyond that one; the top one is split at
    ``revolve_split`` (advance to the split and keep that state: one snapshot
    fewer for the part after it) until one trip is left, whose forward sweep
    runs again to feed its backward sweep. Without a spare snapshot a segment
    is reversed by advancing from its start to each trip in turn.
    """
    trips, k, first, reads, bounds = saved
    n = len(first)
    state_bar = tuple(seed[i] for i in range(n))
    # each trip's step_bwd adds into these: zeros of an array's shape, None for other values
    read_bar = [zeros_like(r) if isinstance(r, np.ndarray) else None for r in reads]

    def advance(state, a, b):
        for i in range(a, b):
            state, _ = step_fwd(trips[i], *state, *reads)
        return state

    def last(i, state, state_bar):
        _, step_saved = step_fwd(trips[i], *state, *reads)
        grads = step_bwd(step_saved, state_bar, *read_bar)
        read_bar[:] = grads[1 + n:]
        return tuple(grads[1:1 + n])

    stack = [(0, len(trips), first, k - 1)] if len(trips) else []
    while stack:
        a, b, state, free = stack.pop()
        if b - a == 1:
            state_bar = last(a, state, state_bar)
        elif free == 0:
            for i in range(b - 1, a - 1, -1):
                state_bar = last(i, advance(state, a, i), state_bar)
        else:
            m = a + revolve_split(b - a, free)
            stack.append((a, m, state, free))
            stack.append((m, b, advance(state, a, m), free - 1))
    read_bar = [zeros_like(r) if g is None else g for r, g in zip(reads, read_bar)]
    return (0,) * bounds + (*state_bar, *read_bar)
