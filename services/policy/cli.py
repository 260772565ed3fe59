"""`eahub policy ...`: tools for policy authors and IG officers.

  eahub policy test     run every test_* rule of every *_test.rego (like `opa test`), with coverage
  eahub policy check    report parse errors, unknown agencies or fields in the data, bad ISAs
  eahub policy explain  print the decision for one concern event (JSON form), recipient by recipient

Exit codes: 0 all well; 1 a test failed / problems found; 2 the bundle or the input could not be used."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import Any

import click

from eahub.policy.bundle import PolicyBundle, PolicyLoadError
from eahub.policy.model import Decision, Override, PolicyRequest


def _policies_dir(value: Path | None) -> Path:
    if value is not None:
        return value
    from eahub.core.settings import HubSettings

    return HubSettings().policies_dir


_DIR_OPTION = click.option(
    "--policies",
    "policies",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="policy folder (default: EAHUB_POLICIES_DIR or the packaged policies/)",
)


@click.group()
def policy() -> None:
    """Policy tools: test, check, explain."""


@policy.command("test")
@_DIR_OPTION
def test_command(policies: Path | None) -> None:
    """Run every test_* rule of every *_test.rego; non-zero exit on a failure."""
    from eahub.policy.test_runner import run_tests

    bundle = _load(policies)
    run = run_tests(bundle)
    for t in run.tests:
        click.echo(f"{'PASS' if t.passed else 'FAIL'}  {t.name}  ({t.file})")
        if t.error:
            click.echo(f"      {t.error}")
    failed = sum(not t.passed for t in run.tests)
    click.echo("-" * 60)
    click.echo(
        f"{len(run.tests) - failed} passed, {failed} failed; "
        f"coverage {run.coverage_percent:.1f}% ({run.covered_lines}/{run.coverable_lines} lines); "
        f"revision {bundle.revision}"
    )
    if not run.tests:
        click.echo("no test_* rule found", err=True)
    sys.exit(0 if run.passed else 1)


@policy.command("check")
@_DIR_OPTION
def check_command(policies: Path | None) -> None:
    """Check the policies and their data; non-zero exit on any problem."""
    root = _policies_dir(policies)
    bundle, problems = PolicyBundle.inspect(root)
    for p in problems:
        click.echo(f"PROBLEM  {p}")
    if problems or bundle is None:
        click.echo(f"{len(problems)} problem(s) in {root}", err=True)
        sys.exit(1)
    hub = bundle.data["hub"]
    click.echo(
        f"OK  {len(bundle.modules)} policy file(s), {len(bundle.tests)} test file(s), "
        f"{len(hub['agencies'])} agencies, {len(hub['isas'])} ISAs; revision {bundle.revision}"
    )


@policy.command("explain")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True))
@_DIR_OPTION
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="decide as on this day (default: today)",
)
@click.option("--override-recipient", default=None, help="break-glass: the agency to receive the event")
@click.option("--role", default=None, help="break-glass: the role of the person asking")
@click.option("--actor", default=None, help="break-glass: who asks (an id, not a name)")
@click.option("--justification", default="", help="break-glass: why (mandatory for the override to apply)")
def explain_command(
    file: Path,
    policies: Path | None,
    on: Any,
    override_recipient: str | None,
    role: str | None,
    actor: str | None,
    justification: str,
) -> None:
    """Print the decision for the concern event in FILE (JSON, as accepted by the HTTP API)."""
    from eahub.policy.regorus_engine import RegorusEngine

    event = _read_event(file)
    override = None
    if override_recipient:
        if not role or not actor:
            raise click.UsageError("--override-recipient needs --role and --actor")
        override = Override(override_recipient, role, actor, justification)
    bundle = _load(policies)
    today = on.date() if on else date.today()
    decision = RegorusEngine(bundle).decide([PolicyRequest(event=event, today=today, override=override)])[0]
    click.echo(render(decision, today))


def render(decision: Decision, today: date) -> str:
    lines = [
        f"event {decision.event_id}  decision {decision.decision_id}",
        f"policy revision {decision.policy_revision}  decided as on {today.isoformat()}",
        f"shared with {len(decision.shares)}, refused {len(decision.refusals)}",
        "",
    ]
    for r in decision.recipients:
        verdict = "SHARED (break-glass override)" if r.override else ("SHARED" if r.shared else "REFUSED")
        lines.append(f"{r.agency}: {verdict}")
        if r.isa_id:
            lines.append(f"  ISA:          {r.isa_id} v{r.isa_version}")
        if r.lawful_basis:
            lines.append(f"  lawful basis: {r.lawful_basis}")
        if r.purpose:
            lines.append(f"  purpose:      {r.purpose}")
        if r.shared:
            lines.append(f"  shared:       {', '.join(r.fields_shared)}")
            lines.append(f"  withheld:     {', '.join(r.fields_withheld) or '-'}")
        for reason in r.reasons:
            lines.append(f"  - {reason}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _load(policies: Path | None) -> PolicyBundle:
    try:
        return PolicyBundle.load(_policies_dir(policies))
    except PolicyLoadError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


def _read_event(file: Path) -> dict[str, Any]:
    from eahub.core.errors import ValidationFailed
    from eahub.core.event_json import from_json
    from eahub.core.json_reader import JsonRejected, strict_loads

    try:
        obj = strict_loads(sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes())
    except (OSError, JsonRejected) as exc:
        click.echo(f"{file}: cannot read a JSON concern event: {exc}", err=True)
        sys.exit(2)
    if isinstance(obj, dict) and not obj.get("event_id"):
        obj = {**obj, "event_id": "(unassigned)"}
    try:
        return from_json(obj)
    except ValidationFailed as exc:
        click.echo(f"{file}: not a valid concern event: {exc}", err=True)
        sys.exit(2)
