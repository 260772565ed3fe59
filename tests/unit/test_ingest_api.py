"""Every answer of POST /v1/events, over the in-memory publisher and idempotency records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from eahub.core import avro_codec, cloudevents
from eahub.core.messages import InMemoryPublisher
from eahub.core.paths import POLICIES_DIR
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.registry import agency_ids
from eahub.ingest.accept import IngestPorts
from eahub.ingest.app import create_app
from eahub.ingest.examples import example_event
from eahub.ingest.idempotency import Idempotency, InMemoryIdempotencyRecords
from eahub.ingest.tokens import TokenStore

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 20, 16, 15, tzinfo=UTC)
PROBLEM = "application/problem+json"


class Hub:
    def __init__(self, tmp_path: Path) -> None:
        self.publisher = InMemoryPublisher()
        self.records = InMemoryIdempotencyRecords()
        tokens = TokenStore(tmp_path / "tokens.json")
        self.police = tokens.issue("lancashire-police", agency_ids(POLICIES_DIR))[1]
        self.nwas = tokens.issue("nwas", agency_ids(POLICIES_DIR))[1]
        self.pseudonymiser = Pseudonymiser(b"k" * 32)
        ports = IngestPorts(publisher=self.publisher, idempotency=Idempotency(self.records),
                            pseudonymiser=self.pseudonymiser, agency_ids=agency_ids(POLICIES_DIR),
                            clock=lambda: NOW)
        self.client = TestClient(create_app(ports=ports, tokens=tokens, max_body_bytes=4096))

    def post(self, body: Any, token: str | None = None, content_type: str = "application/json") -> Any:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": content_type}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.post("/v1/events", content=data, headers=headers)


@pytest.fixture
def hub(tmp_path: Path) -> Hub:
    return Hub(tmp_path)


def assert_problem(resp: Any, status: int, fields: list[str]) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == PROBLEM
    body: dict[str, Any] = resp.json()
    assert body["status"] == status and body["type"].startswith("urn:eahub:problem:")
    assert body["title"] and body["detail"]
    assert [e["field"] for e in body.get("errors", [])] == fields
    return body


def test_202_publishes_one_message_with_key_and_cloudevents_headers(hub: Hub) -> None:
    resp = hub.post(example_event(NOW), hub.police)
    assert resp.status_code == 202
    assert resp.json() == {"event_id": "0b7e5c1e-3f0a-4c55-9d2e-8a6f1b2c3d4e",
                           "topic": "eahub.inbound.lancashire-police"}
    [msg] = hub.publisher.sent
    assert msg.topic == "eahub.inbound.lancashire-police"
    name, record = avro_codec.decode(msg.value)
    assert name == "eahub.ConcernEvent" and record["event_id"] == resp.json()["event_id"]
    ref = hub.pseudonymiser.subject_ref(record)
    assert msg.key == ref.encode()
    headers = cloudevents.as_dict(msg.headers)  # type: ignore[arg-type]
    assert headers["ce_id"] == record["event_id"]
    assert headers["ce_source"] == "/agencies/lancashire-police"
    assert headers["ce_type"] == "uk.gov.eahub.concern.v1"
    assert headers["ce_subject"] == ref
    assert headers["eahub_agency"] == "lancashire-police"


def test_idempotent_replay_gives_the_same_answer_and_no_second_message(hub: Hub) -> None:
    first = hub.post(example_event(NOW), hub.police)
    # the same event spelt differently (another offset, key order) is the same body
    again = example_event(NOW, occurred_at="2026-11-20T17:05:00+01:00")
    second = hub.post(dict(reversed(list(again.items()))), hub.police)
    assert (second.status_code, second.json()) == (first.status_code, first.json())
    assert second.headers["Idempotent-Replayed"] == "true"
    assert len(hub.publisher.sent) == 1


def test_409_on_a_different_body_under_a_used_id(hub: Hub) -> None:
    hub.post(example_event(NOW), hub.police)
    resp = hub.post(example_event(NOW, district="Burnley"), hub.police)
    assert_problem(resp, 409, ["event_id"])
    assert len(hub.publisher.sent) == 1


def test_event_id_assigned_when_absent(hub: Hub) -> None:
    obj = example_event(NOW)
    del obj["event_id"]
    ids = {hub.post(obj, hub.police).json()["event_id"] for _ in range(2)}
    assert len(ids) == 2 and len(hub.publisher.sent) == 2


def test_400_malformed_json(hub: Hub) -> None:
    for body in (b'{"event_id": ', b'{"a": 1, "a": 2}', b'{"a": NaN}', b"\xff\xfe\x00"):
        assert_problem(hub.post(body, hub.police), 400, [""])
    assert hub.publisher.sent == []


def test_401_missing_or_unknown_token(hub: Hub) -> None:
    missing = hub.post(example_event(NOW))
    assert_problem(missing, 401, ["Authorization"])
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    unknown = hub.post(example_event(NOW), "eah_not-a-token")
    assert_problem(unknown, 401, ["Authorization"])
    assert 'error="invalid_token"' in unknown.headers["WWW-Authenticate"]
    basic = hub.client.post("/v1/events", json=example_event(NOW), headers={"Authorization": "Basic eDp5"})
    assert_problem(basic, 401, ["Authorization"])
    assert hub.publisher.sent == []


def test_403_when_declared_source_is_not_the_tokens_agency(hub: Hub) -> None:
    assert_problem(hub.post(example_event(NOW), hub.nwas), 403, ["source_agency"])
    assert hub.publisher.sent == []


def test_413_body_over_the_limit_checked_before_parsing(hub: Hub) -> None:
    body = b"{" + b" " * 5000 + b"not even json"
    assert_problem(hub.post(body, hub.police), 413, [""])

    def chunks() -> Any:  # no Content-Length: the limit still holds while streaming
        yield b"[" + b"1," * 3000

    headers = {"Authorization": f"Bearer {hub.police}", "Content-Type": "application/json"}
    resp = hub.client.post("/v1/events", content=chunks(), headers=headers)
    assert_problem(resp, 413, [""])


def test_415_not_json(hub: Hub) -> None:
    assert_problem(hub.post(example_event(NOW), hub.police, "text/plain"), 415, ["Content-Type"])
    assert hub.post(example_event(NOW), hub.police, "application/json; charset=utf-8").status_code == 202


def test_422_names_every_offending_field(hub: Hub) -> None:
    name = "Personal Name Qwx"
    obj = example_event(NOW, subject={"name": name, "nhs_number": "9434765910"}, colour="blue")
    body = assert_problem(hub.post(obj, hub.police), 422, ["colour"])
    obj.pop("colour")
    resp = hub.post(obj, hub.police)
    body = assert_problem(resp, 422, ["subject.nhs_number"])
    assert body["errors"][0]["message"] == "check digit does not match"
    assert name not in resp.text and "9434765910" not in resp.text
    assert hub.publisher.sent == []


def test_503_when_the_broker_refuses_and_a_retry_then_publishes(hub: Hub) -> None:
    hub.publisher.fail_next = True
    resp = hub.post(example_event(NOW), hub.police)
    assert assert_problem(resp, 503, [])["event_id"] == example_event(NOW)["event_id"]
    assert resp.headers["Retry-After"]
    assert hub.publisher.sent == []
    assert hub.post(example_event(NOW), hub.police).status_code == 202
    assert len(hub.publisher.sent) == 1


def test_warning_for_missing_source_reference(hub: Hub) -> None:
    resp = hub.post(example_event(NOW, source_reference=None), hub.police)
    assert resp.status_code == 202
    assert [w["field"] for w in resp.json()["warnings"]] == ["source_reference"]


def test_healthz_and_openapi(hub: Hub) -> None:
    assert hub.client.get("/healthz").json() == {"status": "ok"}
    doc = hub.client.get("/openapi.json").json()
    post = doc["paths"]["/v1/events"]["post"]
    assert {"202", "400", "401", "403", "409", "413", "415", "422", "503"} <= set(post["responses"])
    assert "application/json" in post["requestBody"]["content"]
    assert "Problem" in doc["components"]["schemas"]
    event_schema = doc["components"]["schemas"]["ConcernEvent"]
    assert event_schema["properties"]["grade"]["enum"] == ["GRADE_2", "GRADE_3"]
    assert event_schema["properties"]["occurred_at"]["format"] == "date-time"
    assert {"occurred_at", "source_agency", "category", "consent"} <= set(event_schema["required"])
    assert "event_id" not in event_schema["required"]


def test_unknown_path_is_a_problem_too(hub: Hub) -> None:
    assert_problem(hub.client.get("/v1/nothing"), 404, [])


def test_422_names_an_unknown_risk_factor_code(hub: Hub) -> None:
    obj = example_event(NOW, risk_factors=["self-harm", "suicidal-ideation"])
    body = assert_problem(hub.post(obj, hub.police), 422, ["risk_factors[1]"])
    assert "unknown risk factor code 'suicidal-ideation'" in body["errors"][0]["message"]
    assert "risk_factors.json" in body["errors"][0]["message"]
    assert hub.publisher.sent == []
