"""schemathesis against the OpenAPI schema: whatever the parameters, never a 5xx."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402

if TYPE_CHECKING:
    from fastapi import FastAPI

SETTINGS = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _check(case: Any) -> None:
    response = case.call()
    assert response.status_code < 500, (case.path, case.query, response.text[:300])
    content_type = response.headers["content-type"]
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith("application/json"), content_type
    if response.status_code >= 400:
        assert set(response.json()) == {"error", "detail"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors(app: FastAPI, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {
        "/api/health", "/api/pairs", "/api/analysis", "/api/signals", "/api/backtest",
        "/api/alerts", "/api/figures",
    }  # fmt: skip

    @SETTINGS
    @given(case=st.data())
    def run(case: st.DataObject) -> None:
        operation = case.draw(st.sampled_from(operations))
        _check(case.draw(operation.as_strategy(generation_mode=mode)))

    run()


def test_stored_pair_with_generated_spans(app: FastAPI) -> None:
    """The stored pair with whatever dates and windows the schema allows."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = schema["/api/analysis"]["GET"]

    @settings(SETTINGS, max_examples=15)
    @given(case=operation.as_strategy(query={"crypto": "ETH-USD", "equity": "^RUT"}))
    def run(case: Any) -> None:
        _check(case)

    run()
