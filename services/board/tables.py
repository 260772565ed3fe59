"""The board's tables (SQLAlchemy Core). Times are epoch milliseconds; personal content is only ever
stored sealed (AES-256-GCM under the subject's key, see crypto.py). The keys live in a separate
database (`keys_metadata`) so that a backup of the board database never holds them.

DDL runs only in `init_board_db` / `init_keys_db`."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Engine,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    text,
)

metadata = MetaData()
keys_metadata = MetaData()

cases = Table(
    "board_cases", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("agency", String(128), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("subject_ref", String(128)),
    Column("source_agency", String(128), nullable=False),
    Column("source_reference", String(128)),
    Column("category", String(64), nullable=False),
    Column("grade", String(16), nullable=False),
    Column("district", String(128), nullable=False),
    Column("security_marking", String(32), nullable=False),
    Column("decision_id", String(64), nullable=False),
    Column("policy_revision", String(128), nullable=False),
    Column("isa_id", String(128), nullable=False),
    Column("isa_version", String(64), nullable=False),
    Column("lawful_basis", Text, nullable=False),
    Column("purpose", Text, nullable=False),
    Column("shared_fields", Text, nullable=False),
    Column("withheld_fields", Text, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("override", Boolean, nullable=False, default=False),
    Column("reported_at_ms", BigInteger, nullable=False),
    Column("due_by_ms", BigInteger, nullable=False),
    Column("routed_at_ms", BigInteger, nullable=False),
    Column("stored_at_ms", BigInteger, nullable=False),
    Column("state", String(32), nullable=False),
    Column("owner_user_id", String(128)),
    Column("version", Integer, nullable=False, default=1),
    Column("acknowledged_at_ms", BigInteger),
    Column("closed_at_ms", BigInteger),
    Column("outcome", String(64)),
    Column("key_id", String(64)),
    Column("sealed_concern", LargeBinary),
    Column("erased_at_ms", BigInteger),
    Index("ix_board_cases_queue", "agency", "state", "due_by_ms"),
    Index("ix_board_cases_subject", "agency", "subject_ref"),
    Index("ix_board_cases_event", "event_id"),
)

case_links = Table(
    "board_case_links", metadata,
    Column("case_id", String(64), primary_key=True),
    Column("linked_case_id", String(64), primary_key=True),
    Column("agency", String(128), nullable=False),
    Column("linked_at_ms", BigInteger, nullable=False),
)

history = Table(
    "board_history", metadata,
    Column("history_id", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("agency", String(128), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("actor_user_id", String(128), nullable=False),
    Column("kind", String(32), nullable=False),  # transition | note | action | visit | review | timer | store
    Column("command", String(64)),
    Column("from_state", String(32)),
    Column("to_state", String(32)),
    Column("detail", Text, nullable=False, default="{}"),  # non-personal JSON
    Column("case_version", Integer, nullable=False, default=0),  # orders entries of the same millisecond
    Index("ix_board_history_case", "case_id", "at_ms"),
)

notes = Table(
    "board_notes", metadata,
    Column("note_id", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("agency", String(128), nullable=False),
    Column("author_user_id", String(128), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("kind", String(32), nullable=False, default="note"),  # note | plan | review | reason | outcome
    Column("significant", Boolean, nullable=False, default=False),
    Column("corrects_note_id", String(64)),
    Column("key_id", String(64)),
    Column("sealed_text", LargeBinary),
    Index("ix_board_notes_case", "case_id", "at_ms"),
)

actions = Table(
    "board_actions", metadata,
    Column("action_id", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("agency", String(128), nullable=False),
    Column("owner_user_id", String(128), nullable=False),
    Column("due_ms", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("key_id", String(64)),
    Column("sealed_text", LargeBinary),
    Index("ix_board_actions_case", "case_id"),
)

visits = Table(
    "board_visits", metadata,
    Column("visit_id", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("agency", String(128), nullable=False),
    Column("status", String(16), nullable=False),  # planned | visited
    Column("at_ms", BigInteger, nullable=False),
    Column("agencies", Text, nullable=False),
    Column("joint", Boolean, nullable=False, default=False),
    Column("key_id", String(64)),
    Column("sealed_notes", LargeBinary),
    Index("ix_board_visits_case", "case_id"),
)

ACTIVE_TIMER_STATES = ("ACTIVE", "WARNED", "BREACHED")

timers = Table(
    "board_timers", metadata,
    Column("timer_id", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("agency", String(128), nullable=False),
    Column("kind", String(16), nullable=False),  # ACK | VISIT | REVIEW_W2 | REVIEW_W4 | CLOSURE
    Column("start_at_ms", BigInteger, nullable=False),
    Column("warn_at_ms", BigInteger, nullable=False),
    Column("due_at_ms", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),  # ACTIVE | WARNED | BREACHED | DONE | CANCELLED
    Column("escalation_level", Integer, nullable=False, default=0),
    Column("next_fire_at_ms", BigInteger),
    Column("updated_at_ms", BigInteger, nullable=False),
    Index("ix_board_timers_case", "case_id"),
    Index("ix_board_timers_due", "next_fire_at_ms",
          sqlite_where=text("state IN ('ACTIVE','WARNED','BREACHED')"),
          postgresql_where=text("state IN ('ACTIVE','WARNED','BREACHED')")),
)

notifications = Table(
    "board_notifications", metadata,
    Column("message_id", String(64), primary_key=True),
    Column("agency", String(128), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("email", String(320)),
    Column("case_id", String(64)),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at_ms", BigInteger),
    Column("sent_at_ms", BigInteger),
    Column("last_error", Text),
    Index("ix_board_notifications_user", "agency", "user_id", "created_at_ms"),
    Index("ix_board_notifications_due", "next_attempt_at_ms"),
)

activity_outbox = Table(
    "board_activity_outbox", metadata,
    Column("activity_id", String(64), primary_key=True),
    Column("record", Text, nullable=False),  # the BoardActivity record as JSON (non-personal)
    Column("created_at_ms", BigInteger, nullable=False),
    Column("published_at_ms", BigInteger),
    Index("ix_board_activity_outbox_pending", "published_at_ms", "created_at_ms"),
)

access_log = Table(
    "board_access_log", metadata,
    Column("access_id", String(64), primary_key=True),
    Column("case_id", String(64), nullable=False),
    Column("agency", String(128), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("relationship", String(32), nullable=False),
    Column("part", String(32), nullable=False),
    Index("ix_board_access_case", "case_id", "at_ms"),
)

feedback = Table(
    "board_feedback", metadata,
    Column("feedback_id", String(64), primary_key=True),
    Column("agency", String(128), nullable=False),  # the originating agency, whose board shows it
    Column("case_id", String(64), nullable=False),
    Column("source_reference", String(128)),
    Column("outcome", String(64), nullable=False),
    Column("by_agency", String(128), nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Index("ix_board_feedback_agency", "agency", "at_ms"),
)

keys = Table(
    "board_keys", keys_metadata,
    Column("key_id", String(64), primary_key=True),
    Column("subject", String(128), nullable=False, unique=True),
    Column("wrapped_key", LargeBinary, nullable=False),
    Column("created_at_ms", BigInteger, nullable=False),
)


def init_board_db(engine: Engine) -> None:
    """Create the board's tables (idempotent)."""
    metadata.create_all(engine)


def init_keys_db(engine: Engine) -> None:
    """Create the keys table in the separate keys database (idempotent)."""
    keys_metadata.create_all(engine)
