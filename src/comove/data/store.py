"""The local store: one embedded DuckDB file holding bars, macro series and fetch history.

Tables (schema version 3)::

    bars          (source, symbol, interval, ts) -> open, high, low, close, volume, fetched_at
    bar_meta      (source, symbol, interval) -> first_ts, last_ts, rows, weekend_rows, ...
    series        (series_id, date) -> value, units, source, fetched_at
    fetches       (source, symbol, interval) -> attempted_at, ok, message, last_ok_at
    alerts        (key, channel) -> sent_at, kind, subject, body, ok, error, attempts
    watch_runs    (started_at, finished_at, data_as_of, outcome, message, state)
    schema_version (version)

``bar_meta`` is a running summary kept in the same transaction as every bar write, so an
incremental refresh (one new bar) never scans a symbol's history: the write reads the
stored rows in the incoming time range through the primary key and updates the summary.

Every write is one transaction: a process killed in the middle leaves the old or the
complete new data. DuckDB lets one process at a time open the file for writing (and a
writer excludes readers in other processes); opening retries until ``lock_timeout`` and
then raises :class:`~comove.errors.StoreError` saying the store is busy.
"""

from __future__ import annotations

import difflib
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from comove._time import interval_step, now_utc, utc_naive, utc_naive_index
from comove.data.bars import OLDEST, trades_24_7
from comove.errors import ComoveError, DataError, StoreError

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger("comove.store")

SCHEMA_VERSION = 3
_REL_TOL = 1e-9
_PRECISION_TOL = 1e-6
# A DuckDB database file says so at bytes 8..12 of its header.
_DUCKDB_MAGIC = b"DUCK"
# No connection may install or load an extension (a crafted file would make DuckDB try).
_CONNECTION_CONFIG = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
_PRICES = ("open", "high", "low", "close")
_BAR_COLUMNS = ("open", "high", "low", "close", "volume")
_MAX_GAPS = 20


def _migration_1(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        """
        CREATE TABLE bars (
            source VARCHAR NOT NULL, symbol VARCHAR NOT NULL, interval VARCHAR NOT NULL,
            ts TIMESTAMP NOT NULL,
            open DOUBLE, high DOUBLE, low DOUBLE, close DOUBLE NOT NULL, volume DOUBLE,
            fetched_at TIMESTAMP NOT NULL,
            PRIMARY KEY (source, symbol, interval, ts)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE series (
            series_id VARCHAR NOT NULL, date DATE NOT NULL, value DOUBLE NOT NULL,
            units VARCHAR NOT NULL, source VARCHAR NOT NULL, fetched_at TIMESTAMP NOT NULL,
            PRIMARY KEY (series_id, date)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE fetches (
            source VARCHAR NOT NULL, symbol VARCHAR NOT NULL, interval VARCHAR NOT NULL,
            attempted_at TIMESTAMP NOT NULL, ok BOOLEAN NOT NULL, message VARCHAR NOT NULL,
            last_ok_at TIMESTAMP,
            PRIMARY KEY (source, symbol, interval)
        )
        """
    )


def _migration_2(con: duckdb.DuckDBPyConnection) -> None:
    """A per-symbol summary so refreshes and ``info`` never scan the bars table."""
    con.execute(
        """
        CREATE TABLE bar_meta (
            source VARCHAR NOT NULL, symbol VARCHAR NOT NULL, interval VARCHAR NOT NULL,
            first_ts TIMESTAMP NOT NULL, last_ts TIMESTAMP NOT NULL,
            rows BIGINT NOT NULL, weekend_rows BIGINT NOT NULL,
            price_column VARCHAR, updated_at TIMESTAMP NOT NULL,
            PRIMARY KEY (source, symbol, interval)
        )
        """
    )
    con.execute(
        """
        INSERT INTO bar_meta
        SELECT source, symbol, interval, min(ts), max(ts), count(*),
               count(*) FILTER (WHERE isodow(ts) >= 6), NULL, max(fetched_at)
        FROM bars GROUP BY source, symbol, interval
        """
    )


def _migration_3(con: duckdb.DuckDBPyConnection) -> None:
    """What ``comove watch`` remembers: alerts delivered (per channel) and each run."""
    con.execute(
        """
        CREATE TABLE alerts (
            key VARCHAR NOT NULL, channel VARCHAR NOT NULL, sent_at TIMESTAMP NOT NULL,
            kind VARCHAR NOT NULL, subject VARCHAR NOT NULL, body VARCHAR NOT NULL,
            ok BOOLEAN NOT NULL, error VARCHAR, attempts INTEGER NOT NULL,
            PRIMARY KEY (key, channel)
        )
        """
    )
    con.execute(
        """
        CREATE TABLE watch_runs (
            started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP NOT NULL,
            data_as_of TIMESTAMP, outcome VARCHAR NOT NULL, message VARCHAR NOT NULL,
            state VARCHAR
        )
        """
    )


#: Applied in order, each inside one transaction with the version bump.
MIGRATIONS: list[Callable[[duckdb.DuckDBPyConnection], None]] = [
    _migration_1,
    _migration_2,
    _migration_3,
]


@dataclass(frozen=True)
class WriteReport:
    """What one write did.

    ``revisions`` lists ``(bar time, old close, new close)`` for bars that were already
    finished when stored and whose close changed (the new value was taken); ``kept`` the
    same for bars whose stored values were kept (``revisions="keep"``); ``gaps`` the first
    missing daily bars of a 24/7 series inside its stored span after the write (at most
    20).
    """

    inserted: int
    updated: int
    unchanged: int
    revisions: list[tuple[pd.Timestamp, float, float]] = field(default_factory=list)
    gaps: list[pd.Timestamp] = field(default_factory=list)
    kept: list[tuple[pd.Timestamp, float, float]] = field(default_factory=list)


def _py(ts: pd.Timestamp) -> Any:
    return ts.to_pydatetime()


def _decimals(value: float) -> int | None:
    """Decimal places of a value's shortest repr (``307.90799`` -> 5; ``None`` for 1e-05)."""
    text = repr(float(value))
    if "e" in text or "n" in text:
        return None
    return len(text.partition(".")[2])


def _differs(old: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Element-wise: values that really differ, or one is missing and the other not.

    Not a difference: within a relative 1e-9 (floating-point noise), nor a value within
    half a unit of its own last decimal place of the stored one, within a relative 1e-6
    (a file that writes 307.90799 for a stored 307.9079895 agrees at its own precision).
    """
    both = ~np.isnan(old) & ~np.isnan(new)
    scale = np.where(
        np.maximum(np.abs(old), np.abs(new)) > 0, np.maximum(np.abs(old), np.abs(new)), 1.0
    )
    with np.errstate(invalid="ignore"):
        gap = np.abs(old - new)
        far = gap > _REL_TOL * scale
        for i in np.flatnonzero(far & both & (gap <= _PRECISION_TOL * scale)):
            places = _decimals(new[i])
            if places is not None and gap[i] <= 0.5 * 10.0**-places + _REL_TOL * scale[i]:
                far[i] = False
    return np.where(both, far, np.isnan(old) != np.isnan(new))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


#: What the operating system said, somewhere in a failure's chain, and what it means here.
_OS_REASONS = (
    ("No space left on device", "the disk is full"),
    ("File too large", "the file cannot grow (a file size limit, or the disk is full)"),
    ("Read-only file system", "the folder is on a read-only file system"),
    ("Permission denied", "no permission to write there (a read-only folder or file?)"),
)


def _reason(exc: BaseException) -> str:
    """The cause worth telling: DuckDB reports a full disk as an aborted transaction, with
    the real error further down the exception's chain."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    text = " ".join(str(item) for item in chain)
    for found, meaning in _OS_REASONS:
        if found in text:
            return meaning
    return _first_line(chain[-1])


class Store:
    """The local DuckDB store.

    Parameters
    ----------
    path
        The store file; ``None`` uses :func:`comove.config.default_store_path`.
    read_only
        Open for reading only. A missing file then reads as an empty store (nothing is
        created); a writable open creates the folders and the schema.
    lock_timeout
        Seconds to keep retrying while another process holds the file, before raising
        :class:`StoreError` ("store ... is busy").
    """

    def __init__(
        self,
        path: str | Path | None = None,
        *,
        read_only: bool = False,
        lock_timeout: float = 30.0,
    ) -> None:
        if path is None:
            from comove.config import default_store_path

            path = default_store_path()
        self.path = Path(path).expanduser()
        self.read_only = read_only
        self.lock_timeout = lock_timeout
        self._con: duckdb.DuckDBPyConnection | None = None
        if read_only and not self.path.exists():
            import duckdb

            # Nothing stored yet: an empty in-memory schema answers every query.
            self._con = duckdb.connect(":memory:", config=dict(_CONNECTION_CONFIG))
            self._migrate(self._con, 0)
            return
        if not read_only:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"store {self.path}: cannot create its folder: {_first_line(exc)}"
                ) from None
        self._con = self._open(read_only)
        try:
            version = self._version(self._con)
            if version < SCHEMA_VERSION:
                if read_only:
                    # Upgrade through a short write connection, then read as asked.
                    self._con.close()
                    writer = self._open(False)
                    try:
                        self._migrate(writer, self._version(writer))
                    finally:
                        writer.close()
                    self._con = self._open(True)
                else:
                    self._migrate(self._con, version)
        except BaseException:
            self.close()
            raise

    # -- connection -------------------------------------------------------------------

    def _check_file(self) -> None:
        """Refuse, before DuckDB reads a byte of it, a file that is not a DuckDB database."""
        try:
            with self.path.open("rb") as handle:
                head = handle.read(16)
        except FileNotFoundError:
            return  # a new store
        except IsADirectoryError:
            raise StoreError(f"store {self.path} is a folder; give a file name") from None
        except PermissionError:
            raise StoreError(f"store {self.path}: cannot be read: permission denied") from None
        if head[8:12] != _DUCKDB_MAGIC:
            kind = (
                "a SQLite database"
                if head.startswith(b"SQLite format 3")
                else "an empty file"
                if not head
                else "not a DuckDB database"
            )
            raise StoreError(f"store {self.path} is not a comove store: it is {kind}")

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        import duckdb

        self._check_file()
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.02
        while True:
            try:
                return duckdb.connect(
                    str(self.path), read_only=read_only, config=dict(_CONNECTION_CONFIG)
                )
            except duckdb.ConnectionException as exc:
                # This process already has the file open with the other mode: share it.
                if read_only and "different configuration" in str(exc):
                    read_only = False
                    continue
                raise StoreError(f"store {self.path}: cannot open: {_first_line(exc)}") from None
            except duckdb.IOException as exc:
                text = str(exc)
                if any(found in text for found, _ in _OS_REASONS):
                    raise StoreError(f"store {self.path}: cannot open: {_reason(exc)}") from None
                if "lock" not in text.lower():
                    raise StoreError(
                        f"store {self.path} is not a comove store or is corrupt: {_first_line(exc)}"
                    ) from None
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"store {self.path} is busy: another comove process is writing it "
                        f"(waited {self.lock_timeout:g} s)"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 1.5, 0.25)
            except duckdb.Error as exc:
                raise StoreError(
                    f"store {self.path} is not a comove store or is corrupt: {_first_line(exc)}"
                ) from None

    def _version(self, con: duckdb.DuckDBPyConnection) -> int:
        import duckdb

        try:
            tables = {
                row[0]
                for row in con.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
                ).fetchall()
            }
            if "schema_version" not in tables:
                if tables:
                    raise StoreError(
                        f"store {self.path} is not a comove store or is corrupt: it has tables "
                        f"({', '.join(sorted(tables)[:5])}) but no schema_version"
                    )
                return 0
            row = con.execute("SELECT max(version) FROM schema_version").fetchone()
        except duckdb.Error as exc:
            raise StoreError(
                f"store {self.path} is not a comove store or is corrupt: {_first_line(exc)}"
            ) from None
        version = int(row[0]) if row and row[0] is not None else 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path} has schema version {version}, newer than this comove "
                f"understands ({SCHEMA_VERSION}): upgrade comove"
            )
        return version

    def _migrate(self, con: duckdb.DuckDBPyConnection, version: int) -> None:
        import duckdb

        for number, migration in enumerate(MIGRATIONS, start=1):
            if number <= version:
                continue
            try:
                con.execute("BEGIN TRANSACTION")
                if number == 1:
                    con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
                migration(con)
                con.execute("DELETE FROM schema_version")
                con.execute("INSERT INTO schema_version VALUES (?)", [number])
                con.execute("COMMIT")
            except duckdb.Error as exc:
                con.execute("ROLLBACK")
                raise StoreError(
                    f"store {self.path}: migration to schema version {number} failed: "
                    f"{_first_line(exc)}"
                ) from None
            log.info("store %s: migrated to schema version %d", self.path, number)

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise StoreError(f"store {self.path} is closed")
        return self._con

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_writable(self) -> None:
        if self.read_only:
            raise StoreError(f"store {self.path} was opened read-only")

    @contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        import duckdb

        self._require_writable()
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
            con.execute("COMMIT")
        except BaseException as exc:
            with suppress(duckdb.Error):
                con.execute("ROLLBACK")
            if isinstance(exc, ComoveError) or not isinstance(exc, Exception):
                raise
            raise StoreError(
                f"store {self.path}: write failed, nothing was written: {_reason(exc)}"
            ) from exc

    def _query(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        import duckdb

        try:
            return self.con.execute(sql, params or []).df()
        except duckdb.Error as exc:
            raise StoreError(f"store {self.path}: read failed: {_first_line(exc)}") from None

    def _after_insert(self) -> None:
        """Hook between the insert and the summary update (tests inject failures here)."""

    # -- bars -------------------------------------------------------------------------

    def _validate_bars(
        self, source: str, symbol: str, interval: str, bars: pd.DataFrame, now: pd.Timestamp
    ) -> pd.DataFrame:
        where = f"{source} {symbol} ({interval})"
        step = interval_step(interval)
        if not isinstance(bars.index, pd.DatetimeIndex):
            raise DataError(f"{where}: bars need a DatetimeIndex of bar times")
        if "close" not in bars.columns:
            raise DataError(f"{where}: bars have no 'close' column")
        index = bars.index
        index = pd.DatetimeIndex(utc_naive_index(index), name="date").as_unit("ns")
        if index.hasnans:
            raise DataError(f"{where}: a bar has no timestamp (column 'date')")
        clean = pd.DataFrame(
            {
                c: (
                    pd.to_numeric(bars[c], errors="coerce").to_numpy(dtype="float64")
                    if c in bars.columns
                    else np.full(len(bars), np.nan)
                )
                for c in _BAR_COLUMNS
            },
            index=index,
        )
        if len(clean) == 0:
            return clean
        dup = index.duplicated()
        if dup.any():
            raise DataError(f"{where}: bar {index[dup][0]}: column 'date' is duplicated")
        backwards = np.flatnonzero(np.diff(index.asi8) < 0)
        if len(backwards):
            pos = int(backwards[0]) + 1
            raise DataError(
                f"{where}: bar {index[pos]}: column 'date' is out of order "
                f"(comes after {index[pos - 1]})"
            )
        if index[-1] > now + step:
            raise DataError(
                f"{where}: bar {index[-1]}: column 'date' is in the future (now is {now:%Y-%m-%d %H:%M} UTC)"
            )
        if index[0] < OLDEST:
            raise DataError(f"{where}: bar {index[0]}: column 'date' is before {OLDEST:%Y-%m-%d}")
        for column in _BAR_COLUMNS:
            infinite = np.flatnonzero(np.isinf(clean[column].to_numpy()))
            if len(infinite):
                pos = int(infinite[0])
                raise DataError(f"{where}: bar {index[pos]}: column '{column}' is not finite")
        missing = np.isnan(clean["close"].to_numpy())
        if missing.any():
            raise DataError(f"{where}: bar {index[missing][0]}: column 'close' is missing")
        for column in _PRICES:
            values = clean[column].to_numpy()
            bad = values <= 0
            if bad.any():
                pos = int(np.flatnonzero(bad)[0])
                raise DataError(
                    f"{where}: bar {index[pos]}: column '{column}' must be positive, got {values[pos]:g}"
                )
        inverted = clean["high"].to_numpy() < clean["low"].to_numpy()
        if inverted.any():
            pos = int(np.flatnonzero(inverted)[0])
            raise DataError(
                f"{where}: bar {index[pos]}: column 'high' ({clean['high'].iloc[pos]:g}) "
                f"is below column 'low' ({clean['low'].iloc[pos]:g})"
            )
        negative = clean["volume"].to_numpy() < 0
        if negative.any():
            pos = int(np.flatnonzero(negative)[0])
            raise DataError(f"{where}: bar {index[pos]}: column 'volume' is negative")
        return clean

    def write_bars(
        self,
        source: str,
        symbol: str,
        interval: str,
        bars: pd.DataFrame,
        *,
        fetched_at: pd.Timestamp | None = None,
        revisions: Literal["take", "keep"] = "take",
    ) -> WriteReport:
        """Validate and upsert bars in one transaction; report what changed.

        Rows equal to the stored ones (see :func:`_differs`: noise and a file's own
        precision are not differences) are left untouched. A bar that was already finished
        when stored and now differs is a *revision*: with ``revisions="take"`` (providers:
        they revise) the new values replace the stored ones and the changed closes are
        logged and reported; with ``"keep"`` (imports: an older file must not overwrite
        newer data silently) the stored bar stays and the disagreement is reported in
        ``kept``.

        Raises
        ------
        DataError
            Duplicate, out-of-order or future bar times, a non-positive price, high below
            low, a missing close; the message names source, symbol, the bar and the column.
            Nothing is written.
        StoreError
            The write failed; the store keeps its previous data.
        """
        self._require_writable()
        now = now_utc()
        fetched = now if fetched_at is None else utc_naive(fetched_at)
        clean = self._validate_bars(source, symbol, interval, bars, now)
        if clean.empty:
            return WriteReport(0, 0, 0)
        step = interval_step(interval)
        key = [source, symbol, interval]
        lo, hi = clean.index[0], clean.index[-1]
        price_column = bars.attrs.get("price_column") if hasattr(bars, "attrs") else None
        with self._transaction() as con:
            old = con.execute(
                "SELECT ts, open, high, low, close, volume, fetched_at FROM bars "
                "WHERE source = ? AND symbol = ? AND interval = ? AND ts >= ? AND ts <= ? "
                "ORDER BY ts",
                [*key, _py(lo), _py(hi)],
            ).df()
            old_ts = pd.DatetimeIndex(old["ts"]).as_unit("ns")
            present = clean.index.isin(old_ts)
            changed = np.zeros(len(clean), dtype=bool)
            taken: list[tuple[pd.Timestamp, float, float]] = []
            kept: list[tuple[pd.Timestamp, float, float]] = []
            if len(old):
                stored = old.set_index(old_ts).reindex(clean.index[present])
                diff = np.zeros(int(present.sum()), dtype=bool)
                for column in _BAR_COLUMNS:
                    diff |= _differs(
                        stored[column].to_numpy(dtype="float64"),
                        clean.loc[present, column].to_numpy(),
                    )
                finished = np.asarray(
                    pd.DatetimeIndex(stored["fetched_at"]).as_unit("ns")
                    >= pd.DatetimeIndex(stored.index) + step
                )
                conflict = diff & finished
                if revisions == "keep":
                    diff &= ~conflict
                changed[np.flatnonzero(present)[diff]] = True
                close_old = stored["close"].to_numpy(dtype="float64")
                close_new = clean.loc[present, "close"].to_numpy()
                # What is reported is a changed close; other columns change quietly.
                moved = conflict & _differs(close_old, close_new)
                for ts, a, b in zip(
                    stored.index[moved], close_old[moved], close_new[moved], strict=True
                ):
                    (kept if revisions == "keep" else taken).append(
                        (pd.Timestamp(ts), float(a), float(b))
                    )
            new_rows = ~present
            write = clean[new_rows | changed]
            inserted, updated = int(new_rows.sum()), int(changed.sum())
            if len(write):
                frame = pd.DataFrame(
                    {
                        "source": source,
                        "symbol": symbol,
                        "interval": interval,
                        "ts": write.index,
                        **{c: write[c].to_numpy() for c in _BAR_COLUMNS},
                        "fetched_at": fetched,
                        "is_new": new_rows[new_rows | changed],
                    }
                )
                columns = "source, symbol, interval, ts, open, high, low, close, volume, fetched_at"
                con.register("_comove_incoming", frame)
                try:
                    # New keys take the plain insert path; only changed rows need the upsert.
                    if inserted:
                        con.execute(
                            f"INSERT INTO bars SELECT {columns} FROM _comove_incoming WHERE is_new"
                        )
                    if updated:
                        con.execute(
                            f"INSERT OR REPLACE INTO bars SELECT {columns} "
                            "FROM _comove_incoming WHERE NOT is_new"
                        )
                finally:
                    con.unregister("_comove_incoming")
            self._after_insert()
            added = pd.DatetimeIndex(clean.index[new_rows])
            meta = self._update_meta(con, key, added, price_column, fetched)
            gaps = self._gaps(con, key, interval, meta) if meta is not None else []
        if taken:
            shown = "; ".join(f"{ts}: {a:.10g} -> {b:.10g}" for ts, a, b in taken[:5])
            more = f" (and {len(taken) - 5} more)" if len(taken) > 5 else ""
            log.warning(
                "%s %s (%s): %d finished bar(s) revised, new values taken: %s%s",
                source, symbol, interval, len(taken), shown, more,
            )  # fmt: skip
        return WriteReport(
            inserted=inserted,
            updated=updated,
            unchanged=len(clean) - inserted - updated,
            revisions=taken,
            gaps=gaps,
            kept=kept,
        )

    def _update_meta(
        self,
        con: duckdb.DuckDBPyConnection,
        key: list[str],
        added: pd.DatetimeIndex,
        price_column: str | None,
        fetched: pd.Timestamp,
    ) -> dict[str, Any] | None:
        row = con.execute(
            "SELECT first_ts, last_ts, rows, weekend_rows, price_column FROM bar_meta "
            "WHERE source = ? AND symbol = ? AND interval = ?",
            key,
        ).fetchone()
        if row is None and len(added) == 0:
            return None
        weekend = int((added.day_of_week >= 5).sum())
        if row is None:
            first, last, rows, weekend_rows, column = added[0], added[-1], 0, 0, price_column
        else:
            first, last = pd.Timestamp(row[0]), pd.Timestamp(row[1])
            rows, weekend_rows, column = int(row[2]), int(row[3]), price_column or row[4]
            if len(added):
                first, last = min(first, added[0]), max(last, added[-1])
        meta: dict[str, Any] = {
            "first": pd.Timestamp(first),
            "last": pd.Timestamp(last),
            "rows": rows + len(added),
            "weekend_rows": weekend_rows + weekend,
        }
        con.execute(
            "INSERT OR REPLACE INTO bar_meta VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                *key,
                _py(meta["first"]),
                _py(meta["last"]),
                meta["rows"],
                meta["weekend_rows"],
                column,
                _py(fetched),
            ],
        )
        return meta

    def _gaps(
        self, con: duckdb.DuckDBPyConnection, key: list[str], interval: str, meta: dict[str, Any]
    ) -> list[pd.Timestamp]:
        if interval_step(interval) != pd.Timedelta(days=1) or not trades_24_7(
            int(meta["weekend_rows"]), int(meta["rows"])
        ):
            return []
        expected = (meta["last"] - meta["first"]).days + 1
        if meta["rows"] >= expected:
            return []  # complete: no need to look at the history
        stored = pd.DatetimeIndex(
            con.execute(
                "SELECT ts FROM bars WHERE source = ? AND symbol = ? AND interval = ? ORDER BY ts",
                key,
            )
            .df()["ts"]
            .dt.normalize()
        )
        full = pd.date_range(meta["first"], meta["last"], freq="D")
        return [pd.Timestamp(t) for t in full.difference(stored)[:_MAX_GAPS]]

    def _meta(self, symbol: str, interval: str) -> pd.DataFrame:
        return self._query(
            "SELECT source, first_ts, last_ts, rows, weekend_rows, price_column FROM bar_meta "
            "WHERE symbol = ? AND interval = ? ORDER BY last_ts DESC, source",
            [symbol, interval],
        )

    def read_bars(
        self,
        symbol: str,
        *,
        source: str | None = None,
        interval: str = "1d",
        start: Any = None,
        end: Any = None,
    ) -> pd.DataFrame:
        """Stored bars of ``symbol`` as a bars frame (see :mod:`comove.data.bars`).

        With no ``source``, of the sources holding ``symbol`` at ``interval`` the one whose
        data ends latest is used (ties: alphabetical). ``start``/``end`` (inclusive) filter
        bar times. ``attrs``: ``name`` (the symbol), ``source`` (``"store:SYMBOL"``),
        ``origin`` (the provider source), ``price_column``, ``interval``, ``is_24_7``,
        ``dropped_incomplete`` (``None``) and ``last_fetch`` (see :meth:`last_fetch`).

        Raises
        ------
        DataError
            Nothing stored for that symbol (and source, interval); the message lists the
            stored symbols, closest matches first.
        """
        meta = self._meta(symbol, interval)
        if source is not None:
            meta = meta[meta["source"] == source]
        if meta.empty:
            raise DataError(self._unknown(symbol, source, interval))
        chosen = meta.iloc[0]
        origin = str(chosen["source"])
        sql = (
            "SELECT ts, open, high, low, close, volume FROM bars "
            "WHERE source = ? AND symbol = ? AND interval = ?"
        )
        params: list[Any] = [origin, symbol, interval]
        if start is not None:
            sql += " AND ts >= ?"
            params.append(_py(utc_naive(start)))
        if end is not None:
            sql += " AND ts <= ?"
            params.append(_py(utc_naive(end)))
        rows = self._query(sql + " ORDER BY ts", params)
        index = pd.DatetimeIndex(rows["ts"], name="date").as_unit("ns")
        bars = pd.DataFrame(
            {c: rows[c].to_numpy(dtype="float64") for c in _BAR_COLUMNS}, index=index
        )
        bars.attrs = {
            "name": symbol,
            "source": f"store:{symbol}",
            "origin": origin,
            "price_column": chosen["price_column"]
            if isinstance(chosen["price_column"], str)
            else "close",
            "interval": interval,
            "is_24_7": trades_24_7(int(chosen["weekend_rows"]), int(chosen["rows"])),
            "dropped_incomplete": None,
            "last_fetch": self.last_fetch(origin, symbol, interval),
        }
        return bars

    def _unknown(self, symbol: str, source: str | None, interval: str) -> str:
        stored = self.symbols()
        names = sorted({s for _, s, _ in stored})
        series = sorted(self._query("SELECT DISTINCT series_id FROM series")["series_id"])
        what = f"no {interval} bars for {symbol!r}" + (f" from {source}" if source else "")
        here = [f"{src}/{iv}" for src, s, iv in stored if s == symbol]
        if here:
            return f"store {self.path}: {what}; it holds {symbol!r} as {', '.join(here)}"
        if not names:
            return f"store {self.path}: {what}; the store holds no bars yet (run comove fetch or comove import)"
        close = difflib.get_close_matches(symbol, names, n=len(names), cutoff=0.3)
        close += [
            n for n in names if n not in close and symbol.lower() in n.lower()
        ]  # substrings too
        ordered = close + [n for n in names if n not in close]
        shown = ", ".join(ordered[:12]) + (", ..." if len(ordered) > 12 else "")
        extra = f" (series: {', '.join(series[:5])})" if series and symbol in series else ""
        return f"store {self.path}: {what}; stored symbols: {shown}{extra}"

    def last_bar_time(self, source: str, symbol: str, interval: str = "1d") -> pd.Timestamp | None:
        """Time of the last stored bar (its open time), or ``None`` when nothing is stored."""
        rows = self._query(
            "SELECT last_ts FROM bar_meta WHERE source = ? AND symbol = ? AND interval = ?",
            [source, symbol, interval],
        )
        return None if rows.empty else pd.Timestamp(rows["last_ts"].iloc[0]).as_unit("ns")

    def bar_summary(self, interval: str | None = "1d") -> pd.DataFrame:
        """One row per stored ``(source, symbol, interval)`` of bars, latest-ending first.

        Columns ``source, symbol, interval, first, last, rows, weekend_rows, is_24_7``;
        read from the running summary, so it never scans the bars.
        """
        sql = (
            "SELECT source, symbol, interval, first_ts AS first, last_ts AS last, rows, "
            "weekend_rows FROM bar_meta"
        )
        params: list[Any] = []
        if interval is not None:
            sql += " WHERE interval = ?"
            params.append(interval)
        frame = self._query(sql + " ORDER BY last_ts DESC, source, symbol", params)
        for column in ("first", "last"):
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
        frame["rows"] = frame["rows"].astype("int64")
        frame["weekend_rows"] = frame["weekend_rows"].astype("int64")
        frame["is_24_7"] = [
            trades_24_7(int(w), int(n))
            for w, n in zip(frame["weekend_rows"], frame["rows"], strict=True)
        ]
        return frame.reset_index(drop=True)

    def series_ids(self) -> list[str]:
        """Every stored macro series id, sorted."""
        return sorted(self._query("SELECT DISTINCT series_id FROM series")["series_id"])

    def symbols(self) -> list[tuple[str, str, str]]:
        """Every stored ``(source, symbol, interval)`` of bars, sorted."""
        rows = self._query(
            "SELECT source, symbol, interval FROM bar_meta ORDER BY symbol, source, interval"
        )
        return [(str(a), str(b), str(c)) for a, b, c in rows.itertuples(index=False)]

    # -- macro series -----------------------------------------------------------------

    def write_series(
        self,
        series_id: str,
        values: pd.Series,
        *,
        units: str,
        source: str = "fred",
        fetched_at: pd.Timestamp | None = None,
        revisions: Literal["take", "keep"] = "take",
    ) -> WriteReport:
        """Upsert a macro series (one value per date) with its units, in one transaction.

        Missing values (FRED's ``.``) are skipped. A changed value is a revision: taken and
        reported (macro data are revised routinely, so it is logged at INFO), or with
        ``revisions="keep"`` left as stored and reported in ``kept``.
        """
        self._require_writable()
        now = now_utc()
        fetched = now if fetched_at is None else utc_naive(fetched_at)
        where = f"{source} {series_id}"
        try:
            index = pd.DatetimeIndex(values.index)
        except (TypeError, ValueError):
            raise DataError(f"{where}: series needs dates as its index") from None
        index = utc_naive_index(index)
        numbers = pd.to_numeric(pd.Series(values.to_numpy(), index=index), errors="coerce")
        keep = numbers.notna().to_numpy() & ~np.asarray(index.isna(), dtype=bool)
        numbers = numbers[keep].astype("float64")
        dates = pd.DatetimeIndex(numbers.index).normalize()
        if dates.duplicated().any():
            raise DataError(f"{where}: date {dates[dates.duplicated()][0].date()} is duplicated")
        if len(dates) and dates.max() > now + pd.Timedelta(days=1):
            raise DataError(f"{where}: date {dates.max().date()} is in the future")
        if not np.isfinite(numbers.to_numpy()).all():
            raise DataError(f"{where}: a value is infinite")
        numbers.index = dates
        numbers = numbers.sort_index()
        if numbers.empty:
            return WriteReport(0, 0, 0)
        with self._transaction() as con:
            old = con.execute(
                "SELECT date, value, units FROM series WHERE series_id = ? AND date >= ? AND date <= ?",
                [series_id, numbers.index[0].date(), numbers.index[-1].date()],
            ).df()
            old_dates = pd.DatetimeIndex(pd.to_datetime(old["date"])).as_unit("ns")
            stored = pd.Series(old["value"].to_numpy(dtype="float64"), index=old_dates)
            present = numbers.index.isin(old_dates)
            prior = stored.reindex(numbers.index[present]).to_numpy()
            now_vals = numbers[present].to_numpy()
            revised = _differs(prior, now_vals)
            units_changed = (
                bool((old["units"] != units).any()) if len(old) else False
            )  # relabel all on a units change
            changed = np.zeros(len(numbers), dtype=bool)
            if revisions == "take":
                changed[np.flatnonzero(present)[revised]] = True
            if units_changed:
                changed |= present
            write = numbers[~present | changed]
            if len(write):
                frame = pd.DataFrame(
                    {
                        "series_id": series_id,
                        "date": write.index,
                        "value": write.to_numpy(),
                        "units": units,
                        "source": source,
                        "fetched_at": fetched,
                    }
                )
                con.register("_comove_series", frame)
                try:
                    con.execute(
                        "INSERT OR REPLACE INTO series "
                        "SELECT series_id, CAST(date AS DATE), value, units, source, fetched_at "
                        "FROM _comove_series"
                    )
                finally:
                    con.unregister("_comove_series")
            self._after_insert()
        differing = [
            (pd.Timestamp(t), float(a), float(b))
            for t, a, b in zip(
                numbers.index[present][revised], prior[revised], now_vals[revised], strict=True
            )
        ]
        taken = differing if revisions == "take" else []
        if taken:
            log.info("%s: %d values revised", where, len(taken))
        inserted, updated = int((~present).sum()), int(changed.sum())
        return WriteReport(
            inserted,
            updated,
            len(numbers) - inserted - updated,
            taken,
            [],
            kept=differing if revisions == "keep" else [],
        )

    def read_series(self, series_id: str, *, start: Any = None, end: Any = None) -> pd.Series:
        """A stored macro series (index ``date``); ``attrs``: ``units``, ``source``, ``series_id``."""
        sql = "SELECT date, value, units, source FROM series WHERE series_id = ?"
        params: list[Any] = [series_id]
        if start is not None:
            sql += " AND date >= ?"
            params.append(utc_naive(start).date())
        if end is not None:
            sql += " AND date <= ?"
            params.append(utc_naive(end).date())
        rows = self._query(sql + " ORDER BY date", params)
        if rows.empty:
            known = self._query("SELECT 1 FROM series WHERE series_id = ? LIMIT 1", [series_id])
            if known.empty:
                ids = sorted(self._query("SELECT DISTINCT series_id FROM series")["series_id"])
                close = difflib.get_close_matches(series_id, ids, n=max(len(ids), 1), cutoff=0.3)
                ordered = close + [i for i in ids if i not in close]
                listed = ", ".join(ordered[:12]) if ordered else "none"
                raise DataError(
                    f"store {self.path}: no series {series_id!r}; stored series: {listed}"
                )
        index = pd.DatetimeIndex(pd.to_datetime(rows["date"]), name="date").as_unit("ns")
        out = pd.Series(rows["value"].to_numpy(dtype="float64"), index=index, name=series_id)
        meta = self._query(
            "SELECT units, source FROM series WHERE series_id = ? ORDER BY date DESC LIMIT 1",
            [series_id],
        )
        out.attrs = {
            "series_id": series_id,
            "units": str(meta["units"].iloc[0]),
            "source": str(meta["source"].iloc[0]),
        }
        return out

    # -- fetch history ----------------------------------------------------------------

    def record_fetch(
        self,
        source: str,
        symbol: str,
        interval: str,
        *,
        ok: bool,
        message: str = "",
        at: pd.Timestamp | None = None,
    ) -> None:
        """Remember the outcome of a fetch (the last one per source/symbol/interval)."""
        when = now_utc() if at is None else utc_naive(at)
        with self._transaction() as con:
            con.execute(
                """
                INSERT INTO fetches VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (source, symbol, interval) DO UPDATE SET
                    attempted_at = excluded.attempted_at, ok = excluded.ok, message = excluded.message,
                    last_ok_at = CASE WHEN excluded.ok THEN excluded.attempted_at ELSE fetches.last_ok_at END
                """,
                [source, symbol, interval, _py(when), ok, message, _py(when) if ok else None],
            )

    def last_fetch(self, source: str, symbol: str, interval: str = "1d") -> dict[str, Any] | None:
        """``{"at", "ok", "message", "last_ok_at"}`` of the last fetch, or ``None``."""
        rows = self._query(
            "SELECT attempted_at, ok, message, last_ok_at FROM fetches "
            "WHERE source = ? AND symbol = ? AND interval = ?",
            [source, symbol, interval],
        )
        if rows.empty:
            return None
        row = rows.iloc[0]
        last_ok = row["last_ok_at"]
        return {
            "at": pd.Timestamp(row["attempted_at"]),
            "ok": bool(row["ok"]),
            "message": str(row["message"]),
            "last_ok_at": None if pd.isna(last_ok) else pd.Timestamp(last_ok),
        }

    # -- alerts and watch runs --------------------------------------------------------

    def record_alert(
        self,
        key: str,
        channel: str,
        *,
        kind: str,
        subject: str,
        body: str,
        ok: bool,
        error: str | None = None,
        attempts: int = 1,
        at: pd.Timestamp | None = None,
    ) -> None:
        """Remember one delivery attempt of an alert to a channel (the latest per pair)."""
        when = now_utc() if at is None else utc_naive(at)
        with self._transaction() as con:
            con.execute(
                """
                INSERT INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (key, channel) DO UPDATE SET
                    sent_at = excluded.sent_at, kind = excluded.kind,
                    subject = excluded.subject, body = excluded.body, ok = excluded.ok,
                    error = excluded.error, attempts = excluded.attempts
                """,
                [key, channel, _py(when), kind, subject, body, ok, error, attempts],
            )

    def alert_sent(self, key: str, channel: str | None = None) -> bool:
        """Whether the alert ``key`` was delivered (to ``channel``, or to any channel)."""
        sql = "SELECT 1 FROM alerts WHERE key = ? AND ok"
        params: list[Any] = [key]
        if channel is not None:
            sql += " AND channel = ?"
            params.append(channel)
        return not self._query(sql + " LIMIT 1", params).empty

    def recent_alerts(self, limit: int = 50) -> pd.DataFrame:
        """The latest deliveries, newest first: ``sent_at, kind, subject, body, channel, ok, error``."""
        frame = self._query(
            "SELECT sent_at, kind, subject, body, channel, ok, error FROM alerts "
            "ORDER BY sent_at DESC, key, channel LIMIT ?",
            [int(limit)],
        )
        frame["sent_at"] = pd.to_datetime(frame["sent_at"]).astype("datetime64[ns]")
        frame["ok"] = frame["ok"].astype(bool)
        return frame.reset_index(drop=True)

    def record_run(
        self,
        started_at: pd.Timestamp,
        finished_at: pd.Timestamp,
        *,
        data_as_of: pd.Timestamp | None,
        outcome: str,
        message: str = "",
        state: str | None = None,
    ) -> None:
        """Remember one ``comove watch`` cycle; ``state`` is its JSON detection state."""
        as_of = None if data_as_of is None else _py(utc_naive(data_as_of))
        with self._transaction() as con:
            con.execute(
                "INSERT INTO watch_runs VALUES (?, ?, ?, ?, ?, ?)",
                [
                    _py(utc_naive(started_at)),
                    _py(utc_naive(finished_at)),
                    as_of,
                    outcome,
                    message,
                    state,
                ],
            )

    def watch_runs(self, limit: int = 20) -> pd.DataFrame:
        """The latest runs, newest first: ``started_at, finished_at, data_as_of, outcome, message``."""
        frame = self._query(
            "SELECT started_at, finished_at, data_as_of, outcome, message FROM watch_runs "
            "ORDER BY started_at DESC LIMIT ?",
            [int(limit)],
        )
        for column in ("started_at", "finished_at", "data_as_of"):
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
        return frame.reset_index(drop=True)

    def watch_state(self) -> str | None:
        """The detection state (JSON) saved by the latest run that saved one."""
        rows = self._query(
            "SELECT state FROM watch_runs WHERE state IS NOT NULL ORDER BY started_at DESC LIMIT 1"
        )
        return None if rows.empty else str(rows["state"].iloc[0])

    # -- overview ---------------------------------------------------------------------

    def info(self) -> pd.DataFrame:
        """One row per stored (kind, source, symbol, interval).

        Columns: ``kind`` (``bars``/``series``), ``source``, ``symbol``, ``interval``,
        ``first``, ``last``, ``rows``, ``last_fetch``, ``last_fetch_ok``, ``staleness``
        (now minus the last bar time).
        """
        frame = self._query(
            """
            SELECT 'bars' AS kind, m.source, m.symbol, m.interval, m.first_ts AS first,
                   m.last_ts AS last, m.rows, f.attempted_at AS last_fetch, f.ok AS last_fetch_ok
            FROM bar_meta m LEFT JOIN fetches f
              ON f.source = m.source AND f.symbol = m.symbol AND f.interval = m.interval
            UNION ALL
            SELECT 'series', s.source, s.series_id, '1d', s.first, s.last, s.rows,
                   f.attempted_at, f.ok
            FROM (SELECT series_id, any_value(source) AS source,
                         CAST(min(date) AS TIMESTAMP) AS first,
                         CAST(max(date) AS TIMESTAMP) AS last, count(*) AS rows
                  FROM series GROUP BY series_id) s
            LEFT JOIN fetches f
              ON f.source = s.source AND f.symbol = s.series_id AND f.interval = '1d'
            ORDER BY 1, 3, 2, 4
            """
        )
        for column in ("first", "last", "last_fetch"):
            frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
        frame["rows"] = frame["rows"].astype("int64")
        frame["last_fetch_ok"] = [None if pd.isna(v) else bool(v) for v in frame["last_fetch_ok"]]
        frame["staleness"] = now_utc() - frame["last"]
        return frame.reset_index(drop=True)


_READ_METHODS = frozenset(
    {
        "read_bars",
        "read_series",
        "last_bar_time",
        "last_fetch",
        "symbols",
        "info",
        "bar_summary",
        "series_ids",
    }
)


@contextmanager
def writing(path: str | Path) -> Iterator[Store]:
    """A writable store; a file this call creates is removed again if the work fails, so a
    rejected first import leaves no empty store behind."""
    target = Path(path).expanduser()
    created = not target.exists()
    try:
        with Store(target) as store:
            yield store
    except BaseException:
        if created:
            for leftover in (target, target.with_name(target.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise


class ShortLivedStore:
    """A :class:`Store` whose every method opens the file only for that call.

    A refresh spends most of its time waiting on the network between a few store reads
    and one write; holding the file's lock through the wait would block every other
    comove process (the dashboard, a report) for as long as the providers retry.
    """

    def __init__(self, path: str | Path | None = None, *, lock_timeout: float = 30.0) -> None:
        self.path = path
        self.lock_timeout = lock_timeout

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or not callable(getattr(Store, name, None)):
            raise AttributeError(name)

        def call(*args: Any, **kwargs: Any) -> Any:
            read_only = name in _READ_METHODS
            with Store(self.path, read_only=read_only, lock_timeout=self.lock_timeout) as store:
                return getattr(store, name)(*args, **kwargs)

        return call

    def __enter__(self) -> ShortLivedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def close(self) -> None:
        """Nothing stays open between calls."""
