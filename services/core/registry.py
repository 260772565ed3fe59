"""The agency registry of `policies/data/agencies.json` (the policy data is the single source)."""

from __future__ import annotations

import json
from pathlib import Path


def agency_ids(policies_dir: Path) -> list[str]:
    data = json.loads((policies_dir / "data" / "agencies.json").read_text())
    return [a["id"] for a in data["agencies"]]
