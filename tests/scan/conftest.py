"""Small seeded universes for the scan tests (never the network)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from comove.scan.synthetic import generate_universe, write_bars


def holey(frames: dict[str, pd.DataFrame], seed: int = 5) -> dict[str, pd.DataFrame]:
    """Copies with holes: a crypto asset missing days (some on sessions), an equity missing sessions."""
    rng = np.random.default_rng(seed)
    out = dict(frames)
    crypto = next(n for n, f in frames.items() if f.attrs["is_24_7"] and len(f) > 400)
    equity = next(n for n, f in frames.items() if not f.attrs["is_24_7"])
    for name, count in ((crypto, 25), (equity, 12)):
        frame = frames[name]
        drop = rng.choice(np.arange(5, len(frame) - 5), count, replace=False)
        kept = frame.drop(frame.index[drop])
        kept.attrs = dict(frame.attrs)
        out[f"{name}-holes"] = kept
    return out


@pytest.fixture(scope="session")
def universe() -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    frames, bench = generate_universe(24, 420, seed=11, start="2019-01-02")
    assert isinstance(next(iter(frames.values())), pd.DataFrame)
    return holey(frames), bench


@pytest.fixture
def universe_folder(
    tmp_path: Path, universe: tuple[dict[str, pd.DataFrame], pd.DataFrame]
) -> tuple[Path, Path]:
    frames, bench = universe
    folder = tmp_path / "universe"
    folder.mkdir()
    for i, (name, frame) in enumerate(frames.items()):
        write_bars(frame, folder / name, "parquet" if i % 3 == 0 else "csv")
    return folder, write_bars(bench, tmp_path / "BENCH")
