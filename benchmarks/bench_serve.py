"""Load on the dashboard API: N concurrent clients on ``/api/analysis`` for a while.

Starts the server (uvicorn, one process, in a subprocess on 127.0.0.1) over a warm store,
then runs ``--clients`` concurrent HTTP clients (httpx, asyncio, one connection each) for
``--duration`` seconds and reports requests/s, p50/p99 latency, errors and the server's
peak memory (``VmHWM`` from ``/proc/<pid>/status``). The clients share the machine with
the server, so on a small machine they take some of its CPU.

Usage::

    python benchmarks/bench_serve.py [--duration 30] [--clients 50] [--store PATH]

Without ``--store``, a store holding the seeded synthetic demo pair, S&P 500 bars and the
demo macro series is written to a temporary folder first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

SERVER = """
import sys, uvicorn
from comove.config import Settings
from comove.web.app import create_app
settings = Settings(
    store_path=sys.argv[1], crypto_sources=("yahoo:ETH-USD",), equity_sources=("yahoo:^RUT",),
    large_cap_sources=("yahoo:^GSPC",),
)
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def demo_store(path: Path) -> Path:
    from comove.data.demo import demo_macro, demo_pair
    from comove.data.store import Store

    crypto, equity = demo_pair()
    series, large_caps = demo_macro(equity)
    with Store(path) as store:
        store.write_bars("yahoo", "ETH-USD", "1d", crypto)
        store.write_bars("yahoo", "^RUT", "1d", equity)
        store.write_bars("yahoo", "^GSPC", "1d", large_caps)
        for name, values in series.items():
            store.write_series(name, values, units=str(values.attrs["units"]))
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return -1


def wait_ready(base: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


async def load(
    url: str, clients: int, duration: float, encoding: str
) -> tuple[list[float], int, int]:
    latencies: list[float] = []
    errors = 0
    body_bytes = 0
    deadline = time.perf_counter() + duration

    async def client() -> None:
        nonlocal errors, body_bytes
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        headers = {"Accept-Encoding": encoding}
        async with httpx.AsyncClient(timeout=60, limits=limits, headers=headers) as session:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                try:
                    response = await session.get(url)
                    if response.status_code != 200:
                        errors += 1
                    body_bytes = int(response.headers.get("content-length", 0))
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors, body_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--store", type=Path, help="a warm store (default: a demo store)")
    parser.add_argument(
        "--gzip",
        action="store_true",
        help="ask for gzip (the server compresses each answer once; the clients then pay "
        "for decompressing on the same CPUs)",
    )
    parser.add_argument("--query", default="windows=30,60,90", help="query of /api/analysis")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        store = args.store or demo_store(Path(folder) / "comove.duckdb")
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(store), str(port)],
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_ready(base)
            url = f"{base}/api/analysis?{args.query}"
            start = time.perf_counter()
            first = httpx.get(url, timeout=120)
            cold = time.perf_counter() - start
            first.raise_for_status()
            idle_rss = memory_kb(server.pid, "VmRSS")
            latencies, errors, size = asyncio.run(
                load(url, args.clients, args.duration, "gzip" if args.gzip else "identity")
            )
            peak = memory_kb(server.pid, "VmHWM")
        finally:
            server.terminate()
            server.wait(timeout=10)
    ms = np.array(latencies) * 1000.0
    print(f"server: uvicorn, 1 process, 127.0.0.1; store {Path(store).name}; cpus {os.cpu_count()}")
    print(
        f"first (cold) /api/analysis: {cold * 1000:.0f} ms, {len(first.content) / 1e6:.2f} MB body"
    )
    print(
        f"{args.clients} clients x {args.duration:g} s on /api/analysis?{args.query} "
        f"({size / 1e6:.2f} MB per answer{', gzip' if args.gzip else ''})"
    )
    print(f"  requests: {len(ms)}  ({len(ms) / args.duration:.1f} req/s)  errors: {errors}")
    print(
        f"  latency ms: p50 {np.percentile(ms, 50):.1f}  p90 {np.percentile(ms, 90):.1f}  "
        f"p99 {np.percentile(ms, 99):.1f}  max {ms.max():.1f}"
    )
    print(
        f"  server memory: {idle_rss / 1024:.0f} MB after warm-up, peak (VmHWM) {peak / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
