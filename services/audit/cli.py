"""`eahub audit ...`: the governance officer's commands. All read HubSettings from the environment
(EAHUB_DATA_DIR, EAHUB_DATABASE_URL) and the audit settings (EAHUB_AUDIT_*).

Exit codes: 0 success / intact; 1 integrity failure (verify, verify-bundle); 2 usage error;
3 nothing found (unknown entry or event)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from eahub.audit.console.cli import console as console_group

EXIT_NOT_INTACT = 1
EXIT_NOT_FOUND = 3


def _parts() -> Any:
    from eahub.audit.bootstrap import open_audit
    from eahub.audit.tables import LedgerNotInitialised
    from eahub.core.settings import HubSettings

    try:
        return open_audit(HubSettings())
    except LedgerNotInitialised as exc:
        raise click.ClickException(str(exc)) from None


def _echo_json(doc: Any) -> None:
    click.echo(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False))


def _parse_time(_ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            "expected an ISO 8601 date or time, e.g. 2026-05-01 or 2026-05-01T15:00Z", param=param
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _kinds(_ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    from eahub.audit.entry_format import KINDS

    out = []
    for v in values:
        name = v.upper().replace("-", "_")
        name = name if name in KINDS else name.removesuffix("S")
        if name not in KINDS:
            raise click.BadParameter(f"unknown kind {v!r}; one of {', '.join(k.lower() for k in KINDS)}", param=param)
        out.append(name)
    return tuple(out)


@click.group()
def audit() -> None:
    """The tamper-evident audit trail: verify, query, prove, export, erase."""


audit.add_command(console_group)  # eahub audit console init|serve|user ...


@audit.command()
@click.option(
    "--public-key",
    "public_key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="verify against this PEM public key instead of the hub's own",
)
@click.option(
    "--heads",
    "heads_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="also check against tree heads kept elsewhere (JSON array or JSON lines)",
)
@click.option("--published", is_flag=True, help="also check against the heads published on eahub.audit.checkpoints")
@click.option("--full", is_flag=True, help="re-verify every entry, ignoring the record of the last verification")
@click.option("--json", "as_json", is_flag=True, help="print the result as JSON")
def verify(public_key_file: Path | None, heads_file: Path | None, published: bool, full: bool, as_json: bool) -> None:
    """Check the ledger against its signed tree heads (exit 0 intact, 1 not).

    Every signed head's signature is checked, and every entry up to the latest head must hash to its root. A
    full verification (the first run, or --full) re-hashes every entry and checks its position and indexed
    columns. When it succeeds, the size, root and Merkle state at the latest signed head and a digest of every
    stored column of the entries before it are recorded in the data directory (audit-verified.json), signed
    with the hub's key.

    The next run is then incremental: the entries before that head are read once and must digest to exactly
    what was verified (any change to any column of any of them, a deletion, insertion or reordering makes it
    differ, and the whole ledger is then verified in full, naming the place); only the entries after it are
    re-hashed and checked one by one. It proves what a full verification proves, provided the record was not
    forged: that needs the hub's signing key, which someone with only the database's rights does not have.
    With --public-key other than the hub's, or --full, verification is always full."""
    from eahub.audit.published import read_heads_file, read_published_heads
    from eahub.audit.signing import load_public_key_pem
    from eahub.audit.verified_state import STATE_FILE
    from eahub.audit.verify_recorded import verify_recorded
    from eahub.core.settings import HubSettings

    parts = _parts()
    settings = HubSettings()
    key = load_public_key_pem(public_key_file.read_bytes()) if public_key_file else None
    outside = read_heads_file(heads_file) if heads_file else []
    if published:
        outside += read_published_heads(settings)
    result = verify_recorded(parts.store, parts.signer, settings.data_dir / STATE_FILE, outside, full=full,
                             public_key=key)
    if as_json:
        _echo_json(result.to_json())
    else:
        click.echo(result.summary())
    sys.exit(0 if result.ok else EXIT_NOT_INTACT)


@audit.command()
@click.option("--event", "event_id", required=True, help="event id")
@click.option("--json", "as_json", is_flag=True, help="print the entries as JSON")
def show(event_id: str, as_json: bool) -> None:
    """The trail of one event: decision, recipients, fields shared and withheld, reasons."""
    from eahub.audit.queries import trail

    docs = trail(_parts().store, event_id)
    if as_json:
        _echo_json(docs)
    else:
        click.echo(f"event {event_id}: {len(docs)} audit entries")
        for doc in docs:
            click.echo(format_entry(doc))
    if not docs:
        sys.exit(EXIT_NOT_FOUND)


def _subject_ref(subject_ref: str | None, nhs_number: str | None, name: str | None, dob: str | None) -> str:
    from datetime import date

    from eahub.core.pseudonym import Pseudonymiser
    from eahub.core.settings import HubSettings

    given = [x for x in (subject_ref, nhs_number, name) if x]
    if len(given) != 1 or (name and not dob) or (dob and not name):
        raise click.UsageError("name the subject by exactly one of --subject, --nhs-number, or --name with --dob")
    if subject_ref:
        return subject_ref
    try:
        birth = date.fromisoformat(dob) if dob else None
    except ValueError:
        raise click.BadParameter("must be YYYY-MM-DD", param_hint="--dob") from None
    person = {"subject": {"nhs_number": nhs_number, "name": name, "date_of_birth": birth}}
    return Pseudonymiser.from_data_dir(HubSettings().data_dir).subject_ref(person)


@audit.command()
@click.option("--subject", "subject_ref", default=None, help="the subject's pseudonymous reference (subj-...)")
@click.option("--nhs-number", default=None, help="... or find it from the person's NHS number")
@click.option("--name", default=None, help="... or from their name and --dob (when no NHS number was known)")
@click.option("--dob", default=None, help="date of birth, YYYY-MM-DD, with --name")
@click.option("--json", "as_json", is_flag=True)
def sar(subject_ref: str | None, nhs_number: str | None, name: str | None, dob: str | None, as_json: bool) -> None:
    """Subject access request: every decision, disclosure, refusal, view, action and override about one
    subject, and the payloads disclosed (decrypted from the vault unless erased). The person is named by
    their pseudonym, or by the identifiers the hub keys them by (never stored, never logged). Events are
    keyed by NHS number when they carried one, else by name and date of birth: for a complete answer run
    both forms when both are known."""
    from eahub.audit.queries import jsonable
    from eahub.audit.queries import sar as run_sar

    subject_ref = _subject_ref(subject_ref, nhs_number, name, dob)
    parts = _parts()
    report = run_sar(parts.store, parts.vault, subject_ref)
    if as_json:
        _echo_json(report.to_json())
        return
    click.echo(
        f"subject {subject_ref}: {len(report.entries)} audit entries, {len(report.payloads)} disclosed "
        f"payloads{' (ERASED)' if report.erased else ''}"
    )
    if nhs_number:
        click.echo("  (events that carried no NHS number are keyed by name and date of birth: also run --name/--dob)")
    for doc in report.entries:
        click.echo(format_entry(doc))
    for p in report.payloads:
        state = "erased: unreadable" if p.erased else "as disclosed:"
        click.echo(f"payload case {p.case_id} to {p.recipient} (event {p.event_id}) {state}")
        if p.record is not None:
            click.echo("  " + json.dumps(jsonable(p.record["concern"]), sort_keys=True, ensure_ascii=False))


@audit.command()
@click.option("--isa", "isa_id")
@click.option("--from-agency", "source_agency")
@click.option("--to-agency", "recipient")
@click.option("--kind", "kinds", multiple=True, callback=_kinds, help="e.g. refusals, disclosure (repeatable)")
@click.option("--event", "event_id")
@click.option("--subject", "subject_ref")
@click.option("--overrides-pending", is_flag=True, help="overrides not yet reviewed by IG")
@click.option("--since", callback=_parse_time, help="occurred at or after (ISO 8601; UTC if no zone)")
@click.option("--until", callback=_parse_time, help="occurred before (ISO 8601)")
@click.option("--csv", "as_csv", is_flag=True, help="CSV export")
@click.option("--json", "as_json", is_flag=True)
def query(
    isa_id: str | None,
    source_agency: str | None,
    recipient: str | None,
    kinds: tuple[str, ...],
    event_id: str | None,
    subject_ref: str | None,
    overrides_pending: bool,
    since: int | None,
    until: int | None,
    as_csv: bool,
    as_json: bool,
) -> None:
    """Entries by ISA, agency pair, kind, subject, event, time range; or overrides awaiting review."""
    from eahub.audit import queries
    from eahub.audit.store import EntryFilter

    flt = EntryFilter(
        kinds=kinds,
        event_id=event_id,
        subject_ref=subject_ref,
        isa_id=isa_id,
        source_agency=source_agency,
        recipient=recipient,
        since_ms=since,
        until_ms=until,
    )
    store = _parts().store
    docs = queries.overrides_pending(store, flt) if overrides_pending else queries.query(store, flt)
    if as_csv:
        click.echo(queries.to_csv(docs), nl=False)
    elif as_json:
        _echo_json(docs)
    else:
        for doc in docs:
            click.echo(format_entry(doc))
        click.echo(f"{len(docs)} entries")


@audit.command()
@click.option("--entry", "entry_id", required=True)
def prove(entry_id: str) -> None:
    """Inclusion proof (RFC 9162) of one entry against the latest signed tree head, as JSON."""
    from eahub.audit.proofs import inclusion

    parts = _parts()
    doc = inclusion(parts.checkpointer, entry_id)
    if doc is None:
        click.echo(f"no ledger entry with entry_id {entry_id}", err=True)
        sys.exit(EXIT_NOT_FOUND)
    _echo_json(doc)


@audit.command()
@click.option("--from", "first", type=int, required=True, help="the older tree size")
@click.option("--to", "second", type=int, required=True, help="the newer tree size")
def consistency(first: int, second: int) -> None:
    """Consistency proof (RFC 9162) that the tree of size FROM is a prefix of the tree of size TO."""
    from eahub.audit.proofs import consistency as proof

    try:
        _echo_json(proof(_parts().store, first, second))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@audit.command()
@click.option("--subject", "subject_ref")
@click.option("--event", "event_id")
@click.option("--isa", "isa_id")
@click.option("--entry", "entry_ids", multiple=True)
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), required=True)
def export(
    subject_ref: str | None, event_id: str | None, isa_id: str | None, entry_ids: tuple[str, ...], out: Path
) -> None:
    """Write a signed evidence bundle (entries, inclusion proofs, signed tree head, public key)."""
    from eahub.audit.bundle import export_bundle
    from eahub.audit.store import EntryFilter

    if not (subject_ref or event_id or isa_id or entry_ids):
        raise click.UsageError("choose what to export: --subject, --event, --isa or --entry")
    parts = _parts()
    rows = [r for r in (parts.store.get(e) for e in entry_ids) if r is not None]
    if subject_ref or event_id or isa_id:
        rows += parts.store.find(EntryFilter(subject_ref=subject_ref, event_id=event_id, isa_id=isa_id))
    rows = sorted({r.seq: r for r in rows}.values(), key=lambda r: r.seq)
    if not rows:
        click.echo("nothing matches; no bundle written", err=True)
        sys.exit(EXIT_NOT_FOUND)
    selection = {
        k: v
        for k, v in {
            "subject": subject_ref,
            "event": event_id,
            "isa": isa_id,
            "entries": ",".join(entry_ids),
        }.items()
        if v
    }
    bundle = export_bundle(parts.checkpointer, rows, selection)
    out.write_text(json.dumps(bundle, indent=1, sort_keys=True, ensure_ascii=False))
    click.echo(f"wrote {len(rows)} entries proven against tree head {bundle['tree_head']['tree_size']} to {out}")


@audit.command("verify-bundle")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    "public_key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="the hub's PEM public key, obtained separately (`eahub audit public-key`): a key taken from the "
    "bundle itself would prove nothing about who signed it",
)
def verify_bundle(file: Path, public_key_file: Path) -> None:
    """Check an evidence bundle offline, without the database, against the hub's public key (exit 0 valid,
    1 not)."""
    from eahub.audit.bundle import verify_bundle as check
    from eahub.audit.signing import load_public_key_pem

    try:
        bundle = json.loads(file.read_text())
    except (ValueError, UnicodeDecodeError):
        click.echo(f"BUNDLE INVALID: {file} is not JSON")
        sys.exit(EXIT_NOT_INTACT)
    key = load_public_key_pem(public_key_file.read_bytes())
    result = check(bundle, key)
    if result.ok:
        click.echo(
            f"bundle valid: {result.entries} entries included in the tree of size {result.tree_size} "
            f"signed by key {result.key_id}"
        )
    else:
        click.echo(f"BUNDLE INVALID: {result.problem}")
    sys.exit(0 if result.ok else EXIT_NOT_INTACT)


@audit.command()
@click.option("--subject", "subject_ref", required=True)
@click.option("--actor", default="ig-officer", show_default=True, help="who requested the erasure")
@click.option("--reason", default="erasure request", show_default=True, help="no personal data")
@click.option("--vault-only", is_flag=True, help="do not tell the boards (only when no board runs)")
def erase(subject_ref: str, actor: str, reason: str, vault_only: bool) -> None:
    """Crypto-shred a subject's vault payloads and record the erasure; the ledger still verifies. An erasure
    request goes to the boards first (`eahub.erasure`): they delete or crypto-shred the subject's personal
    fields and notes and record their own ERASURE. If the broker cannot take it, nothing is erased (exit 2)."""
    import uuid

    from eahub.audit.erasure import erase_subject
    from eahub.core.erasure import erasure_message
    from eahub.core.kafka import KafkaPublisher, producer_config
    from eahub.core.messages import DeliveryFailed
    from eahub.core.settings import HubSettings

    parts = _parts()
    request_id = str(uuid.uuid4())
    if not vault_only:
        publisher = KafkaPublisher(producer_config(HubSettings(), **{"message.timeout.ms": 10000}), timeout_s=15)
        try:
            publisher.publish([erasure_message(subject_ref, request_id, actor)])
        except DeliveryFailed as exc:
            click.echo(f"nothing erased: the boards could not be told ({exc}); retry, or use --vault-only", err=True)
            sys.exit(2)
        finally:
            publisher.close()
    result = erase_subject(parts.vault, parts.checkpointer, subject_ref, actor, reason, request_id)
    click.echo(
        f"erased {subject_ref}: {result.payloads_unreadable} vault payloads now unreadable; "
        f"recorded as entry {result.entry_id}" + ("" if vault_only else "; erasure request sent to the boards")
    )


@audit.command()
@click.option("--override", "override_entry_id", required=True, help="entry id of the OVERRIDE under review")
@click.option("--actor", required=True, help="the reviewing IG officer (an id, not a name)")
@click.option("--outcome", required=True, type=click.Choice(["upheld", "not-upheld", "referred-to-dpo"]))
def review(override_entry_id: str, actor: str, outcome: str) -> None:
    """Record the IG review of a break-glass override; it leaves the review queue."""
    from eahub.audit.review import ReviewError, review_override

    parts = _parts()
    try:
        result = review_override(parts.store, override_entry_id, actor, outcome)
    except ReviewError as exc:
        click.echo(str(exc), err=True)
        sys.exit(EXIT_NOT_FOUND)
    click.echo(f"reviewed override {result.override_entry_id}: {result.outcome} (entry {result.entry_id})")


@audit.command()
def expire() -> None:
    """Delete vault payloads past their retention (chain hashes are never removed)."""
    click.echo(f"{_parts().vault.expire()} expired vault payloads removed")


@audit.command()
def checkpoint() -> None:
    """Sign a tree head over the ledger now (the service does this every N entries or T seconds)."""
    head = _parts().checkpointer.checkpoint()
    click.echo("nothing new to sign" if head is None else json.dumps(head.to_json(), sort_keys=True))


@audit.command("public-key")
def public_key() -> None:
    """Print the hub's tree-head signing public key (PEM)."""
    from eahub.audit.signing import Signer, public_key_pem
    from eahub.core.settings import HubSettings

    click.echo(public_key_pem(Signer.from_data_dir(HubSettings().data_dir).public_key), nl=False)


@audit.command()
def init() -> None:
    """Create the audit tables and append-only triggers (run as the tables' owner in production; the services
    themselves never run DDL). `eahub init` does this and every other service's tables at once."""
    from eahub.audit.bootstrap import init_audit
    from eahub.core.settings import HubSettings

    init_audit(HubSettings())
    parts = _parts()
    click.echo(f"audit tables ready ({parts.engine.dialect.name}); ledger holds {parts.store.size()} entries")


@audit.command()
@click.option("--role", required=True, help="the PostgreSQL role the audit service logs in as")
def grants(role: str) -> None:
    """Print PostgreSQL statements that leave ROLE able to read and append to the ledger, never change it, and
    use the database's other tables (vault, ingest's idempotency records): run after `eahub init`."""
    from sqlalchemy import inspect

    from eahub.audit.tables import privilege_sql
    from eahub.core.database import make_engine
    from eahub.core.settings import HubSettings

    engine = make_engine(HubSettings().ledger_url)
    try:
        tables = inspect(engine).get_table_names()
    finally:
        engine.dispose()
    try:
        click.echo("\n".join(privilege_sql(role, tables)))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--role") from None


@audit.command()
@click.option("--metrics-port", type=int, default=None,
              help="also serve the audit service's metrics on http://127.0.0.1:PORT/metrics once it runs (`eahub "
                   "up` gathers them into the hub's /metrics)")
def serve(metrics_port: int | None) -> None:
    """Run the audit service: consume eahub.audit and eahub.board.* into the ledger and vault."""
    from eahub.audit.bootstrap import build_audit_service
    from eahub.core.logging import announce, configure_logging
    from eahub.core.metrics import serve_metrics_of
    from eahub.core.runner import run_until_signalled
    from eahub.core.settings import HubSettings
    from eahub.core.topic_guard import guarded

    settings = HubSettings()
    configure_logging(settings.log_format, settings.log_level)
    service = build_audit_service(settings)
    serve_metrics_of(service.register_metrics, metrics_port)
    announce(f"audit consuming eahub.audit and eahub.board.* from {settings.bootstrap_servers}")
    run_until_signalled(guarded(settings, service.run))


def format_entry(doc: dict[str, Any]) -> str:
    head = f"  #{doc['ledger_seq']} {doc['occurred_at']} {doc['kind']:<12} by {doc['actor']}"
    if doc.get("recipient"):
        head += f" -> {doc['recipient']}"
    lines = [head]
    if doc.get("source_agency") or doc.get("event_id"):
        lines.append(
            f"      event {doc.get('event_id')} from {doc.get('source_agency')}"
            f"{' category ' + doc['category'] if doc.get('category') else ''}"
            f" subject {doc.get('subject_ref')}"
        )
    if doc.get("isa_id"):
        lines.append(
            f"      ISA {doc['isa_id']} v{doc.get('isa_version')}; lawful basis: {doc.get('lawful_basis')};"
            f" purpose: {doc.get('purpose')}"
        )
    if doc.get("decision_id"):
        lines.append(f"      decision {doc['decision_id']} under policy {doc.get('policy_revision')}")
    if doc.get("fields_shared") or doc.get("fields_withheld"):
        lines.append(f"      shared: {', '.join(doc['fields_shared']) or '-'}")
        lines.append(f"      withheld: {', '.join(doc['fields_withheld']) or '-'}")
    for reason in doc.get("reasons") or []:
        lines.append(f"      reason: {reason}")
    if doc.get("details"):
        lines.append("      " + ", ".join(f"{k}={v}" for k, v in sorted(doc["details"].items())))
    lines.append(f"      entry {doc['entry_id']}")
    return "\n".join(lines)
