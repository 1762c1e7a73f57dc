"""Cache-busting load on the dashboard: every request a new ``since``, beside a normal user.

Starts ``comove serve`` (one process, 127.0.0.1 only) over a store holding the real
ETH-USD and ^RUT files (or the seeded demo pair without ``--data``), then for
``--duration`` seconds runs ``--clients`` clients that each ask ``/api/analysis`` with a
``since`` no one asked before, and one more client asking what the page asks for the
cached pair. Prints, for each group, requests, p50/p99 latency, errors and 503s (the
bounded queue shedding load, with ``Retry-After``).

Targets (issue 14): the cache-busting clients p99 ≤ 2 s with 0 errors; the cached client
p99 ≤ 200 ms meanwhile. With Debian's ``wrk`` installed the cache-busting load comes from
it (a C client, so the load measures the server rather than 50 Python clients sharing its
two cores); the Python clients run too, for comparison.

Usage::

    python benchmarks/bench_hostile_load.py [--clients 50] [--duration 20] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
PAGE = "crypto=ETH-USD&equity=%5ERUT&windows=30,60,90"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fill_store(env: dict[str, str], data: Path | None) -> None:
    comove = shutil.which("comove") or sys.exit("comove is not installed (pip install -e .[web])")
    if data is None:
        code = (
            "from comove.data.demo import demo_pair\n"
            "from comove.data.store import Store\n"
            "from comove.config import default_store_path\n"
            "crypto, equity = demo_pair()\n"
            "with Store(default_store_path()) as s:\n"
            "    s.write_bars('yahoo', 'ETH-USD', '1d', crypto)\n"
            "    s.write_bars('yahoo', '^RUT', '1d', equity)\n"
        )
        subprocess.run([sys.executable, "-c", code], env=env, check=True)
        return
    for file, symbol in (("ETH-USD.csv", "ETH-USD"), ("RUT.csv", "^RUT")):
        subprocess.run(
            [comove, "import", f"csv:{data / 'prices' / file}", "--as", symbol],
            env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip


async def run_load(base: str, clients: int, duration: float) -> dict[str, list[float] | int]:
    first = pd.Timestamp("2018-06-01")
    spans = (first + pd.Timedelta(days=i) for i in itertools.count())
    results: dict[str, list[float] | int] = {
        "busting": [], "busting_errors": 0, "busting_503": 0,
        "cached": [], "cached_errors": 0, "cached_503": 0,
    }  # fmt: skip
    deadline = time.perf_counter() + duration

    async def client(kind: str) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        headers = {"Accept-Encoding": "gzip"}
        async with httpx.AsyncClient(timeout=60, limits=limits, headers=headers) as session:
            while time.perf_counter() < deadline:
                if kind == "busting":
                    url = f"{base}/api/analysis?{PAGE}&since={next(spans):%Y-%m-%d}&columns=corr_60"
                else:
                    url = f"{base}/api/analysis?{PAGE}&columns="
                start = time.perf_counter()
                try:
                    response = await session.get(url)
                    if response.status_code == 503:
                        results[f"{kind}_503"] += 1  # type: ignore[operator]
                        await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                        continue
                    if response.status_code != 200:
                        results[f"{kind}_errors"] += 1  # type: ignore[operator]
                except httpx.HTTPError:
                    results[f"{kind}_errors"] += 1  # type: ignore[operator]
                results[kind].append(time.perf_counter() - start)  # type: ignore[union-attr]

    await asyncio.gather(client("cached"), *(client("busting") for _ in range(clients)))
    return results


# A new day each request, starting 2018-06-01: what no one asked before.
WRK_SCRIPT = f"""
counter = 0
request = function()
  counter = counter + 1
  local day = os.time{{year=2018, month=6, day=1, hour=12}} + counter * 86400
  local since = os.date("!%Y-%m-%d", day)
  return wrk.format("GET", "/api/analysis?{PAGE}&columns=corr_60&since=" .. since)
end
"""


def wrk_busting(
    base: str, clients: int, duration: float, folder: Path
) -> subprocess.Popen[str] | None:
    found = shutil.which("wrk")
    if found is None:
        return None
    script = folder / "busting.lua"
    script.write_text(WRK_SCRIPT)
    return subprocess.Popen(
        [found, "-t1", f"-c{clients}", f"-d{int(duration)}s", "--timeout", "30s", "--latency",
         "-s", str(script), base],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


async def cached_only(base: str, duration: float) -> list[float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + duration
    async with httpx.AsyncClient(timeout=60, headers={"Accept-Encoding": "gzip"}) as session:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            response = await session.get(f"{base}/api/analysis?{PAGE}&columns=")
            response.raise_for_status()
            latencies.append(time.perf_counter() - start)
    return latencies


def summary(latencies: list[float]) -> str:
    if not latencies:
        return "no answers"
    ms = np.array(latencies) * 1000
    return (
        f"{len(ms)} answers, p50 {np.percentile(ms, 50):.0f} ms, p99 {np.percentile(ms, 99):.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--data", type=Path, default=None, help="the shared data folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update(COMOVE_HOME=folder, XDG_CACHE_HOME=str(Path(folder) / "cache"))
        fill_store(env, args.data)
        port = free_port()
        server = subprocess.Popen(
            [shutil.which("comove") or "comove", "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if (
                        httpx.get(f"{base}/api/analysis?{PAGE}&columns=", timeout=60).status_code
                        == 200
                    ):
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the server did not start")
                time.sleep(0.2)
            wrk = wrk_busting(base, args.clients, args.duration, Path(folder))
            if wrk is not None:
                cached = asyncio.run(cached_only(base, args.duration))
                report, _ = wrk.communicate(timeout=args.duration + 60)
            results = asyncio.run(run_load(base, args.clients, args.duration))
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"{args.clients} clients x {args.duration:g} s, each request a new since (127.0.0.1):")
    if wrk is not None:
        wanted = ("50%", "99%", "Requests/sec", "Non-2xx", "Socket errors", "requests in")
        lines = [line.strip() for line in report.splitlines() if line.strip().startswith(wanted)]
        print("  wrk, cache-busting: " + "; ".join(lines) + " (p99 ≤ 2 s, 0 errors)")
        print(f"  one client on the cached pair meanwhile: {summary(cached)} (p99 ≤ 200 ms)")
        print("  the same with Python clients (sharing the two cores with the server):")
    print(
        f"  cache-busting: {summary(results['busting'])}; errors {results['busting_errors']}, "  # type: ignore[arg-type]
        f"503 {results['busting_503']} (p99 ≤ 2 s, 0 errors)"
    )
    print(
        f"  one client on the cached pair meanwhile: {summary(results['cached'])}; "  # type: ignore[arg-type]
        f"errors {results['cached_errors']}, 503 {results['cached_503']} (p99 ≤ 200 ms)"
    )


if __name__ == "__main__":
    main()
