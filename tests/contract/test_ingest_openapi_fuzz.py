"""A schemathesis run against ingest's own OpenAPI document: every route the document describes (including
`/v1/overrides`, composed with the hub's real break-glass, and the public `/healthz` and `/readyz`) is
exercised with generated valid and invalid requests — a bounded number of examples per route — on the real
app over the real embedded broker and SQLite. No answer may be a 5xx, and every 4xx is a problem detail."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from eahub.core import topics
from eahub.core.broker import EmbeddedBroker
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.hub.break_glass import BreakGlass
from eahub.hub.init import initialise
from eahub.ingest.bootstrap import build_app
from eahub.ingest.tokens import TokenStore

pytestmark = pytest.mark.contract
EXAMPLES_PER_ROUTE = 60


@pytest.fixture(scope="module")
def ingest(tmp_path_factory: pytest.TempPathFactory, broker: EmbeddedBroker) -> Iterator[tuple[Any, dict[str, str]]]:
    hub = HubSettings(data_dir=tmp_path_factory.mktemp("fuzz") / "data", broker_port=broker.port)
    initialise(hub)
    topics.create_topics(hub, agency_ids(hub.policies_dir))
    token = TokenStore.in_data_dir(hub.data_dir).issue("lancashire-police", agency_ids(hub.policies_dir))[1]
    break_glass = BreakGlass(hub)
    app = build_app(hub, overrides=break_glass)

    @asynccontextmanager
    async def keep_open(_app: Any) -> AsyncIterator[None]:
        yield  # the test clients start and stop the app per request: close the publisher once, at the end

    app.router.lifespan_context = keep_open
    try:
        yield app, {"Authorization": f"Bearer {token}"}
    finally:
        app.state.ports.publisher.close()
        break_glass.close()


def _operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_request_gets_a_server_error(ingest: tuple[Any, dict[str, str]], mode: GenerationMode) -> None:
    app, auth = ingest
    seen: dict[str, int] = {}
    for operation in _operations(app):

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES_PER_ROUTE, deadline=None, suppress_health_check=list(HealthCheck),
                  database=None)
        def run(case: Any) -> None:
            if mode is GenerationMode.POSITIVE and case.path == "/v1/events" and isinstance(case.body, dict):
                case.body["source_agency"] = "lancashire-police"  # the token's agency: reach the validation
            response = case.call(headers=auth)
            key = f"{case.method} {case.path} {response.status_code}"
            seen[key] = seen.get(key, 0) + 1
            assert response.status_code < 500 or response.status_code == 503, \
                f"{case.method} {case.path}: {response.status_code} {response.text[:200]}"
            if response.status_code >= 400:
                assert response.headers.get("content-type", [""])[0].startswith("application/problem+json"), key

        try:
            run()
        except Unsatisfiable:  # nothing to make invalid (a route without parameters or body, in negative mode)
            assert mode is GenerationMode.NEGATIVE and operation.method.upper() == "GET"
    print(mode.value, sorted(seen.items()))
    assert not [k for k in seen if k.endswith((" 500", " 502", " 504"))]


def test_the_document_describes_every_body_and_which_routes_are_public(ingest: tuple[Any, dict[str, str]]) -> None:
    doc = ingest[0].openapi()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in ("post", "put", "patch"):
                assert "requestBody" in operation, f"{method.upper()} {path} describes no body"
    assert doc["paths"]["/healthz"]["get"]["security"] == [] and doc["paths"]["/readyz"]["get"]["security"] == []


VALID = ('{"occurred_at": "2026-11-20T16:00:00Z", "reported_at": "2026-11-20T16:10:00Z", '
         '"source_agency": "lancashire-police", "category": "MENTAL_HEALTH", "grade": "GRADE_3", '
         '"security_marking": "OFFICIAL", "district": "Preston", "subject": {"name": "X"}, '
         '"consent": {"status": "NOT_SOUGHT"}')


@pytest.mark.parametrize(("body", "content_type"), [
    (VALID.replace('"Preston"', '"\\ud800"') + "}", "application/json"),  # a lone surrogate escape
    ("[" * 1000 + "]" * 1000, "application/json"),  # nested 1,000 deep
    (VALID + ', "narrative": ' + '{"a": ' * 1000 + "1" + "}" * 1000 + "}", "application/json"),
    (VALID + ', "district": 1' + "0" * 5000 + "}", "application/json"),  # a huge number
    (VALID + ', "narrative": NaN}', "application/json"),
    (VALID + ', "narrative": Infinity}', "application/json"),
    (VALID + ', "district": "Chorley"}', "application/json"),  # a duplicate key
    (VALID.replace("Preston", "Pr\xe9ston").encode("latin-1").decode("latin-1") + "}", "application/json"),
    ("", "application/json"),
])
def test_hand_made_bad_inputs_are_4xx_problem_details(ingest: tuple[Any, dict[str, str]], body: str,
                                                      content_type: str) -> None:
    app, auth = ingest
    raw = body.encode("latin-1") if "\xe9" in body else body.encode("utf-8", "surrogatepass")
    with TestClient(app) as client:
        response = client.post("/v1/events", content=raw, headers={**auth, "Content-Type": content_type})
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:200])
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_body_in_utf16_is_refused_with_a_problem(ingest: tuple[Any, dict[str, str]]) -> None:
    app, auth = ingest
    with TestClient(app) as client:
        response = client.post("/v1/events", content=(VALID + "}").encode("utf-16"),
                               headers={**auth, "Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")
