"""Two members claiming the same case at the same moment, on SQLite and on PostgreSQL: exactly one wins,
the other is told who has it."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from eahub.board.model import Conflict
from tests.board_support import make_rig, routed_case

pytestmark = pytest.mark.integration


def test_two_claims_at_once_exactly_one_wins(database_url: str, tmp_path: Path) -> None:
    rig = make_rig(tmp_path, board_url=database_url)
    cases = [routed_case(subject_ref=f"s{i}") for i in range(10)]
    for rc in cases:
        rig.board.store_case(rc)
    for rc in cases:
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def claim(uid: str, case_id: str = rc["case_id"], barrier: threading.Barrier = barrier,
                  outcomes: dict[str, str] = outcomes) -> None:
            barrier.wait()
            try:
                rig.board.command(rig.actor(uid), case_id, "claim", {}, expected_version=1)
                outcomes[uid] = "won"
            except Conflict as exc:
                outcomes[uid] = str(exc)

        threads = [threading.Thread(target=claim, args=(u,)) for u in ("adults-m1", "adults-m2")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [u for u, o in outcomes.items() if o == "won"]
        assert len(winners) == 1, outcomes
        loser = ({"adults-m1", "adults-m2"} - set(winners)).pop()
        assert outcomes[loser] == f"already claimed by {rig.by_id[winners[0]].login}"
        head = rig.board.header(rig.actor(winners[0]), rc["case_id"])
        assert (head.owner_user_id, head.version) == (winners[0], 2)
    assert len(rig.audit.of_kind("ACTION")) == len(cases)
