"""SLA rules as data (`sla.json` beside this file, or EAHUB_BOARD_SLA_FILE): response times per grade,
visit, review and closure offsets, warn share and re-escalation interval, with per-agency overrides, and
the fixed list of closure outcomes. `time_scale` divides every duration (the demo compresses time)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_FILE = Path(__file__).with_name("sla.json")
_MINUTE_MS = 60_000
_RULE_KEYS = ("acknowledge_minutes", "visit_minutes", "review_w2_minutes", "review_w4_minutes", "closure_minutes",
              "warn_share", "reescalate_minutes")


@dataclass(frozen=True)
class SlaRules:
    data: dict[str, Any]
    time_scale: float = 1.0

    def _rule(self, agency: str, key: str) -> Any:
        override = self.data.get("agencies", {}).get(agency, {})
        return override[key] if key in override else self.data["default"][key]

    def _per_grade(self, agency: str, key: str, grade: str) -> float | None:
        value = self._rule(agency, key)
        if isinstance(value, dict):
            minutes = value.get(grade)
            return None if minutes is None else float(minutes)
        return float(value)

    def _ms(self, minutes: float) -> int:
        return int(minutes * _MINUTE_MS / self.time_scale)

    def acknowledge_override_ms(self, agency: str, grade: str) -> int | None:
        """The board's own acknowledge time for the grade, only when that agency overrides it; else None
        (the routed `due_by` applies)."""
        override = self.data.get("agencies", {}).get(agency, {}).get("acknowledge_minutes")
        if not isinstance(override, dict) or grade not in override:
            return None
        return self._ms(float(override[grade]))

    def acknowledge_ms(self, agency: str, grade: str) -> int:
        minutes = self._per_grade(agency, "acknowledge_minutes", grade)
        return self._ms(minutes if minutes is not None else 60)

    def visit_ms(self, agency: str, grade: str) -> int:
        minutes = self._per_grade(agency, "visit_minutes", grade)
        return self._ms(minutes if minutes is not None else 24 * 60)

    def offset_ms(self, agency: str, key: str) -> int:
        return self._ms(float(self._rule(agency, key)))

    def warn_share(self, agency: str) -> float:
        return float(self._rule(agency, "warn_share"))

    def reescalate_ms(self, agency: str) -> int:
        return max(1, self._ms(float(self._rule(agency, "reescalate_minutes"))))

    @property
    def outcomes(self) -> dict[str, str]:
        return dict(self.data.get("outcomes", {}))


def load_sla(path: Path | None = None, time_scale: float = 1.0) -> SlaRules:
    """Read and check the SLA file. Raises ValueError naming the first missing or wrong key."""
    data = json.loads((path or DEFAULT_FILE).read_text())
    if time_scale <= 0:
        raise ValueError("time_scale must be positive")
    default = data.get("default")
    if not isinstance(default, dict):
        raise ValueError("SLA file: 'default' is missing")
    for key in _RULE_KEYS:
        if key not in default:
            raise ValueError(f"SLA file: default.{key} is missing")
    for agency, rules in data.get("agencies", {}).items():
        unknown = set(rules) - set(_RULE_KEYS)
        if unknown:
            raise ValueError(f"SLA file: agencies.{agency} has unknown keys {sorted(unknown)}")
    share = float(default["warn_share"])
    if not 0 < share < 1:
        raise ValueError("SLA file: default.warn_share must be between 0 and 1")
    if not data.get("outcomes"):
        raise ValueError("SLA file: 'outcomes' is missing")
    return SlaRules(data, time_scale)
