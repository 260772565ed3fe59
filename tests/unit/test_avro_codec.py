"""Single-object encoding, checked against the official `avro` package as a second implementation."""

from __future__ import annotations

import io
import json
import re

import avro.io
import avro.schema
import pytest

from eahub.core import avro_codec, schemas
from eahub.core.paths import SCHEMAS_DIR
from tests.helpers import concern_event

pytestmark = pytest.mark.unit


def _expanded(name: str) -> dict:
    """The schema JSON with named-type references to other files inlined, for a reader with no resolver."""
    raw = json.loads((SCHEMAS_DIR / f"{name}.avsc").read_text())
    known = {s.name: s.raw for s in schemas.all_schemas()}

    def inline(node: object) -> object:
        if isinstance(node, str) and node in known and node != name:
            return inline(known[node])
        if isinstance(node, list):
            return [inline(n) for n in node]
        if isinstance(node, dict):
            return {k: inline(v) for k, v in node.items()}
        return node

    return inline(raw)  # type: ignore[return-value]


@pytest.mark.parametrize("name", [schemas.CONCERN_EVENT, schemas.ROUTED_CASE, schemas.AUDIT_ENTRY,
                                  schemas.DEAD_LETTER, schemas.SIGNED_TREE_HEAD])
def test_fingerprint_matches_the_official_avro_implementation(name: str) -> None:
    ours = schemas.load(name)
    official = avro.schema.parse(json.dumps(_expanded(name)))
    # avro 1.12's Python canonical form leaves primitives with a logicalType as {"type":"long"} where the
    # spec's [PRIMITIVES] rule wants "long"; apart from that the two canonical forms must agree.
    official_pcf = re.sub(r'\{"type":"(int|long)"\}', r'"\1"', official.canonical_form)
    assert official_pcf == ours.canonical_form
    assert avro.schema._crc_64_fingerprint(ours.canonical_form.encode()) == ours.fingerprint


def test_official_avro_decodes_a_concern_event_written_by_the_hub() -> None:
    event = concern_event()
    data = avro_codec.encode(schemas.CONCERN_EVENT, event)
    assert data[:2] == b"\xc3\x01"
    official = avro.schema.parse(json.dumps(_expanded(schemas.CONCERN_EVENT)))
    assert data[2:10] == schemas.load(schemas.CONCERN_EVENT).fingerprint
    decoded = avro.io.DatumReader(official).read(avro.io.BinaryDecoder(io.BytesIO(data[10:])))
    assert decoded["event_id"] == event["event_id"]
    assert decoded["subject"]["nhs_number"] == "9434765919"
    assert decoded["consent"]["status"] == "NOT_SOUGHT"
    assert decoded["reported_at"] == event["reported_at"]


def test_round_trip_and_decode_errors() -> None:
    event = concern_event()
    name, back = avro_codec.decode(avro_codec.encode(schemas.CONCERN_EVENT, event))
    assert name == schemas.CONCERN_EVENT and back == event
    with pytest.raises(avro_codec.UndecodableMessage, match="single-object"):
        avro_codec.decode(b'{"json": true}')
    with pytest.raises(avro_codec.UndecodableMessage, match="fingerprint"):
        avro_codec.decode(b"\xc3\x01" + b"\x00" * 8 + b"\x02")
    good = avro_codec.encode(schemas.CONCERN_EVENT, event)
    with pytest.raises(avro_codec.UndecodableMessage, match="corrupt"):
        avro_codec.decode(good[:20])
    with pytest.raises(avro_codec.UndecodableMessage, match="trailing"):
        avro_codec.decode(good + b"\x00")


def test_encode_rejects_a_schema_invalid_record_naming_the_field_not_the_value() -> None:
    event = concern_event(category="NOT_A_CATEGORY")
    with pytest.raises(avro_codec.SchemaInvalid) as info:
        avro_codec.encode(schemas.CONCERN_EVENT, event)
    assert "category" in str(info.value)
    assert "NOT_A_CATEGORY" not in str(info.value)


def test_every_concern_field_declares_its_personal_data_kind() -> None:
    kinds = schemas.pii_classification()
    assert set(kinds.values()) <= set(schemas.PII_KINDS)
    assert kinds["subject.nhs_number"] == "direct-identifier"
    assert kinds["health_details"] == "special-category"
    assert kinds["referrer.name"] == "protected-identity"
    assert kinds["district"] == "none"


def test_unchecked_encode_writes_the_same_bytes_and_still_refuses_what_it_cannot_write() -> None:
    event = concern_event()
    assert avro_codec.encode(schemas.CONCERN_EVENT, event, check=False) == avro_codec.encode(
        schemas.CONCERN_EVENT, event)
    for bad in (concern_event(category="NOT_A_CATEGORY"), {**concern_event(), "event_id": None}):
        with pytest.raises(avro_codec.SchemaInvalid) as info:
            avro_codec.encode(schemas.CONCERN_EVENT, bad, check=False)
        assert "NOT_A_CATEGORY" not in str(info.value)


def test_schemas_are_parsed_once_and_marked_parsed_for_fastavro() -> None:
    schema = schemas.load(schemas.ROUTED_CASE)
    assert schema.parsed.get("__fastavro_parsed") is True  # fastavro skips parse_schema on every call
    assert schemas.load(schemas.ROUTED_CASE) is schema
