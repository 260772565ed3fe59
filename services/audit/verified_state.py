"""What the last successful `eahub audit verify` established, kept outside the database so that the next run
can be incremental: the latest signed tree head it verified (of size N, signature included: a truncated or
rewritten ledger then fails against it, as against a published head), the Merkle tree's compact range at N, the
roots of every signed head up to N, and a digest of every stored column of rows 0..N-1.

The record is a file in the hub's data directory, signed with the hub's key (domain-separated: it can never pass
for a tree head). Someone who can rewrite the database but not read the key can neither forge nor alter it; an
old genuine record only makes the next run re-check more. The digest (`RowDigest`) is an unambiguous encoding of
the rows as stored, so equal digests mean rows 0..N-1 are exactly the rows that were fully verified."""

from __future__ import annotations

import base64
import hashlib
import json
import marshal
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from eahub.audit import merkle
from eahub.audit.signing import Signer, TreeHead, key_id
from eahub.audit.store import LedgerRow
from eahub.core.secrets import replace_private

STATE_FILE = "audit-verified.json"
_DOMAIN = b"eahub audit verified state v1"
# Of rows_digest (1: the small columns as repr, each entry hashed whole; 2: one RowDigest over all the rows; 3: a
# RowDigest per CHUNK rows, hashed in order, so that worker processes can digest parts): an older record is not used.
_FORMAT = 3
CHUNK = merkle.TILE_WIDTH

# Raw ledger rows are tuples in LedgerRow field order: the small columns, then the entry and its leaf hash.
_FIELDS = tuple(LedgerRow.__dataclass_fields__)
_ENTRY, _LEAF = _FIELDS.index("entry"), _FIELDS.index("leaf_hash")
assert _FIELDS[-2:] == ("entry", "leaf_hash")
_SMALL = itemgetter(slice(0, _ENTRY))
_ENTRY_OF, _LEAF_OF = itemgetter(_ENTRY), itemgetter(_LEAF)


class RowDigest:
    """SHA-256 over rows as stored, fed whole batches at a time (the hashing and encoding run in C, not per row
    in Python). The result does not depend on how the rows were split into batches."""

    def __init__(self) -> None:
        self._small = hashlib.sha256()  # the small columns, marshalled one tuple per row
        self._entries = hashlib.sha256()  # each entry by its leaf hash: the entries are then equal too
        self._leaves = hashlib.sha256()
        self._leaf_lengths = hashlib.sha256()  # so that the concatenation of stored leaf hashes is unambiguous

    def update(self, rows: Sequence[Sequence[Any]], entry_hashes: Sequence[bytes] | None = None) -> None:
        """`entry_hashes`: the rows' entries already hashed with merkle.leaf_hashes, when the caller has them (a
        full verification does). Raises TypeError for an entry or leaf hash that is not bytes (the ledger never
        stores one) and ValueError for a small column of a type no driver returns."""
        if not rows:
            return
        # marshal's version 0 has no back-references nor interning marks: each value's encoding is typed,
        # self-delimiting and the same whatever else is in the list, so the items (after its 5-byte header) concatenate.
        self._small.update(marshal.dumps(list(map(_SMALL, rows)), 0)[5:])
        leaves = list(map(_LEAF_OF, rows))
        if entry_hashes is None:
            entries = list(map(_ENTRY_OF, rows))
            if not all(map(isinstance, entries, repeat(bytes))):
                raise TypeError("a ledger entry is not bytes")
            entry_hashes = merkle.leaf_hashes(entries)
        self._entries.update(b"".join(entry_hashes))
        self._leaves.update(b"".join(leaves))
        self._leaf_lengths.update(array("q", map(len, leaves)).tobytes())

    def digest(self) -> bytes:
        return hashlib.sha256(b"".join(h.digest() for h in self._parts())).digest()

    def copy(self) -> RowDigest:
        other = RowDigest.__new__(RowDigest)
        other._small, other._entries, other._leaves, other._leaf_lengths = (h.copy() for h in self._parts())
        return other

    def _parts(self) -> tuple[Any, ...]:
        return self._small, self._entries, self._leaves, self._leaf_lengths


class ChunkedRowDigest:
    """A RowDigest of each run of CHUNK rows (the last one may be short), those digests hashed in order. The same
    whether one pass feeds every row or parts are digested apart (each starting on a chunk boundary) and their
    chunk digests added in order."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []  # the digests of the full chunks so far
        self._open = RowDigest()
        self._filled = 0

    def update(self, rows: Sequence[Sequence[Any]], entry_hashes: Sequence[bytes] | None = None) -> None:
        """As RowDigest.update."""
        done = 0
        while done < len(rows):
            take = min(CHUNK - self._filled, len(rows) - done)
            end = done + take
            self._open.update(rows[done:end], None if entry_hashes is None else entry_hashes[done:end])
            self._filled += take
            done = end
            if self._filled == CHUNK:
                self.chunks.append(self._open.digest())
                self._open, self._filled = RowDigest(), 0

    def add_chunks(self, digests: Sequence[bytes]) -> None:
        """Chunk digests made apart (`chunk_digests` of the part that follows), only on a chunk boundary."""
        if self._filled:
            raise ValueError("chunk digests added after a partial chunk")
        self.chunks.extend(digests)

    def chunk_digests(self) -> list[bytes]:
        """Every chunk's digest, the partial last one included."""
        return [*self.chunks, self._open.digest()] if self._filled else list(self.chunks)

    def digest(self) -> bytes:
        return hashlib.sha256(b"".join(self.chunk_digests())).digest()


@dataclass(frozen=True)
class VerifiedState:
    key_id: str  # the key the heads were verified against
    head: TreeHead  # the latest signed head verified, of size N: a copy kept outside the database
    compact_range: tuple[bytes, ...]  # merkle.CompactRange hashes at N (heights: N's set bits, highest first)
    rows_digest: bytes  # ChunkedRowDigest of rows 0..N-1
    head_roots: tuple[tuple[int, bytes], ...]  # (size, root) of every signed head of size <= N verified
    verified_at_ms: int

    @property
    def tree_size(self) -> int:
        return self.head.tree_size

    def to_json(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "head": self.head.to_json(),
            "compact_range": [h.hex() for h in self.compact_range],
            "rows_digest": self.rows_digest.hex(),
            "head_roots": [[size, root.hex()] for size, root in self.head_roots],
            "verified_at_ms": self.verified_at_ms,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> VerifiedState:
        return cls(
            str(doc["key_id"]),
            TreeHead.from_json(doc["head"]),
            tuple(bytes.fromhex(h) for h in doc["compact_range"]),
            bytes.fromhex(doc["rows_digest"]),
            tuple((int(size), bytes.fromhex(root)) for size, root in doc["head_roots"]),
            int(doc["verified_at_ms"]),
        )


class StateUnusable(ValueError):
    """The recorded state cannot be trusted (not signed by the hub's key, or unreadable): verify in full."""


def _canonical(state: VerifiedState) -> bytes:
    return json.dumps(state.to_json(), sort_keys=True, separators=(",", ":")).encode()


def save_state(path: Path, state: VerifiedState, signer: Signer) -> None:
    """Write the signed record atomically, owner-only."""
    signature = signer.sign_document(_DOMAIN, _canonical(state))
    doc = {"format": _FORMAT, "state": state.to_json(), "signature": base64.b64encode(signature).decode()}
    replace_private(path, json.dumps(doc))  # the console's manual and scheduled runs may save at once


def load_state(path: Path, public_key: Ed25519PublicKey) -> VerifiedState | None:
    """The recorded state, None when there is none; StateUnusable when it is there but not to be trusted."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        doc = json.loads(text)
        state = VerifiedState.from_json(doc["state"])
        signature = base64.b64decode(doc["signature"])
        written_format = doc.get("format", 1)
    except (ValueError, KeyError, TypeError) as exc:
        raise StateUnusable(f"the record of the last verification ({path}) is unreadable") from exc
    if written_format != _FORMAT:
        raise StateUnusable(f"the record of the last verification ({path}) is of an earlier format")
    if state.key_id != key_id(public_key):
        raise StateUnusable(f"the record of the last verification ({path}) was made against another key")
    try:
        public_key.verify(signature, _DOMAIN + b"\x00" + _canonical(state))
    except InvalidSignature:
        raise StateUnusable(f"the record of the last verification ({path}) is not signed by the hub's key "
                            "(forged or altered)") from None
    return state
