"""The facade's errors as problem pages. Messages are fixed text here (the facade's are already free of personal
data and values, and are shown for 409/422 where they tell the user what happened, e.g. "already claimed by ...")."""

from __future__ import annotations

from eahub.board.model import (
    AuditUnavailable,
    BoardError,
    CaseNotFound,
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotPermitted,
)
from eahub.core.web.problems import Problem

NOT_FOUND = "There is no case at this address on your board."


def to_problem(exc: BoardError) -> Problem:
    if isinstance(exc, CaseNotFound):
        return Problem(404, "case-not-found", NOT_FOUND, title="Page not found")
    if isinstance(exc, NotPermitted):
        return Problem(403, "not-permitted", "Your role may not do this on this board.")
    if isinstance(exc, Conflict):
        return Problem(409, "conflict", f"Someone else changed this case first: {exc}. Reload the case and check "
                       "before you try again.", title="The case has changed")
    if isinstance(exc, IllegalTransition):
        return Problem(409, "illegal-transition", f"This cannot be done now: {exc}.", title="Not possible now")
    if isinstance(exc, InvalidInput):
        field = str(exc).split(" ", 1)[0] or "input"
        return Problem(422, "invalid-input", f"Check your answer: {exc}.", field=field)
    if isinstance(exc, AuditUnavailable):
        return Problem(503, "audit-unavailable", "The audit trail cannot record this right now; nothing was "
                       "shown or changed. Try again in a minute.", title="Audit trail unavailable",
                       headers={"Retry-After": "30"})
    return Problem(500, "board-error", "Something went wrong on our side. Nothing was shown; try again.")
