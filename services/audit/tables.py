"""The audit database: the append-only ledger and tree-head tables, and the (mutable) vault tables.

Append-only is enforced by the database itself: triggers reject UPDATE and DELETE (and, in PostgreSQL,
TRUNCATE) on the ledger tables, in SQLite and PostgreSQL alike. In PostgreSQL an operator should also
take the rights away, so that only the tables' owner (a role the services never log in as) could drop
a trigger: create the tables once as the owner (`eahub audit init`), then apply the statements printed
by `eahub audit grants --role <service role>` and run the services as that role. Someone with the
owner's or a superuser's rights can still bypass all of this; `eahub audit verify` is what catches it."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Engine, Index, LargeBinary, MetaData, String, Table, inspect, text

from eahub.core.database import is_postgres

metadata = MetaData()

ledger = Table(
    "audit_ledger",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("entry_id", String(80), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("occurred_at_ms", BigInteger, nullable=False),
    Column("event_id", String(80)),
    Column("subject_ref", String(80)),
    Column("source_agency", String(80)),
    Column("recipient", String(80)),
    Column("isa_id", String(120)),
    Column("case_id", String(80)),
    Column("entry", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Index("ix_audit_ledger_subject", "subject_ref"),
    Index("ix_audit_ledger_event", "event_id"),
    Index("ix_audit_ledger_isa", "isa_id"),
    Index("ix_audit_ledger_kind_time", "kind", "occurred_at_ms"),
    Index("ix_audit_ledger_time", "occurred_at_ms"),
    Index("ix_audit_ledger_pair", "source_agency", "recipient"),
)

tree_heads = Table(
    "audit_tree_heads",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", String(64), nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
)

# Roots of aligned 256-leaf subtrees (merkle.TILE_WIDTH), derived from the leaf hashes by the checkpointer
# so that proofs need not load every leaf. Not evidence: a proof built from them is checked before use.
tree_tiles = Table(
    "audit_tree_tiles",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

vault_keys = Table(
    "audit_vault_keys",
    metadata,
    Column("key_id", String(40), primary_key=True),
    Column("subject_ref", String(80), nullable=False, index=True),
    Column("wrapped_key", LargeBinary),  # NULL once erased: the payloads it sealed are unreadable
    Column("created_at_ms", BigInteger, nullable=False),
    Column("erased_at_ms", BigInteger),
)

vault_payloads = Table(
    "audit_vault_payloads",
    metadata,
    Column("case_id", String(80), primary_key=True),
    Column("subject_ref", String(80), nullable=False, index=True),
    Column("key_id", String(40), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("event_id", String(80), nullable=False),
    Column("recipient", String(80), nullable=False),
    Column("stored_at_ms", BigInteger, nullable=False),
    Column("expires_at_ms", BigInteger, nullable=False, index=True),
    Column("nonce", LargeBinary, nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
)

APPEND_ONLY = (ledger.name, tree_heads.name, tree_tiles.name)
_SCHEMA_LOCK = 0x6561687562_01  # pg advisory lock id for concurrent first runs


def _sqlite_triggers() -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op.lower()} BEFORE {op} ON {t} "
        f"BEGIN SELECT RAISE(ABORT, '{t} is append-only: {op} rejected'); END"
        for t in APPEND_ONLY
        for op in ("UPDATE", "DELETE")
    ]


def _postgres_triggers() -> list[str]:
    stmts = [
        "CREATE OR REPLACE FUNCTION eahub_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only: % rejected', TG_TABLE_NAME, TG_OP "
        "USING ERRCODE = 'insufficient_privilege'; END $$",
    ]
    for t in APPEND_ONLY:
        stmts.append(
            f"CREATE OR REPLACE TRIGGER {t}_no_change BEFORE UPDATE OR DELETE ON {t} "
            "FOR EACH ROW EXECUTE FUNCTION eahub_audit_append_only()"
        )
        stmts.append(
            f"CREATE OR REPLACE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} "
            "FOR EACH STATEMENT EXECUTE FUNCTION eahub_audit_append_only()"
        )
    return stmts


def ensure_schema(engine: Engine) -> None:
    """Create the audit tables and their append-only triggers (idempotent, safe to race)."""
    with engine.begin() as conn:
        if is_postgres(engine):
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
        metadata.create_all(conn)
        for stmt in _postgres_triggers() if is_postgres(engine) else _sqlite_triggers():
            conn.execute(text(stmt))


class LedgerNotInitialised(RuntimeError):
    """The database has no ledger tables: `eahub audit init` (as the tables' owner) creates them."""


def require_schema(engine: Engine) -> None:
    """Check, without DDL, that the audit tables exist (services run as a role that may not create them)."""
    present = set(inspect(engine).get_table_names())
    missing = sorted(t.name for t in metadata.sorted_tables if t.name not in present)
    if missing:
        raise LedgerNotInitialised(
            f"the audit database has no {', '.join(missing)}: run `eahub audit init` (or `eahub up`) first, as the "
            "tables' owner")


def privilege_sql(role: str, tables: list[str]) -> list[str]:
    """PostgreSQL statements that leave `role` able to read and append to the ledger tables, never change them,
    and read and write the database's other tables (the vault, ingest's idempotency records). `tables`: every
    table of the hub database (see `eahub audit grants`, which reads them from the database itself)."""
    if not role.replace("_", "").isalnum():
        raise ValueError("role must be a plain identifier (letters, digits, underscores)")
    ledger_tables = ", ".join(APPEND_ONLY)
    others = ", ".join(sorted(t for t in tables if t not in APPEND_ONLY))
    statements = [
        f"REVOKE ALL ON {', '.join(sorted(set(tables) | set(APPEND_ONLY)))} FROM PUBLIC;",
        f"GRANT USAGE ON SCHEMA public TO {role};",
        f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {ledger_tables} FROM {role};",
        f"GRANT SELECT, INSERT ON {ledger_tables} TO {role};",
    ]
    if others:
        statements.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {others} TO {role};")
    return statements
