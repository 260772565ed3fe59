import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastavro.validation import validate
from hypothesis import given, settings
from hypothesis import strategies as st

from eahub.core import avro_codec, schemas
from eahub.core.errors import ValidationFailed
from eahub.core.event_json import format_time
from eahub.core.paths import POLICIES_DIR
from eahub.core.registry import agency_ids
from eahub.ingest.examples import example_event
from eahub.ingest.validation import advisories, validate_and_encode, validate_event

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 20, 16, 15, tzinfo=UTC)
AGENCIES = agency_ids(POLICIES_DIR)


def errors_of(obj: object, now: datetime = NOW, **kw: object) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as exc:
        validate_event(obj, AGENCIES, now, **kw)  # type: ignore[arg-type]
    return {e.field: e.message for e in exc.value.errors}


def test_valid_event_becomes_a_record() -> None:
    record = validate_event(example_event(NOW), AGENCIES, NOW)
    assert record["event_id"] == "0b7e5c1e-3f0a-4c55-9d2e-8a6f1b2c3d4e"
    assert record["source_agency"] == "lancashire-police"


def test_event_id_assigned_when_absent_and_kept_when_given() -> None:
    obj = example_event(NOW)
    del obj["event_id"]
    assigned = validate_event(obj, AGENCIES, NOW)["event_id"]
    assert uuid.UUID(assigned).version == 4
    assert validate_event({**obj, "event_id": None}, AGENCIES, NOW)["event_id"] != assigned
    given = "0B7E5C1E-3F0A-4C55-9D2E-8A6F1B2C3D4E"
    assert validate_event({**obj, "event_id": given}, AGENCIES, NOW)["event_id"] == given.lower()


@pytest.mark.parametrize("bad", ["42", "not-a-uuid", 12, "0b7e5c1e3f0a4c559d2e8a6f1b2c3d4e"])
def test_event_id_must_be_a_uuid(bad: object) -> None:
    assert errors_of(example_event(NOW, event_id=bad)) == {
        "event_id": "must be a UUID (8-4-4-4-12 hex digits)"}


def test_nhs_number_check_digit() -> None:
    bad = example_event(NOW, subject={"name": "Alex Example", "nhs_number": "9434765910"})
    assert errors_of(bad) == {"subject.nhs_number": "check digit does not match"}
    spaced = example_event(NOW, subject={"nhs_number": "943 476 5919"})
    assert validate_event(spaced, AGENCIES, NOW)["subject"]["nhs_number"] == "9434765919"


def test_times_in_the_future_beyond_skew() -> None:
    within = example_event(NOW, occurred_at=format_time(NOW + timedelta(minutes=4)),
                           reported_at=format_time(NOW + timedelta(minutes=4, seconds=30)))
    validate_event(within, AGENCIES, NOW)
    beyond = example_event(NOW, occurred_at=format_time(NOW + timedelta(minutes=6)),
                           reported_at=format_time(NOW + timedelta(minutes=7)))
    assert errors_of(beyond) == {
        "occurred_at": "is in the future (more than 5 minutes ahead of the hub clock)",
        "reported_at": "is in the future (more than 5 minutes ahead of the hub clock)",
    }


def test_clock_skew_is_configurable() -> None:
    obj = example_event(NOW, reported_at=format_time(NOW + timedelta(seconds=90)))
    assert errors_of(obj, clock_skew=timedelta(minutes=1)) == {
        "reported_at": "is in the future (more than 1 minute ahead of the hub clock)"}


def test_occurred_after_reported() -> None:
    obj = example_event(NOW, occurred_at=format_time(NOW - timedelta(minutes=1)),
                        reported_at=format_time(NOW - timedelta(minutes=30)))
    assert errors_of(obj) == {"occurred_at": "is after reported_at"}


def test_unknown_category_and_agencies() -> None:
    obj = example_event(NOW, category="BURGLARY", source_agency="acme-police")
    assert errors_of(obj) == {"category": "must be one of " + ", ".join([
        "MISSING_PERSON", "MENTAL_HEALTH", "DOMESTIC_ABUSE", "CHILD_CONCERN", "VULNERABLE_ADULT",
        "CHILD_SEXUAL_EXPLOITATION", "CONCERN_FOR_WELFARE"])}
    obj = example_event(NOW, source_agency="acme-police", restricted_to=["nwas", "acme-health"])
    assert errors_of(obj) == {"source_agency": "is not an agency of the registry",
                              "restricted_to[1]": "is not an agency of the registry"}
    assert errors_of(example_event(NOW, restricted_to=[])) == {
        "restricted_to": "must name at least one agency, or be null"}


def test_subject_needs_a_name_or_nhs_number() -> None:
    assert errors_of(example_event(NOW, subject=None)) == {
        "subject": "is required, with at least a name or an NHS number"}
    assert errors_of(example_event(NOW, subject={"name": "  ", "address": "1 Example Street"})) == {
        "subject": "must have at least a name or an NHS number"}
    validate_event(example_event(NOW, subject={"nhs_number": "9434765919"}), AGENCIES, NOW)
    validate_event(example_event(NOW, subject={"name": "Alex Example"}), AGENCIES, NOW)


def test_district_non_empty_and_dates_of_birth_not_in_future() -> None:
    obj = example_event(NOW, district=" ", subject={"name": "A Example", "date_of_birth": "2027-01-01"},
                        linked_people=[{"role": "CHILD_IN_HOUSEHOLD", "date_of_birth": "2027-01-01"}])
    assert errors_of(obj) == {"district": "must not be empty", "subject.date_of_birth": "is in the future",
                              "linked_people[0].date_of_birth": "is in the future"}


def test_unknown_fields_are_named() -> None:
    assert errors_of(example_event(NOW, colour="blue")) == {"colour": "unknown field"}


def test_body_must_be_an_object() -> None:
    assert errors_of([example_event(NOW)]) == {"": "the body must be a JSON object (one concern event)"}


def test_source_reference_is_recommended_not_required() -> None:
    record = validate_event(example_event(NOW, source_reference=None), AGENCIES, NOW)
    assert [e.field for e in advisories(record)] == ["source_reference"]
    assert advisories(validate_event(example_event(NOW), AGENCIES, NOW)) == []


def test_errors_never_echo_personal_values() -> None:
    name = "Personal Name Zyx"
    obj = example_event(NOW, subject={"name": name, "nhs_number": "9434765910", "address": 7})
    with pytest.raises(ValidationFailed) as exc:
        validate_event(obj, AGENCIES, NOW)
    assert name not in str(exc.value) and "9434765910" not in str(exc.value)


def test_risk_factors_only_from_the_controlled_vocabulary() -> None:
    codes = ["weapons", "suicide risk", "weapons", "frailty", "x", "Lives with Jane Roe"]
    errors = errors_of(example_event(NOW, risk_factors=codes))
    assert set(errors) == {"risk_factors[1]", "risk_factors[4]", "risk_factors[5]"}
    assert "Jane" not in errors["risk_factors[5]"] and "(free text, not a code)" in errors["risk_factors[5]"]
    assert errors["risk_factors[1]"] == (
        "unknown risk factor code 'suicide risk': not in the controlled vocabulary (risk_factors.json)"
    )
    assert validate_event(example_event(NOW, risk_factors=["suicide-risk"]), AGENCIES, NOW)["risk_factors"] == [
        "suicide-risk"
    ]


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.floats(allow_nan=False)
    | st.text(max_size=12) | st.sampled_from(["2026-11-20T16:05:00Z", "1990-04-01", "9999-12-31", "GRADE_2", "nwas"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6)
_PATHS = [("occurred_at",), ("reported_at",), ("source_agency",), ("category",), ("grade",), ("district",),
          ("security_marking",), ("restricted_to",), ("risk_factors",), ("narrative",), ("linked_people",),
          ("subject",), ("subject", "name"), ("subject", "date_of_birth"), ("subject", "nhs_number"),
          ("consent",), ("consent", "status"), ("source_reference",)]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_PATHS), _JSON_VALUES), min_size=1, max_size=4))
def test_every_event_validation_accepts_passes_the_avro_schema_check(changes: list[tuple[tuple[str, ...], object]]
                                                                    ) -> None:
    """Validation writes the Avro bytes without fastavro's check before the writer (`from_json` walked the schema
    already): whatever it accepts must still be a record the check accepts, so that no verdict changed."""
    event: dict[str, Any] = example_event(NOW)
    for path, value in changes:
        target = event
        for key in path[:-1]:
            if not isinstance(target.get(key), dict):
                target[key] = {}
            target = target[key]
        target[path[-1]] = value
    try:
        record, encoded = validate_and_encode(event, AGENCIES, NOW)
    except ValidationFailed:
        return
    schema = schemas.load(schemas.CONCERN_EVENT)
    assert validate(record, schema.parsed, raise_errors=False)
    assert avro_codec.decode(encoded, schemas.CONCERN_EVENT)[1]["event_id"] == record["event_id"]


def test_lone_surrogates_are_named_by_their_paths_in_keys_and_nested_lists() -> None:
    event: dict[str, Any] = example_event(NOW)
    event["district"] = "\ud800"
    event["risk_factors"] = ["self-harm", "x\udc00"]
    event["consent"]["\ud801"] = "y"
    assert set(errors_of(event)) == {"district", "risk_factors[1]", "consent"}
