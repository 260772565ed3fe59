"""The audit service's composition root: settings in, wired parts out (for the service and the CLI)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from eahub.audit.checkpoints import Checkpointer
from eahub.audit.service import SUBSCRIPTION, AuditService
from eahub.audit.settings import AuditSettings
from eahub.audit.signing import Signer
from eahub.audit.sql_store import SqlLedgerStore
from eahub.audit.vault import Vault
from eahub.core.database import make_engine
from eahub.core.kafka import KafkaPublisher, consumer_config, producer_config
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


def open_audit(settings: HubSettings, audit_settings: AuditSettings | None = None) -> AuditParts:
    """The ledger, vault and signing key of this hub (created on first use)."""
    audit_settings = audit_settings or AuditSettings()
    engine = make_engine(settings.ledger_url)
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
    from confluent_kafka import Consumer

    parts = open_audit(settings, audit_settings)
    consumer = Consumer(consumer_config(settings, group_id, **{"topic.metadata.refresh.interval.ms": 5000}))
    consumer.subscribe(SUBSCRIPTION)
    return AuditService(
        consumer=consumer,
        publisher=KafkaPublisher(producer_config(settings)),
        store=parts.store,
        vault=parts.vault,
        checkpointer=parts.checkpointer,
        settings=parts.settings,
    )
