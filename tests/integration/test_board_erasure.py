"""Erasure reaches the board: after a subject is erased, none of their personal data is readable in the board
database, its WAL, the keys database or a backup taken before; the non-personal skeleton stays; the erasure is
an ERASURE record. Erasure requests arrive on `eahub.erasure`; retention erases closed cases past their time."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from eahub.board.backup import backup
from eahub.board.consumer import SUBSCRIPTION, BoardConsumer
from eahub.board.crypto import KeyRing
from eahub.board.outbox import relay_once
from eahub.board.tables import cases, keys
from eahub.core import topics
from eahub.core.database import make_engine
from eahub.core.erasure import erasure_message
from eahub.core.kafka import KafkaPublisher, consumer_config, producer_config
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from tests.board_support import ADULTS, CHILDREN, POLICE, T0, BoardRig, make_rig, routed_case
from tests.integration.test_board_consumer import wait_for

pytestmark = pytest.mark.integration
NAME, NARRATIVE, NOTE, ACTION_TEXT, VISIT_TEXT = (
    "Zebedee Quartermaine", "found wandering near the canal lock", "sister says he stopped his medication",
    "ring the sister about the medication", "met at the drop-in centre")


def _files(path: Path) -> bytes:
    out = b""
    for p in (path, Path(str(path) + "-wal")):
        if p.exists():
            out += p.read_bytes()
    return out


def _work_the_subject(rig: BoardRig, subject: str) -> list[str]:
    subject_cases = [routed_case(subject_ref=subject, narrative=NARRATIVE,
                                 subject={"name": NAME, "date_of_birth": None, "nhs_number": None, "address": None}),
                     routed_case(recipient=CHILDREN, subject_ref=subject, narrative=NARRATIVE,
                                 subject={"name": NAME, "date_of_birth": None, "nhs_number": None, "address": None})]
    for rc in subject_cases:
        rig.board.store_case(rc)
    cid = subject_cases[0]["case_id"]
    m1 = rig.actor("adults-m1")
    rig.board.add_note(m1, cid, NOTE, significant=True)
    rig.board.add_action(m1, cid, ACTION_TEXT, "adults-m1", T0 + timedelta(days=1))
    rig.board.command(m1, cid, "claim", {})
    rig.board.command(m1, cid, "acknowledge", {})
    rig.board.command(m1, cid, "record_visit", {"agencies": [ADULTS, POLICE], "notes": VISIT_TEXT})
    assert rig.board.open_case(m1, cid, "allocated").concern["subject"]["name"] == NAME
    return [rc["case_id"] for rc in subject_cases]


def _assert_gone(rig: BoardRig, tmp_path: Path, backup_file: Path, sealed_before: list[tuple[str, bytes]]) -> None:
    board_db = Path(rig.board_url.removeprefix("sqlite:///"))
    keys_db = Path(rig.keys_url.removeprefix("sqlite:///"))
    for blob in (_files(board_db), _files(keys_db), backup_file.read_bytes()):
        for text in (NAME, NARRATIVE, NOTE, ACTION_TEXT, VISIT_TEXT):
            assert text.encode() not in blob
    # the backup still holds the old ciphertext, but no key opens it any more
    backup_engine = make_engine(f"sqlite:///{backup_file}")
    with backup_engine.connect() as conn:
        old = conn.execute(select(cases.c.key_id, cases.c.sealed_concern).where(cases.c.subject_ref.like("zeb-%"))
                           ).all()
    assert old and all(r.sealed_concern for r in old)
    for r in old:
        assert rig.board.keyring.open(r.key_id, r.sealed_concern) is None
    # nor are the live rows' old ciphertexts left anywhere in the live files
    live = _files(board_db)
    for _kid, blob in sealed_before:
        assert blob[:32] not in live


def test_erase_subject_crypto_shreds_everywhere_and_keeps_the_skeleton(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    subject = f"zeb-{uuid.uuid4().hex[:8]}"
    other = routed_case(subject_ref="someone-else")
    rig.board.store_case(other)
    ids = _work_the_subject(rig, subject)
    with rig.board.engine.connect() as conn:
        sealed_before = [(r.key_id, r.sealed_concern) for r in conn.execute(
            select(cases.c.key_id, cases.c.sealed_concern).where(cases.c.subject_ref == subject))]
    with KeyRing(rig.board.keyring.engine, b"\0" * 32).engine.connect() as conn:
        wrapped = conn.scalar(select(keys.c.wrapped_key).where(keys.c.subject == subject))
    backup_file = backup(rig.board.engine, tmp_path / "backups" / "board-today.db")

    assert rig.board.erase_subject(subject, "req-1", "audit:ig-officer") == 2
    _assert_gone(rig, tmp_path, backup_file, sealed_before)
    assert wrapped not in _files(Path(rig.keys_url.removeprefix("sqlite:///")))
    m1 = rig.actor("adults-m1")
    head = rig.board.header(m1, ids[0])
    assert (head.category, head.grade, head.state, head.erased) == ("MENTAL_HEALTH", "GRADE_2", "VISITED", True)
    content = rig.board.open_case(m1, ids[0], "allocated")
    assert content.concern == {} and [n.text for n in content.notes] == [None]
    assert [a.text for a in content.actions] == [None] and all(v.notes is None for v in content.visits)
    assert [h.command for h in content.chronology if h.kind == "transition"] == ["claim", "acknowledge",
                                                                                 "record_visit"]
    # someone else's case is untouched
    assert rig.board.open_case(m1, other["case_id"], "team").concern["subject"]["name"] == "Alex Example"
    relay_once(rig.board.engine, rig.audit, 0)
    erasures = rig.audit.of_kind("ERASURE")
    assert sorted(r["case_id"] for r in erasures) == sorted(ids)
    assert {r["agency"] for r in erasures} == {ADULTS, CHILDREN}
    # a replayed routed case for the erased subject does not bring the content back
    assert rig.board.store_case(routed_case(subject_ref=subject)) is True  # a new event is a new case
    assert rig.board.erase_subject(subject, "req-1", "audit:ig-officer") == 3


def test_retention_erases_closed_cases_past_their_time(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.board.retention_days = 30
    old, recent, still_open = (routed_case(subject_ref=s) for s in ("s-old", "s-recent", "s-open"))
    for rc in (old, recent, still_open):
        rig.board.store_case(rc)
    m1 = rig.actor("adults-m1")
    for rc, when in ((old, 0), (recent, 20)):
        rig.clock.now = T0 + timedelta(days=when)
        rig.board.command(m1, rc["case_id"], "not_for_board", {"reason": "duplicate referral"})
        rig.board.command(m1, rc["case_id"], "close", {"outcome": "NOT_FOR_BOARD", "text": "dup"})
    assert rig.board.apply_retention(T0 + timedelta(days=31)) == 1
    assert rig.board.apply_retention(T0 + timedelta(days=31)) == 0
    assert rig.board.header(m1, old["case_id"]).erased
    assert not rig.board.header(m1, recent["case_id"]).erased
    assert rig.board.open_case(m1, still_open["case_id"], "team").concern["subject"]["name"] == "Alex Example"
    with rig.board.keyring.engine.connect() as conn:
        assert conn.scalar(select(keys.c.key_id).where(keys.c.subject == "s-old")) is None


def test_erasure_request_on_the_topic_reaches_the_board(hub_settings: HubSettings, tmp_path: Path) -> None:
    topics.create_topics(hub_settings, agency_ids(hub_settings.policies_dir))
    rig = make_rig(tmp_path)
    subject = f"zeb-{uuid.uuid4().hex[:8]}"
    [cid, _] = _work_the_subject(rig, subject)
    publisher = KafkaPublisher(producer_config(hub_settings))
    publisher.publish([erasure_message(subject, f"req-{subject}", "audit:ig-officer")])
    publisher.close()
    from confluent_kafka import Consumer

    consumer = Consumer(consumer_config(hub_settings, f"board-erase-{subject}"))
    consumer.subscribe(SUBSCRIPTION)
    bc = BoardConsumer(consumer, KafkaPublisher(producer_config(hub_settings)), rig.board)
    stop = threading.Event()
    thread = threading.Thread(target=bc.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: rig.board.header(rig.actor("adults-m1"), cid).erased, 40)
    finally:
        stop.set()
        thread.join(20)


def test_erasure_on_both_databases(database_url: str, tmp_path: Path) -> None:
    rig = make_rig(tmp_path, board_url=database_url, keys_url=database_url if "postgresql" in database_url else None)
    subject = f"zeb-{uuid.uuid4().hex[:8]}"
    ids = _work_the_subject(rig, subject)
    assert rig.board.erase_subject(subject, "req-2", "audit:ig-officer") == 2
    m1 = rig.actor("adults-m1")
    content = rig.board.open_case(m1, ids[0], "allocated")
    assert content.concern == {} and all(n.text is None for n in content.notes)
    assert content.header.erased and content.header.state == "VISITED"
    with rig.board.keyring.engine.connect() as conn:
        assert conn.scalar(select(keys.c.key_id).where(keys.c.subject == subject)) is None
