"""The compact figure payload: every array stored once, decoded back to the numbers drawn."""

from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np
import pytest

import comove
from comove.pipeline import Analysis
from comove.report.charts import all_figures, template
from comove.report.payload import figure_payload, payload_json

from ..conftest import correlated_pair

TYPES = {"f4": "<f4", "i4": "<i4", "u1": "u1"}


@pytest.fixture(scope="module")
def analysis() -> Analysis:
    return comove.build_analysis(*correlated_pair(), n_boot=20)


def _decode(entry: Any) -> Any:
    """A plain reimplementation of figures.js's decoding, for the checks below."""
    if isinstance(entry, dict) and "bdata" in entry:
        flat = np.frombuffer(base64.b64decode(entry["bdata"]), dtype=TYPES[entry["dtype"]])
        if "shape" in entry:
            rows, cols = (int(n) for n in entry["shape"].split(","))
            return flat.reshape(rows, cols)
        return flat
    return entry


def _resolve(node: Any, arrays: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_resolve(n, arrays) for n in node]
    if isinstance(node, dict):
        if set(node) == {"$ref"}:
            return arrays[node["$ref"]]
        return {k: _resolve(v, arrays) for k, v in node.items()}
    return node


def test_every_array_decodes_to_the_numbers_drawn(analysis: Analysis) -> None:
    figures = all_figures(analysis)
    payload = json.loads(payload_json(figure_payload(figures)))
    arrays = {k: _decode(v) for k, v in payload["arrays"].items()}
    arrays["template"] = payload["template"]
    for key, figure in figures.items():
        shown = _resolve(payload["figures"][key]["figure"], arrays)
        assert payload["figures"][key]["title"] == figure["layout"]["title"]["text"]
        assert shown["layout"]["template"] == template()
        for original, decoded in zip(figure["data"], shown["data"], strict=True):
            for axis in ("x", "y", "z", "customdata"):
                if axis not in original or not isinstance(original[axis], np.ndarray):
                    continue
                values = original[axis]
                if values.dtype.kind == "M":
                    expected = [str(d)[:10] for d in values.astype("datetime64[D]")]
                    assert decoded[axis] == expected
                elif values.dtype.kind == "f":
                    np.testing.assert_array_equal(
                        np.asarray(decoded[axis]), values.astype("float32")
                    )
                else:
                    np.testing.assert_array_equal(np.asarray(decoded[axis]), values)


def test_the_dates_and_the_template_are_stored_once(analysis: Analysis) -> None:
    payload = figure_payload(all_figures(analysis))
    sessions = [day.strftime("%Y-%m-%d") for day in analysis.table.index]
    assert sum(1 for a in payload["arrays"].values() if a == sessions) == 1
    text = payload_json(payload)
    assert text.count('"paper_bgcolor"') == 1


def test_a_hostile_name_cannot_close_the_script_element() -> None:
    crypto, equity = correlated_pair()
    crypto.attrs["name"] = "</script><script>alert(1)</script>"
    analysis = comove.build_analysis(crypto, equity, n_boot=20)
    text = payload_json(figure_payload(all_figures(analysis)))
    assert "<" not in text
    assert ">" not in text
    names = json.loads(text)["figures"]["overlay"]["figure"]["data"]
    assert names[0]["name"] == crypto.attrs["name"]  # the same text once decoded
