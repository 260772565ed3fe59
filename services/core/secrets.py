"""Hub secrets kept in the data directory with owner-only permissions, created on first use."""

from __future__ import annotations

import os
import secrets as _secrets
import threading
from pathlib import Path


def ensure_private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def ensure_private_file(path: Path) -> Path:
    """Create `path` empty and owner-only (0600) when absent; tighten it when present. SQLite then creates its
    -wal and -shm files with the database file's permissions."""
    ensure_private_dir(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
    return path


def owner_only() -> None:
    """From now on this process creates files 0600 and directories 0700 (umask 077): everything the hub writes
    under its data directory (ledger files, logs, bundles) is its owner's only."""
    os.umask(0o077)


def read_or_create(path: Path, nbytes: int = 32) -> bytes:
    """Return the secret at `path`, creating it (0600) atomically when absent."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    ensure_private_dir(path.parent)
    value = _secrets.token_bytes(nbytes)
    # a name of this process's and this thread's own: services built in parallel threads create the same secret
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(value)
    try:
        os.link(tmp, path)  # fails if another process won the race; then use theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_bytes()


def replace_private(path: Path, text: str) -> None:
    """Write `text` to `path` (0600) atomically, replacing what was there: through a file of this process's and this
    thread's own, so that threads writing the same file at once each replace it whole."""
    ensure_private_dir(path.parent)
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)
