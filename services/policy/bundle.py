"""A policy bundle: the Rego modules of `policies/`, the validated data of `policies/data/`, and the
schema's field classification, with a revision that is the sha256 of all three.

The classification (field path -> personal-data kind, leaf fields, envelope fields) is derived from
`schemas/` at load time and placed in the data as `data.hub.schema`: the schema is its single source; so is
the risk-factor vocabulary (`schemas/risk_factors.json`), placed as `data.hub.risk_factors`. Last, the policy's
own `shares` rule (what each recipient receives under each ISA: no event fact changes it) is evaluated once
and placed as `data.hub.shares`, for every engine alike; derived from the sources, it adds nothing to the
revision."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import regorus

from eahub.core import risk_factors, schemas
from eahub.policy import data_model

DATA_DIR = "data"
ENTRYPOINT = "data.eahub.sharing.decision"
BATCH_ENTRYPOINT = "data.eahub.sharing.batch"
SHARES_ENTRYPOINT = "data.eahub.sharing.shares"


class PolicyLoadError(Exception):
    """The bundle cannot be used; `problems` lists each one, naming the file and where in it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("policy bundle refused:\n  " + "\n  ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PolicyBundle:
    root: Path
    modules: dict[str, str]  # relative path -> Rego source (policies)
    tests: dict[str, str]  # relative path -> Rego source (`*_test.rego`)
    data: dict[str, Any] = field(repr=False)  # the whole data document: {"hub": {...}}
    revision: str

    @classmethod
    def load(cls, policies_dir: Path) -> PolicyBundle:
        bundle, problems = cls.inspect(policies_dir)
        if problems or bundle is None:
            raise PolicyLoadError(problems)
        return bundle

    @classmethod
    def inspect(cls, policies_dir: Path) -> tuple[PolicyBundle | None, list[str]]:
        """Load and report every problem found, rather than stopping at the first (for `policy check`)."""
        root = Path(policies_dir)
        if not root.is_dir():
            return None, [f"{root}: not a directory"]
        rego = {p.relative_to(root).as_posix(): p.read_text() for p in sorted(root.rglob("*.rego"))}
        if not any(not name.endswith("_test.rego") for name in rego):
            return None, [f"{root}: no Rego policy found"]
        problems = _parse_problems(rego) + _package_problems(rego)
        data, data_problems, raw_files = _load_data(root / DATA_DIR)
        problems += data_problems
        if problems or data is None:
            return None, problems
        digest = hashlib.sha256()
        for name, text in sorted(rego.items()):
            digest.update(f"rego\0{name}\0{text}\0".encode())
        for name, text in sorted(raw_files.items()):
            digest.update(f"data\0{name}\0{text}\0".encode())
        digest.update(json.dumps(data["hub"]["schema"], sort_keys=True).encode())
        digest.update(json.dumps(data["hub"]["risk_factors"], sort_keys=True).encode())
        modules = {k: v for k, v in rego.items() if not k.endswith("_test.rego")}
        shares, share_problems = _shares(modules, data)
        if share_problems:
            return None, share_problems
        return cls(
            root=root,
            modules=modules,
            tests={k: v for k, v in rego.items() if k.endswith("_test.rego")},
            data=data if shares is None else {"hub": {**data["hub"], "shares": shares}},
            revision=digest.hexdigest(),
        ), []

    def engine(self, with_tests: bool = False) -> regorus.Engine:
        """A regorus engine holding this bundle's policies (and tests) and data."""
        engine = regorus.Engine()
        for name, text in self.modules.items():
            engine.add_policy(name, text)
        if with_tests:
            for name, text in self.tests.items():
                engine.add_policy(name, text)
        engine.add_data(self.data)
        return engine


def _shares(modules: dict[str, str], data: dict[str, Any]) -> tuple[Any, list[str]]:
    """The policy's `shares` over its data, evaluated once, or the problem that prevents it (None, without
    problem, for a policy that defines no `shares`)."""
    if not any(re.search(r"^shares\s*:=", text, re.MULTILINE) for text in modules.values()):
        return None, []
    engine = regorus.Engine()
    for name, text in modules.items():
        engine.add_policy(name, text)
    engine.add_data(data)
    try:
        return engine.eval_rule(SHARES_ENTRYPOINT), []
    except Exception as exc:  # regorus raises RuntimeError with the evaluation message
        return None, [f"{SHARES_ENTRYPOINT} cannot be evaluated over the data: {engine_message(exc)}"]


def content_hash(policies_dir: Path) -> str:
    """A cheap fingerprint of the files a bundle is made of, to notice a change without loading it."""
    digest = hashlib.sha256()
    root = Path(policies_dir)
    for p in sorted([*root.rglob("*.rego"), *(root / DATA_DIR).glob("*.json")]):
        digest.update(p.relative_to(root).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    return digest.hexdigest()


def _parse_problems(rego: dict[str, str]) -> list[str]:
    problems = []
    for name, text in rego.items():
        try:
            regorus.Engine().add_policy(name, text)
        except Exception as exc:  # regorus raises a plain RuntimeError carrying the parse message
            problems.append(f"{name}: Rego parse error: {engine_message(exc)}")
    return problems


def engine_message(exc: Exception) -> str:
    """regorus's message without the Rust stack backtrace it appends."""
    return str(exc).split("Stack backtrace:")[0].strip()


def _package_problems(rego: dict[str, str]) -> list[str]:
    """The package must match the folder (policies/eahub/sharing/x.rego -> package eahub.sharing[_test])."""
    problems = []
    for name, text in rego.items():
        folder = ".".join(Path(name).parent.parts)
        expected = folder + "_test" if name.endswith("_test.rego") else folder
        declared = next((ln.split()[1] for ln in text.splitlines() if ln.startswith("package ")), None)
        if declared != expected:
            problems.append(
                f"{name}: package {declared} does not match its folder (expected package {expected})"
            )
    return problems


def _load_data(data_dir: Path) -> tuple[dict[str, Any] | None, list[str], dict[str, str]]:
    problems: list[str] = []
    parsed: dict[str, Any] = {}
    raw_files: dict[str, str] = {}
    present = {p.name: p for p in sorted(data_dir.glob("*.json"))} if data_dir.is_dir() else {}
    for name in present:
        if name not in data_model.FILES:
            problems.append(
                f"{name}: unknown data file (expected one of {', '.join(sorted(data_model.FILES))})"
            )
    for name in data_model.FILES:
        if name not in present:
            problems.append(f"{name}: missing from {data_dir}")
            continue
        raw_files[name] = present[name].read_text()
        try:
            raw = json.loads(raw_files[name])
        except json.JSONDecodeError as exc:
            problems.append(f"{name}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}")
            continue
        model, shape = data_model.shape_problems(name, raw)
        problems += shape
        parsed[name] = model
    if problems:
        return None, problems, raw_files
    agencies, isas, rules = parsed["agencies.json"], parsed["isas.json"], parsed["rules.json"]
    problems = data_model.cross_problems(agencies, isas, rules)
    if problems:
        return None, problems, raw_files
    hub = {
        "agencies": {a.id: a.model_dump(mode="json") for a in agencies.agencies},
        "isas": [i.model_dump(mode="json") for i in isas.isas],
        "rules": rules.rules.model_dump(mode="json"),
        "schema": schema_document(),
        "risk_factors": risk_factors.document(),
    }
    return {"hub": hub}, [], raw_files


def schema_document() -> dict[str, Any]:
    """What the policy knows of the ConcernEvent schema: each field path's personal-data kind, the leaf
    paths, the leaves under each path (what an allow-list entry expands to), and the envelope (leaves
    that are non-nullable all the way down, which every recipient shared with receives)."""
    classification = schemas.pii_classification(schemas.CONCERN_EVENT)
    paths = list(classification)
    leaves = [p for p in paths if not any(q.startswith(p + ".") for q in paths)]
    required: set[str] = set()

    def walk(fields: list[dict[str, Any]], prefix: str) -> None:
        for f in fields:
            if "default" in f:
                continue
            path = prefix + f["name"]
            required.add(path)
            record = schemas.record_of(f["type"])
            if record is not None:
                walk(record["fields"], path + ".")

    walk(schemas.load(schemas.CONCERN_EVENT).raw["fields"], "")
    return {
        "fields": classification,
        "leaves": leaves,
        "leaves_of": {p: [leaf for leaf in leaves if leaf == p or leaf.startswith(p + ".")] for p in paths},
        "envelope": [p for p in leaves if p in required],
    }
