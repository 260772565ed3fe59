"""Screenshots of the IG console for the README from a real run: a hub (embedded broker, ingest, router, audit)
with the demo's synthetic feed, then the IG console (`start_console`) over its audit database; Playwright drives
Debian chromium, signs in as the demo IG officer, looks up the subject with the most entries on the trail and
saves docs/console-sar.png and docs/console-flows.png (the people are synthetic).

    .venv/bin/python bench/console_screenshots.py [--out docs] [--entries 60]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from pathlib import Path

from eahub.audit.bootstrap import open_ledger
from eahub.audit.console.bootstrap import start_console
from eahub.audit.console.settings import ConsoleSettings
from eahub.audit.console.web.accounts import demo_ig_account
from eahub.audit.store import EntryFilter
from eahub.core.broker import free_port
from eahub.core.logging import configure_logging
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.hub.demo_feed import feed
from eahub.hub.hub import start_hub
from eahub.ingest.tokens import TokenStore

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs")
    parser.add_argument("--entries", type=int, default=60, help="wait until the ledger holds this many entries")
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
        console = None
        try:
            ledger = open_ledger(settings)
            deadline = time.monotonic() + 180
            while ledger.size() < args.entries and time.monotonic() < deadline:
                time.sleep(1)
            subjects = Counter(r.subject_ref for r in ledger.find(EntryFilter(kinds=("DISCLOSURE", "REFUSAL")))
                               if r.subject_ref)
            subject = subjects.most_common(1)[0][0]
            console = start_console(settings, ConsoleSettings(http_port=free_port()))
            login, password = demo_ig_account(console.web.shell.accounts)
            shoot(console.url, args.out, login, password, subject)
        finally:
            if console is not None:
                console.shutdown()
            hub.shutdown()


def shoot(url: str, out: Path, login: str, password: str, subject: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=LAUNCH_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.goto(f"{url}/signin")
        page.get_by_label("Login").fill(login)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector("h1:has-text('Find a subject')")
        page.get_by_label("Subject reference").fill(subject)
        page.get_by_role("button", name="Find").click()
        page.wait_for_selector("h1:has-text('Subject access record')")
        page.screenshot(path=str(out / "console-sar.png"), full_page=True)
        page.goto(f"{url}/flows")
        page.wait_for_selector("h1:has-text('Flows')")
        page.screenshot(path=str(out / "console-flows.png"), full_page=True)
        browser.close()
    print(f"saved {out / 'console-sar.png'} and {out / 'console-flows.png'}")


if __name__ == "__main__":
    main()
