"""Figures as one compact payload: every array stored once, numbers as typed arrays.

What the report embeds and the dashboard's ``/api/figures`` answers::

    {"template": {...},                      # plotly_white, once
     "arrays": {"a0": ["2024-01-02", ...],   # dates as ISO text
                "a1": {"dtype": "f4", "bdata": "..."}},   # numbers: base64 typed arrays
     "figures": {"overlay": {"title": "...", "figure": {"data": [...], "layout": {...}}}}}

Inside a figure each array is ``{"$ref": "a1"}`` and the template ``{"$ref": "template"}``;
``figures.js`` resolves them. Numbers are float32 (seven significant digits, beyond what
any chart shows), so a report's figure data is a few hundred kilobytes, not megabytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from comove.report.charts import Figure, displayed, static_file, template

TYPED = {"f": "f4", "i": "i4", "u": "u1", "b": "u1"}


def figures_js() -> str:
    """The browser code that resolves a payload and draws it (shared by report and dashboard)."""
    return static_file("figures.js").read_text(encoding="utf-8")


class _Arrays:
    """The payload's array table: identical arrays (the dates of every trace) stored once."""

    def __init__(self) -> None:
        self.table: dict[str, Any] = {}
        self._ids: dict[bytes, str] = {}

    def ref(self, values: np.ndarray) -> dict[str, str]:
        digest = hashlib.blake2b(digest_size=16)
        digest.update(f"{values.dtype.str}{values.shape}".encode())
        digest.update(
            np.ascontiguousarray(values).tobytes()
            if values.dtype.kind != "O"
            else repr(values.tolist()).encode()
        )
        key = digest.digest()
        found = self._ids.get(key)
        if found is None:
            found = f"a{len(self.table)}"
            self._ids[key] = found
            self.table[found] = _encode(values)
        return {"$ref": found}


def _encode(values: np.ndarray) -> Any:
    if values.dtype.kind == "M":
        stamps = values.astype("datetime64[s]")
        if bool((stamps == stamps.astype("datetime64[D]")).all()):
            text = np.datetime_as_string(stamps, unit="D")
        else:
            text = np.char.replace(np.datetime_as_string(stamps, unit="s"), "T", " ")
        return [None if t == "NaT" else str(t) for t in text.ravel().tolist()]
    kind = TYPED.get(values.dtype.kind)
    if kind is None:
        return values.tolist()
    flat = np.ascontiguousarray(values, dtype=np.dtype(kind).newbyteorder("<"))
    encoded: dict[str, str] = {"dtype": kind, "bdata": base64.b64encode(flat.tobytes()).decode()}
    if values.ndim == 2:
        encoded["shape"] = f"{values.shape[0]},{values.shape[1]}"
    return encoded


def _walk(node: Any, arrays: _Arrays, shared: Mapping[int, str]) -> Any:
    if id(node) in shared:
        return {"$ref": shared[id(node)]}
    if isinstance(node, np.ndarray):
        return arrays.ref(node)
    if isinstance(node, dict):
        return {key: _walk(value, arrays, shared) for key, value in node.items()}
    if isinstance(node, list | tuple):
        return [_walk(value, arrays, shared) for value in node]
    if isinstance(node, np.generic):
        return node.item()
    return node


def figure_payload(figures: Mapping[str, Figure]) -> dict[str, Any]:
    """The payload of ``figures`` (keyed as they will be drawn), titles split off."""
    arrays = _Arrays()
    shared = {id(template()): "template"}
    drawn: dict[str, Any] = {}
    for key, figure in figures.items():
        title, shown = displayed(key, figure)
        drawn[key] = {"title": title, "figure": _walk(shown, arrays, shared)}
    return {"template": template(), "arrays": arrays.table, "figures": drawn}


def payload_json(payload: Mapping[str, Any]) -> str:
    """The payload as compact JSON, safe inside a ``<script>`` element: ``<``, ``>`` and
    ``&`` (which only occur inside strings) written as ``\\u003c``-style escapes."""
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
