"""Avro single-object encoding: 0xC3 0x01, the 8-byte little-endian CRC-64-AVRO fingerprint of the
writer schema, then the Avro binary body. Every message on every hub topic is encoded this way."""

from __future__ import annotations

import io
from functools import cache
from typing import Any, cast

from fastavro import schemaless_reader, schemaless_writer
from fastavro.validation import ValidationError, validate

from eahub.core import schemas
from eahub.core.avro_writer import NotCompilable, Writer, compile_writer

MAGIC = b"\xc3\x01"
HEADER_LEN = 10


class UndecodableMessage(ValueError):
    """The bytes are not a single-object-encoded record of a known schema."""


class SchemaInvalid(ValueError):
    """The record does not conform to its Avro schema."""


def encode(schema_name: str, record: dict[str, Any], *, check: bool = True) -> bytes:
    """The record, single-object encoded. `check=True` (the default, for anything from outside the hub)
    validates it against the schema first. `check=False` is for records the hub built itself from
    already-valid data (the router's cases, a decoded record re-encoded): the writer alone still refuses a
    value it cannot write, and that refusal is then explained as SchemaInvalid, exactly as with the check."""
    schema = schemas.load(schema_name)
    if check:
        _check(record, schema)
    try:
        return MAGIC + schema.fingerprint + _write(schema_name)(record)
    except Exception:  # the writers raise several types on a value they cannot write
        if check:
            raise
        _check(record, schema)
        raise


@cache
def _write(schema_name: str) -> Writer:
    """The schema's compiled writer (several times faster than fastavro's), or fastavro's for a schema it does not
    compile; both write the same bytes."""
    parsed = schemas.load(schema_name).parsed
    try:
        return compile_writer(parsed)
    except NotCompilable:
        def with_fastavro(record: dict[str, Any]) -> bytes:
            buf = io.BytesIO()
            schemaless_writer(buf, parsed, record)
            return buf.getvalue()
        return with_fastavro


def _check(record: dict[str, Any], schema: schemas.Schema) -> None:
    # The boolean check is about 4x cheaper than collecting errors; errors are only collected to explain.
    if not validate(record, schema.parsed, raise_errors=False):
        try:
            validate(record, schema.parsed, raise_errors=True)
        except ValidationError as exc:
            raise SchemaInvalid(_describe(exc)) from None


def decode(data: bytes | None, expected: str | None = None) -> tuple[str, dict[str, Any]]:
    """Return (schema name, record). Raises UndecodableMessage on anything else."""
    if data is None or len(data) < HEADER_LEN or data[:2] != MAGIC:
        raise UndecodableMessage("not Avro single-object encoded (missing 0xC3 0x01 marker)")
    schema = _by_fingerprint().get(bytes(data[2:HEADER_LEN]))
    if schema is None:
        raise UndecodableMessage(f"unknown writer schema fingerprint {bytes(data[2:HEADER_LEN]).hex()}")
    if expected is not None and schema.name != expected:
        raise UndecodableMessage(f"expected {expected}, got {schema.name}")
    buf = io.BytesIO(data)
    buf.seek(HEADER_LEN)
    try:
        record = cast(dict[str, Any], schemaless_reader(buf, schema.parsed, None))
    except Exception as exc:  # fastavro raises several types on truncated or corrupt bodies
        raise UndecodableMessage(f"corrupt Avro body for {schema.name}: {type(exc).__name__}") from None
    if buf.tell() != len(data):
        raise UndecodableMessage(f"{len(data) - buf.tell()} trailing bytes after the {schema.name} body")
    return schema.name, record


_FINGERPRINTS: dict[bytes, schemas.Schema] = {}


def _by_fingerprint() -> dict[bytes, schemas.Schema]:
    if not _FINGERPRINTS:
        _FINGERPRINTS.update({s.fingerprint: s for s in schemas.all_schemas()})
    return _FINGERPRINTS


def _describe(exc: ValidationError) -> str:
    # fastavro reports e.g. "eahub.ConcernEvent.subject.nhs_number is <value> of type ..." - drop values.
    parts = []
    for err in exc.args[0] if exc.args and isinstance(exc.args[0], list) else [str(exc)]:
        text = str(err)
        field = text.split(" is ", 1)[0]
        parts.append(f"{field} does not match its schema type")
    return "; ".join(parts)
