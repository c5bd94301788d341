"""Helpers of the ``scipy.stats`` rules (``rules/stats.py``); nothing here imports SciPy."""
from __future__ import annotations

import numpy as np

__all__ = []
