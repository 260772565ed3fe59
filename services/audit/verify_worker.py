"""One part of a ledger verification, in its own process (`python -m eahub.audit.verify_worker`): reads the rows of
a range of positions; those before `since` (an incremental run's last verified head) are only digested, the others
re-hashed and checked as `verify._batch_leaves` does. Reads its job as JSON on stdin (the database URL can hold a
password: never on argv): {"url", "start", "end", "record_at", "since"}; start/end None for no bound, since None
for a full verification. Writes marshal (rows read, leaf hashes of the checked rows concatenated, chunk digests of
the rows before record_at, chunk digests of the rows before since) to stdout and exits 0; exits WORKER_FINDING,
writing nothing, when any row needs the row-by-row checks (the parent then verifies in one pass, which names the
place). Writes no row content anywhere."""

from __future__ import annotations

import json
import marshal
import sys
from bisect import bisect_left

from eahub.audit.sql_store import SqlLedgerStore
from eahub.audit.verified_state import ChunkedRowDigest
from eahub.audit.verify import _SEQ, WORKER_FINDING, _batch_leaves
from eahub.core.database import make_engine


def main() -> int:
    job = json.loads(sys.stdin.read())
    start, end, record_at, since = job["start"], job["end"], int(job["record_at"]), job.get("since")
    engine = make_engine(str(job["url"]))
    try:
        rows = 0
        expected = max(0 if start is None else int(start), 0 if since is None else int(since))
        digest = ChunkedRowDigest()
        before_since: list[bytes] | None = None
        leaves: list[bytes] = []
        for batch in SqlLedgerStore(engine).scan(start, end):
            cut = 0 if since is None else bisect_left(batch, since, key=_SEQ)
            checked = batch[cut:]
            batch_leaves = _batch_leaves(checked, expected) if checked else []
            if batch_leaves is None:
                return WORKER_FINDING
            to_record = bisect_left(checked, record_at, key=_SEQ)
            try:
                digest.update(batch[:cut])
                if before_since is None and checked:
                    before_since = digest.chunk_digests()
                digest.update(checked[:to_record], batch_leaves[:to_record])
            except (TypeError, ValueError):
                return WORKER_FINDING
            leaves.append(b"".join(batch_leaves))
            expected += len(checked)
            rows += len(batch)
    finally:
        engine.dispose()
    if before_since is None:
        before_since = digest.chunk_digests()
    sys.stdout.buffer.write(marshal.dumps((rows, b"".join(leaves), digest.chunk_digests(), before_since)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
