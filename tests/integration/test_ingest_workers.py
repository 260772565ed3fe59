"""`eahub ingest --workers 2`: two processes share the port and the idempotency records (in the database), so the
same event sent many times at once, over many connections, is published once and every copy answers 202."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from eahub.core import topics
from eahub.core.broker import free_port
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.hub.init import initialise
from eahub.ingest.examples import example_event
from eahub.ingest.tokens import TokenStore
from tests.integration.test_ingest_broker import POLICE, read_topic, with_id
from tests.support.processes import Service, hub_env, wait_ready

pytestmark = pytest.mark.integration


def test_duplicates_across_worker_processes_publish_once(hub_settings: HubSettings, database_url: str,
                                                         tmp_path: Path) -> None:
    settings = hub_settings.model_copy(update={"database_url": database_url})
    topics.create_topics(settings, agency_ids(settings.policies_dir))
    initialise(settings)
    token = TokenStore.in_data_dir(settings.data_dir).issue(POLICE, agency_ids(settings.policies_dir))[1]
    http_port = free_port()
    env = hub_env(settings.data_dir, settings.broker_port, http_port, EAHUB_DATABASE_URL=database_url)
    ingest = Service("ingest", ["ingest", "--workers", "2"], env, tmp_path / "logs").start()
    try:
        base = f"http://127.0.0.1:{http_port}"
        wait_ready(base)
        event = example_event(event_id=str(uuid.uuid4()))
        others = [example_event(event_id=str(uuid.uuid4())) for _ in range(8)]

        def post(body: dict[str, object]) -> int:  # a connection of its own each: spread over the workers
            return httpx.post(f"{base}/v1/events", json=body, headers={"Authorization": f"Bearer {token}"},
                              timeout=60).status_code

        with ThreadPoolExecutor(16) as pool:
            codes = list(pool.map(post, [event] * 16 + others))
        assert codes == [202] * 24
        on_topic = read_topic(settings, topics.inbound(POLICE))
        assert len(with_id(on_topic, event["event_id"])) == 1
        assert all(len(with_id(on_topic, e["event_id"])) == 1 for e in others)
    finally:
        ingest.stop(timeout_s=20)
