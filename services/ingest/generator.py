"""Synthetic concern events, realistic in shape and volume, about made-up people only.

Volume and timing follow DESIGN.md §1: about 134 a day, Preston about 15%, a peak from 15:00 to
midnight, Fridays and Saturdays busiest. Arrivals are a non-homogeneous Poisson process (thinning),
so a seed fixes the whole stream: the same seed and start give byte-identical output. Hours are UTC
(UK local time in winter). NHS numbers come from the 999 range reserved for test data; phone
numbers from Ofcom's drama range; streets are fictional."""

from __future__ import annotations

import random
import uuid
from collections.abc import Collection, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from eahub.core.event_json import format_time, parse_time
from eahub.core.paths import POLICIES_DIR
from eahub.core.registry import agency_ids
from eahub.ingest import nhs_number

EVENTS_PER_DAY = 134
POLICE = "lancashire-police"

DISTRICTS = {
    "Preston": 15, "Blackpool": 11, "Blackburn with Darwen": 11, "Burnley": 9, "Lancaster": 9,
    "Chorley": 7, "Hyndburn": 6, "Pendle": 6, "South Ribble": 5, "West Lancashire": 5, "Wyre": 5,
    "Fylde": 4, "Rossendale": 4, "Ribble Valley": 3,
}
# relative arrival rate by hour of day (UTC): low overnight, rising through the day, peak 15:00-24:00
HOUR_WEIGHTS = [5, 3.5, 2.5, 2, 1.5, 1.5, 2, 2.5, 3, 3.5, 4, 4, 4.5, 4.5, 5,
                6.5, 7, 7.5, 7.5, 7.5, 7.5, 7, 6.5, 6]
# relative rate by weekday, Monday first (mean 1): Fridays and Saturdays busiest
DAY_WEIGHTS = [0.9, 0.9, 0.9, 0.95, 1.2, 1.25, 0.9]

CATEGORIES = {"CONCERN_FOR_WELFARE": 24, "MENTAL_HEALTH": 22, "MISSING_PERSON": 18, "DOMESTIC_ABUSE": 16,
              "CHILD_CONCERN": 10, "VULNERABLE_ADULT": 7, "CHILD_SEXUAL_EXPLOITATION": 3}
GRADE_2_SHARE = {"MISSING_PERSON": 0.5, "MENTAL_HEALTH": 0.45, "DOMESTIC_ABUSE": 0.4, "CHILD_CONCERN": 0.35,
                 "VULNERABLE_ADULT": 0.25, "CHILD_SEXUAL_EXPLOITATION": 0.5, "CONCERN_FOR_WELFARE": 0.3}
SENSITIVE = {"DOMESTIC_ABUSE", "CHILD_CONCERN", "CHILD_SEXUAL_EXPLOITATION"}
CHILD_CATEGORIES = {"CHILD_CONCERN", "CHILD_SEXUAL_EXPLOITATION"}
# who else, besides the police, plausibly raises each kind of concern
OTHER_PUBLISHERS = {
    "MENTAL_HEALTH": ["lscft-mental-health", "nwas"], "CONCERN_FOR_WELFARE": ["nwas", "lancashire-cc-adults"],
    "CHILD_CONCERN": ["lancashire-cc-childrens"], "CHILD_SEXUAL_EXPLOITATION": ["lancashire-cc-childrens"],
    "VULNERABLE_ADULT": ["lancashire-cc-adults", "nwas"], "MISSING_PERSON": ["lancashire-cc-childrens"],
    "DOMESTIC_ABUSE": ["lancashire-cc-adults"],
}
POLICE_SHARE = 0.8
CONSENT = {"GIVEN": 30, "REFUSED": 10, "NOT_SOUGHT": 35, "NOT_REQUIRED": 25}
RECORDERS = ["PC {n}", "PS {n}", "Call handler {n}", "Duty social worker", "Triage nurse", "Paramedic {n}"]

FIRST_NAMES = ["Alex", "Sam", "Jordan", "Casey", "Riley", "Morgan", "Taylor", "Jamie", "Charlie", "Robin",
               "Avery", "Quinn", "Rowan", "Skyler", "Harper", "Emery", "Finley", "Reese", "Dakota", "Ellis"]
SURNAMES = ["Example", "Sample", "Specimen", "Placeholder", "Testington", "Fictitious", "Madeup", "Notreal",
            "Demoson", "Mockley", "Pretendwell", "Imaginary", "Syntheticson", "Dummyford", "Fakenham-Smith"]
STREETS = ["Example Street", "Sample Road", "Specimen Lane", "Placeholder Avenue", "Fiction Close",
           "Demo Terrace", "Mock Grove", "Pretend Way", "Imaginary Crescent", "Nowhere Row"]
RELATIONSHIPS = ["neighbour", "family member", "teacher", "GP", "member of the public", "friend", "landlord"]
RISKS = {  # codes of the controlled vocabulary (schemas/risk_factors.json) only
    "MISSING_PERSON": ["repeat-missing", "no-phone", "substance-misuse", "exploitation-risk"],
    "MENTAL_HEALTH": ["self-harm", "suicide-risk", "not-taking-medication", "substance-misuse"],
    "DOMESTIC_ABUSE": ["repeat-victim", "weapons", "children-present", "strangulation", "pregnancy"],
    "CHILD_CONCERN": ["neglect", "parental-substance-misuse", "domestic-abuse-in-home", "school-absence"],
    "VULNERABLE_ADULT": ["self-neglect", "financial-abuse", "dementia", "lives-alone"],
    "CHILD_SEXUAL_EXPLOITATION": ["exploitation-risk", "older-associates", "repeat-missing",
                                  "online-contact"],
    "CONCERN_FOR_WELFARE": ["lives-alone", "frailty", "substance-misuse", "no-contact-with-family"],
}
NARRATIVES = {
    "MISSING_PERSON": "Reported missing after not returning home; last seen {when}.",
    "MENTAL_HEALTH": "Caller concerned about the subject's state of mind {when}.",
    "DOMESTIC_ABUSE": "Report of an argument at the address {when}; subject disclosed previous incidents.",
    "CHILD_CONCERN": "Concern raised about the care of children at the address {when}.",
    "VULNERABLE_ADULT": "Subject found struggling to cope at home {when}.",
    "CHILD_SEXUAL_EXPLOITATION": "Young person seen with older associates {when}; exploitation feared.",
    "CONCERN_FOR_WELFARE": "Welfare check requested after no contact {when}.",
}
HEALTH = ["known to the community mental health team", "recent self-harm reported",
          "not taking prescribed medication", "history of psychosis", "low mood, expressed suicidal thoughts",
          "memory problems, possible dementia"]
WHEN = ["this afternoon", "this evening", "overnight", "earlier today", "yesterday"]
REF_PREFIX = {"lancashire-police": "LC", "lancashire-cc-childrens": "CSC", "lancashire-cc-adults": "ASC",
              "lscft-mental-health": "LSCFT", "nwas": "NWAS"}


def generate(count: int | None, seed: int, start: datetime, days: float | None = None,
             agencies: Collection[str] | None = None) -> Iterator[dict[str, Any]]:
    """Events in JSON form, in reported_at order, from `start`. `count` events at about 134 a day; with
    `days` as well, `count` events spread over about that many days; with `days` only, every event
    of that many days at the natural rate."""
    if count is None and days is None:
        raise ValueError("give a count, a number of days, or both")
    rng = random.Random(seed)
    registry = list(agencies if agencies is not None else agency_ids(POLICIES_DIR))
    scale = count / (EVENTS_PER_DAY * days) if count is not None and days is not None else 1.0
    end = start + timedelta(days=days) if count is None and days is not None else None
    hourly = [EVENTS_PER_DAY * scale * w / sum(HOUR_WEIGHTS) for w in HOUR_WEIGHTS]
    peak = max(hourly) * max(DAY_WEIGHTS)
    t, produced = start, 0
    daily_seq: dict[tuple[str, date], int] = {}
    while count is None or produced < count:
        t += timedelta(hours=rng.expovariate(peak))
        if end is not None and t >= end:
            return
        if rng.random() * peak > hourly[t.hour] * DAY_WEIGHTS[t.weekday()]:
            continue  # thinning: accept with probability rate(t) / peak
        produced += 1
        yield _event(rng, t.replace(microsecond=0), registry, daily_seq)


def reported_at(event: dict[str, Any]) -> datetime:
    """When an event (JSON form) was reported: the time a time-compressed feed should publish it."""
    moment = parse_time(event["reported_at"])
    assert moment is not None, "generator events always carry a valid reported_at"
    return moment


def default_span(count: int | None, days: float | None) -> timedelta:
    """How far back a feed must start so that every event lies in the past (at least one day)."""
    expected = days if days is not None else (count or 0) / EVENTS_PER_DAY * 1.2
    return timedelta(days=max(1.0, expected))


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _event(rng: random.Random, reported: datetime, registry: list[str],
           daily_seq: dict[tuple[str, date], int]) -> dict[str, Any]:
    category = _pick(rng, CATEGORIES)
    district = _pick(rng, DISTRICTS)
    others = [a for a in OTHER_PUBLISHERS[category] if a in registry]
    agency = POLICE if rng.random() < POLICE_SHARE or not others else rng.choice(others)
    delay = min(rng.expovariate(1 / 40), 24 * 60) * (3 if category == "MISSING_PERSON" else 1)
    key = (agency, reported.date())
    daily_seq[key] = daily_seq.get(key, 0) + 1
    surname = rng.choice(SURNAMES)
    event: dict[str, Any] = {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "occurred_at": format_time(reported - timedelta(minutes=round(delay))),
        "reported_at": format_time(reported),
        "source_agency": agency,
    }
    if rng.random() < 0.97:
        event["source_reference"] = f"{REF_PREFIX.get(agency, 'REF')}-{reported:%Y%m%d}-{daily_seq[key]:04d}"
    event.update({
        "category": category,
        "grade": "GRADE_2" if rng.random() < GRADE_2_SHARE[category] else "GRADE_3",
        "security_marking": "OFFICIAL_SENSITIVE" if rng.random() < (0.85 if category in SENSITIVE else 0.3)
        else "OFFICIAL",
        "district": district,
        "subject": _subject(rng, category, reported.date(), district, surname, agency),
        "narrative": NARRATIVES[category].format(when=rng.choice(WHEN)),
    })
    if (category == "MENTAL_HEALTH" and rng.random() < 0.8) or (
            category == "VULNERABLE_ADULT" and rng.random() < 0.3):
        event["health_details"] = rng.choice(HEALTH)
    event["risk_factors"] = rng.sample(RISKS[category], rng.randint(0, 3))
    linked = _linked_people(rng, category, reported.date(), surname)
    if linked:
        event["linked_people"] = linked
    if rng.random() < 0.25:
        event["referrer"] = {"name": f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
                             "contact": f"07700 900{rng.randint(0, 999):03d}",
                             "relationship": rng.choice(RELATIONSHIPS)}
    consent = dict(CONSENT, NOT_REQUIRED=60) if category in CHILD_CATEGORIES else CONSENT
    recorder = rng.choice(RECORDERS).format(n=rng.randint(1000, 9999)) if rng.random() < 0.9 else None
    event["consent"] = {"status": _pick(rng, consent), "recorded_by": recorder}
    if rng.random() < 0.05:
        event["restricted_to"] = sorted({agency, rng.choice(registry)})
    return event


def _subject(rng: random.Random, category: str, today: date, district: str, surname: str,
             agency: str) -> dict[str, Any]:
    if category == "CHILD_SEXUAL_EXPLOITATION":
        age = rng.randint(12, 17)
    elif category == "CHILD_CONCERN" or (category == "MISSING_PERSON" and rng.random() < 0.6):
        age = rng.randint(0 if category == "CHILD_CONCERN" else 12, 17)
    else:
        age = rng.randint(18, 90)
    subject: dict[str, Any] = {}
    has_name = rng.random() < 0.95
    if has_name:
        subject["name"] = f"{rng.choice(FIRST_NAMES)} {surname}"
        subject["date_of_birth"] = _birthday(rng, today, age)
    if not has_name or rng.random() < (0.9 if agency != POLICE else 0.55):
        subject["nhs_number"] = _nhs_number(rng)
    if rng.random() < 0.8:
        subject["address"] = f"{rng.randint(1, 180)} {rng.choice(STREETS)}, {district}"
    return subject


def _linked_people(rng: random.Random, category: str, today: date, surname: str) -> list[dict[str, Any]]:
    people: list[dict[str, Any]] = []
    children = rng.randint(1, 3) if category == "CHILD_CONCERN" else (
        rng.randint(1, 2) if category == "DOMESTIC_ABUSE" and rng.random() < 0.4 else 0)
    for _ in range(children):
        people.append({"role": "CHILD_IN_HOUSEHOLD", "name": f"{rng.choice(FIRST_NAMES)} {surname}",
                       "date_of_birth": _birthday(rng, today, rng.randint(0, 17))})
    if category == "DOMESTIC_ABUSE" and rng.random() < 0.6:
        harmer = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
        people.append({"role": "PERSON_CAUSING_HARM", "name": harmer})
    if category == "VULNERABLE_ADULT" and rng.random() < 0.4:
        people.append({"role": "CARER", "name": f"{rng.choice(FIRST_NAMES)} {surname}"})
    return people


def _birthday(rng: random.Random, today: date, age: int) -> str:
    return (today - timedelta(days=age * 365 + rng.randint(1, 364))).isoformat()


def _nhs_number(rng: random.Random) -> str:
    while True:
        full = nhs_number.complete(f"999{rng.randint(0, 999999):06d}")
        if full is not None:
            return full
