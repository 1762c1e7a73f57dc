"""The Dask engine on a LocalCluster of 2 worker processes gives the local engine's table."""

from __future__ import annotations

import pandas as pd
import pytest

from comove.scan.engine import ScanConfig, run_scan
from comove.scan.universe import expand_sources, prepare_benchmark

pytest.importorskip("distributed")


def test_dask_engine_equals_local_engine(universe_folder) -> None:
    folder, bench_path = universe_folder
    from comove.data.bars import read_bars

    bench = prepare_benchmark(read_bars(bench_path), name="BENCH")
    sources = expand_sources([str(folder)]).sources
    config = ScanConfig(block_size=9)
    local = run_scan(sources, [bench], config)
    events: list[tuple[str, int]] = []
    remote = run_scan(
        sources,
        [bench],
        config,
        engine="dask",
        workers=2,
        progress=lambda kind, n: events.append((kind, n)),
    )
    assert remote.engine == "dask"
    pd.testing.assert_frame_equal(local.table, remote.table, check_exact=True)
    pd.testing.assert_frame_equal(local.skipped, remote.skipped)
    assert sum(n for kind, n in events if kind == "read") == len(sources)
    assert sum(n for kind, n in events if kind == "block") == 3
