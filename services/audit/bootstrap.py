"""The audit service's composition root: settings in, wired parts out (for the service and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from eahub.audit.checkpoints import Checkpointer
from eahub.audit.service import SUBSCRIPTION, AuditService
from eahub.audit.settings import AuditSettings
from eahub.audit.signing import Signer
from eahub.audit.sql_store import SqlLedgerStore
from eahub.audit.tables import ensure_schema, require_schema
from eahub.audit.vault import Vault
from eahub.core.database import make_engine
from eahub.core.kafka import KafkaPublisher, new_consumer, producer_config
from eahub.core.settings import HubSettings

GROUP_ID = "eahub-audit"


@dataclass
class AuditParts:
    engine: Engine
    store: SqlLedgerStore
    vault: Vault
    signer: Signer
    checkpointer: Checkpointer
    settings: AuditSettings


def init_audit(settings: HubSettings) -> None:
    """Create the audit tables and their append-only triggers (idempotent): the owner's one-time step."""
    from eahub.audit.console.init import init_console  # the IG console's tables live in the audit DB too

    engine = make_engine(settings.ledger_url)
    try:
        ensure_schema(engine)
    finally:
        engine.dispose()
    init_console(settings)


def open_ledger(settings: HubSettings) -> SqlLedgerStore:
    """The ledger alone, for reading (break-glass finds where an event was read); no DDL."""
    engine = make_engine(settings.ledger_url)
    require_schema(engine)
    return SqlLedgerStore(engine)


def open_audit(settings: HubSettings, audit_settings: AuditSettings | None = None) -> AuditParts:
    """The ledger, vault and signing key of this hub (keys are created on first use; tables never: see
    `init_audit`)."""
    audit_settings = audit_settings or AuditSettings()
    engine = make_engine(settings.ledger_url)
    require_schema(engine)
    store = SqlLedgerStore(engine)
    signer = Signer.from_data_dir(settings.data_dir)
    return AuditParts(
        engine,
        store,
        Vault.from_data_dir(engine, settings.data_dir, audit_settings),
        signer,
        Checkpointer(store, signer),
        audit_settings,
    )


def build_audit_service(
    settings: HubSettings, audit_settings: AuditSettings | None = None, group_id: str = GROUP_ID
) -> AuditService:
    parts = open_audit(settings, audit_settings)
    return AuditService(
        consumer=new_consumer(settings, group_id, SUBSCRIPTION, **{"topic.metadata.refresh.interval.ms": 5000}),
        publisher=KafkaPublisher(producer_config(settings)),
        store=parts.store,
        vault=parts.vault,
        checkpointer=parts.checkpointer,
        settings=parts.settings,
    )
