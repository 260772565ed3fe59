"""The one validation of a concern event, used by the HTTP API, the producer client and the CLI:
the Avro schema (structure, types, enums) plus the semantic rules of ingest."""

from __future__ import annotations

import re
import uuid
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from eahub.core import avro_codec, risk_factors, schemas
from eahub.core.errors import FieldError, SourceMismatch, ValidationFailed
from eahub.core.event_json import from_json
from eahub.core.surrogates import surrogate_errors
from eahub.core.time_window import DEFAULT_CLOCK_SKEW, time_errors
from eahub.ingest import nhs_number

_CODE_SHAPE = re.compile(r"^[a-z0-9][a-z0-9 -]{0,39}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def validate_event(obj: Any, agency_ids: Collection[str], now: datetime,
                   clock_skew: timedelta = DEFAULT_CLOCK_SKEW) -> dict[str, Any]:
    """JSON form of a concern event -> its Avro record. Raises ValidationFailed listing every problem."""
    return validate_and_encode(obj, agency_ids, now, clock_skew)[0]


def validate_and_encode(obj: Any, agency_ids: Collection[str], now: datetime,
                        clock_skew: timedelta = DEFAULT_CLOCK_SKEW) -> tuple[dict[str, Any], bytes]:
    """JSON form of a concern event -> its Avro record and that record's single-object encoding, the bytes the
    wire will carry (encoded once: the schema's own check is the encoding itself). Raises ValidationFailed
    listing every problem. An absent event_id is assigned (uuid4); a given one is kept (lower-cased)."""
    if not isinstance(obj, dict):
        raise ValidationFailed([FieldError("", "the body must be a JSON object (one concern event)")])
    obj = dict(obj)
    if surrogates := surrogate_errors(obj):
        raise ValidationFailed(surrogates)
    errors: list[FieldError] = []
    if obj.get("event_id") is None:
        obj["event_id"] = str(uuid.uuid4())
    elif not isinstance(obj["event_id"], str) or not _UUID.match(obj["event_id"]):
        errors.append(FieldError("event_id", "must be a UUID (8-4-4-4-12 hex digits)"))
        obj["event_id"] = str(uuid.uuid4())  # placeholder so the other fields are still checked
    else:
        obj["event_id"] = obj["event_id"].lower()
    try:
        record = from_json(obj)
    except ValidationFailed as exc:
        raise ValidationFailed(errors + exc.errors) from None
    errors += semantic_errors(record, agency_ids, now, clock_skew)
    if errors:
        raise ValidationFailed(errors)
    subject = record["subject"]
    if subject.get("nhs_number"):
        subject["nhs_number"] = nhs_number.normalise(subject["nhs_number"])
    try:
        # `from_json` walked the schema (every field's type, enum symbol, union branch, required field), so
        # fastavro's own check before writing would only repeat it (a tenth of validation's CPU); a value the
        # writer still refuses is explained by that check, as SchemaInvalid, exactly as before.
        encoded = avro_codec.encode(schemas.CONCERN_EVENT, record, check=False)
    except avro_codec.SchemaInvalid as exc:
        raise ValidationFailed([FieldError("", str(exc))]) from None
    return record, encoded


def check_source(obj: Any, agency: str) -> None:
    """Raise SourceMismatch when the event declares a source agency other than `agency`."""
    if isinstance(obj, dict) and isinstance(obj.get("source_agency"), str) and obj["source_agency"] != agency:
        raise SourceMismatch(agency)


def semantic_errors(record: dict[str, Any], agency_ids: Collection[str], now: datetime,
                    clock_skew: timedelta = DEFAULT_CLOCK_SKEW) -> list[FieldError]:
    """Rules the schema cannot express. `record` is already schema-shaped (from_json succeeded)."""
    errors: list[FieldError] = time_errors(record, now, clock_skew)
    if record["occurred_at"] > record["reported_at"] + clock_skew:
        errors.append(FieldError("occurred_at", "is after reported_at"))
    if record["source_agency"] not in agency_ids:
        errors.append(FieldError("source_agency", "is not an agency of the registry"))
    for i, agency in enumerate(record.get("restricted_to") or []):
        if agency not in agency_ids:
            errors.append(FieldError(f"restricted_to[{i}]", "is not an agency of the registry"))
    if record.get("restricted_to") == []:
        errors.append(FieldError("restricted_to", "must name at least one agency, or be null"))
    for i, code in enumerate(record.get("risk_factors") or []):
        if code in risk_factors.unknown_codes([code]):
            # Named when it looks like a code; free text (which may describe a person) is not echoed.
            named = f"{code!r}" if _CODE_SHAPE.match(code) else "(free text, not a code)"
            errors.append(FieldError(f"risk_factors[{i}]", f"unknown risk factor code {named}: "
                                     f"not in the controlled vocabulary ({risk_factors.FILE})"))
    if not record["district"].strip():
        errors.append(FieldError("district", "must not be empty"))
    errors += _subject_errors(record, now)
    for i, person in enumerate(record.get("linked_people") or []):
        if person.get("date_of_birth") and person["date_of_birth"] > now.date():
            errors.append(FieldError(f"linked_people[{i}].date_of_birth", "is in the future"))
    return errors


def _subject_errors(record: dict[str, Any], now: datetime) -> list[FieldError]:
    subject = record.get("subject")
    if subject is None:
        return [FieldError("subject", "is required, with at least a name or an NHS number")]
    errors: list[FieldError] = []
    name, nhs = subject.get("name"), subject.get("nhs_number")
    if not (name and name.strip()) and not nhs:
        errors.append(FieldError("subject", "must have at least a name or an NHS number"))
    if nhs:
        problem = nhs_number.problem(nhs)
        if problem:
            errors.append(FieldError("subject.nhs_number", problem))
    if subject.get("date_of_birth") and subject["date_of_birth"] > now.date():
        errors.append(FieldError("subject.date_of_birth", "is in the future"))
    return errors


def advisories(record: dict[str, Any]) -> list[FieldError]:
    """Accepted, but worth fixing at the source."""
    if not (record.get("source_reference") or "").strip():
        why = "recommended: the incident or log number lets agencies trace the event"
        return [FieldError("source_reference", why)]
    return []

