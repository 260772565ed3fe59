"""Property: no schema-valid event stops the router. Hypothesis builds concern events with every field at its
limits (times in the years 1 and 9999, dates of birth at the calendar's ends, empty and very long strings,
any Unicode, long lists, unknown agencies in restricted_to...), publishes them to an inbound topic of a real
embedded broker, then a plain event after them on the same partition; the REAL router (real consumer, real
embedded policy engine, real producer) must decide that plain event, and every extreme one must have become a
decision or a dead letter. The router is built once, in the test's thread (the embedded engine is thread-bound)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eahub.core import avro_codec, schemas, topics
from eahub.core.broker import EmbeddedBroker, free_port
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.messages import OutboundMessage
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.hub.init import initialise
from eahub.router.bootstrap import build_router
from eahub.router.service import Router
from tests.helpers import concern_event, read_all

pytestmark = pytest.mark.integration
SOURCE = "lancashire-police"
KEY = b"extreme"  # one key: every message of an example lands on the same partition, in order


@pytest.fixture(scope="module")
def routed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubSettings, Router, KafkaPublisher]]:
    tmp = tmp_path_factory.mktemp("extreme")
    with EmbeddedBroker(free_port(), log_path=tmp / "broker.log") as broker:
        hub = HubSettings(data_dir=tmp / "data", broker_port=broker.port, inbound_partitions=1)
        initialise(hub)
        topics.create_topics(hub, agency_ids(hub.policies_dir))
        router = build_router(hub, group_id="extreme-router")
        router.batch_size = 50
        publisher = KafkaPublisher(producer_config(hub))
        try:
            yield hub, router, publisher
        finally:
            publisher.close()
            router.close()


_ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
TEXT = st.one_of(_ANY_TEXT, st.sampled_from(["", " ", "\x00", "x" * 20_000, "\U0010ffff" * 1000, "é" * 5000]))
TIMES = st.sampled_from([datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
                         datetime(1970, 1, 1, tzinfo=UTC), datetime(1899, 12, 31, tzinfo=UTC),
                         datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1),
                         datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=4)])
DATES = st.one_of(st.none(), st.sampled_from([date(1, 1, 1), date(9999, 12, 31), date(1970, 1, 1),
                                              date.today(), date.today() + timedelta(days=1)]))
AGENCIES = st.sampled_from(["lancashire-police", "lscft-mental-health", "nwas", "blackpool-council", "nope", ""])


def _symbols(name: str) -> st.SearchStrategy[str]:
    return st.sampled_from(schemas.enum_symbols(name))


@st.composite
def extreme_events(draw: st.DrawFn) -> dict[str, Any]:
    event = concern_event()
    event.update({
        "event_id": draw(st.one_of(st.uuids().map(str), TEXT)),
        "occurred_at": draw(TIMES), "reported_at": draw(TIMES),
        "source_reference": draw(st.one_of(st.none(), TEXT)),
        "category": draw(_symbols("Category")), "grade": draw(_symbols("Grade")),
        "security_marking": draw(_symbols("SecurityMarking")), "district": draw(TEXT),
        "subject": draw(st.one_of(st.none(), st.fixed_dictionaries({
            "name": st.one_of(st.none(), TEXT), "date_of_birth": DATES,
            "nhs_number": st.one_of(st.none(), TEXT, st.just("9434765919")), "address": st.one_of(st.none(), TEXT)}))),
        "narrative": draw(st.one_of(st.none(), TEXT)), "health_details": draw(st.one_of(st.none(), TEXT)),
        "risk_factors": draw(st.lists(TEXT, max_size=60)),
        "linked_people": draw(st.lists(st.fixed_dictionaries({
            "role": _symbols("LinkedRole"), "name": st.one_of(st.none(), TEXT),
            "date_of_birth": DATES}), max_size=30)),
        "referrer": draw(st.one_of(st.none(), st.fixed_dictionaries({
            "name": st.one_of(st.none(), TEXT), "contact": st.one_of(st.none(), TEXT),
            "relationship": st.one_of(st.none(), TEXT)}))),
        "consent": {"status": draw(_symbols("ConsentStatus")), "recorded_by": draw(st.one_of(st.none(), TEXT))},
        "restricted_to": draw(st.one_of(st.none(), st.lists(AGENCIES, max_size=8))),
    })
    return event


def _message(event: dict[str, Any]) -> OutboundMessage:
    return OutboundMessage(topics.inbound(SOURCE), KEY, avro_codec.encode(schemas.CONCERN_EVENT, event))


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(extreme_events(), min_size=1, max_size=8))
def test_no_schema_valid_event_stops_the_router(routed: tuple[HubSettings, Router, KafkaPublisher],
                                                extremes: list[dict[str, Any]]) -> None:
    _, router, publisher = routed
    sentinel = concern_event()
    publisher.publish([*(_message(e) for e in extremes), _message(sentinel)])
    decided: set[str] = set()
    router.on_decision = lambda event, _decision: decided.add(event["event_id"])
    dead_before = router.stats.dead_letters
    events_before = router.stats.events + router.stats.parked_policy_unavailable
    stop = threading.Event()
    deadline = time.monotonic() + 60
    while sentinel["event_id"] not in decided:
        assert time.monotonic() < deadline, "the router stopped deciding the events after the extreme ones"
        msgs = router.consumer.consume(num_messages=router.batch_size, timeout=0.5)
        if msgs:
            router.process_batch(msgs, stop)  # raises if any event could stop the router
    handled = (router.stats.dead_letters - dead_before
               + router.stats.events + router.stats.parked_policy_unavailable - events_before)
    assert handled == len(extremes) + 1, "every extreme event became a decision or a dead letter"


def test_the_dead_letters_of_the_extreme_run_carry_the_original_bytes(
        routed: tuple[HubSettings, Router, KafkaPublisher]) -> None:
    hub, _, _ = routed
    letters = [avro_codec.decode(m.value(), expected=schemas.DEAD_LETTER)[1]
               for m in read_all(hub, topics.DEADLETTER, settle_s=0.5)]
    assert letters, "the property run produced dead letters (times out of the window at least)"
    for dl in letters:
        assert dl["component"] == "router" and dl["original_value"] is not None
        avro_codec.decode(dl["original_value"], expected=schemas.CONCERN_EVENT)
