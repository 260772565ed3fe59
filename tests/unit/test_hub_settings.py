"""HubSettings: partition counts follow the broker unless set."""

from __future__ import annotations

import pytest

from eahub.core.settings import HubSettings

pytestmark = pytest.mark.unit


def test_the_embedded_broker_gets_one_partition_per_inbound_and_board_topic() -> None:
    settings = HubSettings()
    assert (settings.inbound_partitions, settings.board_partitions) == (1, 1)


def test_a_child_process_gets_the_same_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in HubSettings(board_partitions=2).as_environment().items():
        monkeypatch.setenv(name, value)
    child = HubSettings()
    assert (child.inbound_partitions, child.board_partitions) == (1, 2)


def test_an_external_kafka_keeps_four_and_a_set_count_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    external = HubSettings(kafka_bootstrap="kafka:9092")
    assert (external.inbound_partitions, external.board_partitions) == (4, 4)
    monkeypatch.setenv("EAHUB_BOARD_PARTITIONS", "3")
    assert (HubSettings(inbound_partitions=2).inbound_partitions, HubSettings().board_partitions) == (2, 3)
