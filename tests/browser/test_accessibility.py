"""Accessibility: axe-core (bundled offline by axe-playwright-python) on the sign-in page, the queue, the case
header (purpose form) and the case content with its forms: no serious or critical violations."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import Stack
from tests.browser.test_board_flow import FLOW_CASE, publish, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]


def serious(page: Any) -> list[str]:
    results = Axe().run(page)
    assert results.response["testEngine"]["name"] == "axe-core"  # axe really ran on the page
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


def test_no_serious_or_critical_violations(browser: Any, stack: Stack) -> None:
    page = browser.new_context().new_page()
    page.goto(f"{stack.board_url}/signin")
    problems = {"signin": serious(page)}
    sign_in(page, stack, "adults")
    publish(stack, FLOW_CASE.event)
    page.locator("#queue tbody tr[data-case-id]").first.wait_for(timeout=45_000)
    problems["queue"] = serious(page)
    page.locator("#queue tbody tr[data-case-id] a").first.click()
    page.wait_for_selector("h1:has-text('Case EA-')")
    problems["case-header"] = serious(page)
    page.get_by_label("Triage (deciding who takes it)").check()
    page.get_by_role("button", name="Show the case").click()
    page.wait_for_selector("h2:has-text('The concern')")
    problems["case-content"] = serious(page)
    page.get_by_role("button", name="Claim this case").click()
    page.wait_for_selector("text=Done: claim this case.")
    problems["case-claimed"] = serious(page)
    assert problems == {k: [] for k in problems}, problems
