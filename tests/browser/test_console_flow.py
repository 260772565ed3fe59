"""The IG console in Debian chromium: an IG officer signs in, finds a subject by NHS number (a POST form),
downloads the SAR report (PDF) and the evidence bundle, the bundle verifies offline with
`eahub audit verify-bundle` against the separately exported public key, and every console view is on the
trail; a board member's real session cookie is refused on every console route; axe finds no serious or
critical violations on any console page. The console runs for real (`start_console`, uvicorn on a free port)
over an audit database seeded by the real ledger store and vault (tests/console_support)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from eahub.audit.console.bootstrap import RunningConsole, start_console
from eahub.audit.console.settings import ConsoleSettings
from eahub.audit.console.web.accounts import IG_AGENCY, IG_OFFICER
from eahub.board.model import MEMBER
from eahub.cli import main
from eahub.core.broker import free_port
from eahub.core.web.accounts import cheap_hasher
from tests.browser.test_accessibility import serious
from tests.console_support import Seeded, seed
from tests.web.board_rig import make_web_rig
from tests.web.test_console_authorization_matrix import EXPECTED

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]
PASSWORD = "console browser pw"


@pytest.fixture
def console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RunningConsole, Seeded]]:
    seeded = seed(tmp_path)
    monkeypatch.setenv("EAHUB_DATA_DIR", str(seeded.settings.data_dir))
    monkeypatch.setenv("EAHUB_DATABASE_URL", seeded.settings.database_url or "")
    running = start_console(seeded.settings, ConsoleSettings(http_port=free_port(), verify_interval_seconds=3600),
                            hasher=cheap_hasher())
    running.web.shell.accounts.add("ig.browser", IG_AGENCY, IG_OFFICER, PASSWORD)
    try:
        yield running, seeded
    finally:
        running.shutdown()


def _sign_in(page: Any, url: str) -> None:
    page.goto(f"{url}/signin")
    page.get_by_label("Login").fill("ig.browser")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector("h1:has-text('Find a subject')")


def test_officer_finds_subject_downloads_and_verifies_the_bundle(browser: Any, console: tuple[RunningConsole, Seeded],
                                                                 tmp_path: Path) -> None:
    running, seeded = console
    page = browser.new_context(accept_downloads=True).new_page()
    page.goto(f"{running.url}/signin")
    problems = {"signin": serious(page)}
    _sign_in(page, running.url)
    problems["find"] = serious(page)
    page.get_by_label("NHS number").fill("943 476 5919")
    page.get_by_role("button", name="Find").click()
    page.wait_for_selector("h1:has-text('Subject access record')")
    assert "9434765919" not in page.url and "943" not in page.url
    problems["sar"] = serious(page)
    with page.expect_download() as pdf_dl:
        page.get_by_role("button", name="Report for the subject (PDF)").click()
    pdf = tmp_path / "sar.pdf"
    pdf_dl.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    with page.expect_download() as bundle_dl:
        page.get_by_role("button", name="Signed evidence bundle").click()
    bundle = tmp_path / "bundle.json"
    bundle_dl.value.save_as(bundle)
    for path in ("/flows", "/reviews", "/integrity", "/records", "/erasure"):
        page.goto(running.url + path)
        problems[path] = serious(page)
    assert problems == {k: [] for k in problems}, problems

    cli = CliRunner()
    key = cli.invoke(main, ["audit", "public-key"])
    assert key.exit_code == 0, key.output
    pem = tmp_path / "hub.pem"
    pem.write_text(key.output)
    checked = cli.invoke(main, ["audit", "verify-bundle", str(bundle), "--public-key", str(pem)])
    assert checked.exit_code == 0 and "bundle valid" in checked.output, checked.output
    assert json.loads(bundle.read_text())["selection"] == {"subject": seeded.subject_ref}

    mine = [r.document() for r in seeded.parts.store.rows() if r.document()["actor"] == "ig:ig.browser"]
    pages = [(d["kind"], d["details"]["console_page"]) for d in mine]
    assert pages[:3] == [("CONSULTATION", "sar"), ("DISCLOSURE", "sar-report-pdf"), ("DISCLOSURE", "sar-bundle")]
    assert {("CONSULTATION", p) for p in ("flows", "reviews", "records")} <= set(pages)


def test_board_member_session_refused_on_every_console_route(browser: Any, console: tuple[RunningConsole, Seeded],
                                                             tmp_path: Path) -> None:
    running, seeded = console
    board = make_web_rig(tmp_path / "board")
    agency = next(a for a, r in board.users if r == MEMBER)
    session_id = dict(board.client(agency, MEMBER).cookies)["eahub-board"]
    context = browser.new_context()
    host = running.web.settings.http_host
    context.add_cookies([{"name": n, "value": session_id, "domain": host, "path": "/"}
                         for n in ("eahub-board", running.web.shell.cookie_name)])
    page = context.new_page()
    before = seeded.parts.store.size()
    for method, path in EXPECTED:
        url = running.url + path.replace("{name}", "by-isa").replace("{item_id}", seeded.override_entry_id)
        if method == "GET":
            page.goto(url)
            assert page.url.endswith("/signin"), (path, page.url)
        else:
            r = page.request.post(url, form={"csrf_token": "x", "subject_ref": seeded.subject_ref})
            assert r.status in (401, 403), (path, r.status)
    assert seeded.parts.store.size() == before


def test_officer_verifies_the_trail_incrementally_and_asks_for_a_full_re_verification(
        browser: Any, console: tuple[RunningConsole, Seeded]) -> None:
    running, seeded = console
    head = seeded.parts.store.latest_tree_head()
    assert head is not None
    page = browser.new_context().new_page()
    _sign_in(page, running.url)
    page.goto(f"{running.url}/integrity")
    page.get_by_role("button", name="Full re-verification").click()
    page.wait_for_selector("h2:has-text('The trail is intact')")
    assert "Full verification: every entry re-hashed" in page.content()
    assert "Incremental verification" not in page.content()
    page.get_by_role("button", name="Verify the trail now").click()  # from the head that run recorded
    page.wait_for_selector(f"text=Incremental verification from the signed tree head of {head.tree_size} entries")
    assert "The trail is intact" in page.content() and "Full verification" not in page.content()
    assert serious(page) == []
