"""Hub secrets created on first use: threads of one process that create the same secret at once (the services
that `eahub up` builds in parallel) all get the one secret, and none fails."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from eahub.core.secrets import read_or_create

pytestmark = pytest.mark.unit


def test_threads_creating_one_secret_at_once_share_it(tmp_path: Path) -> None:
    for attempt in range(20):
        path = tmp_path / f"secrets-{attempt}" / "pseudonym.key"
        barrier = threading.Barrier(8)
        values: list[bytes] = []
        errors: list[BaseException] = []

        def create() -> None:
            barrier.wait()
            try:
                values.append(read_or_create(path))
            except BaseException as exc:  # collected: the assertion below names it
                errors.append(exc)

        threads = [threading.Thread(target=create) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(values) == 8 and len(set(values)) == 1 and len(values[0]) == 32
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert sorted(p.name for p in path.parent.iterdir()) == ["pseudonym.key"]  # no temporary file left
