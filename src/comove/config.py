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
"""

from __future__ import annotations

import os
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
    fred_api_key: str | None = None
    config_files: tuple[Path, ...] = ()

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
        }
        return shown


def _sources(value: Any, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v for v in items):
        raise ConfigError(f"{where}: expected a source or a list of sources like 'yahoo:^RUT'")
    return tuple(items)


def _apply(settings: Settings, data: dict[str, Any], path: Path) -> Settings:
    known = {"pair", "analysis", "store", "keys", "alerts", "watch", "signals"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"{path}: unknown section [{unknown[0]}] (known: {', '.join(sorted(known))})"
        )
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
        settings = _apply(settings, data, path)
    if env.get("COMOVE_HOME"):
        settings = replace(settings, store_path=Path(env["COMOVE_HOME"]).expanduser() / STORE_FILE)
    if env.get("FRED_API_KEY"):
        settings = replace(settings, fred_api_key=env["FRED_API_KEY"])
    return settings
