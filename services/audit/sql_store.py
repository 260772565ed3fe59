"""SQLAlchemy Core adapter of the ledger store port: one code path on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from eahub.audit.signing import TreeHead
from eahub.audit.store import EntryFilter, LedgerRow, StoreConflict, build_rows
from eahub.audit.tables import ledger, tree_heads, tree_tiles
from eahub.core.database import is_postgres

_APPEND_LOCK = 0x6561687562_02
_PAGE = 20_000
_SCAN_BATCH = 5_000
_COLUMNS = [ledger.c[name] for name in LedgerRow.__dataclass_fields__]


class SqlLedgerStore:
    def __init__(self, engine: Engine) -> None:
        """No DDL here: the tables are created once by `eahub audit init`, as their owner."""
        self.engine = engine

    def append(self, entries: Sequence[dict[str, Any]], recorded_at: datetime, attempts: int = 5) -> list[LedgerRow]:
        for _ in range(attempts):
            try:
                return self._append_once(entries, recorded_at)
            except IntegrityError:
                continue  # a concurrent writer took these positions: recompute and retry
        raise StoreConflict(f"could not append after {attempts} attempts: concurrent writers kept winning")

    def _append_once(self, entries: Sequence[dict[str, Any]], recorded_at: datetime) -> list[LedgerRow]:
        ids = [e.get("entry_id") for e in entries]
        with self.engine.begin() as conn:
            # Writers take the append lock before reading the next position: PostgreSQL an advisory lock,
            # SQLite its write lock (BEGIN IMMEDIATE; pysqlite has not begun a transaction yet).
            if is_postgres(self.engine):
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _APPEND_LOCK})
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            present: set[str] = set()
            for i in range(0, len(ids), 1000):
                chunk = [x for x in ids[i : i + 1000] if x]
                present.update(conn.scalars(select(ledger.c.entry_id).where(ledger.c.entry_id.in_(chunk))))
            last = conn.scalar(select(func.max(ledger.c.seq)))
            next_seq = 0 if last is None else int(last) + 1
            rows = build_rows(entries, next_seq, recorded_at, present)
            if rows:  # straight to the driver's executemany: no per-row parameter processing by SQLAlchemy
                conn.exec_driver_sql(_insert_sql(self.engine), [r.__dict__ for r in rows])
        return rows

    def size(self) -> int:
        with self.engine.connect() as conn:
            last = conn.scalar(select(func.max(ledger.c.seq)))
        return 0 if last is None else int(last) + 1

    def rows(self, start: int = 0, end: int | None = None) -> Iterator[LedgerRow]:
        after = start - 1
        while True:
            cond = ledger.c.seq > after if end is None else and_(ledger.c.seq > after, ledger.c.seq < end)
            with self.engine.connect() as conn:
                page = conn.execute(select(*_COLUMNS).where(cond).order_by(ledger.c.seq).limit(_PAGE)).all()
            for r in page:
                yield _row(r)
            if len(page) < _PAGE:
                return
            after = page[-1].seq

    def scan(self, start: int | None = None, end: int | None = None) -> Iterator[list[tuple[Any, ...]]]:
        # Straight from the driver (no Row objects): a server-side cursor on PostgreSQL, so a million rows are
        # never all in memory, in binary format (no hex text to decode for every entry); one statement, one snapshot.
        query = select(*_COLUMNS).order_by(ledger.c.seq)
        if start is not None:
            query = query.where(ledger.c.seq >= start)
        if end is not None:
            query = query.where(ledger.c.seq < end)
        sql = str(query.compile(dialect=self.engine.dialect, compile_kwargs={"literal_binds": True}))
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            assert raw is not None
            cursor = raw.cursor(name="eahub_ledger_scan", binary=True) if is_postgres(self.engine) else raw.cursor()
            try:
                cursor.execute(sql)
                while batch := cursor.fetchmany(_SCAN_BATCH):
                    yield batch
            finally:
                cursor.close()
                raw.rollback()  # end the read transaction the cursor began

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        with self.engine.connect() as conn:
            return [
                bytes(h)
                for h in conn.scalars(
                    select(ledger.c.leaf_hash)
                    .where(and_(ledger.c.seq >= start, ledger.c.seq < end))
                    .order_by(ledger.c.seq)
                )
            ]

    def get(self, entry_id: str) -> LedgerRow | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(*_COLUMNS).where(ledger.c.entry_id == entry_id)).first()
        return _row(r) if r is not None else None

    def find(self, flt: EntryFilter) -> list[LedgerRow]:
        conds: list[ColumnElement[bool]] = []
        if flt.kinds:
            conds.append(ledger.c.kind.in_(flt.kinds))
        for name in ("event_id", "subject_ref", "isa_id", "source_agency", "recipient"):
            if getattr(flt, name) is not None:
                conds.append(ledger.c[name] == getattr(flt, name))
        if flt.since_ms is not None:
            conds.append(ledger.c.occurred_at_ms >= flt.since_ms)
        if flt.until_ms is not None:
            conds.append(ledger.c.occurred_at_ms < flt.until_ms)
        with self.engine.connect() as conn:
            return [_row(r) for r in conn.execute(select(*_COLUMNS).where(and_(True, *conds)).order_by(ledger.c.seq))]

    def add_tree_head(self, head: TreeHead) -> None:
        try:
            with self.engine.begin() as conn:
                size_taken = select(tree_heads.c.tree_size).where(tree_heads.c.tree_size == head.tree_size)
                if conn.scalar(size_taken) is None:
                    conn.execute(insert(tree_heads), [head.to_json()])
        except IntegrityError:
            pass  # a concurrent writer stored a head for this size first

    def tree_heads(self) -> list[TreeHead]:
        with self.engine.connect() as conn:
            return [
                TreeHead.from_json(r._asdict())
                for r in conn.execute(select(tree_heads).order_by(tree_heads.c.tree_size))
            ]

    def latest_tree_head(self) -> TreeHead | None:
        with self.engine.connect() as conn:
            r = conn.execute(select(tree_heads).order_by(tree_heads.c.tree_size.desc()).limit(1)).first()
        return TreeHead.from_json(r._asdict()) if r is not None else None

    def add_tiles(self, tiles: Sequence[tuple[int, bytes]]) -> None:
        if not tiles:
            return
        try:
            with self.engine.begin() as conn:
                have = set(conn.scalars(select(tree_tiles.c.idx).where(tree_tiles.c.idx.in_([i for i, _ in tiles]))))
                todo = [{"idx": i, "hash": h} for i, h in tiles if i not in have]
                if todo:
                    conn.execute(insert(tree_tiles), todo)
        except IntegrityError:
            pass  # a concurrent checkpointer stored them first; tiles are a pure function of the leaves

    def tiles(self, count: int) -> list[bytes]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(tree_tiles.c.idx, tree_tiles.c.hash).where(tree_tiles.c.idx < count).order_by(tree_tiles.c.idx)
            ).all()
        out: list[bytes] = []
        for idx, root in rows:
            if idx != len(out):
                break
            out.append(bytes(root))
        return out


@cache
def _insert_sql_for(postgres: bool) -> str:
    names = list(LedgerRow.__dataclass_fields__)
    marks = ", ".join(f"%({n})s" if postgres else f":{n}" for n in names)  # psycopg's and sqlite3's named style
    return f"INSERT INTO {ledger.name} ({', '.join(names)}) VALUES ({marks})"


def _insert_sql(engine: Engine) -> str:
    return _insert_sql_for(is_postgres(engine))


def _row(r: Any) -> LedgerRow:
    # Columns are selected in LedgerRow field order; both drivers return bytes for binary columns.
    return LedgerRow(*r)
