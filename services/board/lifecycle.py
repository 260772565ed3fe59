"""The board's fixed state machine, as data: which command moves a case from which states to which,
and who may give it. Pure: no I/O, no clock. Illegal moves raise, they are never silent no-ops."""

from __future__ import annotations

from dataclasses import dataclass

from eahub.board.model import (
    ACKNOWLEDGED,
    ALLOCATED,
    CASEWORK,
    CLOSED,
    MANAGER,
    MEMBER,
    NEW,
    NOT_FOR_BOARD,
    OPEN_STATES,
    REOPENED,
    TRIAGED,
    VISIT_PLANNED,
    VISITED,
    IllegalTransition,
    NotPermitted,
)

# who: "team" = any member or manager; "manager" = managers only;
# "owner" = the current owner or a manager (a member may act on an unowned case only if the rule says so).
TEAM = "team"
MANAGER_ONLY = "manager"
OWNER = "owner"


@dataclass(frozen=True)
class Rule:
    sources: tuple[str, ...]
    target: str | None  # None: the state stays as it is
    who: str
    needs_owner: bool = False  # the case must have an owner (reassign)


RULES: dict[str, Rule] = {
    "triage": Rule((NEW,), TRIAGED, TEAM),
    "not_for_board": Rule((NEW, TRIAGED), NOT_FOR_BOARD, TEAM),
    "claim": Rule((NEW, TRIAGED, REOPENED), ALLOCATED, TEAM),
    "allocate": Rule((NEW, TRIAGED, REOPENED), ALLOCATED, MANAGER_ONLY),
    "reassign": Rule(tuple(s for s in OPEN_STATES if s != NOT_FOR_BOARD), None, OWNER, needs_owner=True),
    "acknowledge": Rule((ALLOCATED,), ACKNOWLEDGED, OWNER),
    "plan_visit": Rule((ACKNOWLEDGED,), VISIT_PLANNED, OWNER),
    "record_visit": Rule((VISIT_PLANNED, ACKNOWLEDGED), VISITED, OWNER),
    "start_casework": Rule((VISITED,), CASEWORK, OWNER),
    "record_review": Rule((CASEWORK,), CASEWORK, OWNER),
    "close": Rule((VISITED, CASEWORK, NOT_FOR_BOARD), CLOSED, OWNER),
    "reopen": Rule((CLOSED,), REOPENED, MANAGER_ONLY),
}
COMMANDS = tuple(RULES)


def may(command: str, role: str, is_owner: bool, has_owner: bool) -> bool:
    """Whether the role (and ownership) permits the command, whatever the state."""
    rule = RULES.get(command)
    if rule is None or role not in (MEMBER, MANAGER):
        return False
    if rule.who == TEAM:
        return True
    if rule.who == MANAGER_ONLY:
        return role == MANAGER
    # OWNER: managers always; a member when they own the case, or when nobody does (a case closed as not for board)
    return role == MANAGER or is_owner or (not has_owner and not rule.needs_owner)


def next_state(state: str, command: str, role: str, is_owner: bool = False, has_owner: bool = False) -> str:
    """The state after `command`, or IllegalTransition (unknown command, wrong state) / NotPermitted (role)."""
    rule = RULES.get(command)
    if rule is None:
        raise IllegalTransition(f"unknown command {command!r}")
    if not may(command, role, is_owner, has_owner):
        raise NotPermitted(f"your role may not {command} this case")
    if state not in rule.sources:
        raise IllegalTransition(f"{command} is not possible from {state}")
    if rule.needs_owner and not has_owner:
        raise IllegalTransition(f"{command} needs a case with an owner")
    return rule.target or state


def allowed(state: str, role: str, is_owner: bool, has_owner: bool) -> list[str]:
    """The commands this actor may give now, in lifecycle order."""
    return [
        name for name, rule in RULES.items()
        if state in rule.sources and may(name, role, is_owner, has_owner) and (has_owner or not rule.needs_owner)
    ]


def is_open(state: str) -> bool:
    return state != CLOSED
