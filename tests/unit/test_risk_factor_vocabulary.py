"""The risk-factor vocabulary (schemas/risk_factors.json) and how it classifies: health codes are the
special-category path risk_factors.health, the rest risk_factors.general; the projection keeps only the codes of
the shared kinds; and the ConcernEvent wire form is unchanged by it (same fingerprint as version 1)."""

from __future__ import annotations

import pytest

from eahub.core import risk_factors, schemas
from eahub.router.projection import project
from tests.helpers import concern_event

pytestmark = pytest.mark.unit

VERSION_1_FINGERPRINT = "1681c03a00f60ff9"  # messages already on the topics and in the ledger still decode


def test_the_vocabulary_is_coded_with_a_kind_per_code() -> None:
    vocabulary = risk_factors.vocabulary()
    assert len(vocabulary) >= 20
    assert {f.kind for f in vocabulary.values()} == {"general", "health"}
    assert vocabulary["suicide-risk"].kind == "health" and vocabulary["weapons"].kind == "general"
    assert "suicidal-ideation" not in vocabulary  # one code per meaning: no synonyms
    assert risk_factors.unknown_codes(["weapons", "x", "x", "self-harm"]) == ["x"]


def test_the_classification_splits_risk_factors_by_kind_without_changing_the_wire_form() -> None:
    kinds = schemas.pii_classification()
    assert kinds["risk_factors.general"] == "none" and kinds["risk_factors.health"] == "special-category"
    schema = schemas.load(schemas.CONCERN_EVENT)
    assert schema.raw["eahub.version"] == 2 and schema.fingerprint.hex() == VERSION_1_FINGERPRINT


ENVELOPE = {"event_id", "occurred_at", "reported_at", "source_agency", "category", "grade", "security_marking",
            "district", "consent.status"}


def test_the_projection_keeps_only_the_codes_of_the_shared_kinds() -> None:
    event = concern_event(risk_factors=["weapons", "self-harm", "repeat-missing", "dementia"])
    assert project(event, ENVELOPE | {"risk_factors.general"})["risk_factors"] == ["weapons", "repeat-missing"]
    assert project(event, ENVELOPE | {"risk_factors.health"})["risk_factors"] == ["self-harm", "dementia"]
    assert project(event, ENVELOPE | {"risk_factors"})["risk_factors"] == event["risk_factors"]
    assert project(event, ENVELOPE)["risk_factors"] == []
