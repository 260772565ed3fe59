"""Ingest throughput on the embedded broker, in one run: validation alone, the producer client
(batched, acknowledged), and the HTTP API (in-process one request at a time, then over uvicorn with
concurrent clients; every 202 is answered after the broker's ack).

    .venv/bin/python bench/bench_ingest.py [--count N] [--clients C]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn
from fastapi.testclient import TestClient

from eahub.core.broker import EmbeddedBroker, free_port
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.core.topics import create_topics
from eahub.ingest.bootstrap import build_app
from eahub.ingest.generator import generate
from eahub.ingest.producer import ConcernProducer
from eahub.ingest.tokens import TokenStore
from eahub.ingest.validation import validate_event


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:9.0f} events/s  ({n} in {seconds:.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    start = datetime.now(UTC) - timedelta(days=60)
    events = list(generate(args.count, seed=1, start=start))
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker(port=free_port()) as broker:
        settings = HubSettings(data_dir=Path(tmp), broker_port=broker.port)
        agencies = agency_ids(settings.policies_dir)
        create_topics(settings, agencies)
        now = datetime.now(UTC)

        t0 = time.perf_counter()
        for e in events:
            validate_event(e, agencies, now)
        print("validate_event        ", rate(len(events), time.perf_counter() - t0))

        police = [e for e in events if e["source_agency"] == "lancashire-police"]
        producer = ConcernProducer(settings, "lancashire-police")
        t0 = time.perf_counter()
        published = sum(1 for r in producer.publish_many(police) if r.ok)
        print("producer publish_many ", rate(published, time.perf_counter() - t0))
        producer.close()

        tokens = TokenStore.in_data_dir(settings.data_dir)
        auth = {a: {"Authorization": f"Bearer {tokens.issue(a, agencies)[1]}"} for a in agencies}
        fresh = list(generate(args.count, seed=2, start=start))
        with TestClient(build_app(settings)) as client:
            t0 = time.perf_counter()
            for e in fresh:
                assert client.post("/v1/events", json=e, headers=auth[e["source_agency"]]).status_code == 202
            elapsed = time.perf_counter() - t0
            print("HTTP POST /v1/events  ", rate(len(fresh), elapsed), "sequential, in-process")
            t0 = time.perf_counter()
            for e in fresh[:500]:
                assert client.post("/v1/events", json=e, headers=auth[e["source_agency"]]).status_code == 202
            print("HTTP idempotent replay", rate(min(500, len(fresh)), time.perf_counter() - t0))

        concurrent = list(generate(args.count, seed=3, start=start))
        port = free_port()
        config = uvicorn.Config(build_app(settings), host="127.0.0.1", port=port, log_level="warning")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base_url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base_url) as http, ThreadPoolExecutor(args.clients) as pool:

            def post(e: dict[str, object]) -> int:
                return http.post("/v1/events", json=e, headers=auth[str(e["source_agency"])]).status_code

            t0 = time.perf_counter()
            codes = list(pool.map(post, concurrent))
            print("HTTP over uvicorn     ", rate(len(concurrent), time.perf_counter() - t0),
                  f"{args.clients} concurrent clients")
            assert set(codes) == {202}, set(codes)
        server.should_exit = True
        thread.join()


if __name__ == "__main__":
    main()
