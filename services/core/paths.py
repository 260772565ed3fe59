"""Where the hub's source-of-truth folders live. `schemas/` and `policies/` are read, never copied: they ship
inside the installed package as `eahub.schemas` and `eahub.policies` (package data), whether installed from a
wheel or in editable mode, so the hub runs from any directory. `EAHUB_POLICIES_DIR` points at another policy
folder (e.g. a draft); the schemas are part of the code's contract and are always the packaged ones."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def _package_dir(name: str) -> Path:
    return Path(str(files(name)))


SCHEMAS_DIR = _package_dir("eahub.schemas")
POLICIES_DIR = _package_dir("eahub.policies")
