"""Universe scans: many assets against one or more benchmarks, in process or on Dask.

:func:`run_scan` reads sources block by block and returns a :class:`ScanResult`;
:func:`scan_frames` does the same for bars already in memory; :func:`generate_universe`
makes a seeded synthetic universe to test and time it at any size.
"""

from __future__ import annotations

from comove.scan.engine import ScanConfig, ScanResult, run_scan, scan_columns, scan_frames
from comove.scan.synthetic import generate_universe
from comove.scan.universe import Benchmark, expand_sources, prepare_benchmark, return_panel

__all__ = [
    "Benchmark",
    "ScanConfig",
    "ScanResult",
    "expand_sources",
    "generate_universe",
    "prepare_benchmark",
    "return_panel",
    "run_scan",
    "scan_columns",
    "scan_frames",
]
