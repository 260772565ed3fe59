"""The chaos suite at CI size (a few minutes): the services as separate processes on the embedded broker,
events over HTTP and Kafka, router, audit and ingest SIGKILLed at random points and restarted, the broker
stopped and started again, poison messages and reused event ids on inbound topics (see
tests/support/chaos_run.py; bench/chaos.py runs it bigger and prints the figures)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.chaos_run import ChaosPlan, run_chaos

pytestmark = pytest.mark.chaos


def test_chaos_loses_nothing_duplicates_nothing_and_shares_nothing_unrecorded(tmp_path: Path) -> None:
    report = run_chaos(tmp_path, ChaosPlan())
    print("\n".join(report.lines()))
    assert report.accepted > 0 and report.kills and report.broker_restarts >= 1
    assert report.lost == 0 and report.decided == report.accepted, "accepted = decided"
    assert report.duplicate_entries == 0, "the ledger keeps each entry once"
    assert report.board_cases > 0
    assert report.cases_without_disclosure == 0, "every case on a board has its DISCLOSURE"
    assert report.payload_mismatches == 0, "every board's bytes are the vault's payload for that case"
    assert report.disclosures_without_case == 0, "every disclosure has its case in the vault"
    assert report.poison_dead_lettered == report.poison_sent, "every poison message dead-lettered"
    assert report.reused_refused == report.reused_sent, "every reused event id refused"
    assert report.verify_ok, "eahub audit verify passes"


@pytest.mark.postgres
def test_chaos_with_the_ledger_on_postgresql_whose_connections_are_cut(tmp_path: Path, postgres_url: str) -> None:
    """The same run with the ledger on PostgreSQL; every connection to its database is terminated twice per
    phase (what a PostgreSQL restart does to the services): they wait and resume, nothing lost or doubled."""
    report = run_chaos(tmp_path, ChaosPlan(events=120, poison=8, kills=("router", "audit"),
                                           postgres_admin_url=postgres_url))
    print("\n".join(report.lines()))
    assert report.database_cuts >= 2
    assert report.lost == 0 and report.duplicate_entries == 0
    assert report.cases_without_disclosure == 0 and report.payload_mismatches == 0
    assert report.disclosures_without_case == 0
    assert report.poison_dead_lettered == report.poison_sent and report.reused_refused == report.reused_sent
    assert report.verify_ok
