"""The IG console's pages over a real seeded audit database: find a subject by POST (no identifier in a URL),
the SAR page, the HTML/PDF reports and the evidence bundle (verified offline), flows with charts and CSV,
reviews, integrity (verify, proof), records of processing, erasure with confirmation; every view on the trail.
On SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from eahub.audit.bundle import verify_bundle
from eahub.audit.store import EntryFilter
from eahub.audit.tables import vault_payloads
from tests.console_support import ADULTS, ISA, JUSTIFICATION, THIRD_PARTY
from tests.web.console_rig import HTML, ConsoleRig, make_console_rig

pytestmark = pytest.mark.integration
NHS = "9434765919"


@pytest.fixture
def rig(tmp_path: Path, database_url: str) -> ConsoleRig:
    return make_console_rig(tmp_path, database_url)


def _ig_entries(rig: ConsoleRig, login: str) -> list[dict[str, object]]:
    return [r.document() for r in rig.seeded.parts.store.rows() if r.document()["actor"] == f"ig:{login}"]


def _find(rig: ConsoleRig, c: TestClient) -> str:
    r = c.post("/sar", data={"nhs_number": NHS, "csrf_token": rig.csrf(c)}, headers=HTML)
    assert r.status_code == 200, r.text
    return r.text


def test_officer_finds_subject_downloads_reports_and_bundle_that_verifies(rig: ConsoleRig) -> None:
    c = rig.client("ig-officer")
    page = _find(rig, c)
    assert rig.seeded.subject_ref in page and "recipient is not a party for this category" in page
    assert ISA in page and "Care Act 2014 s.42" in page
    assert NHS not in str(c.cookies) and "Subject access record" in page
    token = rig.csrf(c)
    form = {"subject_ref": rig.seeded.subject_ref, "csrf_token": token}
    html = c.post("/sar/report.html", data=form)
    pdf = c.post("/sar/report.pdf", data=form)
    bundle = c.post("/sar/bundle", data=form)
    assert html.status_code == pdf.status_code == bundle.status_code == 200
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]
    for third in THIRD_PARTY:
        assert third not in html.text and third.encode() not in pdf.content
    result = verify_bundle(json.loads(bundle.content), rig.seeded.parts.signer.public_key)
    assert result.ok and result.entries >= 12
    kinds = [(e["kind"], e["details"]["console_page"]) for e in _ig_entries(rig, "ig.ig-officer")]  # type: ignore[index]
    assert kinds == [("CONSULTATION", "sar"), ("DISCLOSURE", "sar-report-html"), ("DISCLOSURE", "sar-report-pdf"),
                     ("DISCLOSURE", "sar-bundle")]
    # the officer's looking is on the subject's own trail
    again = _find(rig, c)
    assert "ig:ig.ig-officer" in again


def test_search_errors_never_echo_what_was_typed(rig: ConsoleRig) -> None:
    c = rig.client("ig-officer")
    r = c.post("/sar", data={"name": "Alex Example", "dob": "", "csrf_token": rig.csrf(c)}, headers=HTML)
    assert r.status_code == 422 and "Alex Example" not in r.text
    assert c.get("/sar", headers=HTML).status_code == 405  # no GET search, so no identifier in a URL


def test_flows_page_has_svg_charts_tables_and_csv(rig: ConsoleRig) -> None:
    c = rig.client("auditor")
    page = c.get("/flows", headers=HTML).text
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') >= 4 and "<table>" in page
    csv = c.get("/flows/by-isa.csv")
    assert csv.status_code == 200 and csv.text.splitlines()[1] == f"{ISA},3,1"
    assert c.get("/flows/nope.csv").status_code == 404
    assert [e["kind"] for e in _ig_entries(rig, "ig.auditor")] == ["CONSULTATION", "DISCLOSURE"]


def test_reviews_show_justification_and_record_an_action(rig: ConsoleRig) -> None:
    c = rig.client("caldicott-guardian")
    page = c.get("/reviews", headers=HTML).text
    assert JUSTIFICATION in page and "matches the trail" in page and "Self claimed" in page
    r = c.post(f"/reviews/{rig.seeded.override_entry_id}", headers=HTML, follow_redirects=False,
               data={"outcome": "upheld", "note": "justified", "csrf_token": rig.csrf(c)})
    assert r.status_code == 303
    assert JUSTIFICATION not in c.get("/reviews", headers=HTML).text
    actions = [e for e in _ig_entries(rig, "ig.caldicott-guardian") if e["kind"] == "ACTION"]
    assert len(actions) == 1


def test_integrity_verifies_and_shows_and_downloads_a_proof(rig: ConsoleRig) -> None:
    c = rig.client("auditor")
    page = c.post("/integrity/verify", data={"csrf_token": rig.csrf(c)}, headers=HTML).text
    assert "The trail is intact" in page and "Entries checked" in page
    assert "manual" in c.get("/integrity", headers=HTML).text
    entry = rig.seeded.override_entry_id
    shown = c.post("/integrity/proof", data={"entry_id": entry, "csrf_token": rig.csrf(c)}, headers=HTML)
    assert shown.status_code == 200 and "audit_path" in shown.text
    got = c.post("/integrity/proof.json", data={"entry_id": entry, "csrf_token": rig.csrf(c)})
    assert json.loads(got.content)["entry_id"] == entry
    bad = c.post("/integrity/proof", data={"entry_id": "x", "csrf_token": rig.csrf(c)}, headers=HTML)
    assert bad.status_code == 422
    assert "eahub_console_ledger_verified_ok 1.0" in c.get("/metrics").text


def test_verifying_the_trail_is_incremental_from_the_last_verified_head_and_full_on_request(rig: ConsoleRig) -> None:
    c = rig.client("auditor")
    head = rig.seeded.parts.store.latest_tree_head()
    assert head is not None
    first = c.post("/integrity/verify", data={"csrf_token": rig.csrf(c)}, headers=HTML).text
    assert "The trail is intact" in first and "Full verification: every entry re-hashed" in first  # no record yet
    again = c.post("/integrity/verify", data={"csrf_token": rig.csrf(c)}, headers=HTML).text
    assert "The trail is intact" in again and "Full verification" not in again
    assert f"Incremental verification from the signed tree head of {head.tree_size} entries verified" in again
    assert f"entries from position {head.tree_size} on were re-hashed" in again
    full = c.post("/integrity/verify", data={"csrf_token": rig.csrf(c), "full": "1"}, headers=HTML).text
    assert "The trail is intact" in full and "Full verification: every entry re-hashed" in full
    assert "Incremental verification" not in full
    bad = c.post("/integrity/verify", data={"csrf_token": rig.csrf(c), "full": "yes"}, headers=HTML)
    assert bad.status_code == 422
    verified = [e["details"] for e in _ig_entries(rig, "ig.auditor") if e["details"]["console_page"] == "verify"]
    assert [d["mode"] for d in verified] == ["full", "incremental", "full"]


def test_records_of_processing_page(rig: ConsoleRig) -> None:
    page = rig.client("dpo").get("/records", headers=HTML).text
    assert ISA in page and "Art 9 conditions" in page and "Lancashire Constabulary" in page


def test_erasure_needs_confirmation_then_the_ledger_still_verifies(rig: ConsoleRig) -> None:
    c = rig.client("dpo")
    preview = c.post("/erasure/preview", data={"nhs_number": NHS, "csrf_token": rig.csrf(c)}, headers=HTML).text
    assert "Check what will be destroyed" in preview and ADULTS in preview
    form = {"subject_ref": rig.seeded.subject_ref, "reason": "SUBJECT_REQUEST", "csrf_token": rig.csrf(c)}
    assert c.post("/erasure/confirm", data=form, headers=HTML).status_code == 422  # not confirmed
    assert all(not p.erased for p in rig.seeded.parts.vault.payloads(rig.seeded.subject_ref))
    done = c.post("/erasure/confirm", data={**form, "confirm": "erase"}, headers=HTML).text
    assert "still verifies" in done and len(rig.sent) == 1
    assert all(p.erased for p in rig.seeded.parts.vault.payloads(rig.seeded.subject_ref))
    erasures = rig.seeded.parts.store.find(EntryFilter(kinds=("ERASURE",)))
    assert [r.document()["actor"] for r in erasures] == ["ig:ig.dpo"]


def test_retention_previews_then_deletes_expired_payloads_and_the_ledger_verifies(rig: ConsoleRig) -> None:
    parts = rig.seeded.parts
    with parts.engine.begin() as conn:  # the adults' payload reached the end of its retention
        conn.execute(update(vault_payloads).where(vault_payloads.c.case_id == rig.seeded.case_adults)
                     .values(expires_at_ms=1))
    c = rig.client("ig-officer")
    preview = c.post("/erasure/retention/preview", data={"csrf_token": rig.csrf(c)}, headers=HTML).text
    assert "1 disclosed payloads in the vault are past their retention" in preview
    assert rig.seeded.case_adults[:8] in preview
    cutoff = re.search(r'name="cutoff_ms" value="(\d+)"', preview)
    assert cutoff
    form = {"cutoff_ms": cutoff.group(1), "csrf_token": rig.csrf(c)}
    assert c.post("/erasure/retention/confirm", data=form, headers=HTML).status_code == 422  # not confirmed
    done = c.post("/erasure/retention/confirm", data={**form, "confirm": "delete"}, headers=HTML).text
    assert "1 payloads past their retention were deleted" in done and "still verifies" in done
    assert rig.seeded.case_adults not in {p.case_id for p in parts.vault.payloads(rig.seeded.subject_ref)}
    assert len(parts.vault.payloads(rig.seeded.subject_ref)) == 1  # the break-glass payload is kept
    erasures = [r.document() for r in parts.store.find(EntryFilter(kinds=("ERASURE",)))]
    assert [(e["actor"], e["details"]["vault_payloads_deleted"]) for e in erasures] == [("ig:ig.ig-officer", "1")]
