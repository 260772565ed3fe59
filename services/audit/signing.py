"""Signed tree heads: Ed25519 over the RFC 6962 TreeHeadSignature structure
(version 0, signature_type tree_hash 1, timestamp ms, tree size, SHA-256 root hash).

The hub's signing key is a 32-byte Ed25519 seed created on first use in data_dir/secrets/ (0600)."""

from __future__ import annotations

import base64
import hashlib
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from eahub.core.secrets import read_or_create

SIGNING_KEY_FILE = "audit-signing.key"


@dataclass(frozen=True)
class TreeHead:
    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    key_id: str
    signature: bytes

    def signed_bytes(self) -> bytes:
        return tree_head_bytes(self.tree_size, self.root_hash, self.timestamp_ms)

    def to_json(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp_ms": self.timestamp_ms,
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode(),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> TreeHead:
        return cls(
            int(doc["tree_size"]),
            bytes.fromhex(doc["root_hash"]),
            int(doc["timestamp_ms"]),
            str(doc["key_id"]),
            base64.b64decode(doc["signature"]),
        )

    def to_record(self) -> dict[str, Any]:
        """The eahub.SignedTreeHead Avro record."""
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp": datetime.fromtimestamp(self.timestamp_ms / 1000, UTC),
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode(),
        }


def tree_head_bytes(tree_size: int, root_hash: bytes, timestamp_ms: int) -> bytes:
    return struct.pack(">BBQQ", 0, 1, timestamp_ms, tree_size) + root_hash


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key_pem(pem: str | bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("public key is not an Ed25519 key")
    return key


class Signer:
    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.key_id = key_id(self.public_key)

    @classmethod
    def from_data_dir(cls, data_dir: Path) -> Signer:
        seed = read_or_create(data_dir / "secrets" / SIGNING_KEY_FILE, 32)
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def sign_document(self, domain: bytes, document: bytes) -> bytes:
        """Sign a document other than a tree head, domain-separated so it can never pass for one."""
        return self._key.sign(domain + b"\x00" + document)

    def sign(self, tree_size: int, root_hash: bytes, timestamp_ms: int) -> TreeHead:
        signature = self._key.sign(tree_head_bytes(tree_size, root_hash, timestamp_ms))
        return TreeHead(tree_size, root_hash, timestamp_ms, self.key_id, signature)


def head_problem(head: TreeHead, public_key: Ed25519PublicKey) -> str | None:
    """None when the head is signed by `public_key`; otherwise what is wrong."""
    if head.key_id != key_id(public_key):
        return f"tree head at size {head.tree_size} names key {head.key_id[:16]}…, not the hub's key"
    try:
        public_key.verify(head.signature, head.signed_bytes())
    except InvalidSignature:
        return f"tree head at size {head.tree_size} has an invalid signature (forged or altered)"
    return None
