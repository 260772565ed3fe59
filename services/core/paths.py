"""Where the hub's source-of-truth folders live. `schemas/` and `policies/` are read, never copied."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMAS_DIR = REPO_ROOT / "schemas"
POLICIES_DIR = REPO_ROOT / "policies"
