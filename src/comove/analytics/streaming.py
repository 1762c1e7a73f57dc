"""Rolling correlation updated one bar at a time, in O(1) (:class:`RollingCorrelation`)."""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import numpy as np

from comove.analytics.rolling import FloatArray, check_window, numba_available, recompute_every
from comove.errors import DataError


class RollingCorrelation:
    """Rolling Pearson correlation (and beta of x on y) updated one bar at a time, O(1).

    ``update(x, y)`` returns the correlation of the last ``window`` bars, the same number
    :func:`comove.analytics.rolling.rolling_stats` gives for the whole series (pairs count when both values are
    finite; NaN until ``min_periods`` valid pairs, and on a constant window). The state is
    a ring buffer plus running centred sums, recomputed exactly every
    ``max(window, 256)`` bars like the batch kernel, so drift stays bounded however long
    it runs. ``update`` is plain Python, its state held in the local variables of a
    generator (calling into compiled code costs more than the arithmetic);
    ``update_many`` runs the same steps in one compiled loop when numba is installed.
    """

    __slots__ = ("_bufx", "_bufy", "_every", "_f", "_i", "_required", "_send", "_window")

    def __init__(self, window: int, min_periods: int | None = None) -> None:
        self._required = check_window(window, min_periods)
        self._window = int(window)
        self._every = recompute_every(window)
        self._bufx = [math.nan] * self._window
        self._bufy = [math.nan] * self._window
        # centre x, y, sums x, y, xx, yy, xy, last x, last y
        self._f = [0.0] * 7 + [math.nan, math.nan]
        # bars seen, valid pairs, last valid bar, last bar before x changed, before y changed
        self._i = [0, 0, -1, -1, -1]
        self._start()

    def _start(self) -> None:
        gen = self._steps()
        next(gen)
        self._send = gen.send

    def _sync(self) -> None:
        """Have the generator write its state back to ``_f`` / ``_i``."""
        self._send(None)

    @property
    def window(self) -> int:
        return self._window

    @property
    def count(self) -> int:
        """Valid pairs in the current window."""
        self._sync()
        return self._i[1]

    def _moments(self) -> tuple[float, float, float, bool, bool] | None:
        self._sync()
        _, _, sx, sy, sxx, syy, sxy, _, _ = self._f
        t, cnt, _, bx, by = self._i
        if cnt < self._required:
            return None
        start = t - self._window
        inv = 1.0 / cnt
        return sxx - sx * sx * inv, syy - sy * sy * inv, sxy - sx * sy * inv, bx < start, by < start

    @property
    def corr(self) -> float:
        """Correlation over the current window (NaN when undefined)."""
        m = self._moments()
        if m is None or m[3] or m[4] or not (m[0] > 0.0 and m[1] > 0.0):
            return math.nan
        return min(1.0, max(-1.0, m[2] / math.sqrt(m[0] * m[1])))

    @property
    def beta(self) -> float:
        """OLS slope of x on y over the current window (NaN when y is constant)."""
        m = self._moments()
        if m is None or m[4] or not m[1] > 0.0:
            return math.nan
        return 0.0 if m[3] else m[2] / m[1]

    def update(self, x: float, y: float) -> float:
        """Add one bar (the oldest leaves the window); return the current correlation."""
        return self._send((x, y))

    def _steps(self) -> Generator[float, tuple[float, float] | None, None]:
        """The update loop; sending None writes the state back to ``_f`` and ``_i``."""
        window, required, every = self._window, self._required, self._every
        bufx, bufy, f, st = self._bufx, self._bufy, self._f, self._i
        cx, cy, sx, sy, sxx, syy, sxy, lx, ly = f
        t, cnt, last, bx, by = st
        nan = math.nan
        sqrt = math.sqrt
        r = nan
        i = t % window  # ring position of the bar about to arrive
        countdown = every - t % every  # bars until the next exact recomputation
        while True:
            pair = yield r
            if pair is None:
                f[:] = [cx, cy, sx, sy, sxx, syy, sxy, lx, ly]
                st[:] = [t, cnt, last, bx, by]
                continue
            x, y = pair
            xo = bufx[i]
            if xo == xo:
                dx = xo - cx
                dy = bufy[i] - cy
                cnt -= 1
                sx -= dx
                sy -= dy
                sxx -= dx * dx
                syy -= dy * dy
                sxy -= dx * dy
            if x - x == 0.0 and y - y == 0.0:  # both finite
                bufx[i] = x
                bufy[i] = y
                if cnt == 0:
                    cx, cy, sx, sy, sxx, syy, sxy = x, y, 0.0, 0.0, 0.0, 0.0, 0.0
                dx = x - cx
                dy = y - cy
                cnt += 1
                sx += dx
                sy += dy
                sxx += dx * dx
                syy += dy * dy
                sxy += dx * dy
                if x != lx:
                    bx = last
                if y != ly:
                    by = last
                last = t
                lx = x
                ly = y
            else:
                bufx[i] = nan
                bufy[i] = nan
            t += 1
            i += 1
            if i == window:
                i = 0
            countdown -= 1
            if countdown == 0:
                countdown = every
                if cnt > 0:
                    cx, cy, sx, sy, sxx, syy, sxy = _exact_sums(bufx, bufy, cnt)
            start = t - window
            if cnt < required or bx < start or by < start:
                r = nan
                continue
            inv = 1.0 / cnt
            vx = sxx - sx * sx * inv
            vy = syy - sy * sy * inv
            if vx > 0.0 and vy > 0.0:
                r = (sxy - sx * sy * inv) / sqrt(vx * vy)
                r = 1.0 if r > 1.0 else (-1.0 if r < -1.0 else r)
            else:
                r = nan

    def update_many(self, xs: Any, ys: Any) -> FloatArray:
        """Add many bars at once; return the correlation after each (compiled when possible)."""
        xa = np.ascontiguousarray(xs, dtype="float64")
        ya = np.ascontiguousarray(ys, dtype="float64")
        if xa.shape != ya.shape or xa.ndim != 1:
            raise DataError(f"update_many needs two 1-D arrays of one length, got {xa.shape}")
        if not numba_available():
            return np.array([self.update(float(a), float(b)) for a, b in zip(xa, ya, strict=True)])
        from comove.analytics._numba.streaming import stream_kernel

        self._sync()
        bufx = np.array(self._bufx)
        bufy = np.array(self._bufy)
        fstate = np.array(self._f)
        istate = np.array(self._i, dtype="int64")
        out = np.empty(len(xa))
        stream_kernel(
            xa, ya, self._window, self._required, self._every, bufx, bufy, fstate, istate, out
        )
        self._bufx = bufx.tolist()
        self._bufy = bufy.tolist()
        self._f = fstate.tolist()
        self._i = [int(v) for v in istate]
        self._start()
        return out


def _exact_sums(
    bufx: list[float], bufy: list[float], cnt: int
) -> tuple[float, float, float, float, float, float, float]:
    """Centre (the mean) and centred sums of the valid pairs in a ring buffer, two-pass."""
    pairs = [(a, b) for a, b in zip(bufx, bufy, strict=True) if a == a]
    cx = math.fsum(a for a, _ in pairs) / cnt
    cy = math.fsum(b for _, b in pairs) / cnt
    sx = sy = sxx = syy = sxy = 0.0
    for a, b in pairs:
        dx = a - cx
        dy = b - cy
        sx += dx
        sy += dy
        sxx += dx * dx
        syy += dy * dy
        sxy += dx * dy
    return cx, cy, sx, sy, sxx, syy, sxy
