"""Per-agency bearer tokens for the HTTP API. Only SHA-256 hashes are stored, with the agency, the
creation time and a token id, in `<data dir>/tokens.json` (0600). Lookups compare in constant time
against every stored hash. The file is re-read when it changes, so a revocation takes effect at once."""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from eahub.core.secrets import ensure_private_dir

TOKEN_PREFIX = "eah_"


class UnknownAgency(ValueError):
    pass


@dataclass(frozen=True)
class TokenInfo:
    token_id: str
    agency: str
    created_at: str
    sha256: str
    role: str | None = None  # a break-glass role bound to the token by the operator, e.g. police-duty-inspector


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._cache: tuple[tuple[int, int], list[TokenInfo]] | None = None

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> TokenStore:
        return cls(data_dir / "tokens.json")

    def issue(self, agency: str, agency_ids: Collection[str], role: str | None = None) -> tuple[TokenInfo, str]:
        """A new token for `agency`: returns its record and the token itself (shown once, never stored)."""
        if agency not in agency_ids:
            raise UnknownAgency(f"unknown agency {agency!r}; known: {', '.join(sorted(agency_ids))}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        info = TokenInfo(
            token_id="tok_" + secrets.token_hex(6), agency=agency,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"), sha256=_digest(token), role=role,
        )
        with self._locked():
            self._write([*self._read(), info])
        return info, token

    def all(self) -> list[TokenInfo]:
        return self._read()

    def revoke(self, token_id: str) -> bool:
        with self._locked():
            tokens = self._read()
            kept = [t for t in tokens if t.token_id != token_id]
            if len(kept) == len(tokens):
                return False
            self._write(kept)
            return True

    def agency_for(self, token: str) -> str | None:
        """The agency of a presented token, or None."""
        info = self.lookup(token)
        return info.agency if info else None

    def lookup(self, token: str) -> TokenInfo | None:
        """The record of a presented token, or None. Compares against every hash in constant time."""
        presented = _digest(token)
        found = None
        for info in self._current():
            if hmac.compare_digest(presented, info.sha256):
                found = info
        return found

    def _current(self) -> list[TokenInfo]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return []
        stamp = (st.st_mtime_ns, st.st_size)
        if self._cache is None or self._cache[0] != stamp:
            self._cache = (stamp, self._read())
        return self._cache[1]

    def _read(self) -> list[TokenInfo]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        return [TokenInfo(**t) for t in data["tokens"]]

    def _write(self, tokens: list[TokenInfo]) -> None:
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump({"tokens": [asdict(t) for t in tokens]}, fh, indent=2)
        os.replace(tmp, self.path)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if not self.path.parent.exists():
            ensure_private_dir(self.path.parent)
        fd = os.open(self.path.with_suffix(".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
