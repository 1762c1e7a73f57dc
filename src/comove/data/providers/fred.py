"""``fred:SERIES`` — macro series from FRED (Federal Reserve Bank of St. Louis).

Keyless by default: the graph CSV download
``{graph}/graph/fredgraph.csv?id=SERIES&cosd=START&coed=END`` answers
``observation_date,SERIES`` rows (older files say ``DATE``) with ``.`` for a missing value;
units come from a small table of the series comove uses. With ``FRED_API_KEY`` set, the
FRED API is used instead: ``{api}/fred/series/observations?series_id=&api_key=&file_type=json``
for values and ``{api}/fred/series?series_id=`` for the units. The key is never printed:
every message goes through :func:`~comove.data.providers.base.redact`.

``$COMOVE_FRED_URL`` (or ``base_url=``) points both at another host (tests).
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

from comove._secrets import redact
from comove._time import utc_naive_or_none
from comove.data.providers.base import (
    HttpClient,
    ProgressCallback,
    RetryPolicy,
    Transient,
    env_url,
    host_of,
)
from comove.data.series import KNOWN_UNITS
from comove.errors import ConfigError, ProviderError, SymbolNotFound

if TYPE_CHECKING:
    import httpx
    import pandas as pd

    from comove.data.providers.base import TimeLike

GRAPH_URL = "https://fred.stlouisfed.org"
API_URL = "https://api.stlouisfed.org"
ENV_URL = "COMOVE_FRED_URL"


class FredProvider:
    """Macro series from FRED: the keyless graph CSV, or the API when a key is given.

    Parameters
    ----------
    api_key
        FRED API key; ``None`` uses the keyless CSV download.
    base_url
        One host for both (tests); default ``$COMOVE_FRED_URL`` or FRED's own hosts.
    """

    name = "fred"

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
        policy: RetryPolicy | None = None,
        min_interval: float = 0.5,
        timeout: float = 30.0,
    ) -> None:
        self.api_key = api_key or None
        override = base_url or env_url(ENV_URL, "")
        self.graph_url = (override or GRAPH_URL).rstrip("/")
        self.api_url = (override or API_URL).rstrip("/")
        self.http = HttpClient(
            "fred",
            policy=policy,
            min_interval=min_interval,
            timeout=timeout,
            transport=transport,
            secrets=(self.api_key,),
        )

    def close(self) -> None:
        self.http.close()

    def fetch_bars(
        self,
        symbol: str,
        interval: str = "1d",
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> pd.DataFrame:
        raise ConfigError(
            f"fred:{symbol} is a macro series, not price bars; use it as a macro source"
        )

    def fetch_series(
        self,
        series_id: str,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
    ) -> pd.Series:
        series_id = series_id.upper()
        begin = utc_naive_or_none(start)
        finish = utc_naive_or_none(end)
        try:
            if self.api_key:
                values = self._api_values(series_id, begin, finish)
                units = self._api_units(series_id)
            else:
                values = self._csv_values(series_id, begin, finish)
                units = KNOWN_UNITS.get(series_id, "")
        except ProviderError as exc:
            # Belt and braces: no message leaves this module with the key in it.
            raise type(exc)(redact(str(exc), (self.api_key,))) from None
        if begin is not None:
            values = values[values.index >= begin.normalize()]
        if finish is not None:
            values = values[values.index <= finish]
        values.attrs = {"units": units, "source": "fred", "series_id": series_id}
        return values

    # ------------------------------------------------------------------ keyless CSV

    def _csv_values(
        self, series_id: str, start: pd.Timestamp | None, end: pd.Timestamp | None
    ) -> pd.Series:
        params: dict[str, Any] = {"id": series_id}
        if start is not None:
            params["cosd"] = start.strftime("%Y-%m-%d")
        if end is not None:
            params["coed"] = end.strftime("%Y-%m-%d")
        url = f"{self.graph_url}/graph/fredgraph.csv"
        return self.http.get(url, params, parse=lambda r: _parse_csv(r, series_id))

    # ------------------------------------------------------------------ API

    def _api_params(self, series_id: str) -> dict[str, Any]:
        return {"series_id": series_id, "api_key": self.api_key, "file_type": "json"}

    def _api_values(
        self, series_id: str, start: pd.Timestamp | None, end: pd.Timestamp | None
    ) -> pd.Series:
        params = self._api_params(series_id)
        if start is not None:
            params["observation_start"] = start.strftime("%Y-%m-%d")
        if end is not None:
            params["observation_end"] = end.strftime("%Y-%m-%d")
        url = f"{self.api_url}/fred/series/observations"
        return self.http.get(url, params, parse=lambda r: _parse_observations(r, series_id))

    def _api_units(self, series_id: str) -> str:
        url = f"{self.api_url}/fred/series"
        return self.http.get(
            url, self._api_params(series_id), parse=lambda r: _parse_units(r, series_id)
        )


def _json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        raise Transient(
            "malformed",
            f"{host_of(str(response.url))} sent a reply that is not JSON "
            f"(HTTP {response.status_code})",
        ) from None


def _api_error(response: httpx.Response, payload: Any, series_id: str) -> None:
    if response.status_code < 400:
        return
    message = ""
    if isinstance(payload, dict):
        message = str(payload.get("error_message") or "")
    if "does not exist" in message.lower() or response.status_code == 404:
        raise SymbolNotFound(f"fred: unknown series {series_id!r}")
    if response.status_code in (400, 401, 403) and "api_key" in message.lower():
        raise ProviderError("fred: the FRED API key was refused (check FRED_API_KEY)")
    raise ProviderError(f"fred: HTTP {response.status_code} for {series_id}: {message or 'error'}")


def _parse_observations(response: httpx.Response, series_id: str) -> pd.Series:
    import pandas as pd

    payload = _json(response)
    _api_error(response, payload, series_id)
    observations = payload.get("observations") if isinstance(payload, dict) else None
    if not isinstance(observations, list):
        raise Transient("malformed", f"{host_of(str(response.url))} sent no observations list")
    try:
        dates = [str(o["date"]) for o in observations]
        raw = [str(o["value"]) for o in observations]
    except (KeyError, TypeError):
        raise Transient(
            "malformed", f"{host_of(str(response.url))} sent observations without date/value"
        ) from None
    return _series(pd.Series(raw, index=dates, dtype="string"), series_id, response)


def _parse_units(response: httpx.Response, series_id: str) -> str:
    payload = _json(response)
    _api_error(response, payload, series_id)
    seriess = payload.get("seriess") if isinstance(payload, dict) else None
    if not isinstance(seriess, list) or not seriess:
        raise SymbolNotFound(f"fred: unknown series {series_id!r}")
    return str(seriess[0].get("units") or "")


def _parse_csv(response: httpx.Response, series_id: str) -> pd.Series:
    import pandas as pd

    if response.status_code in (400, 404):
        raise SymbolNotFound(f"fred: unknown series {series_id!r}")
    if response.status_code >= 400:
        raise ProviderError(
            f"fred: {host_of(str(response.url))} answered HTTP {response.status_code}"
        )
    text = response.text
    if text.lstrip().lower().startswith(("<!doctype", "<html")):
        if "maintenance" in text.lower() or response.status_code >= 500:
            raise Transient(
                "maintenance",
                f"{host_of(str(response.url))} answered with a web page instead of data "
                "(down for maintenance?)",
            )
        # FRED answers an unknown id with an HTML page.
        raise SymbolNotFound(f"fred: unknown series {series_id!r}")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        raise Transient(
            "malformed", f"{host_of(str(response.url))} sent a CSV that cannot be read"
        ) from None
    columns = {c.strip().upper(): c for c in frame.columns}
    date_col = columns.get("OBSERVATION_DATE") or columns.get("DATE")
    value_col = columns.get(series_id)
    if date_col is None or value_col is None:
        raise Transient(
            "malformed",
            f"{host_of(str(response.url))} sent a CSV without the columns "
            f"observation_date,{series_id}",
        )
    raw = pd.Series(frame[value_col].to_numpy(), index=frame[date_col].to_numpy(), dtype="string")
    return _series(raw, series_id, response)


def _series(raw: pd.Series, series_id: str, response: httpx.Response) -> pd.Series:
    import numpy as np
    import pandas as pd

    from comove.data.bars import LATEST, OLDEST

    text = raw.str.strip()
    missing = text.isna() | text.isin([".", "", "NA", "#N/A"])
    values = pd.to_numeric(text.where(~missing), errors="coerce")
    dates = pd.to_datetime(pd.Series(raw.index, dtype="string"), errors="coerce", format="%Y-%m-%d")
    if bool(dates.isna().any()) or bool((values.isna() & ~missing).any()):
        raise Transient(
            "malformed", f"{host_of(str(response.url))} sent {series_id} rows that cannot be read"
        )
    if bool(np.isinf(values.to_numpy(dtype="float64")).any()) or bool(
        ((dates < OLDEST) | (dates >= LATEST)).any()
    ):
        raise ProviderError(
            f"fred: {host_of(str(response.url))} sent {series_id} values that are not finite "
            f"or dates outside {OLDEST:%Y}..{LATEST:%Y}"
        )
    series = pd.Series(
        values.to_numpy(dtype="float64"),
        index=pd.DatetimeIndex(dates.to_numpy(), name="date").as_unit("ns"),
        name=series_id,
    )
    series = series[series.notna()]
    if series.index.has_duplicates:
        raise Transient("malformed", f"{host_of(str(response.url))} repeated dates in {series_id}")
    return series.sort_index()
