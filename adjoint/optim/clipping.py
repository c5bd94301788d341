"""Gradient clipping over pytrees: by global norm (as ``torch.nn.utils.clip_grad_norm_``) or by value."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..pytree import tree_leaves, tree_map

__all__ = ["global_norm", "clip_by_global_norm", "clip_by_value"]


def global_norm(tree: Any) -> float:
    """The Euclidean norm of every leaf of ``tree`` together, as if raveled into one vector."""
    return float(np.sqrt(sum(np.sum(np.abs(np.asarray(x)) ** 2) for x in tree_leaves(tree))))


def clip_by_global_norm(grads: Any, max_norm: float) -> Any:
    """``grads`` scaled down so that their global norm is at most ``max_norm``; the direction stays."""
    norm = global_norm(grads)
    if not norm > max_norm:  # also for a NaN norm: scaling cannot repair it
        return grads
    scale = max_norm / norm
    return tree_map(lambda g: g * scale, grads)


def clip_by_value(grads: Any, limit: float) -> Any:
    """Every entry of ``grads`` clipped into ``[-limit, limit]``."""
    def clip(g: Any) -> Any:
        clipped = np.clip(g, -limit, limit)
        return float(clipped) if isinstance(g, float) else clipped
    return tree_map(clip, grads)
