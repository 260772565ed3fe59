"""The vault: the exact payloads disclosed to recipients (RoutedCase records from the board topics), kept
for subject access requests, outside the hash chain. Each subject's payloads are sealed with AES-256-GCM
under that subject's own key; subject keys are wrapped (AES-256-GCM) by the hub master key kept in
data_dir/secrets/ (0600). Erasure destroys the subject's keys (crypto-shredding): the ciphertexts, and
any copy of them in a backup, become unreadable. Expiry deletes payloads past their retention."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from eahub.audit.settings import AuditSettings
from eahub.audit.tables import vault_keys, vault_payloads
from eahub.core import avro_codec, ids, schemas
from eahub.core.secrets import read_or_create

MASTER_KEY_FILE = "vault-master.key"


@dataclass(frozen=True)
class VaultPayload:
    case_id: str
    subject_ref: str
    kind: str
    event_id: str
    recipient: str
    stored_at_ms: int
    expires_at_ms: int
    erased: bool
    record: dict[str, Any] | None  # the RoutedCase as disclosed; None when erased


class Vault:
    def __init__(self, engine: Engine, master_key: bytes, settings: AuditSettings) -> None:
        if len(master_key) != 32:
            raise ValueError("vault master key must be 32 bytes")
        self.engine = engine
        self._master = AESGCM(master_key)
        self.settings = settings

    @classmethod
    def from_data_dir(cls, engine: Engine, data_dir: Path, settings: AuditSettings) -> Vault:
        return cls(engine, read_or_create(data_dir / "secrets" / MASTER_KEY_FILE, 32), settings)

    def store(self, routed_case: dict[str, Any], now_ms: int | None = None) -> bool:
        """Seal one RoutedCase under its subject's key. False if that case is already stored."""
        return self.store_many([routed_case], now_ms) == 1

    def store_many(self, routed_cases: Sequence[dict[str, Any]], now_ms: int | None = None,
                   encoded: Sequence[bytes] | None = None) -> int:
        """Seal a batch of RoutedCases, each under its subject's key, in one transaction. Cases already stored
        (or repeated in the batch) are skipped; returns how many were stored. Should a concurrent writer store
        one of them first, the batch is rolled back and sealed case by case. `encoded`, when given, holds each
        case as it was received (the board message, single-object encoded), sealed as it is: the bytes a
        re-encoding of the decoded record would give, without the cost of writing them again."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        if not routed_cases:
            return 0
        if encoded is not None and len(encoded) != len(routed_cases):
            raise ValueError("encoded must hold one payload per routed case")
        try:
            with self.engine.begin() as conn:
                return self._store_batch(conn, routed_cases, now_ms, encoded)
        except IntegrityError:
            if len(routed_cases) == 1:
                return 0
            return sum(self.store_many([c], now_ms, None if encoded is None else [encoded[i]])
                       for i, c in enumerate(routed_cases))

    def _store_batch(self, conn: Any, routed_cases: Sequence[dict[str, Any]], now_ms: int,
                     encoded: Sequence[bytes] | None) -> int:
        present: set[str] = set()
        case_ids = [c["case_id"] for c in routed_cases]
        for i in range(0, len(case_ids), 500):
            chunk = case_ids[i : i + 500]
            present.update(conn.scalars(select(vault_payloads.c.case_id).where(vault_payloads.c.case_id.in_(chunk))))
        todo: list[tuple[dict[str, Any], str, bytes | None]] = []
        for i, case in enumerate(routed_cases):
            if case["case_id"] not in present:
                present.add(case["case_id"])
                todo.append((case, case.get("subject_ref") or f"case:{case['case_id']}",
                             None if encoded is None else encoded[i]))
        if not todo:
            return 0
        keys = self._subject_keys(conn, sorted({subject for _, subject, _ in todo}), now_ms)
        rows = []
        for case, subject, plain in todo:
            case_id = case["case_id"]
            kind = "OVERRIDE" if case.get("override") else "DISCLOSURE"
            key_id, key = keys[subject]
            nonce = os.urandom(12)
            if plain is None:  # decoded from the board topic, so valid already: no second schema check
                plain = avro_codec.encode(schemas.ROUTED_CASE, case, check=False)
            rows.append({
                "case_id": case_id, "subject_ref": subject, "key_id": key_id, "kind": kind,
                "event_id": case["event_id"], "recipient": case["recipient"], "stored_at_ms": now_ms,
                "expires_at_ms": now_ms + self.settings.retention_ms(kind), "nonce": nonce,
                "ciphertext": AESGCM(key).encrypt(nonce, plain, case_id.encode()),
            })
        conn.execute(insert(vault_payloads), rows)
        return len(rows)

    def payloads(self, subject_ref: str) -> list[VaultPayload]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(vault_payloads, vault_keys.c.wrapped_key)
                .join(vault_keys, vault_keys.c.key_id == vault_payloads.c.key_id)
                .where(vault_payloads.c.subject_ref == subject_ref)
                .order_by(vault_payloads.c.stored_at_ms)
            ).all()
        out = []
        for r in rows:
            record = None
            if r.wrapped_key is not None:
                key = self._unwrap(r.key_id, subject_ref, bytes(r.wrapped_key))
                plain = AESGCM(key).decrypt(bytes(r.nonce), bytes(r.ciphertext), r.case_id.encode())
                record = avro_codec.decode(plain, expected=schemas.ROUTED_CASE)[1]
            out.append(
                VaultPayload(
                    r.case_id,
                    r.subject_ref,
                    r.kind,
                    r.event_id,
                    r.recipient,
                    r.stored_at_ms,
                    r.expires_at_ms,
                    r.wrapped_key is None,
                    record,
                )
            )
        return out

    def erase(self, subject_ref: str, now_ms: int | None = None) -> int:
        """Destroy every key of the subject. Returns how many payloads became unreadable.

        The old key bytes are also purged from the database files where the engine allows it (SQLite:
        secure_delete and a WAL checkpoint; PostgreSQL: VACUUM of the key table). Backups taken before
        the erasure still hold the wrapped key: keep the master key out of those backups, or expire them."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        sqlite = self.engine.dialect.name == "sqlite"
        with self.engine.begin() as conn:
            if sqlite:
                conn.exec_driver_sql("PRAGMA secure_delete=ON")
            conn.execute(
                update(vault_keys)
                .where(vault_keys.c.subject_ref == subject_ref)
                .values(wrapped_key=None, erased_at_ms=now_ms)
            )
            unreadable = len(
                conn.scalars(select(vault_payloads.c.case_id).where(vault_payloads.c.subject_ref == subject_ref)).all()
            )
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)" if sqlite else f"VACUUM {vault_keys.name}")
        return unreadable

    def expire(self, now_ms: int | None = None) -> int:
        """Delete payloads past their retention. Returns how many were deleted."""
        now_ms = int(time.time() * 1000) if now_ms is None else now_ms
        with self.engine.begin() as conn:
            return conn.execute(delete(vault_payloads).where(vault_payloads.c.expires_at_ms <= now_ms)).rowcount

    def sealed(self, case_id: str) -> tuple[bytes, bytes] | None:
        """(nonce, ciphertext) of a stored payload, as kept at rest."""
        with self.engine.connect() as conn:
            r = conn.execute(
                select(vault_payloads.c.nonce, vault_payloads.c.ciphertext).where(vault_payloads.c.case_id == case_id)
            ).first()
        return (bytes(r.nonce), bytes(r.ciphertext)) if r else None

    def _subject_keys(self, conn: Any, subjects: Sequence[str], now_ms: int) -> dict[str, tuple[str, bytes]]:
        """(key id, key) of each subject's live key, creating the keys that do not exist yet."""
        out: dict[str, tuple[str, bytes]] = {}
        for i in range(0, len(subjects), 500):
            rows = conn.execute(
                select(vault_keys.c.key_id, vault_keys.c.subject_ref, vault_keys.c.wrapped_key).where(
                    and_(vault_keys.c.subject_ref.in_(subjects[i : i + 500]), vault_keys.c.wrapped_key.is_not(None))
                )
            ).all()
            for r in rows:
                if r.subject_ref not in out:
                    out[r.subject_ref] = (r.key_id, self._unwrap(r.key_id, r.subject_ref, bytes(r.wrapped_key)))
        new_keys = []
        for subject in subjects:
            if subject in out:
                continue
            key = AESGCM.generate_key(bit_length=256)
            key_id = ids.derive("vault-key", subject, str(now_ms), os.urandom(8).hex())
            nonce = os.urandom(12)
            wrapped = nonce + self._master.encrypt(nonce, key, _key_aad(key_id, subject))
            new_keys.append({"key_id": key_id, "subject_ref": subject, "wrapped_key": wrapped,
                             "created_at_ms": now_ms})
            out[subject] = (key_id, key)
        if new_keys:
            conn.execute(insert(vault_keys), new_keys)
        return out

    def _unwrap(self, key_id: str, subject_ref: str, wrapped: bytes) -> bytes:
        try:
            return self._master.decrypt(wrapped[:12], wrapped[12:], _key_aad(key_id, subject_ref))
        except InvalidTag:
            raise ValueError(f"vault key {key_id} does not open with this hub's master key") from None


def _key_aad(key_id: str, subject_ref: str) -> bytes:
    return f"eahub-vault-key\x1f{key_id}\x1f{subject_ref}".encode()
