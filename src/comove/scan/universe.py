"""A universe of assets put on a benchmark's sessions, as one aligned panel.

Each asset is placed on the benchmark's trading sessions exactly as :func:`comove.align`
places a crypto series on an equity's (``daily`` mode): the asset's close of the same UTC
date on every session, nothing forward-filled, and a session where either has no close
dropped. For many assets at once that is a reindex of every close onto the benchmark's
session dates (one column per asset, NaN where the asset has no bar), then log returns
between consecutive rows. A column with no hole between its first and last close is then
exactly the ``align`` table of that asset; the engine compresses the few columns with holes
(a 24/7 series missing days, an equity on another calendar) to their own rows before
computing, so weekend and holiday moves fold into the next session as ``align`` does.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from comove.config import Settings
from comove.data.bars import PriceChoice
from comove.data.calendar import sessions
from comove.data.sources import parse_source
from comove.errors import ComoveError, ConfigError, DataError, DataWarning
from comove.pipeline import load_bars

FILE_SUFFIXES = (".csv", ".parquet", ".pq")


@dataclass(frozen=True)
class Benchmark:
    """A benchmark's closes on its own valid sessions (tz-naive dates, float64 closes)."""

    name: str
    source: str
    dates: pd.DatetimeIndex
    close: np.ndarray
    calendar: str = "XNYS"

    @property
    def log_returns(self) -> np.ndarray:
        out = np.full(len(self.close), np.nan)
        out[1:] = np.log(self.close[1:] / self.close[:-1])
        return out


def prepare_benchmark(
    bars: pd.DataFrame, calendar: str = "XNYS", *, name: str | None = None, source: str = ""
) -> Benchmark:
    """Keep the benchmark's rows that are sessions of ``calendar`` (as ``align`` does).

    Raises
    ------
    DataError
        The benchmark has fewer than two sessions, or is not daily.
    """
    label = name or str(bars.attrs.get("name") or source or "benchmark")
    origin = source or str(bars.attrs.get("source", label))
    if bars.attrs.get("interval", "1d") != "1d":
        raise DataError(f"benchmark {origin}: scan needs daily bars, got {bars.attrs['interval']}")
    closes = bars["close"].dropna()
    if len(closes) < 2:
        raise DataError(f"benchmark {origin}: fewer than two closes")
    dates = pd.DatetimeIndex(closes.index)
    valid = sessions(dates[0], dates[-1], calendar)
    off = dates.difference(valid)
    if len(off):
        shown = ", ".join(d.strftime("%Y-%m-%d") for d in off[:3])
        warnings.warn(
            f"benchmark {origin}: {len(off)} rows fall on days that are not {calendar} sessions "
            f"(first: {shown}); they are ignored",
            DataWarning,
            stacklevel=2,
        )
    keep = dates.isin(valid)
    return Benchmark(
        name=label,
        source=origin,
        dates=pd.DatetimeIndex(dates[keep], name="date"),
        close=closes.to_numpy(dtype="float64")[keep],
        calendar=calendar,
    )


def asset_name(source: str) -> str:
    """The name an asset is listed under: the file stem, or the symbol of ``PROVIDER:SYMBOL``."""
    return parse_source(source).name


@dataclass(frozen=True)
class Universe:
    """The sources to scan and what was left out of the folders given, with the reason."""

    sources: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)


def expand_sources(inputs: Sequence[str]) -> Universe:
    """Folders become their CSV/Parquet files (sorted, absolute paths, so Dask workers started
    elsewhere find them on a shared file system); anything else is a source as given.

    Subfolders and files of other kinds inside a folder are left out and listed in
    ``skipped`` with the reason (a scan reads one folder level).

    Raises
    ------
    ConfigError
        Nothing to scan, a folder without data files, or two assets with the same name.
    """
    found: list[str] = []
    skipped: list[tuple[str, str]] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir():
            files: list[Path] = []
            for entry in sorted(path.iterdir()):
                if entry.name.startswith("."):
                    continue
                if entry.is_dir():
                    skipped.append((entry.name + "/", "a subfolder: the scan reads one level"))
                elif entry.suffix.lower() in FILE_SUFFIXES:
                    files.append(entry)
                else:
                    skipped.append((entry.name, "not a .csv or .parquet file"))
            if not files:
                raise ConfigError(f"folder {item} has no .csv or .parquet files")
            found.extend(str(p.resolve()) for p in files)
        else:
            found.append(item)
    if not found:
        raise ConfigError("nothing to scan: give a folder of CSV/Parquet files or sources")
    seen: dict[str, str] = {}
    for source in found:
        name = asset_name(source)
        if name in seen:
            raise ConfigError(f"two assets are named {name!r}: {seen[name]} and {source}")
        seen[name] = source
    return Universe(found, skipped)


def without_benchmarks(universe: Universe, benchmarks: Sequence[Benchmark]) -> Universe:
    """The universe without the benchmarks themselves (a series against itself says nothing)."""
    names = {b.name for b in benchmarks}
    paths = {
        str(Path(parse_source(b.source).symbol).resolve())
        for b in benchmarks
        if b.source and parse_source(b.source).is_file
    }
    kept: list[str] = []
    skipped = list(universe.skipped)
    for source in universe.sources:
        spec = parse_source(source)
        same_file = spec.is_file and str(Path(spec.symbol).resolve()) in paths
        if same_file or asset_name(source) in names:
            skipped.append((asset_name(source), "it is a benchmark of this scan"))
        else:
            kept.append(source)
    return Universe(kept, skipped)


def aligned_closes(closes: Sequence[pd.Series], dates: pd.DatetimeIndex) -> np.ndarray:
    """Closes reindexed onto ``dates``: shape ``(len(dates), K)``, column-major, NaN if absent.

    The same-UTC-date rule of ``align``: a session takes the asset's bar of that date.
    """
    out = np.full((len(dates), len(closes)), np.nan, order="F")
    for k, close in enumerate(closes):
        where = dates.get_indexer(pd.DatetimeIndex(close.index))
        hit = where >= 0
        out[where[hit], k] = close.to_numpy(dtype="float64")[hit]
    return out


def log_return_panel(closes: np.ndarray) -> np.ndarray:
    """Log returns between consecutive rows of a close panel; NaN where either close is."""
    out = np.empty(closes.shape, order="F")
    out[0] = np.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        # log(a / b), as comove.log_returns, so the panel matches it bit for bit; computed
        # in place to spare two panel-sized temporaries.
        np.divide(closes[1:], closes[:-1], out=out[1:])
        np.log(out[1:], out=out[1:])
    return out


def return_panel(
    bars: Mapping[str, pd.DataFrame], benchmark: Benchmark
) -> tuple[pd.DataFrame, pd.Series]:
    """The aligned log-return panel (one column per asset) and the benchmark's returns.

    A convenience for notebooks and benchmarks; columns with holes are returned as they
    fall on the benchmark's rows (see the module docstring for how the scan treats them).
    """
    closes = aligned_closes([b["close"].dropna() for b in bars.values()], benchmark.dates)
    panel = pd.DataFrame(log_return_panel(closes), index=benchmark.dates, columns=list(bars))
    return panel, pd.Series(benchmark.log_returns, index=benchmark.dates, name=benchmark.name)


@dataclass
class LoadedBlock:
    """Assets of one block as read: names, kinds, closes; what was skipped and warned."""

    names: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    closes: list[pd.Series] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _check_daily(bars: pd.DataFrame, source: str) -> None:
    interval = bars.attrs.get("interval", "1d")
    if interval != "1d":
        raise DataError(f"{source}: scan needs daily bars, this file has {interval} bars")


def load_block(
    sources: Iterable[str],
    settings: Settings,
    *,
    price: PriceChoice = "auto",
    skip_bad: bool = False,
    on_read: Callable[[], None] | None = None,
) -> LoadedBlock:
    """Read each source with :func:`comove.pipeline.load_bars` (never refreshing) and keep
    its closes.

    Warnings raised while reading are collected as text (so a Dask worker can return them);
    with ``skip_bad`` an unreadable source is listed as skipped instead of stopping the scan.
    """
    block = LoadedBlock()
    for source in sources:
        name = asset_name(source)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                bars = load_bars(source, settings, price=price, refresh_live=False)
                _check_daily(bars, source)
            except ComoveError as exc:
                if not skip_bad:
                    raise
                block.skipped.append((name, f"unreadable: {exc}"))
                block.warnings.append(f"skipped {exc}")
                continue
            finally:
                block.warnings.extend(str(w.message) for w in caught)
                if on_read is not None:
                    on_read()
        block.names.append(name)
        block.kinds.append("crypto" if bars.attrs.get("is_24_7") else "equity")
        block.closes.append(bars["close"].dropna())
    return block


def frames_block(bars: Mapping[str, pd.DataFrame]) -> LoadedBlock:
    """A block from bars already in memory (the Python API and the benchmarks)."""
    block = LoadedBlock()
    for name, frame in bars.items():
        _check_daily(frame, name)
        block.names.append(name)
        block.kinds.append("crypto" if frame.attrs.get("is_24_7") else "equity")
        block.closes.append(frame["close"].dropna())
    return block


DEFAULT_BENCHMARK = "store:^RUT"


def load_benchmarks(
    sources: Sequence[str] | None, settings: Settings, calendar: str, price: PriceChoice
) -> list[Benchmark]:
    """Read and prepare each benchmark; the default ``store:^RUT`` gets a helpful error."""
    benchmarks: list[Benchmark] = []
    for source in sources or [DEFAULT_BENCHMARK]:
        try:
            bars = load_bars(source, settings, price=price, refresh_live=False)
        except ComoveError as exc:
            if sources:
                raise
            raise ConfigError(
                f"the default benchmark {DEFAULT_BENCHMARK} is not available ({exc}); "
                "pass --benchmark SOURCE (e.g. --benchmark csv:RUT.csv) or run "
                "`comove fetch yahoo:^RUT` first"
            ) from None
        benchmarks.append(prepare_benchmark(bars, calendar, name=asset_name(source), source=source))
    names = [b.name for b in benchmarks]
    if len(set(names)) != len(names):
        raise ConfigError(f"two benchmarks share a name: {', '.join(names)}")
    return benchmarks
