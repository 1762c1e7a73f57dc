"""Compiled kernels (numba, the ``comove[fast]`` extra), one module per job.

``rolling`` (one pair and panels), ``scan`` (the universe-scan pass), ``streaming``
(``RollingCorrelation.update_many``) and ``momentum`` (EMA, MACD line, Wilder RSI). Each
is compiled where it is defined, when its module is first imported, and cached on disk
(``__pycache__`` beside the source, or ``NUMBA_CACHE_DIR``). Nothing imports this package
unless the compiled path is chosen, so a daily pair never loads numba. With
``NUMBA_DISABLE_JIT=1`` the same functions run as plain Python (the test suite does this
once on small inputs, so their source is exercised and covered).
"""

from __future__ import annotations

from typing import Any

#: Options of every kernel: cached on disk, GIL released, and numpy's error model (no
#: ZeroDivisionError checks, which would block vectorisation).
OPTIONS: dict[str, Any] = {"cache": True, "nogil": True, "error_model": "numpy"}
