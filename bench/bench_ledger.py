"""Audit ledger benchmark: appends per second, seconds to verify the whole ledger, milliseconds for a
subject access request and per inclusion proof. Prints figures; run by hand:

    python bench/bench_ledger.py [--entries 1000000] [--database-url URL] [--data-dir DIR]
                                 [--rounds 3 [--before-src DIR]]

Default database: a fresh SQLite file in a temporary directory (the embedded default). With --data-dir, the
signing key and the SQLite file live there and a ledger of --entries already built by an earlier run is
reused (the append figure is then not measured), so that repeated runs measure verification, SAR and proofs.
Verification shows CPU seconds (its worker processes' included) beside the time (and, on PostgreSQL, the server
process's CPU seconds): the steadier figure on a shared machine. With --rounds, only verification is measured,
that many times, each in a child process, alternated with the same in another tree's code (--before-src DIR:
DIR/eahub is that tree's services/)."""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

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
    parser.add_argument("--rounds", type=int, default=0,
                        help="verification alone, this many rounds in child processes, alternated with --before-src")
    parser.add_argument("--before-src", default=None, help="a folder whose eahub/ is another tree's services/")
    parser.add_argument("--verify-child", action="store_true", help=argparse.SUPPRESS)
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
    if args.verify_child:
        print(json.dumps(measure_verify(engine, store, signer)))
        return
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

    if args.rounds:
        compare_verify(args, tmp, url)
        return
    report_verify(measure_verify(engine, store, signer))

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


def measure_verify(engine: Engine, store: SqlLedgerStore, signer: Signer) -> dict[str, float]:
    """Seconds and CPU seconds (this process's, and on PostgreSQL the server process's serving it) of a full
    verification and then of an incremental one from the state it recorded."""
    figures: dict[str, float] = {"size": store.size()}
    since = None
    for mode in ("full", "incremental"):
        backend = _backend_cpu(engine)
        cpu, start = _cpu(), time.perf_counter()
        result = verify_ledger(store, signer.public_key, since=since)
        figures[f"{mode}_s"] = time.perf_counter() - start
        figures[f"{mode}_cpu_s"] = _cpu() - cpu
        figures[f"{mode}_db_cpu_s"] = _backend_cpu(engine) - backend
        assert result.ok and result.note is None, result.summary()
        figures["heads"], figures["checked_from"], since = result.tree_heads, result.checked_from, result.state
    return figures


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (a verification's worker processes)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _backend_cpu(engine: Engine) -> float:
    """CPU seconds so far of the PostgreSQL server process behind the engine's pooled connection (the server is on
    this machine in the benchmark; 0 for SQLite, which runs in this process)."""
    if engine.dialect.name != "postgresql":
        return 0.0
    with engine.connect() as conn:
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report_verify(f: dict[str, float]) -> None:
    db = " + {:.1f} s in the database server".format
    print(
        f"verify:    {f['full_s']:.1f} s for {f['size']:,.0f} entries and {f['heads']:.0f} heads in full "
        f"({f['size'] / f['full_s']:,.0f} entries/s; CPU {f['full_cpu_s']:.1f} s"
        f"{db(f['full_db_cpu_s']) if f['full_db_cpu_s'] else ''})"
    )
    print(
        f"           {f['incremental_s']:.1f} s incremental from the head at {f['checked_from']:,.0f} "
        f"({f['full_s'] / f['incremental_s']:.1f}x faster than in full; CPU {f['incremental_cpu_s']:.1f} s"
        f"{db(f['incremental_db_cpu_s']) if f['incremental_db_cpu_s'] else ''})"
    )


def compare_verify(args: argparse.Namespace, data_dir: Path, url: str) -> None:
    """Each round: a child process per variant (the other tree's code first), full then incremental verification."""
    variants = ([("before", args.before_src)] if args.before_src else []) + [("after", None)]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name, _ in variants}
    command = [sys.executable, __file__, "--verify-child", "--entries", str(args.entries), "--data-dir", str(data_dir),
               "--database-url", url]
    for round_ in range(args.rounds):
        for name, src in variants:
            env = {**os.environ, **({"PYTHONPATH": src} if src else {})}
            out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
            runs[name].append(json.loads(out.stdout.strip().splitlines()[-1]))
            f = runs[name][-1]
            print(f"  round {round_ + 1} {name:6}: full {f['full_s']:.1f} s (CPU {f['full_cpu_s']:.1f} + database "
                  f"{f['full_db_cpu_s']:.1f} s), incremental {f['incremental_s']:.1f} s (CPU "
                  f"{f['incremental_cpu_s']:.1f} + database {f['incremental_db_cpu_s']:.1f} s)", flush=True)
    for name, results in runs.items():
        print(f"{name:6}: " + "; ".join(f"{key} {spread([r[key] for r in results])}" for key in (
            "full_s", "full_cpu_s", "full_db_cpu_s", "incremental_s", "incremental_cpu_s", "incremental_db_cpu_s")
        ) + " (min/median/max)")


def spread(values: list[float]) -> str:
    return f"{min(values):.1f}/{statistics.median(values):.1f}/{max(values):.1f}"


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
