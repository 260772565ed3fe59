"""The board's vocabulary: states, roles, people, the views the facade returns, and its errors.

Views carry no personal data unless their name says content (CaseContent, NoteView.text, ...)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

MEMBER = "member"
MANAGER = "manager"
READONLY = "readonly"
ROLES = (MEMBER, MANAGER, READONLY)

NEW = "NEW"
TRIAGED = "TRIAGED"
NOT_FOR_BOARD = "NOT_FOR_BOARD"
ALLOCATED = "ALLOCATED"
ACKNOWLEDGED = "ACKNOWLEDGED"
VISIT_PLANNED = "VISIT_PLANNED"
VISITED = "VISITED"
CASEWORK = "CASEWORK"
CLOSED = "CLOSED"
REOPENED = "REOPENED"
STATES = (NEW, TRIAGED, NOT_FOR_BOARD, ALLOCATED, ACKNOWLEDGED, VISIT_PLANNED, VISITED, CASEWORK, CLOSED, REOPENED)
OPEN_STATES = tuple(s for s in STATES if s != CLOSED)

PURPOSES = ("allocated", "team", "triage", "supervision", "other")  # "other" requires a reason (self-claimed)
ACTION_STATUSES = ("open", "done", "cancelled")


class BoardError(Exception):
    """Base of the facade's errors. Messages never carry personal data or input values."""


class CaseNotFound(BoardError):
    """No such case on this agency's board (also for another agency's case: never reveal it exists)."""


class NotPermitted(BoardError):
    """The actor's role may not do this."""


class IllegalTransition(BoardError):
    """The command is not allowed from the case's current state."""


class Conflict(BoardError):
    """Someone else changed the case first (optimistic lock lost)."""


class InvalidInput(BoardError):
    """A field is missing or wrong; the message names the field and never echoes its value."""


class AuditUnavailable(BoardError):
    """The audit record was not acknowledged by the broker: nothing was shown or changed."""


@dataclass(frozen=True)
class Person:
    user_id: str
    login: str
    agency: str
    role: str
    email: str | None = None
    active: bool = True


class Directory(Protocol):
    def get(self, user_id: str) -> Person | None: ...

    def of_agency(self, agency: str, roles: Collection[str]) -> list[Person]: ...


class InMemoryDirectory:
    """Directory port over a dict, for tests (the web engineer's adapter reads the accounts table)."""

    def __init__(self, people: Collection[Person] = ()) -> None:
        self._people = {p.user_id: p for p in people}

    def add(self, person: Person) -> None:
        self._people[person.user_id] = person

    def get(self, user_id: str) -> Person | None:
        return self._people.get(user_id)

    def of_agency(self, agency: str, roles: Collection[str]) -> list[Person]:
        return [p for p in self._people.values() if p.agency == agency and p.role in roles and p.active]


@dataclass(frozen=True)
class Actor:
    user_id: str
    login: str
    agency: str
    role: str
    session_ref: str


@dataclass(frozen=True)
class QueueFilter:
    states: tuple[str, ...] = ()
    grade: str | None = None
    category: str | None = None
    district: str | None = None
    mine: bool = False
    unallocated: bool = False
    include_closed: bool = False


@dataclass(frozen=True)
class QueueRow:
    case_id: str
    case_ref: str
    category: str
    grade: str
    district: str
    due_at: datetime
    state: str
    owner_login: str | None
    overdue: bool
    due_within_hour: bool
    seconds_left: int


@dataclass(frozen=True)
class TimerView:
    timer_id: str
    kind: str
    state: str
    due_at: datetime
    warn_at: datetime
    escalation_level: int


@dataclass(frozen=True)
class LinkedCase:
    case_id: str
    case_ref: str
    state: str


@dataclass(frozen=True)
class CoWorker:
    agency: str
    state: str


@dataclass(frozen=True)
class CaseHeader:
    case_id: str
    case_ref: str
    agency: str
    source_agency: str
    category: str
    grade: str
    district: str
    security_marking: str
    state: str
    owner_user_id: str | None
    owner_login: str | None
    version: int
    due_at: datetime
    reported_at: datetime
    routed_at: datetime
    isa_id: str
    isa_version: str
    lawful_basis: str
    purpose: str
    shared_fields: list[str]
    withheld_fields: list[str]
    reasons: list[str]
    override: bool
    timers: list[TimerView] = field(default_factory=list)
    allowed_commands: list[str] = field(default_factory=list)
    also_open: list[LinkedCase] = field(default_factory=list)
    co_workers: list[CoWorker] = field(default_factory=list)
    closed_at: datetime | None = None
    outcome: str | None = None
    erased: bool = False


@dataclass(frozen=True)
class NoteView:
    note_id: str
    author_user_id: str
    author_login: str | None
    at: datetime
    text: str | None  # None once erased
    significant: bool
    corrects_note_id: str | None
    kind: str = "note"


@dataclass(frozen=True)
class ActionView:
    action_id: str
    owner_user_id: str
    owner_login: str | None
    due: datetime
    status: str
    text: str | None
    created_at: datetime


@dataclass(frozen=True)
class VisitView:
    visit_id: str
    status: str  # planned | visited
    at: datetime
    agencies: list[str]
    joint: bool
    notes: str | None


@dataclass(frozen=True)
class HistoryView:
    at: datetime
    actor_user_id: str
    actor_login: str | None
    kind: str
    command: str | None
    from_state: str | None
    to_state: str | None
    detail: dict[str, str]


@dataclass(frozen=True)
class CaseContent:
    header: CaseHeader
    concern: dict[str, Any]
    notes: list[NoteView]
    actions: list[ActionView]
    visits: list[VisitView]
    chronology: list[HistoryView]


@dataclass(frozen=True)
class AccessView:
    user_id: str
    login: str | None
    role: str
    at: datetime
    purpose: str
    relationship: str
    part: str


@dataclass(frozen=True)
class FeedbackView:
    feedback_id: str
    case_ref: str
    source_reference: str | None
    outcome: str
    outcome_label: str
    by_agency: str
    at: datetime
    message: str


@dataclass(frozen=True)
class NotificationView:
    message_id: str
    case_id: str | None
    subject: str
    body: str
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class WorkloadRow:
    user_id: str
    login: str
    role: str
    open_cases: int
    overdue_cases: int


def case_ref(case_id: str) -> str:
    """A short non-personal reference for a case, e.g. EA-1A2B3C4D."""
    return "EA-" + case_id.replace("-", "")[:8].upper()
