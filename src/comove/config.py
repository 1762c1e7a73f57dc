"""Settings: the pair, windows, the store's location and keys, from comove.toml and the environment.

Lookup order (later wins): built-in defaults, ``comove.toml`` in the user config folder,
``comove.toml`` in the working folder, environment variables, command-line flags. Secrets
(API keys) come only from the environment or the config file and are never printed:
:meth:`Settings.redacted` is what logs and errors may show.

Example ``comove.toml``::

    [pair]
    crypto = ["exchange:coinbase:ETH/USD", "exchange:kraken:ETH/USD", "yahoo:ETH-USD"]
    equity = ["yahoo:^RUT", "yahoo:IWM"]
    large_caps = ["yahoo:^GSPC", "yahoo:SPY"]      # for small-cap breadth
    macro = ["fred:WALCL", "fred:WTREGEN", "fred:RRPONTSYD", "fred:DGS2"]

    [analysis]
    windows = [30, 60, 90]

    [store]
    path = "~/comove/comove.duckdb"

    [keys]
    fred_api_key = "..."          # or the FRED_API_KEY environment variable

    [watch]                       # comove watch
    crypto_every = "15m"          # refresh crypto bars this often
    equity_after = "16:30"        # America/New_York: refresh equity and macro after the close
    stale_after = "6h"            # a source failing longer than this raises a stale-data alert

    [alerts]
    correlation_threshold = 0.5   # a correlation window crossing up through this alerts ...
    correlation_exit = 0.45       # ... and crossing back down through this (hysteresis)
    retries = 3                   # attempts per channel and alert
    backoff = 2.0                 # seconds before the first retry, doubling

    [[alerts.channels]]
    type = "webhook"              # webhook | email | command | console
    format = "slack"              # slack | discord | json
    url_env = "COMOVE_SLACK_WEBHOOK"   # or url = "https://..."
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

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


def user_config_dir() -> Path:
    from platformdirs import user_config_dir as config_dir

    return Path(config_dir(APP_NAME, appauthor=False))


def default_store_path() -> Path:
    """``$COMOVE_HOME/comove.duckdb`` when set, else the user data folder (platformdirs)."""
    home = os.environ.get("COMOVE_HOME")
    if home:
        return Path(home).expanduser() / STORE_FILE
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False)) / STORE_FILE


CHANNEL_TYPES = ("webhook", "email", "command", "console")
WEBHOOK_FORMATS = ("slack", "discord", "json")
_CHANNEL_KEYS: dict[str, frozenset[str]] = {
    "webhook": frozenset({"format", "url", "url_env", "timeout"}),
    "email": frozenset(
        {
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
        }
    ),
    "command": frozenset({"run", "timeout"}),
    "console": frozenset(),
}


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

    def secret(self, what: str, environ: dict[str, str] | None = None) -> str | None:
        """The webhook ``url`` or SMTP ``password``: from the environment variable, else the file."""
        env = os.environ if environ is None else environ
        name = self.url_env if what == "url" else self.password_env
        if name and env.get(name):
            return env[name]
        return self.url if what == "url" else self.password

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
    store_path: Path = field(default_factory=default_store_path)
    fred_api_key: str | None = field(default=None, repr=False)
    config_files: tuple[Path, ...] = ()
    watch: WatchSettings = field(default_factory=WatchSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)

    def with_store(self, path: str | Path | None) -> Settings:
        return self if path is None else replace(self, store_path=Path(path).expanduser())

    def redacted(self) -> dict[str, Any]:
        """The settings as a dict, with every secret replaced by ``***``."""
        shown: dict[str, Any] = {
            "crypto_sources": list(self.crypto_sources),
            "equity_sources": list(self.equity_sources),
            "large_cap_sources": list(self.large_cap_sources),
            "macro_sources": list(self.macro_sources),
            "windows": list(self.windows),
            "calendar": self.calendar,
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
        return shown


def _sources(value: Any, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v for v in items):
        raise ConfigError(f"{where}: expected a source or a list of sources like 'yahoo:^RUT'")
    return tuple(items)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|m|min|h|d)?")
_UNITS = {None: 1.0, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: Any, where: str) -> float:
    """``"15m"``, ``"6h"``, ``"30s"``, ``"1d"`` or a number of seconds -> seconds (> 0)."""
    if isinstance(value, bool):
        raise ConfigError(f"{where}: expected a duration like '15m' or '6h'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.fullmatch(str(value).strip().lower())
        if not match:
            raise ConfigError(f"{where}: expected a duration like '15m' or '6h', got {value!r}")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if seconds <= 0:
        raise ConfigError(f"{where}: a duration must be positive, got {value!r}")
    return seconds


def _watch(section: Any, path: Path) -> WatchSettings:
    if not isinstance(section, dict):
        raise ConfigError(f"{path} [watch]: expected a table")
    unknown = sorted(set(section) - {"crypto_every", "equity_after", "stale_after"})
    if unknown:
        raise ConfigError(f"{path} [watch]: unknown setting {unknown[0]!r}")
    out = WatchSettings()
    if "crypto_every" in section:
        out = replace(out, crypto_every=parse_duration(section["crypto_every"],
                                                        f"{path} [watch] crypto_every"))  # fmt: skip
    if "stale_after" in section:
        out = replace(out, stale_after=parse_duration(section["stale_after"],
                                                      f"{path} [watch] stale_after"))  # fmt: skip
    if "equity_after" in section:
        try:
            when = dt.time.fromisoformat(str(section["equity_after"]))
        except ValueError:
            raise ConfigError(
                f"{path} [watch] equity_after: expected a time like '16:30' (New York), "
                f"got {section['equity_after']!r}"
            ) from None
        out = replace(out, equity_after=when)
    return out


def _channel(entry: Any, number: int, path: Path) -> ChannelConfig:
    where = f"{path} [[alerts.channels]] #{number}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a table")
    kind = entry.get("type")
    if kind not in CHANNEL_TYPES:
        raise ConfigError(f"{where}: type must be one of {', '.join(CHANNEL_TYPES)}, got {kind!r}")
    unknown = sorted(set(entry) - _CHANNEL_KEYS[kind] - {"type", "name"})
    if unknown:
        raise ConfigError(f"{where}: unknown setting {unknown[0]!r} for a {kind} channel")
    name = str(entry.get("name") or f"{kind}-{number}")
    options: dict[str, Any] = {"type": kind, "name": name}
    if "timeout" in entry:
        options["timeout"] = parse_duration(entry["timeout"], f"{where} timeout")
    if kind == "webhook":
        fmt = entry.get("format", "json")
        if fmt not in WEBHOOK_FORMATS:
            raise ConfigError(f"{where}: format must be one of {', '.join(WEBHOOK_FORMATS)}")
        if not (entry.get("url") or entry.get("url_env")):
            raise ConfigError(f"{where}: a webhook needs url_env (recommended) or url")
        options |= {"format": fmt, "url": entry.get("url") or None,
                    "url_env": entry.get("url_env") or None}  # fmt: skip
    elif kind == "email":
        to = entry.get("to")
        to = [to] if isinstance(to, str) else to
        if not entry.get("host") or not entry.get("from") or not to:
            raise ConfigError(f"{where}: an email channel needs host, from and to")
        if not isinstance(to, list) or not all(isinstance(t, str) and t for t in to):
            raise ConfigError(f"{where}: to must be an address or a list of addresses")
        port = entry.get("port", 465 if entry.get("ssl") else 587)
        if not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigError(f"{where}: port must be a whole number 1-65535")
        for flag in ("starttls", "ssl"):
            if flag in entry and not isinstance(entry[flag], bool):
                raise ConfigError(f"{where}: {flag} must be true or false")
        options |= {
            "host": str(entry["host"]), "port": port,
            "starttls": bool(entry.get("starttls", not entry.get("ssl", False))),
            "ssl": bool(entry.get("ssl", False)),
            "username": entry.get("username") or None, "password": entry.get("password") or None,
            "password_env": entry.get("password_env") or None,
            "sender": str(entry["from"]), "to": tuple(to),
        }  # fmt: skip
    elif kind == "command":
        run = entry.get("run")
        run = shlex.split(run) if isinstance(run, str) else run
        if not isinstance(run, list) or not run or not all(isinstance(r, str) for r in run):
            raise ConfigError(f"{where}: run must be a command, e.g. ['/usr/local/bin/notify.sh']")
        options["run"] = tuple(run)
    return ChannelConfig(**options)


def _alerts(section: Any, path: Path) -> AlertSettings:
    if not isinstance(section, dict):
        raise ConfigError(f"{path} [alerts]: expected a table")
    known = {"correlation_threshold", "correlation_exit", "retries", "backoff", "channels"}
    unknown = sorted(set(section) - known)
    if unknown:
        raise ConfigError(f"{path} [alerts]: unknown setting {unknown[0]!r}")
    out = AlertSettings()
    for name in ("correlation_threshold", "correlation_exit", "backoff"):
        if name in section:
            value = section[name]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ConfigError(f"{path} [alerts] {name}: expected a number")
            numbers: dict[str, Any] = {name: float(value)}
            out = replace(out, **numbers)
    if not -1.0 <= out.correlation_exit <= out.correlation_threshold <= 1.0:
        raise ConfigError(
            f"{path} [alerts]: correlation_exit ({out.correlation_exit}) must lie below "
            f"correlation_threshold ({out.correlation_threshold}), both within [-1, 1]"
        )
    if out.backoff < 0:
        raise ConfigError(f"{path} [alerts] backoff: must not be negative")
    if "retries" in section:
        retries = section["retries"]
        if isinstance(retries, bool) or not isinstance(retries, int) or retries < 1:
            raise ConfigError(f"{path} [alerts] retries: expected a whole number of at least 1")
        out = replace(out, retries=retries)
    if "channels" in section:
        entries = section["channels"]
        if not isinstance(entries, list):
            raise ConfigError(f"{path} [alerts] channels: write each as [[alerts.channels]]")
        channels = [_channel(entry, i, path) for i, entry in enumerate(entries, start=1)]
        names = [c.name for c in channels]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate:
            raise ConfigError(f"{path} [alerts] channels: the name {duplicate!r} is used twice")
        out = replace(out, channels=tuple(channels))
    return out


def _apply(settings: Settings, data: dict[str, Any], path: Path) -> Settings:
    known = {"pair", "analysis", "store", "keys", "alerts", "watch", "signals"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{path}: unknown section [{unknown[0]}] (known: {', '.join(sorted(known))})"
        )
    for section in ("pair", "analysis", "store", "keys", "watch", "alerts", "signals"):
        if section in data and not isinstance(data[section], dict):
            raise ConfigError(f"{path}: [{section}] must be a table of settings, not a value")
    changes: dict[str, Any] = {}
    pair = data.get("pair", {})
    if "crypto" in pair:
        changes["crypto_sources"] = _sources(pair["crypto"], f"{path} [pair] crypto")
    if "equity" in pair:
        changes["equity_sources"] = _sources(pair["equity"], f"{path} [pair] equity")
    if "large_caps" in pair:
        changes["large_cap_sources"] = _sources(pair["large_caps"], f"{path} [pair] large_caps")
    if "macro" in pair:
        changes["macro_sources"] = _sources(pair["macro"], f"{path} [pair] macro")
    analysis = data.get("analysis", {})
    if "windows" in analysis:
        windows = analysis["windows"]
        if not isinstance(windows, list) or not all(isinstance(w, int) and w >= 3 for w in windows):
            raise ConfigError(f"{path} [analysis] windows: expected whole numbers of at least 3")
        changes["windows"] = tuple(windows)
    if "calendar" in analysis:
        changes["calendar"] = str(analysis["calendar"])
    store = data.get("store", {})
    if "path" in store:
        changes["store_path"] = Path(str(store["path"])).expanduser()
    keys = data.get("keys", {})
    if "fred_api_key" in keys:
        changes["fred_api_key"] = str(keys["fred_api_key"]) or None
    if "watch" in data:
        changes["watch"] = _watch(data["watch"], path)
    if "alerts" in data:
        changes["alerts"] = _alerts(data["alerts"], path)
    return replace(settings, config_files=(*settings.config_files, path), **changes)


def load_settings(
    config: str | Path | None = None,
    *,
    cwd: Path | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Defaults, then the config files (user folder, working folder, or ``config``), then env.

    Raises
    ------
    ConfigError
        A config file cannot be parsed or has an invalid value; the message names the file.
    """
    env = os.environ if environ is None else environ
    settings = Settings()
    if config is not None:
        candidates = [Path(config).expanduser()]
        if not candidates[0].is_file():
            raise ConfigError(f"config file {candidates[0]} does not exist")
    else:
        candidates = [user_config_dir() / CONFIG_FILE, (cwd or Path.cwd()) / CONFIG_FILE]
    for path in candidates:
        if not path.is_file():
            continue
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
        settings = _apply(settings, data, path)
    if env.get("COMOVE_HOME"):
        settings = replace(settings, store_path=Path(env["COMOVE_HOME"]).expanduser() / STORE_FILE)
    if env.get("FRED_API_KEY"):
        settings = replace(settings, fred_api_key=env["FRED_API_KEY"])
    return settings
