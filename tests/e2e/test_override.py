"""Break-glass through a running hub: a refused event, then `eahub policy override` by a designated role
(granted: shared, marked, on the IG review queue, audited) and by anyone else (refused, audited)."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from click.testing import CliRunner

from eahub.cli import main
from eahub.core import avro_codec, schemas, topics
from eahub.core.event_json import to_json
from eahub.hub.hub import RunningHub
from tests.e2e.conftest import issue_token, wait_for_trail
from tests.helpers import read_all
from tests.scenarios.cases import CASES

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

REFUSED = next(c for c in CASES if not c.expected_shared and c.event["source_agency"] == "lancashire-police"
               and c.event["category"] not in ("CHILD_CONCERN", "CHILD_SEXUAL_EXPLOITATION"))
RECIPIENT = "lancashire-cc-adults"


def _override(role: str, justification: str = "Subject located at risk of serious harm tonight") -> object:
    return CliRunner().invoke(main, ["policy", "override", "--event", REFUSED.event["event_id"],
                                     "--recipient", RECIPIENT, "--role", role, "--actor", "insp-2231",
                                     "--justification", justification])


def test_break_glass_by_a_designated_role_shares_and_queues_for_review(hub: RunningHub) -> None:
    settings = hub.settings
    token = issue_token(settings, "lancashire-police")
    resp = httpx.post(f"http://{settings.http_host}:{settings.http_port}/v1/events", json=to_json(REFUSED.event),
                      headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 202
    event_id = REFUSED.event["event_id"]
    wait_for_trail([event_id])

    refused = _override("board-member")
    assert refused.exit_code == 1, refused.output
    assert "not a designated break-glass role" in refused.output
    assert not read_all(settings, topics.board(RECIPIENT), expect=0, settle_s=0.5)

    granted = _override("police-duty-inspector")
    assert granted.exit_code == 0, granted.output
    assert "GRANTED" in granted.output
    cases = [avro_codec.decode(m.value(), expected=schemas.ROUTED_CASE)[1]
             for m in read_all(settings, topics.board(RECIPIENT), expect=1)]
    assert len(cases) == 1 and cases[0]["override"] is True
    assert any("Subject located at risk" in r for r in cases[0]["reasons"])
    assert cases[0]["concern"]["referrer"] is None and cases[0]["concern"]["health_details"] is None

    def trail_kinds() -> list[str]:
        shown = CliRunner().invoke(main, ["audit", "show", "--event", event_id, "--json"])
        return [e["kind"] for e in json.loads(shown.stdout)] if shown.exit_code == 0 else []

    deadline = time.monotonic() + 20
    while "OVERRIDE" not in trail_kinds() and time.monotonic() < deadline:
        time.sleep(0.3)
    kinds = trail_kinds()
    assert kinds.count("OVERRIDE") == 1 and kinds.count("ACTION") == 1 and kinds.count("DISCLOSURE") == 1
    pending = CliRunner().invoke(main, ["audit", "query", "--overrides-pending", "--json"])
    assert pending.exit_code == 0 and event_id in pending.output
    assert "Subject located at risk" not in pending.output  # the chain keeps only the justification's hash

    [queued] = json.loads(pending.stdout)
    reviewed = CliRunner().invoke(main, ["audit", "review", "--override", queued["entry_id"], "--actor", "ig-07",
                                         "--outcome", "upheld"])
    assert reviewed.exit_code == 0, reviewed.output
    after = CliRunner().invoke(main, ["audit", "query", "--overrides-pending", "--json"])
    assert json.loads(after.stdout) == []
    assert CliRunner().invoke(main, ["audit", "verify"]).exit_code == 0

    missing = CliRunner().invoke(main, ["policy", "override", "--event", "00000000-0000-4000-8000-000000000000",
                                        "--recipient", RECIPIENT, "--role", "police-duty-inspector",
                                        "--actor", "x", "--justification", "y"])
    assert missing.exit_code == 2 and "no routing decision" in missing.output


def test_break_glass_over_http_needs_a_role_bearing_token(hub: RunningHub) -> None:
    settings = hub.settings
    base = f"http://{settings.http_host}:{settings.http_port}"
    plain = {"Authorization": f"Bearer {issue_token(settings, 'lancashire-police')}"}
    assert httpx.post(f"{base}/v1/events", json=to_json(REFUSED.event), headers=plain).status_code == 202
    wait_for_trail([REFUSED.event["event_id"]])
    body = {"event_id": REFUSED.event["event_id"], "recipient": RECIPIENT,
            "justification": "Subject located at risk of serious harm tonight"}

    no_role = httpx.post(f"{base}/v1/overrides", json=body, headers=plain)
    assert no_role.status_code == 403 and "no break-glass role" in no_role.text

    missing = httpx.post(f"{base}/v1/overrides", json=body | {"justification": " "}, headers=plain)
    assert missing.status_code == 422 and "justification" in missing.text

    from eahub.core.registry import agency_ids
    from eahub.ingest.tokens import TokenStore

    store = TokenStore.in_data_dir(settings.data_dir)
    _, other_agency = store.issue("nwas", agency_ids(settings.policies_dir), role="police-duty-inspector")
    foreign = httpx.post(f"{base}/v1/overrides", json=body, headers={"Authorization": f"Bearer {other_agency}"},
                         timeout=30)
    assert foreign.status_code == 403 and "only the agency that published" in foreign.text

    info, inspector = store.issue("lancashire-police", agency_ids(settings.policies_dir), role="police-duty-inspector")
    granted = httpx.post(f"{base}/v1/overrides", json=body, headers={"Authorization": f"Bearer {inspector}"},
                         timeout=30)
    assert granted.status_code == 201, granted.text
    assert granted.json()["granted"] is True and granted.json()["case_id"]
    cases = read_all(settings, topics.board(RECIPIENT), expect=1)
    assert [avro_codec.decode(m.value())[1]["case_id"] for m in cases] == [granted.json()["case_id"]]
    wait_for_trail([REFUSED.event["event_id"]])
    deadline = time.monotonic() + 20
    overrides: list[dict] = []
    while not overrides and time.monotonic() < deadline:
        shown = CliRunner().invoke(main, ["audit", "show", "--event", REFUSED.event["event_id"], "--json"])
        overrides = [e for e in json.loads(shown.stdout) if e["kind"] == "OVERRIDE"] if shown.exit_code == 0 else []
        time.sleep(0.3)
    assert [o["actor"] for o in overrides] == [f"override:lancashire-police/{info.token_id}"]


def test_every_refused_break_glass_request_is_audited(hub: RunningHub) -> None:
    """No role (403), an empty justification (422), another agency's token (403), an unknown event (404) and the
    policy's own refusal each leave an ACTION entry saying who asked, for what and why not - no personal data."""
    settings = hub.settings
    base = f"http://{settings.http_host}:{settings.http_port}"
    plain = {"Authorization": f"Bearer {issue_token(settings, 'lancashire-police')}"}
    assert httpx.post(f"{base}/v1/events", json=to_json(REFUSED.event), headers=plain).status_code == 202
    event_id = REFUSED.event["event_id"]
    wait_for_trail([event_id])
    from eahub.core.registry import agency_ids
    from eahub.ingest.tokens import TokenStore

    store = TokenStore.in_data_dir(settings.data_dir)
    _, foreign = store.issue("nwas", agency_ids(settings.policies_dir), role="police-duty-inspector")
    _, inspector = store.issue("lancashire-police", agency_ids(settings.policies_dir), role="police-duty-inspector")
    body = {"event_id": event_id, "recipient": RECIPIENT, "justification": "Subject located at risk tonight"}
    unknown = "00000000-0000-4000-8000-00000000beef"
    attempts = [
        (plain, body, 403),
        ({"Authorization": f"Bearer {inspector}"}, body | {"justification": "  "}, 422),
        ({"Authorization": f"Bearer {foreign}"}, body, 403),
        ({"Authorization": f"Bearer {inspector}"}, body | {"event_id": unknown}, 404),
    ]
    for headers, payload, status in attempts:
        assert httpx.post(f"{base}/v1/overrides", json=payload, headers=headers, timeout=30).status_code == status
    assert _override("board-member").exit_code == 1  # the policy's refusal of an undesignated role

    def refusals() -> dict[str, dict]:
        found = CliRunner().invoke(main, ["audit", "query", "--kind", "action", "--json"])
        docs = json.loads(found.stdout) if found.exit_code == 0 else []
        return {d["details"].get("refusal") or d["details"]["action"]: d for d in docs
                if d["details"].get("action") in ("break-glass-refused",)}

    deadline = time.monotonic() + 20
    while len(refusals()) < 5 and time.monotonic() < deadline:
        time.sleep(0.3)
    found = refusals()
    assert set(found) == {"no-role", "no-justification", "not-originator", "unknown-event", "break-glass-refused"}
    assert found["not-originator"]["details"]["requester_agency"] == "nwas"
    assert found["unknown-event"]["event_id"] == unknown and found["unknown-event"]["subject_ref"] is None
    assert found["no-role"]["actor"].startswith("override:lancashire-police/tok_")
    text = json.dumps(list(found.values()))
    assert "Subject located at risk" not in text and REFUSED.event["subject"]["name"] not in text
