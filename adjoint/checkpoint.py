"""``adjoint.checkpointed``: mark a loop for binomial checkpointing.

At run time it is the identity on its iterable, so the function runs exactly
as written; the compiler reads the mark (``passes/checkpoint.py``) and
reverses the loop by Griewank's revolve instead of taping every trip.
"""
from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


class CheckpointWarning(UserWarning):
    """``checkpoint_memory`` left a loop on the plain tape: the checkpoint pass refuses it."""


def checkpointed(iterable: T, snapshots: int | None = None, memory: int | str | None = None) -> T:
    """``iterable`` itself: ``for t in checkpointed(range(n), snapshots=k):`` runs as
    ``for t in range(n):``; its gradient keeps at most ``k`` copies of the loop's state and
    recomputes the rest. Without ``snapshots``, as many copies as fit in ``memory`` (bytes or
    a size such as "256MB"), else about the square root of the trip count. In a ``while``
    loop, mark the condition: ``while checkpointed(err > tol, snapshots=k):``."""
    return iterable
