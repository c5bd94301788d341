"""Helpers of the ``scipy.linalg`` and ``scipy.signal`` rules (``rules/scipy_linalg.py``);
nothing here imports SciPy at import time."""
from __future__ import annotations

import numpy as np

__all__ = []
