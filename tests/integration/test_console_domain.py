"""The IG console's domain over a real ledger and vault, on SQLite and PostgreSQL: subject access (lookup,
view, HTML and PDF reports free of third parties), flows, the review queue (overrides with their justification
checked against the ledger's hash, self-claimed access, unusual-access findings) and reviews with notes,
verification with its history and metrics, inclusion proofs, records of processing, erasure."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from sqlalchemy import select

from eahub.audit.console import erase, flows
from eahub.audit.console.art30 import records_of_processing
from eahub.audit.console.integrity import Integrity
from eahub.audit.console.report import report_html, report_pdf
from eahub.audit.console.reviews import ReviewError, review_item, review_queue
from eahub.audit.console.settings import ConsoleSettings
from eahub.audit.console.subject import SubjectNotGiven, resolve_subject, sar_view
from eahub.audit.console.tables import review_notes
from eahub.audit.console.web.accounts import TEMPLATES
from eahub.audit.store import EntryFilter
from eahub.audit.verified_state import STATE_FILE
from eahub.core import avro_codec, schemas, topics
from eahub.core.messages import OutboundMessage
from eahub.core.web.templating import make_environment
from tests.console_support import ADULTS, CHILDREN, ISA, ISA_VERSION, JUSTIFICATION, THIRD_PARTY, Seeded, seed

pytestmark = pytest.mark.integration


@pytest.fixture
def s(tmp_path: Path, database_url: str) -> Seeded:
    return seed(tmp_path, database_url)


def test_subject_found_by_nhs_number_by_name_and_dob_or_reference(s: Seeded) -> None:
    p = s.pseudonymiser
    assert resolve_subject(p, nhs_number="943 476 5919") == s.subject_ref
    no_nhs = {"subject": {"name": "Alex  example", "date_of_birth": s.event["subject"]["date_of_birth"]}}
    assert resolve_subject(p, name="alex example", dob="1990-04-01") == p.subject_ref(no_nhs)
    assert resolve_subject(p, subject_ref=s.subject_ref) == s.subject_ref
    for bad in ({"nhs_number": "12"}, {"name": "Alex Example"}, {"name": "A", "dob": "1 April"}, {}):
        with pytest.raises(SubjectNotGiven) as err:
            resolve_subject(p, **bad)
        assert "Alex" not in str(err.value) and "12" not in str(err.value)


def test_sar_view_holds_every_kind_about_the_subject_and_no_one_else(s: Seeded) -> None:
    view = sar_view(s.parts.store, s.parts.vault, s.subject_ref)
    assert {e["subject_ref"] for e in view.entries} == {s.subject_ref}
    assert view.count("DISCLOSURE") == 2 and view.count("REFUSAL") == 1 and view.count("OVERRIDE") == 1
    assert view.count("CONSULTATION") == 4 and view.count("ACTION") == 3
    assert len(view.payloads) == 2  # adults and the break-glass share; not the other person's
    for p in view.payloads:
        text = repr(p)
        assert all(t not in text for t in THIRD_PARTY), text


def test_reports_say_what_was_shared_with_whom_and_why_without_third_parties(s: Seeded) -> None:
    view = sar_view(s.parts.store, s.parts.vault, s.subject_ref)
    html = report_html(make_environment([TEMPLATES]), view)
    pdf = report_pdf(view)
    assert pdf.startswith(b"%PDF")
    pdf_text = pdf.decode("latin-1")
    for doc in (html, pdf_text):
        assert ADULTS in doc and CHILDREN in doc and ISA in doc
        assert "recipient is not a party for this category" in doc  # the refusal and its reason
        assert "Care Act 2014 s.42" in doc
        for third in THIRD_PARTY:
            assert third not in doc, third
        assert "u-1" not in doc and "u-2" not in doc  # staff user ids never; their organisation instead
    assert "Alex Example" in html  # the subject's own data, as disclosed


def test_flows_count_shares_refusals_sla_and_spoofs(s: Seeded) -> None:
    docs = flows.load(s.parts.store)
    by_isa = flows.shares_by_isa(docs)
    assert by_isa.rows == [(ISA, 3, 1)]
    pairs = dict((r[0], r[1:]) for r in flows.shares_by_pair(docs).rows)
    assert pairs[f"lancashire-police -> {CHILDREN}"] == (0, 1)
    assert flows.shares_by_week(docs).rows == [("2026-W19", 3, 1)]
    assert flows.refusal_reasons(docs).rows == [("recipient is not a party for this category", 1)]
    assert flows.sla_by_board(docs).rows == [(ADULTS, 1, 12.0, 12.0, 1)]
    assert flows.problems_by_source(docs).rows == [("nwas", 0, 1)]
    csv = by_isa.to_csv()
    assert csv.splitlines() == ["ISA,shared,refused", f"{ISA},3,1"]


def test_review_queue_has_override_with_checked_justification_and_findings(s: Seeded) -> None:
    settings = ConsoleSettings(unallocated_views_threshold=1)
    items = review_queue(s.parts.store, s.parts.vault, settings)
    kinds = sorted(i.kind for i in items)
    assert kinds == ["after-closure", "out-of-hours", "override", "self-claimed", "unallocated-views",
                     "unallocated-views"]
    override = next(i for i in items if i.kind == "override")
    assert override.item_id == s.override_entry_id
    assert override.justification == JUSTIFICATION and override.justification_ok is True
    assert next(i for i in items if i.kind == "self-claimed").item_id == s.self_claimed_entry_id
    high = ConsoleSettings(unallocated_views_threshold=50)
    assert "unallocated-views" not in {i.kind for i in review_queue(s.parts.store, s.parts.vault, high)}


def test_review_records_an_action_with_the_note_hash_and_keeps_the_note_in_the_console(s: Seeded) -> None:
    settings = ConsoleSettings()
    note = "Spoke to the duty inspector; override justified"
    with pytest.raises(ReviewError):
        review_item(s.parts.store, s.parts.engine, s.parts.vault, settings, s.override_entry_id, "ig.one",
                    "maybe", note)
    entry = review_item(s.parts.store, s.parts.engine, s.parts.vault, settings, s.override_entry_id, "ig.one",
                        "upheld", note)
    assert entry["actor"] == "ig:ig.one" and entry["kind"] == "ACTION"
    assert entry["details"]["note_sha256"] == hashlib.sha256(note.encode()).hexdigest()
    stored = s.parts.store.get(entry["entry_id"])
    assert stored is not None and note.encode() not in stored.entry
    with s.parts.engine.connect() as conn:
        assert conn.scalar(select(review_notes.c.note)) == note
    assert s.override_entry_id not in {i.item_id for i in review_queue(s.parts.store, s.parts.vault, settings)}
    with pytest.raises(ReviewError):  # reviewed once
        review_item(s.parts.store, s.parts.engine, s.parts.vault, settings, s.override_entry_id, "ig.one",
                    "upheld", note)


def test_verification_is_kept_and_exported_and_a_proof_is_given(s: Seeded) -> None:
    integrity = Integrity(s.parts.engine, s.parts.checkpointer)
    v = integrity.verify("scheduled")
    assert v.ok and v.entries == s.parts.store.size() and v.heads >= 1
    assert integrity.history()[0] == v
    assert b"eahub_console_ledger_verified_ok 1.0" in generate_latest(integrity.registry)
    proof = integrity.proof(s.override_entry_id)
    assert proof is not None and proof["entry_id"] == s.override_entry_id and proof["audit_path"]
    assert integrity.proof("00000000-0000-0000-0000-000000000000") is None


class _Once(threading.Event):
    """A stop event that is set by the runner's first wait: one scheduled run."""

    def wait(self, timeout: float | None = None) -> bool:
        self.set()
        return True


def test_verification_with_a_record_is_incremental_full_on_request_and_scheduled_full(s: Seeded) -> None:
    state = s.settings.data_dir / STATE_FILE
    integrity = Integrity(s.parts.engine, s.parts.checkpointer, state_path=state)
    first = integrity.verify("manual")
    assert first.ok and not first.incremental and state.exists()  # no record yet: full, then recorded
    head = s.parts.store.latest_tree_head()
    assert head is not None
    second = integrity.verify("manual")
    assert second.ok and second.incremental and second.since_size == head.tree_size
    assert second.since_at_ms is not None and "incremental" in second.summary
    assert integrity.history()[0] == second
    forced = integrity.verify("manual", full=True)
    assert forced.ok and not forced.incremental and "incremental" not in forced.summary
    integrity.runner(3600)(_Once())  # one scheduled run
    scheduled = integrity.history()[0]
    assert scheduled.trigger == "scheduled" and "incremental" not in scheduled.summary


def test_records_of_processing_per_isa_with_live_counts(s: Seeded) -> None:
    extract = records_of_processing(s.settings.policies_dir, s.parts.store, s.parts.settings)
    rows = {(r["id"], r["version"]): r for r in extract}
    adult = rows[(ISA, ISA_VERSION)]
    assert adult["shares"] == 3 and adult["refusals"] == 1
    assert adult["purposes"] and adult["lawful_bases"] and adult["art9_conditions"] and adult["retention"]
    assert "Lancashire Constabulary" in adult["controllers"]
    assert rows[("isa-lancs-child-safeguarding", "4.0")]["shares"] == 0


def test_erasure_preview_names_what_goes_then_the_ledger_still_verifies(s: Seeded) -> None:
    integrity = Integrity(s.parts.engine, s.parts.checkpointer)
    preview = erase.preview(s.parts, s.subject_ref)
    assert {p["recipient"] for p in preview.payloads} == {ADULTS, "lscft-mental-health"}
    sent: list[OutboundMessage] = []  # stands in for the Kafka publisher; the broker test sends for real
    done = erase.erase(s.parts, integrity, s.subject_ref, "ig.one", "SUBJECT_REQUEST", sent.extend)
    assert done.payloads_unreadable == 2 and done.verification.ok and done.board_request_published
    assert [m.topic for m in sent] == [topics.ERASURE]
    request = avro_codec.decode(sent[0].value, expected=schemas.ERASURE_REQUEST)[1]
    assert request["subject_ref"] == s.subject_ref and request["requested_by"] == "ig:ig.one"
    assert all(p.erased for p in s.parts.vault.payloads(s.subject_ref))
    assert erase.preview(s.parts, s.subject_ref).payloads == []
    assert [e.document()["actor"] for e in s.parts.store.find(EntryFilter(kinds=("ERASURE",)))] == ["ig:ig.one"]
    assert s.parts.vault.payloads(s.other_ref)[0].record is not None  # nobody else's


def test_a_justification_that_does_not_match_the_ledgers_hash_is_flagged(s: Seeded) -> None:
    from eahub.audit.console.reviews import justification_of

    override = s.parts.store.get(s.override_entry_id)
    assert override is not None
    doc = override.document()
    assert justification_of(s.parts.vault, doc) == (JUSTIFICATION, True)
    forged = {**doc, "details": {**doc["details"], "justification_sha256": "0" * 64}}
    assert justification_of(s.parts.vault, forged) == (JUSTIFICATION, False)
    s.parts.vault.erase(s.subject_ref)
    assert justification_of(s.parts.vault, doc) == (None, None)
