"""The momentum recursions of :mod:`comove.analytics.momentum`, compiled for long series.

The source is the plain loops defined there (one definition, two ways to run it).
"""

from __future__ import annotations

from numba import njit

from comove.analytics._numba import OPTIONS
from comove.analytics.momentum import ema_loop, macd_line_loop, rsi_loop

ema_kernel = njit(**OPTIONS)(ema_loop)
macd_line_kernel = njit(**OPTIONS)(macd_line_loop)
rsi_kernel = njit(**OPTIONS)(rsi_loop)
