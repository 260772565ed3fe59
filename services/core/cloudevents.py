"""CloudEvents Kafka protocol binding (binary mode): attributes as `ce_*` headers."""

from __future__ import annotations

from datetime import UTC, datetime

SPEC_VERSION = "1.0"
_SPEC_VERSION_HEADER = ("ce_specversion", SPEC_VERSION.encode())


def headers(*, ce_id: str, source: str, ce_type: str, subject: str | None, time: datetime | None = None,
            content_type: str = "application/avro") -> list[tuple[str, bytes]]:
    out = [
        _SPEC_VERSION_HEADER,
        ("ce_id", ce_id.encode()),
        ("ce_source", source.encode()),
        ("ce_type", ce_type.encode()),
        ("ce_time", (time or datetime.now(UTC)).isoformat().encode()),
        ("content-type", content_type.encode()),
    ]
    if subject:
        out.append(("ce_subject", subject.encode()))
    return out


def as_dict(kafka_headers: list[tuple[str, bytes | None]] | None) -> dict[str, str]:
    return {k: (v or b"").decode(errors="replace") for k, v in (kafka_headers or [])}
