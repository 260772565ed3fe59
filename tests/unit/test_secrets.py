"""Hub secrets created on first use: threads of one process that create the same secret at once (the services
that `eahub up` builds in parallel) all get the one secret, and none fails."""

from __future__ import annotations

import stat
import threading
from pathlib import Path

import pytest

from eahub.core.secrets import read_or_create, replace_private

pytestmark = pytest.mark.unit


def _create_at_once(path: Path, threads: int) -> tuple[list[bytes], list[BaseException]]:
    barrier = threading.Barrier(threads)
    values: list[bytes] = []
    errors: list[BaseException] = []

    def create() -> None:
        barrier.wait()
        try:
            values.append(read_or_create(path))
        except BaseException as exc:  # collected: the assertion names it
            errors.append(exc)

    started = [threading.Thread(target=create) for _ in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join()
    return values, errors


def test_threads_creating_one_secret_at_once_share_it(tmp_path: Path) -> None:
    for attempt in range(20):
        path = tmp_path / f"secrets-{attempt}" / "pseudonym.key"
        values, errors = _create_at_once(path, 8)
        assert errors == []
        assert len(values) == 8 and len(set(values)) == 1 and len(values[0]) == 32
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert sorted(p.name for p in path.parent.iterdir()) == ["pseudonym.key"]  # no temporary file left


def _replace_at_once(path: Path, texts: list[str]) -> list[BaseException]:
    barrier = threading.Barrier(len(texts))
    errors: list[BaseException] = []

    def write(text: str) -> None:
        barrier.wait()
        try:
            replace_private(path, text)
        except BaseException as exc:  # collected: the assertion names it
            errors.append(exc)

    started = [threading.Thread(target=write, args=(t,)) for t in texts]
    for t in started:
        t.start()
    for t in started:
        t.join()
    return errors


def test_threads_replacing_one_file_at_once_each_replace_it_whole(tmp_path: Path) -> None:
    """The IG console's manual and scheduled verifications may record their result at the same moment."""
    path = tmp_path / "data" / "audit-verified.json"
    texts = [f'{{"writer": {i}, "pad": "{"x" * 50_000}"}}' for i in range(8)]
    for _ in range(20):
        errors = _replace_at_once(path, texts)
        assert not errors, errors[:3]
        assert path.read_text() in texts, "a torn file"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name], "no temporary file left"
