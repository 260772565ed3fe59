"""The board's pages over board-core's facade (real SQLite, in-memory activity publisher): the queue shows only
the agency's cases and no personal data; the case page shows content only after a purpose is POSTed; commands,
notes and the facade's errors map to the right pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.board_support import ADULTS, POLICE
from tests.web.board_rig import HTML, WebRig, csrf_of, make_web_rig, routed_case

pytestmark = pytest.mark.integration
NAME, NHS, NARRATIVE = "Alex Example", "9434765919", "Caller worried about neighbour in crisis"


@pytest.fixture
def rig(tmp_path: Path) -> WebRig:
    return make_web_rig(tmp_path)


def store(rig: WebRig, **kw: object) -> str:
    case = routed_case(**kw)  # type: ignore[arg-type]
    assert rig.board.store_case(case)
    return str(case["case_id"])


def open_form(c: TestClient, case_id: str, purpose: str = "triage", reason: str = "", part: str = "concern",
              ) -> dict[str, str]:
    page = c.get(f"/cases/{case_id}", headers=HTML)
    assert page.status_code == 200, page.text
    return {"csrf_token": csrf_of(page.text), "purpose": purpose, "purpose_reason": reason, "part": part}


def test_queue_shows_own_agency_without_personal_data(rig: WebRig) -> None:
    mine = store(rig, recipient=ADULTS)
    theirs = store(rig, recipient=POLICE, subject_ref="subj-other")
    with rig.client(ADULTS) as c:
        page = c.get("/", headers=HTML)
        rows = c.get("/queue/rows", headers=HTML)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert mine in page.text and theirs not in page.text
    assert 'hx-trigger="every 5s"' in rows.text and mine in rows.text
    for secret in (NAME, NHS, NARRATIVE):
        assert secret not in page.text
    assert "Overdue" in page.text or "left" in page.text


def test_queue_filters_and_bad_filter(rig: WebRig) -> None:
    g2 = store(rig, recipient=ADULTS, grade="GRADE_2")
    g3 = store(rig, recipient=ADULTS, grade="GRADE_3", subject_ref="s3")
    with rig.client(ADULTS) as c:
        page = c.get("/?grade=GRADE_3", headers=HTML)
        assert g3 in page.text and g2 not in page.text
        assert c.get("/?unallocated=1", headers=HTML).text.count("/cases/") == 2
        assert c.get("/?mine=1", headers=HTML).text.count("/cases/") == 0
        bad = c.get("/?grade=GRADE_9", headers=HTML)
        assert bad.status_code == 422 and "grade" in bad.text


def test_case_header_then_content_only_after_purpose(rig: WebRig) -> None:
    case_id = store(rig)
    with rig.client(ADULTS) as c:
        header = c.get(f"/cases/{case_id}", headers=HTML)
        assert header.status_code == 200 and header.headers["cache-control"] == "no-store"
        assert NAME not in header.text and "Why are you opening this case?" in header.text
        assert not rig.audit.of_kind("CONSULTATION")
        form = open_form(c, case_id)
        shown = c.post(f"/cases/{case_id}/open", data=form, headers=HTML)
        assert shown.status_code == 200 and NAME in shown.text and NHS in shown.text
        assert NARRATIVE not in shown.text  # summary first
        assert "Show the narrative" in shown.text
        assert "Withheld: not shared with your board" in shown.text  # health_details is withheld
        narrative = c.post(f"/cases/{case_id}/open", data={**form, "part": "narrative"}, headers=HTML)
        assert NARRATIVE in narrative.text
    parts = [r["part"] for r in rig.audit.of_kind("CONSULTATION")]
    assert parts == ["concern", "narrative"]


def test_purpose_other_needs_a_reason(rig: WebRig) -> None:
    case_id = store(rig)
    with rig.client(ADULTS) as c:
        r = c.post(f"/cases/{case_id}/open", data=open_form(c, case_id, purpose="other"), headers=HTML)
        assert r.status_code == 422 and "purpose_reason" in r.text and NAME not in r.text
        ok = c.post(f"/cases/{case_id}/open", data=open_form(c, case_id, "other", "covering a colleague"),
                    headers=HTML)
        assert ok.status_code == 200 and NAME in ok.text


def test_claim_acknowledge_visit_note_close(rig: WebRig) -> None:
    case_id = store(rig)
    with rig.client(ADULTS) as c:
        form = open_form(c, case_id)
        r = c.post(f"/cases/{case_id}/commands/claim", data=form, headers=HTML)
        assert r.status_code == 200 and "Done: claim this case." in r.text
        r = c.post(f"/cases/{case_id}/commands/acknowledge", data=form, headers=HTML)
        assert r.status_code == 200, r.text
        r = c.post(f"/cases/{case_id}/commands/record_visit", headers=HTML,
                   data={**form, "agencies": [ADULTS, POLICE], "visited_at": "2026-11-20T16:30",
                         "notes": "joint visit done"})
        assert r.status_code == 200 and "(joint visit)" in r.text
        r = c.post(f"/cases/{case_id}/notes", data={**form, "text": "spoke to GP", "significant": "1"},
                   headers=HTML)
        assert r.status_code == 200 and "spoke to GP" in r.text and "significant event" in r.text
        r = c.post(f"/cases/{case_id}/commands/close", headers=HTML,
                   data={**form, "outcome": "SUPPORT_ACCEPTED", "text": "closed after support"})
        assert r.status_code == 200 and "Closed" in r.text
    actions = [r["action"] for r in rig.audit.of_kind("ACTION")]
    assert actions[:3] == ["claim", "acknowledge", "record_visit"] and "close" in actions
    with rig.client(POLICE) as police:  # the originator sees the feedback
        fb = police.get("/feedback", headers=HTML)
        assert "support accepted" in fb.text and "spoke to GP" not in fb.text


def test_errors_map_to_pages(rig: WebRig) -> None:
    case_id = store(rig)
    with rig.client(ADULTS) as c:
        form = open_form(c, case_id)
        r = c.post(f"/cases/{case_id}/commands/acknowledge", data=form, headers=HTML)
        assert r.status_code == 409 and NAME not in r.text
        c.post(f"/cases/{case_id}/commands/claim", data=form, headers=HTML)
        with rig.client(ADULTS, "manager") as m:
            mform = open_form(m, case_id)
            r = m.post(f"/cases/{case_id}/commands/claim", data=mform, headers=HTML)
            assert r.status_code == 409 and "already claimed" in r.text
        r = c.post(f"/cases/{case_id}/commands/acknowledge", data={**form, "expected_version": "0"}, headers=HTML)
        assert r.status_code == 409
        r = c.post(f"/cases/{case_id}/commands/plan_visit", data={**form, "planned_at": "not a time"},
                   headers=HTML)
        assert r.status_code == 422 and "planned_at" in r.text
        assert c.get("/cases/00000000-0000-0000-0000-000000000000", headers=HTML).status_code == 404
        rig.audit.down = True
        r = c.post(f"/cases/{case_id}/open", data=form, headers=HTML)
        assert r.status_code == 503 and "nothing was shown" in r.text and NAME not in r.text
    with rig.client(ADULTS, "readonly") as ro:
        rform = open_form(ro, case_id)
        rig.audit.down = False
        r = ro.post(f"/cases/{case_id}/commands/triage", data=rform, headers=HTML)
        assert r.status_code in (403, 409) and NAME not in r.text


def test_other_agency_gets_the_same_404(rig: WebRig) -> None:
    case_id = store(rig)
    with rig.client(POLICE) as c:
        other = c.get(f"/cases/{case_id}", headers=HTML)
        missing = c.get("/cases/11111111-1111-1111-1111-111111111111", headers=HTML)
    assert other.status_code == missing.status_code == 404
    assert other.text == missing.text


def test_manager_pages(rig: WebRig) -> None:
    case_id = store(rig)
    with rig.client(ADULTS, "manager") as m:
        assert m.get("/workload", headers=HTML).status_code == 200
        form = open_form(m, case_id, "supervision")
        looked = m.post(f"/cases/{case_id}/who-looked", data=form, headers=HTML)
        assert looked.status_code == 200 and "Who looked at this case" in looked.text
        assert m.get("/notifications", headers=HTML).status_code == 200
    with rig.client(ADULTS) as member:
        assert member.get("/workload", headers=HTML).status_code == 403


def test_metrics_and_healthz(rig: WebRig) -> None:
    store(rig)
    with rig.client() as c:
        metrics = c.get("/metrics")
        assert c.get("/healthz").json() == {"status": "ok"}
    assert metrics.status_code == 200 and "eahub_board_open_cases" in metrics.text
    assert NAME not in metrics.text


def test_every_unsafe_route_needs_the_csrf_token(rig: WebRig) -> None:
    from fastapi.routing import APIRoute

    case_id = store(rig)
    with rig.client(ADULTS, "manager") as c:
        unsafe = [(m, r.path) for r in rig.app.routes if isinstance(r, APIRoute) for m in (r.methods or set())
                  if m in ("POST", "PUT", "PATCH", "DELETE")]
        assert len(unsafe) >= 7
        for method, path in unsafe:
            url = path.replace("{case_id}", case_id).replace("{name}", "claim").replace("{action_id}", "x")
            r = c.request(method, url, data={"purpose": "triage", "text": "t", "login": "x"}, headers=HTML)
            assert r.status_code == 403 and "Form expired" in r.text, f"{method} {path}"
    assert not rig.audit.records


def test_demo_accounts(rig: WebRig) -> None:
    from eahub.board.web.accounts import demo_accounts

    accounts = rig.app.state.shell.accounts
    first = demo_accounts(accounts, [ADULTS])
    again = demo_accounts(accounts, [ADULTS])
    assert [a[1] for a in first] == [a[1] for a in again] and first != again
    for _agency, login, password in again:
        assert accounts.authenticate(login, password) is not None


def test_queue_shows_the_soonest_due_first_and_says_how_many_more(rig: WebRig, monkeypatch: pytest.MonkeyPatch
                                                                   ) -> None:
    from eahub.board.web import queue_routes

    monkeypatch.setattr(queue_routes, "MAX_ROWS", 2)
    for i in range(3):
        store(rig, subject_ref=f"s-{i}")
    with rig.client(ADULTS) as c:
        page = c.get("/", headers=HTML).text
    assert page.count('data-case-id="') == 2 and "3 open cases" in page and "showing the first 2" in page
