from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from eahub.core import avro_codec, schemas
from eahub.core.errors import ValidationFailed
from eahub.core.event_json import from_json, to_json
from eahub.ingest.examples import example_event

pytestmark = pytest.mark.unit
AT = datetime(2026, 11, 20, 16, 15, tzinfo=UTC)


def fields_of(exc: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {e.field: e.message for e in exc.value.errors}


def test_json_to_record_types() -> None:
    record = from_json(example_event(AT))
    assert record["occurred_at"] == datetime(2026, 11, 20, 16, 5, tzinfo=UTC)
    assert record["subject"]["date_of_birth"] == date(1990, 4, 1)
    assert record["linked_people"] == [] and record["referrer"] is None  # schema defaults applied


def test_round_trip_through_avro_is_lossless() -> None:
    child = {"role": "CHILD_IN_HOUSEHOLD", "name": "Sam Example", "date_of_birth": "2019-02-03"}
    referrer = {"name": "Jo Sample", "contact": "07700 900123", "relationship": "neighbour"}
    obj = example_event(AT, linked_people=[child], referrer=referrer,
                        restricted_to=["lancashire-police"])
    record = from_json(obj)
    _, decoded = avro_codec.decode(avro_codec.encode(schemas.CONCERN_EVENT, record))
    back = to_json(decoded)
    assert from_json(back) == record
    assert back["occurred_at"] == "2026-11-20T16:05:00Z"
    assert back["linked_people"][0]["date_of_birth"] == "2019-02-03"
    assert back["restricted_to"] == ["lancashire-police"]


def test_offsets_are_normalised_to_utc_with_millisecond_precision() -> None:
    record = from_json(example_event(AT, occurred_at="2026-07-01T17:05:00.123456+01:00"))
    assert record["occurred_at"] == datetime(2026, 7, 1, 16, 5, 0, 123000, tzinfo=UTC)
    assert to_json(record)["occurred_at"] == "2026-07-01T16:05:00.123Z"
    local = datetime(2026, 7, 1, 17, 5, tzinfo=timezone(timedelta(hours=1)))
    assert to_json({**record, "occurred_at": local})["occurred_at"] == "2026-07-01T16:05:00Z"


@pytest.mark.parametrize("value", ["2026-11-20", "2026-11-20T16:05:00", "yesterday", 1763654700000])
def test_times_need_iso_8601_with_offset(value: object) -> None:
    with pytest.raises(ValidationFailed) as exc:
        from_json(example_event(AT, occurred_at=value))
    assert fields_of(exc) == {
        "occurred_at": "must be an ISO-8601 date-time with a UTC offset, e.g. 2026-11-20T16:05:00Z"}


@pytest.mark.parametrize("value", ["1990-4-1", "19900401", "1990-02-30", "1990-04-01T00:00:00Z"])
def test_dates_must_be_yyyy_mm_dd(value: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        from_json(example_event(AT, subject={"name": "Alex Example", "date_of_birth": value}))
    assert fields_of(exc) == {"subject.date_of_birth": "must be a date YYYY-MM-DD"}


def test_errors_name_nested_fields_and_never_echo_values() -> None:
    secret = "Very Personal Name 1234"
    obj = example_event(AT, grade="GRADE_9", consent={"status": secret, "bogus": secret},
                        linked_people=[{"role": "CHILD_IN_HOUSEHOLD", "name": 42}, {"name": secret}],
                        risk_factors="weapons", wat=secret)
    with pytest.raises(ValidationFailed) as exc:
        from_json(obj)
    errors = fields_of(exc)
    assert errors == {
        "wat": "unknown field",
        "grade": "must be one of GRADE_2, GRADE_3",
        "risk_factors": "must be an array",
        "linked_people[0].name": "must be a string",
        "linked_people[1].role": "is required",
        "consent.bogus": "unknown field",
        "consent.status": "must be one of GIVEN, REFUSED, NOT_SOUGHT, NOT_REQUIRED",
    }
    assert secret not in str(exc.value)


def test_missing_required_fields_are_named() -> None:
    obj = example_event(AT)
    del obj["category"], obj["consent"]
    with pytest.raises(ValidationFailed) as exc:
        from_json(obj)
    assert fields_of(exc) == {"category": "is required", "consent": "is required"}


def test_null_where_not_nullable() -> None:
    with pytest.raises(ValidationFailed) as exc:
        from_json(example_event(AT, district=None, subject=None, restricted_to=None))
    assert fields_of(exc) == {"district": "must be a string"}
