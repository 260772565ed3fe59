"""The board in a real browser, end to end on a running hub: sign in; a case routed while the queue is open
appears without a reload; claim, acknowledge, record a joint visit, add a note, close with an outcome; the
originating agency sees the feedback; an unacknowledged Grade 2 case breaches and escalates by email (real SMTP
server, SLA compressed 600x through settings); another agency's member gets the 404 page for the case URL; the
ledger holds CONSULTATION and ACTION entries for the event and `eahub audit verify` passes."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from eahub.cli import main
from eahub.core.event_json import to_json
from tests.browser.conftest import PASSWORD, Stack
from tests.e2e.conftest import issue_token
from tests.scenarios.cases import CASES

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]
ADULTS = "lancashire-cc-adults"
FLOW_CASE = next(c for c in CASES if c.name == "mh-consent-not-sought-grade3")
BREACH_CASE = next(c for c in CASES if c.name == "mh-police-given")


def publish(stack: Stack, scenario_event: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    event = {**scenario_event, "event_id": str(uuid.uuid4()), "reported_at": now,
             "occurred_at": now - timedelta(minutes=5)}
    token = issue_token(stack.settings, "lancashire-police")
    r = httpx.post(f"{stack.ingest_url}/v1/events", json=to_json(event),
                   headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert r.status_code == 202, r.text
    return event


def sign_in(page: Any, stack: Stack, key: str) -> None:
    page.goto(f"{stack.board_url}/signin")
    page.get_by_label("Login").fill(stack.logins[key])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("h1:has-text('Queue')")


def wait_ledger(event_id: str, kinds: tuple[str, ...], timeout_s: float = 30) -> str:
    deadline = time.monotonic() + timeout_s
    out = ""
    while time.monotonic() < deadline:
        r = CliRunner().invoke(main, ["audit", "show", "--event", event_id, "--json"])
        out = r.output
        if r.exit_code == 0 and all(f'"{k}"' in out for k in kinds):
            return out
        time.sleep(0.5)
    raise AssertionError(f"ledger lacks {kinds} for the event: {out[-500:]}")


def test_board_flow_in_the_browser(browser: Any, stack: Stack) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    sign_in(page, stack, "adults")
    assert page.locator("#queue tbody tr[data-case-id]").count() == 0

    event = publish(stack, FLOW_CASE.event)  # routed while the page is open
    row = page.locator("#queue tbody tr[data-case-id]").first
    row.wait_for(timeout=45_000)
    assert page.url.rstrip("/") == stack.board_url  # no navigation: it arrived by polling
    case_id = row.get_attribute("data-case-id")
    assert case_id
    name = event["subject"]["name"]
    assert name not in page.content()

    row.get_by_role("link").click()
    page.wait_for_selector("h1:has-text('Case EA-')")
    assert name not in page.content()  # header only until a purpose is given
    page.get_by_label("Triage (deciding who takes it)").check()
    page.get_by_role("button", name="Show the case").click()
    page.wait_for_selector("h2:has-text('The concern')")
    assert name in page.content()

    page.get_by_role("button", name="Claim this case").click()
    page.wait_for_selector("text=Done: claim this case.")
    page.get_by_role("button", name="Acknowledge").click()
    page.wait_for_selector("text=Done: acknowledge.")
    visit = page.locator("form[action$='/commands/record_visit']")
    visit.get_by_label("Lancashire Constabulary").check()
    visit.get_by_label("Visit notes").fill("Joint visit with police; support offered")
    visit.get_by_role("button", name="Record a visit").click()
    page.wait_for_selector("text=(joint visit)")
    page.get_by_label("Add a note").fill("Spoke to the GP surgery")
    page.get_by_role("button", name="Add note").click()
    page.wait_for_selector("text=Spoke to the GP surgery")
    close = page.locator("form[action$='/commands/close']")
    close.get_by_label("Outcome").select_option("SUPPORT_ACCEPTED")
    close.get_by_label("Closing summary").fill("Support in place")
    close.get_by_role("button", name="Close with an outcome").click()
    page.wait_for_selector("text=Done: close with an outcome.")

    police = browser.new_context().new_page()  # the originating agency sees the outcome, not the notes
    sign_in(police, stack, "police")
    police.goto(f"{stack.board_url}/feedback")
    police.wait_for_selector("td:has-text('support accepted')")
    assert "Spoke to the GP surgery" not in police.content()

    children = browser.new_context().new_page()  # another agency opening the case URL: 404 page
    sign_in(children, stack, "children")
    response = children.goto(f"{stack.board_url}/cases/{case_id}")
    assert response is not None and response.status == 404
    assert children.locator("h1").inner_text() == "Page not found" and name not in children.content()

    breach = publish(stack, BREACH_CASE.event)  # Grade 2: 60 min / 600 = 6 s to acknowledge
    mail = stack.mailbox.wait_for(lambda m: "adults-mgr@board.example" in m["X-Envelope-To"]
                                  and "/cases/" in m.get_payload(decode=False), timeout_s=90)
    body = str(mail.get_payload())
    for secret in (breach["subject"]["name"], breach["subject"]["nhs_number"], breach["narrative"]):
        assert secret not in body and secret not in str(mail["Subject"])
    assert stack.board_url + "/cases/" in body

    ledger = wait_ledger(event["event_id"], ("CONSULTATION", "ACTION"))
    assert name not in ledger
    verify = CliRunner().invoke(main, ["audit", "verify"])
    assert verify.exit_code == 0, verify.output
    ctx.close()
