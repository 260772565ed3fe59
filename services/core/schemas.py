"""The Avro schemas of `schemas/`, parsed once, with their fingerprints and personal-data properties.

Each file is named `<namespace>.<Name>.avsc`; records may refer to each other's named types
(the routed case embeds `eahub.ConcernEvent`), which fastavro resolves from the same folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

from fastavro.schema import fingerprint, load_schema, to_parsing_canonical_form

from eahub.core import risk_factors
from eahub.core.paths import SCHEMAS_DIR

CONCERN_EVENT = "eahub.ConcernEvent"
ROUTED_CASE = "eahub.RoutedCase"
AUDIT_ENTRY = "eahub.AuditEntry"
AUDIT_ENTRIES = "eahub.AuditEntries"  # several AuditEntry records in one message (the router's, per event)
DEAD_LETTER = "eahub.DeadLetter"
SIGNED_TREE_HEAD = "eahub.SignedTreeHead"
BOARD_ACTIVITY = "eahub.BoardActivity"
ERASURE_REQUEST = "eahub.ErasureRequest"

PII_PROPERTY = "eahub.pii"
PII_KINDS = ("direct-identifier", "special-category", "protected-identity", "none")
VOCABULARY_PROPERTY = "eahub.vocabulary"  # the field's elements are codes of a vocabulary, classified by kind


@dataclass(frozen=True)
class Schema:
    name: str
    parsed: dict[str, Any]
    canonical_form: str
    fingerprint: bytes  # 8 bytes, little-endian CRC-64-AVRO, as in the single-object header
    raw: dict[str, Any] = field(repr=False)


@cache
def load(name: str, schemas_dir: Path = SCHEMAS_DIR) -> Schema:
    path = schemas_dir / f"{name}.avsc"
    # With the write hint fastavro marks the result as parsed, so the writer, reader and validator use it
    # as it is instead of parsing the schema again on every call (17% of the router's time without it).
    parsed = cast(dict[str, Any], load_schema(str(path), _write_hint=True))
    pcf = to_parsing_canonical_form(parsed)
    return Schema(
        name=name,
        parsed=parsed,
        canonical_form=pcf,
        fingerprint=bytes.fromhex(fingerprint(pcf, "CRC-64-AVRO")),
        raw=json.loads(path.read_text()),
    )


def all_schemas(schemas_dir: Path = SCHEMAS_DIR) -> list[Schema]:
    return [load(p.name.removesuffix(".avsc"), schemas_dir) for p in sorted(schemas_dir.glob("*.avsc"))]


def pii_classification(name: str = CONCERN_EVENT) -> dict[str, str]:
    """Field path -> personal-data kind, for every top-level field and every field of a nested record.

    Nested paths are dotted (`subject.nhs_number`); a nested field without its own property
    inherits its parent's kind. A field of coded elements (`eahub.vocabulary`, e.g. risk_factors) has one
    sub-path per code kind (`risk_factors.general`, `risk_factors.health`) with that kind's own class.
    """
    out: dict[str, str] = {}

    def walk(fields: list[dict[str, Any]], prefix: str, inherited: str | None) -> None:
        for f in fields:
            kind = f.get(PII_PROPERTY, inherited)
            path = prefix + f["name"]
            if kind is None:
                raise ValueError(f"schema {name}: field {path} has no {PII_PROPERTY} property")
            out[path] = kind
            if f.get(VOCABULARY_PROPERTY) == risk_factors.FIELD:
                out.update({f"{path}.{k}": v for k, v in risk_factors.KINDS.items()})
            record = record_of(f["type"])
            if record is not None:
                walk(record["fields"], path + ".", kind)

    walk(load(name).raw["fields"], "", None)
    return out


def field_paths(name: str = CONCERN_EVENT) -> list[str]:
    """Every projectable field path of a record schema, in schema order."""
    return list(pii_classification(name))


def enum_symbols(type_name: str, name: str = CONCERN_EVENT) -> list[str]:
    """The symbols of the enum named `type_name` (e.g. "Category") within a record schema, in order."""

    def walk(node: Any) -> list[str] | None:
        if isinstance(node, dict):
            if node.get("type") == "enum" and node.get("name") == type_name:
                return list(node["symbols"])
            children: list[Any] = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            return None
        for child in children:
            found = walk(child)
            if found is not None:
                return found
        return None

    symbols = walk(load(name).raw)
    if symbols is None:
        raise KeyError(f"schema {name} has no enum {type_name}")
    return symbols


def record_of(avro_type: Any) -> dict[str, Any] | None:
    if isinstance(avro_type, dict) and avro_type.get("type") == "record":
        return avro_type
    if isinstance(avro_type, list):
        for branch in avro_type:
            found = record_of(branch)
            if found is not None:
                return found
    return None
