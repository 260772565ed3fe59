"""One part of a full ledger verification, in its own process (`python -m eahub.audit.verify_worker`): re-hashes
the rows of a range of positions and checks them as `verify._batch_leaves` does. Reads its job as JSON on stdin
(the database URL can hold a password: never on argv): {"url", "start", "end", "record_at"}; start/end None for
no bound. Writes marshal (rows, leaf hashes concatenated, chunk digests of the rows before record_at) to stdout
and exits 0; exits 1, writing nothing, when any row needs the row-by-row checks (the parent then verifies in
one pass, which names the place). Writes no row content anywhere."""

from __future__ import annotations

import json
import marshal
import sys
from bisect import bisect_left

from eahub.audit.sql_store import SqlLedgerStore
from eahub.audit.verified_state import ChunkedRowDigest
from eahub.audit.verify import _SEQ, _batch_leaves
from eahub.core.database import make_engine


def main() -> int:
    job = json.loads(sys.stdin.read())
    start, end, record_at = job["start"], job["end"], int(job["record_at"])
    engine = make_engine(str(job["url"]))
    try:
        first = expected = 0 if start is None else int(start)
        digest = ChunkedRowDigest()
        leaves: list[bytes] = []
        for batch in SqlLedgerStore(engine).scan(start, end):
            batch_leaves = _batch_leaves(batch, expected)
            if batch_leaves is None:
                return 1
            cut = bisect_left(batch, record_at, key=_SEQ)
            try:
                digest.update(batch[:cut], batch_leaves[:cut])
            except (TypeError, ValueError):
                return 1
            leaves.extend(batch_leaves)
            expected += len(batch)
    finally:
        engine.dispose()
    sys.stdout.buffer.write(marshal.dumps((expected - first, b"".join(leaves), digest.chunk_digests())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
