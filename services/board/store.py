"""Writing routed cases into the board database: dedupe on case_id, seal the projected concern under the
subject's key, start the acknowledge clock, link to other open cases of the same subject on that board."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.engine import Row

from eahub.board import timers
from eahub.board.crypto import KeyRing, subject_of
from eahub.board.db import dumps, json_form, ms
from eahub.board.model import CLOSED, NEW
from eahub.board.sla import SlaRules
from eahub.board.tables import case_links, cases, history
from eahub.core import ids


def case_row(conn: Connection, agency: str, case_id: str) -> Row[Any] | None:
    """The case, only when it is on this agency's board."""
    return conn.execute(select(cases).where(cases.c.case_id == case_id, cases.c.agency == agency)).first()


def exists(conn: Connection, case_id: str) -> bool:
    return conn.scalar(select(cases.c.case_id).where(cases.c.case_id == case_id)) is not None


def ack_due_ms(routed: dict[str, Any], sla: SlaRules) -> int:
    concern = routed["concern"]
    reported = ms(concern["reported_at"])
    override = sla.acknowledge_override_ms(routed["recipient"], concern["grade"])
    if override is not None:
        return reported + override
    return reported + int((ms(routed["due_by"]) - reported) / sla.time_scale)


def seal_concern(keyring: KeyRing, routed: dict[str, Any]) -> tuple[str, bytes]:
    return keyring.seal(subject_of(routed.get("subject_ref"), routed["case_id"]),
                        json.dumps(json_form(routed["concern"]), sort_keys=True))


def insert_case(conn: Connection, routed: dict[str, Any], sealed: tuple[str, bytes], sla: SlaRules,
                now_ms: int) -> None:
    """Insert a new case (the caller checked it is new), its ACK timer, its links and its first history row."""
    concern = routed["concern"]
    agency = routed["recipient"]
    due = ack_due_ms(routed, sla)
    reported = ms(concern["reported_at"])
    conn.execute(insert(cases).values(
        case_id=routed["case_id"], agency=agency, event_id=routed["event_id"], subject_ref=routed.get("subject_ref"),
        source_agency=routed["source_agency"], source_reference=concern.get("source_reference"),
        category=concern["category"], grade=concern["grade"], district=concern["district"],
        security_marking=concern["security_marking"], decision_id=routed["decision_id"],
        policy_revision=routed["policy_revision"], isa_id=routed["isa_id"], isa_version=routed["isa_version"],
        lawful_basis=routed["lawful_basis"], purpose=routed["purpose"],
        shared_fields=dumps(list(routed["shared_fields"])), withheld_fields=dumps(list(routed["withheld_fields"])),
        reasons=dumps(list(routed.get("reasons") or [])), override=bool(routed.get("override")),
        reported_at_ms=reported, due_by_ms=due, routed_at_ms=ms(routed["routed_at"]), stored_at_ms=now_ms,
        state=NEW, owner_user_id=None, version=1, key_id=sealed[0], sealed_concern=sealed[1]))
    timers.create(conn, case_id=routed["case_id"], agency=agency, kind=timers.ACK, start_ms=min(reported, due),
                  due_ms=due, warn_share=sla.warn_share(agency), now_ms=now_ms)
    links: list[dict[str, Any]] = []
    if routed.get("subject_ref"):
        others = conn.scalars(select(cases.c.case_id).where(
            cases.c.agency == agency, cases.c.subject_ref == routed["subject_ref"], cases.c.state != CLOSED,
            cases.c.case_id != routed["case_id"])).all()
        for other in others:
            links += [{"case_id": routed["case_id"], "linked_case_id": other, "agency": agency, "linked_at_ms": now_ms},
                      {"case_id": other, "linked_case_id": routed["case_id"], "agency": agency, "linked_at_ms": now_ms}]
        if links:
            conn.execute(insert(case_links), links)
    conn.execute(insert(history).values(
        history_id=ids.derive("board-history", routed["case_id"], "stored"), case_id=routed["case_id"], agency=agency,
        at_ms=now_ms, case_version=1, actor_user_id="router", kind="store", command=None, from_state=None, to_state=NEW,
        detail=dumps({"grade": concern["grade"], "isa_id": routed["isa_id"], "linked": str(len(links) // 2)})))
