"""Whole commands against the scripts a quant would write instead, as separate processes.

Each comove command runs as a fresh process, alternating with its competitor (a pandas, or
pandas + plotly, script this benchmark writes into ``benchmarks/competitors/``, which git
ignores), and the median of ``--runs`` runs of each is compared. What a user feels is the
whole process: interpreter start, imports, reading the files, the work and the output.

* ``analyze``: ``comove analyze --format csv`` on the real ETH-USD and RUT files against a
  pandas script computing the core columns (inner join, log returns, rolling correlation
  with Fisher bands and beta for 30/60/90, RSI, MACD, relative volume) written as CSV;
  also against ``python -c "import pandas"``.
* ``report``: ``comove report`` against a pandas + plotly script drawing the overlay,
  correlation with bands, RSI and MACD into one self-contained HTML; and the report's
  figure data (the file less plotly.js).
* ``signals`` and ``backtest`` against ``analyze``.
* ``--help`` of comove and of each command (seconds, and against ``python -c pass``).
* ``serve``: seconds until it listens; in Chromium (Playwright), seconds from opening the
  page until the reading's first number shows (the page's own clock) and until every chart
  is drawn, on a freshly started server and again on a cached one;
  then 50 concurrent clients on ``/api/analysis`` as the page asks for it (gzip, no rows),
  p50/p99 and errors.

Every process gets a fresh ``COMOVE_HOME`` and working folder, and one warm cache folder
(calendar schedules, compiled templates), as a user's second run would; bytecode is
written (``PYTHONDONTWRITEBYTECODE`` is dropped) as in a normal install.

Usage::

    python benchmarks/bench_cli.py [--runs 5] [--data ../shared/data] [--skip-serve | --only-serve]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from comove.report.charts import plotly_js

HERE = Path(__file__).resolve().parent
COMPETITORS = HERE / "competitors"

ANALYZE_SCRIPT = '''"""What a quant writes instead of `comove analyze`: the core columns with pandas."""
import sys

import numpy as np
import pandas as pd

crypto_path, equity_path = sys.argv[1], sys.argv[2]


def load(path):
    return pd.read_csv(path, parse_dates=["Date"], index_col="Date").rename(columns=str.lower)


crypto, equity = load(crypto_path), load(equity_path)
table = pd.DataFrame({"crypto_close": crypto["close"], "equity_close": equity["close"]}).dropna()
table["crypto_volume"] = crypto["volume"]
table["equity_volume"] = equity["volume"]
for side in ("crypto", "equity"):
    table[f"{side}_ret"] = np.log(table[f"{side}_close"]).diff()
for w in (30, 60, 90):
    corr = table["crypto_ret"].rolling(w).corr(table["equity_ret"])
    z = np.arctanh(corr.clip(-0.999999, 0.999999))
    half = 1.959963984540054 / np.sqrt(w - 3)
    table[f"corr_{w}"] = corr
    table[f"corr_{w}_lo"] = np.tanh(z - half)
    table[f"corr_{w}_hi"] = np.tanh(z + half)
    cov = table["crypto_ret"].rolling(w).cov(table["equity_ret"])
    table[f"beta_{w}"] = cov / table["equity_ret"].rolling(w).var()
for side in ("crypto", "equity"):
    close = table[f"{side}_close"]
    delta = close.diff()
    gain = delta.clip(lower=0).ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
    loss = (-delta.clip(upper=0)).ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
    table[f"rsi_{side}"] = 100 - 100 / (1 + gain / loss)
    macd = close.ewm(span=12, adjust=False).mean() - close.ewm(span=26, adjust=False).mean()
    signal = macd.ewm(span=9, adjust=False).mean()
    table[f"macd_{side}"], table[f"macd_signal_{side}"] = macd, signal
    table[f"macd_hist_{side}"] = macd - signal
    volume = table[f"{side}_volume"]
    table[f"relvol_{side}"] = volume / volume.rolling(20).mean()
sys.stdout.write(table.to_csv())
'''

REPORT_SCRIPT = '''"""What a quant writes instead of `comove report`: four plotly charts in one HTML file."""
import sys

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

crypto_path, equity_path, out = sys.argv[1], sys.argv[2], sys.argv[3]


def load(path):
    return pd.read_csv(path, parse_dates=["Date"], index_col="Date").rename(columns=str.lower)


crypto, equity = load(crypto_path), load(equity_path)
table = pd.DataFrame({"crypto": crypto["close"], "equity": equity["close"]}).dropna()
returns = np.log(table).diff()
overlay = go.Figure()
for column in ("crypto", "equity"):
    rebased = 100 * table[column] / table[column].iloc[0]
    overlay.add_trace(go.Scatter(x=table.index, y=rebased, name=column))
correlation = go.Figure()
for w in (30, 60, 90):
    corr = returns["crypto"].rolling(w).corr(returns["equity"])
    z = np.arctanh(corr.clip(-0.999999, 0.999999))
    half = 1.959963984540054 / np.sqrt(w - 3)
    band = {"line": {"width": 0}, "showlegend": False}
    correlation.add_trace(go.Scatter(x=table.index, y=np.tanh(z - half), **band))
    correlation.add_trace(go.Scatter(x=table.index, y=np.tanh(z + half), fill="tonexty", **band))
    correlation.add_trace(go.Scatter(x=table.index, y=corr, name=f"corr {w}"))
rsi = make_subplots(rows=2, cols=1, shared_xaxes=True)
macd_figure = make_subplots(rows=2, cols=1, shared_xaxes=True)
for row, column in enumerate(("crypto", "equity"), start=1):
    close = table[column]
    delta = close.diff()
    gain = delta.clip(lower=0).ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
    loss = (-delta.clip(upper=0)).ewm(alpha=1 / 14, adjust=False, min_periods=14).mean()
    rsi.add_trace(go.Scatter(x=table.index, y=100 - 100 / (1 + gain / loss)), row=row, col=1)
    macd = close.ewm(span=12, adjust=False).mean() - close.ewm(span=26, adjust=False).mean()
    signal = macd.ewm(span=9, adjust=False).mean()
    macd_figure.add_trace(go.Bar(x=table.index, y=macd - signal, name="hist"), row=row, col=1)
    macd_figure.add_trace(go.Scatter(x=table.index, y=macd, name="MACD"), row=row, col=1)
    macd_figure.add_trace(go.Scatter(x=table.index, y=signal, name="signal"), row=row, col=1)
figures = [overlay, correlation, rsi, macd_figure]
parts = [f.to_html(full_html=False, include_plotlyjs=i == 0) for i, f in enumerate(figures)]
with open(out, "w", encoding="utf-8") as handle:
    handle.write("<html><body>" + "".join(parts) + "</body></html>")
'''


def write_competitors() -> dict[str, Path]:
    COMPETITORS.mkdir(exist_ok=True)
    scripts = {"analyze": ANALYZE_SCRIPT, "report": REPORT_SCRIPT}
    paths = {}
    for name, text in scripts.items():
        path = COMPETITORS / f"{name}_competitor.py"
        path.write_text(text, encoding="utf-8")
        paths[name] = path
    return paths


class Runner:
    """Runs commands as fresh processes in a clean home, folder and warm cache."""

    def __init__(self, root: Path) -> None:
        self.root = root
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(
            XDG_CACHE_HOME=str(root / "cache"),
            XDG_CONFIG_HOME=str(root / "config"),
            COMOVE_HOME=str(root / "home"),
            PYTHONWARNINGS="ignore",
        )
        self.env = env
        self.cwd = root / "work"
        self.cwd.mkdir(parents=True, exist_ok=True)

    def run(self, command: Sequence[str]) -> float:
        start = time.perf_counter()
        subprocess.run(
            command,
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        return time.perf_counter() - start

    def medians(self, commands: Mapping[str, Sequence[str]], runs: int) -> dict[str, float]:
        for command in commands.values():
            self.run(command)  # warm-up: bytecode, calendar cache, compiled templates
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(runs):
            for name, command in commands.items():
                times[name].append(self.run(command))
        return {name: statistics.median(values) for name, values in times.items()}


def comove_command() -> list[str]:
    found = shutil.which("comove")
    if found is None:
        raise SystemExit("comove is not installed in this environment (pip install -e .)")
    return [found]


def ratio_line(label: str, mine: float, theirs: float, target: str) -> str:
    return f"  {label:<44} {mine:6.3f} s vs {theirs:6.3f} s  ratio {mine / theirs:5.2f}  ({target})"


def bench_commands(runner: Runner, data: Path, runs: int) -> None:
    scripts = write_competitors()
    comove = comove_command()
    crypto, equity = data / "prices" / "ETH-USD.csv", data / "prices" / "RUT.csv"
    pair = ["--crypto", f"csv:{crypto}", "--equity", f"csv:{equity}"]
    python = sys.executable
    report_out = runner.root / "work" / "report.html"

    timed = runner.medians(
        {
            "analyze": [*comove, "analyze", *pair, "--format", "csv"],
            "analyze script": [python, str(scripts["analyze"]), str(crypto), str(equity)],
            "import pandas": [python, "-c", "import pandas"],
            "signals": [*comove, "signals", *pair],
            "backtest": [*comove, "backtest", *pair],
            "report": [*comove, "report", *pair, "--out", str(report_out)],
            "report script": [
                python,
                str(scripts["report"]),
                str(crypto),
                str(equity),
                str(runner.root / "work" / "script.html"),
            ],
        },
        runs,
    )
    print(f"whole processes, median of {runs} alternating runs (after one warm-up each):")
    print(
        ratio_line(
            "comove analyze / pandas script", timed["analyze"], timed["analyze script"], "≤ 1.0"
        )
    )
    print(
        ratio_line(
            "comove analyze / python -c 'import pandas'",
            timed["analyze"],
            timed["import pandas"],
            "≤ 1.8",
        )
    )
    print(
        ratio_line(
            "comove report / pandas + plotly script",
            timed["report"],
            timed["report script"],
            "≤ 1.0",
        )
    )
    print(
        ratio_line("comove signals / comove analyze", timed["signals"], timed["analyze"], "≤ 1.5")
    )
    print(
        ratio_line("comove backtest / comove analyze", timed["backtest"], timed["analyze"], "≤ 1.5")
    )
    beyond = report_out.stat().st_size - len(plotly_js().encode())
    print(
        f"  report file {report_out.stat().st_size / 1e6:.2f} MB, figure data and page beyond plotly.js "
        f"{beyond / 1e6:.2f} MB (≤ 1 MB)"
    )

    helps = {"python -c pass": [python, "-c", "pass"], "comove --help": [*comove, "--help"]}
    for name in (
        "analyze",
        "report",
        "signals",
        "backtest",
        "fetch",
        "import",
        "scan",
        "serve",
        "watch",
    ):
        helps[f"comove {name} --help"] = [*comove, name, "--help"]
    help_times = runner.medians(helps, runs)
    base = help_times.pop("python -c pass")
    top = help_times.pop("comove --help")
    slowest = max(help_times, key=help_times.__getitem__)
    print(
        f"  --help: comove --help {top:.3f} s, slowest command {slowest} "
        f"{help_times[slowest]:.3f} s, python -c pass {base:.3f} s (≤ 0.35 s)"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def import_pair(runner: Runner, data: Path) -> None:
    comove = comove_command()
    for file, symbol in (("ETH-USD.csv", "ETH-USD"), ("RUT.csv", "^RUT"), ("SPY.csv", "SPY")):
        runner.run([*comove, "import", f"csv:{data / 'prices' / file}", "--as", symbol])


def start_server(runner: Runner, port: int) -> tuple[subprocess.Popen[bytes], float]:
    import httpx

    start = time.perf_counter()
    server = subprocess.Popen(
        [*comove_command(), "serve", "--port", str(port)],
        cwd=runner.cwd,
        env=runner.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while True:
        try:
            # Listening: it accepts a connection and answers (a static file; the API
            # answers as soon as the store is read).
            httpx.get(f"http://127.0.0.1:{port}/static/style.css", timeout=1.0)
            return server, time.perf_counter() - start
        except httpx.HTTPError:
            if server.poll() is not None:
                raise SystemExit("comove serve exited") from None
            time.sleep(0.02)


DRAWN = """() => {
  const charts = [...document.querySelectorAll('div[id^=chart-]')];
  return document.body.dataset.loaded !== undefined && charts.length > 0 &&
    charts.every((c) => c.querySelector('.main-svg'));
}"""


# When the reading's headline gets its text, in the page's own clock (from navigation): a
# poll from Playwright would only be answered once the charts free the main thread.
FIRST_NUMBER = """new MutationObserver((_, observer) => {
  const headline = document.getElementById('headline');
  if (headline && headline.textContent) {
    window.__firstNumber = performance.now();
    observer.disconnect();
  }
}).observe(document, {subtree: true, childList: true, characterData: true});"""


def page_seconds(page: object, url: str) -> tuple[float, float]:
    """Seconds from opening the page to the reading's first number, and to every chart."""
    start = time.perf_counter()
    page.goto(url)  # type: ignore[attr-defined]
    page.wait_for_function(DRAWN, timeout=120_000)  # type: ignore[attr-defined]
    charts = time.perf_counter() - start
    number = page.evaluate("() => window.__firstNumber") / 1000  # type: ignore[attr-defined]
    return number, charts


def wrk_load(url: str, clients: int, duration: float) -> str | None:
    """The load from wrk (Debian's ``wrk``), a C client that leaves the CPUs to the server;
    ``None`` when it is not installed."""
    found = shutil.which("wrk")
    if found is None:
        return None
    run = subprocess.run(
        [found, "-t1", f"-c{clients}", f"-d{int(duration)}s", "--latency",
         "-H", "Accept-Encoding: gzip", url],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    wanted = ("50%", "99%", "Requests/sec", "Non-2xx", "Socket errors")
    lines = [line.strip() for line in run.stdout.splitlines() if line.strip().startswith(wanted)]
    return "wrk: " + "; ".join(lines) + ("" if any("Non-2xx" in x for x in lines) else "; errors 0")


async def load(url: str, clients: int, duration: float) -> tuple[list[float], int]:
    import httpx

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + duration

    async def client() -> None:
        nonlocal errors
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(
            timeout=60, limits=limits, headers={"Accept-Encoding": "gzip"}
        ) as session:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    if (await session.get(url)).status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors


def bench_serve(runner: Runner, data: Path, runs: int, clients: int, duration: float) -> None:
    from playwright.sync_api import sync_playwright

    import_pair(runner, data)
    listening: list[float] = []
    fresh: list[tuple[float, float]] = []
    cached: list[tuple[float, float]] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=shutil.which("chromium") or None,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for _ in range(runs):
            port = free_port()
            server, seconds = start_server(runner, port)
            try:
                listening.append(seconds)
                page = browser.new_page()
                page.add_init_script(FIRST_NUMBER)
                fresh.append(page_seconds(page, f"http://127.0.0.1:{port}/"))
                cached.append(page_seconds(page, f"http://127.0.0.1:{port}/"))
                page.close()
            finally:
                server.terminate()
                server.wait(timeout=10)
        browser.close()
    # The load runs after Playwright's own event loop has closed.
    port = free_port()
    server, _ = start_server(runner, port)
    try:
        query = "crypto=ETH-USD&equity=%5ERUT&windows=30,60,90&columns="
        url = f"http://127.0.0.1:{port}/api/analysis?{query}"
        __import__("httpx").get(url, timeout=120)
        from_wrk = wrk_load(url, clients, duration)
        latencies, errors = asyncio.run(load(url, clients, duration))
    finally:
        server.terminate()
        server.wait(timeout=10)
    ms = sorted(1000 * x for x in latencies)
    print(f"serve (real ETH-USD vs ^RUT in the store, median of {runs} fresh servers):")
    print(f"  listening after {statistics.median(listening):.2f} s (≤ 2 s)")
    for name, loads, target in (("fresh", fresh, 1.5), ("cached", cached, 0.3)):
        number = statistics.median(x for x, _ in loads)
        charts = statistics.median(x for _, x in loads)
        print(
            f"  {name} server: the reading's first number {number:.2f} s after opening the page, "
            f"every chart drawn {charts:.2f} s (≤ {target:g} s)"
        )
    print(
        f"  /api/analysis as the page asks (gzip, no rows), {clients} clients x {duration:g} s "
        "(p99 ≤ 100 ms, 0 errors):"
    )
    if from_wrk is not None:
        print(f"    {from_wrk}")
    print(
        "    httpx clients in this process (sharing the CPUs with the server): "
        f"{len(ms)} requests, p50 {ms[len(ms) // 2]:.1f} ms, p99 {ms[int(len(ms) * 0.99)]:.1f} ms, "
        f"errors {errors}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (median)")
    parser.add_argument("--data", type=Path, default=HERE.parent.parent / "shared" / "data")
    parser.add_argument("--skip-serve", action="store_true", help="only the commands")
    parser.add_argument("--only-serve", action="store_true", help="only the dashboard")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    args = parser.parse_args()
    if not (args.data / "prices" / "ETH-USD.csv").is_file():
        raise SystemExit(f"no real data in {args.data} (give --data PATH)")
    with tempfile.TemporaryDirectory() as folder:
        runner = Runner(Path(folder))
        print(f"machine: {os.cpu_count()} cpus; python {sys.version.split()[0]}")
        if not args.only_serve:
            bench_commands(runner, args.data, args.runs)
        if not args.skip_serve:
            bench_serve(runner, args.data, args.runs, args.clients, args.duration)


if __name__ == "__main__":
    main()
