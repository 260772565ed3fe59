"""The policy-relevant part of a request: the only thing an engine sees.

Only facts that decide who may receive what go to the engine (source, category, grade, marking, risk
factors, consent status, originator control, the subject's age band, the role and age band of each linked
person); no name, date of birth, narrative or other personal value ever does, so an OPA server never holds
personal data. The age band is derived here, from the date of birth at the time of the event. The decision
cache keys by the part of these the policy reads (`decision_key`)."""

from __future__ import annotations

from typing import Any

from eahub.policy import age
from eahub.policy.model import PolicyRequest


def policy_input(request: PolicyRequest) -> dict[str, Any]:
    e = request.event
    o = request.override
    return {
        "event": {
            "source_agency": e["source_agency"],
            "category": e["category"],
            "grade": e["grade"],
            "security_marking": e["security_marking"],
            "risk_factors": sorted(set(e.get("risk_factors") or [])),
            "consent": {"status": e["consent"]["status"]},
            "restricted_to": sorted(set(e["restricted_to"])) if e.get("restricted_to") is not None else None,
            "subject_age_band": age.subject_band(e),
            "linked_people": age.linked_bands(e),
        },
        "today": request.today.isoformat(),
        "override": None
        if o is None
        else {
            "recipient": o.recipient,
            "role": o.role,
            "actor": o.actor,
            "justified": bool(o.justification.strip()),  # never the text: it may name people
        },
    }
