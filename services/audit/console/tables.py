"""The console's own tables in the audit database, beside the ledger: review notes (free text an IG officer
writes; kept here, erasable, and bound to the ledger only by its SHA-256 in the review's ACTION entry, because
the append-only ledger must never hold personal data) and the results of the scheduled verification."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Engine, Integer, MetaData, String, Table, Text

metadata = MetaData()

review_notes = Table(
    "ig_review_notes", metadata,
    Column("review_entry_id", String(80), primary_key=True),
    Column("item_id", String(80), nullable=False, index=True),
    Column("subject_ref", String(80), index=True),
    Column("login", String(200), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("note", Text, nullable=False),
)

verifications = Table(
    "ig_verifications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("trigger", String(20), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("entries", BigInteger, nullable=False),
    Column("heads", Integer, nullable=False),
    Column("first_bad_seq", BigInteger),
    Column("summary", Text, nullable=False),
)


def create_console_tables(engine: Engine) -> None:
    """DDL of the console's tables (idempotent), for `init_console`."""
    metadata.create_all(engine)
