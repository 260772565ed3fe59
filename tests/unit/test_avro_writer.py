"""The schema-compiled Avro writer against fastavro's `schemaless_writer` as the reference: byte-identical bodies
for records generated from every compiled schema and for the router's real outputs over the scenario table, and
a refusal for a value it cannot write."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from confluent_kafka import Message
from fastavro import schemaless_writer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eahub.core import avro_codec, schemas, topics
from eahub.core.avro_writer import NotCompilable, compile_writer
from eahub.core.messages import InMemoryPublisher
from eahub.core.paths import POLICIES_DIR
from eahub.core.pseudonym import Pseudonymiser
from eahub.policy.bundle import PolicyBundle
from eahub.policy.regorus_engine import RegorusEngine
from eahub.router.service import Router
from tests.scenarios.cases import CASES

pytestmark = pytest.mark.unit


def _compilable() -> list[schemas.Schema]:
    out = []
    for schema in schemas.all_schemas():
        try:
            compile_writer(schema.parsed)
        except NotCompilable:
            continue
        out.append(schema)
    return out


COMPILED = _compilable()


def reference(parsed: dict[str, Any], record: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    schemaless_writer(buf, parsed, record)
    return buf.getvalue()


def values(avro_type: Any, named: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Any value of `avro_type` (of a parsed schema, whose later references to a named type are by name)."""
    if isinstance(avro_type, str):
        if avro_type in named:
            return st.deferred(lambda: values(named[avro_type], named))
        return _PRIMITIVES[avro_type]
    if isinstance(avro_type, list):
        return st.one_of(*(values(branch, named) for branch in avro_type))
    kind, logical = avro_type["type"], avro_type.get("logicalType")
    if logical == "timestamp-millis":
        return st.datetimes(datetime(1900, 1, 1), datetime(2200, 1, 1), timezones=st.just(UTC))
    if logical == "date":
        return st.dates()
    if kind == "record":
        named[avro_type["name"]] = avro_type
        required = {f["name"]: values(f["type"], named) for f in avro_type["fields"]}
        optional = {f["name"]: required.pop(f["name"]) for f in avro_type["fields"] if "default" in f}
        return st.fixed_dictionaries(required, optional=optional)
    if kind == "enum":
        named[avro_type["name"]] = avro_type
        return st.sampled_from(avro_type["symbols"])
    if kind == "array":
        return st.lists(values(avro_type["items"], named), max_size=4)
    if kind == "map":
        return st.dictionaries(st.text(max_size=8), values(avro_type["values"], named), max_size=4)
    return values(kind, named)


_PRIMITIVES: dict[str, st.SearchStrategy[Any]] = {
    "string": st.text(max_size=80),
    "long": st.integers(-(1 << 63), (1 << 63) - 1),
    "int": st.integers(-(1 << 31), (1 << 31) - 1),
    "boolean": st.booleans(),
    "null": st.none(),
}


def test_every_hub_schema_but_the_dead_letter_compiles() -> None:
    assert {s.name for s in schemas.all_schemas()} - {s.name for s in COMPILED} == {schemas.DEAD_LETTER}


@pytest.mark.parametrize("schema", COMPILED, ids=lambda s: s.name)
def test_generated_records_are_written_byte_for_byte_as_fastavro_writes_them(schema: schemas.Schema) -> None:
    write = compile_writer(schema.parsed)

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(values(schema.parsed, {}))
    def check(record: dict[str, Any]) -> None:
        assert write(record) == reference(schema.parsed, record)

    check()


def test_the_router_outputs_of_the_scenario_table_are_written_as_fastavro_writes_them(tmp_path: Any) -> None:
    pseudonymiser = Pseudonymiser.from_data_dir(tmp_path)
    now = datetime.now(UTC)
    msgs = []
    for offset, case in enumerate(CASES):
        # the table's events, moved to just before now so that the router's recency check admits them
        shift = now - timedelta(minutes=5) - case.event["reported_at"]
        event = {**case.event, "occurred_at": case.event["occurred_at"] + shift,
                 "reported_at": case.event["reported_at"] + shift}
        msgs.append(Message(topic=topics.inbound(event["source_agency"]), partition=0, offset=offset,
                            value=avro_codec.encode(schemas.CONCERN_EVENT, event)))
    publisher = InMemoryPublisher()
    router = Router(consumer=None, publisher=publisher, engine=RegorusEngine(PolicyBundle.load(POLICIES_DIR)),  # type: ignore[arg-type]
                    pseudonymiser=pseudonymiser)
    router.handle_batch(msgs, threading.Event())
    written = {schemas.ROUTED_CASE: 0, schemas.AUDIT_ENTRIES: 0}
    for message in publisher.sent:
        name, record = avro_codec.decode(message.value)
        assert message.value[avro_codec.HEADER_LEN:] == reference(schemas.load(name).parsed, record)
        written[name] = written.get(name, 0) + 1
    assert written[schemas.ROUTED_CASE] > len(CASES) and written[schemas.AUDIT_ENTRIES] == len(CASES)


@pytest.mark.parametrize("field, value", [("recipient", 7), ("override", None), ("due_by", "tomorrow"),
                                          ("shared_fields", [b"name"])])
def test_a_value_it_cannot_write_is_refused_as_schema_invalid(field: str, value: Any) -> None:
    name, case = avro_codec.decode(_a_routed_case())
    with pytest.raises(avro_codec.SchemaInvalid):
        avro_codec.encode(name, {**case, field: value}, check=False)


def test_an_unknown_symbol_is_refused() -> None:
    write = compile_writer(schemas.load(schemas.AUDIT_ENTRY).parsed)
    with pytest.raises(KeyError):
        write({"entry_id": "e", "kind": "GUESS", "occurred_at": datetime.now(UTC), "actor": "router"})


def _a_routed_case() -> bytes:
    event = CASES[0].event
    record = {"case_id": "c", "event_id": event["event_id"], "recipient": "nwas", "source_agency": "nwas",
              "subject_ref": None, "decision_id": "d", "policy_revision": "r", "isa_id": "", "isa_version": "",
              "lawful_basis": "", "purpose": "", "shared_fields": [], "withheld_fields": [], "reasons": [],
              "override": False, "due_by": datetime.now(UTC), "routed_at": datetime.now(UTC), "concern": event}
    return avro_codec.encode(schemas.ROUTED_CASE, record)
