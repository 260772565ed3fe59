"""`eahub policy ...`: the policy tools of `eahub.policy.cli`, plus `impact`, which needs the ledger.

  eahub policy impact DIR [--since DAYS]   replay the decisions recorded in the last DAYS through the draft
                                           policy in DIR; print the shares gained and lost per ISA and
                                           recipient, with example events and the reasons before and after

Exit codes of `impact`: 0 nothing would change; 1 something would (a gate for a policy change); 2 the draft
or the ledger could not be used. The ledger is only read (no DDL, no write)."""

from __future__ import annotations

import sys
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
    from eahub.audit.sql_store import SqlLedgerStore
    from eahub.audit.store import EntryFilter
    from eahub.core.database import make_engine
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
        store = SqlLedgerStore(make_engine(url), create=False)
        docs = queries.query(store, EntryFilter(kinds=KINDS, since_ms=int(since.timestamp() * 1000)))
    except Exception as exc:  # SQLAlchemy errors: no such table, connection refused
        click.echo(f"the ledger cannot be read: {type(exc).__name__}", err=True)
        sys.exit(2)
    recorded = impact_model.from_ledger(docs)
    result = impact_model.replay(recorded, bundle)
    click.echo(f"draft {draft} (revision {bundle.revision[:12]}), decisions since {since:%Y-%m-%d %H:%M} UTC")
    click.echo(result.report())
    sys.exit(1 if result.changes else 0)
