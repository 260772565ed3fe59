"""Audit ledger benchmark: appends per second, seconds to verify the whole ledger, milliseconds for a
subject access request and per inclusion proof. Prints figures; run by hand:

    python bench/bench_ledger.py [--entries 1000000] [--database-url URL] [--data-dir DIR]

Default database: a fresh SQLite file in a temporary directory (the embedded default). With --data-dir, the
signing key and the SQLite file live there and a ledger of --entries already built by an earlier run is
reused (the append figure is then not measured), so that repeated runs measure verification, SAR and proofs."""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eahub.audit import merkle, proofs, queries
from eahub.audit.checkpoints import Checkpointer
from eahub.audit.settings import AuditSettings
from eahub.audit.signing import Signer
from eahub.audit.sql_store import SqlLedgerStore
from eahub.audit.tables import ensure_schema
from eahub.audit.vault import Vault
from eahub.audit.verify import verify_ledger
from eahub.core import ids
from eahub.core.audit_entries import entry_id
from eahub.core.database import make_engine

AGENCIES = ["lancashire-cc-childrens", "lancashire-cc-adults", "lscft-mental-health", "nwas"]
KINDS = ["DECISION", "DISCLOSURE", "DISCLOSURE", "REFUSAL", "CONSULTATION", "ACTION"]
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def entry(i: int, subjects: int) -> dict:
    kind = KINDS[i % len(KINDS)]
    recipient = AGENCIES[i % len(AGENCIES)]
    event_id = f"event-{i // 6}"
    return {
        "entry_id": entry_id(kind, event_id, recipient, str(i)),
        "kind": kind,
        "occurred_at": T0 + timedelta(seconds=i * 30),
        "actor": "router",
        "event_id": event_id,
        "decision_id": ids.decision_id(event_id, "rev-1"),
        "subject_ref": f"subj-{(i // 6) % subjects:032x}",
        "source_agency": "lancashire-police",
        "recipient": recipient,
        "category": "MENTAL_HEALTH",
        "isa_id": f"isa-police-{recipient}",
        "isa_version": "3",
        "lawful_basis": "DPA 2018 Sch 1 para 18",
        "purpose": "safeguarding",
        "policy_revision": "rev-1",
        "fields_shared": ["event_id", "category", "district", "narrative", "subject.name"],
        "fields_withheld": ["subject.nhs_number", "referrer", "health_details"],
        "reasons": ["ISA covers MENTAL_HEALTH"],
        "case_id": None,
        "details": {},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--batch", type=int, default=1000, help="entries per append transaction")
    parser.add_argument("--checkpoint-every", type=int, default=10_000)
    parser.add_argument("--data-dir", type=Path, default=None, help="keep (and reuse) the ledger and key here")
    args = parser.parse_args()
    n = args.entries
    tmp = args.data_dir or Path(tempfile.mkdtemp(prefix="eahub-bench-"))
    tmp.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{tmp / 'ledger.db'}"
    engine = make_engine(url)
    ensure_schema(engine)
    store = SqlLedgerStore(engine)
    reuse = args.data_dir is not None and store.size() == n
    if store.size() and not reuse:
        raise SystemExit(f"{url} already holds a ledger of another size; give an empty database")
    signer = Signer.from_data_dir(tmp)
    checkpointer = Checkpointer(store, signer)
    subjects = max(1, n // 30)  # about 30 entries (5 events) per subject
    print(
        f"ledger benchmark: N = {n:,} entries on {engine.dialect.name}, batches of {args.batch}, "
        f"signed head every {args.checkpoint_every:,}"
    )

    if reuse:
        print(f"append:    not measured (reusing the ledger in {tmp})")
    else:
        append(store, checkpointer, n, subjects, args.batch, args.checkpoint_every)

    start = time.perf_counter()
    result = verify_ledger(store, signer.public_key)
    verify_s = time.perf_counter() - start
    assert result.ok, result.summary()
    print(
        f"verify:    {verify_s:.1f} s for {result.size:,} entries and {result.tree_heads} heads in full "
        f"({result.size / verify_s:,.0f} entries/s)"
    )
    start = time.perf_counter()
    again = verify_ledger(store, signer.public_key, since=result.state)
    incremental_s = time.perf_counter() - start
    assert again.ok and again.note is None, again.summary()
    print(
        f"           {incremental_s:.1f} s incremental from the head at {again.checked_from:,} "
        f"({verify_s / incremental_s:.1f}x faster than in full)"
    )

    if engine.dialect.name == "postgresql":  # planner statistics after a bulk load, as autovacuum would gather
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    vault = Vault.from_data_dir(engine, tmp, AuditSettings())
    rnd = random.Random(1)
    times = []
    for _ in range(50):
        subject = f"subj-{rnd.randrange(subjects):032x}"
        t = time.perf_counter()
        report = queries.sar(store, vault, subject)
        times.append((time.perf_counter() - t) * 1000)
        assert report.entries
    print(
        f"SAR:       {statistics.median(times):.1f} ms median, {max(times):.1f} ms max over 50 subjects "
        f"(~{len(report.entries)} entries each)"
    )

    t = time.perf_counter()
    tree = merkle.MerkleTree(store.leaf_hashes(0, store.size()))
    build_s = time.perf_counter() - t
    indexes = [rnd.randrange(tree.size) for _ in range(10_000)]
    t = time.perf_counter()
    for m in indexes:
        tree.inclusion_proof(m)
    per_proof_ms = (time.perf_counter() - t) * 1000 / len(indexes)
    some = [next(store.rows(m, m + 1)).entry_id for m in indexes[:5]]
    t = time.perf_counter()
    for some_id in some:
        proofs.inclusion(checkpointer, some_id)
    cold_ms = (time.perf_counter() - t) * 1000 / len(some)
    print(
        f"inclusion: {per_proof_ms:.3f} ms per proof from an in-memory tree (built once in {build_s:.1f} s); "
        f"{cold_ms:.0f} ms for a cold `eahub audit prove` (stored tiles plus one block of leaves)"
    )
    t = time.perf_counter()
    Checkpointer(store, signer).sync()
    print(
        f"resume:    {time.perf_counter() - t:.1f} s for the audit service's checkpointer to resume from the "
        "latest signed head (service start)"
    )
    if not reuse:
        seal_vault(vault, subjects, min(n, 20_000), args.batch)
    print(f"database:  {tmp}")


def append(store: SqlLedgerStore, checkpointer: Checkpointer, n: int, subjects: int, batch: int, every: int) -> None:
    start = time.perf_counter()
    for lo in range(0, n, batch):
        store.append([entry(i, subjects) for i in range(lo, min(n, lo + batch))], datetime.now(UTC))
        if (lo + batch) % every == 0:
            checkpointer.checkpoint()
    checkpointer.checkpoint()
    append_s = time.perf_counter() - start
    print(
        f"append:    {n / append_s:,.0f} entries/s  ({append_s:.1f} s, including {len(store.tree_heads())} "
        "signed tree heads)"
    )


def seal_vault(vault: Vault, subjects: int, n: int, batch: int) -> None:
    """Routed cases sealed into the vault as the audit service does: one transaction per consumed batch."""
    from eahub.core.event_json import from_json
    from eahub.ingest.generator import generate

    events = [from_json(obj) for obj in generate(count=max(1, n // 10), seed=3, start=T0)]
    cases = []
    for i in range(n):
        event = events[i % len(events)]
        cases.append({
            "case_id": ids.derive("bench-case", str(i)), "event_id": event["event_id"],
            "recipient": AGENCIES[i % len(AGENCIES)], "source_agency": event["source_agency"],
            "subject_ref": f"subj-{(i // 2) % subjects:032x}", "decision_id": ids.derive("bench-decision", str(i)),
            "policy_revision": "rev-1", "isa_id": "isa-1", "isa_version": "1", "lawful_basis": "DPA 2018",
            "purpose": "safeguarding", "shared_fields": ["event_id"], "withheld_fields": [], "reasons": [],
            "override": False, "due_by": T0, "routed_at": T0, "concern": event,
        })
    start = time.perf_counter()
    for lo in range(0, n, batch):
        vault.store_many(cases[lo:lo + batch])
    elapsed = time.perf_counter() - start
    print(f"vault:     {n / elapsed:,.0f} routed cases/s sealed in batches of {batch} ({n:,} cases, {elapsed:.1f} s)")


if __name__ == "__main__":
    main()
