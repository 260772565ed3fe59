"""Screenshots for the README from a real run: a hub (embedded broker, ingest, router, audit) with the demo's
synthetic feed, the board (web app and workers), Playwright driving Debian chromium. Signs in as a demo member
of Lancashire County Council Adult Social Care and saves docs/board-queue.png and docs/board-case.png (the people
shown are synthetic).

    .venv/bin/python bench/screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from eahub.board.model import Actor, QueueFilter
from eahub.board.settings import BoardSettings
from eahub.board.web.serve import start_board
from eahub.board.web.settings import BoardWebSettings
from eahub.core.broker import free_port
from eahub.core.logging import configure_logging
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.hub.demo_feed import feed
from eahub.hub.hub import start_hub
from eahub.ingest.tokens import TokenStore

AGENCY = "lancashire-cc-adults"
LOGIN, PASSWORD = "demo.adults", "demo password"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs")
    parser.add_argument("--cases", type=int, default=8, help="wait until this many cases are in the queue")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    configure_logging("console", "warning")
    with tempfile.TemporaryDirectory() as tmp:
        settings = HubSettings(data_dir=Path(tmp) / "data", broker_port=free_port(), http_port=free_port())
        store = TokenStore.in_data_dir(settings.data_dir)
        agencies = agency_ids(settings.policies_dir)
        tokens = {a: store.issue(a, agencies)[1] for a in agencies}
        ingest = f"http://{settings.http_host}:{settings.http_port}"
        hub = start_hub(settings, {"feed": feed(ingest, tokens, 2026, 24 * 60 / 3, print)})
        board = start_board(settings, BoardWebSettings(http_port=free_port(), queue_refresh_seconds=2),
                            BoardSettings(time_scale=1))
        try:
            account = board.web.shell.accounts.add(LOGIN, AGENCY, "member", PASSWORD, email=None)
            me = Actor(account.user_id, account.login, account.agency, account.role, "screenshots")

            def pick_case() -> str:
                """A case whose ISA shares the person's name, so the picture shows a (synthetic) person."""
                rows = board.web.parts.board.queue(me, QueueFilter())
                facade = board.web.parts.board
                for row in rows:
                    if "subject.name" in facade.header(me, row.case_id).shared_fields and \
                            (facade.open_case(me, row.case_id, "triage").concern.get("subject") or {}).get("name"):
                        return row.case_id
                return rows[0].case_id

            shoot(board.url, args.out, args.cases, pick_case)
        finally:
            board.shutdown()
            hub.shutdown()


def shoot(url: str, out: Path, cases: int, pick_case: Callable[[], str]) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=LAUNCH_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(f"{url}/signin")
        page.get_by_label("Login").fill(LOGIN)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("h1:has-text('Queue')")
        deadline = time.monotonic() + 180
        while page.locator("#queue tbody tr[data-case-id]").count() < cases and time.monotonic() < deadline:
            time.sleep(1)
        page.screenshot(path=str(out / "board-queue.png"), full_page=True)
        page.goto(f"{url}/cases/{pick_case()}")
        page.wait_for_selector("h1:has-text('Case EA-')")
        page.get_by_label("Triage (deciding who takes it)").check()
        page.get_by_role("button", name="Show the case").click()
        page.get_by_role("button", name="Claim this case").click()
        page.wait_for_selector("text=Done: claim this case.")
        page.get_by_label("Add a note").fill("Called the person; agreed a visit this afternoon.")
        page.get_by_role("button", name="Add note").click()
        page.wait_for_selector("text=Note added.")
        page.screenshot(path=str(out / "board-case.png"), full_page=True)
        browser.close()
    print(f"saved {out / 'board-queue.png'} and {out / 'board-case.png'}")


if __name__ == "__main__":
    main()
