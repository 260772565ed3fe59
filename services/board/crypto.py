"""Per-subject keys and crypto-shredding. Every personal text the board keeps is sealed with AES-256-GCM
under its subject's key; the keys live in a separate database, each wrapped (AES-256-GCM) by the board's
master key in `<data_dir>/secrets/board-master.key`. Destroying a subject's key makes their data
unreadable everywhere, including every backup of the board database taken before."""

from __future__ import annotations

import os
import time
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from eahub.board.tables import keys
from eahub.core.database import is_postgres

_NONCE = 12


def subject_of(subject_ref: str | None, case_id: str) -> str:
    """The key owner: the subject pseudonym, or the case itself when the router had none."""
    return subject_ref or f"case:{case_id}"


class KeyRing:
    def __init__(self, engine: Engine, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ValueError("the board master key must be 32 bytes")
        self.engine = engine
        self._master = AESGCM(master_key)

    def key_for(self, subject: str) -> tuple[str, bytes]:
        """(key id, key) of the subject, created on first use."""
        for _ in range(3):
            with self.engine.connect() as conn:
                row = conn.execute(select(keys.c.key_id, keys.c.wrapped_key).where(keys.c.subject == subject)).first()
            if row is not None:
                return row.key_id, self._unwrap(row.key_id, row.wrapped_key)
            key_id = str(uuid.uuid4())
            key = AESGCM.generate_key(bit_length=256)
            try:
                with self.engine.begin() as conn:
                    conn.execute(insert(keys).values(key_id=key_id, subject=subject,
                                                     wrapped_key=self._wrap(key_id, key),
                                                     created_at_ms=int(time.time() * 1000)))
                return key_id, key
            except IntegrityError:
                continue  # another writer created it first: use theirs
        raise RuntimeError("could not create a subject key")

    def seal(self, subject: str, plaintext: str) -> tuple[str, bytes]:
        key_id, key = self.key_for(subject)
        nonce = os.urandom(_NONCE)
        return key_id, nonce + AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), key_id.encode())

    def open(self, key_id: str | None, blob: bytes | None) -> str | None:
        """The plaintext, or None when the key was destroyed (erased) or nothing is sealed."""
        if key_id is None or blob is None:
            return None
        with self.engine.connect() as conn:
            wrapped = conn.scalar(select(keys.c.wrapped_key).where(keys.c.key_id == key_id))
        if wrapped is None:
            return None
        key = self._unwrap(key_id, wrapped)
        try:
            return AESGCM(key).decrypt(blob[:_NONCE], blob[_NONCE:], key_id.encode()).decode("utf-8")
        except InvalidTag:
            return None

    def erase(self, subject: str) -> int:
        """Destroy the subject's key and purge its bytes from the keys database files. Returns keys destroyed."""
        sqlite = not is_postgres(self.engine)
        with self.engine.begin() as conn:
            if sqlite:
                conn.exec_driver_sql("PRAGMA secure_delete=ON")
            n = conn.execute(delete(keys).where(keys.c.subject == subject)).rowcount
        self.purge()
        return int(n or 0)

    def purge(self) -> None:
        sqlite = not is_postgres(self.engine)
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)" if sqlite else f"VACUUM {keys.name}")

    def _wrap(self, key_id: str, key: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._master.encrypt(nonce, key, b"board-key:" + key_id.encode())

    def _unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        return self._master.decrypt(wrapped[:_NONCE], wrapped[_NONCE:], b"board-key:" + key_id.encode())
