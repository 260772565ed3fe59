"""The age band the policy sees: derived from the date of birth on the day of the event, never a date."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from eahub.policy.age import age_band
from eahub.policy.facts import policy_input
from eahub.policy.model import PolicyRequest
from tests.scenarios.cases import event

pytestmark = pytest.mark.unit

AT = datetime(2026, 5, 29, 17, 40, tzinfo=UTC)


@pytest.mark.parametrize(
    ("born", "band"),
    [
        (date(2008, 5, 30), "child"),  # 18 tomorrow
        (date(2008, 5, 29), "adult"),  # 18 today
        (date(2011, 1, 1), "child"),
        (date(1950, 2, 28), "adult"),
        (None, "unknown"),
        (date(2026, 6, 1), "unknown"),  # born after the event: a data error, not an age
    ],
)
def test_age_band_on_the_day_of_the_event(born: date | None, band: str) -> None:
    assert age_band(born, AT) == band


def test_only_bands_reach_the_engine_for_subject_and_linked_people() -> None:
    e = event(3, "lancashire-police", "DOMESTIC_ABUSE", age=16, linked=("CHILD_IN_HOUSEHOLD", "ADULT_IN_HOUSEHOLD",
              "CARER"), linked_ages=(4, 40))
    facts = policy_input(PolicyRequest(event=e, today=date(2031, 1, 1)))["event"]  # decided years later
    assert facts["subject_age_band"] == "child"
    assert facts["linked_people"] == [
        {"role": "ADULT_IN_HOUSEHOLD", "age_band": "adult"},
        {"role": "CARER", "age_band": "unknown"},
        {"role": "CHILD_IN_HOUSEHOLD", "age_band": "child"},
    ]
    text = repr(facts)
    assert "date" not in text.replace("_age_band", "") and "Linked" not in text and "Test Person" not in text
