"""The scenario table: concern events (Avro record form) and who must receive them, with which fields
withheld. Importable by any suite (`from tests.scenarios.cases import CASES`): the policy unit tests run
it against the engine, the router's end-to-end tests run it through the hub.

`expected_shared` maps each recipient that must receive the event to the exact set of leaf fields
withheld from it; every other candidate (registered agency except the source) must be refused.
The expectations hold for any decision day from 2025-01-01 to 2027-09-30 (the demo ISAs' common
validity); `today` is the day the policy tests decide on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

POLICE = "lancashire-police"
CHILDRENS = "lancashire-cc-childrens"
ADULTS = "lancashire-cc-adults"
HEALTH = "lscft-mental-health"
NWAS = "nwas"

REFERRER = frozenset({"referrer.name", "referrer.contact", "referrer.relationship"})


def _w(*fields: str) -> frozenset[str]:
    return REFERRER | frozenset(fields)


# Withheld fields per recipient under each agreement (its allow-list, minus what its kind forbids).
MH_CRISIS = {  # isa-lancs-mental-health-crisis v1.2
    HEALTH: _w("linked_people", "restricted_to"),
    ADULTS: _w("linked_people", "restricted_to", "narrative", "subject.nhs_number", "consent.recorded_by"),
    NWAS: _w(
        "linked_people",
        "restricted_to",
        "narrative",
        "health_details",
        "risk_factors.health",
        "subject.nhs_number",
        "consent.recorded_by",
        "source_reference",
    ),
    POLICE: _w(
        "linked_people",
        "restricted_to",
        "narrative",
        "health_details",
        "risk_factors.health",
        "subject.nhs_number",
        "subject.date_of_birth",
        "consent.recorded_by",
    ),
}
ADULT_SAFEGUARDING = {  # isa-lancs-adult-safeguarding v2.1
    ADULTS: _w("restricted_to"),
    HEALTH: _w("restricted_to", "narrative", "subject.address", "linked_people", "consent.recorded_by"),
    NWAS: _w(
        "restricted_to",
        "narrative",
        "health_details",
        "risk_factors.health",
        "subject.nhs_number",
        "linked_people",
        "consent.recorded_by",
        "source_reference",
    ),
    POLICE: _w(
        "restricted_to",
        "narrative",
        "health_details",
        "risk_factors.health",
        "subject.nhs_number",
        "consent.recorded_by",
    ),
}
CHILD_SAFEGUARDING = {  # isa-lancs-child-safeguarding v4.0: police, children's social care and health together
    CHILDRENS: _w(),
    POLICE: _w("narrative", "health_details", "risk_factors.health", "restricted_to"),
    HEALTH: _w("narrative", "subject.address", "consent.recorded_by", "restricted_to"),
}


@dataclass(frozen=True)
class Scenario:
    name: str
    event: dict[str, Any]
    expected_shared: dict[str, frozenset[str]]
    today: date = field(default=date(2026, 6, 1))


_BASE_TIME = datetime(2026, 5, 29, 17, 40, tzinfo=UTC)  # a Friday, in the afternoon peak


def event(
    n: int,
    source: str,
    category: str,
    *,
    grade: str = "GRADE_2",
    marking: str = "OFFICIAL",
    consent: str = "GIVEN",
    risk: tuple[str, ...] = (),
    linked: tuple[str, ...] = (),
    restricted: list[str] | None = None,
    age: int | str | None = "adult",
    linked_ages: tuple[int | None, ...] = (),
) -> dict[str, Any]:
    """A made-up concern event (no real person) in Avro record form. `age` is the subject's age in years
    when the event occurred (None: no date of birth; "adult": an adult's age, 25 to 64, by n);
    `linked_ages` the ages of the linked people, in order (missing: no date of birth)."""
    occurred = _BASE_TIME + timedelta(minutes=7 * n)
    years = 25 + n % 40 if age == "adult" else age
    return {
        "event_id": f"5c3a0000-0000-4000-8000-{n:012d}",
        "occurred_at": occurred,
        "reported_at": occurred + timedelta(minutes=4),
        "source_agency": source,
        "source_reference": f"SRC-{n:05d}",
        "category": category,
        "grade": grade,
        "security_marking": marking,
        "district": ("Preston", "Burnley", "Blackpool", "Lancaster", "Chorley")[n % 5],
        "subject": {
            "name": f"Test Person {n}",
            "date_of_birth": None if years is None else _born(occurred.date(), int(years), n),
            "nhs_number": "9990000018",
            "address": f"{n} Example Road",
        },
        "narrative": "Made-up narrative for a test scenario.",
        "health_details": "Made-up health detail." if n % 2 == 0 else None,
        "risk_factors": list(risk),
        "linked_people": [
            {
                "role": role,
                "name": f"Linked {i}",
                "date_of_birth": _born(occurred.date(), a, n)
                if (a := (linked_ages[i] if i < len(linked_ages) else None)) is not None
                else None,
            }
            for i, role in enumerate(linked)
        ],
        "referrer": {"name": "Made-up Referrer", "contact": "01234 000000", "relationship": "neighbour"},
        "consent": {"status": consent, "recorded_by": "PC 0000"},
        "restricted_to": restricted,
    }


def _born(on: date, years: int, n: int) -> date:
    """A birthday that makes someone exactly `years` old on `on` (some days past a birthday)."""
    day = on - timedelta(days=1 + n % 300)
    return date(day.year - years, day.month, min(day.day, 28))


def _pick(profile: dict[str, frozenset[str]], *agencies: str) -> dict[str, frozenset[str]]:
    return {a: profile[a] for a in agencies}


def _both(*agencies: str) -> dict[str, frozenset[str]]:
    """Domestic abuse and missing persons: children's services under the child ISA, the rest the adult one."""
    return {a: (CHILD_SAFEGUARDING if a == CHILDRENS else ADULT_SAFEGUARDING)[a] for a in agencies}


_P, _C, _A, _H, _N = POLICE, CHILDRENS, ADULTS, HEALTH, NWAS

CASES: list[Scenario] = [
    # mental health: the crisis ISA (children's services are not a party)
    Scenario("mh-police-given", event(1, _P, "MENTAL_HEALTH"), _pick(MH_CRISIS, _H, _A, _N)),
    Scenario(
        "mh-police-official-sensitive",
        event(2, _P, "MENTAL_HEALTH", marking="OFFICIAL_SENSITIVE"),
        _pick(MH_CRISIS, _H),
    ),
    Scenario("mh-police-consent-refused-no-risk", event(3, _P, "MENTAL_HEALTH", consent="REFUSED"), {}),
    Scenario(
        "mh-police-consent-refused-self-harm",
        event(4, _P, "MENTAL_HEALTH", consent="REFUSED", risk=("self-harm",)),
        _pick(MH_CRISIS, _H, _A, _N),
    ),
    Scenario(
        "mh-police-consent-refused-substance-misuse-is-no-risk-condition",
        event(5, _P, "MENTAL_HEALTH", consent="REFUSED", risk=("substance-misuse",)),
        {},
    ),
    Scenario("mh-nwas-source", event(6, _N, "MENTAL_HEALTH", grade="GRADE_3"), _pick(MH_CRISIS, _H, _A, _P)),
    Scenario("mh-childrens-source-not-a-party", event(7, _C, "MENTAL_HEALTH"), {}),
    Scenario("mh-health-source", event(8, _H, "MENTAL_HEALTH"), _pick(MH_CRISIS, _A, _N, _P)),
    Scenario("mh-restricted-to-health", event(9, _P, "MENTAL_HEALTH", restricted=[_H]), _pick(MH_CRISIS, _H)),
    Scenario(
        "mh-consent-not-sought-grade3",
        event(10, _P, "MENTAL_HEALTH", grade="GRADE_3", consent="NOT_SOUGHT"),
        _pick(MH_CRISIS, _H, _A, _N),
    ),
    Scenario(
        "mh-consent-not-required",
        event(11, _P, "MENTAL_HEALTH", consent="NOT_REQUIRED"),
        _pick(MH_CRISIS, _H, _A, _N),
    ),
    Scenario(
        "mh-consent-refused-child-in-household",
        event(12, _P, "MENTAL_HEALTH", consent="REFUSED", linked=("CHILD_IN_HOUSEHOLD",)),
        _pick(MH_CRISIS, _H, _A, _N),
    ),
    # vulnerable adults and concern for welfare: the adult safeguarding ISA
    Scenario("va-police-given", event(13, _P, "VULNERABLE_ADULT"), _pick(ADULT_SAFEGUARDING, _A, _H, _N)),
    Scenario(
        "va-police-official-sensitive",
        event(14, _P, "VULNERABLE_ADULT", marking="OFFICIAL_SENSITIVE"),
        _pick(ADULT_SAFEGUARDING, _H),
    ),
    Scenario(
        "va-consent-refused-no-risk",
        event(15, _P, "VULNERABLE_ADULT", consent="REFUSED", grade="GRADE_3"),
        {},
    ),
    Scenario(
        "va-consent-refused-weapons",
        event(16, _P, "VULNERABLE_ADULT", consent="REFUSED", risk=("weapons",)),
        _pick(ADULT_SAFEGUARDING, _A, _H, _N),
    ),
    Scenario("va-adults-source", event(17, _A, "VULNERABLE_ADULT"), _pick(ADULT_SAFEGUARDING, _H, _N, _P)),
    Scenario(
        "va-health-source-official-sensitive",
        event(18, _H, "VULNERABLE_ADULT", marking="OFFICIAL_SENSITIVE"),
        _pick(ADULT_SAFEGUARDING, _P),
    ),
    Scenario(
        "va-health-source-restricted-to-adults-and-police",
        event(19, _H, "VULNERABLE_ADULT", restricted=[_A, _P]),
        _pick(ADULT_SAFEGUARDING, _A, _P),
    ),
    Scenario(
        "va-childrens-source", event(20, _C, "VULNERABLE_ADULT"), _pick(ADULT_SAFEGUARDING, _A, _H, _N, _P)
    ),
    Scenario(
        "cfw-police-given",
        event(21, _P, "CONCERN_FOR_WELFARE", grade="GRADE_3"),
        _pick(ADULT_SAFEGUARDING, _A, _H, _N),
    ),
    Scenario("cfw-nwas-source", event(22, _N, "CONCERN_FOR_WELFARE"), _pick(ADULT_SAFEGUARDING, _A, _H, _P)),
    Scenario(
        "cfw-consent-refused-strangulation",
        event(23, _P, "CONCERN_FOR_WELFARE", consent="REFUSED", risk=("strangulation",)),
        _pick(ADULT_SAFEGUARDING, _A, _H, _N),
    ),
    Scenario(
        "cfw-official-sensitive-consent-refused-weapons",
        event(
            24, _P, "CONCERN_FOR_WELFARE", marking="OFFICIAL_SENSITIVE", consent="REFUSED", risk=("weapons",)
        ),
        _pick(ADULT_SAFEGUARDING, _H),
    ),
    # domestic abuse: both safeguarding ISAs
    Scenario("da-police-given", event(25, _P, "DOMESTIC_ABUSE"), _both(_C, _A, _H, _N)),
    Scenario(
        "da-police-official-sensitive",
        event(26, _P, "DOMESTIC_ABUSE", marking="OFFICIAL_SENSITIVE"),
        _both(_C, _H),
    ),
    Scenario("da-consent-refused-no-risk", event(27, _P, "DOMESTIC_ABUSE", consent="REFUSED"), {}),
    Scenario(
        "da-consent-refused-child-in-household",
        event(
            28, _P, "DOMESTIC_ABUSE", consent="REFUSED", linked=("CHILD_IN_HOUSEHOLD", "PERSON_CAUSING_HARM")
        ),
        _both(_C, _A, _H, _N),
    ),
    Scenario(
        "da-consent-refused-high-risk-dash",
        event(29, _P, "DOMESTIC_ABUSE", consent="REFUSED", risk=("high-risk-dash",)),
        _both(_C, _A, _H, _N),
    ),
    Scenario(
        "da-consent-refused-suicide-risk-adult-isa-only",
        event(30, _P, "DOMESTIC_ABUSE", consent="REFUSED", risk=("suicide-risk",)),
        _both(_A, _H, _N),
    ),
    Scenario(
        "da-consent-refused-sexual-exploitation-child-isa-only",
        event(31, _P, "DOMESTIC_ABUSE", consent="REFUSED", risk=("sexual-exploitation",)),
        _both(_C),
    ),
    Scenario("da-adults-source", event(32, _A, "DOMESTIC_ABUSE", grade="GRADE_3"), _both(_C, _H, _N, _P)),
    Scenario(
        "da-health-source-consent-refused-threats-to-kill",
        event(33, _H, "DOMESTIC_ABUSE", consent="REFUSED", risk=("threats-to-kill",)),
        _both(_C, _A, _N, _P),
    ),
    # missing persons: an adult's under the adult safeguarding ISA; a child's (or a possible child's) also
    # under the child safeguarding ISA
    Scenario("mp-police-given", event(34, _P, "MISSING_PERSON"), _both(_A, _H, _N)),
    Scenario(
        "mp-police-grade3-consent-not-sought",
        event(35, _P, "MISSING_PERSON", grade="GRADE_3", consent="NOT_SOUGHT", risk=("repeat-missing",)),
        _both(_A, _H, _N),
    ),
    Scenario(
        "mp-child-restricted-to-childrens",
        event(36, _P, "MISSING_PERSON", restricted=[_C], age=15),
        _pick(CHILD_SAFEGUARDING, _C),
    ),
    Scenario("mp-restricted-to-nobody", event(37, _P, "MISSING_PERSON", restricted=[]), {}),
    Scenario(
        "mp-child-15-not-to-adult-social-care",
        event(46, _P, "MISSING_PERSON", age=15, risk=("repeat-missing", "exploitation-risk")),
        _pick(CHILD_SAFEGUARDING, _C, _H),
    ),
    Scenario(
        "mp-unknown-age-possibly-a-child",
        event(47, _P, "MISSING_PERSON", age=None),
        {_C: CHILD_SAFEGUARDING[_C], _H: ADULT_SAFEGUARDING[_H], _N: ADULT_SAFEGUARDING[_N]},
    ),
    Scenario(
        "mp-child-from-health-to-police",
        event(48, _H, "MISSING_PERSON", age=13),
        _pick(CHILD_SAFEGUARDING, _C, _P),
    ),
    Scenario(
        "mp-turned-18-is-an-adult",
        event(49, _P, "MISSING_PERSON", age=18),
        _both(_A, _H, _N),
    ),
    # a child's case goes to children's services whatever its category
    Scenario(
        "mh-child-16-to-childrens-not-adults",
        event(50, _P, "MENTAL_HEALTH", age=16, risk=("self-harm",)),
        {_C: CHILD_SAFEGUARDING[_C], _H: CHILD_SAFEGUARDING[_H], _N: MH_CRISIS[_N]},
    ),
    Scenario(
        "va-child-subject-adult-in-household-to-adults",
        event(51, _P, "VULNERABLE_ADULT", age=14, linked=("ADULT_IN_HOUSEHOLD",), linked_ages=(44,)),
        {_C: CHILD_SAFEGUARDING[_C], _A: ADULT_SAFEGUARDING[_A], _H: CHILD_SAFEGUARDING[_H]},
    ),
    Scenario(
        "da-child-subject-not-to-adults-or-ambulance",
        event(52, _P, "DOMESTIC_ABUSE", age=16),
        _pick(CHILD_SAFEGUARDING, _C, _H),
    ),
    Scenario(
        "da-consent-refused-linked-child-by-age",
        event(53, _P, "DOMESTIC_ABUSE", consent="REFUSED", linked=("CARER",), linked_ages=(15,)),
        _both(_C),
    ),
    # children's concerns: police, children's services and health together, under the child safeguarding ISA
    Scenario("cc-police-given", event(38, _P, "CHILD_CONCERN", age=9), _pick(CHILD_SAFEGUARDING, _C, _H)),
    Scenario(
        "cc-consent-refused-child-at-risk",
        event(39, _P, "CHILD_CONCERN", consent="REFUSED", age=6),
        _pick(CHILD_SAFEGUARDING, _C, _H),
    ),
    Scenario(
        "cc-official-sensitive",
        event(40, _P, "CHILD_CONCERN", marking="OFFICIAL_SENSITIVE", grade="GRADE_3", age=11),
        _pick(CHILD_SAFEGUARDING, _C, _H),
    ),
    Scenario("cc-health-source", event(41, _H, "CHILD_CONCERN", age=4), _pick(CHILD_SAFEGUARDING, _C, _P)),
    Scenario("cc-restricted-to-adults", event(42, _P, "CHILD_CONCERN", restricted=[_A], age=12), {}),
    Scenario(
        "cse-police-consent-refused",
        event(43, _P, "CHILD_SEXUAL_EXPLOITATION", consent="REFUSED", age=14),
        _pick(CHILD_SAFEGUARDING, _C, _H),
    ),
    Scenario(
        "cse-nwas-source",
        event(44, _N, "CHILD_SEXUAL_EXPLOITATION", grade="GRADE_3", age=15),
        _pick(CHILD_SAFEGUARDING, _C, _H, _P),
    ),
    Scenario(
        "cse-childrens-source-to-police-and-health",
        event(45, _C, "CHILD_SEXUAL_EXPLOITATION", age=15),
        _pick(CHILD_SAFEGUARDING, _H, _P),
    ),
]
