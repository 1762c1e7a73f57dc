"""The universe scan: per asset × benchmark statistics, in process or on a Dask cluster.

The universe is cut into blocks of assets. One block is read and computed by
:func:`scan_block` — the only function a Dask worker runs — from source strings (file
paths, ``store:SYM``), never from data shipped by the client, so every worker reads only
its own files. The local engine runs the very same function over the same blocks, so both
engines give bit-identical tables.

Per asset × benchmark (see :data:`SCAN_COLUMNS`): the latest rolling correlation of log
returns for each window with its Fisher 95% band, beta of the asset on the benchmark for
each window, the strongest lead-lag over the last ``lead_lag_sessions`` sessions, how many
sessions the main-window correlation has stayed on its side of ``threshold``, and whether
it crossed within the last ``change_within`` sessions (newly coupled / decoupled).

The numbers come from :func:`comove.analytics.scan.group_stats` (one compiled pass per
column with numba installed, its exact numpy twin otherwise); this module reads, aligns,
blocks and gathers.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from comove._json import records
from comove.analytics.scan import ScanParams, group_stats
from comove.config import Settings
from comove.data.bars import PriceChoice
from comove.errors import ConfigError
from comove.scan.universe import (
    Benchmark,
    LoadedBlock,
    aligned_closes,
    frames_block,
    load_block,
    log_return_panel,
)

Engine = Literal["local", "dask"]
Progress = Callable[[str, int], None]
MIN_BLOCK, MAX_BLOCK = 16, 250
COMPUTE_COLUMNS = 256


@dataclass(frozen=True)
class ScanConfig:
    """What a scan computes; ``main_window`` defaults to the middle window (60 of 30/60/90).

    ``block_size`` (assets per block, one Dask task each) defaults to K/8 clamped to
    16..250: enough blocks to keep two to eight workers busy, few enough that per-task
    overhead stays small, and small enough to bound the working memory.
    """

    windows: tuple[int, ...] = (30, 60, 90)
    main_window: int | None = None
    lead_lag_sessions: int = 250
    max_lag: int = 10
    threshold: float = 0.5
    change_within: int = 5
    price: PriceChoice = "auto"
    skip_bad: bool = False
    block_size: int | None = None

    def __post_init__(self) -> None:
        if not self.windows or any(int(w) != w or w < 3 for w in self.windows):
            raise ConfigError(f"windows must be whole sessions of at least 3, got {self.windows}")
        if self.main_window is not None and self.main_window not in self.windows:
            raise ConfigError(f"main window {self.main_window} is not one of {self.windows}")
        if not -1.0 < self.threshold < 1.0:
            raise ConfigError(f"threshold must be between -1 and 1, got {self.threshold}")
        if (
            (self.block_size is not None and self.block_size < 1)
            or self.lead_lag_sessions < 4
            or self.max_lag < 0
        ):
            raise ConfigError("block size, lead-lag sessions and max lag must be positive")

    def blocks_of(self, k: int) -> int:
        """Assets per block for a universe of ``k`` assets."""
        if self.block_size is not None:
            return self.block_size
        return int(min(MAX_BLOCK, max(MIN_BLOCK, math.ceil(k / 8))))

    @property
    def main(self) -> int:
        return (
            self.main_window
            if self.main_window is not None
            else self.windows[len(self.windows) // 2]
        )

    @property
    def params(self) -> ScanParams:
        return ScanParams(
            windows=tuple(self.windows),
            main=self.main,
            threshold=self.threshold,
            change_within=self.change_within,
            lead_lag_sessions=self.lead_lag_sessions,
            max_lag=self.max_lag,
        )


def scan_columns(windows: Sequence[int]) -> list[str]:
    """Columns of the scan table, in order."""
    columns = ["asset", "benchmark", "kind"]
    columns += [f"corr_{w}" for w in windows]
    for w in windows:
        columns += [f"corr_{w}_lo", f"corr_{w}_hi"]
    columns += [f"beta_{w}" for w in windows]
    columns += [
        "lead_lag", "lead_lag_corr", "side", "side_sessions", "change",
        "sessions", "first", "as_of",
    ]  # fmt: skip
    return columns


SCAN_COLUMNS = scan_columns((30, 60, 90))


@dataclass
class PanelScan:
    """Per-column results of :func:`scan_closes`; unusable columns hold NaN / ``""`` / 0."""

    stats: dict[str, np.ndarray]
    counts: np.ndarray
    firsts: np.ndarray
    ends: np.ndarray

    @property
    def usable(self) -> np.ndarray:
        return self.counts >= 2


def _empty_stats(names: Sequence[str], k: int) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name in names:
        if name in ("side", "change"):
            out[name] = np.full(k, "", dtype=object)
        elif name == "side_sessions":
            out[name] = np.zeros(k, dtype="int64")
        else:
            out[name] = np.full(k, np.nan)
    return out


def _scan_chunk(closes: np.ndarray, benchmark: Benchmark, config: ScanConfig) -> PanelScan:
    n, k = closes.shape
    valid = np.isfinite(closes)
    counts = valid.sum(axis=0)
    firsts = np.where(counts > 0, np.argmax(valid, axis=0), 0)
    ends = np.where(counts > 0, n - 1 - np.argmax(valid[::-1], axis=0), -1)
    usable = counts >= 2
    stats = _empty_stats(scan_columns(config.windows)[3:-3], k)
    group = np.flatnonzero(usable & (counts == ends - firsts + 1))
    if len(group):
        # All columns in one piece (the usual case) is a view; a fancy index would copy.
        returns = log_return_panel(closes if len(group) == k else closes[:, group])
        found = group_stats(
            returns, benchmark.log_returns, firsts[group], ends[group], config.params
        )
        del returns
        for name, values in found.items():
            stats[name][group] = values
    for j in np.flatnonzero(usable & (counts != ends - firsts + 1)):
        # Holes: compress to the asset's own sessions, exactly like align + dropna.
        rows = np.flatnonzero(valid[:, j])
        own = log_return_panel(closes[rows, j : j + 1])
        own_bench = log_return_panel(benchmark.close[rows, None])[:, 0]
        m = len(rows)
        found = group_stats(own, own_bench, np.array([0]), np.array([m - 1]), config.params)
        for name, values in found.items():
            stats[name][j] = values[0]
    return PanelScan(stats, counts, firsts, ends)


def scan_closes(closes: np.ndarray, benchmark: Benchmark, config: ScanConfig) -> PanelScan:
    """Scan a close panel already on ``benchmark.dates`` (``(n, K)``, NaN where absent).

    Columns are taken :data:`COMPUTE_COLUMNS` at a time, which bounds the working memory to
    a few ``n x 256`` arrays whatever K is, while keeping each kernel call large enough
    that its fixed cost does not show. Every column's numbers are independent of the
    chunking (tested bit for bit).
    """
    size = COMPUTE_COLUMNS
    parts = [
        _scan_chunk(closes[:, start : start + size], benchmark, config)
        for start in range(0, closes.shape[1], size)
    ]
    if len(parts) == 1:
        return parts[0]
    return PanelScan(
        {name: np.concatenate([p.stats[name] for p in parts]) for name in parts[0].stats},
        np.concatenate([p.counts for p in parts]),
        np.concatenate([p.firsts for p in parts]),
        np.concatenate([p.ends for p in parts]),
    )


def compute_block(
    block: LoadedBlock, benchmark: Benchmark, config: ScanConfig
) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Scan one block of assets against one benchmark: the table rows and what was skipped."""
    dates = benchmark.dates
    scanned = scan_closes(aligned_closes(block.closes, dates), benchmark, config)
    skipped: list[tuple[str, str]] = []
    for j in np.flatnonzero(~scanned.usable):
        own_dates = block.closes[j].index
        span = f"{own_dates[0].date()}..{own_dates[-1].date()}" if len(own_dates) else "no bars"
        skipped.append(
            (
                block.names[j],
                f"does not overlap {benchmark.name} ({span} vs "
                f"{dates[0].date()}..{dates[-1].date()}; "
                f"{int(scanned.counts[j])} common sessions)",
            )
        )
    keep = np.flatnonzero(scanned.usable)
    table = pd.DataFrame(
        {
            "asset": [block.names[j] for j in keep],
            "benchmark": benchmark.name,
            "kind": [block.kinds[j] for j in keep],
            **{name: values[keep] for name, values in scanned.stats.items()},
            "sessions": scanned.counts[keep].astype("int64"),
            "first": dates[scanned.firsts[keep]],
            "as_of": dates[scanned.ends[keep]],
        },
        columns=scan_columns(config.windows),
    )
    return table, skipped


# --- blocks and engines -------------------------------------------------------------------


@dataclass
class BlockResult:
    """What one block returns to the client: rows, skipped assets, warnings as text."""

    table: pd.DataFrame
    skipped: list[tuple[str, str, str]]
    warnings: list[str]
    assets: int


def _scan_loaded(
    block: LoadedBlock, benchmarks: Sequence[Benchmark], config: ScanConfig, assets: int
) -> BlockResult:
    tables: list[pd.DataFrame] = []
    skipped = [(name, "", reason) for name, reason in block.skipped]
    for benchmark in benchmarks:
        table, missed = compute_block(block, benchmark, config)
        tables.append(table)
        skipped.extend((name, benchmark.name, reason) for name, reason in missed)
    return BlockResult(pd.concat(tables, ignore_index=True), skipped, block.warnings, assets)


def scan_block(
    sources: Sequence[str],
    benchmarks: Sequence[Benchmark],
    config: ScanConfig,
    settings: Settings,
) -> BlockResult:
    """Read one block of sources and scan it against every benchmark (a Dask task)."""
    block = load_block(sources, settings, price=config.price, skip_bad=config.skip_bad)
    return _scan_loaded(block, benchmarks, config, len(sources))


@dataclass
class ScanResult:
    """The scan table (one row per asset × benchmark), skipped assets and run metadata."""

    table: pd.DataFrame
    skipped: pd.DataFrame
    warnings: list[str]
    config: ScanConfig
    benchmarks: list[Benchmark]
    engine: str
    meta: dict[str, Any] = field(default_factory=dict)

    def ranked(
        self, sort: str | None = None, *, ascending: bool = False, top: int | None = None
    ) -> pd.DataFrame:
        """The table sorted by ``sort`` (default the main-window correlation, descending).

        NaN sorts last; ties keep the asset order. ``top`` keeps the first rows.
        """
        column = sort or f"corr_{self.config.main}"
        if column not in self.table.columns:
            raise ConfigError(
                f"cannot sort by {column!r}: columns are {', '.join(self.table.columns)}"
            )
        ranked = self.table.sort_values(
            column, ascending=ascending, kind="stable", na_position="last"
        ).reset_index(drop=True)
        return ranked.head(top) if top is not None else ranked

    def to_dict(self, ranked: pd.DataFrame | None = None) -> dict[str, Any]:
        """The scan as JSON-ready data: settings, benchmarks, the (ranked) rows, what was skipped."""
        rows = self.table if ranked is None else ranked
        results = records(rows, date_columns=("first", "as_of"))
        for row in results:
            if row["lead_lag"] is not None:
                row["lead_lag"] = int(row["lead_lag"])
        return {
            "windows": list(self.config.windows),
            "main_window": self.config.main,
            "benchmarks": [{"name": b.name, "source": b.source} for b in self.benchmarks],
            "engine": self.engine,
            "results": results,
            "skipped": records(self.skipped),
        }


def _blocks(sources: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(sources), size):
        yield list(sources[start : start + size])


def _finish(
    results: Sequence[BlockResult],
    config: ScanConfig,
    benchmarks: Sequence[Benchmark],
    engine: str,
    left_out: Sequence[tuple[str, str]] = (),
) -> ScanResult:
    columns = scan_columns(config.windows)
    tables = [r.table for r in results if len(r.table)]
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=columns)
    skipped = pd.DataFrame(
        [(name, "", reason) for name, reason in left_out] + [s for r in results for s in r.skipped],
        columns=["asset", "benchmark", "reason"],
    )
    warnings_text = [w for r in results for w in r.warnings]
    return ScanResult(table, skipped, warnings_text, config, list(benchmarks), engine)


def scan_frames(
    bars: dict[str, pd.DataFrame], benchmarks: Sequence[Benchmark], config: ScanConfig
) -> ScanResult:
    """Scan bars already in memory (one block per ``config.block_size`` assets)."""
    names = list(bars)
    results = [
        _scan_loaded(frames_block({n: bars[n] for n in chunk}), benchmarks, config, len(chunk))
        for chunk in _blocks(names, config.blocks_of(len(names)))
    ]
    return _finish(results, config, benchmarks, "local")


def run_scan(
    sources: Sequence[str],
    benchmarks: Sequence[Benchmark],
    config: ScanConfig,
    *,
    settings: Settings | None = None,
    engine: Engine = "local",
    scheduler: str | None = None,
    workers: int = 2,
    progress: Progress | None = None,
    left_out: Sequence[tuple[str, str]] = (),
) -> ScanResult:
    """Scan ``sources`` (paths or ``PROVIDER:SYMBOL``) against ``benchmarks``.

    Parameters
    ----------
    settings
        Where ``store:`` sources are read (the store, its aliases); defaults without a
        config file.
    engine
        ``"local"`` runs the blocks in this process; ``"dask"`` submits one task per block
        to ``scheduler`` (an address such as ``tcp://10.0.0.5:8786``) or, without one, to a
        ``LocalCluster`` of ``workers`` single-threaded worker processes started for the run.
    progress
        Called with ``("read", assets)`` and ``("block", 1)`` as blocks complete.
    left_out
        ``(name, reason)`` of inputs left out before the scan (listed with the skipped).
    """
    blocks = list(_blocks(list(sources), config.blocks_of(len(sources))))
    report = progress or (lambda _kind, _n: None)
    chosen = settings or Settings()
    if engine == "local":
        results: list[BlockResult] = []
        for chunk in blocks:
            loaded = load_block(
                chunk,
                chosen,
                price=config.price,
                skip_bad=config.skip_bad,
                on_read=lambda: report("read", 1),
            )
            results.append(_scan_loaded(loaded, benchmarks, config, len(chunk)))
            report("block", 1)
        return _finish(results, config, benchmarks, "local", left_out)
    if engine != "dask":
        raise ConfigError(f"engine must be local or dask, got {engine!r}")
    results = _run_dask(blocks, benchmarks, config, chosen, scheduler, workers, report)
    return _finish(results, config, benchmarks, "dask", left_out)


def _run_dask(
    blocks: Sequence[list[str]],
    benchmarks: Sequence[Benchmark],
    config: ScanConfig,
    chosen: Settings,
    scheduler: str | None,
    workers: int,
    report: Progress,
) -> list[BlockResult]:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise ConfigError(
            "--engine dask needs dask.distributed: pip install 'comove[scan]'"
        ) from None
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="10s")
        else:
            # Processes, one thread each: reading files is GIL-bound pandas work.
            cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # A failing task is reported once, as comove's one-line error, not as a
                # worker log with its traceback.
                silence_logs=logging.CRITICAL,
            )
            client = Client(cluster)
    except OSError as exc:
        where = scheduler or "a LocalCluster"
        raise ConfigError(f"cannot reach the Dask scheduler at {where}: {exc}") from None
    try:
        shared = client.scatter(list(benchmarks), broadcast=True)
        futures = {
            client.submit(scan_block, chunk, shared, config, chosen, pure=False): i
            for i, chunk in enumerate(blocks)
        }
        results: list[BlockResult | None] = [None] * len(blocks)
        for future in as_completed(futures):
            result = future.result()
            results[futures[future]] = result
            report("read", result.assets)
            report("block", 1)
        return [r for r in results if r is not None]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
