"""Validation errors of ingest: each names the offending field and says what is wrong, never echoing
the value (it may be personal data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted path, e.g. "subject.nhs_number" or "linked_people[0].role"; "" for the whole body
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class SourceMismatch(ValueError):
    """The event declares a source agency other than the authenticated (or configured) one."""

    def __init__(self, agency: str) -> None:
        self.agency = agency
        super().__init__("source_agency: does not match the publishing agency")


class ValidationFailed(ValueError):
    """The event is not acceptable; `errors` lists every problem found."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))
