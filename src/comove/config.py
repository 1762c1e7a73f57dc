"""Settings: the pair, windows, signals, aliases, the store, keys, watch and alerts.

Lookup order (later wins): built-in defaults, ``comove.toml`` in the user config folder,
``comove.toml`` in the working folder, environment variables, command-line flags. Every
section and key is checked: an unknown section or key, a value of the wrong type or out of
range is a :class:`~comove.errors.ConfigError` naming the file, the section and the key
(with the closest known key when it looks like a typo). Secrets (API keys, webhook URLs,
SMTP passwords) come only from the environment or the config file; once loaded they are
registered with :mod:`comove._secrets` and never printed (:meth:`Settings.redacted` is what
logs and errors may show).

Example ``comove.toml``::

    [pair]
    crypto = ["exchange:coinbase:ETH/USD", "exchange:kraken:ETH/USD", "yahoo:ETH-USD"]
    equity = ["yahoo:^RUT", "yahoo:IWM"]
    large_caps = ["yahoo:^GSPC", "yahoo:SPY"]      # for small-cap breadth
    macro = ["fred:WALCL", "fred:WTREGEN", "fred:RRPONTSYD", "fred:DGS2"]

    [analysis]
    windows = [30, 60, 90]
    calendar = "XNYS"

    [signals]                     # any threshold of comove.config.SignalConfig
    corr_enter = 0.5
    min_duration = 5

    [aliases]                     # other names a stored symbol may have
    "^RUT" = ["RUT", "R2K"]

    [store]
    path = "~/comove/comove.duckdb"

    [keys]
    fred_api_key = "..."          # or the FRED_API_KEY environment variable

    [watch]                       # comove watch
    crypto_every = "15m"
    equity_after = "16:30"        # America/New_York
    stale_after = "6h"

    [alerts]
    correlation_threshold = 0.5
    correlation_exit = 0.45
    retries = 3
    backoff = 2.0

    [[alerts.channels]]
    type = "webhook"              # webhook | email | command | console
    format = "slack"              # slack | discord | json
    url_env = "COMOVE_SLACK_WEBHOOK"   # or url = "https://..."

The reader is a few typed helpers over ``tomllib`` rather than pydantic-settings: the same
strictness (``extra="forbid"``-style unknown-key errors, typed values, secrets kept out of
``repr``) without adding pydantic's import time to every command (see README).
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import os
import re
import shlex
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from comove._secrets import protect
from comove._text import quoted
from comove.errors import ConfigError

APP_NAME = "comove"
CONFIG_FILE = "comove.toml"
STORE_FILE = "comove.duckdb"

DEFAULT_CRYPTO = (
    "exchange:coinbase:ETH/USD",
    "exchange:kraken:ETH/USD",
    "exchange:binance:ETH/USDT",
    "yahoo:ETH-USD",
)
DEFAULT_EQUITY = ("yahoo:^RUT", "yahoo:IWM")
DEFAULT_LARGE_CAPS = ("yahoo:^GSPC", "yahoo:SPY")
DEFAULT_MACRO = (
    "fred:WALCL",
    "fred:WTREGEN",
    "fred:RRPONTSYD",
    "fred:DGS2",
    "fred:NFCI",
    "fred:BAMLH0A0HYM2",
    "fred:DTWEXBGS",
)
#: Names one instrument goes by at different providers and in files (see ``[aliases]``).
DEFAULT_ALIASES: tuple[tuple[str, ...], ...] = (
    ("^RUT", "RUT", "RTY"),
    ("^GSPC", "GSPC", "^SPX", "SPX", "SP500"),
    ("ETH-USD", "ETH/USD", "ETHUSD"),
    ("BTC-USD", "BTC/USD", "BTCUSD"),
    ("ETH/USDT", "ETHUSDT"),
    ("BTC/USDT", "BTCUSDT"),
)
MIN_WINDOW, MAX_WINDOW, MAX_WINDOWS = 3, 500, 8
MAX_TIMEOUT = 600.0
MAX_RETRIES = 20


def user_config_dir() -> Path:
    from platformdirs import user_config_dir as config_dir

    return Path(config_dir(APP_NAME, appauthor=False))


def user_cache_dir() -> Path:
    """Where comove keeps what it can rebuild (calendar schedules): the user cache folder."""
    from platformdirs import user_cache_dir as cache_dir

    return Path(cache_dir(APP_NAME, appauthor=False))


def default_store_path() -> Path:
    """``$COMOVE_HOME/comove.duckdb`` when set, else the user data folder (platformdirs)."""
    home = os.environ.get("COMOVE_HOME")
    if home:
        return Path(home).expanduser() / STORE_FILE
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / STORE_FILE


def parse_windows(text: str) -> tuple[int, ...]:
    """``"30,60,90"`` -> ``(30, 60, 90)``: ASCII whole numbers, each 3..500, at most 8, no repeats.

    The one rule for windows, wherever they are given (CLI, config, the dashboard's API):
    :func:`split_windows` for the form, :func:`check_windows` for the values.
    """
    return check_windows(split_windows(text))


def split_windows(text: str) -> list[int]:
    """The whole numbers of ``"30,60,90"`` (ASCII digits and commas only), unchecked."""
    parts = [part.strip() for part in str(text).split(",")]
    if not any(parts):
        raise ConfigError("windows: expected whole numbers separated by commas, e.g. 30,60,90")
    windows: list[int] = []
    for part in parts:
        if not (part.isascii() and part.isdigit()) or len(part) > 6:
            raise ConfigError(
                f"windows: expected whole numbers separated by commas, got {quoted(text, 60)}"
            )
        windows.append(int(part))
    return windows


def check_windows(windows: Sequence[Any]) -> tuple[int, ...]:
    """Validate a list of windows (see :func:`parse_windows`)."""
    if not windows:
        raise ConfigError("windows: at least one window is needed")
    if len(windows) > MAX_WINDOWS:
        raise ConfigError(f"windows: at most {MAX_WINDOWS} windows, got {len(windows)}")
    for w in windows:
        if isinstance(w, bool) or not isinstance(w, int) or not MIN_WINDOW <= w <= MAX_WINDOW:
            raise ConfigError(
                f"window {w!r} is invalid: windows are whole sessions from {MIN_WINDOW} to "
                f"{MAX_WINDOW}"
            )
    if len(set(windows)) != len(windows):
        raise ConfigError(f"windows: a window is repeated in {list(windows)}")
    return tuple(int(w) for w in windows)


# --------------------------------------------------------------------------- the sections


@dataclass(frozen=True)
class SignalConfig:
    """Every threshold of the signals (``[signals]`` in comove.toml; defaults of issue 4).

    ``*_enter`` is the level at which a condition starts to pass, ``*_exit`` the level beyond
    which a passing condition fails again (equal levels: no hysteresis). ``min_duration`` is
    the number of sessions a signal keeps an on/off state before it may change again.
    ``unknown_policy``: ``"strict"`` (default) makes a signal unknown whenever a required
    condition is unknown; ``"kleene"`` calls it off when a known required condition fails
    (three-valued AND), unknown only when nothing fails and something is unknown.
    """

    corr_window: int = 60
    corr_enter: float = 0.5
    corr_exit: float = 0.45
    band_enter: float = 0.3
    band_exit: float = 0.25
    rsi_lookback: int = 5
    rsi_enter: float = 50.0
    rsi_exit: float = 48.0
    relvol_enter: float = 1.0
    relvol_exit: float = 0.9
    liquidity_enter: float = 0.0
    liquidity_exit: float = -0.1
    high_window: int = 20
    high_exit: float = 0.03
    trend_window: int = 50
    trend_exit: float = 0.01
    breadth_lookback: int = 20
    decouple_short: int = 30
    decouple_long: int = 90
    decouple_enter: float = 0.2
    decouple_exit: float = 0.25
    decouple_was: float = 0.5
    decoupling_lookback: int = 60
    move_window: int = 60
    crypto_move_sigma: float = 2.0
    equity_quiet_sigma: float = 0.5
    move_count_window: int = 20
    min_duration: int = 5
    unknown_policy: Literal["strict", "kleene"] = "strict"

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name == "unknown_policy":
                if value not in ("strict", "kleene"):
                    raise ConfigError("signal setting unknown_policy must be 'strict' or 'kleene'")
            elif item.type == "int" and (
                isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5000
            ):
                raise ConfigError(
                    f"signal setting {item.name} must be a whole number of sessions from 1 to "
                    f"5000, got {value!r}"
                )
            elif item.type == "float" and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise ConfigError(f"signal setting {item.name} must be a finite number")
        pairs = (
            ("corr", self.corr_enter, self.corr_exit, ">="),
            ("band", self.band_enter, self.band_exit, ">"),
            ("rsi", self.rsi_enter, self.rsi_exit, ">"),
            ("relvol", self.relvol_enter, self.relvol_exit, ">"),
            ("liquidity", self.liquidity_enter, self.liquidity_exit, ">"),
            ("decouple", self.decouple_enter, self.decouple_exit, "<"),
        )
        for name, enter, exit_, comparison in pairs:
            if (comparison == "<" and exit_ < enter) or (comparison != "<" and exit_ > enter):
                raise ConfigError(
                    f"signal setting {name}: the exit level {exit_} must lie on the far side "
                    f"of the enter level {enter} (hysteresis)"
                )


CHANNEL_TYPES = ("webhook", "email", "command", "console")
WEBHOOK_FORMATS = ("slack", "discord", "json")


@dataclass(frozen=True)
class ChannelConfig:
    """One ``[[alerts.channels]]`` entry. Secrets (``url``, ``password``) never show in repr."""

    type: str
    name: str
    format: str = "json"
    url: str | None = field(default=None, repr=False)
    url_env: str | None = None
    host: str | None = None
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    password_env: str | None = None
    sender: str | None = None
    to: tuple[str, ...] = ()
    run: tuple[str, ...] = ()
    timeout: float = 30.0

    def secret(self, what: str, environ: Mapping[str, str] | None = None) -> str | None:
        """The webhook ``url`` or SMTP ``password``: from the environment variable, else the file."""
        env = os.environ if environ is None else environ
        name = self.url_env if what == "url" else self.password_env
        if name and env.get(name):
            return env[name]
        return self.url if what == "url" else self.password

    def secrets(self, environ: Mapping[str, str] | None = None) -> list[str]:
        return [s for s in (self.secret("url", environ), self.secret("password", environ)) if s]

    def redacted(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"type": self.type, "name": self.name}
        if self.type == "webhook":
            shown |= {"format": self.format, "url": "***" if self.url else None,
                      "url_env": self.url_env}  # fmt: skip
        elif self.type == "email":
            shown |= {
                "host": self.host, "port": self.port, "starttls": self.starttls,
                "ssl": self.ssl, "username": self.username,
                "password": "***" if self.password else None,
                "password_env": self.password_env, "from": self.sender, "to": list(self.to),
            }  # fmt: skip
        elif self.type == "command":
            shown |= {"run": list(self.run), "timeout": self.timeout}
        return shown


@dataclass(frozen=True)
class WatchSettings:
    """``[watch]``: the schedule of ``comove watch`` (durations in seconds)."""

    crypto_every: float = 15 * 60.0
    equity_after: dt.time = dt.time(16, 30)
    stale_after: float = 6 * 3600.0
    timezone: str = "America/New_York"


@dataclass(frozen=True)
class AlertSettings:
    """``[alerts]``: thresholds of the alerts, retries and the channels."""

    correlation_threshold: float = 0.5
    correlation_exit: float = 0.45
    retries: int = 3
    backoff: float = 2.0
    channels: tuple[ChannelConfig, ...] = ()


@dataclass(frozen=True)
class Settings:
    """Everything configurable; build with :func:`load_settings`."""

    crypto_sources: tuple[str, ...] = DEFAULT_CRYPTO
    equity_sources: tuple[str, ...] = DEFAULT_EQUITY
    large_cap_sources: tuple[str, ...] = DEFAULT_LARGE_CAPS
    macro_sources: tuple[str, ...] = DEFAULT_MACRO
    windows: tuple[int, ...] = (30, 60, 90)
    calendar: str = "XNYS"
    signals: SignalConfig = field(default_factory=SignalConfig)
    aliases: tuple[tuple[str, ...], ...] = DEFAULT_ALIASES
    store_path: Path = field(default_factory=default_store_path)
    fred_api_key: str | None = field(default=None, repr=False)
    config_files: tuple[Path, ...] = ()
    watch: WatchSettings = field(default_factory=WatchSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)

    def __post_init__(self) -> None:
        # The Python API takes a plain string for the store too.
        object.__setattr__(self, "store_path", Path(self.store_path).expanduser())

    def with_store(self, path: str | Path | None) -> Settings:
        return self if path is None else replace(self, store_path=Path(path).expanduser())

    def secrets(self) -> list[str]:
        """Every secret these settings hold or point to (environment variables included)."""
        found = [self.fred_api_key] if self.fred_api_key else []
        for channel in self.alerts.channels:
            found += channel.secrets()
        return found

    def alias_names(self, name: str) -> tuple[str, ...]:
        """``name`` and every other name of the same instrument (case-insensitive match)."""
        wanted = name.upper()
        names = [name]
        for group in self.aliases:
            if wanted in (n.upper() for n in group):
                names += [n for n in group if n.upper() != wanted]
        return tuple(dict.fromkeys(names))

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict, with every secret replaced by ``***``."""
        return {
            "crypto_sources": list(self.crypto_sources),
            "equity_sources": list(self.equity_sources),
            "large_cap_sources": list(self.large_cap_sources),
            "macro_sources": list(self.macro_sources),
            "windows": list(self.windows),
            "calendar": self.calendar,
            "signals": {f.name: getattr(self.signals, f.name) for f in fields(self.signals)},
            "aliases": [list(group) for group in self.aliases],
            "store_path": str(self.store_path),
            "fred_api_key": "***" if self.fred_api_key else None,
            "config_files": [str(p) for p in self.config_files],
            "watch": {
                "crypto_every": self.watch.crypto_every,
                "equity_after": self.watch.equity_after.strftime("%H:%M"),
                "stale_after": self.watch.stale_after,
            },
            "alerts": {
                "correlation_threshold": self.alerts.correlation_threshold,
                "correlation_exit": self.alerts.correlation_exit,
                "retries": self.alerts.retries,
                "backoff": self.alerts.backoff,
                "channels": [c.redacted() for c in self.alerts.channels],
            },
        }


# --------------------------------------------------------------------------- typed reading


class _Table:
    """One TOML table being read: typed getters, and unknown keys refused at the end."""

    def __init__(self, data: Any, where: str, known: Sequence[str]) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: must be a table of settings, not a value")
        self.data = data
        self.where = where
        self.known = tuple(known)
        unknown = [key for key in data if key not in self.known]
        if unknown:
            key = str(unknown[0])
            close = difflib.get_close_matches(key, self.known, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            listed = ", ".join(self.known) if self.known else "none"
            raise ConfigError(f"{where}: unknown setting {key!r}{hint}; known: {listed}")

    def __contains__(self, key: str) -> bool:
        return key in self.data

    def at(self, key: str) -> str:
        return f"{self.where} {key}"

    def text(self, key: str) -> str:
        value = self.data[key]
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{self.at(key)}: expected text, got {_shown(value)}")
        return value

    def env_name(self, key: str) -> str:
        value = self.text(key)
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ConfigError(f"{self.at(key)}: expected an environment variable name")
        return value

    def number(self, key: str, low: float, high: float) -> float:
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{self.at(key)}: expected a number, got {_shown(value)}")
        if not (math.isfinite(value) and low <= value <= high):
            raise ConfigError(f"{self.at(key)}: must be between {low:g} and {high:g}")
        return float(value)

    def whole(self, key: str, low: int, high: int) -> int:
        value = self.data[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ConfigError(
                f"{self.at(key)}: expected a whole number from {low} to {high}, got {_shown(value)}"
            )
        return value

    def flag(self, key: str) -> bool:
        value = self.data[key]
        if not isinstance(value, bool):
            raise ConfigError(f"{self.at(key)}: must be true or false")
        return value

    def texts(self, key: str, what: str = "text or a list of texts") -> tuple[str, ...]:
        value = self.data[key]
        items = [value] if isinstance(value, str) else value
        if (
            not isinstance(items, list)
            or not items
            or not all(isinstance(v, str) and v.strip() for v in items)
        ):
            raise ConfigError(f"{self.at(key)}: expected {what}")
        return tuple(items)

    def duration(self, key: str) -> float:
        return parse_duration(self.data[key], self.at(key))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?")
_UNITS = {None: 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
MAX_DURATION = 30 * 86400.0


def parse_duration(value: Any, where: str) -> float:
    """``"15m"``, ``"6h"``, ``"30s"``, ``"1d"`` or a number of seconds -> seconds (0 < s ≤ 30 d)."""
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a duration like '15m' or '6h'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.fullmatch(str(value).strip().lower())
        if not match:
            raise ConfigError(
                f"{where}: expected a duration like '15m' or '6h', got {_shown(value)}"
            )
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_DURATION):
        raise ConfigError(
            f"{where}: a duration must be positive and at most 30 days, got {_shown(value)}"
        )
    return seconds


def _pair(table: _Table) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key, name in (
        ("crypto", "crypto_sources"),
        ("equity", "equity_sources"),
        ("large_caps", "large_cap_sources"),
        ("macro", "macro_sources"),
    ):
        if key in table:
            changes[name] = table.texts(key, "a source or a list of sources like 'yahoo:^RUT'")
    return changes


def _analysis(table: _Table) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "windows" in table:
        value = table.data["windows"]
        if not isinstance(value, list):
            raise ConfigError(f"{table.at('windows')}: expected a list like [30, 60, 90]")
        try:
            changes["windows"] = check_windows(value)
        except ConfigError as exc:
            raise ConfigError(f"{table.at('windows')}: {exc}") from None
    if "calendar" in table:
        changes["calendar"] = table.text("calendar").strip().upper()
    return changes


def _signals(table: _Table) -> SignalConfig:
    values: dict[str, Any] = {}
    for item in fields(SignalConfig):
        if item.name not in table:
            continue
        if item.name == "unknown_policy":
            values[item.name] = table.text(item.name)
        elif item.type == "int":
            values[item.name] = table.whole(item.name, 1, 5000)
        else:
            values[item.name] = table.number(item.name, -1e6, 1e6)
    try:
        return SignalConfig(**values)
    except ConfigError as exc:
        raise ConfigError(f"{table.where}: {exc}") from None


def _aliases(
    data: Any, where: str, current: tuple[tuple[str, ...], ...]
) -> tuple[tuple[str, ...], ...]:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: must be a table of settings, not a value")
    groups = [list(group) for group in current]
    for name, others in data.items():
        items = [others] if isinstance(others, str) else others
        if not isinstance(items, list) or not all(isinstance(o, str) and o.strip() for o in items):
            raise ConfigError(f"{where} {name}: expected a name or a list of names")
        names = [str(name), *(o.strip() for o in items)]
        upper = {n.upper() for n in names}
        merged = [g for g in groups if upper & {n.upper() for n in g}]
        rest = [g for g in groups if g not in merged]
        group = list(dict.fromkeys([n for g in merged for n in g] + names))
        groups = [*rest, group]
    return tuple(tuple(g) for g in groups)


def _watch(table: _Table) -> WatchSettings:
    out = WatchSettings()
    if "crypto_every" in table:
        out = replace(out, crypto_every=table.duration("crypto_every"))
    if "stale_after" in table:
        out = replace(out, stale_after=table.duration("stale_after"))
    if "equity_after" in table:
        raw = table.data["equity_after"]
        try:
            when = raw if isinstance(raw, dt.time) else dt.time.fromisoformat(str(raw))
        except ValueError:
            raise ConfigError(
                f"{table.at('equity_after')}: expected a time like '16:30' (New York), "
                f"got {_shown(raw)}"
            ) from None
        out = replace(out, equity_after=when)
    return out


_CHANNEL_KEYS: dict[str, tuple[str, ...]] = {
    "webhook": ("format", "url", "url_env", "timeout"),
    "email": (
        "host",
        "port",
        "starttls",
        "ssl",
        "username",
        "password",
        "password_env",
        "from",
        "to",
        "timeout",
    ),
    "command": ("run", "timeout"),
    "console": (),
}


def _channel(entry: Any, number: int, path: Path) -> ChannelConfig:
    where = f"{path} [[alerts.channels]] #{number}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a table")
    kind = entry.get("type")
    if kind not in CHANNEL_TYPES:
        raise ConfigError(
            f"{where}: type must be one of {', '.join(CHANNEL_TYPES)}, got {_shown(kind)}"
        )
    table = _Table(entry, where, ("type", "name", *_CHANNEL_KEYS[kind]))
    name = table.text("name").strip() if "name" in table else f"{kind}-{number}"
    options: dict[str, Any] = {"type": kind, "name": name}
    if "timeout" in table:
        seconds = table.duration("timeout")
        if seconds > MAX_TIMEOUT:
            raise ConfigError(f"{table.at('timeout')}: at most {MAX_TIMEOUT:g} seconds")
        options["timeout"] = seconds
    if kind == "webhook":
        fmt = table.text("format") if "format" in table else "json"
        if fmt not in WEBHOOK_FORMATS:
            raise ConfigError(f"{table.at('format')}: must be one of {', '.join(WEBHOOK_FORMATS)}")
        url = table.text("url") if "url" in table else None
        url_env = table.env_name("url_env") if "url_env" in table else None
        if not (url or url_env):
            raise ConfigError(f"{where}: a webhook needs url_env (recommended) or url")
        if url is not None and not url.startswith(("http://", "https://")):
            raise ConfigError(f"{table.at('url')}: expected an http(s) URL")
        options |= {"format": fmt, "url": url, "url_env": url_env}
    elif kind == "email":
        for key in ("host", "from", "to"):
            if key not in table:
                raise ConfigError(f"{where}: an email channel needs host, from and to")
        ssl_on = table.flag("ssl") if "ssl" in table else False
        options |= {
            "host": table.text("host"),
            "port": table.whole("port", 1, 65535) if "port" in table else (465 if ssl_on else 587),
            "starttls": table.flag("starttls") if "starttls" in table else not ssl_on,
            "ssl": ssl_on,
            "username": table.text("username") if "username" in table else None,
            "password": table.text("password") if "password" in table else None,
            "password_env": table.env_name("password_env") if "password_env" in table else None,
            "sender": table.text("from"),
            "to": table.texts("to", "an address or a list of addresses"),
        }
    elif kind == "command":
        run = table.data.get("run")
        run = shlex.split(run) if isinstance(run, str) else run
        if not isinstance(run, list) or not run or not all(isinstance(r, str) and r for r in run):
            raise ConfigError(f"{where}: run must be a command, e.g. ['/usr/local/bin/notify.sh']")
        options["run"] = tuple(run)
    return ChannelConfig(**options)


def _alerts(table: _Table, path: Path) -> AlertSettings:
    out = AlertSettings()
    if "correlation_threshold" in table:
        out = replace(out, correlation_threshold=table.number("correlation_threshold", -1.0, 1.0))
    if "correlation_exit" in table:
        out = replace(out, correlation_exit=table.number("correlation_exit", -1.0, 1.0))
    if out.correlation_exit > out.correlation_threshold:
        raise ConfigError(
            f"{table.where}: correlation_exit ({out.correlation_exit}) must lie below "
            f"correlation_threshold ({out.correlation_threshold})"
        )
    if "backoff" in table:
        out = replace(out, backoff=table.number("backoff", 0.0, MAX_TIMEOUT))
    if "retries" in table:
        out = replace(out, retries=table.whole("retries", 1, MAX_RETRIES))
    if "channels" in table:
        entries = table.data["channels"]
        if not isinstance(entries, list):
            raise ConfigError(f"{table.at('channels')}: write each as [[alerts.channels]]")
        channels = [_channel(entry, i, path) for i, entry in enumerate(entries, start=1)]
        names = [c.name for c in channels]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise ConfigError(f"{table.at('channels')}: the name {duplicate!r} is used twice")
        out = replace(out, channels=tuple(channels))
    return out


_SECTIONS: dict[str, tuple[str, ...]] = {
    "pair": ("crypto", "equity", "large_caps", "macro"),
    "analysis": ("windows", "calendar"),
    "signals": tuple(f.name for f in fields(SignalConfig)),
    "aliases": (),
    "store": ("path",),
    "keys": ("fred_api_key",),
    "watch": ("crypto_every", "equity_after", "stale_after"),
    "alerts": ("correlation_threshold", "correlation_exit", "retries", "backoff", "channels"),
}


def _apply(settings: Settings, data: dict[str, Any], path: Path) -> Settings:
    unknown = [name for name in data if name not in _SECTIONS]
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), list(_SECTIONS), n=1, cutoff=0.6)
        hint = f" (did you mean [{close[0]}]?)" if close else ""
        raise ConfigError(
            f"{path}: unknown section [{unknown[0]}]{hint}; known: {', '.join(_SECTIONS)}"
        )
    tables = {
        name: _Table(data[name], f"{path} [{name}]", known)
        for name, known in _SECTIONS.items()
        if name in data and name != "aliases"
    }
    changes: dict[str, Any] = {}
    if "pair" in tables:
        changes |= _pair(tables["pair"])
    if "analysis" in tables:
        changes |= _analysis(tables["analysis"])
    if "signals" in tables:
        changes["signals"] = _signals(tables["signals"])
    if "aliases" in data:
        changes["aliases"] = _aliases(data["aliases"], f"{path} [aliases]", settings.aliases)
    if "store" in tables and "path" in tables["store"]:
        changes["store_path"] = Path(tables["store"].text("path")).expanduser()
    if "keys" in tables and "fred_api_key" in tables["keys"]:
        changes["fred_api_key"] = tables["keys"].text("fred_api_key")
    if "watch" in tables:
        changes["watch"] = _watch(tables["watch"])
    if "alerts" in tables:
        changes["alerts"] = _alerts(tables["alerts"], path)
    return replace(settings, config_files=(*settings.config_files, path), **changes)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder, not a file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid TOML: the file is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: nested too deeply") from None


def load_settings(
    config: str | Path | None = None,
    *,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Defaults, then the config files (user folder, working folder, or ``config``), then env.

    Raises
    ------
    ConfigError
        A config file cannot be parsed or has an unknown or invalid setting; the message
        names the file, the section and the key.
    """
    env = os.environ if environ is None else environ
    settings = Settings()
    if config is not None:
        candidates = [Path(config).expanduser()]
        if not candidates[0].exists():
            raise ConfigError(f"config file {candidates[0]} does not exist")
    else:
        candidates = [user_config_dir() / CONFIG_FILE, (cwd or Path.cwd()) / CONFIG_FILE]
    for path in candidates:
        if path.exists():
            settings = _apply(settings, _read_toml(path), path)
    if env.get("COMOVE_HOME"):
        settings = replace(settings, store_path=Path(env["COMOVE_HOME"]).expanduser() / STORE_FILE)
    if env.get("FRED_API_KEY"):
        settings = replace(settings, fred_api_key=env["FRED_API_KEY"])
    protect(settings.secrets())
    return settings
