"""The router's composition root: settings in, a wired Router out."""

from __future__ import annotations

from eahub.core import topics
from eahub.core.kafka import KafkaPublisher, new_consumer, producer_config
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.settings import HubSettings
from eahub.policy.bootstrap import build_engine
from eahub.router.event_digests import open_event_digests
from eahub.router.outputs import ResponseTimes
from eahub.router.service import Router

GROUP_ID = "eahub-router"


def build_router(settings: HubSettings, group_id: str = GROUP_ID) -> Router:
    return Router(
        consumer=new_consumer(settings, group_id, [topics.INBOUND_PATTERN],
                              **{"topic.metadata.refresh.interval.ms": 5000}),
        publisher=KafkaPublisher(producer_config(settings)),
        engine=build_engine(settings),
        pseudonymiser=Pseudonymiser.from_data_dir(settings.data_dir),
        times=ResponseTimes(settings.grade2_response_minutes, settings.grade3_response_minutes),
        digests=open_event_digests(settings),
    )
