"""The shape of the policy data in `policies/data/*.json`, checked on load.

Each file is validated on its own shape (pydantic) and then across files and against the
ConcernEvent schema (agencies named in ISAs exist, fields named in allow-lists exist, categories are
schema symbols). Every problem is reported as `<file>: <path>: <what is wrong>`; personal data never
appears in policy data, so values may be quoted."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from eahub.core import risk_factors, schemas

AgencyKind = Literal[
    "police",
    "childrens-social-care",
    "adult-social-care",
    "health",
    "ambulance",
    "education",
    "housing",
]
AGENCY_KINDS: tuple[str, ...] = AgencyKind.__args__  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Agency(_Strict):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    kind: AgencyKind
    part3_competent_authority: bool
    cleared_official_sensitive: bool


class AgencyRegistry(_Strict):
    agencies: list[Agency] = Field(min_length=1)


AgeBand = Literal["child", "adult", "unknown"]
AGE_BANDS: tuple[str, ...] = AgeBand.__args__  # type: ignore[attr-defined]


class RecipientTerms(_Strict):
    fields: list[str]
    # The subjects this recipient receives under the ISA; None = the ISA's own subject_age_bands.
    subject_age_bands: list[AgeBand] | None = None
    # A case outside those bands still goes to this recipient when a linked person (not a child) has one of
    # these roles, e.g. adult social care for an adult in a child's household.
    linked_adult_roles: list[str] = []
    clause: str = ""  # which clause of the agreement this entry stands for


class ChildAtRisk(_Strict):
    categories: list[str]
    linked_roles: list[str]
    subject_age_bands: list[AgeBand] = []  # a subject in these bands is a child at risk (overrides consent)


class SeriousHarm(_Strict):
    risk_factors: list[str]  # codes of schemas/risk_factors.json


class ConsentOverride(_Strict):
    child_at_risk: ChildAtRisk
    serious_harm: SeriousHarm


class Conditions(_Strict):
    consent_override: ConsentOverride


class Isa(_Strict):
    id: str = Field(min_length=1)
    version: str = Field(min_length=1)
    title: str = ""
    parties: list[str] = Field(min_length=2)
    purposes: list[str] = Field(min_length=1)
    valid_from: date
    valid_to: date
    categories: list[str] = Field(min_length=1)
    # Categories covered only for a subject of that age band (a child's case, whatever its category).
    categories_by_age_band: dict[AgeBand, list[str]] = {}
    subject_age_bands: list[AgeBand] = ["child", "adult", "unknown"]  # whose cases the ISA covers
    recipients: dict[str, RecipientTerms] = Field(min_length=1)
    lawful_basis: dict[AgencyKind, str]
    art9_conditions: dict[AgencyKind, str]
    conditions: Conditions
    clauses: dict[str, str] = {}  # data key -> the clause of the agreement it stands for


class IsaRegistry(_Strict):
    isas: list[Isa] = Field(min_length=1)


class BreakGlass(_Strict):
    roles: list[str] = Field(min_length=1)
    fields: list[str]
    lawful_basis: dict[AgencyKind | Literal["default"], str]
    purpose: str = Field(min_length=1)


class Rules(_Strict):
    children_categories: list[str]
    children_concern_recipient_kinds: list[AgencyKind]  # the only kinds a children's concern may reach
    special_category_recipient_kinds: list[AgencyKind]
    break_glass: BreakGlass


class RulesFile(_Strict):
    rules: Rules


FILES: dict[str, type[_Strict]] = {
    "agencies.json": AgencyRegistry,
    "isas.json": IsaRegistry,
    "rules.json": RulesFile,
}


def shape_problems(file: str, raw: Any) -> tuple[_Strict | None, list[str]]:
    """Parse one data file against its model; problems name the file and the path inside it."""
    try:
        return FILES[file].model_validate(raw), []
    except ValidationError as exc:
        return None, [f"{file}: {_loc(e['loc'])}: {e['msg']}" for e in exc.errors()]


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def cross_problems(agencies: AgencyRegistry, isas: IsaRegistry, rules: RulesFile) -> list[str]:
    """Problems across files and against the ConcernEvent schema."""
    known = {a.id for a in agencies.agencies}
    fields = set(schemas.field_paths())
    categories = set(schemas.enum_symbols("Category"))
    roles = set(schemas.enum_symbols("LinkedRole"))
    kind_of = {a.id: a.kind for a in agencies.agencies}
    problems: list[str] = []
    seen: set[str] = set()
    for a in agencies.agencies:
        if a.id in seen:
            problems.append(f"agencies.json: agencies: agency id {a.id!r} appears twice")
        seen.add(a.id)
    for i, isa in enumerate(isas.isas):
        at = f"isas.json: isas[{i}] ({isa.id} v{isa.version})"
        if isa.valid_to < isa.valid_from:
            problems.append(f"{at}.valid_to: {isa.valid_to} is before valid_from {isa.valid_from}")
        for j, party in enumerate(isa.parties):
            if party not in known:
                problems.append(f"{at}.parties[{j}]: unknown agency {party!r}")
        for j, cat in enumerate(isa.categories):
            if cat not in categories:
                problems.append(f"{at}.categories[{j}]: {cat!r} is not a ConcernEvent category")
        for band, cats in isa.categories_by_age_band.items():
            for j, cat in enumerate(cats):
                if cat not in categories:
                    problems.append(
                        f"{at}.categories_by_age_band.{band}[{j}]: {cat!r} is not a ConcernEvent category"
                    )
        for j, cat in enumerate(isa.conditions.consent_override.child_at_risk.categories):
            if cat not in categories:
                problems.append(
                    f"{at}.conditions.consent_override.child_at_risk.categories[{j}]: "
                    f"{cat!r} is not a ConcernEvent category"
                )
        for j, role in enumerate(isa.conditions.consent_override.child_at_risk.linked_roles):
            if role not in roles:
                problems.append(
                    f"{at}.conditions.consent_override.child_at_risk.linked_roles[{j}]: "
                    f"{role!r} is not a LinkedRole of the schema"
                )
        for j, code in enumerate(isa.conditions.consent_override.serious_harm.risk_factors):
            if code in risk_factors.unknown_codes([code]):
                problems.append(
                    f"{at}.conditions.consent_override.serious_harm.risk_factors[{j}]: "
                    f"{code!r} is not a code of {risk_factors.FILE}"
                )
        for recipient, terms in isa.recipients.items():
            where = f"{at}.recipients.{recipient}"
            if recipient not in known:
                problems.append(f"{where}: unknown agency {recipient!r}")
                continue
            if recipient not in isa.parties:
                problems.append(f"{where}: recipient is not a party to the ISA")
            if kind_of[recipient] not in isa.lawful_basis:
                problems.append(
                    f"{where}: no lawful basis for its kind {kind_of[recipient]!r} in lawful_basis"
                )
            for j, role in enumerate(terms.linked_adult_roles):
                if role not in roles:
                    problems.append(f"{where}.linked_adult_roles[{j}]: {role!r} is not a LinkedRole of the schema")
            for j, f in enumerate(terms.fields):
                if f not in fields:
                    problems.append(f"{where}.fields[{j}]: {f!r} is not a field of the ConcernEvent schema")
    problems += _overlapping_versions(isas)
    r = rules.rules
    for j, cat in enumerate(r.children_categories):
        if cat not in categories:
            problems.append(
                f"rules.json: rules.children_categories[{j}]: {cat!r} is not a ConcernEvent category"
            )
    for j, f in enumerate(r.break_glass.fields):
        if f not in fields:
            problems.append(
                f"rules.json: rules.break_glass.fields[{j}]: {f!r} is not a field of the ConcernEvent schema"
            )
    if "default" not in r.break_glass.lawful_basis:
        problems.append("rules.json: rules.break_glass.lawful_basis: a 'default' basis is required")
    return problems


def _overlapping_versions(isas: IsaRegistry) -> list[str]:
    """Two versions of one ISA must not be in force on the same day: one agreement governs at a time."""
    problems = []
    items = list(enumerate(isas.isas))
    for n, (i, a) in enumerate(items):
        for j, b in items[n + 1 :]:
            if a.id == b.id and a.valid_from <= b.valid_to and b.valid_from <= a.valid_to:
                problems.append(
                    f"isas.json: isas[{j}] ({b.id} v{b.version}): in force on the same days as "
                    f"isas[{i}] (v{a.version}); versions of one ISA must not overlap"
                )
            elif a.id == b.id and a.version == b.version:
                problems.append(f"isas.json: isas[{j}]: duplicate {b.id} v{b.version}")
    return problems
