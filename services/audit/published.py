"""Reading the tree heads the audit service published to eahub.audit.checkpoints: the copies kept
outside the database, against which `eahub audit verify --published` checks the ledger."""

from __future__ import annotations

import json
from pathlib import Path

from confluent_kafka import KafkaError, TopicPartition

from eahub.audit.signing import TreeHead
from eahub.core import avro_codec, schemas, topics
from eahub.core.kafka import reader
from eahub.core.settings import HubSettings


def head_from_record(record: dict) -> TreeHead:
    return TreeHead.from_json({**record, "timestamp_ms": int(record["timestamp"].timestamp() * 1000)})


def read_published_heads(settings: HubSettings, timeout_s: float = 10.0) -> list[TreeHead]:
    """Every SignedTreeHead on the checkpoints topic, read from the beginning without a consumer group."""
    consumer = reader(settings, "audit-verify", **{"enable.partition.eof": True})
    try:
        meta = consumer.list_topics(topics.AUDIT_CHECKPOINTS, timeout=timeout_s).topics[topics.AUDIT_CHECKPOINTS]
        partitions = list(meta.partitions)
        consumer.assign([TopicPartition(topics.AUDIT_CHECKPOINTS, p, 0) for p in partitions])
        done: set[int] = set()
        heads: list[TreeHead] = []
        while len(done) < len(partitions):
            msg = consumer.poll(timeout_s)
            if msg is None:
                raise TimeoutError(f"no answer from {topics.AUDIT_CHECKPOINTS} within {timeout_s}s")
            err = msg.error()
            if err is not None:
                if err.code() == KafkaError._PARTITION_EOF:
                    done.add(msg.partition() or 0)
                    continue
                raise RuntimeError(f"reading {topics.AUDIT_CHECKPOINTS}: {err.str()}")
            try:
                heads.append(head_from_record(avro_codec.decode(msg.value(), expected=schemas.SIGNED_TREE_HEAD)[1]))
            except avro_codec.UndecodableMessage:
                continue  # not a tree head: proves nothing
        return heads
    finally:
        consumer.close()


def read_heads_file(path: Path) -> list[TreeHead]:
    """Tree heads kept by someone else: a JSON array, or JSON lines, of {tree_size, root_hash, ...}."""
    text = path.read_text().strip()
    docs = json.loads(text) if text.startswith("[") else [json.loads(line) for line in text.splitlines() if line]
    return [TreeHead.from_json(d) for d in docs]
