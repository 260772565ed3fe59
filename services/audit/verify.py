"""Ledger verification: every entry re-hashed, positions continuous, indexed columns equal to the hashed
content, and the Merkle root at every signed tree head equal to the signed root (and every signature valid
under the hub's public key). Reports the first place where the ledger is wrong.

An attacker who alters an entry AND recomputes its stored leaf hash is caught by the first signed head
whose root no longer matches; the place is then known to lie between that head and the previous one.

Incremental (`since`, a state recorded outside the database by the previous run): the rows up to the last
verified head must be exactly, column for column, the rows that run verified; only the rows after it are
checked one by one. Any change before that head makes the digest differ, and the whole ledger is then
verified, so the answer (and the place it names) is the same as a full verification's."""

from __future__ import annotations

import dataclasses
import json
import marshal
import subprocess
import sys
import time
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple

import msgspec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine

from eahub.audit import entry_format, merkle
from eahub.audit.signing import TreeHead, head_problem, key_id
from eahub.audit.store import INDEXED, LedgerRow, LedgerStore
from eahub.audit.verified_state import CHUNK, ChunkedRowDigest, VerifiedState
from eahub.core.logging import get_logger

# Per-row costs matter at a million entries: rows are plain tuples in LedgerRow field order, checked a batch at a
# time with the loops in C (`_batch_leaves`); only a batch that fails there is checked row by row (`_row_problem`).
_FIELDS = tuple(LedgerRow.__dataclass_fields__)
_SEQ = itemgetter(0)
_ENTRY_ID, _OCCURRED_MS, _ENTRY, _LEAF = map(_FIELDS.index, ("entry_id", "occurred_at_ms", "entry", "leaf_hash"))
_ROW_INDEXED = itemgetter(*(_FIELDS.index(n) for n in INDEXED))
_ENTRY_OF, _LEAF_OF, _OCCURRED_MS_OF = itemgetter(_ENTRY), itemgetter(_LEAF), itemgetter(_OCCURRED_MS)
# The fields of an entry that the checks read (missing ones are None, as with dict.get); the others are parsed and
# skipped. msgspec accepts no JSON that json.loads refuses, except bytes that are not UTF-8 in a skipped string,
# and reads the same values; the values it cannot hold (NaN, 1e400) make the batch go row by row.
_Checked = msgspec.defstruct(
    "_Checked", [(name, Any, None) for name in (entry_format.SEQ, "occurred_at", *INDEXED)])
_DECODE_CHECKED = msgspec.json.Decoder(_Checked).decode
_WRITTEN_AT, _OCCURRED = attrgetter(entry_format.SEQ), attrgetter("occurred_at")
_DOC_INDEXED = attrgetter(*INDEXED)
# A verification of at least this many rows is split over two worker processes (eahub.audit.verify_worker).
PARALLEL_FROM = 200_000
_WORKER = [sys.executable, "-m", "eahub.audit.verify_worker"]
WORKER_FINDING = 10  # a worker's exit code when a row needs the one pass's row-by-row checks (not 1: a crash's)
# What digesting a row before an incremental run's last verified head costs, against checking it in full.
DIGEST_WEIGHT = 0.5
log = get_logger("eahub.audit.verify")


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    size: int
    first_bad_seq: int | None = None
    first_bad_entry_id: str | None = None
    problem: str | None = None
    tree_heads: int = 0
    covered_size: int = 0
    root_hash: str = merkle.EMPTY_ROOT.hex()
    checked_from: int = 0  # rows before this were only compared with the rows verified by an earlier run
    since: VerifiedState | None = None  # that earlier run's record
    state: VerifiedState | None = None  # this run's record, for the next one (when intact)
    note: str | None = None

    def summary(self) -> str:
        note = f" (note: {self.note})" if self.note else ""
        if not self.ok:
            where = (
                ""
                if self.first_bad_seq is None
                else f"entry seq {self.first_bad_seq}"
                + (f" (entry_id {self.first_bad_entry_id})" if self.first_bad_entry_id else "")
                + ": "
            )
            return f"LEDGER NOT INTACT: {where}{self.problem}{note}"
        uncovered = self.size - self.covered_size
        tail = f"; {uncovered} newest entries not yet under a signed tree head" if uncovered else ""
        if self.since is not None:
            at = datetime.fromtimestamp(self.since.verified_at_ms / 1000, UTC).isoformat(timespec="seconds")
            tail += (f"; incremental: entries 0..{self.checked_from - 1} are unchanged since they were verified "
                     f"at {at}, entries from {self.checked_from} on were verified now")
        return (
            f"ledger intact: {self.size} entries, {self.tree_heads} signed tree heads verified, "
            f"latest covers {self.covered_size}, root {self.root_hash}{tail}{note}"
        )

    def to_json(self) -> dict[str, Any]:
        doc = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in ("since", "state")}
        return {**doc, "incremental": self.since is not None, "summary": self.summary()}


def verify_ledger(
    source: Engine | LedgerStore,
    public_key: Ed25519PublicKey,
    published: Sequence[TreeHead] = (),
    since: VerifiedState | None = None,
) -> VerifyResult:
    """Verify the stored ledger against its stored tree heads and, if given, against copies of heads kept
    outside the database (e.g. read from eahub.audit.checkpoints), which expose deleted heads and a
    truncated ledger. Published heads not signed by `public_key` prove nothing and are ignored.

    `since`: the state a previous run recorded (see eahub.audit.verified_state). Rows before its head are
    then only checked to be exactly the rows verified then (one digest over every stored column); the rows
    after it are verified in full. If they are not the same rows, or a signed head it did not see covers no
    more than it, the whole ledger is verified instead (which names the place). The result's `state` is what
    to record for the next run."""
    store = _as_store(source)
    if since is not None:  # its head is a copy kept outside the database, as a published one is
        published = [*published, since.head]
    heads = store.tree_heads()
    for head in heads:
        problem = head_problem(head, public_key)
        if problem is not None:
            return VerifyResult(False, store.size(), problem=problem, tree_heads=len(heads))
    by_size = {h.tree_size: h for h in heads}
    for head in published:
        if head_problem(head, public_key) is not None:
            continue
        known = by_size.setdefault(head.tree_size, head)
        if known.root_hash != head.root_hash:
            return VerifyResult(
                False,
                store.size(),
                problem=f"two signed tree heads for size {head.tree_size} disagree "
                "(the ledger was forked or rewritten after publication)",
                tree_heads=len(by_size),
            )
    heads = [by_size[size] for size in sorted(by_size)]
    key = key_id(public_key)
    if since is not None:
        result = None
        if _since_holds(heads, since):
            try:
                result = _parallel(store, heads, key, since)
                if result is None:
                    result = _scan(store, heads, since, key)
            except _NotTheRowsVerified:
                result = None
        if result is not None:
            return result
        return dataclasses.replace(_full(store, heads, key),
                                   note=f"the rows before the last verified head (size {since.tree_size}) "
                                   "are not the rows verified then, or a new head covers them: verified in full")
    return _full(store, heads, key)


class _NotTheRowsVerified(Exception):
    """The split found that the rows before the last verified head are not the ones verified then."""


def _since_holds(heads: list[TreeHead], since: VerifiedState) -> bool:
    """Every signed head up to the last verified one has the root recorded then (a head it did not see covers no
    more than it)."""
    recorded = dict(since.head_roots)
    return all(recorded.get(h.tree_size) == h.root_hash for h in heads if h.tree_size <= since.tree_size)


def _scan(store: LedgerStore, heads: list[TreeHead], since: VerifiedState | None, key: str) -> VerifyResult | None:
    """One pass over the stored rows: those before `since` only digested and compared, the others checked one by
    one, and every signed head compared with the root of the rows it covers as the pass reaches its size. None
    when the rows before `since` are not the rows verified then (the caller then verifies in full); the caller
    has checked `_since_holds`."""
    start = 0 if since is None else since.tree_size
    later = [h for h in heads if h.tree_size > start]
    record_at = heads[-1].tree_size if heads else 0  # what the next run may start from, if all is well
    tree = merkle.CompactRange() if since is None else merkle.CompactRange(start, since.compact_range)
    compact = tree.hashes() if record_at == start else ()
    digest = ChunkedRowDigest()
    boundary_checked = since is None
    expected = start
    next_head, previous = 0, start
    altered: VerifyResult | None = None
    altered_at = 0
    for batch in store.scan():
        split = bisect_left(batch, start, key=_SEQ) if not boundary_checked else 0
        record_end = bisect_left(batch, record_at, key=_SEQ)
        checked = batch[split:]
        leaves = _batch_leaves(checked, expected)
        try:
            digest.update(batch[:split])
            if not boundary_checked and split < len(batch):
                if digest.digest() != since.rows_digest:  # type: ignore[union-attr]
                    return None
                boundary_checked = True
            to_record = max(record_end - split, 0)
            digest.update(checked[:to_record], None if leaves is None else leaves[:to_record])
        except (TypeError, ValueError):
            if not boundary_checked:
                return None  # a column of a type the ledger never writes, before the head: let the full pass name it
            record_at = -1  # never recorded: the full checks below name the row
        failure: tuple[int, str | None, str] | None = None
        if leaves is not None:
            expected += len(leaves)
        else:
            leaves = []
            for row in checked:
                failure = _row_problem(store, row, expected)
                if failure is not None:
                    break
                leaves.append(row[_LEAF])
                expected += 1
        # Feed the good leaves head by head. A head that no longer matches is reported unless the first bad row
        # names an earlier place (as a full pass that checked the rows first and the heads up to it would).
        pos = 0
        while next_head < len(later) and later[next_head].tree_size - tree.size <= len(leaves) - pos:
            head = later[next_head]
            take = head.tree_size - tree.size
            tree.extend(leaves[pos : pos + take])
            pos += take
            if altered is None and tree.root() != head.root_hash:
                altered = _altered(store, previous, head, len(heads))
                altered_at = head.tree_size
            if head.tree_size == record_at:
                compact = tree.hashes()
            previous = head.tree_size
            next_head += 1
        tree.extend(leaves[pos:])
        if failure is not None:
            seq, entry_id, text = failure
            if altered is not None and altered_at <= seq:
                return altered
            return VerifyResult(False, store.size(), seq, entry_id, text, len(heads))
    if altered is not None:
        return altered
    if not boundary_checked and digest.digest() != since.rows_digest:  # type: ignore[union-attr]
        return None
    if next_head < len(later):
        missing = later[next_head].tree_size
        return VerifyResult(
            False,
            tree.size,
            tree.size,
            None,
            f"missing: a tree head is signed for {missing} entries but the ledger holds "
            f"{tree.size} (entries seq {tree.size}..{missing - 1} deleted)",
            len(heads),
        )
    return _intact(tree, heads, compact if record_at > 0 else None, digest, key, since)


def _intact(tree: merkle.CompactRange, heads: list[TreeHead], compact: tuple[bytes, ...] | None,
            digest: ChunkedRowDigest, key: str, since: VerifiedState | None) -> VerifyResult:
    """The result of a pass that found nothing wrong; `compact`: the tree's hashes at the last head, None when
    nothing is to be recorded."""
    state = None
    if heads and compact is not None:
        state = VerifiedState(
            key,
            heads[-1],
            compact,
            digest.digest(),
            tuple((h.tree_size, h.root_hash) for h in heads),
            int(time.time() * 1000),
        )
    return VerifyResult(
        True,
        tree.size,
        tree_heads=len(heads),
        covered_size=heads[-1].tree_size if heads else 0,
        root_hash=tree.root().hex(),
        checked_from=0 if since is None else since.tree_size,
        since=since,
        state=state,
    )


def _full(store: LedgerStore, heads: list[TreeHead], key: str) -> VerifyResult:
    """A full verification: split over two worker processes when the ledger is large and in a database they can
    open, else (and whenever that split finds anything wrong or fails) one pass here."""
    result = _parallel(store, heads, key, None)
    if result is None:
        result = _scan(store, heads, None, key)
    assert result is not None
    return result


def _parallel(store: LedgerStore, heads: list[TreeHead], key: str, since: VerifiedState | None) -> VerifyResult | None:
    """The work of `_scan` split over two workers (each a range of positions split on a chunk boundary): the rows
    before `since` digested, the others re-hashed and checked; the chain across the boundary, the digest before
    `since`, the signed heads and the record checked here. None when the ledger is small, not in a database file
    or server, or when a worker fails or anything is wrong (the one pass then names it); _NotTheRowsVerified when
    the rows before `since` digest to something else than the rows verified then."""
    url = _worker_url(store)
    size = store.size()
    if url is None or size < PARALLEL_FROM:
        return None
    start = 0 if since is None else since.tree_size
    middle = _middle(size, start)
    record_at = heads[-1].tree_size if heads else 0
    parts = _run_workers(url, [(None, middle), (middle, None)], record_at, None if since is None else start)
    if parts is None or parts[0].rows != middle:  # the first half must end where the second begins
        return None
    if since is not None and _chunks_digest([*parts[0].before_since, *parts[1].before_since]) != since.rows_digest:
        raise _NotTheRowsVerified
    # The leaf hashes of the rows from `start` on, held as one string and sliced a head's range at a time.
    blob = b"".join(part.leaves for part in parts)
    checked = len(blob) // 32
    digest = ChunkedRowDigest()
    for part in parts:
        digest.add_chunks(part.chunks)
    tree = merkle.CompactRange() if since is None else merkle.CompactRange(start, since.compact_range)
    compact = tree.hashes() if record_at == start else None
    for head in heads:
        if head.tree_size <= start:
            continue
        if head.tree_size > start + checked:
            return None
        tree.extend(_slice_leaves(blob, tree.size - start, head.tree_size - start))
        if tree.root() != head.root_hash:
            return None
        if head.tree_size == record_at:
            compact = tree.hashes()
    tree.extend(_slice_leaves(blob, tree.size - start, checked))
    return _intact(tree, heads, compact if record_at > 0 else None, digest, key, since)


def _middle(size: int, since: int) -> int:
    """Where the first worker's rows end, on a chunk boundary: about half the work, a row before `since` (only
    digested) weighing DIGEST_WEIGHT of a row checked in full."""
    digested = min(since, size)
    work = digested * DIGEST_WEIGHT + (size - digested)
    half = work / 2
    rows = half / DIGEST_WEIGHT if half <= digested * DIGEST_WEIGHT else digested + half - digested * DIGEST_WEIGHT
    return int(rows) // CHUNK * CHUNK


def _slice_leaves(blob: bytes, first: int, end: int) -> list[bytes]:
    return [blob[i : i + 32] for i in range(first * 32, end * 32, 32)]


def _chunks_digest(chunks: Sequence[bytes]) -> bytes:
    """ChunkedRowDigest.digest of the rows whose chunk digests these are."""
    digest = ChunkedRowDigest()
    digest.add_chunks(chunks)
    return digest.digest()


def _worker_url(store: LedgerStore) -> str | None:
    engine = getattr(store, "engine", None)
    if not isinstance(engine, Engine) or engine.url.get_backend_name() not in ("sqlite", "postgresql"):
        return None
    if engine.url.get_backend_name() == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return None
    return engine.url.render_as_string(hide_password=False)


class _Part(NamedTuple):
    """A worker's answer (see eahub.audit.verify_worker)."""

    rows: int
    leaves: bytes  # of the rows from `since` on, concatenated
    chunks: list[bytes]  # chunk digests of the rows before record_at
    before_since: list[bytes]  # chunk digests of the rows before `since`


def _run_workers(url: str, ranges: list[tuple[int | None, int | None]], record_at: int,
                 since: int | None) -> list[_Part] | None:
    """Each range's answer from its worker, all run at once; None if any fails (logged with its exit code)."""
    job = {"url": url, "record_at": record_at, "since": since}
    try:
        procs = [subprocess.Popen(_WORKER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL) for _ in ranges]
    except OSError as exc:
        log.warning("audit.verify_split_not_started", error=type(exc).__name__)
        return None
    try:
        for proc, (start, end) in zip(procs, ranges, strict=True):  # every job sent before any answer is awaited
            assert proc.stdin is not None
            proc.stdin.write(json.dumps({**job, "start": start, "end": end}).encode())
            proc.stdin.close()
        outs = [proc.stdout.read() if proc.stdout else b"" for proc in procs]
        for proc in procs:
            proc.wait()
    except OSError as exc:
        log.warning("audit.verify_split_failed", error=type(exc).__name__)
        return None
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
    for part, proc in enumerate(procs):
        if proc.returncode == WORKER_FINDING:  # a row that only the one pass can name: not a failure of the split
            log.info("audit.verify_split_finding", part=part)
        elif proc.returncode != 0:
            log.warning("audit.verify_worker_failed", part=part, exit_code=proc.returncode,
                        hint="the verification is not split over worker processes: one pass instead")
    if any(proc.returncode != 0 for proc in procs):
        return None
    try:
        return [_Part(int(rows), bytes(leaves), list(chunks), list(before))
                for rows, leaves, chunks, before in map(marshal.loads, outs)]
    except (EOFError, ValueError, TypeError):
        log.warning("audit.verify_worker_failed", exit_code=0, error="unreadable answer")
        return None


def _altered(store: LedgerStore, previous: int, head: TreeHead, heads: int) -> VerifyResult:
    first_id = next((r.entry_id for r in store.rows(previous, previous + 1)), None)
    return VerifyResult(
        False,
        store.size(),
        previous,
        first_id,
        f"altered: the tree head signed for {head.tree_size} entries no longer matches; an entry in "
        f"seq {previous}..{head.tree_size - 1} was changed together with its leaf hash",
        heads,
    )


def _batch_leaves(rows: Sequence[tuple[Any, ...]], expected_seq: int) -> list[bytes] | None:
    """The leaf hashes of rows at positions expected_seq.. when every row passes `_row_problem`'s checks, made here
    over the whole batch at once; None when any row might not (the caller then checks them one by one, which also
    names the place)."""
    seqs = list(map(_SEQ, rows))
    if seqs != list(range(expected_seq, expected_seq + len(rows))):
        return None
    entries = list(map(_ENTRY_OF, rows))
    if set(map(type, entries)) - {bytes}:
        return None
    leaves = merkle.leaf_hashes(entries)
    if leaves != list(map(_LEAF_OF, rows)):
        return None
    try:
        b"\n".join(entries).decode("utf-8", "surrogatepass")  # the text as json.loads decodes it, wherever it is
        docs = list(map(_DECODE_CHECKED, entries))
        occurred_ms = list(map(entry_format.to_ms, map(entry_format.parse_iso, map(_OCCURRED, docs))))
    except (ValueError, TypeError, AttributeError):  # not JSON, or not as the ledger writes it (AttributeError: no str)
        return None
    if (list(map(_WRITTEN_AT, docs)) != seqs or list(map(_DOC_INDEXED, docs)) != list(map(_ROW_INDEXED, rows))
            or occurred_ms != list(map(_OCCURRED_MS_OF, rows))):
        return None
    return leaves


def _row_problem(store: LedgerStore, row: tuple[Any, ...], expected_seq: int) -> tuple[int, str | None, str] | None:
    seq, entry_id, data = row[0], row[_ENTRY_ID], row[_ENTRY]
    if seq != expected_seq:
        if seq < expected_seq:
            return seq, entry_id, f"inserted: a row sits at seq {seq}, before the ledger's first position"
        return (
            expected_seq,
            None,
            f"missing: no entry at this position (the next stored one is seq {seq}, "
            f"entry_id {entry_id}); entries were deleted",
        )
    if not isinstance(data, bytes) or merkle.leaf_hash(data) != row[_LEAF]:
        return seq, entry_id, "modified: the stored entry does not match its leaf hash"
    try:
        doc = entry_format.decode(data)
    except ValueError:
        return seq, entry_id, "modified: the stored entry is not canonical JSON"
    written_at = doc.get(entry_format.SEQ)
    if isinstance(written_at, int) and 0 <= written_at < seq:
        # This entry was pushed along: the ones now before it, from its old place on, were inserted.
        intruder = next(iter(store.rows(written_at, written_at + 1)), None)
        return (
            written_at,
            intruder.entry_id if intruder else None,
            f"inserted: {seq - written_at} entries were inserted here (entry {entry_id} was "
            f"written at seq {written_at} and now sits at seq {seq})",
        )
    if written_at != seq:
        return (
            seq,
            entry_id,
            f"out of place: the entry was written at seq {written_at}; entries were deleted or reordered",
        )
    if tuple(map(doc.get, INDEXED)) != _ROW_INDEXED(row):
        name = next(n for n in INDEXED if doc.get(n) != row[_FIELDS.index(n)])
        return seq, entry_id, f"modified: column {name} disagrees with the hashed entry"
    occurred = doc.get("occurred_at")
    if not isinstance(occurred, str):
        return seq, entry_id, "modified: column occurred_at_ms disagrees with the hashed entry"
    try:
        occurred_ms = entry_format.to_ms(entry_format.parse_iso(occurred))
    except ValueError:
        return seq, entry_id, "modified: occurred_at in the hashed entry is not a timestamp"
    if occurred_ms != row[_OCCURRED_MS]:
        return seq, entry_id, "modified: column occurred_at_ms disagrees with the hashed entry"
    return None



def _as_store(source: Engine | LedgerStore) -> LedgerStore:
    if isinstance(source, Engine):
        from eahub.audit.sql_store import SqlLedgerStore

        return SqlLedgerStore(source)
    return source


__all__ = ["TreeHead", "VerifiedState", "VerifyResult", "verify_ledger"]
