"""Reading what the hub produced, grouped the way the end-to-end assertions need it."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from eahub.core import avro_codec, risk_factors, schemas, topics
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from tests.helpers import read_all


def routed_cases(settings: HubSettings, expect: int | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """event id -> recipient -> routed case, over every board topic; asserts no case is duplicated and
    every case sits on its own recipient's topic."""
    out: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for agency in agency_ids(settings.policies_dir):
        for msg in read_all(settings, topics.board(agency), expect=0, settle_s=0.3):
            _, case = avro_codec.decode(msg.value(), expected=schemas.ROUTED_CASE)
            assert case["recipient"] == agency
            assert agency not in out[case["event_id"]], f"duplicate case for {agency}"
            out[case["event_id"]][agency] = case
    return out


def leaf(record: dict[str, Any], path: str) -> Any:
    value: Any = record
    for part in path.split("."):
        if isinstance(value, list):  # coded elements (risk_factors): the codes of that kind
            vocabulary = risk_factors.vocabulary()
            value = [c for c in value if c not in vocabulary or vocabulary[c].kind == part]
        else:
            value = None if value is None else value.get(part)
    return value


def assert_projection(case: dict[str, Any], original: dict[str, Any]) -> None:
    """Shared leaves equal the original; withheld leaves are empty (null or [])."""
    for path in case["shared_fields"]:
        assert leaf(case["concern"], path) == leaf(original, path), path
    for path in case["withheld_fields"]:
        assert leaf(case["concern"], path) in (None, []), f"{path} reached {case['recipient']}"
