"""The walking skeleton end to end, through the HTTP API of a running hub (`start_hub`: embedded broker,
ingest, router, audit on SQLite): one event shared with two agencies with different fields withheld, one
refused for everyone, one invalid, one spoofed source (over HTTP, and straight onto Kafka). The board
topics hold exactly the expected redacted cases, the dead-letter topic nothing valid, the ledger verifies,
and altering one ledger row makes `eahub audit verify` fail."""

from __future__ import annotations

import io
import json
import sqlite3

import avro.io
import avro.schema
import httpx
import pytest
from click.testing import CliRunner

from eahub.cli import main
from eahub.core import avro_codec, schemas, topics
from eahub.core.event_json import to_json
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.messages import OutboundMessage
from eahub.hub.hub import RunningHub
from tests.e2e.board_reading import assert_projection, routed_cases
from tests.e2e.conftest import issue_token, wait_for_trail
from tests.helpers import read_all
from tests.scenarios.cases import CASES
from tests.unit.test_avro_codec import _expanded

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

# From the scenario table: an event shared with exactly two agencies that withhold different fields,
# and one refused for everyone.
SHARED_TWICE = next(c for c in CASES if len(c.expected_shared) == 2
                    and len(set(map(frozenset, c.expected_shared.values()))) == 2
                    and c.event["source_agency"] == "lancashire-police")
REFUSED = next(c for c in CASES if not c.expected_shared and c.event["source_agency"] == "lancashire-police")


def test_walking_skeleton(hub: RunningHub) -> None:
    settings = hub.settings
    police = {"Authorization": f"Bearer {issue_token(settings, 'lancashire-police')}"}
    api = httpx.Client(base_url=f"http://{settings.http_host}:{settings.http_port}", timeout=10)

    shared = api.post("/v1/events", json=to_json(SHARED_TWICE.event), headers=police)
    refused = api.post("/v1/events", json=to_json(REFUSED.event), headers=police)
    assert shared.status_code == 202 and shared.json()["event_id"] == SHARED_TWICE.event["event_id"]
    assert refused.status_code == 202
    assert api.post("/v1/events", json=to_json(SHARED_TWICE.event), headers=police).json() == shared.json()

    invalid = to_json(CASES[0].event) | {"event_id": "5c3a0000-0000-4000-8000-999999999991"}
    invalid["subject"] = invalid["subject"] | {"nhs_number": "9434765918"}  # wrong check digit
    bad = api.post("/v1/events", json=invalid, headers=police)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert "subject.nhs_number" in bad.text and "9434765918" not in bad.text

    spoof = to_json(CASES[0].event) | {"event_id": "5c3a0000-0000-4000-8000-999999999992",
                                       "source_agency": "lscft-mental-health"}
    assert api.post("/v1/events", json=spoof, headers=police).status_code == 403

    # A rogue publisher with Kafka access writes an event claiming another source onto police's topic.
    rogue = dict(CASES[0].event, event_id="5c3a0000-0000-4000-8000-999999999993", source_agency="nwas")
    publisher = KafkaPublisher(producer_config(settings))
    publisher.publish([OutboundMessage(topics.inbound("lancashire-police"), b"rogue",
                                       avro_codec.encode(schemas.CONCERN_EVENT, rogue))])
    publisher.close()

    wait_for_trail([SHARED_TWICE.event["event_id"], REFUSED.event["event_id"]])

    # Board topics: exactly the two expected redacted cases, nothing for the refused event.
    cases = routed_cases(settings)
    assert set(cases) == {SHARED_TWICE.event["event_id"]}
    got = cases[SHARED_TWICE.event["event_id"]]
    assert set(got) == set(SHARED_TWICE.expected_shared)
    for agency, case in got.items():
        assert set(case["withheld_fields"]) == SHARED_TWICE.expected_shared[agency]
        assert_projection(case, SHARED_TWICE.event)
        assert case["concern"]["referrer"] is None  # the referrer's identity never leaves the source

    # A second Avro implementation reads the board's bytes with the files in schemas/.
    board_msg = read_all(settings, topics.board(next(iter(got))), expect=1)[0]
    official = avro.schema.parse(json.dumps(_expanded(schemas.ROUTED_CASE)))
    assert board_msg.value()[2:10] == schemas.load(schemas.ROUTED_CASE).fingerprint
    decoded = avro.io.DatumReader(official).read(avro.io.BinaryDecoder(io.BytesIO(board_msg.value()[10:])))
    assert decoded["event_id"] == SHARED_TWICE.event["event_id"]
    assert dict(board_msg.headers())["ce_type"] == b"uk.gov.eahub.case.routed.v1"

    # Dead letters: the rogue message only, with its original bytes; nothing valid.
    dead = read_all(settings, topics.DEADLETTER, expect=1)
    letters = [avro_codec.decode(m.value(), expected=schemas.DEAD_LETTER)[1] for m in dead]
    assert [dl["error_kind"] for dl in letters] == ["SOURCE_MISMATCH"]
    assert avro_codec.decode(letters[0]["original_value"])[1]["event_id"] == rogue["event_id"]

    # The trail of one event, and a verifying ledger.
    show = CliRunner().invoke(main, ["audit", "show", "--event", REFUSED.event["event_id"]])
    assert show.exit_code == 0 and "REFUSAL" in show.output and "DISCLOSURE" not in show.output
    verify = CliRunner().invoke(main, ["audit", "verify"])
    assert verify.exit_code == 0, verify.output

    # A subject access request, starting from what the IG officer knows: the person's NHS number.
    nhs = SHARED_TWICE.event["subject"]["nhs_number"]
    sar = CliRunner().invoke(main, ["audit", "sar", "--nhs-number", nhs, "--json"])
    assert sar.exit_code == 0, sar.output
    report = json.loads(sar.stdout)
    disclosed = {e["recipient"] for e in report["entries"]
                 if e["kind"] == "DISCLOSURE" and e["event_id"] == SHARED_TWICE.event["event_id"]}
    assert disclosed == set(SHARED_TWICE.expected_shared)

    # Alter one ledger row as someone with the database's rights would (dropping the append-only trigger).
    hub.shutdown()
    db = sqlite3.connect(settings.data_dir / "ledger.db")
    db.execute("DROP TRIGGER IF EXISTS audit_ledger_no_update")
    query = "SELECT seq, entry FROM audit_ledger WHERE kind = 'REFUSAL' ORDER BY seq LIMIT 1"
    seq, entry = db.execute(query).fetchone()
    assert b"REFUSAL" in entry
    db.execute("UPDATE audit_ledger SET entry = ? WHERE seq = ?", (entry.replace(b"REFUSAL", b"DISCLOSURE"), seq))
    db.commit()
    db.close()
    broken = CliRunner().invoke(main, ["audit", "verify"])
    assert broken.exit_code != 0
    assert str(seq) in broken.output
