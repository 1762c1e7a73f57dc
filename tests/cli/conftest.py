"""The scan command's tests use the scan suite's seeded universes."""

from __future__ import annotations

from tests.scan.conftest import universe, universe_folder

__all__ = ["universe", "universe_folder"]
