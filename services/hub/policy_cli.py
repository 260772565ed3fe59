"""`eahub policy ...`: the policy author's tools of `eahub.policy.cli` (test, check, explain), plus the commands
that need the whole hub, composed here:

  eahub policy impact DIR [--since DAYS]   replay the decisions recorded in the last DAYS through the draft
                                           policy in DIR; print the shares gained and lost per ISA and
                                           recipient, with example events and the reasons before and after
  eahub policy override ...                break-glass: reads the ledger and the original message and publishes
                                           through the router's outputs

Exit codes of `impact`: 0 nothing would change; 1 something would (a gate for a policy change); 2 the draft
or the ledger could not be used. The ledger is only read (no DDL, no write)."""

from __future__ import annotations

import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from eahub.policy import impact as impact_model
from eahub.policy.bundle import PolicyBundle
from eahub.policy.cli import policy as _policy_tools

policy = click.Group(name="policy", commands=dict(_policy_tools.commands), help=_policy_tools.help)

KINDS = ("DECISION", "DISCLOSURE", "REFUSAL")


@policy.command("impact")
@click.argument("draft", type=click.Path(path_type=Path, file_okay=False, exists=True))
@click.option("--since", "days", type=click.FloatRange(min=0, min_open=True), default=7.0, show_default=True,
              help="replay the decisions of the last DAYS days")
def impact(draft: Path, days: float) -> None:
    """What a draft policy would change, on the decisions actually recorded."""
    from eahub.audit import queries
    from eahub.audit.bootstrap import open_ledger
    from eahub.audit.store import EntryFilter
    from eahub.audit.tables import LedgerNotInitialised
    from eahub.core.settings import HubSettings

    bundle, problems = PolicyBundle.inspect(draft)
    if bundle is None or problems:
        click.echo("the draft policy cannot be used:\n  " + "\n  ".join(problems), err=True)
        sys.exit(2)
    settings = HubSettings()
    url = settings.ledger_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        click.echo(f"no ledger at {url.removeprefix('sqlite:///')} (EAHUB_DATA_DIR or EAHUB_DATABASE_URL)", err=True)
        sys.exit(2)
    since = datetime.now(UTC) - timedelta(days=days)
    try:
        store = open_ledger(settings)
        docs = queries.query(store, EntryFilter(kinds=KINDS, since_ms=int(since.timestamp() * 1000)))
    except LedgerNotInitialised as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    except Exception as exc:  # SQLAlchemy errors: connection refused
        click.echo(f"the ledger cannot be read: {type(exc).__name__}", err=True)
        sys.exit(2)
    recorded = impact_model.from_ledger(docs)
    result = impact_model.replay(recorded, bundle)
    click.echo(f"draft {draft} (revision {bundle.revision[:12]}), decisions since {since:%Y-%m-%d %H:%M} UTC")
    click.echo(result.report())
    sys.exit(1 if result.changes else 0)


@policy.command("override")
@click.option("--event", "event_id", required=True, help="the event whose refusal is to be set aside")
@click.option("--recipient", required=True, help="the agency to receive it")
@click.option("--role", required=True, help="your designated break-glass role")
@click.option("--actor", required=True, help="who you are (an id such as a collar or staff number, not a name)")
@click.option("--justification", required=True, help="why the share is needed now (mandatory)")
def override_command(event_id: str, recipient: str, role: str, actor: str, justification: str) -> None:
    """Break-glass: share one refused event with one recipient, marked as an override for IG review.

    Exit 0 when the share happened; 1 when the policy refused the override (the attempt is audited);
    2 when the override cannot be attempted (also audited); 3 when the engine or broker cannot answer now."""
    from eahub.core.settings import HubSettings
    from eahub.hub.break_glass import BreakGlass
    from eahub.policy.break_glass import BreakGlassRequest, OverrideError, OverrideUnavailable

    service = BreakGlass(HubSettings())
    try:
        outcome = service.request(BreakGlassRequest(event_id=event_id, recipient=recipient,
                                                    justification=justification, role=role, actor=actor,
                                                    requester_agency=None, request_id=str(uuid.uuid4())))
    except OverrideError as exc:
        click.echo(f"override not attempted: {exc}", err=True)
        sys.exit(2)
    except OverrideUnavailable as exc:
        click.echo(f"override not attempted: {exc}", err=True)
        sys.exit(3)
    finally:
        service.close()
    verdict = "GRANTED: shared with" if outcome.granted else "REFUSED: nothing shared with"
    click.echo(f"{verdict} {outcome.recipient} (event {outcome.event_id}, decision {outcome.decision_id})")
    for reason in outcome.reasons:
        click.echo(f"  reason: {reason}")
    if outcome.granted:
        click.echo(f"  case {outcome.case_id} is on eahub.board.{outcome.recipient}; the override awaits IG review "
                   "(eahub audit query --overrides-pending)")
    sys.exit(0 if outcome.granted else 1)
