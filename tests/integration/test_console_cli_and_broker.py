"""`eahub audit console init|user add|list|disable` against a real SQLite audit database; the scheduled
verification runner; and an erasure from the console reaching the embedded broker's `eahub.erasure` topic
as an ErasureRequest the boards consume."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from eahub.audit.console import erase
from eahub.audit.console.integrity import Integrity
from eahub.audit.console.web.accounts import demo_ig_account
from eahub.cli import main
from eahub.core import avro_codec, schemas, topics
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.settings import HubSettings
from tests.console_support import seed
from tests.helpers import read_all

pytestmark = pytest.mark.integration


def test_console_user_add_list_disable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EAHUB_DATABASE_URL", raising=False)
    run = CliRunner()
    assert run.invoke(main, ["audit", "init"]).exit_code == 0
    assert run.invoke(main, ["audit", "console", "init"]).exit_code == 0
    r = run.invoke(main, ["audit", "console", "user", "add", "--role", "dpo", "--name", "dpo.one",
                          "--password-stdin"], input="a long password\n")
    assert r.exit_code == 0 and "a long password" not in r.output, r.output
    r = run.invoke(main, ["audit", "console", "user", "add", "--role", "board-member", "--name", "x",
                          "--password-stdin"], input="a long password\n")
    assert r.exit_code != 0
    assert "dpo.one\tdpo\tactive" in run.invoke(main, ["audit", "console", "user", "list"]).output
    assert run.invoke(main, ["audit", "console", "user", "disable", "dpo.one"]).exit_code == 0
    assert "dpo.one\tdpo\tdisabled" in run.invoke(main, ["audit", "console", "user", "list"]).output
    assert run.invoke(main, ["audit", "console", "user", "disable", "nobody"]).exit_code != 0


def test_scheduled_verification_runs_and_is_kept(tmp_path: Path) -> None:
    s = seed(tmp_path)
    integrity = Integrity(s.parts.engine, s.parts.checkpointer)
    stop = threading.Event()
    t = threading.Thread(target=integrity.runner(0.05), args=(stop,))
    t.start()
    deadline = time.monotonic() + 10
    while len(integrity.history()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    t.join(5)
    history = integrity.history()
    assert len(history) >= 2 and all(v.ok and v.trigger == "scheduled" for v in history)


def test_console_erasure_reaches_the_boards_topic(tmp_path: Path, hub_settings: HubSettings) -> None:
    from eahub.core.registry import agency_ids
    from eahub.core.topics import create_topics

    create_topics(hub_settings, agency_ids(hub_settings.policies_dir))
    s = seed(tmp_path)
    publisher = KafkaPublisher(producer_config(hub_settings))
    try:
        done = erase.erase(s.parts, Integrity(s.parts.engine, s.parts.checkpointer), s.subject_ref, "ig.one",
                           "SUBJECT_REQUEST", publisher.publish)
    finally:
        publisher.close()  # else it outlives the session's broker, logging refused connections at exit
    assert done.board_request_published and done.verification.ok
    # the broker is shared by the session: other tests' erasure requests may be on the topic too
    records = [avro_codec.decode(m.value(), expected=schemas.ERASURE_REQUEST)[1]
               for m in read_all(hub_settings, topics.ERASURE, expect=1)]
    mine = [r for r in records if r["subject_ref"] == s.subject_ref]
    assert len(mine) == 1 and mine[0]["requested_by"] == "ig:ig.one"


def test_demo_ig_account_signs_in_and_a_rerun_gives_a_new_password(tmp_path: Path) -> None:
    from eahub.audit.console.web.accounts import IG_OFFICER, console_accounts
    from eahub.core.web.accounts import cheap_hasher

    s = seed(tmp_path)
    accounts = console_accounts(s.parts.engine, cheap_hasher())
    login, first = demo_ig_account(accounts)
    account = accounts.authenticate(login, first)
    assert account is not None and account.role == IG_OFFICER
    _, second = demo_ig_account(accounts)
    assert second != first and accounts.authenticate(login, first) is None
    assert accounts.authenticate(login, second) is not None
