"""The router's consume loop over in-memory ports: what it emits for each kind of input, that it fails
closed, and that it commits only after every output was acknowledged. (The real broker and the real
policy engine are exercised in tests/integration and tests/e2e.)"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest
from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

from eahub.core import avro_codec, schemas, topics
from eahub.core.audit_entries import entries_of
from eahub.core.kafka import commit_after
from eahub.core.messages import InMemoryPublisher
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.retry import StopRequested
from eahub.policy.model import Decision, PolicyRequest, PolicyUnavailable, RecipientDecision
from eahub.router.service import RetryPolicy, Router
from tests.helpers import concern_event

pytestmark = pytest.mark.unit
CLOCK = datetime.now(UTC).replace(microsecond=0)  # the events of tests.helpers are times just before now
ENVELOPE = ("event_id", "occurred_at", "reported_at", "source_agency", "category", "grade",
            "security_marking", "district", "consent.status")


@dataclass
class RecordingConsumer:
    commits: list[list[TopicPartition]] = field(default_factory=list)

    def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
        assert asynchronous is False
        self.commits.append(offsets)

    def close(self) -> None:
        pass


@dataclass
class ScriptedEngine:
    """In-memory policy engine: shares with lscft-mental-health (name only), refuses nwas."""

    revision: str = "rev-test"
    failures_left: int = 0

    def decide(self, requests: list[PolicyRequest]) -> list[Decision]:
        if self.failures_left:
            self.failures_left -= 1
            raise PolicyUnavailable("engine timed out")
        return [Decision("dec-" + r.event["event_id"], self.revision, r.event["event_id"], (
            RecipientDecision("lscft-mental-health", True, "isa-1", "1.0", "Art 6(1)(e)", "safeguarding",
                              (*ENVELOPE, "subject.name"), ("subject.nhs_number", "referrer"), ("covered",)),
            RecipientDecision("nwas", False, None, None, None, None, (), (), ("no ISA covers MENTAL_HEALTH",)),
        )) for r in requests]


def _msg(value: bytes, topic: str = "eahub.inbound.lancashire-police", offset: int = 0) -> Message:
    return Message(topic=topic, partition=0, offset=offset, key=b"k", value=value, headers=[("ce_id", b"x")])


def _router(engine: ScriptedEngine, publisher: InMemoryPublisher | None = None) -> tuple[Router, RecordingConsumer]:
    consumer = RecordingConsumer()
    router = Router(consumer=consumer, publisher=publisher or InMemoryPublisher(), engine=engine,  # type: ignore[arg-type]
                    pseudonymiser=Pseudonymiser(b"k" * 32), retry=RetryPolicy(attempts=2, first_delay_s=0.01),
                    clock=lambda: CLOCK)
    return router, consumer


def test_a_decided_event_yields_one_redacted_case_per_share_and_audit_for_every_recipient() -> None:
    event = concern_event()
    router, consumer = _router(ScriptedEngine())
    router.process_batch([_msg(avro_codec.encode(schemas.CONCERN_EVENT, event), offset=7)])
    sent = router.publisher.sent  # type: ignore[attr-defined]
    cases = [avro_codec.decode(m.value)[1] for m in sent if m.topic == topics.board("lscft-mental-health")]
    assert len(cases) == 1
    case = cases[0]
    assert case["concern"]["subject"]["name"] == "Alex Example"
    assert case["concern"]["subject"]["nhs_number"] is None and case["concern"]["referrer"] is None
    assert case["concern"]["narrative"] is None
    assert case["due_by"] == event["reported_at"] + (datetime(2026, 1, 1, 1) - datetime(2026, 1, 1))
    kinds = sorted(e["kind"] for m in sent if m.topic == topics.AUDIT for e in entries_of(m.value))
    assert kinds == ["DECISION", "DISCLOSURE", "POLICY_CHANGE", "REFUSAL"]
    dense = [avro_codec.decode(m.value)[0] for m in sent if m.topic == topics.AUDIT]  # the decision's entries: one
    assert dense == [schemas.AUDIT_ENTRY, schemas.AUDIT_ENTRIES]
    assert not [m for m in sent if m.topic == topics.board("nwas")]
    assert {m.key for m in sent} == {Pseudonymiser(b"k" * 32).subject_ref(event).encode(), b"policy"}
    assert consumer.commits == [[TopicPartition("eahub.inbound.lancashire-police", 0, 8)]]


def test_a_new_policy_revision_is_recorded_once_when_it_comes_into_force() -> None:
    engine = ScriptedEngine()
    router, _ = _router(engine)
    router.process_batch([_msg(avro_codec.encode(schemas.CONCERN_EVENT, concern_event()), offset=i) for i in range(3)])
    engine.revision = "rev-2"
    router.process_batch([_msg(avro_codec.encode(schemas.CONCERN_EVENT, concern_event()), offset=3)])
    changes = [e for m in router.publisher.sent if m.topic == topics.AUDIT  # type: ignore[attr-defined]
               for e in entries_of(m.value) if e["kind"] == "POLICY_CHANGE"]
    assert [(c["details"]["previous_revision"], c["policy_revision"]) for c in changes] == [
        ("", "rev-test"), ("rev-test", "rev-2")]


def test_replaying_an_event_produces_identical_ids() -> None:
    data = avro_codec.encode(schemas.CONCERN_EVENT, concern_event())
    first, _ = _router(ScriptedEngine())
    again, _ = _router(ScriptedEngine())
    first.process_batch([_msg(data)])
    again.process_batch([_msg(data)])

    def ids(router: Router) -> list[str]:
        out = []
        for m in router.publisher.sent:  # type: ignore[attr-defined]
            _, rec = avro_codec.decode(m.value)
            out.append(rec.get("case_id") or rec.get("entry_id"))
        return out

    assert ids(first) == ids(again)


@pytest.mark.parametrize(("value", "topic", "kind"), [
    (b"not avro at all", "eahub.inbound.lancashire-police", "UNDECODABLE"),
    (None, "eahub.inbound.nwas", "SOURCE_MISMATCH"),
])
def test_bad_input_goes_to_the_dead_letter_topic_with_original_bytes(value: bytes | None, topic: str,
                                                                     kind: str) -> None:
    value = value or avro_codec.encode(schemas.CONCERN_EVENT, concern_event())  # declares lancashire-police
    router, consumer = _router(ScriptedEngine())
    router.process_batch([_msg(value, topic=topic, offset=3)])
    sent = router.publisher.sent  # type: ignore[attr-defined]
    assert [m.topic for m in sent] == [topics.DEADLETTER, topics.AUDIT]  # every refused message is audited too
    _, entry = avro_codec.decode(sent[1].value)
    assert entry["details"]["action"] == "inbound-refused" and entry["details"]["dead_letter_kind"] == kind
    _, dl = avro_codec.decode(sent[0].value)
    assert dl["error_kind"] == kind and dl["original_value"] == value and dl["original_offset"] == 3
    headers = dict(sent[0].headers)
    assert headers["eahub_error_kind"] == kind.encode() and headers["ce_id"] == b"x"
    assert consumer.commits == [[TopicPartition(topic, 0, 4)]]


def test_a_record_of_another_schema_on_an_inbound_topic_is_schema_invalid() -> None:
    sth = avro_codec.encode(schemas.SIGNED_TREE_HEAD, {"tree_size": 1, "root_hash": "00", "key_id": "k",
                                                       "signature": "s", "timestamp": datetime.now(UTC)})
    router, _ = _router(ScriptedEngine())
    router.process_batch([_msg(sth)])
    _, dl = avro_codec.decode(router.publisher.sent[0].value)  # type: ignore[attr-defined]
    assert dl["error_kind"] == "SCHEMA_INVALID"


def test_fails_closed_when_the_engine_cannot_answer_then_parks_and_audits() -> None:
    router, consumer = _router(ScriptedEngine(failures_left=5))
    router.process_batch([_msg(avro_codec.encode(schemas.CONCERN_EVENT, concern_event()))])
    sent = router.publisher.sent  # type: ignore[attr-defined]
    assert sorted(m.topic for m in sent) == [topics.AUDIT, topics.DEADLETTER]
    _, dl = avro_codec.decode(next(m for m in sent if m.topic == topics.DEADLETTER).value)
    assert dl["error_kind"] == "POLICY_UNAVAILABLE" and dl["error"] == "policy-unavailable"
    _, entry = avro_codec.decode(next(m for m in sent if m.topic == topics.AUDIT).value)
    assert "nothing was shared" in entry["reasons"][0]
    assert router.stats.parked_policy_unavailable == 1 and len(consumer.commits) == 1


def test_a_transient_engine_failure_is_retried_and_then_shares() -> None:
    router, _ = _router(ScriptedEngine(failures_left=1))
    router.process_batch([_msg(avro_codec.encode(schemas.CONCERN_EVENT, concern_event()))])
    assert router.stats.events == 1 and router.stats.parked_policy_unavailable == 0


def test_nothing_is_committed_until_the_broker_acknowledged_every_output() -> None:
    publisher = InMemoryPublisher()
    publisher.fail_next = True
    router, consumer = _router(ScriptedEngine(), publisher)
    router.process_batch([_msg(avro_codec.encode(schemas.CONCERN_EVENT, concern_event()))])
    assert router.stats.redeliveries == 1
    assert len(consumer.commits) == 1 and len(publisher.sent) == 3  # case, the 3 audit entries in one, policy change


@pytest.mark.parametrize(("code", "raises"), [(KafkaError.REBALANCE_IN_PROGRESS, False),
                                             (KafkaError.ILLEGAL_GENERATION, False),
                                             (KafkaError._WAIT_COORD, False),
                                             (KafkaError.NOT_COORDINATOR, False),
                                             (KafkaError.COORDINATOR_NOT_AVAILABLE, False),
                                             (KafkaError._AUTHENTICATION, True)])
def test_a_commit_lost_to_a_rebalance_is_not_fatal_but_other_errors_are(code: int, raises: bool) -> None:
    class RefusingConsumer:
        def commit(self, offsets: list[TopicPartition], asynchronous: bool) -> None:
            raise KafkaException(KafkaError(code))

    msgs = [_msg(b"x", offset=4)]
    if raises:
        with pytest.raises(KafkaException):
            commit_after(RefusingConsumer(), msgs)  # type: ignore[arg-type]
    else:
        commit_after(RefusingConsumer(), msgs)  # type: ignore[arg-type]


def test_an_oversized_message_is_dead_lettered_by_reference_not_copied() -> None:
    router, consumer = _router(ScriptedEngine())
    router.process_batch([_msg(b"\xc3\x01" + b"x" * (600 * 1024), offset=9)])
    [dl_msg] = router.publisher.on_topic(topics.DEADLETTER)  # type: ignore[attr-defined]
    [refused] = router.publisher.on_topic(topics.AUDIT)  # type: ignore[attr-defined]
    assert avro_codec.decode(refused.value)[1]["details"]["inbound_offset"] == "9"
    _, dl = avro_codec.decode(dl_msg.value)
    assert dl["error_kind"] == "UNROUTABLE" and "over the" in dl["error"]
    assert dl["original_value"] is None and "not copied" in dl["error"] and dl["original_offset"] == 9
    assert len(dl_msg.value) < 10_000
    assert consumer.commits == [[TopicPartition("eahub.inbound.lancashire-police", 0, 10)]]


def test_audit_records_are_acknowledged_before_any_case_is_sent() -> None:
    class CountingPublisher(InMemoryPublisher):
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[set[str]] = []

        def publish(self, messages: list) -> None:  # type: ignore[override]
            self.calls.append({m.topic.split(".")[1] for m in messages})
            super().publish(messages)

    publisher = CountingPublisher()
    router, _ = _router(ScriptedEngine(), publisher)
    router.process_batch([_msg(avro_codec.encode(schemas.CONCERN_EVENT, concern_event()))])
    assert publisher.calls == [{"audit"}, {"board"}]


def test_a_stop_during_a_policy_outage_leaves_the_batch_uncommitted_instead_of_parking_it() -> None:
    router, consumer = _router(ScriptedEngine(failures_left=5))
    stop = threading.Event()
    stop.set()
    with pytest.raises(StopRequested):
        router.process_batch([_msg(avro_codec.encode(schemas.CONCERN_EVENT, concern_event()))], stop)
    assert router.publisher.sent == [] and consumer.commits == []  # type: ignore[attr-defined]
    assert router.stats.parked_policy_unavailable == 0


def test_a_spoof_and_an_uncoded_risk_factor_are_dead_lettered_and_audited_without_personal_data() -> None:
    spoof = avro_codec.encode(schemas.CONCERN_EVENT, concern_event())  # declares lancashire-police
    uncoded = concern_event(event_id="0b7e5c1e-3f0a-4c55-9d2e-8a6f1b2c3d4f")
    uncoded["risk_factors"] = ["weapons", "Alex Example is suicidal"]
    router, _ = _router(ScriptedEngine())
    router.process_batch([_msg(spoof, topic="eahub.inbound.nwas", offset=3),
                          _msg(avro_codec.encode(schemas.CONCERN_EVENT, uncoded), offset=4)])
    sent = router.publisher.sent  # type: ignore[attr-defined]
    assert [m.topic for m in sent] == [topics.DEADLETTER, topics.AUDIT, topics.DEADLETTER, topics.AUDIT]
    entries = [avro_codec.decode(m.value, expected=schemas.AUDIT_ENTRY)[1] for m in sent if m.topic == topics.AUDIT]
    spoofed, bad_code = entries
    assert spoofed["kind"] == "ACTION" and spoofed["source_agency"] == "nwas"
    assert spoofed["details"]["action"] == "inbound-refused"
    assert spoofed["details"]["claimed_source_agency"] == "lancashire-police"
    assert spoofed["details"]["dead_letter_kind"] == "SOURCE_MISMATCH"
    assert spoofed["details"]["inbound_topic"] == "eahub.inbound.nwas" and spoofed["details"]["inbound_offset"] == "3"
    assert "source_agency does not match" in spoofed["reasons"][0]
    _, dl = avro_codec.decode(sent[2].value)
    assert dl["error_kind"] == "SCHEMA_INVALID" and "risk_factors[1]" in dl["error"]
    assert bad_code["details"]["dead_letter_kind"] == "SCHEMA_INVALID" and "risk_factors[1]" in bad_code["reasons"][0]
    for m in sent[1::2]:
        assert b"Alex" not in m.value and b"suicidal" not in m.value
    assert router.stats.events == 0 and router.stats.dead_letters == 2


def test_a_refused_break_glass_request_records_only_what_has_the_shape_of_an_id() -> None:
    """Whatever a requester types as event id or recipient (a name, a megabyte of text) is not copied into the
    audit trail; the refusal is still recorded."""
    from eahub.policy.break_glass import BreakGlassRequest, OverrideError
    from eahub.router.outputs import ResponseTimes
    from eahub.router.override import BreakGlassPorts, handle_break_glass

    publisher = InMemoryPublisher()
    ports = BreakGlassPorts(engine=ScriptedEngine(), publisher=publisher,  # type: ignore[arg-type]
                            pseudonymiser=Pseudonymiser(b"k" * 32), times=ResponseTimes(),
                            find_origin=lambda event_id: None, read_original=lambda position: None)
    request = BreakGlassRequest(event_id="Alex Example " * 1000, recipient="Sam Neighbour's sister",
                                justification="at risk tonight", role="police-duty-inspector",
                                actor="lancashire-police/tok_1", requester_agency="lancashire-police",
                                request_id="r-1")
    with pytest.raises(OverrideError, match="no routing decision"):
        handle_break_glass(request, ports)
    [entry] = [avro_codec.decode(m.value)[1] for m in publisher.sent]
    assert entry["event_id"] is None and entry["recipient"] is None
    assert entry["details"]["refusal"] == "unknown-event"
    assert "Alex Example" not in str(entry) and "Sam Neighbour" not in str(entry)
