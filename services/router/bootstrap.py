"""The router's composition root: settings in, a wired Router out.

Its consumer can be subscribed apart from the rest (`subscribe`), and this module imports only what that needs:
a composition root that starts several services (`eahub up`, `eahub demo`) subscribes the router first, so that
its group join (about 1 s on the embedded broker) goes on while the rest of the hub is imported and started. The
rest of the router (policy engine, Avro codecs, its database table) is imported by `build_router`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from eahub.core import topics
from eahub.core.kafka import KafkaPublisher, new_consumer, producer_config
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.settings import HubSettings

if TYPE_CHECKING:
    from confluent_kafka import Consumer

    from eahub.router.service import Router

GROUP_ID = "eahub-router"


def subscribe(settings: HubSettings, group_id: str = GROUP_ID) -> Consumer:
    """The router's consumer: a member of `group_id` subscribed to every inbound topic (those created later too)."""
    return new_consumer(settings, group_id, [topics.INBOUND_PATTERN], **{"topic.metadata.refresh.interval.ms": 5000})


def build_router(settings: HubSettings, group_id: str = GROUP_ID, consumer: Consumer | None = None) -> Router:
    """The router; `consumer`: one that `subscribe` returned earlier (else it is subscribed here)."""
    from eahub.policy.bootstrap import build_engine
    from eahub.router.event_digests import open_event_digests
    from eahub.router.outputs import ResponseTimes
    from eahub.router.service import Router

    return Router(
        consumer=consumer if consumer is not None else subscribe(settings, group_id),
        publisher=KafkaPublisher(producer_config(settings)),
        engine=build_engine(settings),
        pseudonymiser=Pseudonymiser.from_data_dir(settings.data_dir),
        times=ResponseTimes(settings.grade2_response_minutes, settings.grade3_response_minutes),
        digests=open_event_digests(settings),
    )
