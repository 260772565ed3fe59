"""The chaos run behind tests/chaos (CI size) and bench/chaos.py (bigger runs): the hub's services as separate
processes on the embedded broker (`eahub broker`, `eahub router`, `eahub audit serve`, `eahub ingest`), events fed
over HTTP and straight to Kafka, poison messages and reused event ids on inbound topics, while router, audit
and ingest are SIGKILLed at random points and restarted and the broker is stopped and started again.

The embedded broker keeps everything in memory, so a restart loses whatever it held: the run restarts it only
between phases, once everything accepted so far was decided and recorded (what a restart in the middle would
lose is the broker's, not the hub's, to keep), and snapshots the board and dead-letter topics before it.
Everything else happens at random points in the middle of the feed.

The report counts, and the test asserts: accepted = decided (0 lost), 0 duplicate ledger entries, 0 cases on a
board without a DISCLOSURE and a matching vault payload (the board's bytes are the vault's), 0 disclosures
without a case, `eahub audit verify` passes, every poison message dead-lettered, every reused id refused.
Duplicates on board topics are allowed (at-least-once) and counted."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from eahub.audit.bootstrap import open_audit
from eahub.audit.store import EntryFilter
from eahub.audit.tables import vault_payloads
from eahub.core import avro_codec, schemas, topics
from eahub.core.broker import free_port, port_open
from eahub.core.event_json import from_json
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.messages import DeliveryFailed, OutboundMessage
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.ingest.generator import generate
from eahub.ingest.tokens import TokenStore
from tests.helpers import read_all
from tests.support.processes import Service, hub_env, run_command, wait_ready


@dataclass(frozen=True)
class ChaosPlan:
    events: int = 240
    poison: int = 24
    reused_ids: int = 3
    phases: int = 2  # the broker is stopped and started again between phases
    kills: tuple[str, ...] = ("router", "audit", "router", "ingest")  # per phase, at random points
    http_share: float = 0.5
    seed: int = 7
    settle_timeout_s: float = 120.0
    postgres_admin_url: str | None = None  # the ledger in a fresh PostgreSQL database, its connections cut mid-feed
    database_cuts: int = 2  # per phase, with PostgreSQL


@dataclass
class ChaosReport:
    accepted: int = 0
    accepted_http: int = 0
    accepted_kafka: int = 0
    decided: int = 0
    lost: int = 0
    ledger_entries: int = 0
    duplicate_entries: int = 0
    board_messages: int = 0
    board_cases: int = 0
    board_duplicates: int = 0
    cases_without_disclosure: int = 0
    payload_mismatches: int = 0
    disclosures_without_case: int = 0
    poison_sent: int = 0
    poison_dead_lettered: int = 0
    reused_sent: int = 0
    reused_refused: int = 0
    verify_ok: bool = False
    kills: Counter[str] = field(default_factory=Counter)
    broker_restarts: int = 0
    http_retries: int = 0
    kafka_retries: int = 0
    database_cuts: int = 0
    elapsed_s: float = 0.0

    def lines(self) -> list[str]:
        return [f"{k}: {dict(v) if isinstance(v, Counter) else v}" for k, v in self.__dict__.items()]


class Hub:
    """The processes of one run and the settings to reach them."""

    def __init__(self, workdir: Path, database_url: str | None = None) -> None:
        self.broker_port, self.http_port = free_port(), free_port()
        self.data = workdir / "data"
        extra = {"EAHUB_DATABASE_URL": database_url} if database_url else {}
        self.env = hub_env(self.data, self.broker_port, self.http_port,
                           EAHUB_INGEST_PUBLISH_TIMEOUT_SECONDS="5", **extra)
        self.database_url = database_url
        logs = workdir / "logs"
        self.broker = Service("broker", ["broker"], self.env, logs)
        self.services = {name: Service(name, args, self.env, logs) for name, args in
                         (("router", ["router"]), ("audit", ["audit", "serve"]), ("ingest", ["ingest"]))}
        self.settings = HubSettings(data_dir=self.data, broker_port=self.broker_port, database_url=database_url)
        self.base = f"http://127.0.0.1:{self.http_port}"

    def start_broker(self) -> None:
        self.broker.start()
        deadline = time.monotonic() + 20
        while not port_open("127.0.0.1", self.broker_port):
            if time.monotonic() > deadline:
                raise TimeoutError("the broker did not start")
            time.sleep(0.1)

    def start(self) -> None:
        self.start_broker()
        for args in (["init"], ["topics", "create"]):
            done = run_command(args, self.env)
            if done.returncode != 0:
                raise RuntimeError(f"eahub {' '.join(args)} failed: {done.stderr[-2000:]}")
        for s in self.services.values():
            s.start()
        wait_ready(self.base, 90)

    def stop(self) -> None:
        for s in self.services.values():
            if s.running():
                try:
                    s.stop(10)
                except Exception:
                    s.kill()
        self.broker.kill()


def run_chaos(workdir: Path, plan: ChaosPlan = ChaosPlan(), say: Any = print) -> ChaosReport:
    started = time.monotonic()
    rng = random.Random(plan.seed)
    report = ChaosReport()
    database = _create_database(plan.postgres_admin_url) if plan.postgres_admin_url else None
    hub = Hub(workdir, database)
    try:
        hub.start()
        agencies = agency_ids(hub.settings.policies_dir)
        tokens = {a: TokenStore.in_data_dir(hub.data).issue(a, agencies)[1] for a in agencies}
        days = plan.events / 134 + 1
        events = list(generate(plan.events, seed=plan.seed, start=datetime.now(UTC) - timedelta(days=days)))
        publisher = KafkaPublisher(producer_config(hub.settings), timeout_s=10)
        pseudo = Pseudonymiser.from_data_dir(hub.data)
        accepted: set[str] = set()
        poison: set[bytes] = set()
        reused: set[bytes] = set()
        kafka_sent: list[dict[str, Any]] = []
        snapshots: list[tuple[list[Any], list[Any]]] = []
        per_phase = -(-len(events) // plan.phases)
        for phase in range(plan.phases):
            batch = events[phase * per_phase:(phase + 1) * per_phase]
            say(f"phase {phase + 1}/{plan.phases}: {len(batch)} events, kills {', '.join(plan.kills)}")
            chaos = threading.Thread(target=_chaos_monkey, args=(hub, plan.kills, rng, report), daemon=True)
            chaos.start()
            cutter = threading.Thread(target=_cut_database, args=(database, plan.database_cuts, rng, report),
                                      daemon=True)
            if database:
                cutter.start()
            http = [e for e in batch if rng.random() < plan.http_share]
            kafka = [e for e in batch if e not in http]
            with ThreadPoolExecutor(4) as pool:
                futures = [pool.submit(_post, hub, e, tokens[e["source_agency"]], report) for e in http]
                for e in kafka:
                    record = from_json(e)
                    _publish(publisher, [_inbound(record, pseudo)], report)
                    accepted.add(record["event_id"])
                    kafka_sent.append(record)
                    report.accepted_kafka += 1
                n_poison = plan.poison // plan.phases
                messages = [_poison(i + phase * n_poison, pseudo) for i in range(n_poison)]
                _publish(publisher, messages, report)
                poison |= {m.value for m in messages}
                for f in futures:
                    if f.result():
                        accepted.add(f.result())
                        report.accepted_http += 1
            chaos.join(120)
            if database:
                cutter.join(60)
            for record in kafka_sent[:plan.reused_ids] if phase == plan.phases - 1 else []:
                message = _inbound({**record, "district": f"Reused-{uuid.uuid4().hex[:6]}"}, pseudo)
                _publish(publisher, [message], report)
                reused.add(message.value)
            _wait_decided(hub, accepted, plan.settle_timeout_s)
            snapshots.append(_snapshot(hub, agencies, expect_dead=len(poison) + len(reused)))
            if phase < plan.phases - 1:
                say("stopping the broker (memory storage: its data is lost) and starting it again")
                hub.broker.stop()
                time.sleep(2)
                hub.start_broker()
                report.broker_restarts += 1
                wait_ready(hub.base, 90)
        publisher.close()
        report.accepted = len(accepted)
        report.poison_sent, report.reused_sent = len(poison), len(reused)
        _measure(hub, accepted, poison, reused, snapshots, report)
    finally:
        hub.stop()
    verify = run_command(["audit", "verify"], hub.env)
    report.verify_ok = verify.returncode == 0
    report.elapsed_s = round(time.monotonic() - started, 1)
    if database:
        _drop_database(database)
    return report


def _create_database(admin_url: str) -> str:
    import psycopg

    name = f"eahub_chaos_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"


def _drop_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cut_database(url: str | None, cuts: int, rng: random.Random, report: ChaosReport) -> None:
    """What the services see of a PostgreSQL restart: every connection to their database is terminated."""
    import psycopg

    if url is None:
        return
    base, name = url.rsplit("/", 1)
    for _ in range(cuts):
        time.sleep(rng.uniform(0.5, 3.0))
        with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        report.database_cuts += 1


def _chaos_monkey(hub: Hub, kills: tuple[str, ...], rng: random.Random, report: ChaosReport) -> None:
    for name in kills:
        time.sleep(rng.uniform(0.5, 3.0))
        service = hub.services[name]
        service.kill()
        report.kills[name] += 1
        time.sleep(rng.uniform(0.2, 1.5))
        service.start()
    wait_ready(hub.base, 90)


def _post(hub: Hub, event: dict[str, Any], token: str, report: ChaosReport) -> str | None:
    """POST until the hub answers for good: 202 (accepted) or a 4xx; 503, 409 in-progress and a dead ingest
    are retried with the same event id, which ingest dedupes."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            resp = httpx.post(f"{hub.base}/v1/events", json=event, timeout=30,
                              headers={"Authorization": f"Bearer {token}"})
        except httpx.HTTPError:
            report.http_retries += 1
            time.sleep(0.5)
            continue
        if resp.status_code == 202:
            return str(resp.json()["event_id"])
        if resp.status_code == 503 or (resp.status_code == 409 and "in-progress" in resp.text):
            report.http_retries += 1
            time.sleep(0.5)
            continue
        raise AssertionError(f"ingest refused a generated event: {resp.status_code} {resp.text[:300]}")
    raise TimeoutError("ingest never accepted an event")


def _publish(publisher: KafkaPublisher, messages: list[OutboundMessage], report: ChaosReport) -> None:
    deadline = time.monotonic() + 180
    while True:
        try:
            publisher.publish(messages)
            return
        except DeliveryFailed:
            report.kafka_retries += 1
            if time.monotonic() > deadline:
                raise


def _inbound(record: dict[str, Any], pseudo: Pseudonymiser) -> OutboundMessage:
    return OutboundMessage(topics.inbound(record["source_agency"]), pseudo.subject_ref(record).encode(),
                           avro_codec.encode(schemas.CONCERN_EVENT, record))


def _poison(i: int, pseudo: Pseudonymiser) -> OutboundMessage:
    """Four kinds in turn: not Avro, a record of another schema, a spoofed source, a time out of the window."""
    police = topics.inbound("lancashire-police")
    kind = i % 4
    if kind == 0:
        return OutboundMessage(police, b"poison", f"not avro {i}".encode())
    if kind == 1:
        head = {"tree_size": i, "root_hash": "00", "key_id": "k", "signature": "s", "timestamp": datetime.now(UTC)}
        return OutboundMessage(police, b"poison", avro_codec.encode(schemas.SIGNED_TREE_HEAD, head))
    event = from_json(next(iter(generate(1, seed=10_000 + i, start=datetime.now(UTC) - timedelta(days=2),
                                         agencies=["lancashire-police"]))))
    if kind == 2:
        return OutboundMessage(topics.inbound("nwas"), b"poison", avro_codec.encode(schemas.CONCERN_EVENT, event))
    event["reported_at"] = datetime(9999, 12, 31, tzinfo=UTC)
    return OutboundMessage(police, b"poison", avro_codec.encode(schemas.CONCERN_EVENT, event))


def _decided(hub: Hub) -> set[str]:
    store = open_audit(hub.settings).store
    return {e.event_id for e in store.find(EntryFilter(kinds=("DECISION",))) if e.event_id}


def _wait_decided(hub: Hub, accepted: set[str], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not accepted <= _decided(hub):
        if time.monotonic() > deadline:
            return  # the report counts what is missing
        time.sleep(1)
    time.sleep(3)  # the cases and entries published with the last decisions reach the vault too


def _snapshot(hub: Hub, agencies: list[str], expect_dead: int) -> tuple[list[Any], list[Any]]:
    boards = [m for a in agencies for m in read_all(hub.settings, topics.board(a), settle_s=0.5)]
    dead = read_all(hub.settings, topics.DEADLETTER, expect=expect_dead, timeout_s=20, settle_s=1.0)
    return boards, dead


def _measure(hub: Hub, accepted: set[str], poison: set[bytes], reused: set[bytes],
             snapshots: list[tuple[list[Any], list[Any]]], report: ChaosReport) -> None:
    parts = open_audit(hub.settings)
    rows = parts.store.find(EntryFilter())
    report.ledger_entries = len(rows)
    report.duplicate_entries = len(rows) - len({r.entry_id for r in rows})
    decided = {r.event_id for r in rows if r.kind == "DECISION" and r.event_id}
    report.decided = len(decided & accepted)
    report.lost = len(accepted - decided)
    disclosures = {r.case_id for r in rows if r.kind in ("DISCLOSURE", "OVERRIDE") and r.case_id}
    board_msgs = [m for boards, _ in snapshots for m in boards]
    report.board_messages = len(board_msgs)
    per_case = Counter(avro_codec.decode(m.value(), expected=schemas.ROUTED_CASE)[1]["case_id"] for m in board_msgs)
    report.board_cases = len(per_case)
    report.board_duplicates = sum(n - 1 for n in per_case.values())
    vault: dict[str, dict[str, Any] | None] = {}
    compared: set[str] = set()
    for m in board_msgs:
        case = avro_codec.decode(m.value(), expected=schemas.ROUTED_CASE)[1]
        if case["case_id"] not in disclosures:
            report.cases_without_disclosure += 1
        if case["case_id"] in compared:
            # A duplicate from a replay (at-least-once, counted above): the board and the vault both keep the first
            # copy of a case, which is what is compared; a replay re-stamps routed_at, nothing else.
            continue
        compared.add(case["case_id"])
        if case["subject_ref"] not in vault:
            for p in parts.vault.payloads(case["subject_ref"]):
                vault[p.case_id] = p.record
        stored = vault.get(case["case_id"])
        if stored is None or avro_codec.encode(schemas.ROUTED_CASE, stored) != m.value():
            report.payload_mismatches += 1
    with parts.engine.connect() as conn:
        in_vault = set(conn.scalars(select(vault_payloads.c.case_id)))
    report.disclosures_without_case = len(disclosures - in_vault)
    letters = [avro_codec.decode(m.value(), expected=schemas.DEAD_LETTER)[1] for _, dead in snapshots for m in dead]
    values = {dl["original_value"] for dl in letters}
    report.poison_dead_lettered = len(poison & values)
    refused = {dl["original_value"] for dl in letters if dl["error"].startswith("event-id-reused")}
    report.reused_refused = len(reused & refused)


def main_figures(report: ChaosReport) -> str:
    return json.dumps({k: (dict(v) if isinstance(v, Counter) else v) for k, v in report.__dict__.items()}, indent=1)
