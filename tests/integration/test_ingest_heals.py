"""Ingest while the broker goes away and comes back (the real embedded broker, stopped and started again):
every request gets a prompt 503 with Retry-After within the publish timeout — concurrent requests do not
queue behind one another's acknowledgement — `/readyz` says not ready while `/healthz` stays alive, and once
the broker is back ingest answers 202 again by itself. `/healthz` and `/readyz` need no token."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from eahub.core import topics
from eahub.core.broker import EmbeddedBroker, free_port
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.hub.init import initialise
from eahub.ingest.bootstrap import build_app
from eahub.ingest.examples import example_event
from eahub.ingest.settings import IngestSettings
from eahub.ingest.tokens import TokenStore

pytestmark = pytest.mark.integration
POLICE = "lancashire-police"
TIMEOUT_S = 3.0


def _event() -> dict:
    event = example_event(datetime.now(UTC))
    event.pop("event_id", None)
    return event


def test_ingest_answers_503_promptly_while_the_broker_is_away_and_202_again_after(tmp_path: Path) -> None:
    port = free_port()
    broker = EmbeddedBroker(port, log_path=tmp_path / "broker.log").start()
    settings = HubSettings(data_dir=tmp_path / "data", broker_port=port)
    try:
        initialise(settings)
        topics.create_topics(settings, agency_ids(settings.policies_dir))
        token = TokenStore.in_data_dir(settings.data_dir).issue(POLICE, agency_ids(settings.policies_dir))[1]
        auth = {"Authorization": f"Bearer {token}"}
        with TestClient(build_app(settings, IngestSettings(publish_timeout_seconds=TIMEOUT_S))) as client:
            assert client.post("/v1/events", json=_event(), headers=auth).status_code == 202
            ready = client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["checks"] == {
                "broker": "ok", "producer": "ok", "database": "ok"}

            broker.stop()
            answers: list[tuple[float, int, str | None]] = []
            lock = threading.Lock()

            def one() -> None:
                started = time.monotonic()
                resp = client.post("/v1/events", json=_event(), headers=auth)
                with lock:
                    answers.append((time.monotonic() - started, resp.status_code, resp.headers.get("Retry-After")))

            clients = [threading.Thread(target=one) for _ in range(7)]
            for c in clients:
                c.start()
            for c in clients:
                c.join(60)
            assert [(status, retry) for _, status, retry in answers] == [(503, "5")] * 7
            slowest = max(elapsed for elapsed, _, _ in answers)
            assert slowest < 2 * TIMEOUT_S + 5, f"a client waited {slowest:.1f}s: queued behind another"
            assert client.get("/healthz").status_code == 200, "alive, though not ready"
            not_ready = client.get("/readyz")
            assert not_ready.status_code == 503 and not_ready.headers["content-type"] == "application/problem+json"
            assert not_ready.json()["checks"]["broker"] == "the broker is unreachable"

            broker = EmbeddedBroker(port, log_path=tmp_path / "broker2.log").start()
            topics.create_topics(settings, agency_ids(settings.policies_dir))  # the topic guard's job in the hub
            deadline = time.monotonic() + 30
            while client.post("/v1/events", json=_event(), headers=auth).status_code != 202:
                assert time.monotonic() < deadline, "ingest did not answer 202 again by itself"
            assert client.get("/readyz").status_code == 200
    finally:
        broker.stop()


def test_the_openapi_document_says_healthz_and_readyz_are_public(tmp_path: Path, hub_settings: HubSettings) -> None:
    initialise(hub_settings)
    with TestClient(build_app(hub_settings)) as client:
        doc = client.get("/openapi.json").json()
        assert client.get("/readyz").status_code in (200, 503)
    assert doc["paths"]["/healthz"]["get"]["security"] == []
    assert doc["paths"]["/readyz"]["get"]["security"] == []
    assert "security" not in doc["paths"]["/v1/events"]["post"]  # the document-wide bearer requirement applies
