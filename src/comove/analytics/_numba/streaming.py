"""The compiled loop behind :meth:`comove.analytics.streaming.RollingCorrelation.update_many`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit

from comove.analytics._numba import OPTIONS


@njit(**OPTIONS)
def stream_kernel(
    xs: Any,
    ys: Any,
    window: int,
    required: int,
    every: int,
    bufx: Any,
    bufy: Any,
    fstate: Any,
    istate: Any,
    out: Any,
) -> None:
    """:meth:`RollingCorrelation.update` over many bars, with the same state and arithmetic.

    ``fstate`` = centre x, y, sums x, y, xx, yy, xy, last x, last y; ``istate`` = bars
    seen, valid pairs, last valid bar, last bar before a change of x, of y.
    """
    cx = fstate[0]
    cy = fstate[1]
    sx = fstate[2]
    sy = fstate[3]
    sxx = fstate[4]
    syy = fstate[5]
    sxy = fstate[6]
    lx = fstate[7]
    ly = fstate[8]
    t = istate[0]
    cnt = istate[1]
    last = istate[2]
    bx = istate[3]
    by = istate[4]
    nan = np.nan
    for j in range(xs.shape[0]):
        xt = xs[j]
        yt = ys[j]
        i = t % window
        xo = bufx[i]
        yo = bufy[i]
        if t >= window and xo == xo:
            dx = xo - cx
            dy = yo - cy
            cnt -= 1
            sx -= dx
            sy -= dy
            sxx -= dx * dx
            syy -= dy * dy
            sxy -= dx * dy
        if math.isfinite(xt) and math.isfinite(yt):
            bufx[i] = xt
            bufy[i] = yt
            if cnt == 0:
                cx = xt
                cy = yt
                sx = 0.0
                sy = 0.0
                sxx = 0.0
                syy = 0.0
                sxy = 0.0
            dx = xt - cx
            dy = yt - cy
            cnt += 1
            sx += dx
            sy += dy
            sxx += dx * dx
            syy += dy * dy
            sxy += dx * dy
            if last >= 0:
                if xt != lx:
                    bx = last
                if yt != ly:
                    by = last
            last = t
            lx = xt
            ly = yt
        else:
            bufx[i] = nan
            bufy[i] = nan
        if t % every == every - 1 and cnt > 0:
            mx = 0.0
            my = 0.0
            for m in range(window):
                if bufx[m] == bufx[m]:
                    mx += bufx[m]
                    my += bufy[m]
            cx = mx / cnt
            cy = my / cnt
            sx = 0.0
            sy = 0.0
            sxx = 0.0
            syy = 0.0
            sxy = 0.0
            for m in range(window):
                if bufx[m] == bufx[m]:
                    dx = bufx[m] - cx
                    dy = bufy[m] - cy
                    sx += dx
                    sy += dy
                    sxx += dx * dx
                    syy += dy * dy
                    sxy += dx * dy
        start = t - window + 1
        t += 1
        if cnt < required or bx < start or by < start:
            out[j] = nan
            continue
        inv = 1.0 / cnt
        vx = sxx - sx * sx * inv
        vy = syy - sy * sy * inv
        if vx > 0.0 and vy > 0.0:
            r = (sxy - sx * sy * inv) / math.sqrt(vx * vy)
            out[j] = min(1.0, max(-1.0, r))
        else:
            out[j] = nan
    fstate[0] = cx
    fstate[1] = cy
    fstate[2] = sx
    fstate[3] = sy
    fstate[4] = sxx
    fstate[5] = syy
    fstate[6] = sxy
    fstate[7] = lx
    fstate[8] = ly
    istate[0] = t
    istate[1] = cnt
    istate[2] = last
    istate[3] = bx
    istate[4] = by
