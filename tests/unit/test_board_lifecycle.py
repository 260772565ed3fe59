"""The board's state machine: every legal transition, every illegal one, and who may give each command."""

from __future__ import annotations

import pytest

from eahub.board import lifecycle
from eahub.board.model import (
    MANAGER,
    MEMBER,
    READONLY,
    STATES,
    IllegalTransition,
    NotPermitted,
)

pytestmark = pytest.mark.unit

LEGAL = [
    ("triage", "NEW", "TRIAGED"),
    ("not_for_board", "NEW", "NOT_FOR_BOARD"),
    ("not_for_board", "TRIAGED", "NOT_FOR_BOARD"),
    ("claim", "NEW", "ALLOCATED"), ("claim", "TRIAGED", "ALLOCATED"), ("claim", "REOPENED", "ALLOCATED"),
    ("allocate", "NEW", "ALLOCATED"), ("allocate", "TRIAGED", "ALLOCATED"), ("allocate", "REOPENED", "ALLOCATED"),
    ("acknowledge", "ALLOCATED", "ACKNOWLEDGED"),
    ("plan_visit", "ACKNOWLEDGED", "VISIT_PLANNED"),
    ("record_visit", "VISIT_PLANNED", "VISITED"), ("record_visit", "ACKNOWLEDGED", "VISITED"),
    ("start_casework", "VISITED", "CASEWORK"),
    ("record_review", "CASEWORK", "CASEWORK"),
    ("close", "VISITED", "CLOSED"), ("close", "CASEWORK", "CLOSED"), ("close", "NOT_FOR_BOARD", "CLOSED"),
    ("reopen", "CLOSED", "REOPENED"),
] + [("reassign", s, s) for s in ("NEW", "TRIAGED", "ALLOCATED", "ACKNOWLEDGED", "VISIT_PLANNED", "VISITED",
                                  "CASEWORK", "REOPENED")]


@pytest.mark.parametrize(("command", "source", "target"), LEGAL)
def test_every_legal_transition_for_a_manager(command: str, source: str, target: str) -> None:
    assert lifecycle.next_state(source, command, MANAGER, is_owner=False, has_owner=True) == target


ILLEGAL = [(c, s) for c in lifecycle.COMMANDS for s in STATES
           if (c, s) not in {(lc, ls) for lc, ls, _ in LEGAL}]


@pytest.mark.parametrize(("command", "source"), ILLEGAL)
def test_every_illegal_transition_raises(command: str, source: str) -> None:
    with pytest.raises(IllegalTransition):
        lifecycle.next_state(source, command, MANAGER, is_owner=True, has_owner=True)


def test_the_table_is_complete() -> None:
    assert len(LEGAL) + len(ILLEGAL) == len(lifecycle.COMMANDS) * len(STATES)


@pytest.mark.parametrize("command", lifecycle.COMMANDS)
def test_read_only_may_do_nothing(command: str) -> None:
    for source in STATES:
        with pytest.raises(NotPermitted):
            lifecycle.next_state(source, command, READONLY, is_owner=True, has_owner=True)
    assert lifecycle.allowed("NEW", READONLY, False, False) == []


@pytest.mark.parametrize("command", ["allocate", "reopen"])
def test_manager_only_commands(command: str) -> None:
    source = lifecycle.RULES[command].sources[0]
    with pytest.raises(NotPermitted):
        lifecycle.next_state(source, command, MEMBER, is_owner=True, has_owner=True)


@pytest.mark.parametrize("command", ["triage", "not_for_board", "claim"])
def test_team_commands_need_no_ownership(command: str) -> None:
    assert lifecycle.next_state("NEW", command, MEMBER, is_owner=False, has_owner=False)


@pytest.mark.parametrize(("command", "source"), [("acknowledge", "ALLOCATED"), ("plan_visit", "ACKNOWLEDGED"),
                                                 ("record_visit", "ACKNOWLEDGED"), ("start_casework", "VISITED"),
                                                 ("record_review", "CASEWORK"), ("close", "CASEWORK"),
                                                 ("reassign", "ALLOCATED")])
def test_owner_commands_refuse_a_member_who_is_not_the_owner(command: str, source: str) -> None:
    with pytest.raises(NotPermitted):
        lifecycle.next_state(source, command, MEMBER, is_owner=False, has_owner=True)
    assert lifecycle.next_state(source, command, MEMBER, is_owner=True, has_owner=True)


def test_reassign_needs_an_owner() -> None:
    with pytest.raises(IllegalTransition):
        lifecycle.next_state("NEW", "reassign", MANAGER, is_owner=False, has_owner=False)
    assert "reassign" not in lifecycle.allowed("NEW", MANAGER, False, False)


def test_a_member_may_close_an_unowned_not_for_board_case() -> None:
    assert lifecycle.next_state("NOT_FOR_BOARD", "close", MEMBER, is_owner=False, has_owner=False) == "CLOSED"


def test_unknown_command_is_illegal() -> None:
    with pytest.raises(IllegalTransition):
        lifecycle.next_state("NEW", "delete", MANAGER)


def test_allowed_lists_commands_in_lifecycle_order() -> None:
    assert lifecycle.allowed("NEW", MANAGER, False, False) == ["triage", "not_for_board", "claim", "allocate"]
    assert lifecycle.allowed("ALLOCATED", MEMBER, True, True) == ["reassign", "acknowledge"]
    assert lifecycle.allowed("ALLOCATED", MEMBER, False, True) == []
