"""Hub secrets kept in the data directory with owner-only permissions, created on first use."""

from __future__ import annotations

import os
import secrets as _secrets
from pathlib import Path


def ensure_private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def read_or_create(path: Path, nbytes: int = 32) -> bytes:
    """Return the secret at `path`, creating it (0600) atomically when absent."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    ensure_private_dir(path.parent)
    value = _secrets.token_bytes(nbytes)
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
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
