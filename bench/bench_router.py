"""Router throughput: raw pass-through against the router's full path, on the same embedded broker,
in one run. Prints events/s of both and their ratio.

  pass-through: consume inbound, produce the same bytes to another topic, commit after acks
  router:       consume inbound, decode, decide (embedded regorus, real policies), project per recipient,
                produce routed cases + audit entries, commit after acks

  processes:    (--processes N) also the router as 1 and as N processes in one consumer group on the same broker
                (the embedded engine is bound to its thread, so a process per core); the inbound topics have
                settings.inbound_partitions partitions each, shared out by the group

  in-process:   (--in-process) the router's own batch handler without a broker: decode, decide, project,
                encode into a publisher that only collects, so policy and encoding costs show without broker noise;
                with --warm every decision is cached beforehand, so what is timed is the path except the engine

Usage: .venv/bin/python bench/bench_router.py [--events 5000] [--batch 500] [--processes 2]
                                              [--in-process [--warm]] [--no-cache]
"""

from __future__ import annotations

import argparse
import faulthandler
import multiprocessing
import os
import signal
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from multiprocessing.process import BaseProcess
from multiprocessing.sharedctypes import Synchronized, SynchronizedArray
from pathlib import Path

from confluent_kafka import Consumer, Message, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from eahub.core import avro_codec, schemas, topics
from eahub.core.broker import EmbeddedBroker, free_port
from eahub.core.event_json import from_json
from eahub.core.kafka import KafkaPublisher, consumer_config, producer_config
from eahub.core.messages import OutboundMessage
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.hub.init import initialise
from eahub.ingest.generator import generate
from eahub.policy.model import PolicyRequest
from eahub.router.bootstrap import build_router

COPY_TOPIC = "bench.copy"
PASS_THROUGH_GROUP = "bench-pass-through"


def feed_start(n: int) -> datetime:
    """Where `n` generated events (about 134 a day, random gaps) start so that none is dated in the future,
    which the router would dead-letter: a quarter more days than the mean, and one."""
    return datetime.now(UTC) - timedelta(days=n / 134 * 1.25 + 1)


def inbound_messages(pseudo: Pseudonymiser, n: int) -> list[Message]:
    """`n` generated events as the inbound messages a router consumes (offsets 0..n-1, partition 0)."""
    msgs = []
    for i, obj in enumerate(generate(count=n, seed=7, start=feed_start(n))):
        record = from_json(obj)
        msgs.append(Message(topic=topics.inbound(record["source_agency"]), partition=0, offset=i,
                            key=pseudo.subject_ref(record).encode(),
                            value=avro_codec.encode(schemas.CONCERN_EVENT, record)))
    return msgs


def load_inbound(settings: HubSettings, n: int) -> None:
    pseudo = Pseudonymiser.from_data_dir(settings.data_dir)
    start = feed_start(n)
    msgs = []
    for obj in generate(count=n, seed=7, start=start):
        record = from_json(obj)
        msgs.append(OutboundMessage(topics.inbound(record["source_agency"]), pseudo.subject_ref(record).encode(),
                                    avro_codec.encode(schemas.CONCERN_EVENT, record)))
    publisher = KafkaPublisher(producer_config(settings))
    for i in range(0, len(msgs), 1000):
        publisher.publish(msgs[i:i + 1000])
    publisher.close()


def create_copy_topic(settings: HubSettings) -> None:
    """The pass-through's output topic: clients never auto-create topics (see core.topic_guard)."""
    admin = AdminClient(settings.kafka_config())
    for future in admin.create_topics([NewTopic(COPY_TOPIC, num_partitions=settings.inbound_partitions)]).values():
        future.result(timeout=15)


def pass_through(settings: HubSettings, n: int, batch: int) -> float:
    consumer = Consumer(consumer_config(settings, PASS_THROUGH_GROUP))
    consumer.subscribe([topics.INBOUND_PATTERN])
    publisher = KafkaPublisher(producer_config(settings))
    done, started = 0, None
    while done < n:
        msgs = [m for m in consumer.consume(batch, timeout=1.0) if m.error() is None]
        if not msgs:
            continue
        started = started or time.perf_counter()
        publisher.publish([OutboundMessage(COPY_TOPIC, m.key(), m.value(), m.headers() or []) for m in msgs])
        last: dict[tuple[str, int], int] = {}
        for m in msgs:
            last[(m.topic(), m.partition())] = m.offset()
        consumer.commit(offsets=[TopicPartition(t, p, o + 1) for (t, p), o in last.items()], asynchronous=False)
        done += len(msgs)
    elapsed = time.perf_counter() - (started or time.perf_counter())
    consumer.close()
    publisher.close()
    return done / elapsed


def full_router(settings: HubSettings, n: int, batch: int, cache: bool = True) -> tuple[float, str]:
    router = build_router(settings, group_id="bench-router")
    router.batch_size = batch
    if not cache:
        router.engine = router.engine.inner  # type: ignore[attr-defined]
    stop = threading.Event()
    started = None
    while router.stats.events + router.stats.dead_letters < n:
        msgs = router.consumer.consume(batch, timeout=1.0)
        if msgs:
            started = started or time.perf_counter()
            router.process_batch(msgs, stop)
    elapsed = time.perf_counter() - (started or time.perf_counter())
    cache = getattr(router.engine, "hit_ratio", None)
    router.close()
    extra = f"shares {router.stats.shares}, refusals {router.stats.refusals}"
    if cache is not None:
        extra += f", decision cache hit ratio {cache() if callable(cache) else cache:.2f}"
    return router.stats.events / elapsed, extra


def router_processes(settings: HubSettings, n: int, batch: int, processes: int, cache: bool) -> tuple[float, str]:
    """`processes` routers in one consumer group. Each compiles its policies, then holds its partitions paused
    until every partition is assigned and every process has some, so none starts alone before the group has
    settled; timed from then until the group has handled `n` events."""
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter each: no forked librdkafka or engine state
    handled, assigned, go = ctx.Value("i", 0), ctx.Array("i", processes), ctx.Event()
    admin = AdminClient(settings.kafka_config())
    total = sum(len(t.partitions) for name, t in admin.list_topics(timeout=10).topics.items()
                if topics.agency_of_inbound(name) is not None)
    group = f"bench-router-{processes}"
    workers = [ctx.Process(target=_router_process, args=(settings, group, batch, cache, i, n, handled, assigned, go))
               for i in range(processes)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 120
    while not (all(a > 0 for a in assigned) and sum(assigned) == total):
        if not all(w.is_alive() for w in workers) or time.monotonic() > deadline:
            for w in workers:
                w.terminate()
            raise RuntimeError(f"the group did not settle: {list(assigned)} of {total} partitions assigned")
        time.sleep(0.05)
    started = time.perf_counter()
    go.set()
    seen, progressed = 0, time.monotonic()
    while handled.value < n:
        if handled.value != seen:
            seen, progressed = handled.value, time.monotonic()
        elif time.monotonic() - progressed > 60 or not all(w.is_alive() for w in workers):
            if handled.value >= n:
                break
            raise _stalled(settings, group, workers, f"{seen} of {n} events handled, assigned {list(assigned)}")
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    for w in workers:
        w.join(timeout=60)
    return n / elapsed, f"{processes} processes, group {group}, {total} inbound partitions"


def _stalled(settings: HubSettings, group: str, workers: list[BaseProcess], progress: str) -> RuntimeError:
    """Say why the group stopped before it handled every event: which router processes had exited (and how), where
    each live one was (its threads' stacks, printed by the process on SIGUSR1), and the partitions the group's
    commits had not yet reached (their ends taken from the pass-through's commits: it read every event)."""
    exited = [f"pid {w.pid} exited with code {w.exitcode}" for w in workers if not w.is_alive()]
    for w in workers:
        if w.is_alive() and w.pid is not None:
            os.kill(w.pid, signal.SIGUSR1)
    time.sleep(1)
    for w in workers:
        w.terminate()
    admin = AdminClient(settings.kafka_config())
    partitions = [TopicPartition(name, p) for name, t in admin.list_topics(timeout=10).topics.items()
                  if topics.agency_of_inbound(name) is not None for p in t.partitions]
    at, ends = _committed(settings, group, partitions), _committed(settings, PASS_THROUGH_GROUP, partitions)
    behind = [f"{t}[{p}] at {max(at[(t, p)], 0)} of {end}" for (t, p), end in sorted(ends.items()) if at[(t, p)] < end]
    return RuntimeError(f"the group stopped: {progress}; {'; '.join(exited) or 'no process exited'}; "
                        f"partitions not yet committed to their end: {', '.join(behind) or 'none'}")


def _committed(settings: HubSettings, group: str, partitions: list[TopicPartition]) -> dict[tuple[str, int], int]:
    reader = Consumer(consumer_config(settings, group))  # asks the group's commits, never joins it
    try:
        return {(tp.topic, tp.partition): tp.offset for tp in reader.committed(partitions, timeout=10)}
    finally:
        reader.close()


def _router_process(settings: HubSettings, group: str, batch: int, cache: bool, index: int, n: int,
                    handled: Synchronized, assigned: SynchronizedArray, go: threading.Event) -> None:
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # where it is, if the group stops (see _stalled)
    router = build_router(settings, group_id=group)
    router.batch_size = batch
    if not cache:
        router.engine = router.engine.inner  # type: ignore[attr-defined]
    consumer = router.consumer
    sample = from_json(next(iter(generate(count=1, seed=99, start=datetime.now(UTC) - timedelta(days=1)))))
    getattr(router.engine, "inner", router.engine).decide([PolicyRequest(event=sample, today=date.today())])  # compile

    def on_assign(c: Consumer, partitions: list[TopicPartition]) -> None:
        if go.is_set():
            c.resume(partitions)  # librdkafka may keep a partition's pause across a rebalance
        else:
            c.pause(partitions)
        assigned[index] = len(partitions)

    def on_revoke(c: Consumer, partitions: list[TopicPartition]) -> None:
        assigned[index] = 0

    consumer.subscribe([topics.INBOUND_PATTERN], on_assign=on_assign, on_revoke=on_revoke)
    while not go.is_set():
        consumer.poll(0.05)  # serves the group's rebalances; paused partitions deliver nothing
    consumer.resume(consumer.assignment())
    stop = threading.Event()
    while handled.value < n:
        msgs = consumer.consume(batch, timeout=0.2)
        if msgs:
            before = router.stats.events + router.stats.dead_letters
            router.process_batch(msgs, stop)
            with handled.get_lock():
                handled.value += router.stats.events + router.stats.dead_letters - before
    router.close()


class CollectingPublisher:
    """Stands in for Kafka in the in-process mode: keeps the encoded outputs, acknowledges at once."""

    def __init__(self) -> None:
        self.messages = 0

    def publish(self, messages: list[OutboundMessage]) -> None:
        self.messages += len(messages)

    def close(self) -> None:
        pass


def in_process(settings: HubSettings, n: int, batch: int, cache: bool, warm: bool = False) -> tuple[float, str]:
    from eahub.policy.bootstrap import build_engine
    from eahub.router.service import Router

    pseudo = Pseudonymiser.from_data_dir(settings.data_dir)
    msgs = inbound_messages(pseudo, n)
    engine = build_engine(settings)
    publisher = CollectingPublisher()
    router = Router(consumer=None, publisher=publisher, engine=engine if cache else engine.inner,  # type: ignore[arg-type]
                    pseudonymiser=pseudo)
    stop = threading.Event()
    for i in range(0, n if warm else batch, batch):  # the engine's first evaluation compiles the policies
        router.handle_batch(msgs[i:i + batch], stop)
    router.stats.events = publisher.messages = 0
    start_t, start_cpu = time.perf_counter(), time.process_time()
    for i in range(0, n, batch):
        router.handle_batch(msgs[i:i + batch], stop)
    elapsed, cpu = time.perf_counter() - start_t, time.process_time() - start_cpu
    # events per CPU second too: on a shared machine it moves less with the other processes than wall time
    extra = (f"{router.stats.events / cpu:.0f} events per CPU s, "
             f"{publisher.messages / max(1, router.stats.events):.1f} output messages per event")
    if cache:
        extra += f", decision cache hit ratio {engine.hit_ratio:.2f}"
    return router.stats.events / elapsed, extra


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--in-process", action="store_true", help="no broker: decode, decide, project, encode")
    parser.add_argument("--no-cache", action="store_true", help="every event decided by the engine")
    parser.add_argument("--warm", action="store_true", help="in process: every decision cached before the timing")
    parser.add_argument("--processes", type=int, default=0, help="also the router as N processes in one group")
    args = parser.parse_args()
    if args.in_process:
        with tempfile.TemporaryDirectory() as tmp:
            rate, extra = in_process(HubSettings(data_dir=Path(tmp)), args.events, args.batch, not args.no_cache,
                                     args.warm)
        print(f"events: {args.events}, batch: {args.batch}, in process (no broker), "
              f"cache {'off' if args.no_cache else 'warm' if args.warm else 'on'}")
        print(f"router (decode, decide, project, encode): {rate:10.0f} events/s   ({extra})")
        return
    with tempfile.TemporaryDirectory() as tmp, EmbeddedBroker(free_port(), log_path=Path(tmp) / "b.log") as b:
        settings = HubSettings(data_dir=Path(tmp), broker_port=b.port)
        initialise(settings)  # as `eahub init`: the router's event id memory lives in the hub database
        topics.create_topics(settings, agency_ids(settings.policies_dir))
        create_copy_topic(settings)
        load_inbound(settings, args.events)
        raw = pass_through(settings, args.events, args.batch)
        routed, extra = full_router(settings, args.events, args.batch, not args.no_cache)
        scaled = [router_processes(settings, args.events, args.batch, p, not args.no_cache)
                  for p in ((1, args.processes) if args.processes else ())]
    print(f"events: {args.events}, batch: {args.batch}, broker: embedded Tansu 0.6.0 (memory)")
    print(f"pass-through : {raw:10.0f} events/s")
    print(f"router       : {routed:10.0f} events/s   ({extra})")
    print(f"ratio router/pass-through: {routed / raw:.3f}")
    if scaled:  # as processes, each with its policies compiled before the timing
        (one, _), (many, how) = scaled
        print(f"router x1    : {one:10.0f} events/s   (1 process)")
        print(f"router x{args.processes}    : {many:10.0f} events/s   ({how})")
        print(f"ratio router x{args.processes}/pass-through: {many / raw:.3f}, x{args.processes}/x1: {many / one:.2f}")


if __name__ == "__main__":
    main()
