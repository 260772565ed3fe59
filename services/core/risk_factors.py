"""The controlled vocabulary of risk-factor codes (`schemas/risk_factors.json`): code, meaning, kind.

One file, read by ingest (an unknown code is a 422 naming it), the router (an unknown code is a dead
letter), the policy bundle (as data) and the generator. A code of kind `health` is special-category data
(UK GDPR Art 9): the schema classification exposes `risk_factors` as two leaf paths, `risk_factors.general`
(kind none) and `risk_factors.health` (special-category), so the one allow-list projection shares or
withholds health codes like any other special-category field."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from eahub.core.paths import SCHEMAS_DIR

FILE = "risk_factors.json"
FIELD = "risk_factors"  # the ConcernEvent field whose elements are codes of this vocabulary
KINDS = {"general": "none", "health": "special-category"}  # code kind -> personal-data kind of its path


@dataclass(frozen=True)
class RiskFactor:
    code: str
    meaning: str
    kind: str  # "general" | "health"

    @property
    def path(self) -> str:
        """The field path a code of this kind is shared under (`risk_factors.health`, ...)."""
        return f"{FIELD}.{self.kind}"


@cache
def vocabulary(schemas_dir: Path = SCHEMAS_DIR) -> dict[str, RiskFactor]:
    raw = json.loads((schemas_dir / FILE).read_text())
    out: dict[str, RiskFactor] = {}
    for item in raw["risk_factors"]:
        factor = RiskFactor(code=item["code"], meaning=item["meaning"], kind=item["kind"])
        if factor.kind not in KINDS:
            raise ValueError(f"{FILE}: code {factor.code!r} has unknown kind {factor.kind!r}")
        if factor.code in out:
            raise ValueError(f"{FILE}: code {factor.code!r} appears twice")
        out[factor.code] = factor
    return out


def unknown_codes(codes: Iterable[str]) -> list[str]:
    """The codes not in the vocabulary, in the order given, each once."""
    known = vocabulary()
    return list(dict.fromkeys(c for c in codes if c not in known))


def document() -> dict[str, Any]:
    """The vocabulary as the policy sees it (`data.hub.risk_factors`): code -> {meaning, kind}."""
    return {c: {"meaning": f.meaning, "kind": f.kind} for c, f in sorted(vocabulary().items())}


def keep_paths(codes: list[str], allowed: set[str] | frozenset[str]) -> list[str]:
    """The codes whose kind path is allowed (the projection of `risk_factors` by kind)."""
    known = vocabulary()
    return [c for c in codes if c in known and known[c].path in allowed]
